package debian

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"
)

// ErrNotDeb is returned for a file that is not a Debian binary package.
var ErrNotDeb = errors.New("not a Debian binary package")

// errStop ends a walk early without an error.
var errStop = errors.New("stop walking")

const arMagic = "!<arch>\n"

// arMember is one member of an ar archive; Body reads its content.
type arMember struct {
	Name string
	Size int64
	Body io.Reader
}

// readAr calls fn for each member of the ar archive in r until fn returns an
// error. Members must be read (or not) within fn.
func readAr(r io.Reader, fn func(m arMember) error) error {
	br := bufio.NewReader(r)
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != arMagic {
		return fmt.Errorf("no ar magic: %w", ErrNotDeb)
	}
	for {
		var hdr [60]byte
		if _, err := io.ReadFull(br, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading ar header: %w", err)
		}
		if string(hdr[58:60]) != "`\n" {
			return fmt.Errorf("bad ar header terminator: %w", ErrNotDeb)
		}
		name := strings.TrimRight(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad ar member size %q: %w", hdr[48:58], ErrNotDeb)
		}
		body := io.LimitReader(br, size)
		if err := fn(arMember{Name: name, Size: size, Body: body}); err != nil {
			return err
		}
		// Skip what fn left unread, and the padding to an even offset.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return fmt.Errorf("skipping ar member %q: %w", name, err)
		}
		if size%2 == 1 {
			if _, err := br.Discard(1); err != nil && err != io.EOF {
				return fmt.Errorf("skipping ar padding: %w", err)
			}
		}
	}
}

// WalkData calls fn for every entry of the data archive (data.tar.*) of the
// .deb at path. Entry names are cleaned of a leading "./". Returning
// filepath.SkipAll from fn stops the walk without an error.
func WalkData(path string, fn func(h *tar.Header, r io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening package: %w", err)
	}
	defer f.Close()
	found := false
	err = readAr(f, func(m arMember) error {
		if !strings.HasPrefix(m.Name, "data.tar") {
			return nil
		}
		found = true
		r, closeFn, err := decompressMember(m)
		if err != nil {
			return err
		}
		defer closeFn()
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return errStop
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", m.Name, err)
			}
			h.Name = strings.TrimPrefix(filepath.Clean("/"+h.Name), "/")
			if err := fn(h, tr); err != nil {
				if errors.Is(err, filepath.SkipAll) {
					return errStop
				}
				return err
			}
		}
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("reading package %q: %w", path, err)
	}
	if !found {
		return fmt.Errorf("reading package %q: no data.tar member: %w", path, ErrNotDeb)
	}
	return nil
}

func decompressMember(m arMember) (io.Reader, func(), error) {
	switch {
	case strings.HasSuffix(m.Name, ".zst"):
		d, err := zstd.NewReader(m.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("opening %s: %w", m.Name, err)
		}
		return d, d.Close, nil
	case strings.HasSuffix(m.Name, ".xz"):
		r, closeFn, err := newXZReader(m.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("opening %s: %w", m.Name, err)
		}
		return r, closeFn, nil
	case strings.HasSuffix(m.Name, ".gz"):
		r, err := decompress(m.Body, m.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("opening %s: %w", m.Name, err)
		}
		return r, func() {}, nil
	case strings.HasSuffix(m.Name, ".bz2"):
		// Ubuntu 16.04's kernel images.
		return bzip2.NewReader(m.Body), func() {}, nil
	case m.Name == "data.tar":
		return m.Body, func() {}, nil
	}
	return nil, nil, fmt.Errorf("%s: unknown compression: %w", m.Name, ErrNotDeb)
}

// ExtractFile copies the regular file at name (e.g. "boot/vmlinuz-6.1.0-50-amd64")
// from the .deb's data archive to w.
func ExtractFile(path, name string, w io.Writer) error {
	name = strings.TrimPrefix(filepath.Clean("/"+name), "/")
	done := false
	err := WalkData(path, func(h *tar.Header, r io.Reader) error {
		if h.Name != name {
			return nil
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("%q is not a regular file", name)
		}
		if _, err := io.Copy(w, r); err != nil {
			return fmt.Errorf("copying %q: %w", name, err)
		}
		done = true
		return filepath.SkipAll
	})
	if err != nil {
		return err
	}
	if !done {
		return fmt.Errorf("package %q has no %q: %w", path, name, os.ErrNotExist)
	}
	return nil
}

// ExtractAll unpacks the .deb's data archive below dir, refusing entries
// that would land outside it (through a symlink, the package's own or one
// already in dir). Symlinks are created as they are; only directories,
// regular files and symlinks are extracted.
func ExtractAll(path, dir string) error {
	return NewExtractor(dir).Extract(path)
}

// ErrUnsafePath is returned for an entry that would be written through a
// symlink or replace a directory by one.
var ErrUnsafePath = errors.New("path leaves the extraction directory")

// An Extractor unpacks several packages into one directory; Extract may be
// called from several goroutines. Every directory on an entry's path is
// checked once to be a real directory (never a symlink) and files are opened
// without following a symlink, so no entry can be written outside the
// directory. It makes one check per directory rather than one per path
// component of every file, as os.Root does, which matters for the ten
// thousand files of a kernel's headers.
type Extractor struct {
	dir string
	// Skip, when set before the first Extract, leaves out the entries it
	// returns true for. A skipped directory does not skip what is below
	// it: Skip sees every entry.
	Skip func(h *tar.Header) bool

	mu   sync.Mutex
	dirs map[string]bool // checked real directories, relative to dir
}

// NewExtractor returns an Extractor into dir, which must exist.
func NewExtractor(dir string) *Extractor {
	return &Extractor{dir: dir, dirs: map[string]bool{".": true}}
}

// Extract unpacks the data archive of the .deb at path.
//
// Small files are written by a few goroutines while the archive is read
// on: creating a file costs a metadata update that waits on the disk, and
// a kernel's headers are thousands of small files, so overlapping the
// creations is most of the speed. Each creation makes the same checks as
// one in order would; an archive that names one path twice may fail
// instead of the later entry winning.
func (x *Extractor) Extract(path string) error {
	var g errgroup.Group
	g.SetLimit(extractWriters)
	err := WalkData(path, func(h *tar.Header, r io.Reader) error {
		if h.Name == "" || h.Name == "." {
			return nil
		}
		if x.Skip != nil && x.Skip(h) {
			return nil
		}
		switch h.Typeflag {
		case tar.TypeDir:
			x.mu.Lock()
			err := x.mkdirs(h.Name)
			x.mu.Unlock()
			if err != nil {
				return fmt.Errorf("extracting %q: %w", h.Name, err)
			}
		case tar.TypeReg:
			mode := os.FileMode(h.Mode)&0o755 | 0o644
			if h.Size > maxBufferedFile {
				return x.writeFile(h.Name, mode, r)
			}
			data := make([]byte, h.Size)
			if _, err := io.ReadFull(r, data); err != nil {
				return fmt.Errorf("extracting %q: %w", h.Name, err)
			}
			g.Go(func() error { return x.writeFile(h.Name, mode, bytes.NewReader(data)) })
		case tar.TypeSymlink:
			if err := x.symlink(h.Linkname, h.Name); err != nil {
				return fmt.Errorf("extracting symlink %q: %w", h.Name, err)
			}
		}
		return nil
	})
	return errors.Join(err, g.Wait())
}

const (
	// extractWriters bounds the files being written at once per Extract.
	extractWriters = 4
	// maxBufferedFile is the largest file handed to a writer goroutine;
	// a larger one is written in order, from the archive.
	maxBufferedFile = 1 << 20
)

// writeFile creates name with mode and copies r into it.
func (x *Extractor) writeFile(name string, mode os.FileMode, r io.Reader) error {
	f, err := x.create(name, mode)
	if err != nil {
		return fmt.Errorf("extracting %q: %w", name, err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("extracting %q: %w", name, err)
	}
	return nil
}

// mkdirs makes name and its parents, each checked to be a directory and
// not a symlink. x.mu is held.
func (x *Extractor) mkdirs(name string) error {
	if x.dirs[name] {
		return nil
	}
	if err := x.mkdirs(filepath.Dir(name)); err != nil {
		return err
	}
	full := filepath.Join(x.dir, name)
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.Mkdir(full, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if fi, err = os.Lstat(full); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%q is not a directory: %w", name, ErrUnsafePath)
	}
	x.dirs[name] = true
	return nil
}

// create opens name for writing below checked directories, never following
// a symlink in its place. The open itself runs outside x.mu, so that
// packages unpacked side by side create their files in parallel: a checked
// directory stays one (symlink refuses to replace it), and O_NOFOLLOW
// guards the last component.
func (x *Extractor) create(name string, mode os.FileMode) (*os.File, error) {
	x.mu.Lock()
	err := x.mkdirs(filepath.Dir(name))
	isDir := x.dirs[name]
	x.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if isDir {
		return nil, fmt.Errorf("a file in the place of directory %q: %w", name, ErrUnsafePath)
	}
	f, err := os.OpenFile(filepath.Join(x.dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, mode)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%q is a symlink: %w", name, ErrUnsafePath)
	}
	return f, err
}

// symlink makes name a symlink to target, replacing a file or symlink but
// never a directory.
func (x *Extractor) symlink(target, name string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.mkdirs(filepath.Dir(name)); err != nil {
		return err
	}
	if x.dirs[name] {
		return fmt.Errorf("a symlink in the place of directory %q: %w", name, ErrUnsafePath)
	}
	full := filepath.Join(x.dir, name)
	if fi, err := os.Lstat(full); err == nil && fi.IsDir() {
		return fmt.Errorf("a symlink in the place of directory %q: %w", name, ErrUnsafePath)
	}
	_ = os.Remove(full)
	return os.Symlink(target, full)
}
