package watch

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/kmod/event"
)

const cid = "3f2a1b4c5d6e7f80112233445566778899aabbccddeeff00112233445566778a"

func ev(seq uint64, pid uint32, comm, qname string, qtype event.QType) event.Event {
	return event.Event{
		Seq: seq, Time: time.Date(2026, 11, 27, 10, 0, 0, int(seq)*1000, time.UTC),
		PID: pid, TID: pid, UID: 1000, NetNS: 4026531840,
		Family: event.FamilyIPv4, Proto: event.ProtoUDP, Server: netip.MustParseAddr("127.0.0.53"), Port: 53,
		ID: uint16(seq), QType: qtype, QClass: event.ClassIN, QName: qname, Comm: comm,
		Lookup: seq, Local: netip.MustParseAddrPort("127.0.0.1:40000"),
	}
}

// answer is the answer, as event seq, to the query ev(lookup, pid, ...)
// sent: rcode and flags, latency and records.
func answer(seq, lookup uint64, pid uint32, qname string, qtype event.QType, flags uint16, latency time.Duration, records ...event.Answer) event.Event {
	e := ev(seq, pid, "curl", qname, qtype)
	e.Kind, e.Lookup, e.ID = event.KindAnswer, lookup, uint16(lookup)
	e.DNSFlags, e.Latency, e.ANCount, e.Answers = event.DNSFlagQR|flags, latency, uint16(len(records)), records
	return e
}

// unanswered is the unanswered event seq of the query ev(lookup, pid, ...).
func unanswered(seq, lookup uint64, pid uint32, qtype event.QType, latency time.Duration) event.Event {
	e := ev(seq, pid, "curl", "", qtype)
	e.Kind, e.Lookup, e.ID, e.Latency = event.KindUnanswered, lookup, uint16(lookup), latency
	return e
}

// v2record is e as a module of the second version wrote it: the first
// SizeV2 bytes of its record, whose fields have the same offsets.
func v2record(t *testing.T, e event.Event) []byte {
	t.Helper()
	b := records(t, e)[:event.SizeV2]
	binary.LittleEndian.PutUint16(b[0:], event.VersionMalformed)
	binary.LittleEndian.PutUint16(b[2:], event.SizeV2)
	return b
}

// malformed is ev's malformed message: reason and its escaped bytes.
func malformed(seq uint64, pid uint32, reason event.Reason, data string) event.Event {
	e := ev(seq, pid, "curl", data, 0)
	e.Flags, e.Reason, e.QClass = event.FlagMalformed, reason, 0
	return e
}

func records(t *testing.T, evs ...event.Event) []byte {
	t.Helper()
	var b []byte
	for _, e := range evs {
		var err error
		if b, err = e.AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// fakeDevice returns one chunk per Read, then io.EOF, or blocks until ctx
// is done when block is set. Stats come from stats in turn (the last repeats).
type fakeDevice struct {
	mu       sync.Mutex
	chunks   [][]byte
	block    bool
	stats    []event.Stats
	statsErr error
	closed   bool
}

func (d *fakeDevice) Read(ctx context.Context, p []byte) (int, error) {
	d.mu.Lock()
	if len(d.chunks) > 0 {
		c := d.chunks[0]
		d.chunks = d.chunks[1:]
		d.mu.Unlock()
		return copy(p, c), nil
	}
	d.mu.Unlock()
	if d.block {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return 0, io.EOF
}

func (d *fakeDevice) Stats() (event.Stats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.statsErr != nil {
		return event.Stats{}, d.statsErr
	}
	s := d.stats[0]
	if len(d.stats) > 1 {
		d.stats = d.stats[1:]
	}
	return s, nil
}

func (d *fakeDevice) Close() error { d.closed = true; return nil }

func hostFS() fstest.MapFS {
	return fstest.MapFS{
		"etc/passwd":          {Data: []byte("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n")},
		"proc/100/comm":       {Data: []byte("curl\n")},
		"proc/100/exe":        {Mode: fs.ModeSymlink, Data: []byte("/usr/bin/curl")},
		"proc/100/cgroup":     {Data: []byte("0::/system.slice/docker-" + cid + ".scope\n")},
		"proc/200/comm":       {Data: []byte("reused\n")},
		"proc/200/exe":        {Mode: fs.ModeSymlink, Data: []byte("/usr/bin/other")},
		"proc/misc":           {Data: []byte(" 57 dnsmon\n183 hw_random\n")},
		"sys/module/dnsmon":   {Mode: fs.ModeDir},
		"proc/300/comm":       {Data: []byte("host proc\n")},
		"proc/300/cgroup":     {Data: []byte("0::/user.slice/user-1000.slice/session-2.scope\n")},
		"proc/300/exe":        {Mode: fs.ModeSymlink, Data: []byte("/usr/bin/host proc")},
		"proc/self/mountinfo": {Data: []byte("")},
	}
}

func TestWatch(t *testing.T) {
	stats := []event.Stats{{Events: 10, Dropped: 1, RingSize: 4096}, {Events: 20, Dropped: 5, RingSize: 4096}}
	gone := &DeviceGone{Device: "/dev/dnsmon", Module: "dnsmon"}
	tests := map[string]struct {
		dev         *fakeDevice
		opts        []Option
		wantOut     string
		wantNotices []Notice
		wantErr     error
	}{
		"text": {
			dev: &fakeDevice{chunks: [][]byte{records(t,
				ev(1, 100, "curl", "example.com", 28),
				ev(2, 300, "host proc", "a\x01b.test", 65),
			)}, stats: []event.Stats{{}}},
			wantOut: "2026-11-27 10:00:00.000001 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 AAAA example.com\n" +
				"2026-11-27 10:00:00.000002 lookup=2 pid=300 comm=\"host proc\" user=alice netns=4026531840 udp 127.0.0.53:53 HTTPS a\\001b.test\n",
			wantNotices: []Notice{gone},
		},
		"text unknown process, ipv6, class": {
			dev: &fakeDevice{chunks: [][]byte{records(t, func() event.Event {
				e := ev(7, 0, "", ".", 2)
				e.Flags, e.TID, e.UID = event.FlagProcUnknown, 0, 0
				e.Family, e.Proto, e.Server, e.QClass = event.FamilyIPv6, event.ProtoTCP, netip.MustParseAddr("2001:db8::1"), 3
				e.Local = netip.MustParseAddrPort("[2001:db8::2]:40000")
				return e
			}())}, stats: []event.Stats{{}}},
			wantOut:     "2026-11-27 10:00:00.000007 lookup=7 pid=? comm=? user=? netns=4026531840 tcp [2001:db8::1]:53 NS . CH\n",
			wantNotices: []Notice{gone},
		},
		"malformed text": {
			dev:         &fakeDevice{chunks: [][]byte{records(t, malformed(8, 100, event.ReasonLabelPastEnd, `?abc`))}, stats: []event.Stats{{}}},
			wantOut:     "2026-11-27 10:00:00.000008 lookup=8 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 MALFORMED(label-past-end) id=8 ?abc\n",
			wantNotices: []Notice{gone},
		},
		"malformed json": {
			dev:         &fakeDevice{chunks: [][]byte{records(t, malformed(9, 100, event.ReasonPointerLoop, `\192\012`))}, stats: []event.Stats{{}}},
			opts:        []Option{WithJSON(true)},
			wantOut:     `{"seq":9,"kind":"query","lookup":9,"time":"2026-11-27T10:00:00.000009Z","pid":100,"tid":100,"comm":"curl","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4","proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":9,"malformed":true,"reason":"pointer-loop","data":"\\192\\012","exe":"/usr/bin/curl","container":"` + cid + `"}` + "\n",
			wantNotices: []Notice{gone},
		},
		"json, enrichment, pid reuse, gap and stats drops": {
			dev: &fakeDevice{chunks: [][]byte{
				records(t, ev(3, 100, "curl", "example.com", 1)),
				records(t, ev(6, 200, "dig", "x.test", 64), ev(7, 999, "gone", "y.test", 300)),
			}, stats: stats},
			opts: []Option{WithJSON(true)},
			wantOut: `{"seq":3,"kind":"query","lookup":3,"time":"2026-11-27T10:00:00.000003Z","pid":100,"tid":100,"comm":"curl","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4","proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":3,"qname":"example.com","qtype":"A","exe":"/usr/bin/curl","container":"` + cid + `"}` + "\n" +
				`{"dropped":2,"source":"seq","after_seq":3,"next_seq":6}` + "\n" +
				`{"seq":6,"kind":"query","lookup":6,"time":"2026-11-27T10:00:00.000006Z","pid":200,"tid":200,"comm":"dig","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4","proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":6,"qname":"x.test","qtype":"SVCB"}` + "\n" +
				`{"seq":7,"kind":"query","lookup":7,"time":"2026-11-27T10:00:00.000007Z","pid":999,"tid":999,"comm":"gone","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4","proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":7,"qname":"y.test","qtype":"TYPE300"}` + "\n" +
				`{"dropped":2,"source":"stats","ring_size":4096}` + "\n",
			wantNotices: []Notice{&Drop{Dropped: 2, Source: "seq", AfterSeq: 3, NextSeq: 6}, gone,
				&Drop{Dropped: 2, Source: "stats", RingSize: 4096}},
		},
		"count": {
			dev:     &fakeDevice{chunks: [][]byte{records(t, ev(1, 100, "curl", "a.test", 1), ev(2, 100, "curl", "b.test", 1), ev(3, 100, "curl", "c.test", 1))}, block: true, statsErr: unix.ENOTTY},
			opts:    []Option{WithJSON(true), WithCount(2)},
			wantOut: "2 lines",
		},
		"timeout": {
			dev:     &fakeDevice{chunks: [][]byte{records(t, ev(1, 100, "curl", "a.test", 1))}, block: true, stats: []event.Stats{{}}},
			opts:    []Option{WithTimeout(50 * time.Millisecond)},
			wantOut: "1 lines",
		},
		"bad record": {
			dev:     &fakeDevice{chunks: [][]byte{append([]byte{4, 0, 0x00, 0x0a}, make([]byte, event.Size-4)...)}, stats: []event.Stats{{}}},
			wantErr: event.ErrVersion,
		},
		"answer": {
			dev: &fakeDevice{chunks: [][]byte{records(t,
				ev(1, 100, "curl", "www.example.com", 1),
				answer(2, 1, 100, "www.example.com", 1, event.DNSFlagRD|event.DNSFlagRA, 12345*time.Microsecond,
					event.Answer{Type: event.TypeCNAME, TTL: 300, RDLength: 18, Name: "edge.example.net"},
					event.Answer{Type: event.TypeA, TTL: 60, RDLength: 4, Addr: netip.MustParseAddr("93.184.216.34")},
					event.Answer{Type: 16, TTL: 5, RDLength: 12}),
			)}, stats: []event.Stats{{}}},
			wantOut: "2026-11-27 10:00:00.000001 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 A www.example.com\n" +
				"2026-11-27 10:00:00.000002 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 answer A www.example.com NOERROR [rd ra] 12.3ms CNAME edge.example.net ttl=300, A 93.184.216.34 ttl=60, TXT len=12 ttl=5\n",
			wantNotices: []Notice{gone},
		},
		"answers without records, flags, or a known process": {
			dev: &fakeDevice{chunks: [][]byte{records(t,
				answer(3, 1, 300, "nx.test", 28, event.DNSFlagAA|3, 850*time.Microsecond),
				answer(4, 2, 300, "ch.test", 16, 5, 2*time.Second),
				func() event.Event {
					e := answer(5, 4, 0, "a\x01b.test", 5, event.DNSFlagRD, time.Millisecond,
						event.Answer{Type: event.TypeCNAME, TTL: 1, RDLength: 9, Name: "c\x7fd.test"},
						event.Answer{Type: event.TypeAAAA, TTL: 2, RDLength: 16, Addr: netip.MustParseAddr("2001:db8::1")})
					e.Flags, e.PID, e.TID, e.UID, e.Comm = event.FlagProcUnknown, 0, 0, 0, ""
					return e
				}(),
			)}, stats: []event.Stats{{}}},
			wantOut: "2026-11-27 10:00:00.000003 lookup=1 pid=300 comm=curl user=alice netns=4026531840 udp 127.0.0.53:53 answer AAAA nx.test NXDOMAIN [aa] 850µs\n" +
				"2026-11-27 10:00:00.000004 lookup=2 pid=300 comm=curl user=alice netns=4026531840 udp 127.0.0.53:53 answer TXT ch.test REFUSED 2.00s\n" +
				"2026-11-27 10:00:00.000005 lookup=4 pid=? comm=? user=? netns=4026531840 udp 127.0.0.53:53 answer CNAME a\\001b.test NOERROR [rd] 1.00ms CNAME c\\127d.test ttl=1, AAAA 2001:db8::1 ttl=2\n",
			wantNotices: []Notice{gone},
		},
		"malformed answer, cut": {
			dev: &fakeDevice{chunks: [][]byte{records(t,
				func() event.Event {
					e := answer(2, 1, 100, "www.example.com", 1, event.DNSFlagRD|event.DNSFlagRA, 999600*time.Microsecond,
						event.Answer{Type: event.TypeA, TTL: 60, RDLength: 4, Addr: netip.MustParseAddr("192.0.2.1")})
					e.Flags, e.Reason, e.Cut, e.ANCount = event.FlagMalformed, event.ReasonBadRecord, event.CutRecords, 5
					return e
				}(),
				func() event.Event {
					e := answer(3, 2, 100, "www.example.com", 1, 0, 40*time.Millisecond,
						event.Answer{Type: event.TypeCNAME, TTL: 300, RDLength: 40},
						event.Answer{Type: event.TypeA, TTL: 60, RDLength: 5})
					e.Cut = event.CutNames
					return e
				}(),
			)}, stats: []event.Stats{{}}},
			wantOut: "2026-11-27 10:00:00.000002 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 answer A www.example.com NOERROR [rd ra] 1.00s A 192.0.2.1 ttl=60 +cut MALFORMED(bad-record)\n" +
				"2026-11-27 10:00:00.000003 lookup=2 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 answer A www.example.com NOERROR 40.0ms CNAME len=40 ttl=300, A len=5 ttl=60 +cut\n",
			wantNotices: []Notice{gone},
		},
		"unanswered": {
			dev: &fakeDevice{chunks: [][]byte{records(t,
				ev(1, 100, "curl", "a\x01.test", 1),
				malformed(2, 100, event.ReasonShortHeader, `x`), // lends no name
				func() event.Event {
					e := ev(3, 100, "curl", "version.bind", 16)
					e.QClass = 3
					return e
				}(),
				unanswered(4, 1, 100, 1, 5*time.Second),
				unanswered(5, 1, 100, 1, 5*time.Second), // its name was taken
				unanswered(6, 3, 100, 16, 5*time.Second),
				func() event.Event {
					e := unanswered(7, 3, 100, 16, 5*time.Second)
					e.QClass = 3
					return e
				}(),
				unanswered(8, 2, 100, 0, 5*time.Second),
			)}, stats: []event.Stats{{}}},
			wantOut: "2026-11-27 10:00:00.000001 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 A a\\001.test\n" +
				"2026-11-27 10:00:00.000002 lookup=2 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 MALFORMED(short-header) id=2 x\n" +
				"2026-11-27 10:00:00.000003 lookup=3 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 TXT version.bind CH\n" +
				"2026-11-27 10:00:00.000004 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 unanswered A a\\001.test id=1 after 5.00s\n" +
				"2026-11-27 10:00:00.000005 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 unanswered A ? id=1 after 5.00s\n" +
				"2026-11-27 10:00:00.000006 lookup=3 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 unanswered TXT version.bind id=3 after 5.00s\n" +
				"2026-11-27 10:00:00.000007 lookup=3 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 unanswered TXT ? CH id=3 after 5.00s\n" +
				"2026-11-27 10:00:00.000008 lookup=2 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 unanswered TYPE0 ? id=2 after 5.00s\n",
			wantNotices: []Notice{gone},
		},
		"version 2 records": {
			dev: &fakeDevice{chunks: [][]byte{
				append(v2record(t, ev(1, 100, "curl", "old.test", 1)), v2record(t, malformed(2, 100, event.ReasonShortHeader, `\001`))...),
			}, stats: []event.Stats{{V2: true}}},
			wantOut: "2026-11-27 10:00:00.000001 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 A old.test\n" +
				"2026-11-27 10:00:00.000002 lookup=2 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 MALFORMED(short-header) id=2 \\001\n",
			wantNotices: []Notice{gone},
		},
		"version 2 records json": {
			dev:         &fakeDevice{chunks: [][]byte{v2record(t, ev(1, 200, "dig", "old.test", 1))}, stats: []event.Stats{{V2: true}}},
			opts:        []Option{WithJSON(true)},
			wantOut:     `{"seq":1,"kind":"query","lookup":1,"time":"2026-11-27T10:00:00.000001Z","pid":200,"tid":200,"comm":"dig","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4","proto":"udp","server":"127.0.0.53","port":53,"id":1,"qname":"old.test","qtype":"A"}` + "\n",
			wantNotices: []Notice{gone},
		},
		"answer json": {
			dev: &fakeDevice{chunks: [][]byte{records(t,
				answer(2, 1, 200, "www.example.com", 1, event.DNSFlagRD|event.DNSFlagRA, 12345*time.Microsecond,
					event.Answer{Type: event.TypeCNAME, TTL: 300, RDLength: 18, Name: "edge.example.net"},
					event.Answer{Type: event.TypeA, TTL: 60, RDLength: 4, Addr: netip.MustParseAddr("93.184.216.34")}),
				unanswered(3, 1, 200, 28, 5*time.Second),
			)}, stats: []event.Stats{{}}},
			opts: []Option{WithJSON(true)},
			wantOut: `{"seq":2,"kind":"answer","lookup":1,"time":"2026-11-27T10:00:00.000002Z","pid":200,"tid":200,"comm":"curl","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4","proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":1,"qname":"www.example.com","qtype":"A","rcode":"NOERROR","flags":["rd","ra"],"ancount":2,"answers":[{"type":"CNAME","ttl":300,"data":"edge.example.net","length":18},{"type":"A","ttl":60,"data":"93.184.216.34"}],"latency_us":12345}` + "\n" +
				`{"seq":3,"kind":"unanswered","lookup":1,"time":"2026-11-27T10:00:00.000003Z","pid":200,"tid":200,"comm":"curl","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4","proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":1,"qtype":"AAAA","unanswered":true,"latency_us":5000000}` + "\n",
			wantNotices: []Notice{gone},
		},
		"count counts queries": {
			dev: &fakeDevice{chunks: [][]byte{records(t,
				ev(1, 100, "curl", "a.test", 1), answer(2, 1, 100, "a.test", 1, 0, time.Millisecond),
				ev(3, 100, "curl", "b.test", 1), unanswered(4, 3, 100, 1, time.Second),
				ev(5, 100, "curl", "c.test", 1), answer(6, 5, 100, "c.test", 1, 0, time.Millisecond),
				ev(7, 100, "curl", "d.test", 1),
			)}, block: true, stats: []event.Stats{{}}},
			opts:    []Option{WithCount(3)},
			wantOut: "5 lines",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			var notices []Notice
			opts := append([]Option{WithFS(hostFS()), WithLocation(time.UTC),
				WithOpen(func(string) (Device, error) { return tc.dev, nil })}, tc.opts...)
			err := Watch(t.Context(), &out, func(n Notice) { notices = append(notices, n) }, opts...)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Watch: err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Watch: %v", err)
			}
			if n, ok := strings.CutSuffix(tc.wantOut, " lines"); ok {
				if got := strings.Count(out.String(), "\n"); got != int(n[0]-'0') {
					t.Errorf("%d lines, want %s:\n%s", got, n, out.String())
				}
			} else if out.String() != tc.wantOut {
				t.Errorf("stdout:\n got %s\nwant %s", out.String(), tc.wantOut)
			}
			if !reflect.DeepEqual(notices, tc.wantNotices) {
				t.Errorf("notices:\n got %s\nwant %s", fmtNotices(notices), fmtNotices(tc.wantNotices))
			}
			if !tc.dev.closed {
				t.Error("device not closed")
			}
			if strings.Contains(name, "json") {
				for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("invalid JSON line %s", line)
					}
				}
			}
		})
	}
}

func TestWatchCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	dev := &fakeDevice{block: true, stats: []event.Stats{{}}}
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, io.Discard, nil, WithOpen(func(string) (Device, error) { return dev, nil }), WithFS(hostFS()))
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	absent := filepath.Join(dir, "dnsmon")
	noModule := hostFS()
	delete(noModule, "sys/module/dnsmon")
	noMisc := hostFS()
	delete(noMisc, "proc/misc")
	tests := map[string]struct {
		fsys    fstest.MapFS
		open    func(string) (Device, error)
		wantErr error
		want    string
	}{
		"not loaded": {fsys: noModule, wantErr: ErrNoDevice,
			want: "no dnsmon device: " + absent + " does not exist because the dnsmon module is not loaded (no /sys/module/dnsmon)"},
		"loaded, no node": {fsys: hostFS(), wantErr: ErrNoDevice,
			want: "no dnsmon device: " + absent + " does not exist although the dnsmon module is loaded (no devtmpfs or udev made the node): create it with mknod " + absent + " c 10 57 (dnsmon's minor in /proc/misc)"},
		"loaded, no node, no /proc/misc": {fsys: noMisc, wantErr: ErrNoDevice,
			want: "no dnsmon device: " + absent + " does not exist although the dnsmon module is loaded (no devtmpfs or udev made the node): create it with mknod " + absent + " c 10 MINOR, MINOR being dnsmon's number in /proc/misc"},
		"permission": {fsys: hostFS(), open: func(p string) (Device, error) { return nil, &openError{path: p, err: unix.EACCES} }, wantErr: ErrDeviceAccess,
			want: "cannot open the dnsmon device: permission denied opening " + absent},
		"no driver": {fsys: noModule, open: func(p string) (Device, error) { return nil, &openError{path: p, err: unix.ENXIO} }, wantErr: ErrNoDevice,
			want: "no dnsmon device: " + absent + " exists but no driver answers (the dnsmon module is not loaded)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			opts := []Option{WithDevice(absent), WithFS(tc.fsys)}
			if tc.open != nil {
				opts = append(opts, WithOpen(tc.open))
			}
			for fn, call := range map[string]func() error{
				"Watch":      func() error { return Watch(t.Context(), io.Discard, nil, opts...) },
				"PrintStats": func() error { return PrintStats(t.Context(), io.Discard, opts...) },
			} {
				err := call()
				if !errors.Is(err, tc.wantErr) || err.Error() != tc.want {
					t.Errorf("%s:\n got %v\nwant %s", fn, err, tc.want)
				}
				var de *DeviceError
				if !errors.As(err, &de) || de.Device != absent || de.ModuleLoaded != (tc.fsys["sys/module/dnsmon"] != nil) {
					t.Errorf("%s: %#v, want a *DeviceError for %s", fn, de, absent)
				}
			}
		})
	}
}

func TestPrintStats(t *testing.T) {
	for name, tc := range map[string]struct {
		stats event.Stats
		want  string
	}{
		"current": {
			stats: event.Stats{Events: 12, Dropped: 3, RingSize: 4096, Queued: 1, Responses: 2, OtherOpcodes: 1, NoQuestion: 4, TCPUnparsed: 5, Malformed: 6,
				Answers: 7, Unpaired: 8, Unanswered: 9, Evicted: 10},
			want: `{"events":12,"dropped":3,"ring_size":4096,"queued":1,"responses":2,"other_opcodes":1,"no_question":4,"tcp_unparsed":5,"malformed":6,"answers":7,"unpaired":8,"unanswered":9,"evicted":10}` + "\n",
		},
		"second-version module": {
			stats: event.Stats{Events: 12, Dropped: 3, RingSize: 4096, Queued: 1, Responses: 2, OtherOpcodes: 1, NoQuestion: 4, TCPUnparsed: 5, Malformed: 6, V2: true},
			want:  `{"events":12,"dropped":3,"ring_size":4096,"queued":1,"responses":2,"other_opcodes":1,"no_question":4,"tcp_unparsed":5,"malformed":6}` + "\n",
		},
		"first-version module": {
			stats: event.Stats{Events: 12, Dropped: 3, RingSize: 4096, Queued: 1, V1: true},
			want:  `{"events":12,"dropped":3,"ring_size":4096,"queued":1}` + "\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			dev := &fakeDevice{stats: []event.Stats{tc.stats}}
			if err := PrintStats(t.Context(), &out, WithOpen(func(string) (Device, error) { return dev, nil })); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("PrintStats = %q, want %q", out.String(), tc.want)
			}
		})
	}
	var out bytes.Buffer
	dev := &fakeDevice{statsErr: unix.ENOTTY}
	err := PrintStats(t.Context(), &out, WithOpen(func(string) (Device, error) { return dev, nil }))
	if !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "is /dev/dnsmon the dnsmon device?") {
		t.Errorf("PrintStats(ENOTTY) = %v", err)
	}
}

// TestFdDevice drives the real poll(2) loop through a FIFO standing in for
// /dev/dnsmon: records arrive in batches, the stream ends when the writer
// goes away, and a watcher with nothing to read stops on cancel.
func TestFdDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "dnsmon")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// O_RDWR keeps a writer on the FIFO, so the watcher's reads see EAGAIN,
	// not end of file, until this descriptor closes.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	gone := make(chan Notice, 1)
	done := make(chan error, 1)
	go func() {
		done <- Watch(t.Context(), &out, func(n Notice) { gone <- n }, WithDevice(fifo), WithFS(hostFS()), WithJSON(true))
	}()
	time.Sleep(300 * time.Millisecond) // let it wait in poll at least once
	if _, err := w.Write(records(t, ev(1, 100, "curl", "a.test", 1), ev(2, 100, "curl", "b.test", 28))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	w.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not end when the writer closed")
	}
	if n := strings.Count(out.String(), "\n"); n != 2 || !strings.Contains(out.String(), `"qname":"b.test"`) {
		t.Errorf("stdout:\n%s", out.String())
	}
	select {
	case n := <-gone:
		if _, ok := n.(*DeviceGone); !ok {
			t.Errorf("notice %+v, want *DeviceGone", n)
		}
	default:
		t.Error("no notice that the device went away")
	}

	// Cancel while waiting.
	w, err = os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Watch(ctx, io.Discard, nil, WithDevice(fifo), WithFS(hostFS())); err != nil {
		t.Errorf("Watch(canceled) = %v", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond+2*pollInterval {
		t.Errorf("cancel took %v", d)
	}

	dev, err := OpenDevice(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if _, err := dev.Stats(); !errors.Is(err, unix.ENOTTY) {
		t.Errorf("Stats on a FIFO = %v, want ENOTTY", err)
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"/system.slice/docker-" + cid + ".scope":                     cid,
		"/kubepods/besteffort/pod1/cri-containerd-" + cid + ".scope": cid,
		"/docker/" + cid:                  cid,
		"/user.slice/user-1000.slice":     "",
		"/x/" + cid + "0":                 "",
		"/docker/" + strings.ToUpper(cid): "",
	} {
		if got := containerID(in); got != want {
			t.Errorf("containerID(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"example.com": "example.com", "a b": `a\032b`, "x\x7f\xff": `x\127\255`} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		0: "0µs", 850 * time.Microsecond: "850µs", 999 * time.Microsecond: "999µs", time.Millisecond: "1.00ms",
		1234 * time.Microsecond: "1.23ms", 9999 * time.Microsecond: "10.0ms", 12345 * time.Microsecond: "12.3ms",
		123456 * time.Microsecond: "123ms", 999499 * time.Microsecond: "999ms", 999500 * time.Microsecond: "1.00s",
		5 * time.Second: "5.00s", 12345 * time.Millisecond: "12.3s", 999 * time.Second: "999s", 4294967295 * time.Microsecond: "4295s",
	} {
		if got := formatLatency(d); got != want {
			t.Errorf("formatLatency(%v) = %q, want %q", d, got, want)
		}
	}
	queries := newLookupMemory()
	for i := uint64(1); i <= maxLookupQueries+1; i++ {
		queries.add(i, queryInfo{name: fmt.Sprint("q", i)})
	}
	if got := queries.take(1); got != (queryInfo{}) {
		t.Errorf("the oldest query is still known: %+v", got)
	}
	if got, again := queries.take(2), queries.take(2); got.name != "q2" || again.name != "" {
		t.Errorf("take(2) = %+v, then %+v", got, again)
	}
	if len(queries.queries) != maxLookupQueries-1 {
		t.Errorf("%d queries kept", len(queries.queries))
	}
	for in, want := range map[string]string{"curl": "curl", "a b": `"a b"`, "": `""`, "x\x01": `"x\x01"`} {
		if got := quoteIfNeeded(in); got != want {
			t.Errorf("quoteIfNeeded(%q) = %q, want %q", in, got, want)
		}
	}
	for name, opt := range map[string]Option{
		"device": WithDevice(""), "count": WithCount(-1), "timeout": WithTimeout(-1),
		"fs": WithFS(nil), "loc": WithLocation(nil), "open": WithOpen(nil),
	} {
		if err := Watch(t.Context(), io.Discard, nil, opt); err == nil {
			t.Errorf("Watch accepted bad option %s", name)
		}
	}
}

func fmtNotices(ns []Notice) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "%+v ", n)
	}
	return b.String()
}
