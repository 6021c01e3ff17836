package main

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/cmd/internal/cli/clitest"
	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/fetcher/loader"
)

// TestExplain checks the advice dnsmon-load adds to the loader and install
// libraries' errors: the text is what README.md's Troubleshooting tables
// quote.
func TestExplain(t *testing.T) {
	// load is a refused load as the loader reports it: facts only.
	load := func(kind error, errno unix.Errno, reason string) error {
		return &loader.Error{Op: "loading", Target: "/m/dnsmon.ko", Release: "6.1.0-9-amd64", Kind: kind, Errno: errno, Reason: reason}
	}
	// refused is the case of a refused load whose text gains advice.
	refused := func(kind error, errno unix.Errno, reason, advice string) clitest.Case {
		return clitest.Case{Err: load(kind, errno, reason), WantIs: kind, Want: "loading /m/dnsmon.ko: " + reason + advice}
	}
	other := errors.New("loading x.ko: read-only file system")
	clitest.CheckExplain(t, explain, map[string]clitest.Case{
		"kernel not installed": {
			Err:    fmt.Errorf("installing /tmp/dnsmon.ko: %w: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist", install.ErrKernelNotInstalled),
			WantIs: install.ErrKernelNotInstalled,
			Want:   "installing /tmp/dnsmon.ko: kernel not installed: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist (fetch the module for an installed kernel; see dnsmon-fetch --installed-kernels)"},
		"no file":                 refused(loader.ErrNoFile, 0, "no such file", "; run dnsmon-fetch to download the module for kernel 6.1.0-9-amd64, or name the module file"),
		"wrong kernel (vermagic)": refused(loader.ErrWrongKernel, 0, `built for another kernel: the module is for 6.1.0-8-amd64 (vermagic "6.1.0-8-amd64 SMP") but this host runs 6.1.0-9-amd64`, `; run dnsmon-fetch to get the module built for 6.1.0-9-amd64`),
		"wrong kernel (ENOEXEC)": {Err: load(loader.ErrWrongKernel, unix.ENOEXEC, "built for another kernel: the kernel refused the module's format (…); dmesg says which (…)"), WantIs: unix.ENOEXEC,
			Want: "loading /m/dnsmon.ko: built for another kernel: the kernel refused the module's format (…); dmesg says which (…); run dnsmon-fetch to get the module built for exactly 6.1.0-9-amd64"},
		"unknown symbol":            refused(loader.ErrUnknownSymbol, unix.ENOENT, "unknown symbol: …; it was built against other headers", ": run dnsmon-fetch to get the module built for 6.1.0-9-amd64"),
		"EINVAL without parameters": refused(loader.ErrNotModule, unix.EINVAL, "invalid argument with no parameters passed: the file is damaged or not a module for this architecture; see dmesg", ", and fetch it again with dnsmon-fetch"),
		"not a module":              refused(loader.ErrNotModule, 0, "not a kernel module: not an ELF file", ""),
		"already loaded":            refused(loader.ErrAlreadyLoaded, unix.EEXIST, "already loaded: module dnsmon is in the kernel (/sys/module/dnsmon)", "; to replace it, stop dnsmon-watch, run dnsmon-load --unload, then load again"),
		"being loaded":              refused(loader.ErrBusy, unix.EBUSY, "a module named dnsmon is being loaded or unloaded right now", "; wait a moment and run dnsmon-load again"),
		"file busy":                 refused(loader.ErrFileBusy, unix.ETXTBSY, "the module file is open for writing by another process (a download still running?)", "; wait for it to finish and run dnsmon-load again"),
		"no finit_module":           refused(loader.ErrUnsupported, unix.ENOSYS, "this kernel has no finit_module(2) (it is older than 3.8) or a seccomp filter blocks it", "; dnsmon-load cannot load modules here"),
		"not root":                  refused(loader.ErrNotRoot, unix.EPERM, "not permitted: loading kernel modules needs root (CAP_SYS_MODULE)", "; run dnsmon-load as root, e.g. with sudo"),
		"in use": {Err: &loader.Error{Op: "unloading", Target: "dnsmon", Kind: loader.ErrInUse, Errno: unix.EWOULDBLOCK, Users: 2, Reason: "in use (2 users): …"}, WantIs: loader.ErrInUse,
			Want: "unloading dnsmon: in use (dnsmon-watch running?, 2 users): stop the programs that hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them) and run dnsmon-load --unload again"},
		"in use, users unknown": {Err: &loader.Error{Op: "unloading", Target: "dnsmon", Kind: loader.ErrInUse, Errno: unix.EBUSY, Reason: "in use: …"}, WantIs: unix.EBUSY,
			Want: "unloading dnsmon: in use (dnsmon-watch running?): stop the programs that hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them) and run dnsmon-load --unload again"},
		"needs signature, no advice to add": refused(loader.ErrNeedsSignature, unix.EKEYREJECTED, "needs a signed module; …", ""),
		"other":                             {Err: other, WantIs: other, Want: other.Error()},
	})
}
