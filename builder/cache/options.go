package cache

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Kind is a kind of cache entry.
type Kind string

// The kinds of entries Prune removes.
const (
	// Trees are the unpacked header trees, CACHE/trees/KEY.
	Trees Kind = "tree"
	// Packages are the downloaded .deb files, CACHE/debs/*.deb.
	Packages Kind = "package"
	// Images are the builder images in the engine labelled
	// dev.dnsmon.farm=1: dnsmon-base, dnsmon-toolchain, dnsmon-headers.
	Images Kind = "image"
)

type options struct {
	cacheDir   string
	maxAge     time.Duration
	hasMaxAge  bool
	maxSize    int64
	hasMaxSize bool
	dryRun     bool
	kinds      map[Kind]bool
	engine     Engine
	packages   *debian.Client
	log        io.Writer
	now        func() time.Time
}

// Option configures Prune.
type Option func(*options) error

// WithCacheDir sets the cache directory. Default: debian.CacheDir(),
// $DNSMON_CACHE or $HOME/.cache/dnsmon.
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("empty cache directory")
		}
		o.cacheDir = dir
		return nil
	}
}

// WithMaxAge removes every entry not used for d (0: every entry). Default:
// no age limit.
func WithMaxAge(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("negative maximum age %v", d)
		}
		o.maxAge, o.hasMaxAge = d, true
		return nil
	}
}

// WithMaxSize then removes the least recently used entries until the
// entries of the kinds pruned take at most n bytes. Default: no size
// limit.
func WithMaxSize(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("negative maximum size %d", n)
		}
		o.maxSize, o.hasMaxSize = n, true
		return nil
	}
}

// WithDryRun reports what would be removed and removes nothing. Default:
// off.
func WithDryRun(dry bool) Option {
	return func(o *options) error {
		o.dryRun = dry
		return nil
	}
}

// WithKinds prunes only the kinds given, and counts only them against
// the size limit. Default: Trees, Packages and Images.
func WithKinds(kinds ...Kind) Option {
	return func(o *options) error {
		if len(kinds) == 0 {
			return errors.New("no kinds of entries to prune")
		}
		o.kinds = map[Kind]bool{}
		for _, k := range kinds {
			switch k {
			case Trees, Packages, Images:
				o.kinds[k] = true
			default:
				return fmt.Errorf("unknown kind of cache entry %q", k)
			}
		}
		return nil
	}
}

// WithEngine sets the Docker engine whose builder images are pruned.
// Default: the engine named by the environment (DOCKER_HOST).
func WithEngine(e Engine) Option {
	return func(o *options) error {
		if e == nil {
			return errors.New("nil engine")
		}
		o.engine = e
		return nil
	}
}

// WithPackageClient sets the client that reads the package indexes, to
// tell which kernels the mirrors no longer serve. Default: a client of
// matrix/debian on the cache directory, trusting Debian's archive keys.
func WithPackageClient(c *debian.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("nil package client")
		}
		o.packages = c
		return nil
	}
}

// WithLog sets where Prune writes one line per entry it removes, keeps or
// skips. Default: io.Discard.
func WithLog(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			return errors.New("nil log writer")
		}
		o.log = w
		return nil
	}
}

// WithClock replaces time.Now, for tests. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("nil clock")
		}
		o.now = now
		return nil
	}
}

func parseOptions(opts []Option) (*options, error) {
	o := &options{
		kinds: map[Kind]bool{Trees: true, Packages: true, Images: true},
		log:   io.Discard,
		now:   time.Now,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("configuring prune: %w", err)
		}
	}
	if !o.hasMaxAge && !o.hasMaxSize {
		return nil, errors.New("configuring prune: neither a maximum age nor a maximum size: nothing would be removed")
	}
	if o.cacheDir == "" {
		d, err := debian.CacheDir()
		if err != nil {
			return nil, err
		}
		o.cacheDir = d
	}
	return o, nil
}
