package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// layoutSource reads an OCI image layout directory: index.json names the
// tags (org.opencontainers.image.ref.name), blobs/sha256/HEX holds content.
type layoutSource struct {
	dir  string
	name string
	// cleanup, when set, removes a bundle's temporary directory.
	cleanup func() error
}

var _ Source = (*layoutSource)(nil)

// maxIndexJSON caps a layout's index.json (one descriptor per tag).
const maxIndexJSON = 64 << 20

func openLayout(dir string) (*layoutSource, error) {
	if dir == "" {
		return nil, fmt.Errorf("empty %sDIR", LayoutPrefix)
	}
	b, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	if err != nil {
		return nil, fmt.Errorf("opening OCI image layout %q: %w", dir, err)
	}
	var ol struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(b, &ol); err != nil || ol.Version == "" {
		return nil, fmt.Errorf("opening OCI image layout %q: bad oci-layout file", dir)
	}
	return &layoutSource{dir: dir, name: LayoutPrefix + dir}, nil
}

func (l *layoutSource) String() string { return l.name }

func (l *layoutSource) Close() error {
	if l.cleanup != nil {
		return l.cleanup()
	}
	return nil
}

func (l *layoutSource) index() (*v1.IndexManifest, error) {
	f, err := os.Open(filepath.Join(l.dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.name, err)
	}
	defer f.Close()
	var im v1.IndexManifest
	if err := json.NewDecoder(io.LimitReader(f, maxIndexJSON)).Decode(&im); err != nil {
		return nil, fmt.Errorf("reading %s/index.json: %w", l.name, err)
	}
	return &im, nil
}

func (l *layoutSource) Manifest(ctx context.Context, ref string, max int64) ([]byte, error) {
	if h, err := v1.NewHash(ref); err == nil {
		b, err := l.readAll(ctx, h, max)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s from %s: %w", ref, l.name, err)
		}
		return b, nil
	}
	im, err := l.index()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Annotations[artifact.AnnotationRefName] != ref {
			continue
		}
		if d.Size > max {
			return nil, fmt.Errorf("manifest %s in %s is %d bytes, more than %d", ref, l.name, d.Size, max)
		}
		rc, err := l.Blob(ctx, d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s from %s: %w", ref, l.name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(NewVerifyingReader(rc, d.Digest, d.Size, l.name))
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s from %s: %w", ref, l.name, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("tag %q in %s: %w", ref, l.name, ErrNotFound)
}

func (l *layoutSource) readAll(ctx context.Context, h v1.Hash, max int64) ([]byte, error) {
	rc, err := l.Blob(ctx, h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return boundedio.ReadAll(rc, max)
}

func (l *layoutSource) Blob(_ context.Context, h v1.Hash) (io.ReadCloser, error) {
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return nil, fmt.Errorf("blob %s: only sha256 digests are supported", h)
	}
	f, err := os.Open(filepath.Join(l.dir, "blobs", h.Algorithm, h.Hex))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("blob %s in %s: %w", h, l.name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s in %s: %w", h, l.name, err)
	}
	return f, nil
}

func (l *layoutSource) Tags(context.Context) ([]string, error) {
	im, err := l.index()
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, d := range im.Manifests {
		if t := d.Annotations[artifact.AnnotationRefName]; t != "" {
			tags = append(tags, t)
		}
	}
	return tags, nil
}
