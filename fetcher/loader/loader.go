package loader

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/fetcher/internal/hostopt"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// Option configures Load and Unload.
type Option func(*options) error

type options struct {
	sys     Syscalls
	release string
	hostopt.RootFS
	hostopt.SizeCap
	// signCheck is set by WithSigningCheck (precheck.go).
	signCheck *signingCheck
}

// WithSyscalls makes the module syscalls through s (a fake, in tests).
// Default: the real finit_module(2) and delete_module(2).
func WithSyscalls(s Syscalls) Option {
	return func(o *options) error {
		if s == nil {
			return errors.New("WithSyscalls: nil Syscalls")
		}
		o.sys = s
		return nil
	}
}

// WithRelease sets the running kernel release that a module's vermagic must
// name. Default: uname -r.
func WithRelease(release string) Option {
	return func(o *options) error {
		return hostopt.SetChecked(&o.release, release, "WithRelease", modinfo.ValidateRelease)
	}
}

// WithFS reads /proc and /sys (to explain refusals) from fsys, a view of
// the root directory. Default: os.DirFS("/").
func WithFS(fsys fs.FS) Option {
	return func(o *options) error { return o.SetFS(fsys) }
}

// WithMaxSize caps a decompressed module at n bytes. Default:
// modinfo.DefaultMaxModuleSize (64 MiB).
func WithMaxSize(n int64) Option {
	return func(o *options) error { return o.SetMaxSize(n) }
}

func makeOptions(opts []Option) (*options, error) {
	return hostopt.Apply(&options{sys: sysSyscalls{}, RootFS: hostopt.RootFS{FS: os.DirFS("/")},
		SizeCap: hostopt.SizeCap{MaxSize: modinfo.DefaultMaxModuleSize}}, opts)
}

// Load loads the module in path with params (each name=value) through
// finit_module(2), never passing the MODULE_INIT_IGNORE_* flags. It reads the
// module's .modinfo first and refuses a module built for another kernel
// release or a parameter the module does not declare. A .ko.zst, .ko.xz or
// .ko.gz file is decompressed into a memfd first. It returns the module's
// .modinfo. Refusals are *Error values.
func Load(ctx context.Context, path string, params []string, opts ...Option) (*modinfo.Info, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	fail := func(kind error, errno syscall.Errno, cause error, format string, args ...any) error {
		return &Error{Op: "loading", Target: path, Release: o.release, Kind: kind, Errno: errno, Err: cause, Reason: fmt.Sprintf(format, args...)}
	}
	if err := ValidateParams(params); err != nil {
		return nil, fail(ErrBadParam, 0, err, "%v", strings.TrimPrefix(err.Error(), ErrBadParam.Error()+": "))
	}
	if o.release == "" {
		if o.release, err = RunningRelease(); err != nil {
			return nil, err
		}
	}
	release := o.release

	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fail(ErrNoFile, 0, err, "no such file")
		}
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	defer f.Close()
	c, err := modinfo.DetectFile(f)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	mod, size := f, int64(-1)
	if c == modinfo.None {
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", path, err)
		}
		size = st.Size()
	} else {
		m, _, err := decompressToMemfd(ctx, f, o.MaxSize)
		if err != nil {
			if errors.Is(err, modinfo.ErrTooLarge) {
				return nil, fail(ErrNotModule, 0, err, "%v; a dnsmon module is far smaller, so the file is not one", err)
			}
			return nil, fmt.Errorf("loading %s: %w", path, err)
		}
		defer m.f.Close()
		mod, size = m.f, m.size
	}

	info, err := modinfo.Read(mod)
	if err != nil {
		return nil, fail(ErrNotModule, 0, err, "not a kernel module: %v", err)
	}
	if err := modinfo.CheckRelease(info.Vermagic, release); err != nil {
		var me *modinfo.MismatchError
		if errors.As(err, &me) {
			return info, fail(ErrWrongKernel, 0, err,
				"built for another kernel: the module is for %s (vermagic %q) but this host runs %s",
				me.ModuleRelease, strings.TrimSpace(me.Vermagic), release)
		}
		return info, fail(ErrNotModule, 0, err, "not a loadable module: %v", err)
	}
	if err := checkDeclared(info, params); err != nil {
		return info, fail(ErrBadParam, 0, err, "%s", strings.TrimPrefix(err.Error(), ErrBadParam.Error()+": "))
	}
	signed, err := modinfo.Signed(mod, size)
	if err != nil {
		return info, fmt.Errorf("loading %s: %w", path, err)
	}
	if o.signCheck != nil {
		o.signCheck.run(o.FS, signed)
	}
	if err := ctx.Err(); err != nil {
		return info, fmt.Errorf("loading %s: %w", path, err)
	}

	// flags 0: never MODULE_INIT_IGNORE_MODVERSIONS or _VERMAGIC.
	err = o.sys.FinitModule(int(mod.Fd()), strings.Join(params, " "), 0)
	if err == nil {
		return info, nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return info, fmt.Errorf("loading %s: finit_module: %w", path, err)
	}
	sys := system{o.FS}
	name := info.Name
	switch errno {
	case unix.EEXIST:
		return info, fail(ErrAlreadyLoaded, errno, nil,
			"already loaded: module %s is in the kernel (/sys/module/%s)", name, name)
	case unix.ENOEXEC:
		return info, fail(ErrWrongKernel, errno, nil,
			"built for another kernel: the kernel refused the module's format (vermagic %q, or its symbol versions or ELF layout); dmesg says which (\"version magic ... should be ...\" or \"disagrees about version of symbol\")",
			strings.TrimSpace(info.Vermagic))
	case unix.EKEYREJECTED, unix.EBADMSG, unix.ENOKEY, unix.ENOPKG, unix.ELIBBAD, unix.EMSGSIZE:
		return info, fail(ErrNeedsSignature, errno, nil, "%s", signatureReason(sys, errno, signed))
	case unix.EPERM:
		return info, permission(sys, errno, "loading", signed, fail)
	case unix.EBUSY:
		return info, fail(ErrBusy, errno, nil,
			"a module named %s is being loaded or unloaded right now", name)
	case unix.ENOENT:
		return info, fail(ErrUnknownSymbol, errno, nil,
			"unknown symbol: the module needs a kernel symbol that this kernel does not export (dmesg: \"Unknown symbol\"); it was built against other headers")
	case unix.EINVAL:
		if len(params) == 0 {
			return info, fail(ErrNotModule, errno, nil,
				"invalid argument with no parameters passed: the file is damaged or not a module for this architecture; see dmesg")
		}
		return info, fail(ErrBadParam, errno, nil,
			"bad parameter: the kernel rejected the parameters %s (dmesg names the bad one); %s takes %s",
			strings.Join(params, " "), name, describeParams(info))
	case unix.ETXTBSY:
		return info, fail(ErrFileBusy, errno, nil,
			"the module file is open for writing by another process (a download still running?)")
	case unix.ENOSYS:
		return info, fail(ErrUnsupported, errno, nil,
			"this kernel has no finit_module(2) (it is older than 3.8) or a seccomp filter blocks it")
	case unix.EFAULT, unix.ENOMEM, unix.EFBIG, unix.ENOSPC:
		return info, fail(ErrFailed, errno, nil, "finit_module: %v; see dmesg", errno)
	}
	return info, fail(ErrFailed, errno, nil, "finit_module: %v; see dmesg for the kernel's reason", errno)
}

// signatureReason explains a signature refusal, with the MOK path.
func signatureReason(sys system, errno syscall.Errno, signed bool) string {
	var what string
	switch {
	case errno == unix.EKEYREJECTED && !signed:
		what = "the kernel rejected this unsigned module (Key was rejected by service)"
	case errno == unix.EKEYREJECTED || errno == unix.ENOKEY:
		what = "the module is signed, but not by a key this kernel trusts (Key was rejected by service)"
	default:
		what = fmt.Sprintf("the module's signature is malformed or uses unsupported crypto (%v)", errno)
	}
	var why []string
	if sys.secureBoot() {
		why = append(why, "Secure Boot is on")
	}
	if mode := sys.lockdown(); mode != "" {
		why = append(why, "lockdown="+mode)
	}
	if sys.signing().SigEnforce == hoststate.Yes {
		why = append(why, "module.sig_enforce=1")
	}
	state := "Secure Boot, lockdown or module.sig_enforce=1 is on"
	if len(why) > 0 {
		state = strings.Join(why, ", ")
	}
	return fmt.Sprintf("needs a signed module; Secure Boot or lockdown is on (%s): %s; %s", state, what, mokHint)
}

// permission explains EPERM: not root, kernel.modules_disabled=1, lockdown
// refusing an unsigned module, or something else (an LSM, a blacklist).
func permission(sys system, errno syscall.Errno, op string, signed bool, fail func(error, syscall.Errno, error, string, ...any) error) error {
	if capable, known := sys.canLoad(); known && !capable {
		return fail(ErrNotRoot, errno, nil,
			"not permitted: %s kernel modules needs root (CAP_SYS_MODULE)", op)
	}
	if sys.modulesDisabled() {
		return fail(ErrModulesDisabled, errno, nil,
			"module loading is disabled on this host (kernel.modules_disabled=1 in /proc/sys/kernel/modules_disabled), and it stays disabled until reboot: remove the setting (grep -r modules_disabled /etc/sysctl.conf /etc/sysctl.d) and reboot, or load dnsmon at boot before it is set")
	}
	if op == "loading" {
		if mode := sys.lockdown(); mode != "" && !signed {
			return fail(ErrNeedsSignature, errno, nil,
				"needs a signed module; Secure Boot or lockdown is on (lockdown=%s refuses unsigned modules; dmesg: \"Lockdown: ... unsigned module loading is restricted\"); %s", mode, mokHint)
		}
		if sys.secureBoot() && !signed {
			return fail(ErrNeedsSignature, errno, nil,
				"needs a signed module; Secure Boot or lockdown is on (Secure Boot is on and this module is unsigned); %s", mokHint)
		}
	}
	return fail(ErrPermission, errno, nil,
		"operation not permitted although running as root: a security module (SELinux, AppArmor, LoadPin, lockdown) or a module blacklist refused it; see dmesg and the audit log")
}

// Unload removes the module called name with delete_module(2), without
// waiting (O_NONBLOCK): a module in use is refused, not waited for.
func Unload(ctx context.Context, name string, opts ...Option) error {
	o, err := makeOptions(opts)
	if err != nil {
		return err
	}
	if name == "" || strings.ContainsAny(name, "/ \t\n") {
		return fmt.Errorf("unloading: invalid module name %q", name)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("unloading %s: %w", name, err)
	}
	err = o.sys.DeleteModule(name, unix.O_NONBLOCK)
	if err == nil {
		return nil
	}
	fail := func(kind error, errno syscall.Errno, cause error, format string, args ...any) error {
		return &Error{Op: "unloading", Target: name, Kind: kind, Errno: errno, Err: cause, Reason: fmt.Sprintf(format, args...)}
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("unloading %s: delete_module: %w", name, err)
	}
	sys := system{o.FS}
	switch errno {
	case unix.ENOENT:
		return fail(ErrNotLoaded, errno, nil, "not loaded: there is no module %s in the kernel, so there is nothing to unload", name)
	case unix.EBUSY, unix.EWOULDBLOCK:
		users := ""
		n := sys.refcnt(name)
		if n > 0 {
			users = fmt.Sprintf(" (%d users)", n)
		}
		return &Error{Op: "unloading", Target: name, Kind: ErrInUse, Errno: errno, Users: max(n, 0),
			Reason: fmt.Sprintf("in use%s: programs hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them)", users)}
	case unix.EPERM:
		return permission(sys, errno, "unloading", true, fail)
	}
	return fail(ErrFailed, errno, nil, "delete_module: %v; see dmesg", errno)
}
