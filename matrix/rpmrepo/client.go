package rpmrepo

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// Client reads repositories over HTTP. Primary listings are cached by their
// checksum, so an unchanged repository costs one repomd.xml request.
type Client struct {
	http     *http.Client
	cacheDir string
}

type options struct {
	http     *http.Client
	cacheDir string
}

// Option configures NewClient.
type Option func(*options) error

// WithHTTPClient sets the HTTP client. Default: a client with a 10 minute
// timeout per request.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		o.http = c
		return nil
	}
}

// WithCacheDir sets where primary listings are kept, by checksum. Default:
// none (every call downloads the listing).
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("WithCacheDir: empty directory")
		}
		o.cacheDir = dir
		return nil
	}
}

// NewClient returns a Client.
func NewClient(opts ...Option) (*Client, error) {
	o := options{http: &http.Client{Timeout: 10 * time.Minute}}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("configuring rpm repository client: %w", err)
		}
	}
	return &Client{http: o.http, cacheDir: o.cacheDir}, nil
}

// MirrorListSuffix marks a base URL that is a mirror list (one URL a line,
// as Amazon Linux serves): the first URL in it is the repository.
const MirrorListSuffix = "mirror.list"

// Packages reads the primary listing of the repository at baseURL (the
// directory holding repodata/) and returns the packages keep selects.
func (c *Client) Packages(ctx context.Context, baseURL string, keep func(name, arch string) bool) ([]Package, error) {
	base, err := c.resolveBase(ctx, baseURL)
	if err != nil {
		return nil, err
	}
	md, err := c.get(ctx, base+"repodata/repomd.xml", maxRepomd)
	if err != nil {
		return nil, err
	}
	data, err := ParseRepomd(strings.NewReader(string(md)))
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", base, err)
	}
	pd, err := Primary(data)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", base, err)
	}
	file, cleanup, err := c.primaryFile(ctx, base, pd)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", base, err)
	}
	defer f.Close()
	r, done, err := Decompress(bufio.NewReader(f), pd.Href)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", base, err)
	}
	defer done()
	pkgs, err := ParsePrimary(r, keep)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %s: %w", base, pd.Href, err)
	}
	return pkgs, nil
}

// resolveBase follows a mirror list and returns the base URL with a
// trailing slash.
func (c *Client) resolveBase(ctx context.Context, baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("repository %q: not an http(s) URL", baseURL)
	}
	if !strings.HasSuffix(u.Path, "/"+MirrorListSuffix) {
		return strings.TrimRight(baseURL, "/") + "/", nil
	}
	b, err := c.get(ctx, baseURL, 1<<16)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://") {
			return strings.TrimRight(line, "/") + "/", nil
		}
	}
	return "", fmt.Errorf("mirror list %q names no http(s) URL: %w", baseURL, ErrMalformed)
}

// ErrNotFound is returned when the repository has no such file.
var ErrNotFound = errors.New("not found in the repository")

func (c *Client) open(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", u, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", u, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.Body, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("fetching %q: %w", u, ErrNotFound)
	}
	resp.Body.Close()
	return nil, fmt.Errorf("fetching %q: HTTP %s", u, resp.Status)
}

func (c *Client) get(ctx context.Context, u string, max int64) ([]byte, error) {
	body, err := c.open(ctx, u)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := boundedio.ReadAll(body, max)
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", u, err)
	}
	return b, nil
}

func newHash(kind string) (hash.Hash, error) {
	switch kind {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "sha", "sha1":
		return sha1.New(), nil
	}
	return nil, fmt.Errorf("unsupported checksum type %q: %w", kind, ErrMalformed)
}

// ChecksumError is returned when a metadata file does not match the
// checksum repomd.xml gives for it.
type ChecksumError struct {
	URL       string
	Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: checksum %s, repomd.xml says %s", e.URL, e.Got, e.Want)
}

// primaryFile returns a local copy of the primary listing, verified against
// repomd.xml's checksum: the cached one when present, else a download.
func (c *Client) primaryFile(ctx context.Context, base string, d Data) (string, func(), error) {
	if _, err := newHash(d.ChecksumType); err != nil {
		return "", nil, fmt.Errorf("repository %q: %w", base, err)
	}
	if d.Checksum == "" || strings.ContainsAny(d.Checksum, "/\\.") {
		return "", nil, fmt.Errorf("repository %q: primary without a checksum: %w", base, ErrMalformed)
	}
	name := d.ChecksumType + "-" + d.Checksum + "-" + path.Base(d.Href)
	var dest string
	cleanup := func() {}
	if c.cacheDir != "" {
		dest = filepath.Join(c.cacheDir, name)
		if _, err := os.Stat(dest); err == nil {
			return dest, cleanup, nil
		}
		if err := os.MkdirAll(c.cacheDir, 0o755); err != nil {
			return "", nil, fmt.Errorf("repository %q: %w", base, err)
		}
	} else {
		dir, err := os.MkdirTemp("", "rpmrepo-")
		if err != nil {
			return "", nil, fmt.Errorf("repository %q: %w", base, err)
		}
		dest = filepath.Join(dir, name)
		cleanup = func() { os.RemoveAll(dir) }
	}
	u := base + strings.TrimLeft(d.Href, "/")
	body, err := c.open(ctx, u)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	defer body.Close()
	h, _ := newHash(d.ChecksumType)
	err = atomicfile.WriteFunc(dest, 0o644, func(w io.Writer) error {
		if _, err := io.Copy(io.MultiWriter(w, h), body); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != d.Checksum {
			return &ChecksumError{URL: u, Want: d.Checksum, Got: got}
		}
		return nil
	})
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("fetching %q: %w", u, err)
	}
	return dest, cleanup, nil
}
