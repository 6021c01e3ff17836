package matrix

import (
	"fmt"
	"regexp"
)

// amazonLinux: Amazon Linux 2 (5.10.225-213.878.amzn2.x86_64) and 2023
// (6.1.109-118.189.amzn2023.x86_64); headers from kernel-devel.
type amazonLinux struct{}

func newAmazonLinux() Distro { return amazonLinux{} }

var (
	_ Distro   = amazonLinux{}
	_ GPGKeyer = amazonLinux{}
)

// GPGKey is the key system-release installs.
func (amazonLinux) GPGKey(release string) string {
	switch release {
	case "2", "2023":
		return rpmGPGKey + "RPM-GPG-KEY-amazon-linux-" + release
	}
	return ""
}

var amznRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+(\.[0-9]+)*\.amzn([0-9]+)\.(x86_64|aarch64)$`)

func (amazonLinux) Family() string                          { return FamilyRPM }
func (amazonLinux) PackageArch(arch string) (string, error) { return rpmArch(arch) }
func (amazonLinux) KernelDir(r Release) string              { return "/usr/src/kernels/" + r.Raw }

func (amazonLinux) CheckRelease(distroRelease string, r Release, arch string) error {
	m := amznRelease.FindStringSubmatch(r.Raw)
	if m == nil {
		return fmt.Errorf("kernel release %q does not look like an Amazon Linux kernel (6.1.109-118.189.amzn2023.x86_64)", r.Raw)
	}
	if m[2] != distroRelease {
		return fmt.Errorf("kernel release %q is an amzn%s kernel, not for release %q", r.Raw, m[2], distroRelease)
	}
	if a, err := rpmArch(arch); err != nil || m[3] != a {
		return fmt.Errorf("kernel release %q is not for arch %q", r.Raw, arch)
	}
	return nil
}

var _ Discoverer = amazonLinux{}

// DefaultAmazonLinux2Mirror and DefaultAmazonLinux2023Mirror are where
// Amazon Linux groups are discovered from; their repositories are mirror
// lists.
const (
	DefaultAmazonLinux2Mirror    = "http://amazonlinux.us-east-1.amazonaws.com/2"
	DefaultAmazonLinux2023Mirror = "https://cdn.amazonlinux.com/al2023/core/mirrors/latest"
)

// DefaultIndexes reads the core repository and, on Amazon Linux 2, the
// kernel-X.Y extras topics of the group's kernels (5.10 and 5.15 kernels
// ship there), plus the group's yum sources.
func (amazonLinux) DefaultIndexes(g Group) ([]PackageIndex, error) {
	parch, err := rpmArch(g.Arch)
	if err != nil {
		return nil, err
	}
	var out []PackageIndex
	add := func(u string) {
		for _, p := range out {
			if p.URL == u {
				return
			}
		}
		out = append(out, PackageIndex{Kind: IndexRPM, URL: u, Arch: parch})
	}
	switch g.Release {
	case "2":
		add(fmt.Sprintf("%s/core/latest/%s/mirror.list", DefaultAmazonLinux2Mirror, parch))
		for _, k := range g.Kernels {
			if r, err := ParseRelease(k); err == nil && (r.Major > 4 || r.Major == 4 && r.Minor > 14) {
				add(fmt.Sprintf("%s/extras/kernel-%d.%d/latest/%s/mirror.list", DefaultAmazonLinux2Mirror, r.Major, r.Minor, parch))
			}
		}
	case "2023":
		add(fmt.Sprintf("%s/%s/mirror.list", DefaultAmazonLinux2023Mirror, parch))
	default:
		return nil, fmt.Errorf("no default repository for Amazon Linux %q (set discover.sources): %w", g.Release, ErrNoIndex)
	}
	return append(out, yumIndexes(g, parch)...), nil
}

// HeadersRelease maps kernel-devel to VERSION-RELEASE.ARCH.
func (a amazonLinux) HeadersRelease(g Group, p IndexedPackage) (string, bool) {
	return rpmHeadersRelease(a, g, p)
}

// Flavour is "": Amazon Linux kernels have one flavour per arch.
func (amazonLinux) Flavour(Release) string { return "" }
