package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Vmlinuz returns the path of k's kernel image, extracted once from its
// Debian package into CACHE/kernels/RELEASE/vmlinuz.
func Vmlinuz(ctx context.Context, c *debian.Client, k debian.Kernel) (string, error) {
	dest := filepath.Join(c.CacheRoot(), "kernels", k.Release, "vmlinuz")
	if fi, err := os.Stat(dest); err == nil && fi.Size() > 0 {
		return dest, nil
	}
	deb, err := c.Download(ctx, k.Vmlinuz)
	if err != nil {
		return "", fmt.Errorf("getting the kernel image of %q: %w", k.Release, err)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	err = atomicfile.WriteFunc(dest, 0o600, func(w io.Writer) error {
		return debian.ExtractFile(deb, k.VmlinuzPath, w)
	})
	if err != nil {
		return "", fmt.Errorf("extracting the kernel image of %q: %w", k.Release, err)
	}
	return dest, nil
}

// ErrNoModule is returned by a ModuleSource that cannot build for a kernel.
var ErrNoModule = errors.New("no module for this kernel")
