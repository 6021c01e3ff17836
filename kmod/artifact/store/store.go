package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Source is a store of artifacts: a registry repository, an OCI image
// layout or an offline bundle. Sources only move bytes; ReadManifest and
// ReadBlob add the size caps and digest checks.
type Source interface {
	// Manifest returns the raw manifest or index that ref (a tag or a
	// "sha256:…" digest) names, or an error wrapping ErrNotFound.
	Manifest(ctx context.Context, ref string, max int64) ([]byte, error)
	// Blob opens the blob with digest h, or returns an error wrapping
	// ErrNotFound.
	Blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error)
	// Tags lists the tags.
	Tags(ctx context.Context) ([]string, error)
	// String names the source for messages and records.
	String() string
	// Close releases what the source holds (a bundle's open file).
	Close() error
}

// ErrNotFound means a tag, manifest or blob is not in the source.
var ErrNotFound = errors.New("not found")

// LayoutPrefix marks an OCI image layout directory in a source string.
const LayoutPrefix = "oci-layout:"

// Open opens a source string: "oci-layout:DIR", a bundle file (a name
// ending in .tar.zst, or any existing regular file), or a registry
// repository "REGISTRY/REPO".
func Open(ctx context.Context, src string, opts ...Option) (Source, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	switch {
	case src == "":
		return nil, errors.New("empty source: give REGISTRY/REPO, oci-layout:DIR or FILE.tar.zst")
	case strings.HasPrefix(src, LayoutPrefix):
		return openLayout(ctx, strings.TrimPrefix(src, LayoutPrefix))
	case strings.HasSuffix(src, ".tar.zst") || strings.HasSuffix(src, ".tar.zstd") || isFile(src):
		return openBundle(ctx, src, o.maxBundleSize)
	case strings.Contains(src, "://"):
		return nil, fmt.Errorf("source %q is a URL: give a repository as REGISTRY/REPO (no scheme)", src)
	}
	return openRegistry(ctx, src, o)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// ReadManifest reads the manifest ref names, capped at
// artifact.MaxManifestSize; when ref is a digest, the bytes must match it.
func ReadManifest(ctx context.Context, src Source, ref string) ([]byte, error) {
	raw, err := src.Manifest(ctx, ref, artifact.MaxManifestSize)
	if err != nil {
		return nil, err
	}
	if h, err := v1.NewHash(ref); err == nil {
		if got := artifact.Digest(raw); got != h {
			return nil, &DigestError{Object: "manifest", Want: h, Got: got, Source: src.String()}
		}
	}
	return raw, nil
}

// ReadBlob reads the blob d describes into memory. It refuses blobs larger
// than max before reading, stops reading at d.Size bytes and checks the
// digest before returning.
func ReadBlob(ctx context.Context, src Source, d v1.Descriptor, max int64) ([]byte, error) {
	if d.Size < 0 || d.Size > max {
		return nil, fmt.Errorf("blob %s is %d bytes, more than the %d allowed", d.Digest, d.Size, max)
	}
	rc, err := src.Blob(ctx, d.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	vr := NewVerifyingReader(rc, d.Digest, d.Size, src.String())
	b, err := io.ReadAll(vr)
	if err != nil {
		return nil, err
	}
	return b, nil
}
