package builder

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeClient is an in-memory engine: images is the set of known references,
// each container "runs" by calling run with its config and copied-in files.
type fakeClient struct {
	mu     sync.Mutex
	images map[string]bool
	// repoDigests are the registry digests of pulled images; labels the
	// labels of committed ones.
	repoDigests map[string][]string
	labels      map[string]map[string]string
	// tagDigests is what the registry says a reference's tag names (by
	// default registryDigest's digest of it); distErr fails every such
	// question, as an unreachable registry does.
	tagDigests map[string]string
	distErr    error
	distCalls  int
	pullErrs   []error // returned by successive pulls, then success
	pulls      int
	created    map[string]*fakeContainer
	// createdFrom is the image of every container created, in order.
	createdFrom []string
	removed     []string
	removeCtxs  []error // ctx.Err() at each removal
	commits     []string
	nextID      int
	// createErr, when set, is returned by ContainerCreate after it made the
	// container: a create whose context ended while the engine made it.
	createErr error
	// dangling are untagged images by ID, with their labels; inUse those a
	// container uses. imageLists counts ImageList calls.
	dangling      map[string]map[string]string
	inUse         map[string]bool
	removedImages []string
	imageLists    int
	// run decides a container's exit status and output; block makes Wait
	// hang until its context ends.
	run   func(c *fakeContainer) (status int, out string, files map[string][]byte)
	block bool
}

type fakeContainer struct {
	id      string
	name    string
	cfg     *container.Config
	host    *container.HostConfig
	in      map[string][]byte
	files   map[string][]byte
	out     string
	status  int
	started bool
}

var _ Client = (*fakeClient)(nil)

func newFake() *fakeClient {
	return &fakeClient{images: map[string]bool{}, created: map[string]*fakeContainer{},
		repoDigests: map[string][]string{}, labels: map[string]map[string]string{}, tagDigests: map[string]string{},
		dangling: map[string]map[string]string{}, inUse: map[string]bool{}}
}

// fakeID is the ID of the fake's image of ref.
func fakeID(ref string) string {
	sum := sha256.Sum256([]byte("image " + ref))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// lookup finds the image ref names, as the engine does: by a reference it
// was made, pulled or imported as, by its ID, or by a digest reference
// ("NAME[:TAG]@DIGEST") among its repo digests. f.mu is held.
func (f *fakeClient) lookup(ref string) (string, bool) {
	if f.images[ref] {
		return ref, true
	}
	want := canonical(ref)
	for k := range f.images {
		if fakeID(k) == ref {
			return k, true
		}
		for _, rd := range f.repoDigests[k] {
			if want != "" && canonical(rd) == want {
				return k, true
			}
		}
	}
	return "", false
}

// canonical is "NAME@DIGEST" of a digest reference, "" for others.
func canonical(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	c, ok := n.(reference.Canonical)
	if !ok {
		return ""
	}
	return reference.TrimNamed(c).String() + "@" + c.Digest().String()
}

func (f *fakeClient) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k, ok := f.lookup(ref); ok {
		return image.InspectResponse{ID: fakeID(k), RepoDigests: f.repoDigests[k],
			Config: &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{Labels: f.labels[k]}}}, nil
	}
	return image.InspectResponse{}, cerrdefs.ErrNotFound
}

func (f *fakeClient) DistributionInspect(_ context.Context, ref, _ string) (registry.DistributionInspect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.distCalls++
	if f.distErr != nil {
		return registry.DistributionInspect{}, f.distErr
	}
	d, ok := f.tagDigests[ref]
	if !ok {
		_, d, _ = strings.Cut(registryDigest(ref), "@")
	}
	return registry.DistributionInspect{Descriptor: ocispec.Descriptor{Digest: digest.Digest(d)}}, nil
}

func (f *fakeClient) ImagePull(_ context.Context, ref string, _ image.PullOptions) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls++
	if len(f.pullErrs) > 0 {
		err := f.pullErrs[0]
		f.pullErrs = f.pullErrs[1:]
		if err != nil && strings.HasPrefix(err.Error(), "stream:") {
			return io.NopCloser(strings.NewReader(`{"status":"Pulling"}` + "\n" + `{"errorDetail":{"message":"` + err.Error() + `"},"error":"` + err.Error() + `"}` + "\n")), nil
		}
		return nil, err
	}
	f.images[ref] = true
	f.repoDigests[ref] = []string{registryDigest(ref)}
	return io.NopCloser(strings.NewReader(`{"status":"Downloaded newer image"}` + "\n")), nil
}

func (f *fakeClient) ImageImport(_ context.Context, src image.ImportSource, ref string, _ image.ImportOptions) (io.ReadCloser, error) {
	_, _ = io.Copy(io.Discard, src.Source)
	f.mu.Lock()
	f.images[ref] = true
	f.mu.Unlock()
	return io.NopCloser(strings.NewReader(`{"status":"sha256:1234"}` + "\n")), nil
}

func (f *fakeClient) ImageList(_ context.Context, o image.ListOptions) ([]image.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imageLists++
	var out []image.Summary
	for id, labels := range f.dangling {
		if o.Filters.ExactMatch("dangling", "true") && o.Filters.MatchKVList("label", labels) {
			out = append(out, image.Summary{ID: id, Labels: labels})
		}
	}
	return out, nil
}

func (f *fakeClient) ImageRemove(_ context.Context, id string, o image.RemoveOptions) ([]image.DeleteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case o.Force:
		return nil, errors.New("the builder never forces an image's removal")
	case f.inUse[id]:
		return nil, cerrdefs.ErrConflict.WithMessage("image is being used by a running container")
	}
	if _, ok := f.dangling[id]; !ok {
		return nil, cerrdefs.ErrNotFound
	}
	delete(f.dangling, id)
	f.removedImages = append(f.removedImages, id)
	return []image.DeleteResponse{{Deleted: id}}, nil
}

func (f *fakeClient) ContainerCreate(_ context.Context, cfg *container.Config, host *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.lookup(cfg.Image); !ok {
		return container.CreateResponse{}, cerrdefs.ErrNotFound
	}
	f.createdFrom = append(f.createdFrom, cfg.Image)
	f.nextID++
	id := strings.Repeat("c", 12) + string(rune('a'+f.nextID))
	f.created[id] = &fakeContainer{id: id, name: name, cfg: cfg, host: host, in: map[string][]byte{}}
	if f.createErr != nil {
		return container.CreateResponse{}, f.createErr
	}
	return container.CreateResponse{ID: id}, nil
}

// get returns the container named by ID or name, as the engine does.
func (f *fakeClient) get(id string) (*fakeContainer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.container(id)
}

// container is get with f.mu held.
func (f *fakeClient) container(idOrName string) (*fakeContainer, error) {
	if c, ok := f.created[idOrName]; ok {
		return c, nil
	}
	for _, c := range f.created {
		if c.name != "" && c.name == idOrName {
			return c, nil
		}
	}
	return nil, cerrdefs.ErrNotFound
}

func (f *fakeClient) ContainerStart(_ context.Context, id string, _ container.StartOptions) error {
	c, err := f.get(id)
	if err != nil {
		return err
	}
	status, out, files := f.run(c)
	f.mu.Lock()
	c.status, c.out, c.files, c.started = status, out, files, true
	f.mu.Unlock()
	return nil
}

func (f *fakeClient) ContainerWait(ctx context.Context, id string, _ container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	resC, errC := make(chan container.WaitResponse, 1), make(chan error, 1)
	go func() {
		if f.block {
			<-ctx.Done()
			errC <- ctx.Err()
			return
		}
		// Wait is called before Start: poll until Start ran.
		for {
			c, err := f.get(id)
			if err != nil {
				errC <- err
				return
			}
			f.mu.Lock()
			started, status := c.started, c.status
			f.mu.Unlock()
			if started {
				resC <- container.WaitResponse{StatusCode: int64(status)}
				return
			}
			select {
			case <-ctx.Done():
				errC <- ctx.Err()
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return resC, errC
}

func (f *fakeClient) ContainerLogs(_ context.Context, id string, _ container.LogsOptions) (io.ReadCloser, error) {
	c, err := f.get(id)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, _ = stdcopy.NewStdWriter(&buf, stdcopy.Stderr).Write([]byte(c.out))
	return io.NopCloser(&buf), nil
}

func (f *fakeClient) ContainerRemove(ctx context.Context, id string, _ container.RemoveOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.container(id)
	if err != nil {
		return err
	}
	f.removed = append(f.removed, c.id)
	f.removeCtxs = append(f.removeCtxs, ctx.Err())
	delete(f.created, c.id)
	return nil
}

func (f *fakeClient) ContainerCommit(_ context.Context, id string, o container.CommitOptions) (container.CommitResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits = append(f.commits, o.Reference)
	f.images[o.Reference] = true
	f.labels[o.Reference] = o.Config.Labels
	return container.CommitResponse{ID: "sha256:" + id}, nil
}

func (f *fakeClient) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []container.Summary
	for id, c := range f.created {
		out = append(out, container.Summary{ID: id, Labels: c.cfg.Labels})
	}
	return out, nil
}

func (f *fakeClient) CopyToContainer(_ context.Context, id, dst string, r io.Reader, _ container.CopyToContainerOptions) error {
	c, err := f.get(id)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(tr)
		f.mu.Lock()
		c.in[strings.TrimSuffix(dst, "/")+"/"+h.Name] = b
		f.mu.Unlock()
	}
}

func (f *fakeClient) CopyFromContainer(_ context.Context, id, path string) (io.ReadCloser, container.PathStat, error) {
	c, err := f.get(id)
	if err != nil {
		return nil, container.PathStat{}, err
	}
	b, ok := c.files[path]
	if !ok {
		return nil, container.PathStat{}, errors.New("no such file: " + path)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: path[strings.LastIndex(path, "/")+1:], Mode: 0o644, Size: int64(len(b))})
	_, _ = tw.Write(b)
	_ = tw.Close()
	return io.NopCloser(&buf), container.PathStat{Size: int64(len(b))}, nil
}

// registryDigest is the repo digest an engine records for a pull of ref:
// the pinned digest, or one the registry's tag points at.
func registryDigest(ref string) string {
	name, pinned, ok := strings.Cut(ref, "@")
	if !ok {
		sum := sha256.Sum256([]byte(ref))
		pinned = "sha256:" + hex.EncodeToString(sum[:])
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name + "@" + pinned
}
