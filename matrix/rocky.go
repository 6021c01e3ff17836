package matrix

// rhelRebuild: Rocky Linux and AlmaLinux, binary rebuilds of RHEL whose
// kernels carry the same release strings (…el8_10.x86_64, …el9_4.x86_64).
type rhelRebuild struct{ rhelFamily }

func newRHELRebuild() Distro { return rhelRebuild{} }

var _ Distro = rhelRebuild{}
