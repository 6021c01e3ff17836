package fetcher

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
)

// registrySource reads a registry repository over the distribution API.
// It does its own GETs (through go-containerregistry's authenticating,
// retrying transport) so that content checks and their errors are ours.
type registrySource struct {
	repo   name.Repository
	client *http.Client
}

var _ Source = (*registrySource)(nil)

// maxTagPages bounds the pagination of a tag list.
const maxTagPages = 100

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
	return &registrySource{repo: repo, client: &http.Client{Transport: tr}}, nil
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
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s:%s: %w", r.repo, ref, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("manifest %s:%s is more than %d bytes", r.repo, ref, max)
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

func (r *registrySource) Tags(ctx context.Context) ([]string, error) {
	var all []string
	next := r.url("/tags/list") + "?n=1000"
	for page := 0; next != "" && page < maxTagPages; page++ {
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
		next = ""
		if link != "" {
			// Link: </v2/repo/tags/list?n=1000&last=x>; rel="next"
			if s, _, ok := strings.Cut(link, ";"); ok {
				s = strings.Trim(strings.TrimSpace(s), "<>")
				if u, err := resp.Request.URL.Parse(s); err == nil && u.Host == resp.Request.URL.Host {
					next = u.String()
				}
			}
		}
	}
	return all, nil
}
