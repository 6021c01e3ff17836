package matrix

import "fmt"

// alma: AlmaLinux, a binary rebuild of RHEL whose kernels carry the same
// release strings (…el8_10.x86_64, …el9_4.x86_64).
type alma struct{ rhelFamily }

func newAlma() Distro { return alma{} }

var (
	_ Distro     = alma{}
	_ Discoverer = alma{}
	_ GPGKeyer   = alma{}
)

// GPGKey is the key almalinux-gpg-keys installs.
func (alma) GPGKey(release string) string {
	return elGPGKey(release, map[string]string{"8": "RPM-GPG-KEY-AlmaLinux", "9": "RPM-GPG-KEY-AlmaLinux-9"})
}

// DefaultAlmaMirror is where AlmaLinux groups are discovered from.
const DefaultAlmaMirror = "https://repo.almalinux.org/almalinux"

// DefaultIndexes reads AppStream of the release on repo.almalinux.org, and
// the group's yum sources.
func (alma) DefaultIndexes(g Group) ([]PackageIndex, error) {
	parch, err := rpmArch(g.Arch)
	if err != nil {
		return nil, err
	}
	u := fmt.Sprintf("%s/%s/AppStream/%s/os/", DefaultAlmaMirror, rhelMajor(g.Release), parch)
	return append([]PackageIndex{{Kind: IndexRPM, URL: u, Arch: parch}}, yumIndexes(g, parch)...), nil
}
