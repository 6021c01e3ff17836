package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Engine is the part of the Docker Engine API Prune uses;
// *client.Client implements it.
type Engine interface {
	ImageList(ctx context.Context, options image.ListOptions) ([]image.Summary, error)
	ImageRemove(ctx context.Context, imageID string, options image.RemoveOptions) ([]image.DeleteResponse, error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
}

// KernelsError is Prune's error when the kernels file cannot be read or
// is not valid: without it no tree can be told irreplaceable, so nothing
// is removed.
type KernelsError struct{ Err error }

func (e *KernelsError) Error() string { return e.Err.Error() }
func (e *KernelsError) Unwrap() error { return e.Err }

// Prune removes what the farm's cache holds and its builds no longer use:
// first every entry not used for the maximum age, then the least recently
// used entries until the rest fits in the maximum size. It never removes a
// tree a build holds (headertree's locks), packages while a tree is being
// made from them, an image a container uses or that another image is built
// on (and never forces the engine), nor the tree of a kernel that
// kernelsFile lists and that its mirror no longer serves. It says what it
// removes, keeps and skips on the log, and removes nothing in a dry run.
//
// Package indexes (CACHE/index) are not pruned: each suite's is replaced
// in place when it is refreshed, and they are how Prune tells which
// kernels the mirrors no longer serve.
func Prune(ctx context.Context, kernelsFile string, opts ...Option) (Report, error) {
	o, err := parseOptions(opts)
	if err != nil {
		return Report{}, err
	}
	p := &pruner{o: o, rep: Report{DryRun: o.dryRun, MaxSize: -1}}
	if o.hasMaxSize {
		p.rep.MaxSize = o.maxSize
	}
	if o.kinds[Images] && o.engine == nil {
		c, err := builder.NewEngineClient()
		if err != nil {
			return Report{}, fmt.Errorf("connecting to the Docker engine: %w", err)
		}
		defer c.Close()
		o.engine = c
	}
	if o.packages == nil {
		if o.packages, err = debian.NewClient(debian.WithCacheDir(o.cacheDir)); err != nil {
			return Report{}, err
		}
	}
	p.store = headertree.NewStore(o.cacheDir, o.packages)
	if err := p.collect(ctx, kernelsFile); err != nil {
		return Report{}, err
	}
	defer p.releasePackages()
	p.rep.Before = p.usage()
	if o.hasMaxAge {
		cutoff := o.now().Add(-o.maxAge)
		for _, e := range p.entries {
			if ctx.Err() != nil {
				break
			}
			if e.lastUse.Before(cutoff) || o.maxAge == 0 {
				p.remove(ctx, e)
			}
		}
	}
	if o.hasMaxSize {
		total := p.usage().Total()
		for _, e := range p.entries {
			if total <= o.maxSize || ctx.Err() != nil {
				break
			}
			if e.removed {
				continue
			}
			if p.remove(ctx, e); e.removed {
				total -= e.size
			}
		}
	}
	if err := ctx.Err(); err != nil {
		p.errs = append(p.errs, err)
	}
	if !o.dryRun && o.kinds[Trees] {
		if _, err := p.store.ForgetRemoved(); err != nil {
			p.errs = append(p.errs, err)
		}
	}
	p.rep.After = p.usage()
	return p.rep, errors.Join(p.errs...)
}

// pruner is one Prune run.
type pruner struct {
	o       *options
	store   *headertree.Store
	entries []*entry // least recently used first
	rep     Report
	errs    []error

	// packages: whether the packages lock was tried, and its release.
	packagesTried bool
	packagesBusy  bool
	packagesSaid  bool
	packagesHeld  func()
}

// collect lists the entries of the kinds pruned, marks those to keep and
// sorts them, least recently used first, children before their parents.
func (p *pruner) collect(ctx context.Context, kernelsFile string) error {
	if p.o.kinds[Trees] {
		trees, err := treeEntries(p.store)
		if err != nil {
			return err
		}
		keep, err := irreplaceable(ctx, kernelsFile, p.o.packages, p.store)
		if err != nil {
			return fmt.Errorf("finding the header trees that must stay: %w", err)
		}
		for _, e := range trees {
			e.keep = keep[e.tree]
		}
		p.entries = append(p.entries, trees...)
	}
	if p.o.kinds[Packages] {
		debs, err := packageEntries(p.o.cacheDir)
		if err != nil {
			return err
		}
		p.entries = append(p.entries, debs...)
	}
	if p.o.kinds[Images] {
		imgs, err := imageEntries(ctx, p.o.engine, p.o.cacheDir)
		if err != nil {
			return err
		}
		p.entries = append(p.entries, imgs...)
	}
	slices.SortStableFunc(p.entries, func(a, b *entry) int {
		if c := a.lastUse.Compare(b.lastUse); c != 0 {
			return c
		}
		if a.img != nil && b.img != nil && a.img.depth != b.img.depth {
			return a.img.depth - b.img.depth
		}
		return cmp.Or(strings.Compare(string(a.kind), string(b.kind)), strings.Compare(a.name, b.name))
	})
	return nil
}

func (p *pruner) usage() Usage {
	var u Usage
	for _, e := range p.entries {
		if !e.removed {
			u.add(e.kind, e.size)
		}
	}
	return u
}

// remove removes e unless it must stay or is in use, and says which.
func (p *pruner) remove(ctx context.Context, e *entry) {
	if e.settled {
		return
	}
	e.settled = true
	if e.keep != "" {
		p.rep.Kept++
		p.say("kept %s %s: %s", e.kind, e.name, e.keep)
		return
	}
	var err error
	switch e.kind {
	case Trees:
		if p.o.dryRun {
			err = p.store.Check(e.tree)
		} else {
			err = p.store.Remove(e.tree)
		}
		if errors.Is(err, headertree.ErrBusy) {
			p.skip(e, "a build is using it")
			return
		}
	case Packages:
		if !p.holdPackages() {
			p.rep.Skipped++
			if !p.packagesSaid {
				p.packagesSaid = true
				p.say("skipped the downloaded packages: a header tree is being made from them")
			}
			return
		}
		if !p.o.dryRun {
			if err = os.Remove(e.path); errors.Is(err, os.ErrNotExist) {
				err = nil
			}
		}
	case Images:
		switch {
		case e.img.container != "":
			p.skip(e, "container "+shortID(e.img.container)+" uses it")
			return
		case e.img.others > 0 || slices.ContainsFunc(e.img.children, func(c *entry) bool { return !c.removed }):
			p.skip(e, "an image that stays is built on it")
			return
		}
		if !p.o.dryRun {
			err = p.removeImage(ctx, e)
			if cerrdefs.IsConflict(err) {
				p.skip(e, fmt.Sprintf("the engine refuses (%v)", err))
				return
			}
		}
	}
	if err != nil {
		p.errs = append(p.errs, err)
		p.say("failed to remove %s %s: %v", e.kind, e.name, err)
		return
	}
	e.removed = true
	p.rep.Removed.add(e.kind, 1)
	p.rep.Freed += e.size
	verb := "removed"
	if p.o.dryRun {
		verb = "would remove"
	}
	p.say("%s %s %s: %s, %s", verb, e.kind, e.name, FormatBytes(e.size), e.used)
}

func (p *pruner) skip(e *entry, why string) {
	p.rep.Skipped++
	p.say("skipped %s %s: %s", e.kind, e.name, why)
}

func (p *pruner) say(format string, args ...any) {
	fmt.Fprintf(p.o.log, format+"\n", args...)
}

// holdPackages takes the packages lock once, without waiting, and keeps
// it to the end of the run; in a dry run it only looks.
func (p *pruner) holdPackages() bool {
	if !p.packagesTried {
		p.packagesTried = true
		release, err := p.store.HoldPackages()
		switch {
		case err != nil:
			p.packagesBusy = true
			if !errors.Is(err, headertree.ErrBusy) {
				p.errs = append(p.errs, err)
			}
		case p.o.dryRun:
			release()
		default:
			p.packagesHeld = release
		}
	}
	return !p.packagesBusy
}

func (p *pruner) releasePackages() {
	if p.packagesHeld != nil {
		p.packagesHeld()
	}
}

// removeImage removes every tag of e's image, never forcing: the engine
// refuses while a container uses it. Then it forgets the image's use.
func (p *pruner) removeImage(ctx context.Context, e *entry) error {
	for _, t := range e.img.tags {
		if _, err := p.o.engine.ImageRemove(ctx, t, image.RemoveOptions{Force: false, PruneChildren: true}); err != nil {
			if cerrdefs.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("removing image %s: %w", t, err)
		}
		_ = os.Remove(builder.ImageUsePath(p.o.cacheDir, t))
	}
	return nil
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
