package builder

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

type options struct {
	client        Client
	src           fs.FS
	module        string
	moduleVersion string
	cacheDir      string
	log           io.Writer
	pullAttempts  int
	pullBackoff   time.Duration
	signer        *modsign.KeyPair // WithModuleSigner; nil: unsigned
	packages      *debian.Client   // WithPackageClient; nil: one on cacheDir
}

// Option configures New.
type Option func(*options) error

// WithClient sets the engine client. Default: the engine named by the
// environment (DOCKER_HOST), with API version negotiation.
func WithClient(c Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("nil client")
		}
		o.client = c
		return nil
	}
}

// WithSource sets the module source tree, built with `make M=`.
// Default: kmod.Source().
func WithSource(src fs.FS) Option {
	return func(o *options) error {
		if src == nil {
			return errors.New("nil source")
		}
		o.src = src
		return nil
	}
}

// WithModule sets the module's name (its .ko file without the suffix) and
// version. Default: kmod.Name and kmod.Version().
func WithModule(name, version string) Option {
	return func(o *options) error {
		if name == "" || filepath.Base(name) != name || version == "" {
			return fmt.Errorf("bad module name %q or version %q", name, version)
		}
		o.module, o.moduleVersion = name, version
		return nil
	}
}

// WithCacheDir sets the cache directory (debootstrap trees go under
// rootfs/, their packages under debs/debootstrap/).
// Default: debian.CacheDir(), $DNSMON_CACHE or $HOME/.cache/dnsmon.
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("empty cache directory")
		}
		o.cacheDir = dir
		return nil
	}
}

// WithPackageClient sets the client that reads package indexes and
// downloads the header packages of the apt-extract targets. Default: a
// client of matrix/debian on the cache directory, trusting Debian's archive
// keys.
func WithPackageClient(c *debian.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("nil package client")
		}
		o.packages = c
		return nil
	}
}

// WithLog sets where image preparation reports what it does.
// Default: io.Discard.
func WithLog(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			return errors.New("nil log writer")
		}
		o.log = w
		return nil
	}
}

// WithPullRetry sets how often a pull is tried and the first backoff
// (doubled each time). Default: 4 attempts, 2 s.
func WithPullRetry(attempts int, backoff time.Duration) Option {
	return func(o *options) error {
		if attempts < 1 || backoff < 0 {
			return fmt.Errorf("bad pull retry %d/%v", attempts, backoff)
		}
		o.pullAttempts, o.pullBackoff = attempts, backoff
		return nil
	}
}

// parseOptions applies opts over the defaults, all but the engine client,
// which makeOptions opens.
func parseOptions(opts []Option) (*options, error) {
	o := &options{
		module:        kmod.Name,
		moduleVersion: kmod.Version(),
		log:           io.Discard,
		pullAttempts:  4,
		pullBackoff:   2 * time.Second,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, fmt.Errorf("configuring builder: %w", err)
		}
	}
	if o.src == nil {
		o.src = kmod.Source()
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

func makeOptions(opts []Option) (*options, error) {
	o, err := parseOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.client == nil {
		c, err := NewEngineClient()
		if err != nil {
			return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
		}
		o.client = c
	}
	return o, nil
}

// makeOptionsDigest is makeOptions and the digest of the source they build.
func makeOptionsDigest(opts []Option) (*options, string, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, "", err
	}
	sd, err := SourceDigest(o.src)
	if err != nil {
		return nil, "", err
	}
	return o, sd, nil
}
