package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// registrySource reads a registry repository over the distribution API
// through go-containerregistry's remote package. Every response body is
// capped below it (boundedTransport) and every blob is verified above it
// (ReadBlob), so the caps and the digest errors stay ours.
type registrySource struct {
	repo   name.Repository
	puller *remote.Puller
	base   *boundedTransport
	// maxTagPages bounds the pagination of a tag list; defaultMaxTagPages
	// unless a test lowers it.
	maxTagPages int
}

var _ Source = (*registrySource)(nil)

// defaultMaxTagPages stops a registry that links page after page forever.
// It is far above any real listing (registries serve up to 1000 tags a
// page, some only 100): a listing is never cut short quietly, because a
// missing tag would make the newest version look older than it is.
const defaultMaxTagPages = 10000

// tagPageSize is the n= of a tag list request: the most registries serve.
const tagPageSize = 1000

// retryStatusCodes are the responses worth asking again.
var retryStatusCodes = []int{http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// Transport returns the authenticated, retrying transport the options
// describe for repo with the given scopes (transport.PullScope or
// transport.PushScope); registries are reached through
// http.ProxyFromEnvironment.
func Transport(ctx context.Context, repo name.Repository, scopes []string, opts ...Option) (http.RoundTripper, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	return o.transport(ctx, repo, o.baseTransport, scopes)
}

// transport pings the registry and authenticates to it over base, so that
// a registry out of reach is an error of Open. The result is a
// *transport.Wrapper, which go-containerregistry's remote package uses as
// it is: the retries and the caps below it are the ones set here.
func (o *options) transport(ctx context.Context, repo name.Repository, base http.RoundTripper, scopes []string) (http.RoundTripper, error) {
	auth, err := o.keychain.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %q: %w", repo, err)
	}
	rt := transport.NewRetry(base,
		transport.WithRetryBackoff(o.backoff),
		transport.WithRetryStatusCodes(retryStatusCodes...))
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, rt, scopes)
	if err != nil {
		return nil, fmt.Errorf("reaching registry %s: %w", repo.RegistryStr(), err)
	}
	return tr, nil
}

func openRegistry(ctx context.Context, src string, o *options) (*registrySource, error) {
	repo, err := name.NewRepository(src, o.nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("source %q is not a repository (want REGISTRY/REPO, oci-layout:DIR or FILE.tar.zst): %w", src, err)
	}
	base := &boundedTransport{next: o.baseTransport}
	tr, err := o.transport(ctx, repo, base, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, err
	}
	p, err := remote.NewPuller(remote.WithTransport(tr), remote.WithPageSize(tagPageSize))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", repo, err)
	}
	return &registrySource{repo: repo, puller: p, base: base, maxTagPages: defaultMaxTagPages}, nil
}

func (r *registrySource) String() string { return r.repo.String() }

func (r *registrySource) Close() error {
	r.base.closeIdle()
	return nil
}

// notFound makes a registry's 404 an error wrapping ErrNotFound.
func notFound(err error) error {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// ref makes a tag or "sha256:…" digest a reference in the repository,
// which keeps its insecure flag. A tag is checked against the distribution
// rules first: it ends up in a URL path.
func (r *registrySource) ref(ref string) (name.Reference, error) {
	if h, err := v1.NewHash(ref); err == nil {
		return r.repo.Digest(h.String()), nil
	}
	if _, err := name.NewTag(r.repo.Name()+":"+ref, name.StrictValidation); err != nil {
		return nil, err
	}
	return r.repo.Tag(ref), nil
}

// Manifest reads the manifest ref names. go-containerregistry checks a
// manifest asked for by digest against it; ReadManifest checks it again.
func (r *registrySource) Manifest(ctx context.Context, ref string, max int64) ([]byte, error) {
	nref, err := r.ref(ref)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s:%s: %w", r.repo, ref, err)
	}
	d, err := r.puller.Get(ctx, nref)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s:%s: %w", r.repo, ref, notFound(err))
	}
	if int64(len(d.Manifest)) > max {
		return nil, fmt.Errorf("manifest %s:%s is %d bytes, more than %d", r.repo, ref, len(d.Manifest), max)
	}
	return d.Manifest, nil
}

// Blob opens the blob h. go-containerregistry checks what it streams
// against h; ReadBlob caps it at the size the descriptor gives and checks it
// again, so a wrong blob is a *DigestError.
func (r *registrySource) Blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	l, err := r.puller.Layer(ctx, r.repo.Digest(h.String()))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s@%s: %w", r.repo, h, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("reading blob %s@%s: %w", r.repo, h, notFound(err))
	}
	return rc, nil
}

// Tags follows every page of the tag list (the Link header's rel="next",
// through go-containerregistry's Lister) and fails rather than return part
// of it: a page that fails to load, a link it cannot follow, a link back to
// a page already read and more than maxTagPages pages are errors.
func (r *registrySource) Tags(ctx context.Context) ([]string, error) {
	l, err := r.puller.Lister(ctx, r.repo)
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", r.repo, notFound(err))
	}
	var all []string
	seen := map[string]bool{}
	for page := 0; l.HasNext(); page++ {
		if page == r.maxTagPages {
			return nil, fmt.Errorf("listing tags of %s: more than %d pages (%d tags so far): refusing a partial listing", r.repo, r.maxTagPages, len(all))
		}
		tags, err := l.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing tags of %s after %d pages: %w: refusing a partial listing", r.repo, page, err)
		}
		all = append(all, tags.Tags...)
		if tags.Next == "" {
			continue
		}
		if seen[tags.Next] {
			return nil, fmt.Errorf("listing tags of %s: the registry links back to page %s: refusing a partial listing", r.repo, tags.Next)
		}
		seen[tags.Next] = true
	}
	return all, nil
}

// Response caps of boundedTransport. Blob bodies are not capped here:
// ReadBlob stops at the size their descriptor gives.
const (
	// maxTagPage caps one page of a tag list (1000 tags of at most 128
	// bytes fit in 140 KiB).
	maxTagPage = 16 << 20
	// maxOtherResponse caps the other responses: the /v2/ ping, tokens
	// and errors.
	maxOtherResponse = 1 << 20
)

// boundedTransport caps the bodies of a registry's responses below
// go-containerregistry, which reads manifests up to 100 MiB and a tag list
// page without a cap: a manifest stops at artifact.MaxManifestSize, a page
// at maxTagPage. Reading past the cap is an error wrapping
// boundedio.ErrTooLarge, never a short body.
type boundedTransport struct {
	next http.RoundTripper
}

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet {
		return resp, err
	}
	var max int64
	switch p := req.URL.Path; {
	case strings.Contains(p, "/blobs/"):
		return resp, nil
	case strings.Contains(p, "/manifests/"):
		max = artifact.MaxManifestSize
	case strings.HasSuffix(p, "/tags/list"):
		max = maxTagPage
	default:
		max = maxOtherResponse
	}
	if resp.ContentLength > max {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %d bytes: %w: more than %d bytes", req.URL.Redacted(), resp.ContentLength, boundedio.ErrTooLarge, max)
	}
	resp.Body = boundedio.NewReadCloser(resp.Body, max)
	return resp, nil
}

func (t *boundedTransport) closeIdle() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
