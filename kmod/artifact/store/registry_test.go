package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// noRetry makes a failing request fail at once.
var noRetry = WithRetryBackoff(transport.Backoff{Steps: 1})

// tagServer serves REPO's tag list one tag a page, tags t0…t(n-1), with
// page(w, p) writing page p (and its Link header) and link(p) as the Link
// header of the page before p (no header when it returns "").
func tagServer(t *testing.T, n int, link func(next int) string, page func(w http.ResponseWriter, p int)) *registrySource {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return // the ping: no authentication
		}
		if r.URL.Path != "/v2/dnsmon/modules/tags/list" {
			http.NotFound(w, r)
			return
		}
		p := 0
		if l := r.URL.Query().Get("last"); l != "" {
			i, err := strconv.Atoi(strings.TrimPrefix(l, "t"))
			if err != nil {
				http.Error(w, "bad last", http.StatusBadRequest)
				return
			}
			p = i + 1
		}
		if p+1 < n {
			if l := link(p + 1); l != "" {
				w.Header().Set("Link", l)
			}
		}
		page(w, p)
	}))
	t.Cleanup(srv.Close)
	src, err := Open(context.Background(), strings.TrimPrefix(srv.URL, "http://")+"/dnsmon/modules", noRetry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src.(*registrySource)
}

func TestRegistryTagsPages(t *testing.T) {
	next := func(p int) string {
		return fmt.Sprintf(`</v2/dnsmon/modules/tags/list?n=1&last=t%d>; rel="next"`, p-1)
	}
	good := func(w http.ResponseWriter, p int) {
		fmt.Fprintf(w, `{"name":"dnsmon/modules","tags":["t%d"]}`, p)
	}
	brokenAt := func(bad int, write func(w http.ResponseWriter)) func(http.ResponseWriter, int) {
		return func(w http.ResponseWriter, p int) {
			if p == bad {
				write(w)
				return
			}
			good(w, p)
		}
	}
	for name, c := range map[string]struct {
		pages    int
		maxPages int
		link     func(int) string
		page     func(http.ResponseWriter, int)
		wantErr  string
		wantIs   error
	}{
		"one page": {pages: 1, link: next},
		// Past the 100 pages the listing used to stop at, quietly.
		"every one of 150 pages": {pages: 150, link: next},
		"more pages than the bound": {pages: 20, maxPages: 5, link: next,
			wantErr: "more than 5 pages (5 tags so far): refusing a partial listing"},
		"a link back to an earlier page": {pages: 10, link: func(int) string {
			return `</v2/dnsmon/modules/tags/list?n=1&last=t0>; rel="next"`
		}, wantErr: "links back to page"},
		"a malformed link": {pages: 3, link: func(int) string { return "/v2/dnsmon/modules/tags/list?last=t0" },
			wantErr: "failed to parse link header"},
		"a link to another host": {pages: 3, link: func(int) string {
			return `<http://elsewhere.invalid/v2/dnsmon/modules/tags/list?last=t0>; rel="next"`
		}, wantErr: "pagination URL host does not match registry host"},
		"a page that fails": {pages: 5, link: next,
			page: brokenAt(3, func(w http.ResponseWriter) {
				http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"disk on fire"}]}`, http.StatusInternalServerError)
			}),
			wantErr: "after 3 pages: "},
		"a page that is not JSON": {pages: 5, link: next,
			page:    brokenAt(2, func(w http.ResponseWriter) { io.WriteString(w, `{"tags":["t2"`) }),
			wantErr: "after 2 pages: unexpected EOF: refusing a partial listing"},
		"a page over the cap": {pages: 3, link: next,
			page: brokenAt(1, func(w http.ResponseWriter) {
				fmt.Fprintf(w, `{"tags":["%s"]}`, strings.Repeat("x", maxTagPage))
			}),
			wantIs: boundedio.ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			if c.page == nil {
				c.page = good
			}
			src := tagServer(t, c.pages, c.link, c.page)
			if c.maxPages != 0 {
				src.maxTagPages = c.maxPages
			}
			tags, err := src.Tags(context.Background())
			if c.wantErr != "" || c.wantIs != nil {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || (c.wantIs != nil && !errors.Is(err, c.wantIs)) {
					t.Fatalf("Tags: %d tags, error %v; want an error containing %q (is %v)", len(tags), err, c.wantErr, c.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tags) != c.pages || tags[0] != "t0" || tags[len(tags)-1] != fmt.Sprintf("t%d", c.pages-1) {
				t.Errorf("Tags: %d tags (%v … ), want t0…t%d", len(tags), tags[:min(3, len(tags))], c.pages-1)
			}
		})
	}
}

// startRegistry serves go-containerregistry's in-process registry, with
// wrap (if not nil) in front of it, and returns its host:port.
func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestRegistryReads(t *testing.T) {
	ctx := context.Background()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	mfDigest, _ := img.Digest()
	rawMF, _ := img.RawManifest()
	mf, _ := img.Manifest()
	layer := mf.Layers[0]
	big := make([]byte, artifact.MaxManifestSize+1) // served for tag "big"
	flipped := mf.Layers[1].Digest.String()         // served with a byte flipped
	addr := startRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/manifests/big"):
				w.Write(big)
			case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+flipped):
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				b := rec.Body.Bytes()
				b[len(b)/2] ^= 0xff
				w.Write(b)
			default:
				h.ServeHTTP(w, r)
			}
		})
	})
	repo := addr + "/dnsmon/modules"
	if err := remote.Write(mustTag(t, repo+":0.1.0"), img); err != nil {
		t.Fatal(err)
	}

	src, err := Open(ctx, repo, noRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	t.Run("manifest by tag and by digest", func(t *testing.T) {
		for _, ref := range []string{"0.1.0", mfDigest.String()} {
			got, err := ReadManifest(ctx, src, ref)
			if err != nil || string(got) != string(rawMF) {
				t.Errorf("ReadManifest(%s): %d bytes, %v; want the %d pushed", ref, len(got), err, len(rawMF))
			}
		}
	})
	t.Run("blob", func(t *testing.T) {
		got, err := ReadBlob(ctx, src, layer, 1<<20)
		if err != nil || artifact.Digest(got) != layer.Digest {
			t.Errorf("ReadBlob: %d bytes, %v; want %s", len(got), err, layer.Digest)
		}
	})
	t.Run("blob shorter than its descriptor", func(t *testing.T) {
		d := layer
		d.Size++
		var de *DigestError
		if _, err := ReadBlob(ctx, src, d, 1<<20); !errors.As(err, &de) {
			t.Errorf("ReadBlob: %v, want a *DigestError", err)
		}
	})
	t.Run("blob longer than its descriptor", func(t *testing.T) {
		d := layer
		d.Size--
		var de *DigestError
		if _, err := ReadBlob(ctx, src, d, 1<<20); !errors.As(err, &de) {
			t.Errorf("ReadBlob: %v, want a *DigestError", err)
		}
	})
	t.Run("tampered blob", func(t *testing.T) {
		var de *DigestError
		if _, err := ReadBlob(ctx, src, mf.Layers[1], 1<<20); !errors.As(err, &de) || de.Got == (v1.Hash{}) {
			t.Errorf("ReadBlob: %v, want a *DigestError with the digest of what came", err)
		}
	})
	t.Run("tags", func(t *testing.T) {
		tags, err := src.Tags(ctx)
		if err != nil || len(tags) != 1 || tags[0] != "0.1.0" {
			t.Errorf("Tags: %v, %v; want [0.1.0]", tags, err)
		}
	})
	for name, c := range map[string]struct {
		read   func() error
		wantIs error
	}{
		"missing tag": {read: func() error { _, err := ReadManifest(ctx, src, "9.9.9"); return err }, wantIs: ErrNotFound},
		"missing manifest digest": {read: func() error {
			_, err := ReadManifest(ctx, src, artifact.Digest([]byte("none")).String())
			return err
		}, wantIs: ErrNotFound},
		"missing blob": {read: func() error {
			_, err := ReadBlob(ctx, src, v1.Descriptor{Digest: artifact.Digest([]byte("none")), Size: 4}, 4)
			return err
		}, wantIs: ErrNotFound},
		"missing repository": {read: func() error {
			s, err := Open(ctx, addr+"/none", noRetry)
			if err != nil {
				return err
			}
			_, err = s.Tags(ctx)
			return err
		}, wantIs: ErrNotFound},
		// go-containerregistry alone would read it, up to 100 MiB.
		"manifest over the cap": {read: func() error { _, err := ReadManifest(ctx, src, "big"); return err }, wantIs: boundedio.ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.read(); !errors.Is(err, c.wantIs) {
				t.Errorf("err = %v, want %v", err, c.wantIs)
			}
		})
	}
}

// TestRegistryInsecure checks that WithInsecureRegistry reaches a registry
// that is not on the loopback names over plain HTTP, and that without it
// the same name is never reached over plain HTTP.
func TestRegistryInsecure(t *testing.T) {
	addr := startRegistry(t, nil)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(mustTag(t, addr+"/dnsmon/modules:0.1.0"), img); err != nil {
		t.Fatal(err)
	}
	for name, insecure := range map[string]bool{"insecure": true, "default": false} {
		t.Run(name, func(t *testing.T) {
			rt := &redirectTransport{to: addr}
			opts := []Option{WithTransport(rt), noRetry}
			if insecure {
				opts = append(opts, WithInsecureRegistry())
			}
			var tags []string
			src, err := Open(context.Background(), "registry.dnsmon.test/dnsmon/modules", opts...)
			if err == nil {
				tags, err = src.Tags(context.Background())
				src.Close()
			}
			plain := slices.Contains(rt.seen(), "http")
			switch {
			case insecure && (err != nil || len(tags) != 1):
				t.Errorf("Tags: %v, %v; want [0.1.0]", tags, err)
			case !insecure && (plain || err == nil):
				t.Errorf("Tags: %v, %v, schemes %v; want HTTPS only, and so an error", tags, err, rt.seen())
			}
		})
	}
}

// redirectTransport sends every plain-HTTP request to the registry at to,
// whatever its host, refuses HTTPS ones, and records the schemes asked for.
type redirectTransport struct {
	to      string
	mu      sync.Mutex
	schemes []string
}

func (rt *redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.schemes = append(rt.schemes, req.URL.Scheme)
	rt.mu.Unlock()
	if req.URL.Scheme != "http" {
		return nil, errors.New("no TLS in this test")
	}
	r := req.Clone(req.Context())
	r.URL.Host = rt.to
	r.Host = ""
	return http.DefaultTransport.RoundTrip(r)
}

func (rt *redirectTransport) seen() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.schemes...)
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}
