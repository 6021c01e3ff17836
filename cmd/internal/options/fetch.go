package options

import (
	"errors"
	"flag"
	"fmt"
)

// Fetch holds the flags of dnsmon-fetch.
type Fetch struct {
	// From is the source: REGISTRY/REPO, oci-layout:DIR or FILE.tar.zst.
	From string
	// Key is the publisher's public key (PEM).
	Key string
	// Kernel is the target kernel release; empty means `uname -r`.
	Kernel string
	// Arch is the target architecture; empty means the running kernel's.
	Arch string
	// Output is the file to write; empty means kmod.DefaultPath(Kernel).
	Output string
	// Version is the module version; empty means the newest.
	Version string
	// InsecureSkipVerify skips the signature check.
	InsecureSkipVerify bool
	// InsecureRegistry allows plain HTTP to the registry.
	InsecureRegistry bool
}

// DefaultKeyFile is where dnsmon-fetch looks for the publisher's key when
// --key is not given.
const DefaultKeyFile = "/etc/dnsmon/dnsmon.pub"

// AddFetchFlags registers the flags of dnsmon-fetch on fs; defaultSource is
// the fetcher's default repository. The options package does not import the
// fetcher, so that dnsmon-load and dnsmon-watch do not link a registry client.
func AddFetchFlags(fs *flag.FlagSet, f *Fetch, defaultSource string) {
	fs.StringVar(&f.From, "from", defaultSource, "where to fetch from: REGISTRY/REPO, oci-layout:DIR or a bundle FILE.tar.zst")
	fs.StringVar(&f.Key, "key", "", "the publisher's public key (PEM, from dnsmon-farm keygen); default "+DefaultKeyFile+" when it exists")
	fs.StringVar(&f.Kernel, "kernel", "", "kernel release to fetch the module for (default: uname -r)")
	fs.StringVar(&f.Arch, "arch", "", "architecture, GOARCH spelling (default: the running kernel's)")
	fs.StringVar(&f.Output, "o", "", "file to write (default: /var/lib/dnsmon/modules/RELEASE/dnsmon.ko)")
	fs.StringVar(&f.Version, "version", "", "module version (default: the newest in the source)")
	fs.BoolVar(&f.InsecureSkipVerify, "insecure-skip-verify", false, "do not check the signature (digests and vermagic are still checked)")
	fs.BoolVar(&f.InsecureRegistry, "insecure-registry", false, "allow plain HTTP to the registry")
}

// Validate checks the flags and fills defaults that depend on the host
// (the default key file). exists reports whether a file exists.
func (f *Fetch) Validate(exists func(string) bool) error {
	if f.From == "" {
		return errors.New("--from is empty")
	}
	if f.Key != "" && f.InsecureSkipVerify {
		return errors.New("--key and --insecure-skip-verify exclude each other")
	}
	if f.Key == "" && !f.InsecureSkipVerify {
		if !exists(DefaultKeyFile) {
			return fmt.Errorf("no --key given and %s does not exist: pass --key FILE (the publisher's dnsmon.pub) or, to skip signature checks, --insecure-skip-verify", DefaultKeyFile)
		}
		f.Key = DefaultKeyFile
	}
	return nil
}
