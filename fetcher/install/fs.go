package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// FS is the filesystem ModuleAndBoot, Module and Uninstall change. Paths are host paths
// (the root directory already joined). Tests wrap the real one to fail on
// chosen paths.
type FS interface {
	// ReadFile reads a whole file.
	ReadFile(name string) ([]byte, error)
	// Lstat describes a file without following a symlink.
	Lstat(name string) (fs.FileInfo, error)
	// Readlink returns a symlink's target.
	Readlink(name string) (string, error)
	// Mkdir creates one directory.
	Mkdir(name string, perm fs.FileMode) error
	// WriteFile replaces name atomically: temporary file in the same
	// directory, fsync, rename, fsync of the directory.
	WriteFile(name string, data []byte, perm fs.FileMode) error
	// Symlink points name at target, replacing name atomically.
	Symlink(target, name string) error
	// Remove removes a file or an empty directory, then fsyncs its
	// directory.
	Remove(name string) error
}

// osFS is the real filesystem.
type osFS struct{}

var _ FS = osFS{}

func (osFS) ReadFile(name string) ([]byte, error)      { return os.ReadFile(name) }
func (osFS) Lstat(name string) (fs.FileInfo, error)    { return os.Lstat(name) }
func (osFS) Readlink(name string) (string, error)      { return os.Readlink(name) }
func (osFS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(name, perm) }

func (osFS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return atomicfile.Write(name, data, perm)
}

func (osFS) Symlink(target, name string) error { return atomicfile.Symlink(target, name) }

func (osFS) Remove(name string) error {
	if err := os.Remove(name); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(name))
}

// Commands finds and runs external programs (depmod).
type Commands interface {
	// LookPath finds a program like exec.LookPath.
	LookPath(name string) (string, error)
	// Run runs a program and returns its combined output.
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// execCommands runs real programs. Besides $PATH it looks in the sbin
// directories, which a non-login root shell or a minimal init may lack.
type execCommands struct{}

var _ Commands = execCommands{}

func (execCommands) LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

func (execCommands) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return bytes.TrimSpace(buf.Bytes()), err
}

// exists reports whether name exists (a dangling symlink counts).
func exists(fsys FS, name string) (bool, error) {
	_, err := fsys.Lstat(name)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}
