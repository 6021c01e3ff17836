package main

import (
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/watch"
)

// TestNoticeText pins the lines README's troubleshooting table quotes.
func TestNoticeText(t *testing.T) {
	for name, c := range map[string]struct {
		n    watch.Notice
		want string
	}{
		"gone": {&watch.DeviceGone{Device: "/dev/dnsmon", Module: "dnsmon"},
			"dnsmon-watch: /dev/dnsmon went away (the dnsmon module was unloaded)"},
		"gap": {&watch.Drop{Dropped: 2, Source: "seq", AfterSeq: 3, NextSeq: 6},
			"dnsmon-watch: 2 events dropped between seq 3 and 6 (the ring was full); load dnsmon with a larger ring_size= (up to 65536) or read faster"},
		"stats": {&watch.Drop{Dropped: 2, Source: "stats", RingSize: 4096},
			"dnsmon-watch: the module dropped 2 more events while dnsmon-watch ran (ring of 4096 records full); load dnsmon with a larger ring_size= (up to 65536) or read faster"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := noticeText(c.n); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
