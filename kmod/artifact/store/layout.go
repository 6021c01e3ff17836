package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
)

// layoutSource reads an OCI image layout: index.json names the tags
// (org.opencontainers.image.ref.name), blobs/sha256/HEX holds content. The
// layout is read through an fs.FS, so one code path reads a directory
// (os.DirFS) and a bundle (bundleFS) alike.
type layoutSource struct {
	fsys fs.FS
	name string
}

var _ Source = (*layoutSource)(nil)

// contextFS is an fs.FS whose Open may take long (a bundle streams its tar
// to a large entry) and so honours a context.
type contextFS interface {
	fs.FS
	OpenContext(ctx context.Context, name string) (fs.File, error)
}

// Layout limits.
const (
	// maxIndexJSON caps a layout's index.json (one descriptor per tag).
	maxIndexJSON = 64 << 20
	// maxOCILayout caps the oci-layout file ({"imageLayoutVersion":…}).
	maxOCILayout = 4 << 10
)

// openLayout opens the OCI image layout directory dir.
func openLayout(dir string) (*layoutSource, error) {
	if dir == "" {
		return nil, fmt.Errorf("empty %sDIR", LayoutPrefix)
	}
	if err := checkOCILayout(os.DirFS(dir)); err != nil {
		return nil, fmt.Errorf("opening OCI image layout %q: %w", dir, err)
	}
	return &layoutSource{fsys: os.DirFS(dir), name: LayoutPrefix + dir}, nil
}

// checkOCILayout checks that fsys holds an oci-layout file with a version.
func checkOCILayout(fsys fs.FS) error {
	f, err := fsys.Open("oci-layout")
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

// Close releases what the file system holds: a bundle's open file.
func (l *layoutSource) Close() error {
	if c, ok := l.fsys.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (l *layoutSource) open(ctx context.Context, name string) (fs.File, error) {
	if cf, ok := l.fsys.(contextFS); ok {
		return cf.OpenContext(ctx, name)
	}
	return l.fsys.Open(name)
}

func (l *layoutSource) index(ctx context.Context) (*v1.IndexManifest, error) {
	f, err := l.open(ctx, "index.json")
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
	f, err := l.open(ctx, name)
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
