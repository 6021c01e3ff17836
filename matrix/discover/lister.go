package discover

import (
	"github.com/ProtonMail/go-crypto/openpgp"

	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/rpmrepo"
)

// indexLister reads Debian-style indexes with matrix/debian and RPM
// repodata with matrix/rpmrepo, both through the cache directory.
type indexLister struct {
	cacheDir string
	http     *http.Client
	keyring  openpgp.KeyRing // nil: each index's archive keys
}

var _ Lister = (*indexLister)(nil)

// ListerOption configures NewLister.
type ListerOption func(*indexLister) error

// WithCacheDir sets the cache root; indexes go to DIR/index. Default:
// debian.CacheDir() ($DNSMON_CACHE or ~/.cache/dnsmon).
func WithCacheDir(dir string) ListerOption {
	return func(l *indexLister) error {
		if dir == "" {
			return errors.New("WithCacheDir: empty directory")
		}
		l.cacheDir = dir
		return nil
	}
}

// WithHTTPClient sets the HTTP client. Default: one with a 5 minute
// timeout per request.
func WithHTTPClient(c *http.Client) ListerOption {
	return func(l *indexLister) error {
		if c == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		l.http = c
		return nil
	}
}

// WithKeyring sets the keys every deb index's InRelease must be signed
// with. Default: the index's archive keys (Debian's or Ubuntu's).
func WithKeyring(k openpgp.KeyRing) ListerOption {
	return func(l *indexLister) error {
		if k == nil {
			return errors.New("WithKeyring: nil keyring")
		}
		l.keyring = k
		return nil
	}
}

// NewLister returns the Lister Discover uses by default.
func NewLister(opts ...ListerOption) (Lister, error) {
	l := &indexLister{http: &http.Client{Timeout: 5 * time.Minute}}
	for _, opt := range opts {
		if err := opt(l); err != nil {
			return nil, err
		}
	}
	if l.cacheDir == "" {
		d, err := debian.CacheDir()
		if err != nil {
			return nil, err
		}
		l.cacheDir = d
	}
	return l, nil
}

func hasPrefix(name string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func (l *indexLister) Packages(ctx context.Context, idx matrix.PackageIndex, prefixes []string) ([]matrix.IndexedPackage, error) {
	switch idx.Kind {
	case matrix.IndexDeb:
		return l.deb(ctx, idx, prefixes)
	case matrix.IndexRPM:
		return l.rpm(ctx, idx, prefixes)
	}
	return nil, fmt.Errorf("unknown package index kind %q", idx.Kind)
}

func (l *indexLister) deb(ctx context.Context, idx matrix.PackageIndex, prefixes []string) ([]matrix.IndexedPackage, error) {
	// A client per call: debian.Client keeps every parsed index in
	// memory, and a whole suite's index is large.
	opts := []debian.Option{debian.WithCacheDir(l.cacheDir), debian.WithHTTPClient(l.http)}
	if l.keyring != nil {
		opts = append(opts, debian.WithKeyring(l.keyring))
	}
	c, err := debian.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	comps := idx.Components
	if len(comps) == 0 {
		comps = []string{"main"}
	}
	var out []matrix.IndexedPackage
	for _, comp := range comps {
		pkgs, err := c.Packages(ctx, idx.DebSuite(comp))
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			if hasPrefix(p.Name, prefixes) {
				out = append(out, matrix.IndexedPackage{Name: p.Name, Version: p.Version, Arch: p.Fields["Architecture"], Summary: p.Description})
			}
		}
	}
	return out, nil
}

func (l *indexLister) rpm(ctx context.Context, idx matrix.PackageIndex, prefixes []string) ([]matrix.IndexedPackage, error) {
	c, err := rpmrepo.NewClient(rpmrepo.WithCacheDir(filepath.Join(l.cacheDir, "index", "rpm")), rpmrepo.WithHTTPClient(l.http))
	if err != nil {
		return nil, err
	}
	pkgs, err := c.Packages(ctx, idx.URL, func(name, arch string) bool {
		return hasPrefix(name, prefixes) && (arch == idx.Arch || arch == "noarch")
	})
	if err != nil {
		return nil, err
	}
	out := make([]matrix.IndexedPackage, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, matrix.IndexedPackage{Name: p.Name, Version: p.Version, RPMRelease: p.Release, Arch: p.Arch})
	}
	return out, nil
}
