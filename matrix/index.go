package matrix

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// DebianIndex resolves tracked kernels from Debian and Ubuntu package
// indexes through c (which caches them), reading main/ARCH of each suite
// (the query's architecture): for Debian, the newest linux-image of the
// flavour; for Ubuntu, the kernel its linux-headers-FLAVOUR metapackage
// depends on, newest across the suite and its pockets.
func DebianIndex(c *debian.Client) Resolver {
	return ResolverFunc(func(ctx context.Context, q KernelQuery) (string, error) {
		d, err := LookupDistro(q.Distro)
		if err != nil {
			return "", err
		}
		tr, ok := d.(Tracker)
		if !ok {
			return "", fmt.Errorf("%s kernels cannot be tracked", q.Distro)
		}
		pkgs, err := TrackPackages(ctx, c, q)
		if err != nil {
			return "", err
		}
		rel, err := tr.TrackedRelease(pkgs, q.Flavour)
		if err != nil {
			return "", fmt.Errorf("%s: %w", strings.Join(q.Suites, ", "), err)
		}
		return rel, nil
	})
}

// TrackPackages reads main/ARCH of each of q's suites on q's mirror,
// checked against q's archive keys, as one list: a tracked flavour is
// resolved across a suite and its pockets together.
func TrackPackages(ctx context.Context, c *debian.Client, q KernelQuery) ([]debian.Package, error) {
	arch, err := debArch(cmp.Or(q.Arch, "amd64"))
	if err != nil {
		return nil, err
	}
	var pkgs []debian.Package
	for _, name := range q.Suites {
		p, err := c.Packages(ctx, debian.Suite{Name: name, BaseURL: q.Mirror, Component: "main", Arch: arch, Archive: q.Archive})
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p...)
	}
	return pkgs, nil
}

// DefaultResolver reads Debian indexes through the shared cache
// ($DNSMON_CACHE/index).
func DefaultResolver() (Resolver, error) {
	c, err := debian.NewClient()
	if err != nil {
		return nil, err
	}
	return DebianIndex(c), nil
}

// LoadTargets loads a kernels file, resolves its tracked groups with r
// (which may be nil when no group tracks) and expands it into targets.
func LoadTargets(ctx context.Context, path string, r Resolver) ([]Target, error) {
	return LoadTargetsMatching(ctx, path, r, nil)
}

// LoadTargetsMatching is LoadTargets for the targets whose names only may
// match (nil: all). When only is anchored at the start with a literal
// prefix ("^debian-12/…"), groups whose targets cannot start with it are
// left out before resolving: a tracked group's resolution reads its
// package indexes (Ubuntu's take over a second), which a build of one
// kernel should not wait for. The caller still filters the targets.
func LoadTargetsMatching(ctx context.Context, path string, r Resolver, only *regexp.Regexp) ([]Target, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	if prefix, ok := anchoredPrefix(only); ok {
		var keep []Group
		for _, g := range f.Groups {
			name := g.Name + "/"
			if strings.HasPrefix(name, prefix) || strings.HasPrefix(prefix, name) {
				keep = append(keep, g)
			}
		}
		f = &File{name: f.name, Groups: keep}
	}
	if r != nil {
		if f, err = Resolve(ctx, f, r); err != nil {
			return nil, err
		}
	}
	return Expand(f)
}

// anchoredPrefix returns the literal text every string only matches must
// begin with: only's literal prefix when only is anchored at the start and
// has no alternation (one of whose branches might not be anchored).
func anchoredPrefix(only *regexp.Regexp) (string, bool) {
	if only == nil || !strings.HasPrefix(only.String(), "^") || strings.Contains(only.String(), "|") {
		return "", false
	}
	p, _ := only.LiteralPrefix()
	return p, p != ""
}
