package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/fetcher/internal/hostopt"
	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/kmod/event"
)

// DefaultDevice is where the module's misc device appears.
const DefaultDevice = "/dev/dnsmon"

// Option configures Watch and PrintStats.
type Option func(*options) error

type options struct {
	device  string
	json    bool
	lookups bool
	count   int
	timeout time.Duration
	hostopt.RootFS
	loc  *time.Location
	open func(path string) (Device, error)
}

// WithDevice reads from path. Default: DefaultDevice (/dev/dnsmon).
func WithDevice(path string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.device, path, "WithDevice", "path") }
}

// WithJSON prints one JSON object per line instead of readable lines.
// Default: readable lines.
func WithJSON(on bool) Option {
	return func(o *options) error { o.json = on; return nil }
}

// WithLookups prints one line (or JSON object) per lookup, when its answer
// or unanswered event comes, instead of one per event; a truncated UDP
// answer and the TCP retry of its question are one lookup. The module must
// report answers: Watch returns a *NoAnswersError when it reports queries
// only. Default: one line per event.
func WithLookups(on bool) Option {
	return func(o *options) error { o.lookups = on; return nil }
}

// WithCount stops after n query events; the answers and unanswered events
// that come between them are printed but not counted. With WithLookups it
// stops after n lookups. Default: 0, no limit.
func WithCount(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("WithCount: negative count %d", n)
		}
		o.count = n
		return nil
	}
}

// WithTimeout stops after d. Default: 0, no limit.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout: negative duration %v", d)
		}
		o.timeout = d
		return nil
	}
}

// WithFS reads /proc, /sys and /etc/passwd from fsys, a view of the root
// directory. Default: os.DirFS("/").
func WithFS(fsys fs.FS) Option {
	return func(o *options) error { return o.SetFS(fsys) }
}

// WithLocation prints readable times in loc. Default: time.Local. JSON
// times are always UTC.
func WithLocation(loc *time.Location) Option {
	return func(o *options) error {
		if loc == nil {
			return errors.New("WithLocation: nil location")
		}
		o.loc = loc
		return nil
	}
}

// WithOpen opens the device with open. Default: OpenDevice.
func WithOpen(open func(path string) (Device, error)) Option {
	return func(o *options) error {
		if open == nil {
			return errors.New("WithOpen: nil function")
		}
		o.open = open
		return nil
	}
}

func makeOptions(opts []Option) (*options, error) {
	return hostopt.Apply(&options{device: DefaultDevice, RootFS: hostopt.RootFS{FS: os.DirFS("/")}, loc: time.Local, open: OpenDevice}, opts)
}

// Sentinels the open errors wrap.
var (
	// ErrNoDevice means the device node is missing.
	ErrNoDevice = errors.New("no dnsmon device")
	// ErrDeviceAccess means the device could not be opened for reading.
	ErrDeviceAccess = errors.New("cannot open the dnsmon device")
)

// DeviceError is a failure to open the device: what was tried and what the
// host says about the module, for the caller to say what to do.
type DeviceError struct {
	Kind   error  // ErrNoDevice or ErrDeviceAccess
	Device string // the device path
	// ModuleLoaded reports whether /sys/module shows the dnsmon module.
	ModuleLoaded bool
	Reason       string // what happened
	Err          error  // the open's error
}

func (e *DeviceError) Error() string { return e.Kind.Error() + ": " + e.Reason }

// Unwrap returns the kind and the open's error, for errors.Is and
// errors.As.
func (e *DeviceError) Unwrap() []error { return []error{e.Kind, e.Err} }

// ErrNoAnswers is matched by every *NoAnswersError.
var ErrNoAnswers = errors.New("the dnsmon module reports no answers")

// NoAnswersError says the module reports no answers, which WithLookups
// needs: its records are of a version before answers, or it was loaded
// with its responses parameter off.
type NoAnswersError struct {
	// Version is the record version of a module that reports queries
	// only; 0 when it is the parameter that is off.
	Version uint16
}

func (e *NoAnswersError) Error() string {
	if e.Version != 0 {
		return fmt.Sprintf("the loaded %s module reports queries only (record version %d)", kmod.Name, e.Version)
	}
	return fmt.Sprintf("the %s module reports no answers: its responses parameter is off (/%s)", kmod.Name, responsesParam)
}

// Is makes errors.Is(err, ErrNoAnswers) true.
func (e *NoAnswersError) Is(target error) bool { return target == ErrNoAnswers }

// openDevice opens the device, turning failures into a *DeviceError that
// says why.
func openDevice(o *options) (Device, error) {
	dev, err := o.open(o.device)
	if err == nil {
		return dev, nil
	}
	sys := system{o.FS}
	loaded := sys.moduleLoaded()
	fail := func(kind error, format string, args ...any) error {
		return &DeviceError{Kind: kind, Device: o.device, ModuleLoaded: loaded, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !loaded {
			return nil, fail(ErrNoDevice, "%s does not exist because the %s module is not loaded (no /sys/module/%s)",
				o.device, kmod.Name, kmod.Name)
		}
		how := "create it with mknod " + o.device + " c 10 MINOR, MINOR being dnsmon's number in /proc/misc"
		if minor, ok := sys.miscMinor(kmod.Name); ok {
			how = fmt.Sprintf("create it with mknod %s c 10 %d (dnsmon's minor in /proc/misc)", o.device, minor)
		}
		return nil, fail(ErrNoDevice, "%s does not exist although the %s module is loaded (no devtmpfs or udev made the node): %s",
			o.device, kmod.Name, how)
	case errors.Is(err, fs.ErrPermission):
		return nil, fail(ErrDeviceAccess, "permission denied opening %s", o.device)
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return nil, fail(ErrNoDevice, "%s exists but no driver answers (the %s module is not loaded)", o.device, kmod.Name)
	}
	return nil, fmt.Errorf("%w: %w", ErrDeviceAccess, err)
}

// Notice is what Watch reports beside the events: a *Drop or a
// *DeviceGone. The command makes sentences of them.
type Notice interface{ notice() }

// Drop reports lost events. In JSON mode it is also written to stdout, as
// a line of its own.
type Drop struct {
	Dropped  uint64 `json:"dropped"`
	Source   string `json:"source"`              // "seq": a gap in sequence numbers; "stats": the module's counter
	AfterSeq uint64 `json:"after_seq,omitempty"` // seq: the last event seen before the gap
	NextSeq  uint64 `json:"next_seq,omitempty"`  // seq: the first event after it
	RingSize uint64 `json:"ring_size,omitempty"` // stats: the ring's capacity
}

// DeviceGone reports that the device ended the stream: the module was
// unloaded. Watch then returns nil.
type DeviceGone struct {
	Device string // the device path
	Module string // the module's name
}

func (*Drop) notice()       {}
func (*DeviceGone) notice() {}

// Watch prints the module's events to stdout until ctx is done, the device
// goes away, or the count or timeout set by the options is reached; each of
// these is a clean end (nil). Lost events and the end of the device are
// given to notify (nil: to no one), and in JSON mode lost events are also
// {"dropped":N,...} lines on stdout. With WithLookups, the lookups still
// waiting for a retry are printed before it returns.
//
// A stub resolver's upstream query, and its answer or unanswered event,
// name the application it was made for (Event.Via) when the watcher can
// tell: see stubJoin for the rule.
func Watch(ctx context.Context, stdout io.Writer, notify func(Notice), opts ...Option) error {
	o, err := makeOptions(opts)
	if err != nil {
		return err
	}
	if o.lookups && (system{o.FS}).responsesOff() {
		return &NoAnswersError{}
	}
	dev, err := openDevice(o)
	if err != nil {
		return err
	}
	defer dev.Close()
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}

	if notify == nil {
		notify = func(Notice) {}
	}
	w := &watcher{o: o, stdout: stdout, notify: notify, enrich: newEnricher(o.FS), queries: newLookupMemory(), stubs: &stubJoin{}}
	if o.lookups {
		w.retries = &retryJoin{}
	}
	before, statsErr := dev.Stats()
	r := event.NewReader(deviceReader{ctx: ctx, dev: dev}, event.DefaultBatch)
	var readErr error
	for !w.done() {
		e, err := r.Next()
		if err != nil {
			readErr = err
			break
		}
		if o.lookups && r.Version() < event.Version {
			// The device gives records of its module's one version: the
			// first says it all.
			return &NoAnswersError{Version: r.Version()}
		}
		if err := w.handle(e); err != nil {
			return err
		}
	}
	if w.retries != nil {
		if err := w.printLookups(w.retries.flush()); err != nil {
			return err
		}
	}
	switch {
	case readErr == nil, ctx.Err() != nil && errors.Is(readErr, ctx.Err()):
	case errors.Is(readErr, io.EOF):
		notify(&DeviceGone{Device: o.device, Module: kmod.Name})
	default:
		return fmt.Errorf("reading %s: %w", o.device, readErr)
	}
	if statsErr == nil {
		if after, err := dev.Stats(); err == nil && after.Dropped > before.Dropped {
			if lost := after.Dropped - before.Dropped; lost > w.gapDrops {
				w.report(&Drop{Dropped: lost - w.gapDrops, Source: "stats", RingSize: after.RingSize})
			}
		}
	}
	return w.err
}

type watcher struct {
	o        *options
	stdout   io.Writer
	notify   func(Notice)
	enrich   *enricher
	queries  *lookupMemory // the queries whose lookup has not ended
	stubs    *stubJoin
	retries  *retryJoin // WithLookups only
	counted  int        // query events handled, or lookups printed with WithLookups, for WithCount
	lastSeq  uint64
	gapDrops uint64
	err      error // first write error
}

// done reports whether the count is reached.
func (w *watcher) done() bool { return w.o.count != 0 && w.counted >= w.o.count }

func (w *watcher) handle(e event.Event) error {
	if w.lastSeq != 0 && e.Seq > w.lastSeq+1 {
		n := e.Seq - w.lastSeq - 1
		w.gapDrops += n
		w.report(&Drop{Dropped: n, Source: "seq", AfterSeq: w.lastSeq, NextSeq: e.Seq})
	}
	w.lastSeq = e.Seq
	w.enrich.fill(&e)
	q := w.follow(&e)
	if w.retries != nil {
		return w.handleLookup(e, q)
	}
	if e.Kind == event.KindQuery {
		w.counted++
	}
	var line []byte
	if w.o.json {
		// JSON readers pair an unanswered event with its query by
		// lookup; the readable line names the query itself.
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding event %d: %w", e.Seq, err)
		}
		line = append(b, '\n')
	} else {
		line = []byte(formatText(e, w.o.loc, q.name) + "\n")
	}
	if _, err := w.stdout.Write(line); err != nil {
		return fmt.Errorf("writing event: %w", err)
	}
	return nil
}

// follow keeps a query until its lookup ends, after joining it to the
// application a stub asked for; for the answer or unanswered event that
// ends a lookup it returns what it kept of the query (zero when it did not
// see it or has forgotten it) and gives the event the query's Via.
func (w *watcher) follow(e *event.Event) queryInfo {
	if e.Kind == event.KindQuery {
		e.Via = w.stubs.query(e)
		q := queryInfo{time: e.Time, via: e.Via}
		if !e.Malformed() {
			q.name = e.QName
		}
		w.queries.add(e.Lookup, q)
		return queryInfo{}
	}
	w.stubs.answered(e.Lookup)
	q := w.queries.take(e.Lookup)
	e.Via = q.via
	return q
}

// handleLookup passes e to the retry join and prints the lookups that
// ended: those whose retry did not come in time, then e's own.
func (w *watcher) handleLookup(e event.Event, q queryInfo) error {
	ends := w.retries.expire(e.Time)
	if e.Kind == event.KindQuery {
		w.retries.query(&e)
	} else {
		if e.QName == "" {
			e.QName = q.name // an unanswered event has none of its own
		}
		ends = append(ends, w.retries.end(e, q.time)...)
	}
	return w.printLookups(ends)
}

// printLookups prints finished lookups while the count is not reached.
func (w *watcher) printLookups(ends []lookupEnd) error {
	for _, l := range ends {
		if w.done() {
			return nil
		}
		var line []byte
		if w.o.json {
			b, err := lookupJSON(l)
			if err != nil {
				return fmt.Errorf("encoding lookup %d: %w", l.first().Lookup, err)
			}
			line = append(b, '\n')
		} else {
			line = []byte(formatLookup(l, w.o.loc) + "\n")
		}
		if _, err := w.stdout.Write(line); err != nil {
			return fmt.Errorf("writing lookup: %w", err)
		}
		w.counted++
	}
	return nil
}

// report tells notify about lost events, and stdout in JSON mode.
func (w *watcher) report(d *Drop) {
	w.notify(d)
	if w.o.json {
		b, _ := json.Marshal(d)
		if _, err := w.stdout.Write(append(b, '\n')); err != nil && w.err == nil {
			w.err = fmt.Errorf("writing drop report: %w", err)
		}
	}
}

// PrintStats prints the module's counters (DNSMON_IOC_STATS) as one JSON
// object: {"events":N,"dropped":N,"ring_size":N,"queued":N,"responses":N,
// "other_opcodes":N,"no_question":N,"tcp_unparsed":N,"malformed":N,
// "answers":N,"unpaired":N,"unanswered":N,"evicted":N}; a second-version
// module has those up to malformed, a first-version module the first four.
func PrintStats(ctx context.Context, stdout io.Writer, opts ...Option) error {
	o, err := makeOptions(opts)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dev, err := openDevice(o)
	if err != nil {
		return err
	}
	defer dev.Close()
	s, err := dev.Stats()
	if err != nil {
		return fmt.Errorf("%w (is %s the dnsmon device?)", err, o.device)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// formatText is the readable line of an event:
//
//	TIME lookup=N pid=PID comm=COMM user=USER netns=N [container=ID] PROTO SERVER:PORT QTYPE NAME
//
// with, after SERVER:PORT, for a malformed message
//
//	MALFORMED(REASON) id=ID BYTES
//
// for an answer
//
//	answer QTYPE NAME RCODE [FLAGS] LATENCY RECORD, RECORD [+cut] [MALFORMED(REASON)]
//
// and for an unanswered query
//
//	unanswered QTYPE NAME id=ID after LATENCY
//
// whose NAME is queryName, the name of the lookup's query, or ? when the
// watcher did not see that query. A class other than IN follows NAME. The
// line of a stub's upstream query, and of its answer or unanswered event,
// ends with the application it was made for (viaText).
func formatText(e event.Event, loc *time.Location, queryName string) string {
	var b strings.Builder
	b.WriteString(e.Time.In(loc).Format(timeLayout))
	fmt.Fprintf(&b, " lookup=%d", e.Lookup)
	writeProcess(&b, &e)
	fmt.Fprintf(&b, " %s %s", e.Proto, serverString(e))
	switch {
	case e.Kind == event.KindAnswer:
		writeAnswer(&b, e)
	case e.Kind == event.KindUnanswered:
		fmt.Fprintf(&b, " unanswered %s %s id=%d after %s", e.QType, nameAndClass(queryName, e.QClass), e.ID, formatLatency(e.Latency))
	case e.Malformed():
		fmt.Fprintf(&b, " MALFORMED(%s) id=%d %s", e.Reason, e.ID, sanitize(e.QName))
	default:
		fmt.Fprintf(&b, " %s %s", e.QType, nameAndClass(e.QName, e.QClass))
	}
	b.WriteString(viaText(e.Via))
	return b.String()
}

// timeLayout is the time readable lines start with.
const timeLayout = "2006-01-02 15:04:05.000000"

// writeProcess writes the process and namespace of a line:
// " pid=PID comm=COMM user=USER netns=N [container=ID]".
func writeProcess(b *strings.Builder, e *event.Event) {
	if e.ProcUnknown() {
		b.WriteString(" pid=? comm=? user=?")
	} else {
		fmt.Fprintf(b, " pid=%d comm=%s user=", e.PID, quoteIfNeeded(e.Comm))
		if e.User != "" {
			b.WriteString(quoteIfNeeded(e.User))
		} else {
			fmt.Fprintf(b, "%d", e.UID)
		}
	}
	fmt.Fprintf(b, " netns=%d", e.NetNS)
	if e.Container != "" {
		id := e.Container
		if len(id) > 12 {
			id = id[:12]
		}
		b.WriteString(" container=" + id)
	}
}

// viaText is what a line of a stub's upstream query ends with: " via
// COMM[PID] lookup=N", the application and its query to the stub, or
// " via ? (N askers)" when N processes had asked; "" without a Via.
func viaText(via *event.Asker) string {
	switch {
	case via == nil:
		return ""
	case via.Ambiguous():
		return fmt.Sprintf(" via ? (%d askers)", via.Candidates)
	}
	return fmt.Sprintf(" via %s[%d] lookup=%d", quoteIfNeeded(via.Comm), via.PID, via.Lookup)
}

// writeAnswer writes the part of an answer's line after the server.
func writeAnswer(b *strings.Builder, e event.Event) {
	fmt.Fprintf(b, " answer %s %s %s", e.QType, nameAndClass(e.QName, e.QClass), e.Rcode())
	if flags := e.DNSFlagNames(); len(flags) > 0 {
		b.WriteString(" [" + strings.Join(flags, " ") + "]")
	}
	b.WriteString(" " + formatLatency(e.Latency))
	for i, a := range e.Answers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, " %s ", a.Type)
		switch {
		case a.Addr.IsValid():
			b.WriteString(a.Addr.String())
		case a.Name != "":
			b.WriteString(sanitize(a.Name))
		default:
			// Data the event does not carry: another type, an address
			// of the wrong length, a name that did not fit.
			fmt.Fprintf(b, "len=%d", a.RDLength)
		}
		fmt.Fprintf(b, " ttl=%d", a.TTL)
	}
	if e.Cut != 0 {
		b.WriteString(" +cut")
	}
	if e.Malformed() {
		fmt.Fprintf(b, " MALFORMED(%s)", e.Reason)
	}
}

// nameAndClass is a name, sanitized, or ? when there is none, followed by
// its class when that is not IN (or unknown: 0 in a response whose question
// did not parse).
func nameAndClass(name string, class event.QClass) string {
	s := "?"
	if name != "" {
		s = sanitize(name)
	}
	if class != event.ClassIN && class != 0 {
		s += " " + class.String()
	}
	return s
}

// formatLatency writes d with three significant digits, as 850µs, 12.3ms
// or 5.00s; d is in whole microseconds.
func formatLatency(d time.Duration) string {
	us := d.Microseconds()
	if us < 1000 {
		return strconv.FormatInt(us, 10) + "µs"
	}
	// The first of 1.23ms, 12.3ms, 123ms, 1.23s, 12.3s and 123s whose
	// value, rounded half up, still has three digits.
	for _, unit := range []struct {
		us   int64 // microseconds per unit
		name string
	}{{1000, "ms"}, {1000000, "s"}} {
		for decimals, scale := 2, unit.us/100; decimals >= 0; decimals, scale = decimals-1, scale*10 {
			if n := (us + scale/2) / scale; n < 1000 {
				return strconv.FormatFloat(float64(n)/math.Pow10(decimals), 'f', decimals, 64) + unit.name
			}
		}
	}
	return strconv.FormatInt((us+500000)/1000000, 10) + "s"
}

// maxLookupQueries bounds the queries kept until their lookup ends: a
// lookup that ends after more queries than that is printed without its
// query's name, time and Via.
const maxLookupQueries = 4096

// queryInfo is what the watcher keeps of a query until its lookup ends:
// an unanswered event carries no name of its own, no event but the query
// says when the lookup started, and the Via of a stub's upstream query is
// the watcher's, not the module's.
type queryInfo struct {
	name string // "" for a malformed query
	time time.Time
	via  *event.Asker
}

// lookupMemory keeps recent queries by lookup, forgetting the oldest past
// maxLookupQueries.
type lookupMemory struct {
	queries map[uint64]queryInfo
	order   []uint64 // a ring of the lookups added, next the oldest
	next    int
}

func newLookupMemory() *lookupMemory {
	return &lookupMemory{queries: map[uint64]queryInfo{}, order: make([]uint64, maxLookupQueries)}
}

func (l *lookupMemory) add(lookup uint64, q queryInfo) {
	// The slot's lookup may be gone already, taken by its answer.
	delete(l.queries, l.order[l.next])
	l.order[l.next] = lookup
	l.next = (l.next + 1) % len(l.order)
	l.queries[lookup] = q
}

// take returns and forgets the query of lookup; the zero queryInfo when it
// is not known.
func (l *lookupMemory) take(lookup uint64) queryInfo {
	q := l.queries[lookup]
	delete(l.queries, lookup)
	return q
}
