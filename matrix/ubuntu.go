package matrix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// ubuntu: releases such as 5.15.0-122-generic, 6.8.0-45-lowlatency,
// 6.8.0-1015-aws. The architecture is not part of the release.
type ubuntu struct{}

func newUbuntu() Distro { return ubuntu{} }

var (
	_ Distro     = ubuntu{}
	_ Discoverer = ubuntu{}
	_ Tracker    = ubuntu{}
	_ DebArchive = ubuntu{}
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
	"16.04": "xenial", "18.04": "bionic", "20.04": "focal", "22.04": "jammy", "24.04": "noble",
	"24.10": "oracular", "25.04": "plucky", "25.10": "questing", "26.04": "resolute",
}

// ubuntuFlavour is the name of a kernel metapackage after "linux-headers-":
// generic, generic-hwe-24.04, lowlatency-hwe-22.04, aws, azure, gcp.
var ubuntuFlavour = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9.]+)*$`)

// CheckFlavour accepts the name of a kernel metapackage after
// "linux-headers-": Ubuntu names each kernel line and flavour so.
func (ubuntu) CheckFlavour(flavour, _ string) error {
	if !ubuntuFlavour.MatchString(flavour) {
		return fmt.Errorf("flavour %q is not the tail of an Ubuntu kernel metapackage (generic, generic-hwe-24.04, aws)", flavour)
	}
	return nil
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
	mirror := ubuntu{}.DefaultMirror(g.Arch)
	var out []PackageIndex
	for _, s := range []string{code, code + "-updates", code + "-security"} {
		out = append(out, PackageIndex{Kind: IndexDeb, URL: mirror, Suite: s, Components: []string{"main"}, Arch: parch, Archive: debian.ArchiveUbuntu})
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

// TrackedRelease is the kernel Ubuntu's linux-headers-FLAVOUR metapackage
// depends on, newest across the suite and its pockets: Ubuntu moves each
// line's metapackage to its newest kernel.
func (ubuntu) TrackedRelease(pkgs []debian.Package, flavour string) (string, error) {
	return debian.MetaKernel(pkgs, "linux-headers-"+flavour)
}

// ReleaseFlavour is the flavour of the kernels a tracked metapackage
// points at: "generic-hwe-24.04" → "generic", "aws" → "aws".
func (ubuntu) ReleaseFlavour(meta string) string {
	f, _, _ := strings.Cut(meta, "-hwe-")
	return f
}

func (ubuntu) Archive() debian.Archive { return debian.ArchiveUbuntu }

// DefaultMirror: ports.ubuntu.com serves every architecture but amd64 (and
// i386, which no group builds). A group's arch defaults to amd64.
func (ubuntu) DefaultMirror(arch string) string {
	if arch != "" && arch != "amd64" {
		return DefaultUbuntuPortsMirror
	}
	return DefaultUbuntuMirror
}

// DefaultComponents: universe too, for dwarves, which kernels with BTF
// need and older releases have there.
func (ubuntu) DefaultComponents() []string { return []string{"main", "universe"} }

// DefaultPockets: Ubuntu updates its kernels, and the compilers they are
// built with, in -updates and -security.
func (ubuntu) DefaultPockets() []string { return []string{"updates", "security"} }
