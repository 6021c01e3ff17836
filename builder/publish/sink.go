package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// sink is where a publisher writes: blobs first, then the manifests that
// name them.
type sink interface {
	putBlob(ctx context.Context, d v1.Descriptor, b []byte) error
	putManifest(ctx context.Context, tag string, raw []byte, mt types.MediaType, artifactType string) error
}

// registrySink writes through go-containerregistry's pusher, which checks
// for existing blobs, authenticates and retries.
type registrySink struct {
	repo   name.Repository
	pusher *remote.Pusher
}

func (r *registrySink) putBlob(ctx context.Context, d v1.Descriptor, b []byte) error {
	if err := r.pusher.Upload(ctx, r.repo, static.NewLayer(b, d.MediaType)); err != nil {
		return fmt.Errorf("uploading blob %s to %s: %w", d.Digest, r.repo, err)
	}
	return nil
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

func (r *registrySink) putManifest(ctx context.Context, tag string, raw []byte, mt types.MediaType, _ string) error {
	ref := r.repo.Tag(tag)
	if err := r.pusher.Put(ctx, ref, rawManifest{raw, mt}); err != nil {
		return fmt.Errorf("writing manifest %s: %w", ref, err)
	}
	return nil
}

// layoutSink writes an OCI image layout. Blobs are content-addressed: an
// existing file of the right size is kept, a new one is written to a
// temporary file and renamed; index.json is replaced atomically under a
// mutex.
type layoutSink struct {
	path layout.Path
	mu   sync.Mutex // serialises index.json updates
}

func newLayoutSink(dir string) (*layoutSink, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return nil, fmt.Errorf("creating OCI image layout %q: %w", dir, err)
		}
	}
	return &layoutSink{path: p}, nil
}

func (l *layoutSink) putBlob(_ context.Context, d v1.Descriptor, b []byte) error {
	if d.Digest.Algorithm != "sha256" || artifact.Digest(b) != d.Digest {
		return fmt.Errorf("writing blob %s to %s: content does not match the digest", d.Digest, l.path)
	}
	dir := filepath.Join(string(l.path), "blobs", d.Digest.Algorithm)
	file := filepath.Join(dir, d.Digest.Hex)
	if fi, err := os.Stat(file); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(b)) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing blob %s to %s: %w", d.Digest, l.path, err)
	}
	return atomicfile.Write(file, b, 0o644)
}

func (l *layoutSink) putManifest(ctx context.Context, tag string, raw []byte, mt types.MediaType, artifactType string) error {
	d := v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: artifact.Digest(raw), ArtifactType: artifactType,
		Annotations: map[string]string{artifact.AnnotationRefName: tag}}
	if err := l.putBlob(ctx, d, raw); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	file := filepath.Join(string(l.path), "index.json")
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("tagging %s in %s: %w", tag, l.path, err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(b, &im); err != nil {
		return fmt.Errorf("tagging %s in %s: %w", tag, l.path, err)
	}
	ms := im.Manifests[:0]
	for _, m := range im.Manifests {
		if m.Annotations[artifact.AnnotationRefName] != tag {
			ms = append(ms, m)
		}
	}
	im.Manifests = append(ms, d)
	out, err := json.MarshalIndent(im, "", "  ")
	if err != nil {
		return fmt.Errorf("tagging %s in %s: %w", tag, l.path, err)
	}
	return atomicfile.Write(file, out, 0o644)
}
