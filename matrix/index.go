package matrix

import (
	"context"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// DebianIndex resolves tracked kernels from Debian package indexes through c
// (which caches them): the newest linux-image of the flavour in the suite's
// main/ARCH index.
func DebianIndex(c *debian.Client, arch string) Resolver {
	return ResolverFunc(func(ctx context.Context, mirror, suite, flavour string) (string, error) {
		s := debian.Suite{Name: suite, BaseURL: mirror, Component: "main", Arch: arch}
		k, err := c.NewestKernel(ctx, s, flavour)
		if err != nil {
			return "", err
		}
		return k.Release, nil
	})
}

// DefaultResolver reads Debian indexes through the shared cache
// ($DNSMON_CACHE/index).
func DefaultResolver() (Resolver, error) {
	c, err := debian.NewClient()
	if err != nil {
		return nil, err
	}
	return DebianIndex(c, "amd64"), nil
}

// LoadTargets loads a kernels file, resolves its tracked groups with r
// (which may be nil when no group tracks) and expands it into targets.
func LoadTargets(ctx context.Context, path string, r Resolver) ([]Target, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	if r != nil {
		if f, err = Resolve(ctx, f, r); err != nil {
			return nil, err
		}
	}
	return Expand(f)
}
