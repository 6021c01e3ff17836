package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// answerTimeout is the module's answer_timeout in the scenarios, in
// seconds: short, so that the unanswered cases wait little.
const answerTimeout = 2

// answerCase is one query to the scripted responder and what must follow
// its query event: an answer event, checked by check, or, with unanswered
// set, an unanswered one and no answer. unpaired says the response that
// came back must be counted as paired with no query.
type answerCase struct {
	scenario   string
	net        string
	host       string
	name       string
	qtype      string
	check      func(q, a event) error
	unanswered bool
	unpaired   bool
}

func answerCases() []answerCase {
	rcode := func(want string, flags ...string) func(q, a event) error {
		return func(_, a event) error {
			if got := a.str("rcode"); got != want {
				return fmt.Errorf("rcode %q, want %q", got, want)
			}
			for _, f := range flags {
				if !hasFlag(a, f) {
					return fmt.Errorf("flags %v lack %q", a["flags"], f)
				}
			}
			if n := len(answerList(a)); n != 0 {
				return fmt.Errorf("%d answer records, want none", n)
			}
			return nil
		}
	}
	return []answerCase{
		{scenario: "answer-chain", net: "udp4", host: "127.0.0.1", name: nameChain + answersZone, qtype: "A", check: checkChain},
		{scenario: "answer-chain6", net: "udp6", host: "::1", name: nameChain + answersZone, qtype: "AAAA", check: checkChain},
		{scenario: "answer-nxdomain", net: "udp4", host: "127.0.0.1", name: nameNXDomain + answersZone, qtype: "A", check: rcode("NXDOMAIN", "aa", "ra")},
		{scenario: "answer-servfail", net: "udp6", host: "::1", name: nameServFail + answersZone, qtype: "A", check: rcode("SERVFAIL", "ra")},
		{scenario: "answer-refused", net: "udp4", host: "127.0.0.1", name: nameRefused + answersZone, qtype: "MX", check: rcode("REFUSED", "ra")},
		{scenario: "answer-latency", net: "udp4", host: "127.0.0.1", name: nameSlow + answersZone, qtype: "A", check: checkSlow},
		{scenario: "answer-truncated", net: "udp4", host: "127.0.0.1", name: nameTruncated + answersZone, qtype: "A", check: checkTruncated},
		{scenario: "answer-tcp-retry", net: "tcp4", host: "127.0.0.1", name: nameTruncated + answersZone, qtype: "A", check: checkRetry},
		{scenario: "answer-tcp6", net: "tcp6", host: "::1", name: nameChain + answersZone, qtype: "A", check: checkChain},
		{scenario: "answer-silent", net: "udp4", host: "127.0.0.1", name: nameSilent + answersZone, qtype: "A", unanswered: true},
		{scenario: "answer-wrong-id", net: "udp4", host: "127.0.0.1", name: nameWrongID + answersZone, qtype: "A", unanswered: true, unpaired: true},
		{scenario: "answer-wrong-server", net: "udp4", host: "127.0.0.1", name: nameWrongServer + answersZone, qtype: "A", unanswered: true, unpaired: true},
	}
}

// answers runs the answer cases.
func (r *runner) answers() {
	for i, c := range answerCases() {
		r.step(c.scenario, func() error { return r.answerCase(i, c) })
	}
	r.step("answer-other-netns", r.answerOtherNetns)
	r.step("answer-stub-leg", r.answerStubLeg)
	r.step("answer-unsolicited-flood", r.unsolicitedFlood)
}

// answerStubLeg asks the stub resolver, which asks the responder: both
// queries are reported, each with its own process; dnsmon-watch names the
// application on the stub's upstream query (via); both get their answer.
func (r *runner) answerStubLeg() error {
	if err := r.startStub(); err != nil {
		return err
	}
	const app = "dq-app"
	name := nameChain + ".stub" + answersZone
	from := r.watch.count()
	rep, err := r.client(app, 0, false, "-net", "udp4", "-addr", stubAddr, "-name", name, "-type", "A", "-id", "4660")
	if err != nil {
		return err
	}
	if rep.Replies != 1 {
		return fmt.Errorf("the application got %d replies through the stub, want 1", rep.Replies)
	}
	var asked, upstream event
	deadline := time.Now().Add(10 * time.Second)
	for asked == nil || upstream == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("no query events for %s from both %s and %s", name, app, stubComm)
		}
		for _, ev := range r.watch.since(from) {
			switch {
			case !sameName(ev.str("qname"), name):
			case ev.str("comm") == app:
				asked = ev
			case ev.str("comm") == stubComm:
				upstream = ev
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var bad []string
	if !serverMatches(asked, "127.0.0.53", 53) {
		bad = append(bad, fmt.Sprintf("the application's query went to %v", asked["server"]))
	}
	if p, _ := asked.num("pid"); p != int64(rep.Pid) {
		bad = append(bad, fmt.Sprintf("the application's query names pid %d, not %d", p, rep.Pid))
	}
	if p, _ := upstream.num("pid"); p == int64(rep.Pid) || p == 0 {
		bad = append(bad, fmt.Sprintf("the upstream query names pid %d", p))
	}
	via, _ := upstream["via"].(map[string]any)
	askedSeq, _ := asked.num("seq")
	if via == nil || event(via).str("comm") != app {
		bad = append(bad, fmt.Sprintf("the upstream query's via is %v, want %s[%d]", upstream["via"], app, rep.Pid))
	} else if p, _ := event(via).num("pid"); p != int64(rep.Pid) {
		bad = append(bad, fmt.Sprintf("via pid %d, want %d", p, rep.Pid))
	} else if l, _ := event(via).num("lookup"); l != askedSeq {
		bad = append(bad, fmt.Sprintf("via lookup %d, want the application's query %d", l, askedSeq))
	}
	for _, q := range []event{asked, upstream} {
		seq, _ := q.num("seq")
		a, err := r.watch.waitLookup(seq, 10*time.Second)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if err := checkChain(q, a); err != nil || a.str("kind") != "answer" || a.str("comm") != q.str("comm") {
			bad = append(bad, fmt.Sprintf("lookup %d of %s: %v (%v)", seq, q.str("comm"), err, a))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("stub leg: %s", strings.Join(bad, "; "))
	}
	return nil
}

// unsolicitedCount is the unsolicited flood's responses.
const unsolicitedCount = 20000

// procSum adds up, over the lines of the /proc file path, the number pick
// finds among each line's fields; pick returns "" for a line that does
// not count.
func procSum(path string, pick func(f []string) string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, line := range strings.Split(string(b), "\n") {
		v := pick(strings.Fields(line))
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		sum += n
	}
	return sum, nil
}

// kernelMemKB is what the kernel holds for itself and its modules, from
// /proc/meminfo: slab, vmalloc and per-CPU areas, in KiB.
func kernelMemKB() (int64, error) {
	return procSum("/proc/meminfo", func(f []string) string {
		if len(f) >= 2 && (f[0] == "Slab:" || f[0] == "VmallocUsed:" || f[0] == "Percpu:") {
			return f[1]
		}
		return ""
	})
}

// moduleVmalloc is what the module holds in vmalloc areas (its ring and
// its tables), from /proc/vmallocinfo's lines whose caller is in it.
func moduleVmalloc() (int64, error) {
	// A line is ADDR-ADDR SIZE CALLER [MODULE] ...; older kernels print
	// hashed addresses with spaces in them ("0x        (ptrval)"), so the
	// size is found from the module's field back.
	sum, err := procSum("/proc/vmallocinfo", func(f []string) string {
		if i := slices.Index(f, "[dnsmon]"); i >= 2 {
			return f[i-2]
		}
		return ""
	})
	if err == nil && sum == 0 {
		err = errors.New("/proc/vmallocinfo names no area of dnsmon's: its ring should be one")
	}
	return sum, err
}

// floodFrom sends unsolicitedCount copies of msg from the UDP address from
// to the responder's unwatched port and returns how the kernel's memory
// moved, in KiB.
func (r *runner) floodFrom(from string, msg []byte) (int64, error) {
	mem0, err := kernelMemKB()
	if err != nil {
		return 0, err
	}
	rep, err := r.client("dq-unsolicited", 0, false, "-net", "udp4", "-addr", "127.0.0.1:5354",
		"-bind", from, "-raw", hex.EncodeToString(msg), "-count", strconv.Itoa(unsolicitedCount))
	if err != nil {
		return 0, err
	}
	if rep.Sent != unsolicitedCount {
		return 0, fmt.Errorf("client sent %d of %d", rep.Sent, unsolicitedCount)
	}
	time.Sleep(500 * time.Millisecond)
	mem1, err := kernelMemKB()
	return mem1 - mem0, err
}

// unsolicitedFlood sends responses no query asked for, from a DNS server's
// port to a local socket (the responder's unwatched port): each is counted
// as unpaired and none yields an event. The module allocates nothing per
// packet: its vmalloc areas stay as they were, and the kernel's memory
// grows no more than under the same flood from a port nobody watches (a
// sanitizer kernel holds freed packets in quarantine, so the growth is
// compared, not required to be nil; a leak of 64 bytes a response would
// show as 1.2 MiB).
func (r *runner) unsolicitedFlood() error {
	msg := answer(query(0x5e5e, "unsolicited"+answersZone, qtypes["A"]))
	control, err := r.floodFrom("127.0.0.2:5300", msg)
	if err != nil {
		return err
	}
	before, _, err := stats()
	if err != nil {
		return err
	}
	vm0, err := moduleVmalloc()
	if err != nil {
		return err
	}
	grown, err := r.floodFrom("127.0.0.2:53", msg)
	if err != nil {
		return err
	}
	vm1, err := moduleVmalloc()
	if err != nil {
		return err
	}
	after, out, err := stats()
	if err != nil {
		return err
	}
	unpaired := after["unpaired"] - before["unpaired"]
	detail := fmt.Sprintf("sent %d, unpaired +%d, events +%d, module vmalloc %d → %d bytes, kernel memory +%d KiB (+%d KiB from an unwatched port): %s",
		unsolicitedCount, unpaired, after["events"]-before["events"], vm0, vm1, grown, control, out)
	switch {
	case unpaired < unsolicitedCount*9/10 || unpaired > unsolicitedCount:
		return fmt.Errorf("unsolicited responses not counted as unpaired: %s", detail)
	case after["events"] != before["events"] || after["answers"] != before["answers"]:
		return fmt.Errorf("unsolicited responses made events: %s", detail)
	case vm1 != vm0:
		return fmt.Errorf("the module's vmalloc areas changed: %s", detail)
	case grown-control > 1024:
		return fmt.Errorf("kernel memory grew by %d KiB more than under the same flood from an unwatched port: %s", grown-control, detail)
	}
	fmt.Println("guestinit: unsolicited flood:", detail)
	return nil
}

// answerOtherNetns: a query whose server stays silent, and a response with
// its id, from its server's address and port to its socket's, delivered
// in another network namespace. The response must pair with nothing there
// (it is counted as unpaired) and the query must end unanswered.
func (r *runner) answerOtherNetns() error {
	const id = 0xb00b
	name := nameSilent + ".netns" + answersZone
	before, _, err := stats()
	if err != nil {
		return err
	}
	from := r.watch.count()
	if _, err := r.client("dq-answer", 0, false, "-net", "udp4", "-addr", "127.0.0.1:53",
		"-name", name, "-type", "A", "-id", strconv.Itoa(id), "-wait", "0"); err != nil {
		return err
	}
	_, q, err := r.watch.waitQname(from, name, 10*time.Second)
	if err != nil {
		return err
	}
	seq, _ := q.num("seq")
	forged := hex.EncodeToString(answer(query(id, name, qtypes["A"])))
	rep, err := r.client("dq-forger", 0, true, "-lo-up", "-net", "udp4", "-addr", q.str("local"),
		"-bind", "127.0.0.1:53", "-raw", forged, "-wait", "0")
	if err != nil {
		return err
	}
	if rep.Netns == r.initNetns {
		return fmt.Errorf("forger's netns %d is init's: CLONE_NEWNET did not take", rep.Netns)
	}
	a, err := r.watch.waitLookup(seq, (answerTimeout+8)*time.Second)
	if err != nil {
		return err
	}
	if a.str("kind") != "unanswered" {
		return fmt.Errorf("a response in netns %d ended lookup %d of netns %v: %v", rep.Netns, seq, q["netns"], a)
	}
	after, out, err := stats()
	if err != nil {
		return err
	}
	if after["unpaired"] <= before["unpaired"] {
		return fmt.Errorf("the response in netns %d was not counted as unpaired: %s", rep.Netns, out)
	}
	return nil
}

func (r *runner) answerCase(i int, c answerCase) error {
	before, _, err := stats()
	if err != nil {
		return err
	}
	id := 0xa000 + i
	wait := "2s"
	if c.unanswered {
		wait = "0"
	}
	from := r.watch.count()
	rep, err := r.client("dq-answer", 0, false, "-net", c.net, "-addr", net.JoinHostPort(c.host, "53"),
		"-name", c.name, "-type", c.qtype, "-id", strconv.Itoa(id), "-wait", wait)
	if err != nil {
		return err
	}
	_, q, err := r.watch.waitQname(from, c.name, 10*time.Second)
	if err != nil {
		return err
	}
	seq, ok := q.num("seq")
	if !ok {
		return fmt.Errorf("query event without seq: %v", q)
	}
	if l, ok := q.num("lookup"); !ok || l != seq {
		return fmt.Errorf("query event's lookup %v is not its seq %d", q["lookup"], seq)
	}
	a, err := r.watch.waitLookup(seq, (answerTimeout+8)*time.Second)
	if err != nil {
		return err
	}
	var bad []string
	if got, want := a.str("kind"), map[bool]string{false: "answer", true: "unanswered"}[c.unanswered]; got != want {
		bad = append(bad, fmt.Sprintf("kind %q, want %q (%v)", got, want, a))
	}
	// The query's process, server and socket, whichever way it ended.
	for _, k := range []string{"pid", "tid", "comm", "uid", "netns", "server", "port", "id", "local", "proto", "family"} {
		if a.str(k) != q.str(k) {
			bad = append(bad, fmt.Sprintf("%s %q, the query's %q", k, a.str(k), q.str(k)))
		}
	}
	if p, _ := a.num("pid"); p != int64(rep.Pid) {
		bad = append(bad, fmt.Sprintf("pid %d, the client's %d", p, rep.Pid))
	}
	if c.unanswered {
		if lat, _ := a.num("latency_us"); lat < answerTimeout*1e6 {
			bad = append(bad, fmt.Sprintf("unanswered after %d µs, before answer_timeout=%d s", lat, answerTimeout))
		}
	} else {
		if !sameName(a.str("qname"), c.name) {
			bad = append(bad, fmt.Sprintf("qname %q, want %q", a.str("qname"), c.name))
		}
		if !strings.EqualFold(a.str("qtype"), c.qtype) {
			bad = append(bad, fmt.Sprintf("qtype %q, want %q", a.str("qtype"), c.qtype))
		}
		if err := c.check(q, a); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if n := len(r.watch.lookupEvents(seq)); n != 1 {
		bad = append(bad, fmt.Sprintf("%d events end lookup %d, want 1", n, seq))
	}
	after, out, err := stats()
	if err != nil {
		return err
	}
	if c.unpaired && after["unpaired"] <= before["unpaired"] {
		bad = append(bad, fmt.Sprintf("unpaired stayed at %d: %s", after["unpaired"], out))
	}
	if len(bad) > 0 {
		return fmt.Errorf("lookup %d: %s", seq, strings.Join(bad, "; "))
	}
	return nil
}

// checkChain: the CNAME chain and both addresses, in order, with TTLs.
func checkChain(_, a event) error {
	if a.str("rcode") != "NOERROR" {
		return fmt.Errorf("rcode %q, want NOERROR", a.str("rcode"))
	}
	want := []struct {
		typ  string
		ttl  int64
		data string
	}{
		{"CNAME", 300, chainEdge},
		{"CNAME", 120, chainCDN},
		{"A", 30, chainA.String()},
		{"AAAA", 30, chainAAAA.String()},
	}
	got := answerList(a)
	if len(got) != len(want) {
		return fmt.Errorf("%d answer records, want %d: %v", len(got), len(want), a["answers"])
	}
	for i, w := range want {
		g := got[i]
		if g.str("type") != w.typ || !sameName(g.str("data"), w.data) {
			return fmt.Errorf("record %d is %s %s, want %s %s", i, g.str("type"), g.str("data"), w.typ, w.data)
		}
		if ttl, _ := g.num("ttl"); ttl != w.ttl {
			return fmt.Errorf("record %d TTL %d, want %d", i, ttl, w.ttl)
		}
	}
	if n, _ := a.num("ancount"); n != int64(len(want)) {
		return fmt.Errorf("ancount %d, want %d", n, len(want))
	}
	if !hasFlag(a, "ra") || hasFlag(a, "aa") || hasFlag(a, "tc") {
		return fmt.Errorf("flags %v, want ra and neither aa nor tc", a["flags"])
	}
	return nil
}

// checkTruncated: TC set, nothing in the answer section.
func checkTruncated(_, a event) error {
	if !hasFlag(a, "tc") || a.str("rcode") != "NOERROR" || len(answerList(a)) != 0 {
		return fmt.Errorf("flags %v rcode %s answers %v, want tc, NOERROR and none", a["flags"], a.str("rcode"), a["answers"])
	}
	return nil
}

// checkRetry: the TCP retry of the truncated answer gets the whole one.
func checkRetry(_, a event) error {
	got := answerList(a)
	if hasFlag(a, "tc") || len(got) != 1 || got[0].str("type") != "A" || got[0].str("data") != chainA.String() {
		return fmt.Errorf("flags %v answers %v, want A %s without tc", a["flags"], a["answers"], chainA)
	}
	return nil
}

// checkSlow: the latency of an answer held back slowDelay. The upper bound
// is loose: the guest runs under emulation.
func checkSlow(_, a event) error {
	lat, ok := a.num("latency_us")
	if !ok || lat < slowDelay.Microseconds() || lat > (2*time.Second).Microseconds() {
		return fmt.Errorf("latency_us %v, want %d µs to 2 s", a["latency_us"], slowDelay.Microseconds())
	}
	return nil
}

func answerList(a event) []event {
	list, _ := a["answers"].([]any)
	out := make([]event, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, event(m))
		}
	}
	return out
}

func hasFlag(a event, f string) bool {
	list, _ := a["flags"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok && s == f {
			return true
		}
	}
	return false
}
