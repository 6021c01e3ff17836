package main

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

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
	other := errors.New("loading x.ko: read-only file system")
	for name, tc := range map[string]struct {
		err    error
		want   string
		wantIs error
	}{
		"kernel not installed": {
			err:    fmt.Errorf("installing /tmp/dnsmon.ko: %w: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist", install.ErrKernelNotInstalled),
			wantIs: install.ErrKernelNotInstalled,
			want:   "installing /tmp/dnsmon.ko: kernel not installed: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist (fetch the module for an installed kernel; see dnsmon-fetch --installed-kernels)"},
		"no file": {err: load(loader.ErrNoFile, 0, "no such file"), wantIs: loader.ErrNoFile,
			want: "loading /m/dnsmon.ko: no such file; run dnsmon-fetch to download the module for kernel 6.1.0-9-amd64, or name the module file"},
		"wrong kernel (vermagic)": {err: load(loader.ErrWrongKernel, 0, `built for another kernel: the module is for 6.1.0-8-amd64 (vermagic "6.1.0-8-amd64 SMP") but this host runs 6.1.0-9-amd64`), wantIs: loader.ErrWrongKernel,
			want: `loading /m/dnsmon.ko: built for another kernel: the module is for 6.1.0-8-amd64 (vermagic "6.1.0-8-amd64 SMP") but this host runs 6.1.0-9-amd64; run dnsmon-fetch to get the module built for 6.1.0-9-amd64`},
		"wrong kernel (ENOEXEC)": {err: load(loader.ErrWrongKernel, unix.ENOEXEC, "built for another kernel: the kernel refused the module's format (…); dmesg says which (…)"), wantIs: unix.ENOEXEC,
			want: "loading /m/dnsmon.ko: built for another kernel: the kernel refused the module's format (…); dmesg says which (…); run dnsmon-fetch to get the module built for exactly 6.1.0-9-amd64"},
		"unknown symbol": {err: load(loader.ErrUnknownSymbol, unix.ENOENT, "unknown symbol: …; it was built against other headers"), wantIs: loader.ErrUnknownSymbol,
			want: "loading /m/dnsmon.ko: unknown symbol: …; it was built against other headers: run dnsmon-fetch to get the module built for 6.1.0-9-amd64"},
		"EINVAL without parameters": {err: load(loader.ErrNotModule, unix.EINVAL, "invalid argument with no parameters passed: the file is damaged or not a module for this architecture; see dmesg"), wantIs: loader.ErrNotModule,
			want: "loading /m/dnsmon.ko: invalid argument with no parameters passed: the file is damaged or not a module for this architecture; see dmesg, and fetch it again with dnsmon-fetch"},
		"not a module": {err: load(loader.ErrNotModule, 0, "not a kernel module: not an ELF file"), wantIs: loader.ErrNotModule,
			want: "loading /m/dnsmon.ko: not a kernel module: not an ELF file"},
		"already loaded": {err: load(loader.ErrAlreadyLoaded, unix.EEXIST, "already loaded: module dnsmon is in the kernel (/sys/module/dnsmon)"), wantIs: loader.ErrAlreadyLoaded,
			want: "loading /m/dnsmon.ko: already loaded: module dnsmon is in the kernel (/sys/module/dnsmon); to replace it, stop dnsmon-watch, run dnsmon-load --unload, then load again"},
		"being loaded": {err: load(loader.ErrBusy, unix.EBUSY, "a module named dnsmon is being loaded or unloaded right now"), wantIs: loader.ErrBusy,
			want: "loading /m/dnsmon.ko: a module named dnsmon is being loaded or unloaded right now; wait a moment and run dnsmon-load again"},
		"file busy": {err: load(loader.ErrFileBusy, unix.ETXTBSY, "the module file is open for writing by another process (a download still running?)"), wantIs: loader.ErrFileBusy,
			want: "loading /m/dnsmon.ko: the module file is open for writing by another process (a download still running?); wait for it to finish and run dnsmon-load again"},
		"no finit_module": {err: load(loader.ErrUnsupported, unix.ENOSYS, "this kernel has no finit_module(2) (it is older than 3.8) or a seccomp filter blocks it"), wantIs: loader.ErrUnsupported,
			want: "loading /m/dnsmon.ko: this kernel has no finit_module(2) (it is older than 3.8) or a seccomp filter blocks it; dnsmon-load cannot load modules here"},
		"not root": {err: load(loader.ErrNotRoot, unix.EPERM, "not permitted: loading kernel modules needs root (CAP_SYS_MODULE)"), wantIs: loader.ErrNotRoot,
			want: "loading /m/dnsmon.ko: not permitted: loading kernel modules needs root (CAP_SYS_MODULE); run dnsmon-load as root, e.g. with sudo"},
		"in use": {err: &loader.Error{Op: "unloading", Target: "dnsmon", Kind: loader.ErrInUse, Errno: unix.EWOULDBLOCK, Users: 2, Reason: "in use (2 users): …"}, wantIs: loader.ErrInUse,
			want: "unloading dnsmon: in use (dnsmon-watch running?, 2 users): stop the programs that hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them) and run dnsmon-load --unload again"},
		"in use, users unknown": {err: &loader.Error{Op: "unloading", Target: "dnsmon", Kind: loader.ErrInUse, Errno: unix.EBUSY, Reason: "in use: …"}, wantIs: unix.EBUSY,
			want: "unloading dnsmon: in use (dnsmon-watch running?): stop the programs that hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them) and run dnsmon-load --unload again"},
		"needs signature, no advice to add": {err: load(loader.ErrNeedsSignature, unix.EKEYREJECTED, "needs a signed module; …"), wantIs: loader.ErrNeedsSignature,
			want: "loading /m/dnsmon.ko: needs a signed module; …"},
		"other": {err: other, wantIs: other, want: other.Error()},
	} {
		t.Run(name, func(t *testing.T) {
			got := explain(tc.err)
			if got == nil || got.Error() != tc.want {
				t.Fatalf("explain(%v) = %v, want %s", tc.err, got, tc.want)
			}
			if !errors.Is(got, tc.wantIs) {
				t.Errorf("explain(%v) does not wrap %v", tc.err, tc.wantIs)
			}
		})
	}
	if explain(nil) != nil {
		t.Error("explain(nil) is not nil")
	}
}
