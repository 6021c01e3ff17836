package matrix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// debian: releases such as 5.10.0-32-amd64, 6.1.0-56-rt-amd64,
// 6.12.117+deb12-cloud-amd64, 7.2.13+deb14-amd64, 7.3-amd64.
type debianRules struct{}

func newDebian() Distro { return debianRules{} }

var (
	_ Distro     = debianRules{}
	_ Tracker    = debianRules{}
	_ DebArchive = debianRules{}
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

// TrackedRelease is the newest linux-image of the flavour.
func (debianRules) TrackedRelease(pkgs []debian.Package, flavour string) (string, error) {
	k, err := debian.NewestKernel(pkgs, flavour)
	if err != nil {
		return "", err
	}
	return k.Release, nil
}

// ReleaseFlavour: a Debian flavour names its releases' tails itself.
func (debianRules) ReleaseFlavour(tracked string) string { return tracked }

func (debianRules) Archive() debian.Archive     { return debian.ArchiveDebian }
func (debianRules) DefaultMirror(string) string { return DefaultDebianMirror }
func (debianRules) DefaultComponents() []string { return []string{"main"} }

// DefaultPockets: none, Debian's point releases update the suite itself.
func (debianRules) DefaultPockets() []string { return nil }

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

var _ Discoverer = debianRules{}

// debianCodenames maps Debian release numbers to the suites a group without
// debootstrap or track reads.
var debianCodenames = map[string]string{
	"10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky",
	"sid": "sid", "unstable": "sid", "experimental": "experimental",
}

// DefaultIndexes reads the tracked suite, or else the group's base suite
// (debootstrap, or the release's codename on deb.debian.org) and its apt
// sources.
func (debianRules) DefaultIndexes(g Group) ([]PackageIndex, error) {
	parch, err := debArch(g.Arch)
	if err != nil {
		return nil, err
	}
	if t := g.Track; t != nil {
		return []PackageIndex{{Kind: IndexDeb, URL: t.Mirror, Suite: t.Suite, Components: []string{"main"}, Arch: parch}}, nil
	}
	var base PackageIndex
	switch {
	case g.Debootstrap != nil:
		base = PackageIndex{Kind: IndexDeb, URL: g.Debootstrap.Mirror, Suite: g.Debootstrap.Suite, Components: []string{"main"}, Arch: parch}
	case debianCodenames[g.Release] != "":
		base = PackageIndex{Kind: IndexDeb, URL: DefaultDebianMirror, Suite: debianCodenames[g.Release], Components: []string{"main"}, Arch: parch}
	default:
		return nil, fmt.Errorf("no default Debian suite for release %q (set discover.sources): %w", g.Release, ErrNoIndex)
	}
	extra, err := sourceIndexes(aptSources(g.Sources), parch)
	if err != nil {
		return nil, err
	}
	return append([]PackageIndex{base}, extra...), nil
}

func (d debianRules) HeadersRelease(g Group, p IndexedPackage) (string, bool) {
	return debHeadersRelease(d, g, p)
}

// Flavour is "amd64", "rt-amd64" or "cloud-amd64".
func (debianRules) Flavour(r Release) string {
	m := debianRelease.FindStringSubmatch(r.Raw)
	if m == nil {
		return ""
	}
	return m[3] + m[4]
}

// aptSources keeps the binary apt lines of srcs.
func aptSources(srcs []Source) []Source {
	var out []Source
	for _, s := range srcs {
		if strings.HasPrefix(s.Apt, "deb ") {
			out = append(out, s)
		}
	}
	return out
}
