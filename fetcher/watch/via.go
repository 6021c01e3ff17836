package watch

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/kmod/event"
)

// stubWindow is how long after an application's query to a stub resolver
// the stub's upstream query may leave and still be joined to it. A stub
// that asks upstream does so as soon as it has read the query; one that
// answers from its cache asks nothing.
const stubWindow = 2 * time.Second

// maxStubQueries bounds the loopback queries the join keeps while they
// await their answer; past it the oldest is forgotten.
const maxStubQueries = 1024

// stubQuery is a query to a loopback server, awaiting its answer: it may
// be what a stub's upstream query is made for.
type stubQuery struct {
	lookup uint64
	pid    uint32 // the sender
	netns  uint32
	qtype  event.QType
	name   string // folded (foldName)
	server netip.AddrPort
	time   time.Time
	// asker is the application it stands for: its sender, or, when it is
	// itself a stub's query joined to an application (dnsmasq asking
	// systemd-resolved for curl), that application.
	asker event.Asker
}

// stubJoin names the application a stub resolver's upstream query was made
// for. The module reports the application's query to the stub and the
// stub's query upstream, each with its own sender; the stub's query
// carries nothing of the first, so they are joined by what they ask and
// when. An upstream query U is joined to an application's query A when:
//
//   - A went to a loopback server (127.0.0.0/8, ::1), the stub;
//   - U and A were sent by different processes, both known;
//   - U did not go to A's server and port: a stub does not ask itself, and
//     two applications asking one stub the same question are not a stub
//     and its application;
//   - they are in the same network namespace and ask the same qtype and
//     the same name, compared case-insensitively (names are, and some
//     resolvers randomize the case of the names they send upstream);
//   - U left within stubWindow (2 s) after A: A's time <= U's time <=
//     A's time plus the window;
//   - A's answer or unanswered event has not come yet.
//
// When the A that remain are of one process, U gets that process and the
// lookup of its latest such query. When they are of two or more, any of
// them may be the one the stub asked for, and the join does not guess: U
// gets an ambiguous Asker with the number of processes. A query that went
// to a loopback server and was joined itself stands for its application,
// so behind a chain of stubs (dnsmasq asking systemd-resolved) the last
// upstream query names the application too, and a query of that
// application is not joined to it. The rule cannot tell a second
// application asking another loopback server the same question from a
// stub asking another stub: that application's query is joined to the
// first.
type stubJoin struct {
	pending []stubQuery // oldest first
}

// query returns the application e, a query, was made for, or nil; then,
// when e went to a loopback server, it keeps e for the upstream queries
// to come.
func (j *stubJoin) query(e *event.Event) *event.Asker {
	if e.Malformed() || e.ProcUnknown() || e.QName == "" {
		// No name to match, or no process to tell the stub from the
		// application.
		return nil
	}
	j.forgetBefore(e.Time.Add(-stubWindow))
	q := stubQuery{
		lookup: e.Lookup, pid: e.PID, netns: e.NetNS, qtype: e.QType, name: foldName(e.QName),
		server: netip.AddrPortFrom(e.Server, e.Port), time: e.Time,
		asker: event.Asker{PID: e.PID, Comm: e.Comm, Lookup: e.Lookup, Candidates: 1},
	}
	via := j.match(q)
	if e.Server.IsLoopback() {
		if via != nil && !via.Ambiguous() {
			q.asker = *via
		}
		if len(j.pending) == maxStubQueries {
			j.pending = slices.Delete(j.pending, 0, 1)
		}
		j.pending = append(j.pending, q)
	}
	return via
}

// match returns the Asker of upstream query u.
func (j *stubJoin) match(u stubQuery) *event.Asker {
	var latest *stubQuery
	var pids []uint32 // the candidates' applications
	for i := range j.pending {
		a := &j.pending[i]
		switch {
		case a.pid == u.pid, a.asker.PID == u.pid, a.server == u.server,
			a.netns != u.netns, a.qtype != u.qtype, a.name != u.name,
			u.time.Before(a.time), u.time.After(a.time.Add(stubWindow)):
			continue
		}
		if !slices.Contains(pids, a.asker.PID) {
			pids = append(pids, a.asker.PID)
		}
		latest = a // pending is in the order the queries came
	}
	switch len(pids) {
	case 0:
		return nil
	case 1:
		via := latest.asker
		return &via
	}
	return &event.Asker{Candidates: len(pids)}
}

// answered forgets the query of lookup: its stub has answered it, and a
// query the stub makes from now on is not for it.
func (j *stubJoin) answered(lookup uint64) {
	j.pending = slices.DeleteFunc(j.pending, func(q stubQuery) bool { return q.lookup == lookup })
}

// forgetBefore forgets the queries that left before t: too early for any
// upstream query from now on.
func (j *stubJoin) forgetBefore(t time.Time) {
	n := 0
	for n < len(j.pending) && j.pending[n].time.Before(t) {
		n++
	}
	j.pending = slices.Delete(j.pending, 0, n)
}

// foldName lower-cases a name in presentation form: DNS compares names
// case-insensitively. The module writes every byte outside 0x21..0x7e as
// \DDD, so the name is ASCII and strings.ToLower folds exactly its letters.
func foldName(name string) string { return strings.ToLower(name) }
