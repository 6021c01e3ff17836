package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/kmod/event"
)

// retryWindow is how long after a truncated UDP answer the TCP query that
// retries its question may leave and still be printed with it, as one
// lookup. Resolvers retry at once; a TCP query for the same name much
// later is a lookup of its own.
const retryWindow = 5 * time.Second

// maxWaiting bounds the truncated answers held for their retry, with the
// retries awaiting their own answer; past it the oldest is printed alone.
// The module reports no event for a query pushed out of its table, so a
// retry's answer may never come.
const maxWaiting = 1024

// lookupEnd is a finished lookup, as WithLookups prints it.
type lookupEnd struct {
	// end is the answer or unanswered event that ended the lookup: the
	// TCP retry's when there was one. An unanswered event has its
	// query's name when the watcher saw the query.
	end event.Event
	// start is when the lookup's first query left; zero when the watcher
	// did not see it.
	start time.Time
	// truncated is the truncated UDP answer the TCP retry followed; nil
	// when there was no retry.
	truncated *event.Event
}

// first is the lookup's first answer: the truncated one when there was a
// retry. Its process, server and lookup are the lookup's.
func (l *lookupEnd) first() *event.Event {
	if l.truncated != nil {
		return l.truncated
	}
	return &l.end
}

// time is when the lookup started, or, when its query was not seen, when
// its first answer came.
func (l *lookupEnd) time() time.Time {
	if !l.start.IsZero() {
		return l.start
	}
	return l.first().Time
}

// latency is the time from the first query to the end: for a retry, the
// truncated answer's latency and the time from it to the retry's end.
func (l *lookupEnd) latency() time.Duration {
	if l.truncated == nil {
		return l.end.Latency
	}
	return l.end.Time.Sub(l.truncated.Time) + l.truncated.Latency
}

// via is the application the lookup was made for, when it is a stub's.
func (l *lookupEnd) via() *event.Asker {
	if l.end.Via == nil && l.truncated != nil {
		return l.truncated.Via
	}
	return l.end.Via
}

// proto is "udp+tcp" for a retry and the transport otherwise.
func (l *lookupEnd) proto() string {
	if l.truncated != nil {
		return l.truncated.Proto.String() + "+" + l.end.Proto.String()
	}
	return l.end.Proto.String()
}

// waitingAnswer is a truncated UDP answer held for the TCP query that
// retries its question, then for that query's answer.
type waitingAnswer struct {
	answer event.Event
	start  time.Time // as lookupEnd's
	retry  uint64    // the TCP retry's lookup; 0 while none came
}

// retryJoin makes a truncated UDP answer and the TCP retry of its question
// one lookup. A TCP query retries a truncated answer when it is from the
// same process and network namespace, to the same server address, with
// the same qtype and name (case-insensitively), and leaves within
// retryWindow after the answer; of several such answers, the latest.
// Until then the answer is held, and printed alone once an event later
// than the window comes, or the watcher ends.
type retryJoin struct {
	waiting []waitingAnswer // in the order the answers came
}

// expire returns the held answers whose retry did not come by now.
func (j *retryJoin) expire(now time.Time) []lookupEnd {
	var ends []lookupEnd
	j.waiting = slices.DeleteFunc(j.waiting, func(w waitingAnswer) bool {
		if w.retry != 0 || !now.After(w.answer.Time.Add(retryWindow)) {
			return false
		}
		ends = append(ends, lookupEnd{end: w.answer, start: w.start})
		return true
	})
	return ends
}

// query takes a query event: a TCP query that retries a held answer is
// joined to it.
func (j *retryJoin) query(q *event.Event) {
	if q.Proto != event.ProtoTCP || q.Malformed() || q.ProcUnknown() {
		return
	}
	name := foldName(q.QName)
	for i := len(j.waiting) - 1; i >= 0; i-- {
		w := &j.waiting[i]
		a := &w.answer
		if w.retry == 0 && a.PID == q.PID && a.NetNS == q.NetNS && a.Server == q.Server &&
			a.QType == q.QType && foldName(a.QName) == name &&
			!q.Time.Before(a.Time) && !q.Time.After(a.Time.Add(retryWindow)) {
			w.retry = q.Lookup
			return
		}
	}
}

// end takes an answer or unanswered event and returns the lookups it
// ends: none when it is a truncated UDP answer, now held; the joined
// lookup when it ends a retry; itself otherwise. Holding an answer past
// maxWaiting ends the oldest held.
func (j *retryJoin) end(e event.Event, start time.Time) []lookupEnd {
	if i := slices.IndexFunc(j.waiting, func(w waitingAnswer) bool { return w.retry == e.Lookup }); i >= 0 {
		w := j.waiting[i]
		j.waiting = slices.Delete(j.waiting, i, i+1)
		return []lookupEnd{{end: e, start: w.start, truncated: &w.answer}}
	}
	if e.Kind != event.KindAnswer || e.Proto != event.ProtoUDP || e.DNSFlags&event.DNSFlagTC == 0 || e.ProcUnknown() {
		return []lookupEnd{{end: e, start: start}}
	}
	var ends []lookupEnd
	if len(j.waiting) == maxWaiting {
		ends = append(ends, j.waiting[0].alone())
		j.waiting = slices.Delete(j.waiting, 0, 1)
	}
	j.waiting = append(j.waiting, waitingAnswer{answer: e, start: start})
	return ends
}

// flush returns every held answer, alone, and forgets them: the watcher is
// ending.
func (j *retryJoin) flush() []lookupEnd {
	ends := make([]lookupEnd, 0, len(j.waiting))
	for _, w := range j.waiting {
		ends = append(ends, w.alone())
	}
	j.waiting = nil
	return ends
}

// alone is the lookup of a truncated answer printed without its retry.
func (w waitingAnswer) alone() lookupEnd { return lookupEnd{end: w.answer, start: w.start} }

// formatLookup is the readable line of a lookup:
//
//	TIME lookup=N pid=PID comm=COMM user=USER netns=N [container=ID] PROTO SERVER:PORT QTYPE NAME → RCODE [tc] ADDRS (CNAME TARGET, TARGET) [+cut] [MALFORMED(REASON)] LATENCY [via COMM[PID] lookup=N]
//
// or, when no answer came,
//
//	... QTYPE NAME → no answer after LATENCY [via ...]
//
// TIME is when its query left, or its answer came when the query was not
// seen; lookup=N, the process and the server are those of its first
// query; PROTO is udp+tcp for a truncated UDP answer and its TCP retry,
// whose answer gives the rest. ADDRS are the A and AAAA addresses in
// order, - when there are none; the CNAME targets follow in parentheses
// when there are some. [tc] says the answer printed was truncated.
func formatLookup(l lookupEnd, loc *time.Location) string {
	f, e := l.first(), &l.end
	var b strings.Builder
	b.WriteString(l.time().In(loc).Format(timeLayout))
	fmt.Fprintf(&b, " lookup=%d", f.Lookup)
	writeProcess(&b, f)
	fmt.Fprintf(&b, " %s %s %s %s → ", l.proto(), serverString(*f), e.QType, nameAndClass(e.QName, e.QClass))
	if e.Kind == event.KindUnanswered {
		b.WriteString("no answer after " + formatLatency(l.latency()))
	} else {
		b.WriteString(e.Rcode().String())
		if e.DNSFlags&event.DNSFlagTC != 0 {
			b.WriteString(" [tc]")
		}
		writeRecords(&b, e.Answers)
		if e.Cut != 0 {
			b.WriteString(" +cut")
		}
		if e.Malformed() {
			fmt.Fprintf(&b, " MALFORMED(%s)", e.Reason)
		}
		b.WriteString(" " + formatLatency(l.latency()))
	}
	b.WriteString(viaText(l.via()))
	return b.String()
}

// writeRecords writes the addresses of a lookup's answer, - when it has
// none, then its CNAME targets in parentheses.
func writeRecords(b *strings.Builder, answers []event.Answer) {
	var addrs, targets []string
	for _, a := range answers {
		switch {
		case a.Addr.IsValid():
			addrs = append(addrs, a.Addr.String())
		case a.Type == event.TypeCNAME && a.Name != "":
			targets = append(targets, sanitize(a.Name))
		}
	}
	if len(addrs) == 0 {
		addrs = []string{"-"}
	}
	b.WriteString(" " + strings.Join(addrs, " "))
	if len(targets) > 0 {
		b.WriteString(" (CNAME " + strings.Join(targets, ", ") + ")")
	}
}

// lookupJSON is the JSON object of a lookup: the JSON of the event that
// ended it (Event.MarshalJSON), an unanswered one with its query's qname,
// plus query_time, when the watcher saw the query. For a truncated UDP
// answer and its TCP retry, the event is the retry's answer (or
// unanswered event), with lookup, proto and latency_us those of the whole
// lookup (the UDP query's, "udp+tcp", from the UDP query to the end) and
// retry_lookup the TCP query's lookup.
func lookupJSON(l lookupEnd) ([]byte, error) {
	e := l.end
	e.Lookup, e.Latency, e.Via = l.first().Lookup, l.latency(), l.via()
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var set []jsonField
	if l.truncated != nil {
		set = append(set, jsonField{"proto", l.proto()})
	}
	if !l.start.IsZero() {
		set = append(set, jsonField{"query_time", l.start.UTC()})
	}
	if l.truncated != nil {
		set = append(set, jsonField{"retry_lookup", l.end.Lookup})
	}
	return setFields(b, set)
}

// jsonField is a member of a JSON object.
type jsonField struct {
	key   string
	value any
}

// setFields returns the JSON object obj with the members of set: a key
// obj has keeps its place and takes the new value, the others are
// appended in set's order. (Event.MarshalJSON's fields cannot be
// extended by embedding: its method would be promoted and the new
// fields lost.)
func setFields(obj []byte, set []jsonField) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	out := []byte{'{'}
	put := func(key string, value any) error {
		v, err := json.Marshal(value)
		if err != nil {
			return err
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		k, _ := json.Marshal(key)
		out = append(append(append(out, k...), ':'), v...)
		return nil
	}
	done := make([]bool, len(set))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var value any
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		value = raw
		if i := slices.IndexFunc(set, func(f jsonField) bool { return f.key == key }); i >= 0 {
			value, done[i] = set[i].value, true
		}
		if err := put(key, value); err != nil {
			return nil, err
		}
	}
	for i, f := range set {
		if !done[i] {
			if err := put(f.key, f.value); err != nil {
				return nil, err
			}
		}
	}
	return append(out, '}'), nil
}
