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
	// Keys are the publisher's public keys (PEM files): a signature by any
	// of them verifies, so a host trusts the old and the new key during a
	// rotation. --key, repeated.
	Keys []string
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

	// Install installs the fetched module into /lib/modules/KREL/updates.
	Install bool
	// InstalledKernels fetches and installs for every installed kernel.
	InstalledKernels bool
	// List prints the kernel releases available at the source.
	List bool
	// Distro narrows List to a distribution ("debian", "debian-12").
	Distro string
	// JSON makes List print JSON.
	JSON bool
	// Save writes From, Keys and InsecureRegistry to the config file.
	Save bool
	// Root is the root directory of the system to install into.
	Root string
	// Config is the configuration file.
	Config string
	// AllowRollback accepts a version index older than one seen before.
	AllowRollback bool
	// AllowExpired accepts a version index past its expiry.
	AllowExpired bool
}

// DefaultKeyFile is where dnsmon-fetch looks for the publisher's key when
// --key is not given.
const DefaultKeyFile = "/etc/dnsmon/dnsmon.pub"

// AddFetchFlags registers the flags of dnsmon-fetch on fs; defaultSource is
// the fetcher's default repository. The options package does not import the
// fetcher, so that dnsmon-load and dnsmon-watch do not link a registry client.
func AddFetchFlags(fs *flag.FlagSet, f *Fetch, defaultSource string) {
	fs.StringVar(&f.From, "from", defaultSource, "where to fetch from: REGISTRY/REPO, oci-layout:DIR or a bundle FILE.tar.zst")
	fs.Func("key", "the publisher's public key (PEM, from dnsmon-farm keygen); repeat it to trust several keys during a rotation; default "+DefaultKeyFile+" when it exists", func(path string) error {
		if path == "" {
			return errors.New("empty path")
		}
		f.Keys = append(f.Keys, path)
		return nil
	})
	fs.StringVar(&f.Kernel, "kernel", "", "kernel release to fetch the module for (default: uname -r)")
	fs.StringVar(&f.Arch, "arch", "", "architecture, GOARCH spelling (default: the running kernel's)")
	fs.StringVar(&f.Output, "o", "", "file to write (default: /var/lib/dnsmon/modules/RELEASE/dnsmon.ko)")
	fs.StringVar(&f.Version, "version", "", "module version (default: the newest in the source)")
	fs.BoolVar(&f.InsecureSkipVerify, "insecure-skip-verify", false, "do not check the signature (digests and vermagic are still checked)")
	fs.BoolVar(&f.InsecureRegistry, "insecure-registry", false, "allow plain HTTP to the registry")
	fs.BoolVar(&f.Install, "install", false, "install the module into /lib/modules/RELEASE/updates (with depmod) instead of writing -o")
	fs.BoolVar(&f.InstalledKernels, "installed-kernels", false, "fetch, verify and install the module for every kernel under /lib/modules")
	fs.BoolVar(&f.List, "list", false, "list the kernel releases the source has a module for, then exit")
	fs.StringVar(&f.Distro, "distro", "", "with --list: only this distribution (\"debian\" or \"debian-12\")")
	fs.BoolVar(&f.JSON, "json", false, "with --list: print a JSON array")
	fs.BoolVar(&f.Save, "save", false, "save --from, --key and --insecure-registry in the config file as the defaults")
	fs.StringVar(&f.Root, "root", "", "the root directory of the system to install into and whose state (/var/lib/dnsmon) to keep (default /)")
	fs.BoolVar(&f.AllowRollback, "allow-rollback", false, "accept a version index whose serial is lower than one seen before from the source")
	fs.BoolVar(&f.AllowExpired, "allow-expired", false, "accept a version index past the expiry its publisher set (an old bundle)")
	fs.StringVar(&f.Config, "config", DefaultConfigFile, "the configuration file holding the default source and key")
}

// DefaultConfigFile is where dnsmon-fetch keeps its defaults.
const DefaultConfigFile = "/etc/dnsmon/config.json"

// CheckActions checks the combination of the action flags.
func (f *Fetch) CheckActions() error {
	var errs []error
	if err := exclusive("--install, --installed-kernels and --list", f.Install, f.InstalledKernels, f.List); err != nil {
		errs = append(errs, err)
	}
	if f.InstalledKernels && f.Kernel != "" {
		errs = append(errs, errors.New("--installed-kernels takes no --kernel: it installs for every kernel under /lib/modules"))
	}
	if (f.Install || f.InstalledKernels || f.List) && f.Output != "" {
		errs = append(errs, errors.New("-o goes with a plain fetch, not with --install, --installed-kernels or --list"))
	}
	if !f.List && (f.Distro != "" || f.JSON) {
		errs = append(errs, errors.New("--distro and --json go with --list"))
	}
	if f.Root != "" && f.Output != "" {
		errs = append(errs, errors.New("--root and -o exclude each other: with -o, the state is kept beside the file"))
	}
	return errors.Join(errs...)
}

// Validate checks the flags and fills defaults that depend on the host
// (the default key file). exists reports whether a file exists.
func (f *Fetch) Validate(exists func(string) bool) error {
	if f.From == "" {
		return errors.New("--from is empty")
	}
	if len(f.Keys) > 0 && f.InsecureSkipVerify {
		return errors.New("--key and --insecure-skip-verify exclude each other")
	}
	if (f.AllowRollback || f.AllowExpired) && f.InsecureSkipVerify {
		return errors.New("--allow-rollback and --allow-expired go with signature checks, not with --insecure-skip-verify (which checks no serial or expiry)")
	}
	if len(f.Keys) == 0 && !f.InsecureSkipVerify {
		if !exists(DefaultKeyFile) {
			return fmt.Errorf("no --key given and %s does not exist: pass --key FILE (the publisher's dnsmon.pub) or, to skip signature checks, --insecure-skip-verify", DefaultKeyFile)
		}
		f.Keys = []string{DefaultKeyFile}
	}
	return nil
}
