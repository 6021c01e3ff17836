package debian

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ulikunitz/xz"

	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// Suite names a suite of a Debian archive.
type Suite struct {
	Name      string // e.g. "bookworm", "bookworm-security"
	BaseURL   string // mirror root, e.g. http://deb.debian.org/debian
	Component string // e.g. "main"
	Arch      string // e.g. "amd64"
	// Archive is whose keys must sign the suite's InRelease.
	Archive Archive
}

// Archive names a distribution's archive signing keys. Each suite is
// checked against its own archive's keys only, so that neither
// distribution's key can stand in for the other's.
type Archive string

const (
	// ArchiveDebian is the zero value: Debian's keys (DefaultKeyring).
	ArchiveDebian Archive = ""
	// ArchiveUbuntu is Ubuntu's keys (UbuntuKeyring).
	ArchiveUbuntu Archive = "ubuntu"
)

// DefaultMirror and DefaultSecurityMirror are the archives the project reads.
const (
	DefaultMirror         = "http://deb.debian.org/debian"
	DefaultSecurityMirror = "http://deb.debian.org/debian-security"
)

// SuiteFor returns the main/amd64 suite of that name on the Debian mirrors:
// names ending in "-security" live on the security archive.
func SuiteFor(name string) Suite {
	base := DefaultMirror
	if strings.HasSuffix(name, "-security") {
		base = DefaultSecurityMirror
	}
	return Suite{Name: name, BaseURL: base, Component: "main", Arch: "amd64"}
}

// Client fetches indexes and packages through the cache directory. An index
// is taken only from a suite whose InRelease is signed by a key of the
// client's keyring, and only with the size and SHA-256 that InRelease
// gives it; each package only with the size and SHA-256 of its index.
type Client struct {
	options

	mu      sync.Mutex
	indexes map[string][]Package
}

type options struct {
	cacheDir   string
	http       *http.Client
	maxAge     time.Duration
	now        func() time.Time
	keyring    openpgp.KeyRing
	validUntil bool
}

// Option configures a Client.
type Option func(*options) error

// WithCacheDir sets the cache root; indexes go to DIR/index and packages to
// DIR/debs. Default: CacheDir().
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("empty cache directory")
		}
		o.cacheDir = dir
		return nil
	}
}

// WithHTTPClient sets the HTTP client. Default: a client with a 10 minute
// overall timeout per request.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("nil HTTP client")
		}
		o.http = c
		return nil
	}
}

// WithMaxAge sets how long a cached index is used before it is fetched
// again. Default: 4 hours. A stale index is still used when the mirror
// cannot be reached.
func WithMaxAge(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("negative max age %v", d)
		}
		o.maxAge = d
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

// WithKeyring sets the keys every suite's InRelease must be signed with,
// whatever its Archive. Default: the suite's archive keys, DefaultKeyring
// or UbuntuKeyring.
func WithKeyring(k openpgp.KeyRing) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("nil keyring")
		}
		o.keyring = k
		return nil
	}
}

// WithValidUntil makes an InRelease past its Valid-Until an error. Off by
// default: snapshot mirrors serve suites long past it.
func WithValidUntil(check bool) Option {
	return func(o *options) error {
		o.validUntil = check
		return nil
	}
}

// CacheDir is $DNSMON_CACHE, or $HOME/.cache/dnsmon when it is unset.
func CacheDir() (string, error) {
	if d := os.Getenv("DNSMON_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(home, ".cache", "dnsmon"), nil
}

// NewClient returns a Client.
func NewClient(opts ...Option) (*Client, error) {
	o := options{
		http:   &http.Client{Timeout: 10 * time.Minute},
		maxAge: 4 * time.Hour,
		now:    time.Now,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("configuring debian client: %w", err)
		}
	}
	if o.cacheDir == "" {
		d, err := CacheDir()
		if err != nil {
			return nil, err
		}
		o.cacheDir = d
	}
	return &Client{options: o, indexes: make(map[string][]Package)}, nil
}

// CacheRoot returns the client's cache directory.
func (c *Client) CacheRoot() string { return c.cacheDir }

// indexFormats are tried in order: gzip is fast to decompress, and xz is
// the only one some suites (experimental, the security archive) serve;
// plain Packages is the last resort of small mirrors.
var indexFormats = []string{"Packages.gz", "Packages.xz", "Packages"}

// distsURL is the suite's directory on the mirror.
func (s Suite) distsURL() string {
	return fmt.Sprintf("%s/dists/%s", strings.TrimRight(s.BaseURL, "/"), s.Name)
}

// indexPath is the index file's path below dists/SUITE/, as InRelease
// names it.
func (s Suite) indexPath(format string) string {
	return fmt.Sprintf("%s/binary-%s/%s", s.Component, s.Arch, format)
}

// cacheName names the cached index.  "signed_": only indexes checked
// against their suite's InRelease are cached under such names, so that an
// index an earlier release cached unchecked is never read.
func (s Suite) cacheName(format string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(s.BaseURL, "http://"), "https://")
	key := strings.NewReplacer("/", "_", ":", "_").Replace(strings.Trim(host, "/") + "_" + s.Name + "_" + s.Component + "_" + s.Arch)
	return "signed_" + key + "_" + format
}

// Packages returns the kernel packages (names starting "linux-") of a
// suite's index, from the cache when it is fresh or the mirror cannot be
// reached. Everything this package answers is about kernels, and parsing
// only their stanzas makes resolving a suite several times faster.
func (c *Client) Packages(ctx context.Context, s Suite) ([]Package, error) {
	key := s.BaseURL + " " + s.Name + " " + s.Component + " " + s.Arch
	c.mu.Lock()
	pkgs, ok := c.indexes[key]
	c.mu.Unlock()
	if ok {
		return pkgs, nil
	}
	path, format, err := c.indexFile(ctx, s)
	if err != nil {
		return nil, err
	}
	pkgs, err = readIndexFile(path, format)
	if err != nil {
		return nil, fmt.Errorf("reading index of %q: %w", s.Name, err)
	}
	for i := range pkgs {
		pkgs[i].BaseURL = s.BaseURL
	}
	c.mu.Lock()
	c.indexes[key] = pkgs
	c.mu.Unlock()
	return pkgs, nil
}

// indexFile returns a cached index file of the suite, refreshing it when it
// is older than maxAge.
func (c *Client) indexFile(ctx context.Context, s Suite) (path, format string, err error) {
	dir := filepath.Join(c.cacheDir, "index")
	var stale []string
	for _, f := range indexFormats {
		p := filepath.Join(dir, s.cacheName(f))
		if fi, err := os.Stat(p); err == nil {
			if c.now().Sub(fi.ModTime()) < c.maxAge {
				return p, f, nil
			}
			stale = append(stale, f)
		}
	}
	p, f, err := c.fetchIndex(ctx, s, dir)
	if err == nil {
		return p, f, nil
	}
	if len(stale) > 0 && !errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrIndexDigest) {
		// Offline: a stale index, checked when it was fetched, beats none.
		return filepath.Join(dir, s.cacheName(stale[0])), stale[0], nil
	}
	return "", "", err
}

// ErrIndexDigest is matched by the error for an index file whose size or
// SHA-256 differs from what its suite's signed InRelease says.
var ErrIndexDigest = errors.New("index file does not match the suite's signed InRelease")

// fetchIndex fetches the suite's InRelease, checks its signature, and
// fetches the first index format it lists, checked against it.
func (c *Client) fetchIndex(ctx context.Context, s Suite, dir string) (path, format string, err error) {
	rel, err := c.inRelease(ctx, s)
	if err != nil {
		return "", "", err
	}
	var missing []error
	for _, f := range indexFormats {
		fh, ok := rel.Files[s.indexPath(f)]
		if !ok {
			continue
		}
		url := s.distsURL() + "/" + s.indexPath(f)
		if rel.ByHash {
			// A by-hash file never changes, so a mirror updated between
			// the two requests cannot hand over a newer index.
			url = fmt.Sprintf("%s/%s/binary-%s/by-hash/SHA256/%s", s.distsURL(), s.Component, s.Arch, fh.SHA256)
		}
		p := filepath.Join(dir, s.cacheName(f))
		err := c.fetchFile(ctx, url, p, fh.Size, fh.SHA256)
		var de *DigestError
		if errors.As(err, &de) {
			return "", "", fmt.Errorf("suite %q: %s: %w: %v", s.Name, url, ErrIndexDigest, de)
		}
		if errors.Is(err, ErrNotFound) && ctx.Err() == nil {
			// Release lists the uncompressed Packages that Debian does
			// not serve: try the next format.
			missing = append(missing, err)
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("suite %q: %w", s.Name, err)
		}
		return p, f, nil
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("suite %q: %w", s.Name, errors.Join(missing...))
	}
	return "", "", fmt.Errorf("suite %q: its InRelease lists no index for %s/binary-%s (none of %s)",
		s.Name, s.Component, s.Arch, strings.Join(indexFormats, ", "))
}

// keyringOf returns the keys s's InRelease must be signed with.
func (c *Client) keyringOf(s Suite) (openpgp.KeyRing, error) {
	switch {
	case c.keyring != nil:
		return c.keyring, nil
	case s.Archive == ArchiveDebian:
		return DefaultKeyring()
	case s.Archive == ArchiveUbuntu:
		return UbuntuKeyring()
	}
	return nil, fmt.Errorf("suite %q: unknown archive %q", s.Name, s.Archive)
}

// inRelease fetches and checks dists/SUITE/InRelease.
func (c *Client) inRelease(ctx context.Context, s Suite) (Release, error) {
	url := s.distsURL() + "/InRelease"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Release{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Release{}, fmt.Errorf("fetching index of suite %q: %w", s.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Release{}, fmt.Errorf("fetching index of suite %q: %s: HTTP %s (a suite without a signed InRelease is not read)", s.Name, url, resp.Status)
	}
	// Debian's largest InRelease files are a few hundred kilobytes.
	const maxInRelease = 16 << 20
	data, err := boundedio.ReadAll(resp.Body, maxInRelease)
	if err != nil {
		return Release{}, fmt.Errorf("fetching index of suite %q: %s: %w", s.Name, url, err)
	}
	keys, err := c.keyringOf(s)
	if err != nil {
		return Release{}, err
	}
	rel, err := VerifyInRelease(data, keys)
	if err != nil {
		return Release{}, fmt.Errorf("suite %q: %s: %w (the mirror or the network changed it, or the suite is signed by a key newer than this release's keyring: see matrix/debian/keyring/README.md)", s.Name, url, err)
	}
	if c.validUntil && !rel.ValidUntil.IsZero() && c.now().After(rel.ValidUntil) {
		return Release{}, fmt.Errorf("suite %q: %s expired at %s (Valid-Until): the mirror serves a stale copy", s.Name, url, rel.ValidUntil.Format(time.RFC3339))
	}
	return rel, nil
}

// readIndexFile parses the kernel stanzas of a cached index. They are kept
// beside it, uncompressed, in PATH.linux: resolving a suite then reads a
// few hundred kilobytes instead of decompressing some 70 megabytes, which
// is most of what a farm run that builds nothing costs. The copy carries
// the index's modification time and is remade when the index changes; a
// cache that cannot hold it only makes reading slower.
func readIndexFile(path, format string) ([]Package, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	side := path + ".linux"
	if si, err := os.Stat(side); err != nil || !si.ModTime().Equal(fi.ModTime()) {
		if err := writeKernelStanzas(path, format, side, fi.ModTime()); err != nil {
			return parseIndex(path, format, isKernelPackage)
		}
	}
	pkgs, err := parseIndex(side, "", nil)
	if err != nil {
		// A damaged copy: the index itself is the truth.
		return parseIndex(path, format, isKernelPackage)
	}
	return pkgs, nil
}

func parseIndex(path, format string, keep func(string) bool) ([]Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := decompress(f, format)
	if err != nil {
		return nil, fmt.Errorf("decompressing %q: %w", path, err)
	}
	return ParsePackagesFunc(r, keep)
}

// writeKernelStanzas writes the kernel stanzas of the index at path to
// dest atomically, stamped with mtime.
func writeKernelStanzas(path, format, dest string, mtime time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(f, format)
	if err != nil {
		return fmt.Errorf("decompressing %q: %w", path, err)
	}
	return writeAtomic(dest, mtime, func(w io.Writer) error {
		if err := FilterPackages(r, w, isKernelPackage); err != nil {
			return fmt.Errorf("filtering %q: %w", path, err)
		}
		return nil
	})
}

// isKernelPackage keeps the packages that kernel images, headers and their
// build dependencies (linux-kbuild-*, linux-compiler-*) are made of.
func isKernelPackage(name string) bool { return strings.HasPrefix(name, "linux-") }

// decompress wraps r by the compression its name's extension says.
func decompress(r io.Reader, name string) (io.Reader, error) {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return gzip.NewReader(r)
	case strings.HasSuffix(name, ".xz"):
		return xz.NewReader(r)
	}
	return r, nil
}

// ErrNotFound is returned when the mirror has no such file.
var ErrNotFound = errors.New("not found on the mirror")

// fetchFile downloads url to dest atomically. With size >= 0 and a sha256,
// the body is verified while it is written.
func (c *Client) fetchFile(ctx context.Context, url, dest string, size int64, sha string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetching %q: %w", url, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %q: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("fetching %q: %w", url, ErrNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %q: HTTP %s", url, resp.Status)
	}
	if err := writeVerified(dest, resp.Body, size, sha); err != nil {
		return fmt.Errorf("fetching %q: %w", url, err)
	}
	return nil
}
