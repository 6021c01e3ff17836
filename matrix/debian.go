package matrix

import (
	"fmt"
	"regexp"
)

// debian: releases such as 5.10.0-32-amd64, 6.1.0-56-rt-amd64,
// 6.12.117+deb12-cloud-amd64, 7.2.13+deb14-amd64, 7.3-amd64.
type debianRules struct{}

func newDebian() Distro { return debianRules{} }

var (
	_ Distro  = debianRules{}
	_ Tracker = debianRules{}
)

var debianRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9]+|\+deb[0-9]+)?-(rt-|cloud-)?(amd64|arm64)$`)

func (debianRules) Family() string                          { return FamilyDeb }
func (debianRules) PackageArch(arch string) (string, error) { return debArch(arch) }
func (debianRules) KernelDir(r Release) string              { return "/usr/src/linux-headers-" + r.Raw }

func (debianRules) CheckRelease(_ string, r Release, arch string) error {
	if err := matchRelease(debianRelease, r, "a Debian kernel (6.1.0-56-amd64, 6.12.117+deb13-rt-amd64, 7.3-amd64)"); err != nil {
		return err
	}
	if a, _ := debArch(arch); !hasSuffix(r.Raw, "-"+a) {
		return fmt.Errorf("kernel release %q is not for arch %q", r.Raw, arch)
	}
	return nil
}

func (debianRules) CheckFlavour(flavour, arch string) error {
	for _, f := range []string{"", "rt-", "cloud-"} {
		if flavour == f+arch {
			return nil
		}
	}
	return fmt.Errorf("unknown Debian kernel flavour %q for arch %q (want %s, rt-%s or cloud-%s)", flavour, arch, arch, arch, arch)
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
