package store

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Bundle limits.
const (
	// DefaultMaxBundleSize caps the unpacked size of a bundle.
	DefaultMaxBundleSize = 8 << 30
	// maxBundleEntries caps the number of entries of a bundle.
	maxBundleEntries = 1 << 20
	// maxZstdWindow caps the memory the zstd decoder may use.
	maxZstdWindow = 256 << 20
)

// BundleError means a bundle file is malformed, truncated or unsafe.
type BundleError struct {
	File string
	// Entry is the offending tar entry, if any.
	Entry  string
	Reason string
	Err    error
}

func (e *BundleError) Error() string {
	s := "bundle " + e.File
	if e.Entry != "" {
		s += fmt.Sprintf(": entry %q", e.Entry)
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *BundleError) Unwrap() error { return e.Err }

var blobPathRE = regexp.MustCompile(`^blobs/sha256/[0-9a-f]{64}$`)

// allowedDirs are the directories an OCI image layout may hold.
var allowedDirs = map[string]bool{"blobs": true, "blobs/sha256": true}

// openBundle unpacks a bundle (a zstd-compressed tar of an OCI image
// layout) into a new temporary directory and reads it as a layout. Only
// regular files at layout paths (oci-layout, index.json,
// blobs/sha256/HEX) and their directories are accepted: links, devices,
// absolute paths and ".." are refused, so nothing is written outside the
// temporary directory.
func openBundle(ctx context.Context, file string, max int64) (_ *layoutSource, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("opening bundle: %w", err)
	}
	defer f.Close()
	tmp, err := os.MkdirTemp("", "dnsmon-bundle-*")
	if err != nil {
		return nil, fmt.Errorf("opening bundle %s: %w", file, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := unpack(ctx, f, file, tmp, max); err != nil {
		return nil, err
	}
	l, err := openLayout(tmp)
	if err != nil {
		return nil, &BundleError{File: file, Reason: "not an OCI image layout", Err: err}
	}
	l.name = file
	l.cleanup = func() error { return os.RemoveAll(tmp) }
	return l, nil
}

func unpack(ctx context.Context, r io.Reader, file, dir string, max int64) error {
	zr, err := zstd.NewReader(r, zstd.WithDecoderMaxMemory(maxZstdWindow), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return &BundleError{File: file, Reason: "not zstd-compressed", Err: err}
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var total int64
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if n > maxBundleEntries {
			return &BundleError{File: file, Reason: fmt.Sprintf("more than %d entries", maxBundleEntries)}
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &BundleError{File: file, Reason: "truncated or corrupt (zstd or tar stream)", Err: err}
		}
		name, err := entryName(h)
		if err != nil {
			return &BundleError{File: file, Entry: h.Name, Reason: err.Error()}
		}
		if name == "" {
			continue // "./"
		}
		if seen[name] {
			return &BundleError{File: file, Entry: h.Name, Reason: "appears twice"}
		}
		seen[name] = true
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("unpacking bundle %s: %w", file, err)
			}
			continue
		}
		if h.Size < 0 || h.Size > max-total {
			return &BundleError{File: file, Entry: h.Name, Reason: fmt.Sprintf("unpacks to more than %d bytes", max)}
		}
		total += h.Size
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("unpacking bundle %s: %w", file, err)
		}
		if err := writeEntry(dst, tr, h.Size); err != nil {
			return &BundleError{File: file, Entry: h.Name, Reason: "truncated or corrupt (zstd or tar stream)", Err: err}
		}
	}
	for _, need := range []string{"oci-layout", "index.json"} {
		if !seen[need] {
			return &BundleError{File: file, Reason: "truncated or not an OCI image layout: no " + need}
		}
	}
	return nil
}

// entryName checks a tar entry and returns its clean slash path.
func entryName(h *tar.Header) (string, error) {
	raw := h.Name
	if strings.HasPrefix(raw, "/") || filepath.IsAbs(raw) || strings.Contains(raw, `\`) {
		return "", errors.New("absolute path: refusing to unpack outside the bundle")
	}
	for _, el := range strings.Split(raw, "/") {
		if el == ".." {
			return "", errors.New("path contains \"..\": refusing to unpack outside the bundle")
		}
	}
	name := strings.TrimPrefix(path.Clean(raw), "./")
	if name == "." {
		name = ""
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if name != "" && !allowedDirs[name] {
			return "", errors.New("unexpected directory: a bundle holds only an OCI image layout")
		}
	case tar.TypeReg:
		if name != "oci-layout" && name != "index.json" && !blobPathRE.MatchString(name) {
			return "", errors.New("unexpected file: a bundle holds only oci-layout, index.json and blobs/sha256/HEX")
		}
	case tar.TypeSymlink, tar.TypeLink:
		return "", fmt.Errorf("is a link to %q: bundles may not hold links", h.Linkname)
	default:
		return "", fmt.Errorf("has tar type %q: bundles hold only regular files and directories", h.Typeflag)
	}
	return name, nil
}

func writeEntry(dst string, r io.Reader, size int64) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	return err
}
