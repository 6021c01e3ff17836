package matrix

import "regexp"

// ubuntu: releases such as 5.15.0-122-generic, 6.8.0-45-lowlatency,
// 6.8.0-1015-aws. The architecture is not part of the release.
type ubuntu struct{}

func newUbuntu() Distro { return ubuntu{} }

var _ Distro = ubuntu{}

var ubuntuRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-[a-z][a-z0-9]*(-[a-z0-9]+)?$`)

func (ubuntu) Family() string                          { return FamilyDeb }
func (ubuntu) PackageArch(arch string) (string, error) { return debArch(arch) }
func (ubuntu) KernelDir(r Release) string              { return "/usr/src/linux-headers-" + r.Raw }

func (ubuntu) CheckRelease(_ string, r Release, _ string) error {
	return matchRelease(ubuntuRelease, r, "an Ubuntu kernel (5.15.0-122-generic)")
}
