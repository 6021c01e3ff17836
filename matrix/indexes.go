package matrix

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Package index kinds (PackageIndex.Kind).
const (
	// IndexDeb is a Debian-style Packages index:
	// URL/dists/SUITE/COMPONENT/binary-ARCH/Packages(.xz|.gz).
	IndexDeb = "deb"
	// IndexRPM is an RPM repository: URL/repodata/repomd.xml → primary.
	IndexRPM = "rpm"
)

// PackageIndex is one package index a group's kernel headers are published
// in.
type PackageIndex struct {
	// Kind is IndexDeb or IndexRPM.
	Kind string `json:"kind"`
	// URL is the archive root (deb) or the repository's base URL (rpm).
	URL string `json:"url"`
	// Suite and Component name a deb index; Components lists them all.
	Suite      string   `json:"suite,omitempty"`
	Components []string `json:"components,omitempty"`
	// Arch is the package architecture, e.g. "amd64" or "x86_64".
	Arch string `json:"arch"`
	// Archive is whose keys sign a deb index's InRelease: Debian's (empty)
	// or Ubuntu's.
	Archive debian.Archive `json:"archive,omitempty"`
}

// DebSuite is the deb index of one of p's components, as matrix/debian reads it.
func (p PackageIndex) DebSuite(component string) debian.Suite {
	return debian.Suite{Name: p.Suite, BaseURL: p.URL, Component: component, Arch: p.Arch, Archive: p.Archive}
}

// String names the index in messages.
func (p PackageIndex) String() string {
	if p.Kind == IndexDeb {
		return fmt.Sprintf("%s %s %s (%s)", p.URL, p.Suite, strings.Join(p.Components, ","), p.Arch)
	}
	return p.URL
}

// IndexedPackage is a package as a package index lists it.
type IndexedPackage struct {
	// Name is the package name, e.g. "linux-headers-6.1.0-56-amd64" or
	// "kernel-devel".
	Name string
	// Version is the Debian version, or the RPM VERSION.
	Version string
	// RPMRelease is the RPM RELEASE (e.g. "503.14.1.el9_5"); empty for deb.
	RPMRelease string
	// Arch is the package architecture.
	Arch string
	// Summary is the package's one-line description; a Debian headers
	// package whose summary ends in "(meta-package)" only depends on the
	// real one.
	Summary string
}

// Discoverer is implemented by distributions whose kernel headers can be
// listed from package indexes, for `dnsmon-farm discover`.
type Discoverer interface {
	// DefaultIndexes returns the indexes to read for a group that has no
	// discover.sources.
	DefaultIndexes(g Group) ([]PackageIndex, error)
	// HeadersRelease returns the kernel release whose headers p carries,
	// and false for every other package.
	HeadersRelease(g Group, p IndexedPackage) (string, bool)
	// Flavour returns the flavour of a release of the distribution:
	// "generic", "aws", "rt-amd64"; "" for distributions with one.
	Flavour(r Release) string
}

// ErrNoIndex is returned for a group whose package indexes are unknown.
var ErrNoIndex = errors.New("no package index known")

// discovererOf returns the distribution of g and its discovery rules; for
// a distribution without them, an error wrapping ErrNoIndex.
func discovererOf(g Group) (Distro, Discoverer, error) {
	d, err := LookupDistro(g.Distro)
	if err != nil {
		return nil, nil, err
	}
	disc, ok := d.(Discoverer)
	if !ok {
		return nil, nil, fmt.Errorf("group %q: discovery is not supported for %s: %w", g.Name, g.Distro, ErrNoIndex)
	}
	return d, disc, nil
}

// GroupIndexes returns the package indexes to read for new kernels of g:
// its discover.sources, or its distribution's defaults.
func GroupIndexes(g Group) ([]PackageIndex, error) {
	d, disc, err := discovererOf(g)
	if err != nil {
		return nil, err
	}
	parch, err := d.PackageArch(g.Arch)
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", g.Name, err)
	}
	if g.Discover != nil && len(g.Discover.Sources) > 0 {
		out, err := sourceIndexes(g.Discover.Sources, parch)
		if err != nil {
			return nil, fmt.Errorf("group %q: discover: %w", g.Name, err)
		}
		return out, nil
	}
	out, err := disc.DefaultIndexes(g)
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", g.Name, err)
	}
	return out, nil
}

// sourceIndexes turns apt lines and yum repositories into indexes.
func sourceIndexes(srcs []Source, parch string) ([]PackageIndex, error) {
	var out []PackageIndex
	for _, s := range srcs {
		switch {
		case s.Apt != "":
			fs := strings.Fields(s.Apt)
			if len(fs) < 3 || fs[0] != "deb" {
				return nil, fmt.Errorf("apt source %q is not a `deb URL SUITE [COMPONENT...]` line", s.Apt)
			}
			comps := fs[3:]
			if len(comps) == 0 {
				comps = []string{"main"}
			}
			out = append(out, PackageIndex{Kind: IndexDeb, URL: fs[1], Suite: fs[2], Components: comps, Arch: parch})
		case s.Yum != nil:
			out = append(out, PackageIndex{Kind: IndexRPM, URL: s.Yum.BaseURL, Arch: parch})
		}
	}
	return out, nil
}

// GroupFlavours returns the kernel flavours discovery looks for in g: its
// discover.flavours, else those of its kernels and of its track.
func GroupFlavours(g Group) ([]string, error) {
	if g.Discover != nil && len(g.Discover.Flavours) > 0 {
		return slices.Clone(g.Discover.Flavours), nil
	}
	_, disc, err := discovererOf(g)
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(f string) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, k := range g.Kernels {
		r, err := ParseRelease(k)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", g.Name, err)
		}
		add(disc.Flavour(r))
	}
	if g.Track != nil {
		tr, _ := disc.(Tracker)
		for _, f := range g.Track.Flavours {
			if tr != nil {
				f = tr.ReleaseFlavour(f)
			}
			add(f)
		}
	}
	return out, nil
}

// KernelFlavour returns the flavour of release r in distribution distro.
func KernelFlavour(distro string, r Release) (string, error) {
	d, err := LookupDistro(distro)
	if err != nil {
		return "", err
	}
	disc, ok := d.(Discoverer)
	if !ok {
		return "", fmt.Errorf("discovery is not supported for %s: %w", distro, ErrNoIndex)
	}
	return disc.Flavour(r), nil
}

// HeadersRelease returns the kernel release whose headers p carries for
// group g, and false when p is no headers package of g's distribution.
func HeadersRelease(g Group, p IndexedPackage) (string, bool) {
	_, disc, err := discovererOf(g)
	if err != nil {
		return "", false
	}
	return disc.HeadersRelease(g, p)
}

// debHeadersRelease maps linux-headers-RELEASE to RELEASE when RELEASE is a
// kernel of the group's distribution (not -common, not a metapackage).
func debHeadersRelease(d Distro, g Group, p IndexedPackage) (string, bool) {
	rel, ok := strings.CutPrefix(p.Name, "linux-headers-")
	if !ok || strings.Contains(p.Summary, "meta-package") {
		return "", false
	}
	r, err := ParseRelease(rel)
	if err != nil || d.CheckRelease(g.Release, r, g.Arch) != nil {
		return "", false
	}
	return rel, true
}

// rpmHeadersRelease maps kernel-devel VERSION-RELEASE.ARCH to its `uname -r`.
func rpmHeadersRelease(d Distro, g Group, p IndexedPackage) (string, bool) {
	parch, err := d.PackageArch(g.Arch)
	if err != nil || p.Name != "kernel-devel" || p.Arch != parch {
		return "", false
	}
	rel := p.Version + "-" + p.RPMRelease + "." + p.Arch
	r, err := ParseRelease(rel)
	if err != nil || d.CheckRelease(g.Release, r, g.Arch) != nil {
		return "", false
	}
	return rel, true
}

// yumIndexes returns the group's yum sources as indexes.
func yumIndexes(g Group, parch string) []PackageIndex {
	var out []PackageIndex
	for _, s := range g.Sources {
		if s.Yum != nil {
			out = append(out, PackageIndex{Kind: IndexRPM, URL: s.Yum.BaseURL, Arch: parch})
		}
	}
	return out
}

// HeaderIndexes are the deb indexes that hold an apt-extract target's
// header packages: its base suite and its apt sources, as the builder image
// would list them.
func (t Target) HeaderIndexes() ([]PackageIndex, error) {
	if t.Debootstrap == nil {
		return nil, fmt.Errorf("target %q has no debootstrap suite: %w", t.Name(), ErrNoIndex)
	}
	parch, err := debArch(t.Arch)
	if err != nil {
		return nil, err
	}
	d := t.Debootstrap
	mirror := d.Mirror
	if mirror == "" {
		mirror = DefaultDebianMirror
	}
	var out []PackageIndex
	for _, s := range d.Suites() {
		out = append(out, PackageIndex{Kind: IndexDeb, URL: mirror, Suite: s, Components: []string{"main"}, Arch: parch, Archive: d.Archive})
	}
	extra, err := sourceIndexes(aptSources(t.Sources), parch)
	if err != nil {
		return nil, err
	}
	for i := range extra {
		extra[i].Archive = d.Archive
	}
	return append(out, extra...), nil
}
