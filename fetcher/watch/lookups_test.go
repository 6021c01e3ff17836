package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dnsmon/dnsmon/kmod/event"
)

// tcp returns e sent over TCP.
func tcp(e event.Event) event.Event {
	e.Proto = event.ProtoTCP
	return e
}

func addr(s string) event.Answer {
	a := event.Answer{Type: event.TypeA, TTL: 60, RDLength: 4, Addr: netip.MustParseAddr(s)}
	if a.Addr.Is6() {
		a.Type, a.RDLength = event.TypeAAAA, 16
	}
	return a
}

func cname(target string) event.Answer {
	return event.Answer{Type: event.TypeCNAME, TTL: 300, RDLength: uint16(len(target) + 2), Name: target}
}

// watchLookups runs evs through the watcher with WithLookups and the
// options given, and returns what it printed.
func watchLookups(t *testing.T, opts []Option, evs ...event.Event) (string, error) {
	t.Helper()
	var out bytes.Buffer
	dev := &fakeDevice{chunks: [][]byte{records(t, evs...)}, stats: []event.Stats{{}}}
	opts = append([]Option{WithFS(hostFS()), WithLocation(time.UTC), WithLookups(true),
		WithOpen(func(string) (Device, error) { return dev, nil })}, opts...)
	err := Watch(t.Context(), &out, nil, opts...)
	return out.String(), err
}

func TestLookups(t *testing.T) {
	const (
		curl = " pid=100 comm=curl user=alice netns=4026531840 container=3f2a1b4c5d6e "
		stub = "udp 127.0.0.53:53 "
		day  = "2026-11-27 "
	)
	q := func(seq uint64, name string, qtype event.QType, d time.Duration) event.Event {
		return at(ev(seq, 100, "curl", name, qtype), d)
	}
	ans := func(seq, lookup uint64, name string, flags uint16, latency time.Duration, d time.Duration, records ...event.Answer) event.Event {
		return at(answer(seq, lookup, 100, name, event.TypeA, flags, latency, records...), d)
	}
	ms := time.Millisecond
	tc := uint16(event.DNSFlagTC | event.DNSFlagRD | event.DNSFlagRA)
	tests := map[string]struct {
		evs  []event.Event
		opts []Option
		want []string
	}{
		"answer: addresses in order, then CNAME targets": {
			evs: []event.Event{
				q(1, "www.example.com", event.TypeA, time.Microsecond),
				ans(2, 1, "www.example.com", event.DNSFlagRD|event.DNSFlagRA, 12345*time.Microsecond, 12346*time.Microsecond,
					cname("edge.example.net"), cname("edge2.example.net"), addr("93.184.216.34"), event.Answer{Type: 16, TTL: 5, RDLength: 12}, addr("93.184.216.35")),
			},
			want: []string{day + "10:00:00.000001 lookup=1" + curl + stub + "A www.example.com → NOERROR 93.184.216.34 93.184.216.35 (CNAME edge.example.net, edge2.example.net) 12.3ms"},
		},
		"no addresses, query not seen: the answer's time": {
			evs: []event.Event{func() event.Event {
				e := ans(3, 1, "nx.test", event.DNSFlagAA|3, 850*time.Microsecond, 3*time.Microsecond)
				e.QType = event.TypeAAAA
				return e
			}()},
			want: []string{day + "10:00:00.000003 lookup=1" + curl + stub + "AAAA nx.test → NXDOMAIN - 850µs"},
		},
		"cut, malformed, class, escapes": {
			evs: []event.Event{func() event.Event {
				e := ans(2, 1, "x\x01.test", 0, ms, ms, cname("c\x7f.test"), addr("2001:db8::1"))
				e.QType, e.QClass, e.Cut = event.TypeAAAA, 3, event.CutRecords
				e.Flags, e.Reason = event.FlagMalformed, event.ReasonBadRecord
				return e
			}()},
			want: []string{day + "10:00:00.001000 lookup=1" + curl + stub + `AAAA x\001.test CH → NOERROR 2001:db8::1 (CNAME c\127.test) +cut MALFORMED(bad-record) 1.00ms`},
		},
		"unanswered, with and without its query": {
			evs: []event.Event{
				q(1, "silent.test", 16, 0),
				at(unanswered(2, 1, 100, 16, 5*time.Second), 5*time.Second),
				at(unanswered(3, 9, 100, 16, 5*time.Second), 6*time.Second),
			},
			want: []string{
				day + "10:00:00.000000 lookup=1" + curl + stub + "TXT silent.test → no answer after 5.00s",
				day + "10:00:06.000000 lookup=9" + curl + stub + "TXT ? → no answer after 5.00s",
			},
		},
		"truncated answer and its TCP retry: one lookup": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				tcp(q(3, "BIG.test", event.TypeA, 11*ms)),
				tcp(ans(4, 3, "big.test", event.DNSFlagRD|event.DNSFlagRA, 19*ms, 30*ms, addr("192.0.2.1"), addr("192.0.2.2"))),
			},
			want: []string{day + "10:00:00.000000 lookup=1" + curl + "udp+tcp 127.0.0.53:53 A big.test → NOERROR 192.0.2.1 192.0.2.2 30.0ms"},
		},
		"TCP retry unanswered": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				tcp(q(3, "big.test", event.TypeA, 11*ms)),
				tcp(at(unanswered(4, 3, 100, event.TypeA, 5*time.Second), 5011*ms)),
			},
			want: []string{day + "10:00:00.000000 lookup=1" + curl + "udp+tcp 127.0.0.53:53 A big.test → no answer after 5.01s"},
		},
		"no retry: printed alone once an event past the window comes, before that event's lookup": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms, addr("192.0.2.1")),
				q(3, "other.test", event.TypeA, 10*ms+retryWindow),
				ans(4, 3, "other.test", 0, time.Microsecond, 10*ms+retryWindow+time.Microsecond),
			},
			want: []string{
				day + "10:00:00.000000 lookup=1" + curl + stub + "A big.test → NOERROR [tc] 192.0.2.1 10.0ms",
				day + "10:00:05.010000 lookup=3" + curl + stub + "A other.test → NOERROR - 1µs",
			},
		},
		"retry past the window: two lookups": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				tcp(q(3, "big.test", event.TypeA, 10*ms+retryWindow+time.Microsecond)),
				tcp(ans(4, 3, "big.test", 0, ms, 11*ms+retryWindow, addr("192.0.2.1"))),
			},
			want: []string{
				day + "10:00:00.000000 lookup=1" + curl + stub + "A big.test → NOERROR [tc] - 10.0ms",
				day + "10:00:05.010001 lookup=3" + curl + "tcp 127.0.0.53:53 A big.test → NOERROR 192.0.2.1 1.00ms",
			},
		},
		"retry at the window's end": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				tcp(q(3, "big.test", event.TypeA, 10*ms+retryWindow)),
				tcp(ans(4, 3, "big.test", 0, ms, 11*ms+retryWindow, addr("192.0.2.1"))),
			},
			want: []string{day + "10:00:00.000000 lookup=1" + curl + "udp+tcp 127.0.0.53:53 A big.test → NOERROR 192.0.2.1 5.01s"},
		},
		"TCP query of another process, server, qtype or name: no retry, the held answer printed at the end": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				tcp(at(ev(3, 300, "host proc", "big.test", event.TypeA), 11*ms)),
				to(tcp(q(4, "big.test", event.TypeA, 11*ms)), "127.0.0.1"),
				tcp(q(5, "big.test", event.TypeAAAA, 11*ms)),
				tcp(q(6, "small.test", event.TypeA, 11*ms)),
				func() event.Event { e := tcp(q(7, "big.test", event.TypeA, 11*ms)); e.NetNS++; return e }(),
				q(8, "big.test", event.TypeA, 11*ms), // UDP again
			},
			want: []string{day + "10:00:00.000000 lookup=1" + curl + stub + "A big.test → NOERROR [tc] - 10.0ms"},
		},
		"retry on its way at the end: the truncated answer alone": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				tcp(q(3, "big.test", event.TypeA, 11*ms)),
			},
			want: []string{day + "10:00:00.000000 lookup=1" + curl + stub + "A big.test → NOERROR [tc] - 10.0ms"},
		},
		"two truncated answers: the retry joins the latest": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				q(3, "big.test", event.TypeA, 20*ms),
				ans(4, 3, "big.test", tc, 10*ms, 30*ms),
				tcp(q(5, "big.test", event.TypeA, 31*ms)),
				tcp(ans(6, 5, "big.test", 0, 9*ms, 40*ms, addr("192.0.2.1"))),
			},
			want: []string{
				day + "10:00:00.020000 lookup=3" + curl + "udp+tcp 127.0.0.53:53 A big.test → NOERROR 192.0.2.1 20.0ms",
				day + "10:00:00.000000 lookup=1" + curl + stub + "A big.test → NOERROR [tc] - 10.0ms",
			},
		},
		"truncated TCP answer: not held": {
			evs:  []event.Event{tcp(ans(2, 1, "big.test", tc, 10*ms, 10*ms))},
			want: []string{day + "10:00:00.010000 lookup=1" + curl + "tcp 127.0.0.53:53 A big.test → NOERROR [tc] - 10.0ms"},
		},
		"stub's upstream lookup names the application": {
			evs: []event.Event{
				ev(1, 100, "curl", "www.example.com", event.TypeA),
				upstream(2, "www.example.com", event.TypeA),
				stubbed(answer(3, 2, 500, "www.example.com", event.TypeA, 0, 12345*time.Microsecond, addr("192.0.2.10"))),
				answer(4, 1, 100, "www.example.com", event.TypeA, 0, 13*ms, addr("192.0.2.10")),
			},
			want: []string{
				day + "10:00:00.000002 lookup=2 pid=500 comm=systemd-resolve user=alice netns=4026531840 udp 192.0.2.53:53 A www.example.com → NOERROR 192.0.2.10 12.3ms via curl[100] lookup=1",
				day + "10:00:00.000001 lookup=1" + curl + stub + "A www.example.com → NOERROR 192.0.2.10 13.0ms",
			},
		},
		"count counts lookups": {
			evs: []event.Event{
				q(1, "a.test", event.TypeA, 0), q(2, "b.test", event.TypeA, 0),
				ans(3, 1, "a.test", 0, ms, ms), ans(4, 2, "b.test", 0, ms, ms),
				q(5, "c.test", event.TypeA, ms), ans(6, 5, "c.test", 0, ms, 2*ms),
			},
			opts: []Option{WithCount(2)},
			want: []string{
				day + "10:00:00.000000 lookup=1" + curl + stub + "A a.test → NOERROR - 1.00ms",
				day + "10:00:00.000000 lookup=2" + curl + stub + "A b.test → NOERROR - 1.00ms",
			},
		},
		"count reached: held answers are not printed": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				q(3, "a.test", event.TypeA, 11*ms), ans(4, 3, "a.test", 0, ms, 12*ms),
			},
			opts: []Option{WithCount(1)},
			want: []string{day + "10:00:00.011000 lookup=3" + curl + stub + "A a.test → NOERROR - 1.00ms"},
		},
		"count of two with a held answer expiring in the same event": {
			evs: []event.Event{
				q(1, "big.test", event.TypeA, 0),
				ans(2, 1, "big.test", tc, 10*ms, 10*ms),
				ans(3, 7, "a.test", 0, ms, 6*time.Second),
				ans(4, 8, "b.test", 0, ms, 6*time.Second),
			},
			opts: []Option{WithCount(2)},
			want: []string{
				day + "10:00:00.000000 lookup=1" + curl + stub + "A big.test → NOERROR [tc] - 10.0ms",
				day + "10:00:06.000000 lookup=7" + curl + stub + "A a.test → NOERROR - 1.00ms",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := watchLookups(t, tc.opts, tc.evs...)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if out == "" {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("lines:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}

func TestLookupsJSON(t *testing.T) {
	ms := time.Millisecond
	proc := `"pid":100,"tid":100,"comm":"curl","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4",`
	host := `"exe":"/usr/bin/curl","container":"` + cid + `"`
	tests := map[string]struct {
		evs  []event.Event
		want []string
	}{
		"answer": {
			evs: []event.Event{
				ev(1, 100, "curl", "www.example.com", event.TypeA),
				answer(2, 1, 100, "www.example.com", event.TypeA, event.DNSFlagRD|event.DNSFlagRA, 12345*time.Microsecond, addr("93.184.216.34")),
			},
			want: []string{`{"seq":2,"kind":"answer","lookup":1,"time":"2026-11-27T10:00:00.000002Z",` + proc +
				`"proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":1,"qname":"www.example.com","qtype":"A",` +
				`"rcode":"NOERROR","flags":["rd","ra"],"ancount":1,"answers":[{"type":"A","ttl":60,"data":"93.184.216.34"}],"latency_us":12345,` +
				host + `,"query_time":"2026-11-27T10:00:00.000001Z"}`},
		},
		"unanswered, named by its query; one whose query was not seen": {
			evs: []event.Event{
				ev(1, 100, "curl", "silent.test", 16),
				at(unanswered(2, 1, 100, 16, 5*time.Second), 5*time.Second),
				unanswered(3, 9, 100, 16, 5*time.Second),
			},
			want: []string{
				`{"seq":2,"kind":"unanswered","lookup":1,"time":"2026-11-27T10:00:05Z",` + proc +
					`"proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":1,"qname":"silent.test","qtype":"TXT",` +
					`"unanswered":true,"latency_us":5000000,` + host + `,"query_time":"2026-11-27T10:00:00.000001Z"}`,
				`{"seq":3,"kind":"unanswered","lookup":9,"time":"2026-11-27T10:00:00.000003Z",` + proc +
					`"proto":"udp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":9,"qtype":"TXT",` +
					`"unanswered":true,"latency_us":5000000,` + host + `}`,
			},
		},
		"truncated answer and its TCP retry": {
			evs: []event.Event{
				at(ev(1, 100, "curl", "big.test", event.TypeA), 0),
				at(answer(2, 1, 100, "big.test", event.TypeA, event.DNSFlagTC, 10*ms), 10*ms),
				tcp(at(ev(3, 100, "curl", "big.test", event.TypeA), 11*ms)),
				tcp(at(answer(4, 3, 100, "big.test", event.TypeA, 0, 19*ms, addr("192.0.2.1")), 30*ms)),
			},
			want: []string{`{"seq":4,"kind":"answer","lookup":1,"time":"2026-11-27T10:00:00.03Z",` + proc +
				`"proto":"udp+tcp","server":"127.0.0.53","port":53,"local":"127.0.0.1:40000","id":3,"qname":"big.test","qtype":"A",` +
				`"rcode":"NOERROR","ancount":1,"answers":[{"type":"A","ttl":60,"data":"192.0.2.1"}],"latency_us":30000,` +
				host + `,"query_time":"2026-11-27T10:00:00Z","retry_lookup":3}`},
		},
		"truncated answer alone; stub's upstream lookup": {
			evs: []event.Event{
				ev(1, 100, "curl", "big.test", event.TypeA),
				upstream(2, "big.test", event.TypeA),
				stubbed(at(answer(3, 2, 500, "big.test", event.TypeA, event.DNSFlagTC, 10*ms), 10*ms)),
			},
			want: []string{`{"seq":3,"kind":"answer","lookup":2,"time":"2026-11-27T10:00:00.01Z",` +
				`"pid":500,"tid":500,"comm":"systemd-resolve","uid":1000,"user":"alice","netns":4026531840,"family":"ipv4",` +
				`"proto":"udp","server":"192.0.2.53","port":53,"local":"127.0.0.1:40000","id":2,"qname":"big.test","qtype":"A",` +
				`"rcode":"NOERROR","flags":["tc"],"ancount":0,"latency_us":10000,"via":{"pid":100,"comm":"curl","lookup":1},` +
				`"query_time":"2026-11-27T10:00:00.000002Z"}`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := watchLookups(t, []Option{WithJSON(true)}, tc.evs...)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("lines:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
			for _, line := range got {
				// Every lookup reads back as the event that ended it.
				var e event.Event
				if err := json.Unmarshal([]byte(line), &e); err != nil && !strings.Contains(line, `"proto":"udp+tcp"`) {
					t.Errorf("%v: %s", err, line)
				}
			}
		})
	}
}

// TestLookupsNeedAnswers checks that WithLookups refuses a module that
// reports queries only, by its records or by its parameter, and that it
// does not mind either without WithLookups.
func TestLookupsNeedAnswers(t *testing.T) {
	withParam := func(v string) fstest.MapFS {
		fsys := hostFS()
		fsys["sys/module/dnsmon/parameters/responses"] = &fstest.MapFile{Data: []byte(v)}
		return fsys
	}
	tests := map[string]struct {
		fsys    fstest.MapFS
		records []byte
		want    *NoAnswersError // nil: no error
		text    string
	}{
		"version 2 records": {fsys: hostFS(), records: v2record(t, ev(1, 100, "curl", "old.test", 1)),
			want: &NoAnswersError{Version: 2}, text: "the loaded dnsmon module reports queries only (record version 2)"},
		"version 1 records": {fsys: hostFS(), records: func() []byte {
			b := v2record(t, ev(1, 100, "curl", "old.test", 1))
			b[0] = 1
			return b
		}(), want: &NoAnswersError{Version: 1}, text: "the loaded dnsmon module reports queries only (record version 1)"},
		"responses=N": {fsys: withParam("N\n"), records: records(t, ev(1, 100, "curl", "a.test", 1)),
			want: &NoAnswersError{}, text: "the dnsmon module reports no answers: its responses parameter is off (/sys/module/dnsmon/parameters/responses)"},
		"responses=0":  {fsys: withParam("0"), records: records(t, ev(1, 100, "curl", "a.test", 1)), want: &NoAnswersError{}},
		"responses=Y":  {fsys: withParam("Y\n"), records: records(t, ev(1, 100, "curl", "a.test", 1))},
		"no parameter": {fsys: hostFS(), records: records(t, ev(1, 100, "curl", "a.test", 1))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, lookups := range []bool{true, false} {
				opened := false
				dev := &fakeDevice{chunks: [][]byte{tc.records}, stats: []event.Stats{{}}}
				err := Watch(t.Context(), &bytes.Buffer{}, nil, WithFS(tc.fsys), WithLookups(lookups),
					WithOpen(func(string) (Device, error) { opened = true; return dev, nil }))
				if tc.want == nil || !lookups {
					if err != nil {
						t.Errorf("lookups %v: %v", lookups, err)
					}
					continue
				}
				var na *NoAnswersError
				if !errors.As(err, &na) || *na != *tc.want || !errors.Is(err, ErrNoAnswers) {
					t.Fatalf("lookups: err = %#v, want %#v", err, tc.want)
				}
				if tc.text != "" && err.Error() != tc.text {
					t.Errorf("lookups:\n got %s\nwant %s", err, tc.text)
				}
				if tc.want.Version == 0 && opened {
					t.Error("the device was opened although the parameter says no answers come")
				}
				if opened && !dev.closed {
					t.Error("device not closed")
				}
			}
		})
	}
}

// TestRetryJoinBounds checks that at most maxWaiting truncated answers
// are held, the oldest printed alone past that.
func TestRetryJoinBounds(t *testing.T) {
	var j retryJoin
	var ended []uint64
	for i := range maxWaiting + 2 {
		a := answer(uint64(2*i+2), uint64(2*i+1), 100, fmt.Sprintf("n%d.test", i), event.TypeA, event.DNSFlagTC, time.Millisecond)
		for _, l := range j.end(a, time.Time{}) {
			ended = append(ended, l.end.Lookup)
		}
	}
	if len(j.waiting) != maxWaiting || !reflect.DeepEqual(ended, []uint64{1, 3}) {
		t.Errorf("%d held, %v ended; want %d held, [1 3] ended", len(j.waiting), ended, maxWaiting)
	}
	if n := len(j.flush()); n != maxWaiting || len(j.waiting) != 0 {
		t.Errorf("flush returned %d, kept %d", n, len(j.waiting))
	}
}

func TestSetFields(t *testing.T) {
	got, err := setFields([]byte(`{"a":1,"b":{"c":[1,2]},"d":"x"}`), []jsonField{{"d", "y"}, {"e", 5}, {"a", []int{7}}})
	if want := `{"a":[7],"b":{"c":[1,2]},"d":"y","e":5}`; err != nil || string(got) != want {
		t.Errorf("setFields = %s, %v; want %s", got, err, want)
	}
	if got, err := setFields([]byte(`{}`), []jsonField{{"x", true}}); err != nil || string(got) != `{"x":true}` {
		t.Errorf("setFields of {} = %s, %v", got, err)
	}
	for _, bad := range []string{`[1]`, `{"a":`, ``} {
		if _, err := setFields([]byte(bad), nil); err == nil {
			t.Errorf("setFields(%s) succeeded", bad)
		}
	}
}
