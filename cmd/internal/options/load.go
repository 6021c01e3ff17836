package options

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod"
)

// Load is dnsmon-load's command line:
// [--unload | --install | --uninstall] [--root DIR] [FILE] [param=value ...].
type Load struct {
	Unload    bool     // --unload: remove the module instead of loading it
	Install   bool     // --install: install FILE for loading at every boot
	Uninstall bool     // --uninstall: remove what --install wrote
	Root      string   // --root: install into the tree under DIR ("" means /)
	File      string   // the module file; "" means kmod.DefaultPath(uname -r)
	Params    []string // module parameters, each name=value
}

// AddFlags registers Load's flags on fs.
func (o *Load) AddFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.Unload, "unload", false, "remove the "+kmod.Name+" module (delete_module) instead of loading it")
	fs.BoolVar(&o.Install, "install", false, "install FILE into /lib/modules/KREL/updates and load it at every boot with the given parameters (modules-load.d, modprobe.d, systemd unit, kernel post-install hook)")
	fs.BoolVar(&o.Uninstall, "uninstall", false, "remove every file --install wrote (the loaded module stays until --unload or reboot)")
	fs.StringVar(&o.Root, "root", "", "with --install/--uninstall: the root directory of the system to change (default /)")
}

// SetArgs takes the positional arguments: an optional FILE, then
// parameters. The first argument is FILE unless it looks like name=value
// (write ./a=b for a file called a=b).
func (o *Load) SetArgs(args []string) {
	if len(args) > 0 && !looksLikeParam(args[0]) {
		o.File, args = args[0], args[1:]
	}
	o.Params = args
}

func looksLikeParam(s string) bool {
	name, _, ok := strings.Cut(s, "=")
	return ok && name != "" && !strings.ContainsAny(name, "/.")
}

// Validate checks the combination and the parameter syntax.
func (o *Load) Validate() error {
	var errs []error
	for _, a := range append([]string{o.File}, o.Params...) {
		if strings.HasPrefix(a, "-") {
			errs = append(errs, fmt.Errorf("flag %s after the arguments: flags go before FILE and parameters", a))
		}
	}
	if err := exclusive("--unload, --install and --uninstall", o.Unload, o.Install, o.Uninstall); err != nil {
		errs = append(errs, err)
	}
	if o.Unload && (o.File != "" || len(o.Params) > 0) {
		errs = append(errs, errors.New("--unload takes no FILE or parameters: it removes the loaded "+kmod.Name+" module"))
	}
	if o.Uninstall && (o.File != "" || len(o.Params) > 0) {
		errs = append(errs, errors.New("--uninstall takes no FILE or parameters: it removes what --install wrote"))
	}
	if o.Root != "" && !o.Install && !o.Uninstall {
		errs = append(errs, errors.New("--root goes with --install or --uninstall"))
	}
	if err := loader.ValidateParams(o.Params); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Path returns the module file to load: File, or where dnsmon-fetch writes
// the module for release.
func (o *Load) Path(release string) string {
	if o.File != "" {
		return o.File
	}
	return kmod.DefaultPath(release)
}

// exclusive returns an error naming the flags when more than one of set is
// given: names lists them as in "--a, --b and --c".
func exclusive(names string, set ...bool) error {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	if n > 1 {
		return errors.New(names + " exclude each other")
	}
	return nil
}
