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

// WithCount stops after n query events; the answers and unanswered events
// that come between them are printed but not counted. Default: 0, no
// limit.
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
// {"dropped":N,...} lines on stdout.
func Watch(ctx context.Context, stdout io.Writer, notify func(Notice), opts ...Option) error {
	o, err := makeOptions(opts)
	if err != nil {
		return err
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
	w := &watcher{o: o, stdout: stdout, notify: notify, enrich: newEnricher(o.FS)}
	if !o.json {
		// JSON readers pair an unanswered event with its query by lookup;
		// the readable line names the query itself.
		w.names = newLookupNames()
	}
	before, statsErr := dev.Stats()
	r := event.NewReader(deviceReader{ctx: ctx, dev: dev}, event.DefaultBatch)
	var readErr error
	for o.count == 0 || w.queries < o.count {
		e, err := r.Next()
		if err != nil {
			readErr = err
			break
		}
		if err := w.handle(e); err != nil {
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
	names    *lookupNames // text only
	queries  int          // query events handled, for WithCount
	lastSeq  uint64
	gapDrops uint64
	err      error // first write error
}

func (w *watcher) handle(e event.Event) error {
	if w.lastSeq != 0 && e.Seq > w.lastSeq+1 {
		n := e.Seq - w.lastSeq - 1
		w.gapDrops += n
		w.report(&Drop{Dropped: n, Source: "seq", AfterSeq: w.lastSeq, NextSeq: e.Seq})
	}
	w.lastSeq = e.Seq
	if e.Kind == event.KindQuery {
		w.queries++
	}
	w.enrich.fill(&e)
	var line []byte
	if w.o.json {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding event %d: %w", e.Seq, err)
		}
		line = append(b, '\n')
	} else {
		var queryName string
		switch {
		case e.Kind == event.KindQuery && !e.Malformed():
			w.names.add(e.Lookup, e.QName)
		case e.Kind != event.KindQuery:
			// A lookup ends with its answer or its unanswered event.
			queryName = w.names.take(e.Lookup)
		}
		line = []byte(formatText(e, w.o.loc, queryName) + "\n")
	}
	if _, err := w.stdout.Write(line); err != nil {
		return fmt.Errorf("writing event: %w", err)
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
// watcher did not see that query. A class other than IN follows NAME.
func formatText(e event.Event, loc *time.Location, queryName string) string {
	var b strings.Builder
	b.WriteString(e.Time.In(loc).Format("2006-01-02 15:04:05.000000"))
	fmt.Fprintf(&b, " lookup=%d", e.Lookup)
	if e.ProcUnknown() {
		b.WriteString(" pid=? comm=? user=?")
	} else {
		fmt.Fprintf(&b, " pid=%d comm=%s user=", e.PID, quoteIfNeeded(e.Comm))
		if e.User != "" {
			b.WriteString(quoteIfNeeded(e.User))
		} else {
			fmt.Fprintf(&b, "%d", e.UID)
		}
	}
	fmt.Fprintf(&b, " netns=%d", e.NetNS)
	if e.Container != "" {
		id := e.Container
		if len(id) > 12 {
			id = id[:12]
		}
		b.WriteString(" container=" + id)
	}
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
	return b.String()
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

// maxLookupNames bounds the query names kept for unanswered lines: a
// lookup unanswered after more queries than that is printed without its
// name.
const maxLookupNames = 4096

// lookupNames remembers the names of recent queries by lookup, forgetting
// the oldest past maxLookupNames: an unanswered event carries no name of
// its own.
type lookupNames struct {
	names map[uint64]string
	order []uint64 // a ring of the lookups added, next the oldest
	next  int
}

func newLookupNames() *lookupNames {
	return &lookupNames{names: map[uint64]string{}, order: make([]uint64, maxLookupNames)}
}

func (l *lookupNames) add(lookup uint64, name string) {
	// The slot's lookup may be gone already, taken by its answer.
	delete(l.names, l.order[l.next])
	l.order[l.next] = lookup
	l.next = (l.next + 1) % len(l.order)
	l.names[lookup] = name
}

// take returns and forgets the name of lookup's query; "" when it is not
// known.
func (l *lookupNames) take(lookup uint64) string {
	name := l.names[lookup]
	delete(l.names, lookup)
	return name
}
