package discover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/rpmrepo"
	"golang.org/x/sync/errgroup"
)

// Lister lists the packages of one package index.
type Lister interface {
	// Packages returns the packages of idx; it may return only those whose
	// name starts with one of prefixes.
	Packages(ctx context.Context, idx matrix.PackageIndex, prefixes []string) ([]matrix.IndexedPackage, error)
}

// Result is what discovery found for one group.
type Result struct {
	// Group is the group's name.
	Group string `json:"group"`
	// Indexes are the package indexes read.
	Indexes []matrix.PackageIndex `json:"indexes,omitempty"`
	// Available are the releases of the group's flavours whose headers the
	// indexes carry, oldest first.
	Available []string `json:"available,omitempty"`
	// Newest is the newest available release of each flavour, in flavour
	// order.
	Newest []string `json:"newest,omitempty"`
	// New are the available releases no group of the file lists, oldest
	// first. Write adds them to the group, unless it is Tracked.
	New []string `json:"new"`
	// Tracked is set for groups with a track entry: their newest kernels
	// are resolved at run time, and Debian drops superseded ones within
	// days, so Write leaves them alone.
	Tracked bool `json:"tracked,omitempty"`
	// Tracking are the kernels the group's track resolves to now, one per
	// tracked flavour (and so per line: "generic-hwe-24.04"), as builds
	// resolve them (WithResolver).
	Tracking []TrackedKernel `json:"tracking,omitempty"`
	// Err is why the group could not be discovered; the other groups are
	// still done.
	Err error `json:"-"`
	// Error is Err's message, for JSON output.
	Error string `json:"error,omitempty"`
}

// GroupError is a failure to discover one group.
type GroupError struct {
	Group string
	Err   error
}

func (e *GroupError) Error() string { return fmt.Sprintf("group %q: %v", e.Group, e.Err) }
func (e *GroupError) Unwrap() error { return e.Err }

// TrackedKernel is the kernel one tracked flavour resolves to.
type TrackedKernel struct {
	Flavour string `json:"flavour"`
	Release string `json:"release"`
}

type options struct {
	lister   Lister
	resolver matrix.Resolver
	only     *regexp.Regexp
	jobs     int
	log      io.Writer
}

// Option configures Discover.
type Option func(*options) error

// WithLister sets how indexes are read. Default: NewLister(), which reads
// through the shared cache ($DNSMON_CACHE/index).
func WithLister(l Lister) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLister: nil lister")
		}
		o.lister = l
		return nil
	}
}

// WithResolver resolves each tracked group's flavours into
// Result.Tracking, as a build would (matrix.DefaultResolver). Default: not
// resolved.
func WithResolver(r matrix.Resolver) Option {
	return func(o *options) error {
		o.resolver = r
		return nil
	}
}

// WithOnly keeps the groups whose name matches re. Default: all groups.
func WithOnly(re *regexp.Regexp) Option {
	return func(o *options) error {
		o.only = re
		return nil
	}
}

// WithJobs sets how many groups are read at once. Default: 2.
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithJobs: %d, want at least 1", n)
		}
		o.jobs = n
		return nil
	}
}

// WithLogger sets where progress lines go. Default: io.Discard.
func WithLogger(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			w = io.Discard
		}
		o.log = w
		return nil
	}
}

// Discover reads the package indexes of every selected group of f and
// returns one Result per group, in file order. A group whose indexes
// cannot be read gets its Err set and does not stop the others; the
// returned error joins every group's error (as *GroupError), so callers can
// print the results and still fail.
func Discover(ctx context.Context, f *matrix.File, opts ...Option) ([]Result, error) {
	o := &options{jobs: 2, log: io.Discard}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if o.lister == nil {
		l, err := NewLister()
		if err != nil {
			return nil, err
		}
		o.lister = l
	}
	type key struct{ kernel, arch string }
	listed := map[key]bool{}
	var groups []matrix.Group
	for _, g := range f.Groups {
		for _, k := range g.Kernels {
			listed[key{k, g.Arch}] = true
		}
		if o.only == nil || o.only.MatchString(g.Name) {
			groups = append(groups, g)
		}
	}
	results := make([]Result, len(groups))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(o.jobs)
	for i, g := range groups {
		eg.Go(func() error {
			results[i] = discoverGroup(ectx, o, g)
			if err := results[i].Err; err != nil {
				fmt.Fprintf(o.log, "discover: %s: %v\n", g.Name, err)
			} else {
				fmt.Fprintf(o.log, "discover: %s: %d releases available\n", g.Name, len(results[i].Available))
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// New: not listed by any group, and not claimed by an earlier group.
	var errs []error
	for i := range results {
		r := &results[i]
		g := groups[i]
		if r.Err != nil {
			r.Error = r.Err.Error()
			errs = append(errs, &GroupError{Group: r.Group, Err: r.Err})
			continue
		}
		r.New = []string{}
		for _, k := range r.Available {
			if !listed[key{k, g.Arch}] {
				listed[key{k, g.Arch}] = true
				r.New = append(r.New, k)
			}
		}
	}
	return results, errors.Join(errs...)
}

// headerPrefixes are the package name prefixes of kernel headers.
var headerPrefixes = []string{"linux-headers-", "kernel-devel"}

func discoverGroup(ctx context.Context, o *options, g matrix.Group) Result {
	r := Result{Group: g.Name, Tracked: g.Track != nil}
	idxs, err := matrix.GroupIndexes(g)
	if err != nil {
		r.Err = err
		return r
	}
	r.Indexes = idxs
	flavours, err := matrix.GroupFlavours(g)
	if err != nil {
		r.Err = err
		return r
	}
	d, err := matrix.LookupDistro(g.Distro)
	if err != nil {
		r.Err = err
		return r
	}
	compare := debian.CompareVersions
	if d.Family() == matrix.FamilyRPM {
		compare = rpmrepo.CompareVersions
	}
	type found struct{ release, version string }
	seen := map[string]found{}
	var errs []error
	for _, idx := range idxs {
		pkgs, err := o.lister.Packages(ctx, idx, headerPrefixes)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", idx, err))
			break
		}
		for _, p := range pkgs {
			rel, ok := matrix.HeadersRelease(g, p)
			if !ok {
				continue
			}
			pr, err := matrix.ParseRelease(rel)
			if err != nil {
				continue
			}
			if fl, err := matrix.KernelFlavour(g.Distro, pr); err != nil || !slices.Contains(flavours, fl) {
				continue
			}
			v := p.Version
			if p.RPMRelease != "" {
				v += "-" + p.RPMRelease
			}
			if prev, dup := seen[rel]; !dup || compare(v, prev.version) > 0 {
				seen[rel] = found{rel, v}
			}
		}
	}
	// An index that cannot be read fails the group: a partial answer would
	// look like "nothing new".
	if len(errs) > 0 {
		r.Err = errors.Join(errs...)
		return r
	}
	all := make([]found, 0, len(seen))
	for _, f := range seen {
		all = append(all, f)
	}
	slices.SortFunc(all, func(a, b found) int {
		if c := compare(a.version, b.version); c != 0 {
			return c
		}
		return compare(a.release, b.release)
	})
	newest := map[string]string{}
	for _, f := range all {
		r.Available = append(r.Available, f.release)
		pr, _ := matrix.ParseRelease(f.release)
		fl, _ := matrix.KernelFlavour(g.Distro, pr)
		newest[fl] = f.release
	}
	for _, fl := range flavours {
		if k := newest[fl]; k != "" {
			r.Newest = append(r.Newest, k)
		}
	}
	if g.Track != nil && o.resolver != nil {
		for _, fl := range g.Track.Flavours {
			k, err := o.resolver.NewestKernel(ctx, g.TrackQuery(fl))
			if err != nil {
				r.Err = fmt.Errorf("resolving tracked flavour %s: %w", fl, err)
				return r
			}
			r.Tracking = append(r.Tracking, TrackedKernel{Flavour: fl, Release: k})
		}
	}
	return r
}

// Summary writes one line per group: its new releases, its newest, or its
// error.
func Summary(w io.Writer, results []Result) error {
	for _, r := range results {
		var line string
		switch {
		case r.Err != nil:
			line = fmt.Sprintf("%s: error: %s", r.Group, strings.ReplaceAll(r.Err.Error(), "\n", "; "))
		case len(r.New) == 0:
			line = fmt.Sprintf("%s: nothing new (newest: %s)", r.Group, orNone(r.Newest))
		default:
			note := ""
			if r.Tracked {
				note = " (tracked: resolved at build time, not written)"
			}
			line = fmt.Sprintf("%s: %d new: %s (newest: %s)%s", r.Group, len(r.New), strings.Join(r.New, " "), orNone(r.Newest), note)
		}
		if len(r.Tracking) > 0 {
			var ts []string
			for _, t := range r.Tracking {
				ts = append(ts, t.Flavour+" "+t.Release)
			}
			line += "\n" + r.Group + ": tracked now: " + strings.Join(ts, ", ")
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}
