package cache

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// irreplaceable returns the trees that must stay, each with the reason: the
// tree recorded for a kernel that the kernels file lists, so that a later
// change of the module's source can still be built for the hosts that run
// that kernel. When its mirror no longer serves its header packages (Debian
// drops superseded kernels within days) the tree is their only copy; while
// it still does, the tree is kept all the same, since nothing would fetch
// the packages again before the mirror drops them. A tree whose index
// cannot be read is kept too.
//
// Only the kernels the file lists count: a tracked group's kernel is the
// newest of its suite, which the mirror serves by definition, and the next
// newest replaces it.
func irreplaceable(ctx context.Context, kernelsFile string, pkgs *debian.Client, s *headertree.Store) (map[string]string, error) {
	f, err := matrix.Load(kernelsFile)
	if err != nil {
		return nil, &KernelsError{Err: err}
	}
	targets, err := matrix.Expand(f)
	if err != nil {
		return nil, &KernelsError{Err: err}
	}
	name := filepath.Base(kernelsFile)
	keep := map[string]string{}
	for _, t := range targets {
		if !builder.UsesTree(t) {
			continue
		}
		origin, err := builder.HeaderOrigin(t)
		if err != nil {
			return nil, err
		}
		rec, ok, err := s.LookupOrigin(origin)
		if err != nil {
			return nil, err
		}
		if !ok || !s.Has(rec.Tree) {
			continue // never built here, or its tree is gone already
		}
		plan, err := builder.PlanTree(ctx, pkgs, s, t)
		var missing *headertree.MissingError
		switch {
		case err == nil && plan.Gone != nil:
			keep[rec.Tree] = fmt.Sprintf("kernel %s of group %s is in %s and its mirror no longer serves its headers (%v): this tree is their only copy",
				t.Kernel, t.Group, name, plan.Gone)
		case err == nil:
			keep[rec.Tree] = fmt.Sprintf("kernel %s of group %s is in %s: its mirror still serves its headers, but drops superseded kernels, and this tree would then be their only copy",
				t.Kernel, t.Group, name)
		case errors.As(err, &missing):
			// Not kept in the cache after all: nothing to keep.
		case err != nil:
			keep[rec.Tree] = fmt.Sprintf("kernel %s of group %s is in %s and its package index cannot be read (%v): its mirror may no longer serve its headers",
				t.Kernel, t.Group, name, err)
		}
	}
	return keep, nil
}
