package matrix

import (
	"fmt"
	"regexp"
	"strings"
)

// rhelFamily holds the rules shared by CentOS, Rocky and Alma: releases such
// as 3.10.0-1160.119.1.el7.x86_64 or 5.14.0-427.13.1.el9_4.x86_64, headers
// from kernel-devel in /usr/src/kernels/RELEASE.
type rhelFamily struct{}

func (rhelFamily) Family() string                          { return FamilyRPM }
func (rhelFamily) PackageArch(arch string) (string, error) { return rpmArch(arch) }
func (rhelFamily) KernelDir(r Release) string              { return "/usr/src/kernels/" + r.Raw }

var elRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+(\.[0-9]+)*\.el([0-9]+)(_[0-9]+)?\.(x86_64|aarch64)$`)

func (rhelFamily) CheckRelease(distroRelease string, r Release, arch string) error {
	m := elRelease.FindStringSubmatch(r.Raw)
	if m == nil {
		return fmt.Errorf("kernel release %q does not look like an Enterprise Linux kernel (4.18.0-553.16.1.el8_10.x86_64)", r.Raw)
	}
	major, _, _ := strings.Cut(distroRelease, ".")
	if m[2] != major {
		return fmt.Errorf("kernel release %q is an el%s kernel, not for release %q", r.Raw, m[2], distroRelease)
	}
	if a, err := rpmArch(arch); err != nil || m[4] != a {
		return fmt.Errorf("kernel release %q is not for arch %q", r.Raw, arch)
	}
	return nil
}

// HeadersRelease maps kernel-devel to VERSION-RELEASE.ARCH.
func (r rhelFamily) HeadersRelease(g Group, p IndexedPackage) (string, bool) {
	return rpmHeadersRelease(r, g, p)
}

// Flavour is "": Enterprise Linux kernels have one flavour per arch.
func (rhelFamily) Flavour(Release) string { return "" }

// elGPGKey returns the key file of release's major version among byMajor,
// "" for a major version without one.
func elGPGKey(release string, byMajor map[string]string) string {
	if k, ok := byMajor[rhelMajor(release)]; ok {
		return rpmGPGKey + k
	}
	return ""
}

// rhelMajor returns the major version of an Enterprise Linux release.
func rhelMajor(release string) string {
	major, _, _ := strings.Cut(release, ".")
	return major
}
