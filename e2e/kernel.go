package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/matrix"
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

// GuestKernel resolves the kernel of suite and flavour that a guest boots:
// for a suite an Ubuntu group of kernelsFile tracks, the kernel Ubuntu's
// metapackage linux-headers-FLAVOUR points at across the suite and its
// pockets ("noble", "generic-hwe-24.04"); otherwise the newest kernel of the
// Debian suite and flavour ("bookworm", "rt-amd64"). An empty flavour is
// the distribution's default: Ubuntu's generic, Debian's amd64.
func GuestKernel(ctx context.Context, c *debian.Client, kernelsFile, suite, flavour string) (debian.Kernel, error) {
	f, err := matrix.Load(kernelsFile)
	if err != nil {
		return debian.Kernel{}, err
	}
	for _, g := range f.Groups {
		if g.Distro != "ubuntu" || g.Track == nil || g.Track.Suite != suite {
			continue
		}
		if flavour == "" {
			flavour = "generic"
		}
		// The same index reads and metapackage as a build's resolver,
		// keeping the packages for the kernel's image.
		q := g.TrackQuery(flavour)
		pkgs, err := matrix.TrackPackages(ctx, c, q)
		if err != nil {
			return debian.Kernel{}, err
		}
		rel, err := matrix.DebianIndex(c).NewestKernel(ctx, q)
		if err != nil {
			return debian.Kernel{}, fmt.Errorf("suite %q: %w", suite, err)
		}
		k, err := debian.UbuntuKernel(pkgs, rel)
		if err != nil {
			return debian.Kernel{}, fmt.Errorf("suite %q: %w", suite, err)
		}
		k.Suite, k.Flavour = suite, flavour
		return k, nil
	}
	if flavour == "" {
		flavour = "amd64"
	}
	s := debian.SuiteFor(suite)
	if strings.HasSuffix(flavour, "arm64") {
		s.Arch = "arm64"
	}
	return c.NewestKernel(ctx, s, flavour)
}
