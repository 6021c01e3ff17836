package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/kmod/event"
)

// t0 is the time of ev(0, ...); ev(seq, ...) leaves seq µs later.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// at returns e leaving (or arriving) d after t0.
func at(e event.Event, d time.Duration) event.Event {
	e.Time = t0.Add(d)
	return e
}

// to returns e sent to server (ADDR or ADDR:PORT; port 53 when left out).
func to(e event.Event, server string) event.Event {
	ap, err := netip.ParseAddrPort(server)
	if err != nil {
		ap = netip.AddrPortFrom(netip.MustParseAddr(server), 53)
	}
	e.Server, e.Port = ap.Addr(), ap.Port()
	e.Family = event.FamilyIPv4
	if e.Server.Is6() {
		e.Family, e.Local = event.FamilyIPv6, netip.MustParseAddrPort("[::1]:40000")
	}
	return e
}

// upstream is the stub's query seq, pid 500 (systemd-resolve), to
// 192.0.2.53.
func upstream(seq uint64, qname string, qtype event.QType) event.Event {
	return to(ev(seq, 500, "systemd-resolve", qname, qtype), "192.0.2.53")
}

// stubbed is e, an answer or unanswered event, of a query of upstream's.
func stubbed(e event.Event) event.Event {
	u := upstream(0, "", 0)
	e.Comm, e.Server, e.Port = u.Comm, u.Server, u.Port
	return e
}

// vias runs evs through the watcher in JSON mode and returns the via of
// every line that has one, by seq.
func vias(t *testing.T, evs ...event.Event) map[uint64]string {
	t.Helper()
	var out bytes.Buffer
	dev := &fakeDevice{chunks: [][]byte{records(t, evs...)}, stats: []event.Stats{{}}}
	if err := Watch(t.Context(), &out, nil, WithFS(hostFS()), WithJSON(true), WithOpen(func(string) (Device, error) { return dev, nil })); err != nil {
		t.Fatal(err)
	}
	got := map[uint64]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m struct {
			Seq uint64          `json:"seq"`
			Via json.RawMessage `json:"via"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if m.Via != nil {
			got[m.Seq] = string(m.Via)
		}
	}
	return got
}

func TestStubJoin(t *testing.T) {
	const (
		curl  = `{"pid":100,"comm":"curl","lookup":1}`
		curl2 = `{"pid":100,"comm":"curl","lookup":2}`
	)
	name := "www.example.com"
	app := func(seq uint64, pid uint32, comm string) event.Event { return ev(seq, pid, comm, name, event.TypeA) }
	tests := map[string]struct {
		evs  []event.Event
		want map[uint64]string
	}{
		"joined": {
			evs:  []event.Event{app(1, 100, "curl"), upstream(2, name, event.TypeA)},
			want: map[uint64]string{2: curl},
		},
		"case randomized upstream (0x20)": {
			evs:  []event.Event{app(1, 100, "curl"), upstream(2, "wWw.ExAmPle.COM", event.TypeA)},
			want: map[uint64]string{2: curl},
		},
		"case of the application": {
			evs:  []event.Event{ev(1, 100, "curl", "WWW.Example.com", event.TypeA), upstream(2, name, event.TypeA)},
			want: map[uint64]string{2: curl},
		},
		"stub on ::1, upstream over IPv6": {
			evs:  []event.Event{to(app(1, 100, "curl"), "::1"), to(upstream(2, name, event.TypeA), "2001:db8::53")},
			want: map[uint64]string{2: curl},
		},
		"stub elsewhere in 127/8, on another port": {
			evs:  []event.Event{to(app(1, 100, "curl"), "127.1.2.3:5300"), upstream(2, name, event.TypeA)},
			want: map[uint64]string{2: curl},
		},
		"over TCP": {
			evs: []event.Event{app(1, 100, "curl"), func() event.Event {
				e := upstream(2, name, event.TypeA)
				e.Proto = event.ProtoTCP
				return e
			}()},
			want: map[uint64]string{2: curl},
		},
		"application asked a server that is not loopback": {
			evs:  []event.Event{to(app(1, 100, "curl"), "10.0.0.1"), upstream(2, name, event.TypeA)},
			want: map[uint64]string{},
		},
		"same process asks upstream itself": {
			evs:  []event.Event{app(1, 100, "curl"), to(app(2, 100, "curl"), "10.0.0.1")},
			want: map[uint64]string{},
		},
		"upstream sender unknown": {
			evs: []event.Event{app(1, 100, "curl"), func() event.Event {
				e := upstream(2, name, event.TypeA)
				e.Flags, e.PID, e.TID, e.Comm = event.FlagProcUnknown, 0, 0, ""
				return e
			}()},
			want: map[uint64]string{},
		},
		"application sender unknown": {
			evs: []event.Event{func() event.Event {
				e := app(1, 0, "")
				e.Flags, e.TID = event.FlagProcUnknown, 0
				return e
			}(), upstream(2, name, event.TypeA)},
			want: map[uint64]string{},
		},
		"another network namespace": {
			evs: []event.Event{app(1, 100, "curl"), func() event.Event {
				e := upstream(2, name, event.TypeA)
				e.NetNS++
				return e
			}()},
			want: map[uint64]string{},
		},
		"another qtype": {
			evs:  []event.Event{app(1, 100, "curl"), upstream(2, name, event.TypeAAAA)},
			want: map[uint64]string{},
		},
		"another name": {
			evs:  []event.Event{app(1, 100, "curl"), upstream(2, "example.com", event.TypeA)},
			want: map[uint64]string{},
		},
		"malformed upstream": {
			evs: []event.Event{app(1, 100, "curl"), func() event.Event {
				e := upstream(2, name, 0)
				e.Flags, e.Reason, e.QClass = event.FlagMalformed, event.ReasonPointerLoop, 0
				return e
			}()},
			want: map[uint64]string{},
		},
		"upstream at the window's end": {
			evs:  []event.Event{at(app(1, 100, "curl"), 0), at(upstream(2, name, event.TypeA), stubWindow)},
			want: map[uint64]string{2: curl},
		},
		"upstream past the window": {
			evs:  []event.Event{at(app(1, 100, "curl"), 0), at(upstream(2, name, event.TypeA), stubWindow+time.Microsecond)},
			want: map[uint64]string{},
		},
		"upstream stamped before the application (clock set back)": {
			evs:  []event.Event{at(app(1, 100, "curl"), time.Second), at(upstream(2, name, event.TypeA), time.Second-time.Microsecond)},
			want: map[uint64]string{},
		},
		"forgotten once a later query is past the window": {
			evs: []event.Event{at(app(1, 100, "curl"), 0), at(ev(2, 300, "host proc", "other.test", event.TypeA), 3*time.Second),
				at(upstream(3, name, event.TypeA), time.Second)},
			want: map[uint64]string{},
		},
		"application answered first (the stub answered from its cache)": {
			evs:  []event.Event{app(1, 100, "curl"), answer(2, 1, 100, name, event.TypeA, 0, time.Microsecond), upstream(3, name, event.TypeA)},
			want: map[uint64]string{},
		},
		"application unanswered first": {
			evs:  []event.Event{app(1, 100, "curl"), unanswered(2, 1, 100, event.TypeA, 5*time.Second), upstream(3, name, event.TypeA)},
			want: map[uint64]string{},
		},
		"two processes: ambiguous, and not joined to each other": {
			evs:  []event.Event{app(1, 100, "curl"), app(2, 101, "wget"), upstream(3, name, event.TypeA)},
			want: map[uint64]string{3: `{"ambiguous":2}`},
		},
		"three processes, one of them twice: ambiguous": {
			evs: []event.Event{app(1, 100, "curl"), app(2, 101, "wget"), app(3, 100, "curl"),
				to(app(4, 102, "ping"), "127.0.0.53:53"), upstream(5, name, event.TypeA)},
			want: map[uint64]string{5: `{"ambiguous":3}`},
		},
		"two processes on one stub over IPv4 and IPv6: ambiguous": {
			evs: []event.Event{to(app(1, 100, "curl"), "::1"), to(app(2, 101, "wget"), "::1"),
				to(upstream(3, name, event.TypeA), "2001:db8::53")},
			want: map[uint64]string{3: `{"ambiguous":2}`},
		},
		// The rule cannot tell an application asking a second stub from
		// the first stub asking the second: wget's query is taken for
		// a stub's, made for curl.
		"applications asking two different stubs": {
			evs:  []event.Event{app(1, 100, "curl"), to(app(2, 101, "wget"), "127.0.0.1"), upstream(3, name, event.TypeA)},
			want: map[uint64]string{2: curl, 3: curl},
		},
		"one process twice: its latest query": {
			evs:  []event.Event{app(1, 100, "curl"), app(2, 100, "curl"), upstream(3, name, event.TypeA)},
			want: map[uint64]string{3: curl2},
		},
		"one process twice, the latest answered: the earlier": {
			evs: []event.Event{app(1, 100, "curl"), app(2, 100, "curl"), answer(3, 2, 100, name, event.TypeA, 0, time.Microsecond),
				upstream(4, name, event.TypeA)},
			want: map[uint64]string{4: curl},
		},
		"two processes, one answered: the other": {
			evs: []event.Event{app(1, 100, "curl"), app(2, 101, "wget"), answer(3, 1, 100, name, event.TypeA, 0, time.Microsecond),
				upstream(4, name, event.TypeA)},
			want: map[uint64]string{4: `{"pid":101,"comm":"wget","lookup":2}`},
		},
		"two upstream queries, one per server": {
			evs: []event.Event{app(1, 100, "curl"), upstream(2, name, event.TypeA),
				to(upstream(3, name, event.TypeA), "198.51.100.53")},
			want: map[uint64]string{2: curl, 3: curl},
		},
		"a chain of stubs: dnsmasq asks systemd-resolved": {
			evs: []event.Event{to(app(1, 100, "curl"), "127.0.0.1"), to(ev(2, 400, "dnsmasq", name, event.TypeA), "127.0.0.53"),
				upstream(3, name, event.TypeA)},
			want: map[uint64]string{2: curl, 3: curl},
		},
		"a chain of stubs whose first leg is ambiguous": {
			evs: []event.Event{to(app(1, 100, "curl"), "127.0.0.1"), to(app(2, 101, "wget"), "127.0.0.1"),
				to(ev(3, 400, "dnsmasq", name, event.TypeA), "127.0.0.53"), upstream(4, name, event.TypeA)},
			want: map[uint64]string{3: `{"ambiguous":2}`, 4: `{"ambiguous":3}`},
		},
		"the application behind a chain is not joined to its own forwarded query": {
			evs: []event.Event{to(app(1, 100, "curl"), "127.0.0.1"), to(ev(2, 400, "dnsmasq", name, event.TypeA), "127.0.0.53"),
				to(app(3, 100, "curl"), "127.0.0.53")},
			want: map[uint64]string{2: curl},
		},
		"the upstream query's answer and unanswered events carry its via": {
			evs: []event.Event{app(1, 100, "curl"), upstream(2, name, event.TypeA), upstream(3, name, event.TypeA),
				answer(4, 2, 500, name, event.TypeA, 0, time.Millisecond), unanswered(5, 3, 500, event.TypeA, 5*time.Second),
				answer(6, 1, 100, name, event.TypeA, 0, 2*time.Millisecond)},
			want: map[uint64]string{2: curl, 3: curl, 4: curl, 5: curl},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := vias(t, tc.evs...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("via by seq:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestStubJoinText checks the lines of a joined and of an ambiguous
// upstream query, and of their answers.
func TestStubJoinText(t *testing.T) {
	name := "www.example.com"
	var out bytes.Buffer
	dev := &fakeDevice{chunks: [][]byte{records(t,
		ev(1, 100, "curl", name, event.TypeA),
		upstream(2, name, event.TypeA),
		stubbed(answer(3, 2, 500, name, event.TypeA, event.DNSFlagRA, 12345*time.Microsecond,
			event.Answer{Type: event.TypeA, TTL: 60, RDLength: 4, Addr: netip.MustParseAddr("192.0.2.10")})),
		ev(4, 300, "host proc", "a.test", event.TypeAAAA),
		ev(5, 100, "curl", "a.test", event.TypeAAAA),
		upstream(6, "a.test", event.TypeAAAA),
		stubbed(unanswered(7, 6, 500, event.TypeAAAA, 5*time.Second)),
	)}, stats: []event.Stats{{}}}
	err := Watch(t.Context(), &out, nil, WithFS(hostFS()), WithLocation(time.UTC), WithOpen(func(string) (Device, error) { return dev, nil }))
	if err != nil {
		t.Fatal(err)
	}
	up := "user=alice netns=4026531840 udp 192.0.2.53:53"
	want := []string{
		"2026-11-27 10:00:00.000001 lookup=1 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 A www.example.com",
		"2026-11-27 10:00:00.000002 lookup=2 pid=500 comm=systemd-resolve " + up + " A www.example.com via curl[100] lookup=1",
		"2026-11-27 10:00:00.000003 lookup=2 pid=500 comm=systemd-resolve " + up + " answer A www.example.com NOERROR [ra] 12.3ms A 192.0.2.10 ttl=60 via curl[100] lookup=1",
		"2026-11-27 10:00:00.000004 lookup=4 pid=300 comm=\"host proc\" user=alice netns=4026531840 udp 127.0.0.53:53 AAAA a.test",
		"2026-11-27 10:00:00.000005 lookup=5 pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e udp 127.0.0.53:53 AAAA a.test",
		"2026-11-27 10:00:00.000006 lookup=6 pid=500 comm=systemd-resolve " + up + " AAAA a.test via ? (2 askers)",
		"2026-11-27 10:00:00.000007 lookup=6 pid=500 comm=systemd-resolve " + up + " unanswered AAAA a.test id=6 after 5.00s via ? (2 askers)",
	}
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("lines:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// TestStubJoinBounds checks that the join keeps at most maxStubQueries
// loopback queries, forgetting the oldest.
func TestStubJoinBounds(t *testing.T) {
	var j stubJoin
	for i := range maxStubQueries + 1 {
		e := ev(uint64(i+1), 100, "curl", fmt.Sprintf("n%d.test", i), event.TypeA)
		e.Time = t0 // all within the window
		j.query(&e)
	}
	if len(j.pending) != maxStubQueries {
		t.Fatalf("%d queries kept, want %d", len(j.pending), maxStubQueries)
	}
	for i, want := range map[int]bool{0: false, 1: true, maxStubQueries: true} {
		u := upstream(5000, fmt.Sprintf("n%d.test", i), event.TypeA)
		u.Time = t0
		if got := j.query(&u) != nil; got != want {
			t.Errorf("query %d joined: %v, want %v", i, got, want)
		}
	}
	j.answered(2)
	if len(j.pending) != maxStubQueries-1 {
		t.Errorf("%d queries kept after an answer, want %d", len(j.pending), maxStubQueries-1)
	}
}

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{
		"www.example.com": "www.example.com", "WwW.ExAmPlE.CoM": "www.example.com",
		`A\200B.test`: `a\200b.test`, ".": ".", "": "", "0-9_Z": "0-9_z",
	} {
		if got := foldName(in); got != want {
			t.Errorf("foldName(%q) = %q, want %q", in, got, want)
		}
	}
}
