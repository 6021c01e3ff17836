package matrix

// centos: CentOS Linux 7 (3.10.0-1160.x). It is end-of-life, so its groups
// replace the image's repositories with the vault archive.
type centos struct{ rhelFamily }

func newCentOS() Distro { return centos{} }

var _ Distro = centos{}
