package matrix

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"
)

// Resolver finds the newest kernel release of a flavour in a suite's package
// index, e.g. "6.1.0-56-amd64" for (http://deb.debian.org/debian, bookworm,
// amd64).
type Resolver interface {
	NewestKernel(ctx context.Context, mirror, suite, flavour string) (string, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, mirror, suite, flavour string) (string, error)

// NewestKernel calls f.
func (f ResolverFunc) NewestKernel(ctx context.Context, mirror, suite, flavour string) (string, error) {
	return f(ctx, mirror, suite, flavour)
}

var _ Resolver = ResolverFunc(nil)

// Resolve returns a copy of f in which every group with a Track lists the
// newest kernel of each tracked flavour after its own kernels (once).
// Groups without Track are copied unchanged; f is not modified.
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
				k, err := r.NewestKernel(ectx, g.Track.Mirror, g.Track.Suite, fl)
				if err != nil {
					return fmt.Errorf("group %q: resolving newest %s kernel of %s: %w", g.Name, fl, g.Track.Suite, err)
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
	owner := map[key]string{}
	for _, g := range f.Groups {
		for _, k := range g.Kernels {
			owner[key{k, g.Arch}] = g.Name
		}
	}
	for i := range out.Groups {
		g := &out.Groups[i]
		g.Kernels = slices.Clone(g.Kernels)
		g.kernelLines = slices.Clone(g.kernelLines)
		for _, k := range newest[i] {
			if o, dup := owner[key{k, g.Arch}]; dup && o != g.Name {
				return nil, fmt.Errorf("group %q: tracked kernel %q is already built by group %q", g.Name, k, o)
			}
			if !slices.Contains(g.Kernels, k) {
				owner[key{k, g.Arch}] = g.Name
				g.Kernels = append(g.Kernels, k)
				g.kernelLines = append(g.kernelLines, g.line)
			}
		}
	}
	return out, nil
}
