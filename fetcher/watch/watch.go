package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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

// WithCount stops after n events. Default: 0, no limit.
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
	before, statsErr := dev.Stats()
	r := event.NewReader(deviceReader{ctx: ctx, dev: dev}, event.DefaultBatch)
	var readErr error
	for o.count == 0 || w.events < o.count {
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
	events   int
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
	w.events++
	w.enrich.fill(&e)
	var line []byte
	if w.o.json {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding event %d: %w", e.Seq, err)
		}
		line = append(b, '\n')
	} else {
		line = []byte(formatText(e, w.o.loc) + "\n")
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
// "other_opcodes":N,"no_question":N,"tcp_unparsed":N,"malformed":N}; a
// first-version module has only the first four.
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
// TIME pid=PID comm=COMM user=USER netns=N [container=ID] PROTO SERVER:PORT QTYPE NAME
// or, for a malformed message,
// TIME pid=PID ... PROTO SERVER:PORT MALFORMED(REASON) id=ID BYTES
func formatText(e event.Event, loc *time.Location) string {
	var b strings.Builder
	b.WriteString(e.Time.In(loc).Format("2006-01-02 15:04:05.000000"))
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
	if e.Malformed() {
		fmt.Fprintf(&b, " %s %s MALFORMED(%s) id=%d %s", e.Proto, serverString(e), e.Reason, e.ID, sanitize(e.QName))
		return b.String()
	}
	qname := sanitize(e.QName)
	if e.QClass != event.ClassIN {
		qname += " " + e.QClass.String()
	}
	fmt.Fprintf(&b, " %s %s %s %s", e.Proto, serverString(e), e.QType, qname)
	return b.String()
}
