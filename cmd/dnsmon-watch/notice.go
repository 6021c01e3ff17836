package main

import (
	"fmt"

	"github.com/dnsmon/dnsmon/fetcher/watch"
)

// noticeText is the stderr line for what the watch library noticed beside
// the events; the library names no command or parameter.
func noticeText(n watch.Notice) string {
	const advice = "; load dnsmon with a larger ring_size= (up to 65536) or read faster"
	switch n := n.(type) {
	case *watch.DeviceGone:
		return fmt.Sprintf("dnsmon-watch: %s went away (the %s module was unloaded)", n.Device, n.Module)
	case *watch.Drop:
		if n.Source == "seq" {
			return fmt.Sprintf("dnsmon-watch: %d events dropped between seq %d and %d (the ring was full)"+advice, n.Dropped, n.AfterSeq, n.NextSeq)
		}
		return fmt.Sprintf("dnsmon-watch: the module dropped %d more events while dnsmon-watch ran (ring of %d records full)"+advice, n.Dropped, n.RingSize)
	}
	return fmt.Sprintf("dnsmon-watch: %+v", n)
}
