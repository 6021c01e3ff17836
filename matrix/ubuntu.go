package matrix

import (
	"fmt"
	"regexp"
)

// ubuntu: releases such as 5.15.0-122-generic, 6.8.0-45-lowlatency,
// 6.8.0-1015-aws. The architecture is not part of the release.
type ubuntu struct{}

func newUbuntu() Distro { return ubuntu{} }

var (
	_ Distro     = ubuntu{}
	_ Discoverer = ubuntu{}
)

var ubuntuRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-([a-z][a-z0-9]*(-[a-z0-9]+)?)$`)

func (ubuntu) Family() string                          { return FamilyDeb }
func (ubuntu) PackageArch(arch string) (string, error) { return debArch(arch) }
func (ubuntu) KernelDir(r Release) string              { return "/usr/src/linux-headers-" + r.Raw }

func (ubuntu) CheckRelease(_ string, r Release, _ string) error {
	return matchRelease(ubuntuRelease, r, "an Ubuntu kernel (5.15.0-122-generic)")
}

// DefaultUbuntuMirror and DefaultUbuntuPortsMirror are the archives Ubuntu
// groups are discovered from (amd64, and every other architecture).
const (
	DefaultUbuntuMirror      = "http://archive.ubuntu.com/ubuntu"
	DefaultUbuntuPortsMirror = "http://ports.ubuntu.com/ubuntu-ports"
)

// ubuntuCodenames maps Ubuntu releases to their suite codenames.
var ubuntuCodenames = map[string]string{
	"18.04": "bionic", "20.04": "focal", "22.04": "jammy", "24.04": "noble",
	"24.10": "oracular", "25.04": "plucky", "25.10": "questing",
}

// DefaultIndexes reads main of CODENAME, CODENAME-updates and
// CODENAME-security on the Ubuntu archive, and the group's apt sources.
func (ubuntu) DefaultIndexes(g Group) ([]PackageIndex, error) {
	parch, err := debArch(g.Arch)
	if err != nil {
		return nil, err
	}
	code := ubuntuCodenames[g.Release]
	if code == "" {
		return nil, fmt.Errorf("no known codename for Ubuntu %q (set discover.sources): %w", g.Release, ErrNoIndex)
	}
	mirror := DefaultUbuntuMirror
	if parch != "amd64" {
		mirror = DefaultUbuntuPortsMirror
	}
	var out []PackageIndex
	for _, s := range []string{code, code + "-updates", code + "-security"} {
		out = append(out, PackageIndex{Kind: IndexDeb, URL: mirror, Suite: s, Components: []string{"main"}, Arch: parch})
	}
	extra, err := sourceIndexes(aptSources(g.Sources), parch)
	if err != nil {
		return nil, err
	}
	return append(out, extra...), nil
}

func (u ubuntu) HeadersRelease(g Group, p IndexedPackage) (string, bool) {
	return debHeadersRelease(u, g, p)
}

// Flavour is what follows the ABI number: "generic", "aws", "generic-64k".
func (ubuntu) Flavour(r Release) string {
	m := ubuntuRelease.FindStringSubmatch(r.Raw)
	if m == nil {
		return ""
	}
	return m[1]
}
