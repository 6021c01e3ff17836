package builder

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dnsmon/dnsmon/matrix"
)

// BuildOne builds the module for one target into the module cache,
// CACHE/modules/SRC12/ARCH/KERNEL/MODULE.ko (SRC12: the first 12 hex digits
// of the source digest), and returns that path. When the cache already holds
// the module for the same source, kernel and recipe, nothing is built.
// Options are those of New (WithSource, WithCacheDir, WithClient, ...).
// With WithModuleSigner the module is signed the way the farm signs it and
// kept under CACHE/modules/SRC12-signed-CERT12/ (CERT12: the first 12 hex
// digits of the certificate's fingerprint); the unsigned build it is made
// from is cached as above.
func BuildOne(ctx context.Context, t matrix.Target, opts ...Option) (string, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return "", err
	}
	if o.signer != nil {
		return buildOneSigned(ctx, t, o, opts)
	}
	b, err := New(append(opts, WithClient(o.client))...)
	if err != nil {
		return "", err
	}
	key, err := b.Key(ctx, t)
	if err != nil {
		return "", err
	}
	pub, err := NewDirPublisher(moduleCacheDir(o.cacheDir, key.SourceDigest))
	if err != nil {
		return "", err
	}
	if _, err := Cached(b, pub).Build(ctx, t); err != nil {
		return "", fmt.Errorf("building the module for %q: %w", t.Name(), err)
	}
	return pub.Path(key), nil
}

// ModuleCache returns the module cache BuildOne keeps unsigned modules in,
// CACHE/modules/SRC12, for the options' source and cache directory
// (WithSource, WithCacheDir). A farm that publishes there (dnsmon-farm
// build --to cache) skips what the guest tests built, and they what it
// built.
func ModuleCache(opts ...Option) (*DirPublisher, error) {
	o, sd, err := makeOptionsDigest(opts)
	if err != nil {
		return nil, err
	}
	return NewDirPublisher(moduleCacheDir(o.cacheDir, sd))
}

func moduleCacheDir(cacheDir, sourceDigest string) string {
	return filepath.Join(cacheDir, "modules", strings.TrimPrefix(sourceDigest, "sha256:")[:12])
}

// BuildForSuite builds (or finds in the module cache) the module for kernel
// release krel of architecture arch (Go spelling) of a Debian or Ubuntu
// suite, using the group of the kernels file that lists krel or tracks
// suite, and returns the .ko path. It is BuildOne for callers that hold a
// release string rather than a Target, such as the guest tests:
// BuildForSuite(ctx, "kernels.yaml", "sid", "7.2.13+deb14-amd64", "amd64").
func BuildForSuite(ctx context.Context, kernelsFile, suite, krel, arch string, opts ...Option) (string, error) {
	f, err := matrix.Load(kernelsFile)
	if err != nil {
		return "", err
	}
	t, err := matrix.TargetFor(f, suite, krel, arch)
	if err != nil {
		return "", err
	}
	return BuildOne(ctx, t, opts...)
}
