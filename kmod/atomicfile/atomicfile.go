package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Option changes how Write and WriteFunc commit a file.
type Option func(*options)

type options struct {
	mtime time.Time
}

// WithModTime stamps the file with t (access and modification time) before
// it is renamed into place, so that a reader who sees the new content also
// sees the new time. A zero t leaves the time of the write, the default.
func WithModTime(t time.Time) Option {
	return func(o *options) { o.mtime = t }
}

// Write writes data to path through a temporary file in the same
// directory: write, fsync, chmod, rename, fsync the directory.
func Write(path string, data []byte, perm os.FileMode, opts ...Option) error {
	return WriteFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, opts...)
}

// WriteFunc is Write with the content streamed by fill. When fill fails
// (a short read, a digest that does not match), the temporary file is
// removed and path is left as it was; fill's error is returned wrapped.
func WriteFunc(path string, perm os.FileMode, fill func(io.Writer) error, opts ...Option) (err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// CreateTemp makes the file 0600; chmod, unlike the mode given to
	// open(2), is not narrowed by the umask.
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err = fill(f); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if !o.mtime.IsZero() {
		if err = os.Chtimes(f.Name(), o.mtime, o.mtime); err != nil {
			return fmt.Errorf("writing %q: %w", path, err)
		}
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return SyncDir(dir)
}

// Symlink points name at target, replacing whatever name was: the link is
// made under a temporary name in the same directory, renamed over name,
// and the directory is synced.
func Symlink(target, name string) error {
	dir := filepath.Dir(name)
	// A free temporary name: CreateTemp picks it, the symlink takes it.
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("linking %q: %w", name, err)
	}
	tmp := f.Name()
	f.Close()
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("linking %q: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("linking %q: %w", name, err)
	}
	return SyncDir(dir)
}

// SyncDir fsyncs the directory dir, making a rename, a new file or a
// removal in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", dir, err)
	}
	return nil
}
