package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// registrySource reads a registry repository over the distribution API.
// It does its own GETs (through go-containerregistry's authenticating,
// retrying transport) so that content checks and their errors are ours.
type registrySource struct {
	repo   name.Repository
	client *http.Client
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

// Transport returns the authenticated, retrying transport the options
// describe for repo with the given scopes (transport.PullScope or
// transport.PushScope); registries are reached through
// http.ProxyFromEnvironment.
func Transport(ctx context.Context, repo name.Repository, scopes []string, opts ...Option) (http.RoundTripper, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	return o.transport(ctx, repo, scopes)
}

func (o *options) transport(ctx context.Context, repo name.Repository, scopes []string) (http.RoundTripper, error) {
	auth, err := o.keychain.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %q: %w", repo, err)
	}
	rt := transport.NewRetry(o.baseTransport,
		transport.WithRetryBackoff(o.backoff),
		transport.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout))
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
	tr, err := o.transport(ctx, repo, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, err
	}
	return &registrySource{repo: repo, client: &http.Client{Transport: tr}, maxTagPages: defaultMaxTagPages}, nil
}

func (r *registrySource) String() string { return r.repo.String() }

func (r *registrySource) Close() error {
	r.client.CloseIdleConnections()
	return nil
}

func (r *registrySource) url(path string) string {
	u := url.URL{Scheme: r.repo.Scheme(), Host: r.repo.RegistryStr(), Path: "/v2/" + r.repo.RepositoryStr() + path}
	return u.String()
}

func (r *registrySource) get(ctx context.Context, u string, accept []types.MediaType) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var as []string
	for _, a := range accept {
		as = append(as, string(a))
	}
	if len(as) > 0 {
		req.Header.Set("Accept", strings.Join(as, ","))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, ErrNotFound
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

var manifestTypes = []types.MediaType{types.OCIManifestSchema1, types.OCIImageIndex, types.DockerManifestSchema2, types.DockerManifestList}

func (r *registrySource) Manifest(ctx context.Context, ref string, max int64) ([]byte, error) {
	resp, err := r.get(ctx, r.url("/manifests/"+ref), manifestTypes)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s:%s: %w", r.repo, ref, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > max {
		return nil, fmt.Errorf("manifest %s:%s is %d bytes, more than %d", r.repo, ref, resp.ContentLength, max)
	}
	b, err := boundedio.ReadAll(resp.Body, max)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s:%s: %w", r.repo, ref, err)
	}
	return b, nil
}

func (r *registrySource) Blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	resp, err := r.get(ctx, r.url("/blobs/"+h.String()), nil)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s@%s: %w", r.repo, h, err)
	}
	return resp.Body, nil
}

// Tags follows every page of the tag list (the Link header's rel="next")
// and fails rather than return part of it.
func (r *registrySource) Tags(ctx context.Context) ([]string, error) {
	var all []string
	next := r.url("/tags/list") + "?n=1000"
	seen := map[string]bool{}
	for page := 0; next != ""; page++ {
		if page == r.maxTagPages {
			return nil, fmt.Errorf("listing tags of %s: more than %d pages (%d tags so far): refusing a partial listing", r.repo, r.maxTagPages, len(all))
		}
		if seen[next] {
			return nil, fmt.Errorf("listing tags of %s: the registry links back to page %s: refusing a partial listing", r.repo, next)
		}
		seen[next] = true
		resp, err := r.get(ctx, next, nil)
		if err != nil {
			return nil, fmt.Errorf("listing tags of %s: %w", r.repo, err)
		}
		var body struct {
			Tags []string `json:"tags"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&body)
		link := resp.Header.Get("Link")
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("listing tags of %s: %w", r.repo, err)
		}
		all = append(all, body.Tags...)
		if next, err = nextPage(resp.Request.URL, link); err != nil {
			return nil, fmt.Errorf("listing tags of %s: %w", r.repo, err)
		}
	}
	return all, nil
}

// nextPage returns the URL of the next page that a tag list's Link header
// names (`</v2/REPO/tags/list?n=1000&last=x>; rel="next"`), "" when there
// is none. A link it cannot follow is an error, not the end of the list.
func nextPage(page *url.URL, link string) (string, error) {
	if link == "" {
		return "", nil
	}
	target, params, _ := strings.Cut(link, ";")
	target = strings.TrimSpace(target)
	if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
		return "", fmt.Errorf("cannot follow the next page: malformed Link header %q", link)
	}
	u, err := page.Parse(strings.Trim(target, "<>"))
	if err != nil {
		return "", fmt.Errorf("cannot follow the next page: Link header %q: %w", link, err)
	}
	if u.Host != page.Host || u.Scheme != page.Scheme {
		return "", fmt.Errorf("cannot follow the next page: Link header %q leaves %s://%s", link, page.Scheme, page.Host)
	}
	return u.String(), nil
}
