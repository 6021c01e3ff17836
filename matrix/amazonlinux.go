package matrix

import (
	"fmt"
	"regexp"
)

// amazonLinux: Amazon Linux 2 (5.10.225-213.878.amzn2.x86_64) and 2023
// (6.1.109-118.189.amzn2023.x86_64); headers from kernel-devel.
type amazonLinux struct{}

func newAmazonLinux() Distro { return amazonLinux{} }

var _ Distro = amazonLinux{}

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
