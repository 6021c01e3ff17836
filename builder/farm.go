package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dnsmon/dnsmon/matrix"
)

// ErrFailed is returned by Run when at least one target failed; the others
// were still built.
var ErrFailed = errors.New("some targets failed")

// Result is the outcome of one target.
type Result struct {
	// Target is the build target.
	Target matrix.Target
	// Module is the built module (Cached set when skipped).
	Module Module
	// Err is why the target failed; nil on success.
	Err error
	// Duration is the target's wall time.
	Duration time.Duration
	// LogPath is where its log was written, if a log directory was set.
	LogPath string
}

// Status is "built", "cached", "failed" or "cancelled".
func (r Result) Status() string {
	switch {
	case r.Err == nil && r.Module.Cached:
		return "cached"
	case r.Err == nil:
		return "built"
	case errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded):
		return "cancelled"
	}
	return "failed"
}

type farmOptions struct {
	jobs      int
	progress  io.Writer
	live      bool
	logDir    string
	durations string // file of the last build time per target
}

// FarmOption configures Run.
type FarmOption func(*farmOptions) error

// WithJobs sets how many targets build at once. Default: runtime.NumCPU().
func WithJobs(n int) FarmOption {
	return func(o *farmOptions) error {
		if n < 1 {
			return fmt.Errorf("jobs must be at least 1, not %d", n)
		}
		o.jobs = n
		return nil
	}
}

// WithProgress reports progress to w: a redrawn status line when live (a
// terminal), one line per event otherwise. Default: no progress.
func WithProgress(w io.Writer, live bool) FarmOption {
	return func(o *farmOptions) error {
		if w == nil {
			return errors.New("nil progress writer")
		}
		o.progress, o.live = w, live
		return nil
	}
}

// WithDurations keeps an estimate of each target's build time in the file
// at path (JSON: GROUP/KERNEL → milliseconds; the mean of the previous
// estimate and the latest time) and orders the start of the builds by it,
// longest first and then so that the jobs finish together: no long build
// is left running alone at the end of a run.
// Default: targets start in the order given.
func WithDurations(path string) FarmOption {
	return func(o *farmOptions) error {
		if path == "" {
			return errors.New("empty durations file")
		}
		o.durations = path
		return nil
	}
}

// WithLogDir writes each target's log to DIR/GROUP/KERNEL.log: a built or
// failed target's, and a skipped one's when the publisher kept it
// (DirPublisher does). Default: logs are kept only in the results.
func WithLogDir(dir string) FarmOption {
	return func(o *farmOptions) error {
		if dir == "" {
			return errors.New("empty log directory")
		}
		o.logDir = dir
		return nil
	}
}

// Run builds every target with b, at most WithJobs at a time. A failed target
// does not stop the others. results[i] belongs to targets[i]. The error is
// ctx's when cancelled, ErrFailed (joined with each failure) when a target
// failed, nil otherwise.
func Run(ctx context.Context, b Builder, targets []matrix.Target, opts ...FarmOption) ([]Result, error) {
	o := &farmOptions{jobs: runtime.NumCPU()}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("configuring farm: %w", err)
		}
	}
	results := make([]Result, len(targets))
	p := newProgress(o.progress, o.live, len(targets))
	defer p.stop()

	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name()
	}
	var history durations
	if o.durations != "" {
		history = loadDurations(o.durations)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for _, i := range history.startOrder(names, o.jobs) {
		t := targets[i]
		results[i].Target = t
		if gctx.Err() != nil {
			results[i].Err = gctx.Err()
			continue
		}
		g.Go(func() error {
			r := &results[i]
			if err := gctx.Err(); err != nil {
				r.Err = err
				return nil
			}
			p.start(i, t.Name())
			start := time.Now()
			r.Module, r.Err = b.Build(gctx, t)
			r.Duration = time.Since(start)
			if o.logDir != "" && len(r.Module.Log) > 0 {
				r.LogPath = filepath.Join(o.logDir, t.Group, t.Kernel+".log")
				if err := writeAtomic(r.LogPath, r.Module.Log); err != nil {
					r.LogPath = ""
				}
			}
			p.done(i, *r)
			// Failures are isolated: never cancel the other targets.
			return nil
		})
	}
	_ = g.Wait()
	p.stop()
	if o.durations != "" {
		for i, r := range results {
			if r.Status() != "built" {
				continue
			}
			// Half the last estimate and half this run: one slow
			// run on a busy machine moves a target's place only so far.
			if prev, ok := history[names[i]]; ok {
				history[names[i]] = (prev + r.Duration) / 2
			} else {
				history[names[i]] = r.Duration
			}
		}
		// The history only orders work: a cache that cannot hold it
		// must not fail the run.
		_ = history.save(o.durations)
	}
	if err := ctx.Err(); err != nil {
		return results, err
	}
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	if len(errs) > 0 {
		return results, errors.Join(append([]error{fmt.Errorf("%w: %d of %d", ErrFailed, len(errs), len(results))}, errs...)...)
	}
	return results, nil
}

// progress prints what the farm does.
type progress struct {
	w     io.Writer
	live  bool
	total int

	mu       sync.Mutex
	finished int
	running  map[int]runningTarget
	quit     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

type runningTarget struct {
	name  string
	start time.Time
}

func newProgress(w io.Writer, live bool, total int) *progress {
	p := &progress{w: w, live: live, total: total, running: map[int]runningTarget{}, quit: make(chan struct{})}
	if w != nil && live {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					p.mu.Lock()
					p.redraw()
					p.mu.Unlock()
				case <-p.quit:
					return
				}
			}
		}()
	}
	return p
}

func (p *progress) start(i int, name string) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[i] = runningTarget{name, time.Now()}
	if p.live {
		p.redraw()
		return
	}
	fmt.Fprintf(p.w, "start  %s\n", name)
}

func (p *progress) done(i int, r Result) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, i)
	p.finished++
	line := fmt.Sprintf("%-9s %s (%s%s)", r.Status(), r.Target.Name(), r.Duration.Round(100*time.Millisecond), sizeNote(r))
	if p.live {
		fmt.Fprintf(p.w, "\r\033[K%s\n", line)
		p.redraw()
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %s\n", p.finished, p.total, line)
}

func sizeNote(r Result) string {
	if r.Err == nil && !r.Module.Cached {
		return ", " + humanSize(len(r.Module.Data))
	}
	return ""
}

// redraw rewrites the status line; p.mu is held.
func (p *progress) redraw() {
	var names []string
	for _, rt := range p.running {
		names = append(names, fmt.Sprintf("%s %ds", rt.name, int(time.Since(rt.start).Seconds())))
	}
	status := fmt.Sprintf("[%d/%d] %s", p.finished, p.total, strings.Join(names, ", "))
	if len(status) > 160 {
		status = status[:157] + "..."
	}
	fmt.Fprintf(p.w, "\r\033[K%s", status)
}

func (p *progress) stop() {
	p.stopOnce.Do(func() {
		close(p.quit)
		p.wg.Wait()
		if p.w != nil && p.live {
			fmt.Fprint(p.w, "\r\033[K")
		}
	})
}

func humanSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// WriteSummary prints a table of the results (target, result, time, size),
// a count line, and for each failed target its error.
func WriteSummary(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tRESULT\tTIME\tSIZE")
	counts := map[string]int{}
	for _, r := range results {
		size := "-"
		if r.Err == nil && !r.Module.Cached {
			size = humanSize(len(r.Module.Data))
		}
		counts[r.Status()]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Target.Name(), r.Status(), r.Duration.Round(100*time.Millisecond), size)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d targets: %d built, %d cached, %d failed, %d cancelled\n",
		len(results), counts["built"], counts["cached"], counts["failed"], counts["cancelled"])
	for _, r := range results {
		if r.Status() != "failed" {
			continue
		}
		fmt.Fprintf(w, "\n--- %s failed:\n%v\n", r.Target.Name(), r.Err)
		if r.LogPath != "" {
			fmt.Fprintf(w, "(full log: %s)\n", r.LogPath)
		}
	}
	return nil
}
