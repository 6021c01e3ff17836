package debian

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Kernel is one kernel release of a suite and the packages that carry it.
type Kernel struct {
	Suite   string // suite it was found in, e.g. "sid"
	Flavour string // e.g. "amd64", "rt-amd64", "cloud-amd64"
	Release string // `uname -r`, e.g. "6.1.0-50-amd64"
	Version string // Debian version of the image package
	// Image is linux-image-RELEASE.
	Image Package
	// Vmlinuz is the package holding the kernel image: Image on older
	// suites, linux-binary-RELEASE where linux-image-RELEASE is only a
	// metapackage (sid, experimental).
	Vmlinuz Package
	// VmlinuzPath is the kernel image's path inside Vmlinuz's data archive,
	// without a leading "./".
	VmlinuzPath string
	// Headers are linux-headers-RELEASE and the linux-headers-*-common and
	// linux-kbuild-* packages it depends on: what `make M=` needs.
	Headers []Package
}

// Arch is the kernel's architecture, as its image package names it
// ("amd64", "arm64"); amd64 when the index does not say.
func (k Kernel) Arch() string {
	if a := k.Image.Fields["Architecture"]; a != "" {
		return a
	}
	return "amd64"
}

// ErrNoKernel is returned when a suite has no kernel of the flavour.
var ErrNoKernel = errors.New("no kernel found")

// abiRE matches the part of a release before its flavour: 5.10.0-32,
// 6.12.117+deb12, 7.3.
var abiRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9]+)?(\+[a-z0-9]+)?$`)

// normFlavour turns "", "rt" or "rt-amd64" into the flavour suffix of a
// release ("amd64", "rt-amd64"); a flavour of another architecture stays
// as it is ("arm64", "cloud-arm64").
func normFlavour(f string) string {
	switch {
	case f == "" || f == "amd64":
		return "amd64"
	case f == "arm64" || strings.HasSuffix(f, "-amd64") || strings.HasSuffix(f, "-arm64"):
		return f
	}
	return f + "-amd64"
}

// NewestKernel finds the newest kernel of a suite and flavour in the suite's
// index.
func (c *Client) NewestKernel(ctx context.Context, s Suite, flavour string) (Kernel, error) {
	pkgs, err := c.Packages(ctx, s)
	if err != nil {
		return Kernel{}, err
	}
	k, err := NewestKernel(pkgs, flavour)
	if err != nil {
		return Kernel{}, fmt.Errorf("suite %q: %w", s.Name, err)
	}
	k.Suite = s.Name
	return k, nil
}

// NewestKernel picks, among the linux-image-RELEASE packages of flavour in
// an index, the one with the highest Version (dpkg ordering), skipping
// metapackages, -dbg and -unsigned packages, and resolves the packages
// holding its vmlinuz and headers.
func NewestKernel(pkgs []Package, flavour string) (Kernel, error) {
	flavour = normFlavour(flavour)
	byName := newestByName(pkgs)
	var best *Package
	var bestRel string
	for _, p := range byName {
		rel, ok := strings.CutPrefix(p.Name, "linux-image-")
		if !ok {
			continue
		}
		abi, ok := strings.CutSuffix(rel, "-"+flavour)
		if !ok || !abiRE.MatchString(abi) {
			continue
		}
		if strings.Contains(p.Description, "meta-package") {
			continue
		}
		if best == nil {
			best, bestRel = &p, rel
			continue
		}
		c := CompareVersions(p.Version, best.Version)
		if c == 0 {
			c = CompareVersions(rel, bestRel)
		}
		if c > 0 {
			best, bestRel = &p, rel
		}
	}
	if best == nil {
		return Kernel{}, fmt.Errorf("flavour %q: %w", flavour, ErrNoKernel)
	}
	k := Kernel{Flavour: flavour, Release: bestRel, Version: best.Version, Image: *best,
		Vmlinuz: *best, VmlinuzPath: "boot/vmlinuz-" + bestRel}
	binName := "linux-binary-" + bestRel
	for _, d := range DependsNames(best.Depends) {
		if d != binName {
			continue
		}
		bin, ok := byName[binName]
		if !ok {
			return Kernel{}, fmt.Errorf("kernel %q: %q depends on %q, which the index lacks: %w", bestRel, best.Name, binName, ErrNoKernel)
		}
		k.Vmlinuz, k.VmlinuzPath = bin, "usr/lib/modules/"+bestRel+"/vmlinuz"
	}
	hdr, ok := byName["linux-headers-"+bestRel]
	if !ok {
		return Kernel{}, fmt.Errorf("kernel %q: no linux-headers-%s in the index: %w", bestRel, bestRel, ErrNoKernel)
	}
	k.Headers = append(k.Headers, hdr)
	for _, d := range DependsNames(hdr.Depends) {
		if !strings.HasPrefix(d, "linux-headers-") && !strings.HasPrefix(d, "linux-kbuild-") {
			continue
		}
		p, ok := byName[d]
		if !ok {
			return Kernel{}, fmt.Errorf("kernel %q: %q depends on %q, which the index lacks: %w", bestRel, hdr.Name, d, ErrNoKernel)
		}
		k.Headers = append(k.Headers, p)
	}
	return k, nil
}

// newestByName keeps the highest version of each package name.
func newestByName(pkgs []Package) map[string]Package {
	m := make(map[string]Package)
	for _, p := range pkgs {
		if q, ok := m[p.Name]; !ok || CompareVersions(p.Version, q.Version) > 0 {
			m[p.Name] = p
		}
	}
	return m
}

// MetaKernel returns the kernel release a kernel metapackage points at:
// the RELEASE of the linux-headers-RELEASE or linux-image-RELEASE that the
// newest version of meta in pkgs depends on. Ubuntu names each kernel line
// and flavour by such a metapackage: linux-headers-generic is the GA line's
// newest generic kernel, linux-headers-generic-hwe-24.04 the HWE line's,
// linux-headers-aws the aws flavour's.
func MetaKernel(pkgs []Package, meta string) (string, error) {
	p, ok := newestByName(pkgs)[meta]
	if !ok {
		return "", fmt.Errorf("no metapackage %s in the index: %w", meta, ErrNoKernel)
	}
	kind := "linux-image-"
	if strings.HasPrefix(meta, "linux-headers-") {
		kind = "linux-headers-"
	}
	for _, d := range DependsNames(p.Depends) {
		rel, ok := strings.CutPrefix(d, kind)
		if ok && rel != "" && rel[0] >= '0' && rel[0] <= '9' {
			return rel, nil
		}
	}
	return "", fmt.Errorf("metapackage %s %s depends on no %sRELEASE: %w", meta, p.Version, kind, ErrNoKernel)
}

// UbuntuKernel returns release as an Ubuntu index lists it (a suite and
// its pockets read together): the image package holding
// boot/vmlinuz-RELEASE, which is linux-image-unsigned-RELEASE where there
// is one (linux-image-RELEASE holds the same kernel signed for Secure Boot),
// and the headers packages.
func UbuntuKernel(pkgs []Package, release string) (Kernel, error) {
	byName := newestByName(pkgs)
	img, ok := byName["linux-image-unsigned-"+release]
	if !ok {
		if img, ok = byName["linux-image-"+release]; !ok {
			return Kernel{}, fmt.Errorf("kernel %q: no linux-image-unsigned-%[1]s or linux-image-%[1]s in the index: %w", release, ErrNoKernel)
		}
	}
	k := Kernel{Release: release, Version: img.Version, Image: img, Vmlinuz: img, VmlinuzPath: "boot/vmlinuz-" + release}
	hdr, ok := byName["linux-headers-"+release]
	if !ok {
		return Kernel{}, fmt.Errorf("kernel %q: no linux-headers-%s in the index: %w", release, release, ErrNoKernel)
	}
	k.Headers = append(k.Headers, hdr)
	for _, d := range DependsNames(hdr.Depends) {
		if p, ok := byName[d]; ok && strings.HasPrefix(d, "linux-") && strings.Contains(d, "-headers-") {
			k.Headers = append(k.Headers, p)
		}
	}
	return k, nil
}
