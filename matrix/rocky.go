package matrix

import "fmt"

// rocky: Rocky Linux, a binary rebuild of RHEL whose kernels carry the same
// release strings (…el8_10.x86_64, …el9_4.x86_64).
type rocky struct{ rhelFamily }

func newRocky() Distro { return rocky{} }

var (
	_ Distro     = rocky{}
	_ Discoverer = rocky{}
	_ GPGKeyer   = rocky{}
)

// GPGKey is the key rocky-gpg-keys installs: one name on 8, another on 9.
func (rocky) GPGKey(release string) string {
	return elGPGKey(release, map[string]string{"8": "RPM-GPG-KEY-rockyofficial", "9": "RPM-GPG-KEY-Rocky-9"})
}

// DefaultRockyMirror is where Rocky Linux groups are discovered from.
const DefaultRockyMirror = "https://dl.rockylinux.org/pub/rocky"

// DefaultIndexes reads AppStream (where kernel-devel lives on EL8 and
// later) of the release on dl.rockylinux.org, and the group's yum sources.
// The mirror keeps only the current point release; older ones are in the
// vault.
func (rocky) DefaultIndexes(g Group) ([]PackageIndex, error) {
	parch, err := rpmArch(g.Arch)
	if err != nil {
		return nil, err
	}
	u := fmt.Sprintf("%s/%s/AppStream/%s/os/", DefaultRockyMirror, rhelMajor(g.Release), parch)
	return append([]PackageIndex{{Kind: IndexRPM, URL: u, Arch: parch}}, yumIndexes(g, parch)...), nil
}
