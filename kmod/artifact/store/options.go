package store

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Option configures Open and Transport.
type Option func(*options) error

type options struct {
	keychain      authn.Keychain
	baseTransport http.RoundTripper
	backoff       transport.Backoff
	nameOpts      []name.Option
	maxBundleSize int64
}

// defaultBackoff is the retry schedule for registry requests: three tries,
// one and three seconds apart.
var defaultBackoff = transport.Backoff{Duration: time.Second, Factor: 3, Jitter: 0.1, Steps: 3}

func makeOptions(opts ...Option) (*options, error) {
	o := &options{
		keychain:      authn.DefaultKeychain,
		baseTransport: http.DefaultTransport,
		backoff:       defaultBackoff,
		maxBundleSize: DefaultMaxBundleSize,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithKeychain sets where registry credentials come from. Default:
// authn.DefaultKeychain (the Docker config, $DOCKER_CONFIG/config.json).
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("WithKeychain: nil keychain")
		}
		o.keychain = k
		return nil
	}
}

// WithTransport sets the HTTP transport under authentication and retries.
// Default: http.DefaultTransport, which honours HTTPS_PROXY and NO_PROXY.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("WithTransport: nil transport")
		}
		o.baseTransport = rt
		return nil
	}
}

// WithRetryBackoff sets the retry schedule of registry requests. Default:
// 3 tries, 1 s then 3 s apart. Steps must be between 1 and 10.
func WithRetryBackoff(b transport.Backoff) Option {
	return func(o *options) error {
		if b.Steps < 1 || b.Steps > 10 {
			return fmt.Errorf("WithRetryBackoff: %d steps, want 1..10", b.Steps)
		}
		o.backoff = b
		return nil
	}
}

// WithInsecureRegistry allows plain HTTP to the registry. Default: HTTPS,
// except for localhost and 127.0.0.1 where go-containerregistry allows HTTP.
func WithInsecureRegistry() Option {
	return func(o *options) error {
		o.nameOpts = append(o.nameOpts, name.Insecure)
		return nil
	}
}

// WithMaxBundleSize caps the decompressed bytes that one pass over a bundle
// reads: the pass that opens it, and each that streams a large blob from
// it. Default: 8 GiB.
func WithMaxBundleSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxBundleSize: %d, want > 0", n)
		}
		o.maxBundleSize = n
		return nil
	}
}
