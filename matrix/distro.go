package matrix

import (
	"fmt"

	"github.com/dnsmon/dnsmon/matrix/debian"

	"regexp"
	"slices"
	"sort"
	"strings"
)

// Package families: how packages are installed in a distribution's images.
const (
	FamilyDeb = "deb"
	FamilyRPM = "rpm"
)

// Header installation methods (Headers.Method).
const (
	MethodApt        = "apt"
	MethodAptExtract = "apt-extract"
	MethodYum        = "yum"
	MethodDnf        = "dnf"
	MethodURLs       = "urls"
)

// Distro holds the rules of one distribution.
type Distro interface {
	// Family is FamilyDeb or FamilyRPM.
	Family() string
	// PackageArch returns the distribution's spelling of a Go architecture.
	PackageArch(arch string) (string, error)
	// CheckRelease reports an error when kernel release r cannot belong to
	// distribution release distroRelease on arch.
	CheckRelease(distroRelease string, r Release, arch string) error
	// KernelDir is the headers directory that `make -C` builds against.
	KernelDir(r Release) string
}

// Tracker is implemented by distributions whose kernels can be resolved
// from a package index at run time (Group.Track).
type Tracker interface {
	// CheckFlavour reports an error for a flavour the distribution lacks.
	CheckFlavour(flavour, arch string) error
	// TrackedRelease returns the kernel release a tracked flavour stands
	// for in pkgs, the packages of a suite and its pockets read together.
	TrackedRelease(pkgs []debian.Package, flavour string) (string, error)
	// ReleaseFlavour is the flavour of the releases a tracked flavour
	// resolves to ("generic-hwe-24.04" → "generic").
	ReleaseFlavour(tracked string) string
}

// DebArchive is implemented by the distributions whose groups are made
// from a Debian-format archive: its keys and the defaults of a group's
// debootstrap and track.
type DebArchive interface {
	// Archive is whose keys sign the archive's suites.
	Archive() debian.Archive
	// DefaultMirror is the archive's URL for packages of arch (Go
	// spelling): Ubuntu serves amd64 and the other architectures from
	// two archives.
	DefaultMirror(arch string) string
	// DefaultComponents are the components a debootstrap image is made
	// from and lists.
	DefaultComponents() []string
	// DefaultPockets are the suites beside the release, by suffix, that
	// the image is made from and a track reads.
	DefaultPockets() []string
}

// debArchiveOf returns the archive rules of a distribution, or false for
// one that is not made from a Debian-format archive (or is unknown).
func debArchiveOf(distro string) (DebArchive, bool) {
	d, err := LookupDistro(distro)
	if err != nil {
		return nil, false
	}
	a, ok := d.(DebArchive)
	return a, ok
}

// Factory makes a Distro.
type Factory func() Distro

// distros is the registry of distribution rules, one file per distribution.
func distros() map[string]Factory {
	return map[string]Factory{
		"debian":      newDebian,
		"ubuntu":      newUbuntu,
		"centos":      newCentOS,
		"rocky":       newRocky,
		"alma":        newAlma,
		"amazonlinux": newAmazonLinux,
	}
}

// Distros returns the names of the known distributions, sorted.
func Distros() []string {
	var names []string
	for n := range distros() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupDistro returns the rules of the named distribution.
func LookupDistro(name string) (Distro, error) {
	f, ok := distros()[name]
	if !ok {
		return nil, fmt.Errorf("unknown distro %q (known: %s)", name, strings.Join(Distros(), ", "))
	}
	return f(), nil
}

// archiveOf is whose keys sign a distribution's deb indexes.
func archiveOf(distro string) debian.Archive {
	if a, ok := debArchiveOf(distro); ok {
		return a.Archive()
	}
	return debian.ArchiveDebian
}

// methodsFor lists the header methods a package family supports.
func methodsFor(family string) []string {
	if family == FamilyDeb {
		return []string{MethodApt, MethodAptExtract, MethodURLs}
	}
	return []string{MethodYum, MethodDnf, MethodURLs}
}

func checkMethod(d Distro, method string) error {
	ms := methodsFor(d.Family())
	if !slices.Contains(ms, method) {
		return fmt.Errorf("headers method %q not supported for %s packages (want one of %s)", method, d.Family(), strings.Join(ms, ", "))
	}
	return nil
}

// debArch and rpmArch map Go architectures to package architectures.
func debArch(arch string) (string, error) {
	switch arch {
	case "amd64", "arm64":
		return arch, nil
	}
	return "", fmt.Errorf("unsupported arch %q", arch)
}

func rpmArch(arch string) (string, error) {
	switch arch {
	case "amd64":
		return "x86_64", nil
	case "arm64":
		return "aarch64", nil
	}
	return "", fmt.Errorf("unsupported arch %q", arch)
}

// matchRelease checks r.Raw against re, naming the expected shape.
func matchRelease(re *regexp.Regexp, r Release, want string) error {
	if !re.MatchString(r.Raw) {
		return fmt.Errorf("kernel release %q does not look like %s", r.Raw, want)
	}
	return nil
}
