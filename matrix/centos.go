package matrix

import "fmt"

// centos: CentOS Linux 7 (3.10.0-1160.x). It is end-of-life, so its groups
// replace the image's repositories with the vault archive.
type centos struct{ rhelFamily }

func newCentOS() Distro { return centos{} }

var (
	_ Distro     = centos{}
	_ Discoverer = centos{}
	_ GPGKeyer   = centos{}
)

// GPGKey is the key centos-release installs, which also signs the vault.
func (centos) GPGKey(release string) string {
	return elGPGKey(release, map[string]string{"7": "RPM-GPG-KEY-CentOS-7"})
}

// DefaultIndexes reads the group's yum sources (the vault): CentOS has no
// live mirror left.
func (centos) DefaultIndexes(g Group) ([]PackageIndex, error) {
	parch, err := rpmArch(g.Arch)
	if err != nil {
		return nil, err
	}
	out := yumIndexes(g, parch)
	if len(out) == 0 {
		return nil, fmt.Errorf("CentOS group without yum sources (set discover.sources): %w", ErrNoIndex)
	}
	return out, nil
}
