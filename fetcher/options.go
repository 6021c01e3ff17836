package fetcher

import (
	"crypto/ecdsa"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/fetcher/internal/hostopt"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// Option configures Fetch, FetchAndInstall, FetchAndInstallKernels and List.
type Option func(*options) error

type options struct {
	store []store.Option // registry access and bundle limits
	hostopt.Logger

	source   string
	release  string
	arch     string
	version  string
	output   string
	keys     []*ecdsa.PublicKey
	keyFiles []string
	insecure bool
	host     func() (Host, error)
	now      func() time.Time
	root     string
	distro   string
	install  []install.Option
	certPath string // WithCertPath (modcert.go)
	// WithAllowRollback, WithAllowExpired (freshness.go)
	allowRollback, allowExpired bool
}

// DefaultSource is the registry repository dnsmon-fetch reads when no
// source is given.
const DefaultSource = "ghcr.io/dnsmon/modules"

func makeOptions(opts ...Option) (*options, error) {
	return hostopt.Apply(&options{
		source: DefaultSource,
		host:   DetectHost,
		now:    time.Now,
		Logger: hostopt.Logger{Log: io.Discard},
		root:   "/",
	}, opts)
}

// WithKeychain sets where registry credentials come from, as
// store.WithKeychain does. Default: authn.DefaultKeychain.
func WithKeychain(k authn.Keychain) Option { return withStore(store.WithKeychain(k)) }

// WithTransport sets the HTTP transport under authentication and retries,
// as store.WithTransport does. Default: http.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option { return withStore(store.WithTransport(rt)) }

// WithRetryBackoff sets the retry schedule of registry requests, as
// store.WithRetryBackoff does. Default: 3 tries, 1 s then 3 s apart.
func WithRetryBackoff(b transport.Backoff) Option { return withStore(store.WithRetryBackoff(b)) }

// WithInsecureRegistry allows plain HTTP to the registry, as
// store.WithInsecureRegistry does. Default: HTTPS, except for localhost.
func WithInsecureRegistry() Option { return withStore(store.WithInsecureRegistry()) }

// WithMaxBundleSize caps the decompressed size of a bundle, as
// store.WithMaxBundleSize does. Default: store.DefaultMaxBundleSize.
func WithMaxBundleSize(n int64) Option { return withStore(store.WithMaxBundleSize(n)) }

// withStore keeps a store option for when the source is opened, where a
// bad value is reported.
func withStore(so store.Option) Option {
	return func(o *options) error {
		o.store = append(o.store, so)
		return nil
	}
}

// WithSource sets where Fetch reads: REGISTRY/REPO, oci-layout:DIR or a
// bundle file. Default: DefaultSource.
func WithSource(src string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.source, src, "WithSource", "source") }
}

// WithRelease sets the target kernel release. Default: the running
// kernel's (`uname -r`).
func WithRelease(release string) Option {
	return func(o *options) error {
		return hostopt.SetChecked(&o.release, release, "WithRelease", modinfo.ValidateRelease)
	}
}

// WithArch sets the target architecture (GOARCH spelling). Default: the
// running kernel's machine (`uname -m`, mapped to GOARCH names).
func WithArch(arch string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.arch, arch, "WithArch", "arch") }
}

// WithVersion sets the module version. Default: the newest version in the
// source.
func WithVersion(v string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.version, v, "WithVersion", "version") }
}

// WithOutput sets the file to write; the state Fetch keeps (the serials
// seen, the module signing certificate) then goes beside it. Default:
// kmod.DefaultPath(release) under WithRoot.
func WithOutput(path string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.output, path, "WithOutput", "path") }
}

// WithPublicKey adds a key signatures may verify with; a signature by any
// of the keys given verifies (old and new during a rotation). There is no
// default: Fetch needs a key or WithInsecureSkipVerify.
func WithPublicKey(k *ecdsa.PublicKey) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("WithPublicKey: nil key")
		}
		o.keys = append(o.keys, k)
		return nil
	}
}

// WithPublicKeyFile adds a key, read from a PEM file when Fetch starts, as
// WithPublicKey does. No default.
func WithPublicKeyFile(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("WithPublicKeyFile: empty path")
		}
		o.keyFiles = append(o.keyFiles, path)
		return nil
	}
}

// WithInsecureSkipVerify skips the signature check (digests and vermagic
// are still checked). Default: signatures are required.
func WithInsecureSkipVerify() Option {
	return func(o *options) error {
		o.insecure = true
		return nil
	}
}

// WithHost replaces host detection, for tests. Default: DetectHost.
func WithHost(h Host) Option {
	return func(o *options) error {
		o.host = func() (Host, error) { return h, nil }
		return nil
	}
}

// WithClock sets the clock for the record's time. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		o.now = now
		return nil
	}
}

// WithLogger sets where progress lines go. Default: io.Discard.
func WithLogger(w io.Writer) Option {
	return func(o *options) error { return o.SetLogger(w) }
}

// WithRoot makes Fetch, FetchAndInstall and FetchAndInstallKernels work on
// the system under dir: its /lib/modules, the install manifest and the
// state under /var/lib/dnsmon (the serials seen, see SerialsFile, which
// List checks too). Default: "/".
func WithRoot(dir string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.root, dir, "WithRoot", "directory") }
}

// WithDistro makes List return only the kernels of a distribution: "debian"
// matches every "debian-N", "debian-12" only itself. Default: all.
func WithDistro(d string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.distro, d, "WithDistro", "distribution") }
}

// WithInstallOptions passes options to the install package (a fake
// filesystem or depmod, for tests). Default: none.
func WithInstallOptions(opts ...install.Option) Option {
	return func(o *options) error {
		o.install = append(o.install, opts...)
		return nil
	}
}
