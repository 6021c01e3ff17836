package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// queryCase is one well-formed query whose event is checked field by field.
type queryCase struct {
	scenario string
	comm     string
	uid      int
	newNet   bool
	net      string // udp4, udp6, tcp4, tcp6
	host     string
	port     int
	name     string
	qtype    string
	id       uint16
}

var queries = []queryCase{
	{scenario: "udp4", comm: "dq-udp4", uid: 1234, net: "udp4", host: "127.0.0.1", port: 53, name: "udp4.dnsmon.test", qtype: "A", id: 0x1104},
	{scenario: "udp6", comm: "dq-udp6", uid: 1234, net: "udp6", host: "::1", port: 53, name: "udp6.dnsmon.test", qtype: "AAAA", id: 0x1106},
	{scenario: "tcp4", comm: "dq-tcp4", uid: 1234, net: "tcp4", host: "127.0.0.1", port: 53, name: "tcp4.dnsmon.test", qtype: "MX", id: 0x6604},
	{scenario: "tcp6", comm: "dq-tcp6", uid: 1234, net: "tcp6", host: "::1", port: 53, name: "tcp6.dnsmon.test", qtype: "TXT", id: 0x6606},
	{scenario: "port5353", comm: "dq-port5353", uid: 0, net: "udp4", host: "127.0.0.1", port: 5353, name: "port5353.dnsmon.test", qtype: "SRV", id: 0x5353},
	{scenario: "netns", comm: "dq-netns", uid: 0, newNet: true, net: "udp4", host: "127.0.0.1", port: 53, name: "netns.dnsmon.test", qtype: "A", id: 0x4e53},
	{scenario: "root-name", comm: "dq-root", uid: 0, net: "udp4", host: "127.0.0.1", port: 53, name: ".", qtype: "NS", id: 0x2e2e},
	{scenario: "long-name", comm: "dq-long", uid: 0, net: "udp6", host: "::1", port: 53, name: longName(), qtype: "A", id: 0x7777},
}

// longName is a valid name of 253 presentation characters (255 octets on
// the wire).
func longName() string {
	l := strings.Repeat("a", 63)
	return l + "." + l + "." + l + "." + strings.Repeat("b", 61)
}

func (r *runner) query(q queryCase) error {
	args := []string{"-net", q.net, "-addr", net.JoinHostPort(q.host, strconv.Itoa(q.port)),
		"-name", q.name, "-type", q.qtype, "-id", strconv.Itoa(int(q.id))}
	if q.newNet {
		args = append(args, "-lo-up", "-wait", "0")
	}
	from := r.watch.count()
	rep, err := r.client(q.comm, q.uid, q.newNet, args...)
	if err != nil {
		return err
	}
	if q.newNet && rep.Netns == r.initNetns {
		return fmt.Errorf("client's netns %d is init's: CLONE_NEWNET did not take", rep.Netns)
	}
	_, ev, err := r.watch.waitQname(from, q.name, 10*time.Second)
	if err != nil {
		return err
	}
	var bad []string
	check := func(field string, ok bool, want any) {
		if !ok {
			bad = append(bad, fmt.Sprintf("%s=%v want %v", field, ev[field], want))
		}
	}
	num := func(k string, want int64) {
		got, ok := ev.num(k)
		check(k, ok && got == want, want)
	}
	num("pid", int64(rep.Pid))
	num("tid", int64(rep.Tid))
	num("uid", int64(q.uid))
	num("netns", int64(rep.Netns))
	num("id", int64(q.id))
	check("comm", ev.str("comm") == q.comm, q.comm)
	fam := "4"
	if strings.HasSuffix(q.net, "6") {
		fam = "6"
	}
	check("family", normFamily(ev["family"]) == fam, "IPv"+fam)
	proto := q.net[:3]
	check("proto", normProto(ev["proto"]) == proto, proto)
	check("server", serverMatches(ev, q.host, q.port), net.JoinHostPort(q.host, strconv.Itoa(q.port)))
	check("qtype", strings.EqualFold(ev.str("qtype"), q.qtype) || ev.str("qtype") == strconv.Itoa(int(qtypes[q.qtype])), q.qtype)
	if len(bad) > 0 {
		return fmt.Errorf("event fields wrong: %s", strings.Join(bad, ", "))
	}
	return nil
}

func normFamily(v any) string {
	s := strings.ToLower(fmt.Sprint(v))
	switch s {
	case "2", "4", "ipv4", "inet", "ip4", "af_inet":
		return "4"
	case "10", "6", "ipv6", "inet6", "ip6", "af_inet6":
		return "6"
	}
	return s
}

func normProto(v any) string {
	s := strings.ToLower(fmt.Sprint(v))
	switch s {
	case "17", "udp":
		return "udp"
	case "6", "tcp":
		return "tcp"
	}
	return s
}

// serverMatches accepts the server as an address with a separate port field
// or as address and port in one string.
func serverMatches(ev event, host string, port int) bool {
	s := ev.str("server")
	if s == host {
		got, ok := ev.num("port")
		return !ok || got == int64(port)
	}
	p := strconv.Itoa(port)
	s = strings.NewReplacer("[", "", "]", "").Replace(s)
	for _, sep := range []string{":", "#", " port ", "."} {
		if s == host+sep+p {
			return true
		}
	}
	return false
}

// malformedCase is a raw UDP payload sent to a port.  What must follow is
// one of: a malformed event with reason (its data the payload's question,
// escaped); no event and the --stats counter counter one higher; a query
// event whose name unescapes to labels; or, with none set, nothing at all.
type malformedCase struct {
	name    string
	payload []byte
	port    int
	reason  string
	counter string
	labels  []string
}

// The --stats counters of messages that yield no query event.
var notQueryCounters = []string{"responses", "other_opcodes", "no_question", "tcp_unparsed", "malformed"}

func malformedCases() []malformedCase {
	hdr := header(0xbad0, 0x0100, 1, 0)
	q := func(body ...byte) []byte { return append(append([]byte{}, hdr...), body...) }
	var overlong []byte
	for i := 0; i < 5; i++ {
		overlong = append(overlong, 63)
		overlong = append(overlong, strings.Repeat("x", 63)...)
	}
	overlong = append(overlong, 0, 0, 1, 0, 1)
	ctrlLabels := []string{"a\x01b", "e\\f", "sp ace", "q\"t", "(x);@$", "\x7f\xff", "test"}
	dotLabels := []string{"c.d", "test"}
	return []malformedCase{
		{name: "empty", payload: []byte{}, reason: "short-header"},
		{name: "short-header", payload: []byte{0xba, 0xd1, 0x01, 0x00, 0x00}, reason: "short-header"},
		{name: "header-only", payload: hdr, reason: "label-past-end"},
		{name: "label-past-end", payload: q(63, 'a', 'b', 'c'), reason: "label-past-end"},
		{name: "no-terminator", payload: q(3, 'a', 'b', 'c', 3, 'd', 'e', 'f'), reason: "label-past-end"},
		{name: "pointer-loop", payload: q(0xc0, 12, 0, 1, 0, 1), reason: "pointer-loop"},
		{name: "pointer-forward", payload: q(1, 'a', 0xc0, 20, 0, 1, 0, 1, 0xc0, 12), reason: "pointer-loop"},
		{name: "over-long-name", payload: q(overlong...), reason: "name-too-long"},
		{name: "bad-label-type", payload: q(0x40, 'a', 0, 0, 1, 0, 1), reason: "bad-label-type"},
		{name: "no-qtype", payload: q(1, 'a', 0), reason: "question-past-end"},
		{name: "response", payload: question(header(0xbad2, 0x8180, 1, 0), encodeName("resp.dnsmon.test"), 1), counter: "responses"},
		{name: "qdcount-0", payload: question(header(0xbad3, 0x0100, 0, 0), encodeName("qd0.dnsmon.test"), 1), counter: "no_question"},
		{name: "opcode-notify", payload: question(header(0xbad4, 0x2000, 1, 0), encodeName("notify.dnsmon.test"), 6), counter: "other_opcodes"},
		{name: "unwatched-port", port: 5354, payload: query(0xbad5, "port5354.dnsmon.test", 1)},
		{name: "control-chars", payload: question(hdr, encodeLabels(ctrlLabels...), 1), labels: ctrlLabels},
		{name: "dot-in-label", payload: question(hdr, encodeLabels(dotLabels...), 1), labels: dotLabels},
	}
}

// malformed sends each case followed by a well-formed marker query; events
// between two markers belong to the case.
func (r *runner) malformed() {
	for i, c := range malformedCases() {
		t0 := time.Now()
		r.report("malformed/"+c.name, t0, r.malformedCase(i, c))
	}
}

func (r *runner) malformedCase(i int, c malformedCase) error {
	before, _, err := stats()
	if err != nil {
		return err
	}
	from := r.watch.count()
	port := c.port
	if port == 0 {
		port = 53
	}
	args := []string{"-net", "udp4", "-addr", "127.0.0.1:" + strconv.Itoa(port), "-wait", "0"}
	if len(c.payload) == 0 {
		args = append(args, "-empty")
	} else {
		args = append(args, "-raw", hex.EncodeToString(c.payload))
	}
	rep, err := r.client("dq-bad", 0, false, args...)
	if err != nil {
		return err
	}
	marker := fmt.Sprintf("marker%d.dnsmon.test", i)
	if _, err := r.client("dq-marker", 0, false, "-name", marker, "-wait", "0"); err != nil {
		return err
	}
	evs, after, err := r.untilMarker(from, marker)
	if err != nil {
		return err
	}
	for _, e := range evs {
		fmt.Printf("guestinit: malformed/%s: event qname %q reason %q data %q\n", c.name, e.str("qname"), e.str("reason"), e.str("data"))
	}
	return judgeMalformed(c, rep, evs, before, after)
}

// untilMarker waits for the event of the marker query, then returns the
// events from index from up to it and the --stats counters after it.
func (r *runner) untilMarker(from int, marker string) ([]event, map[string]int64, error) {
	idx, _, err := r.watch.waitQname(from, marker, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	after, _, err := stats()
	if err != nil {
		return nil, nil, err
	}
	return r.watch.since(from)[:idx-from], after, nil
}

func judgeMalformed(c malformedCase, rep clientReport, evs []event, before, after map[string]int64) error {
	// Every counter but the case's own stays put.
	moved := map[string]int64{}
	for _, k := range notQueryCounters {
		if d := after[k] - before[k]; d != 0 {
			moved[k] = d
		}
	}
	want := map[string]int64{}
	switch {
	case c.counter != "":
		want[c.counter] = 1
	case c.reason != "":
		want["malformed"] = 1
	}
	if fmt.Sprint(moved) != fmt.Sprint(want) {
		return fmt.Errorf("--stats counters moved by %v, want %v", moved, want)
	}
	if c.reason == "" && c.labels == nil {
		if len(evs) > 0 {
			return fmt.Errorf("%d unexpected event(s): %v", len(evs), evs)
		}
		return nil
	}
	if len(evs) != 1 {
		return fmt.Errorf("%d events, want 1: %v", len(evs), evs)
	}
	e := evs[0]
	if pid, _ := e.num("pid"); pid != int64(rep.Pid) || e.str("comm") != "dq-bad" {
		return fmt.Errorf("event from pid %d comm %q, want %d dq-bad", pid, e.str("comm"), rep.Pid)
	}
	if c.reason != "" {
		data := c.payload
		if len(data) >= 12 {
			data = data[12:]
		}
		if len(data) > 64 {
			data = data[:64]
		}
		malformed, _ := e["malformed"].(bool)
		if !malformed || e.str("reason") != c.reason || e.str("data") != escapeBytes(data) {
			return fmt.Errorf("event malformed=%v reason %q data %q, want malformed reason %q data %q",
				malformed, e.str("reason"), e.str("data"), c.reason, escapeBytes(data))
		}
		if len(c.payload) >= 2 {
			if id, _ := e.num("id"); id != int64(c.payload[0])<<8|int64(c.payload[1]) {
				return fmt.Errorf("event id %#x, want the message's %#x", id, int64(c.payload[0])<<8|int64(c.payload[1]))
			}
		}
		return nil
	}
	got := e.str("qname")
	for _, b := range []byte(got) {
		if b < 0x21 || b > 0x7e {
			return fmt.Errorf("qname %q holds an unescaped byte 0x%02x", got, b)
		}
	}
	labels, err := unescapeName(got)
	if err != nil {
		return fmt.Errorf("qname %q: %v", got, err)
	}
	if strings.Join(labels, "\x00") != strings.Join(c.labels, "\x00") {
		return fmt.Errorf("qname %q decodes to %q, want %q", got, labels, c.labels)
	}
	return nil
}

// escapeBytes is the module's escaping: octets outside 0x21..0x7e and the
// specials " $ ( ) . ; @ \ as \DDD.
func escapeBytes(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c < 0x21 || c > 0x7e || strings.IndexByte(`"$().;@\`, c) >= 0 {
			fmt.Fprintf(&s, "\\%03d", c)
		} else {
			s.WriteByte(c)
		}
	}
	return s.String()
}

// tcpCase is one TCP connection to port 53 written in chunks, each its own
// segment, the way resolvers write: the names reported, in order, and how
// far tcp_unparsed must move.  Every case ends with a whole marker query,
// which proves the stream is still followed.
type tcpCase struct {
	name     string
	writes   func(marker []byte) [][]byte
	want     []string
	unparsed int64
	// fastOpen sends the first chunk in the SYN; the responder does not
	// take Fast Open, so the kernel sends it again after the SYN-ACK, and
	// the case also checks that a segment was retransmitted.
	fastOpen bool
}

// tcpFastOpenNoCookie is net.ipv4.tcp_fastopen for a client that sends
// data in its SYN without a cookie (TFO_CLIENT_ENABLE | TFO_CLIENT_NO_COOKIE),
// and a server that does not take it.
const tcpFastOpenNoCookie = "5"

// setSysctl writes value to /proc/sys/KEY and returns what puts the old
// value back.
func setSysctl(key, value string) (restore func(), err error) {
	p := "/proc/sys/" + key
	old, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return nil, fmt.Errorf("setting %s: %w", key, err)
	}
	return func() { os.WriteFile(p, old, 0o644) }, nil
}

// retransSegs is the Tcp RetransSegs counter of /proc/net/snmp.
func retransSegs() (int64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 || fs[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = fs
			continue
		}
		for i, n := range names {
			if n == "RetransSegs" && i < len(fs) {
				return strconv.ParseInt(fs[i], 10, 64)
			}
		}
	}
	return 0, errors.New("no Tcp RetransSegs in /proc/net/snmp")
}

// framed is msgs with their TCP length prefixes, back to back.
func framed(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	return b
}

func tcpCases() []tcpCase {
	a := query(0x7401, "one.tcp.dnsmon.test", 1)
	aaaa := query(0x7402, "two.tcp.dnsmon.test", 28)
	split := query(0x7403, "split.tcp.dnsmon.test", 1)
	retx := query(0x7406, "retx.tcp.dnsmon.test", 1)
	// A message whose bytes after its header are a whole framed query: a
	// segment that starts there must not be read as that query.
	evil := framed(query(0x7404, "evil.tcp.dnsmon.test", 1))
	outer := append(header(0x7405, 0x0100, 1, 0), evil...)
	return []tcpCase{
		{
			name:   "two-in-one-segment",
			writes: func(m []byte) [][]byte { return [][]byte{framed(a, aaaa), framed(m)} },
			want:   []string{"one.tcp.dnsmon.test", "two.tcp.dnsmon.test"},
		},
		{
			name: "query-split-in-two",
			writes: func(m []byte) [][]byte {
				f := framed(split)
				return [][]byte{f[:9], f[9:], framed(m)}
			},
			unparsed: 1,
		},
		{
			name:     "retransmitted-query",
			writes:   func(m []byte) [][]byte { return [][]byte{framed(retx), framed(m)} },
			want:     []string{"retx.tcp.dnsmon.test"},
			fastOpen: true,
		},
		{
			name: "segment-starts-mid-message",
			writes: func(m []byte) [][]byte {
				f := framed(outer)
				return [][]byte{f[:2+12], f[2+12:], framed(m)}
			},
			unparsed: 1,
		},
	}
}

// tcp runs the TCP cases over IPv4 and IPv6.
func (r *runner) tcp() {
	i := 0
	for _, c := range tcpCases() {
		for _, n := range []struct{ net, addr string }{{"tcp4", "127.0.0.1:53"}, {"tcp6", "[::1]:53"}} {
			i++
			t0 := time.Now()
			r.report("tcp/"+c.name+"/"+n.net[3:], t0, r.tcpCase(i, c, n.net, n.addr))
		}
	}
}

func (r *runner) tcpCase(i int, c tcpCase, network, addr string) error {
	before, _, err := stats()
	if err != nil {
		return err
	}
	from := r.watch.count()
	marker := fmt.Sprintf("marker%d.tcp.dnsmon.test", i)
	var chunks []string
	for _, w := range c.writes(query(0x7400, marker, 1)) {
		chunks = append(chunks, hex.EncodeToString(w))
	}
	args := []string{"-net", network, "-addr", addr, "-writes", strings.Join(chunks, ",")}
	retrans := int64(0)
	if c.fastOpen {
		restore, err := setSysctl("net/ipv4/tcp_fastopen", tcpFastOpenNoCookie)
		if err != nil {
			return err
		}
		defer restore()
		if retrans, err = retransSegs(); err != nil {
			return err
		}
		args = append(args, "-fastopen")
	}
	rep, err := r.client("dq-tcp", 0, false, args...)
	if err != nil {
		return err
	}
	if c.fastOpen {
		now, err := retransSegs()
		if err != nil {
			return err
		}
		if now == retrans {
			return errors.New("no TCP segment was retransmitted: the case proves nothing (did the SYN carry the data?)")
		}
	}
	if rep.Sent != len(chunks) {
		return fmt.Errorf("client wrote %d of %d chunks", rep.Sent, len(chunks))
	}
	evs, after, err := r.untilMarker(from, marker)
	if err != nil {
		return err
	}
	var got []string
	for _, e := range evs {
		if malformed, _ := e["malformed"].(bool); malformed {
			got = append(got, "malformed:"+e.str("reason")+":"+e.str("data"))
			continue
		}
		got = append(got, e.str("qname"))
		if pid, _ := e.num("pid"); pid != int64(rep.Pid) {
			return fmt.Errorf("event %s from pid %d, want %d", e.str("qname"), pid, rep.Pid)
		}
	}
	if strings.Join(got, " ") != strings.Join(c.want, " ") {
		return fmt.Errorf("reported %q before the marker, want %q", got, c.want)
	}
	if d := after["tcp_unparsed"] - before["tcp_unparsed"]; d != c.unparsed {
		return fmt.Errorf("tcp_unparsed moved by %d, want %d", d, c.unparsed)
	}
	if d := after["malformed"] - before["malformed"]; d != 0 {
		return fmt.Errorf("malformed moved by %d", d)
	}
	return nil
}

// unescapeName splits a presentation-form name into raw labels, undoing
// \DDD and \X escapes.
func unescapeName(s string) ([]string, error) {
	s = strings.TrimSuffix(s, ".")
	var labels []string
	var cur []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+3 < len(s)+0 && isDigits(s[i+1:i+4]) {
				n, _ := strconv.Atoi(s[i+1 : i+4])
				if n > 255 {
					return nil, fmt.Errorf("escape \\%s out of range", s[i+1:i+4])
				}
				cur = append(cur, byte(n))
				i += 3
			} else if i+1 < len(s) {
				cur = append(cur, s[i+1])
				i++
			} else {
				return nil, errors.New("trailing backslash")
			}
		case c == '.':
			labels = append(labels, string(cur))
			cur = nil
		default:
			cur = append(cur, c)
		}
	}
	return append(labels, string(cur)), nil
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) > 0
}

// floodCount is the flood's queries: 31 times its 64-record ring, so that
// nearly all are dropped and the counters and seq gaps are checked on
// that. Volume is the unload stress's job: each query here costs a guest
// under TCG half a millisecond, and 20000 of them were half of all the
// scenarios' time.
const floodCount = 2000

var statRE = regexp.MustCompile(`(?i)"?(events|dropped|ring_size|ring|queued|responses|other_opcodes|no_question|tcp_unparsed|malformed|answers|unpaired|unanswered|evicted)"?\s*[:=]?\s*(\d+)`)

// stats runs dnsmon-watch --stats and picks the counters out of its output.
func stats() (map[string]int64, string, error) {
	out, err := tool("dnsmon-watch", "--stats")
	if err != nil {
		return nil, out, fmt.Errorf("dnsmon-watch --stats: %v: %s", err, out)
	}
	m := map[string]int64{}
	for _, sm := range statRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.ParseInt(sm[2], 10, 64)
		m[strings.ToLower(sm[1])] = n
	}
	if _, ok := m["events"]; !ok {
		return nil, out, fmt.Errorf("no events counter in dnsmon-watch --stats output %q", out)
	}
	if _, ok := m["dropped"]; !ok {
		return nil, out, fmt.Errorf("no dropped counter in dnsmon-watch --stats output %q", out)
	}
	return m, out, nil
}

// flood fills a 64-record ring with no reader, then reads it: every query
// sent is either seen or counted as dropped, and seq gaps match the count.
func (r *runner) flood() error {
	// Queries only: answers would take ring slots and seq numbers too.
	if err := r.load("ring_size=64", "ports=53", "responses=0"); err != nil {
		return err
	}
	defer func() {
		if _, err := tool("dnsmon-load", "--unload"); err != nil {
			fmt.Println("guestinit: unload after flood:", err)
		}
	}()
	rep, err := r.client("dq-flood", 0, false, "-name", "flood.test", "-count", strconv.Itoa(floodCount))
	if err != nil {
		return err
	}
	if rep.Sent != floodCount {
		return fmt.Errorf("client sent %d of %d", rep.Sent, floodCount)
	}
	st, out, err := stats()
	if err != nil {
		return err
	}
	w, err := startWatcher("--json")
	if err != nil {
		return err
	}
	// The ring holds 64 events: wait for the first before waiting for
	// quiet, which a slow start of dnsmon-watch would end at once.
	w.waitCount(1, 20*time.Second)
	w.quiet(time.Second, 20*time.Second)
	if err := w.stop(); err != nil {
		fmt.Println("guestinit: dnsmon-watch after flood:", err)
	}
	evs := w.since(0)
	var seqs []int64
	for _, e := range evs {
		if strings.HasSuffix(e.str("qname"), ".flood.test") {
			if s, ok := e.num("seq"); ok {
				seqs = append(seqs, s)
			}
		}
	}
	seen := int64(len(evs))
	sent := int64(rep.Sent)
	detail := fmt.Sprintf("sent=%d seen=%d stats(events=%d dropped=%d) [%s]", sent, seen, st["events"], st["dropped"], out)
	if st["events"] != sent {
		return fmt.Errorf("module counted %d events for %d queries: %s", st["events"], sent, detail)
	}
	// responses=0: the responder answered every query, and no hook saw it.
	if st["answers"] != 0 || st["unpaired"] != 0 {
		return fmt.Errorf("with responses=0 the module paired %d responses and counted %d unpaired: %s", st["answers"], st["unpaired"], detail)
	}
	if seen+st["dropped"] != sent {
		return fmt.Errorf("seen + dropped != sent: %s", detail)
	}
	if len(seqs) == len(evs) && len(seqs) > 0 {
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for i := 1; i < len(seqs); i++ {
			if seqs[i] == seqs[i-1] {
				return fmt.Errorf("seq %d delivered twice: %s", seqs[i], detail)
			}
		}
		if gaps := st["events"] - int64(len(seqs)); gaps != st["dropped"] || seqs[len(seqs)-1] > st["events"] {
			return fmt.Errorf("seq numbers (max %d, %d distinct) do not account for %d dropped: %s", seqs[len(seqs)-1], len(seqs), st["dropped"], detail)
		}
	} else if len(evs) > 0 {
		return fmt.Errorf("events carry no seq field, cannot check gaps: %s", detail)
	}
	fmt.Println("guestinit: flood:", detail)
	return nil
}
