package loader

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// Syscalls are the module syscalls Load and Unload make.
type Syscalls interface {
	// FinitModule is finit_module(2): load the module in file fd.
	FinitModule(fd int, params string, flags int) error
	// DeleteModule is delete_module(2): unload the module called name.
	DeleteModule(name string, flags int) error
}

// sysSyscalls makes the real syscalls.
type sysSyscalls struct{}

var _ Syscalls = sysSyscalls{}

func (sysSyscalls) FinitModule(fd int, params string, flags int) error {
	return unix.FinitModule(fd, params, flags)
}

func (sysSyscalls) DeleteModule(name string, flags int) error {
	return unix.DeleteModule(name, flags)
}

// RunningRelease returns the running kernel's release, as uname -r prints it.
func RunningRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// memfd holds a decompressed module for finit_module.
//
// finit_module reads the file with kernel_read_file, which refuses a file
// that is open for writing anywhere (ETXTBSY). So the module is written to
// a memfd, sealed against changes, reopened read-only through
// /proc/self/fd, and the writable descriptor is closed before the call.
type memfd struct {
	f    *os.File // read-only when reopen worked, else the memfd itself
	size int64
}

// newMemfd returns an empty, writable memfd named name. Kernels without
// memfd_create (before 3.17, RHEL 7) get an unlinked temporary file instead.
func newMemfd(name string) (f *os.File, sealable bool, err error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err == nil {
		return os.NewFile(uintptr(fd), "memfd:"+name), true, nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) {
		return nil, false, fmt.Errorf("memfd_create: %w", err)
	}
	tmp, terr := os.CreateTemp("", name+".*")
	if terr != nil {
		return nil, false, fmt.Errorf("memfd_create: %w; temporary file: %w", err, terr)
	}
	os.Remove(tmp.Name())
	return tmp, false, nil
}

// sealReadOnly seals w (when it is a memfd) and returns a read-only
// descriptor of the same file, closing w. Without /proc it keeps w.
func sealReadOnly(w *os.File, sealable bool) (*os.File, error) {
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if sealable {
		if _, err := unix.FcntlInt(w.Fd(), unix.F_ADD_SEALS, seals); err != nil {
			w.Close()
			return nil, fmt.Errorf("sealing memfd: %w", err)
		}
	}
	r, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", w.Fd()), os.O_RDONLY, 0)
	if err != nil {
		return w, nil // no /proc: the kernel may still accept the sealed memfd
	}
	w.Close()
	return r, nil
}

// decompressToMemfd writes the decompressed module from src into a sealed
// memfd, capped at limit bytes.
func decompressToMemfd(ctx context.Context, src *os.File, limit int64) (*memfd, modinfo.Compression, error) {
	w, sealable, err := newMemfd("dnsmon.ko")
	if err != nil {
		return nil, modinfo.None, err
	}
	c, err := modinfo.Decompress(ctx, w, src, limit)
	if err != nil {
		w.Close()
		return nil, c, err
	}
	size, err := w.Seek(0, 1)
	if err != nil {
		w.Close()
		return nil, c, fmt.Errorf("memfd size: %w", err)
	}
	r, err := sealReadOnly(w, sealable)
	if err != nil {
		return nil, c, err
	}
	return &memfd{f: r, size: size}, c, nil
}
