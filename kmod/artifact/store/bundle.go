package store

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// Bundle limits.
const (
	// DefaultMaxBundleSize caps the decompressed bytes one pass over a
	// bundle reads.
	DefaultMaxBundleSize = 8 << 30
	// maxBundleEntries caps the number of entries of a bundle.
	maxBundleEntries = 1 << 20
	// maxZstdWindow caps the memory the zstd decoder may use.
	maxZstdWindow = 256 << 20
	// smallEntrySize is the largest entry the opening pass keeps in
	// memory. Manifests, configs, signature manifests and their payloads
	// are a few KiB; only module layers are larger, and they are streamed.
	smallEntrySize = 4 << 20
	// maxInMemory caps the total size of the entries kept in memory.
	maxInMemory = 64 << 20
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

// bundleLimits are the budgets of a bundle.
type bundleLimits struct {
	// max caps the decompressed bytes of each pass over the tar.
	max int64
	// small is the largest entry kept in memory; inMemory caps their total.
	small, inMemory int64
	// entries caps the number of tar entries.
	entries int
}

// openBundle opens a bundle (a zstd-compressed tar of an OCI image layout)
// and reads it as a layout, extracting nothing. One pass over the tar
// checks every entry and keeps oci-layout, index.json and the small blobs
// in memory; a larger blob is served by streaming the tar again to it.
// Only regular files at layout paths (oci-layout, index.json,
// blobs/sha256/HEX) and their directories are accepted: links, devices,
// absolute paths, ".." and duplicates are refused.
func openBundle(ctx context.Context, file string, max int64) (*layoutSource, error) {
	return openBundleLimits(ctx, file, bundleLimits{max: max, small: smallEntrySize, inMemory: maxInMemory, entries: maxBundleEntries})
}

func openBundleLimits(ctx context.Context, file string, lim bundleLimits) (_ *layoutSource, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("opening bundle: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	b := &bundleFS{f: f, file: file, lim: lim, small: map[string][]byte{}, large: map[string]int64{}}
	if err := b.scan(ctx); err != nil {
		return nil, err
	}
	if err := checkOCILayout(ctx, b); err != nil {
		return nil, &BundleError{File: file, Reason: "not an OCI image layout", Err: err}
	}
	return &layoutSource{files: b, name: file}, nil
}

// bundleFS is the OCI image layout in a bundle, as a file system. It keeps
// the bundle open, so every pass reads the file that was checked, even if
// the name is replaced meanwhile.
type bundleFS struct {
	f    *os.File
	file string
	lim  bundleLimits
	// small holds the entries kept in memory, by layout path.
	small map[string][]byte
	// large holds the size of the other entries, by layout path.
	large map[string]int64
	// passes counts the passes over the tar.
	passes atomic.Int64
}

var _ layoutFiles = (*bundleFS)(nil)

// scan is the opening pass: it checks every entry and fills small and
// large.
func (b *bundleFS) scan(ctx context.Context) error {
	p, err := b.newPass()
	if err != nil {
		return err
	}
	defer p.close()
	var inMemory int64
	for {
		name, h, err := p.next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		// The index and oci-layout are read whatever their size; the
		// in-memory budget bounds them.
		if h.Size > b.lim.small && name != "index.json" && name != "oci-layout" {
			b.large[name] = h.Size // tar.Reader.Next skips the content
			continue
		}
		if h.Size > b.lim.inMemory-inMemory {
			return &BundleError{File: b.file, Entry: h.Name,
				Reason: fmt.Sprintf("index, manifests and signatures take more than %d bytes of memory", b.lim.inMemory)}
		}
		inMemory += h.Size
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(p.tr, data); err != nil {
			return p.streamError(h.Name, err)
		}
		b.small[name] = data
	}
	for _, need := range []string{"oci-layout", "index.json"} {
		if _, ok := b.small[need]; !ok {
			return &BundleError{File: b.file, Reason: "truncated or not an OCI image layout: no " + need}
		}
	}
	return nil
}

// Open opens a layout path: from memory, or by streaming the tar to it.
func (b *bundleFS) Open(name string) (fs.File, error) {
	return b.OpenContext(context.Background(), name)
}

// OpenContext is Open; ctx stops a pass over the tar.
func (b *bundleFS) OpenContext(ctx context.Context, name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := b.small[name]; ok {
		return &memFile{Reader: bytes.NewReader(data), info: entryInfo{name: path.Base(name), size: int64(len(data))}}, nil
	}
	size, ok := b.large[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return b.stream(ctx, name, size)
}

func (b *bundleFS) openFile(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.OpenContext(ctx, name)
}

func (b *bundleFS) openBlob(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	return b.OpenContext(ctx, "blobs/"+h.Algorithm+"/"+h.Hex)
}

// stream passes over the tar again, with the same checks as the opening
// pass, and returns a reader of the entry name, which was size bytes then.
func (b *bundleFS) stream(ctx context.Context, name string, size int64) (_ fs.File, err error) {
	p, err := b.newPass()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	for {
		n, h, err := p.next(ctx)
		if err == io.EOF {
			return nil, &BundleError{File: b.file, Entry: name, Reason: "changed since it was opened: entry gone"}
		}
		if err != nil {
			return nil, err
		}
		if n != name {
			continue
		}
		if h.Size != size {
			return nil, &BundleError{File: b.file, Entry: h.Name,
				Reason: fmt.Sprintf("changed since it was opened: %d bytes, was %d", h.Size, size)}
		}
		return &streamFile{p: p, entry: h.Name, info: entryInfo{name: path.Base(name), size: size}}, nil
	}
}

// Close closes the bundle file.
func (b *bundleFS) Close() error { return b.f.Close() }

// errOverBudget is returned by a budgetReader past its budget.
var errOverBudget = errors.New("over the byte budget")

// budgetReader returns errOverBudget once more than left bytes are read.
type budgetReader struct {
	r    io.Reader
	left int64
}

func (r *budgetReader) Read(p []byte) (int, error) {
	if r.left < 0 {
		return 0, errOverBudget
	}
	// Read one byte past the budget to tell "exactly the budget" from
	// "more".
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	if r.left < 0 {
		return 0, errOverBudget
	}
	return n, err
}

// tarPass is one pass over a bundle's tar, from its first entry.
type tarPass struct {
	file       string
	max        int64
	maxEntries int
	zr         *zstd.Decoder
	br         *budgetReader
	tr         *tar.Reader
	seen       map[string]bool
	entries    int
	closed     bool
}

func (b *bundleFS) newPass() (*tarPass, error) {
	b.passes.Add(1)
	// A SectionReader reads with ReadAt, so passes may run at once.
	zr, err := zstd.NewReader(io.NewSectionReader(b.f, 0, math.MaxInt64),
		zstd.WithDecoderMaxMemory(maxZstdWindow), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, &BundleError{File: b.file, Reason: "not zstd-compressed", Err: err}
	}
	br := &budgetReader{r: zr, left: b.lim.max}
	return &tarPass{file: b.file, max: b.lim.max, maxEntries: b.lim.entries, zr: zr, br: br, tr: tar.NewReader(br), seen: map[string]bool{}}, nil
}

// next returns the next regular file and its layout path, or io.EOF. It
// refuses unsafe or unexpected entries, duplicates, too many entries and
// an entry larger than what is left of the byte budget.
func (p *tarPass) next(ctx context.Context) (string, *tar.Header, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		if p.entries >= p.maxEntries {
			return "", nil, &BundleError{File: p.file, Reason: fmt.Sprintf("more than %d entries", p.maxEntries)}
		}
		p.entries++
		h, err := p.tr.Next()
		if err == io.EOF {
			return "", nil, io.EOF
		}
		if err != nil {
			return "", nil, p.streamError("", err)
		}
		name, err := entryName(h)
		if err != nil {
			return "", nil, &BundleError{File: p.file, Entry: h.Name, Reason: err.Error()}
		}
		if name == "" {
			continue // "./"
		}
		if p.seen[name] {
			return "", nil, &BundleError{File: p.file, Entry: h.Name, Reason: "appears twice"}
		}
		p.seen[name] = true
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if h.Size < 0 || h.Size > p.br.left {
			return "", nil, &BundleError{File: p.file, Entry: h.Name, Reason: p.overBudget()}
		}
		return name, h, nil
	}
}

func (p *tarPass) overBudget() string {
	return fmt.Sprintf("decompresses to more than %d bytes", p.max)
}

// streamError is the BundleError of a failed read of the tar.
func (p *tarPass) streamError(entry string, err error) error {
	if errors.Is(err, errOverBudget) {
		return &BundleError{File: p.file, Entry: entry, Reason: p.overBudget()}
	}
	return &BundleError{File: p.file, Entry: entry, Reason: "truncated or corrupt (zstd or tar stream)", Err: err}
}

func (p *tarPass) close() {
	if !p.closed {
		p.closed = true
		p.zr.Close()
	}
}

// memFile is an entry kept in memory.
type memFile struct {
	*bytes.Reader
	info entryInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

// streamFile reads an entry from a pass over the tar; the tar reader stops
// at the entry's end.
type streamFile struct {
	p     *tarPass
	entry string
	info  entryInfo
}

func (f *streamFile) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *streamFile) Read(b []byte) (int, error) {
	if f.p.closed {
		return 0, fs.ErrClosed
	}
	n, err := f.p.tr.Read(b)
	if err != nil && err != io.EOF {
		return n, f.p.streamError(f.entry, err)
	}
	return n, err
}

func (f *streamFile) Close() error {
	f.p.close()
	return nil
}

// entryInfo describes a regular file of a bundle.
type entryInfo struct {
	name string
	size int64
}

func (i entryInfo) Name() string       { return i.name }
func (i entryInfo) Size() int64        { return i.size }
func (i entryInfo) Mode() fs.FileMode  { return 0o444 }
func (i entryInfo) ModTime() time.Time { return time.Time{} }
func (i entryInfo) IsDir() bool        { return false }
func (i entryInfo) Sys() any           { return nil }

// entryName checks a tar entry and returns its clean slash path.
func entryName(h *tar.Header) (string, error) {
	raw := h.Name
	if strings.HasPrefix(raw, "/") || filepath.IsAbs(raw) || strings.Contains(raw, `\`) {
		return "", errors.New("absolute path: refusing an entry outside the bundle")
	}
	for _, el := range strings.Split(raw, "/") {
		if el == ".." {
			return "", errors.New("path contains \"..\": refusing an entry outside the bundle")
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
