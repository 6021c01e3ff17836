package matrix

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Resolver finds the newest kernel release of a flavour in a tracked
// group's package indexes, e.g. "6.1.0-56-amd64" for Debian's bookworm and
// flavour amd64, "6.8.0-155-generic" for Ubuntu's noble and flavour generic.
type Resolver interface {
	NewestKernel(ctx context.Context, q KernelQuery) (string, error)
}

// KernelQuery is one tracked flavour of a group.
type KernelQuery struct {
	// Distro is the group's distribution: "debian" or "ubuntu".
	Distro string
	// Mirror is the archive; Suites are read together (a suite and its
	// pockets), each checked against Archive's keys.
	Mirror  string
	Suites  []string
	Archive debian.Archive
	Flavour string
	// Arch is the group's architecture, whose index is read; default
	// amd64.
	Arch string
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, q KernelQuery) (string, error)

// NewestKernel calls f.
func (f ResolverFunc) NewestKernel(ctx context.Context, q KernelQuery) (string, error) {
	return f(ctx, q)
}

var _ Resolver = ResolverFunc(nil)

// TrackQuery is the question Resolve asks for g's tracked flavour: its
// track's mirror, suites and archive keys. g must have a Track.
func (g Group) TrackQuery(flavour string) KernelQuery {
	return KernelQuery{Distro: g.Distro, Mirror: g.Track.Mirror, Suites: g.Track.Suites(), Archive: archiveOf(g.Distro), Flavour: flavour, Arch: g.Arch}
}

// Resolve returns a copy of f in which every group with a Track lists the
// newest kernel of each tracked flavour after its own kernels (once). A
// tracked kernel that another group of the same distribution lists, or
// tracks earlier in the file, is left to that group; one that a group of
// another distribution has is an error. Groups without Track are copied
// unchanged; f is not modified.
func Resolve(ctx context.Context, f *File, r Resolver) (*File, error) {
	// Each tracked group reads its own suite's index, which takes a good
	// part of a second: look them up in parallel, one slot per group, then
	// apply the answers in file order so the result stays deterministic.
	newest := make([][]string, len(f.Groups))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.NumCPU())
	for i, g := range f.Groups {
		if g.Track == nil {
			continue
		}
		eg.Go(func() error {
			for _, fl := range g.Track.Flavours {
				q := g.TrackQuery(fl)
				k, err := r.NewestKernel(ectx, q)
				if err != nil {
					return fmt.Errorf("group %q: resolving newest %s kernel of %s: %w", g.Name, fl, strings.Join(q.Suites, ", "), err)
				}
				if _, err := ParseRelease(k); err != nil {
					return fmt.Errorf("group %q: %w", g.Name, err)
				}
				newest[i] = append(newest[i], k)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}

	out := &File{name: f.name, Groups: slices.Clone(f.Groups)}
	type key struct{ kernel, arch string }
	owner := map[key]*Group{}
	for i, g := range f.Groups {
		for _, k := range g.Kernels {
			owner[key{k, g.Arch}] = &f.Groups[i]
		}
	}
	for i := range out.Groups {
		g := &out.Groups[i]
		g.Kernels = slices.Clone(g.Kernels)
		g.kernelLines = slices.Clone(g.kernelLines)
		for _, k := range newest[i] {
			if o, dup := owner[key{k, g.Arch}]; dup && o.Name != g.Name {
				// Ubuntu builds a release's HWE line from the next
				// release's GA kernel, under the same `uname -r`: one
				// module serves both, built by the group listed first.
				if o.Distro == g.Distro {
					continue
				}
				return nil, fmt.Errorf("group %q: tracked kernel %q is already built by group %q", g.Name, k, o.Name)
			}
			if !slices.Contains(g.Kernels, k) {
				owner[key{k, g.Arch}] = g
				g.Kernels = append(g.Kernels, k)
				g.kernelLines = append(g.kernelLines, g.line)
			}
		}
	}
	return out, nil
}
