package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// layoutSource reads an OCI image layout: index.json names the tags
// (org.opencontainers.image.ref.name), blobs/sha256/HEX holds content. Its
// files come from a directory (go-containerregistry's layout.Path) or from
// a bundle (bundleFS); the reading of tags and manifests is the same.
type layoutSource struct {
	files layoutFiles
	name  string
}

var _ Source = (*layoutSource)(nil)

// layoutFiles opens the files of an OCI image layout.
type layoutFiles interface {
	// openFile opens "oci-layout" or "index.json".
	openFile(ctx context.Context, name string) (io.ReadCloser, error)
	// openBlob opens blobs/sha256/HEX, or returns an error wrapping
	// fs.ErrNotExist.
	openBlob(ctx context.Context, h v1.Hash) (io.ReadCloser, error)
	// Close releases what the files hold: a bundle's open file.
	Close() error
}

// Layout limits.
const (
	// maxIndexJSON caps a layout's index.json (one descriptor per tag).
	maxIndexJSON = 64 << 20
	// maxOCILayout caps the oci-layout file ({"imageLayoutVersion":…}).
	maxOCILayout = 4 << 10
)

// layoutDir is a layout directory, read through go-containerregistry:
// layout.FromPath opens it and Path.Blob opens blobs, refusing symbolic
// links and other files that are not regular. index.json and oci-layout are
// opened here so that they are read with a cap: Path.ImageIndex reads
// index.json whole with os.ReadFile, and ggcr does not check oci-layout.
type layoutDir struct {
	p layout.Path
}

var _ layoutFiles = layoutDir{}

func (d layoutDir) openFile(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(d.p), name))
}

func (d layoutDir) openBlob(_ context.Context, h v1.Hash) (io.ReadCloser, error) {
	return d.p.Blob(h)
}

func (layoutDir) Close() error { return nil }

// openLayout opens the OCI image layout directory dir.
func openLayout(ctx context.Context, dir string) (*layoutSource, error) {
	if dir == "" {
		return nil, fmt.Errorf("empty %sDIR", LayoutPrefix)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("opening OCI image layout %q: %w", dir, err)
	}
	d := layoutDir{p: p}
	if err := checkOCILayout(ctx, d); err != nil {
		return nil, fmt.Errorf("opening OCI image layout %q: %w", dir, err)
	}
	return &layoutSource{files: d, name: LayoutPrefix + dir}, nil
}

// checkOCILayout checks that the layout holds an oci-layout file with a
// version.
func checkOCILayout(ctx context.Context, files layoutFiles) error {
	f, err := files.openFile(ctx, "oci-layout")
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := boundedio.ReadAll(f, maxOCILayout)
	if err != nil {
		return fmt.Errorf("reading oci-layout: %w", err)
	}
	var ol struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(b, &ol); err != nil || ol.Version == "" {
		return errors.New("bad oci-layout file")
	}
	return nil
}

func (l *layoutSource) String() string { return l.name }

// Close releases what the files hold: a bundle's open file.
func (l *layoutSource) Close() error { return l.files.Close() }

func (l *layoutSource) index(ctx context.Context) (*v1.IndexManifest, error) {
	f, err := l.files.openFile(ctx, "index.json")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.name, err)
	}
	defer f.Close()
	b, err := boundedio.ReadAll(f, maxIndexJSON)
	if err != nil {
		return nil, fmt.Errorf("reading %s/index.json: %w", l.name, err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(b, &im); err != nil {
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
	im, err := l.index(ctx)
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

func (l *layoutSource) Blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	name := "blobs/" + h.Algorithm + "/" + h.Hex
	if !blobPathRE.MatchString(name) {
		return nil, fmt.Errorf("blob %s: only sha256 digests are supported", h)
	}
	f, err := l.files.openBlob(ctx, h)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s in %s: %w", h, l.name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s in %s: %w", h, l.name, err)
	}
	return f, nil
}

func (l *layoutSource) Tags(ctx context.Context) ([]string, error) {
	im, err := l.index(ctx)
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
