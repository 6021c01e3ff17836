package loader_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/fetcher/loader/loadertest"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

const release = kmodtest.CompiledRelease

// fixtures compiles kmodtest's stand-in module and writes the variants the
// tests load: plain, signed, zst, xz, and a non-module object.
type fixtures struct {
	dir     string
	raw     []byte
	plain   string
	signed  string
	zst     string
	xz      string
	garbage string
}

func makeFixtures(t *testing.T) fixtures {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile(kmodtest.CompileModule(t))
	if err != nil {
		t.Fatal(err)
	}
	f := fixtures{dir: dir, raw: raw}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.plain = write("dnsmon.ko", raw)
	f.signed = write("signed.ko", append(append([]byte{}, raw...), modinfo.SignatureMagic...))
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.zst = write("dnsmon.ko.zst", enc.EncodeAll(raw, nil))
	var xb bytes.Buffer
	xw, err := xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 20}.NewWriter(&xb)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(raw)
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	f.xz = write("dnsmon.ko.xz", xb.Bytes())
	f.garbage = write("garbage.ko", []byte("this is not an ELF file"))
	return f
}

// host file systems for the EPERM and signature explanations.
func hostFS(root, disabled bool, lockdown string, secureBoot bool) fstest.MapFS {
	caps := "0000000000000000"
	if root {
		caps = "000001ffffffffff"
	}
	fsys := fstest.MapFS{
		"proc/self/status":                 {Data: []byte("Name:\tdnsmon-load\nCapInh:\t0000000000000000\nCapEff:\t" + caps + "\n")},
		"proc/sys/kernel/modules_disabled": {Data: []byte("0\n")},
		"sys/kernel/security/lockdown":     {Data: []byte("[none] integrity confidentiality\n")},
		"sys/module/dnsmon/refcnt":         {Data: []byte("2\n")},
	}
	if disabled {
		fsys["proc/sys/kernel/modules_disabled"] = &fstest.MapFile{Data: []byte("1\n")}
	}
	if lockdown != "" {
		fsys["sys/kernel/security/lockdown"] = &fstest.MapFile{Data: []byte(strings.Replace("none integrity confidentiality", lockdown, "["+lockdown+"]", 1) + "\n")}
	}
	if secureBoot {
		fsys[hoststate.SecureBootPath] = &fstest.MapFile{Data: []byte{6, 0, 0, 0, 1}}
	}
	return fsys
}

const mok = "sign dnsmon.ko with a key the kernel trusts: enroll your signing certificate as a Machine Owner Key (mokutil --import signing_key.der, reboot, confirm it in MokManager), sign the module with it (scripts/sign-file sha256 signing_key.priv signing_key.der dnsmon.ko), and load it again"

func TestLoad(t *testing.T) {
	fx := makeFixtures(t)
	rootFS := hostFS(true, false, "", false)
	tests := map[string]struct {
		file      string
		params    []string
		errno     syscall.Errno
		fsys      fstest.MapFS
		release   string
		maxSize   int64
		wantKind  error
		wantErrno syscall.Errno
		want      string // the Reason, exactly
		noCall    bool   // refused before finit_module
	}{
		"plain":  {file: fx.plain, params: []string{"ports=53,5353", "ring_size=8192"}},
		"zst":    {file: fx.zst},
		"xz":     {file: fx.xz, params: []string{"log=0"}},
		"signed": {file: fx.signed},
		"already loaded": {file: fx.plain, errno: unix.EEXIST, wantKind: loader.ErrAlreadyLoaded,
			want: "already loaded: module dnsmon is in the kernel (/sys/module/dnsmon)"},
		"wrong kernel (vermagic)": {file: fx.plain, release: "6.1.0-57-amd64", wantKind: loader.ErrWrongKernel, noCall: true,
			want: `built for another kernel: the module is for 6.1.0-56-amd64 (vermagic "6.1.0-56-amd64 SMP preempt mod_unload modversions") but this host runs 6.1.0-57-amd64`},
		"wrong kernel (ENOEXEC)": {file: fx.plain, errno: unix.ENOEXEC, wantKind: loader.ErrWrongKernel,
			want: `built for another kernel: the kernel refused the module's format (vermagic "6.1.0-56-amd64 SMP preempt mod_unload modversions", or its symbol versions or ELF layout); dmesg says which ("version magic ... should be ..." or "disagrees about version of symbol")`},
		"key rejected unsigned": {file: fx.plain, errno: unix.EKEYREJECTED, fsys: hostFS(true, false, "", true), wantKind: loader.ErrNeedsSignature,
			want: "needs a signed module; Secure Boot or lockdown is on (Secure Boot is on): the kernel rejected this unsigned module (Key was rejected by service); " + mok},
		"key rejected signed": {file: fx.signed, errno: unix.EKEYREJECTED, wantKind: loader.ErrNeedsSignature,
			want: "needs a signed module; Secure Boot or lockdown is on (Secure Boot, lockdown or module.sig_enforce=1 is on): the module is signed, but not by a key this kernel trusts (Key was rejected by service); " + mok},
		"bad signature": {file: fx.signed, errno: unix.EBADMSG, fsys: hostFS(true, false, "integrity", true), wantKind: loader.ErrNeedsSignature,
			want: "needs a signed module; Secure Boot or lockdown is on (Secure Boot is on, lockdown=integrity): the module's signature is malformed or uses unsupported crypto (bad message); " + mok},
		"lockdown": {file: fx.plain, errno: unix.EPERM, fsys: hostFS(true, false, "integrity", false), wantKind: loader.ErrNeedsSignature,
			want: `needs a signed module; Secure Boot or lockdown is on (lockdown=integrity refuses unsigned modules; dmesg: "Lockdown: ... unsigned module loading is restricted"); ` + mok},
		"secure boot EPERM": {file: fx.zst, errno: unix.EPERM, fsys: hostFS(true, false, "", true), wantKind: loader.ErrNeedsSignature,
			want: "needs a signed module; Secure Boot or lockdown is on (Secure Boot is on and this module is unsigned); " + mok},
		"modules disabled": {file: fx.plain, errno: unix.EPERM, fsys: hostFS(true, true, "integrity", false), wantKind: loader.ErrModulesDisabled,
			want: "module loading is disabled on this host (kernel.modules_disabled=1 in /proc/sys/kernel/modules_disabled), and it stays disabled until reboot: remove the setting (grep -r modules_disabled /etc/sysctl.conf /etc/sysctl.d) and reboot, or load dnsmon at boot before it is set"},
		"not root": {file: fx.plain, errno: unix.EPERM, fsys: hostFS(false, true, "", false), wantKind: loader.ErrNotRoot,
			want: "not permitted: loading kernel modules needs root (CAP_SYS_MODULE)"},
		"other EPERM": {file: fx.signed, errno: unix.EPERM, fsys: hostFS(true, false, "integrity", false), wantKind: loader.ErrPermission,
			want: "operation not permitted although running as root: a security module (SELinux, AppArmor, LoadPin, lockdown) or a module blacklist refused it; see dmesg and the audit log"},
		"being loaded": {file: fx.plain, errno: unix.EBUSY, wantKind: loader.ErrBusy,
			want: "a module named dnsmon is being loaded or unloaded right now"},
		"unknown symbol": {file: fx.plain, errno: unix.ENOENT, wantKind: loader.ErrUnknownSymbol,
			want: `unknown symbol: the module needs a kernel symbol that this kernel does not export (dmesg: "Unknown symbol"); it was built against other headers`},
		"bad parameter value": {file: fx.plain, params: []string{"ports=53,99999", "ring_size=10"}, errno: unix.EINVAL, wantKind: loader.ErrBadParam,
			want: "bad parameter: the kernel rejected the parameters ports=53,99999 ring_size=10 (dmesg names the bad one); dnsmon takes "},
		"EINVAL without parameters": {file: fx.plain, errno: unix.EINVAL, wantKind: loader.ErrNotModule,
			want: "invalid argument with no parameters passed: the file is damaged or not a module for this architecture; see dmesg"},
		"file busy": {file: fx.plain, errno: unix.ETXTBSY, wantKind: loader.ErrFileBusy,
			want: "the module file is open for writing by another process (a download still running?)"},
		"no finit_module": {file: fx.plain, errno: unix.ENOSYS, wantKind: loader.ErrUnsupported,
			want: "this kernel has no finit_module(2) (it is older than 3.8) or a seccomp filter blocks it"},
		"out of memory": {file: fx.plain, errno: unix.ENOMEM, wantKind: loader.ErrFailed, want: "finit_module: cannot allocate memory; see dmesg"},
		"other errno": {file: fx.plain, errno: unix.EIO, wantKind: loader.ErrFailed,
			want: "finit_module: input/output error; see dmesg for the kernel's reason"},
		"unknown parameter": {file: fx.plain, params: []string{"port=53"}, wantKind: loader.ErrBadParam, noCall: true,
			want: `module dnsmon has no parameter "port"; it takes `},
		"parameter syntax": {file: fx.plain, params: []string{"ring_size"}, wantKind: loader.ErrBadParam, noCall: true,
			want: `"ring_size" is not name=value (e.g. ring_size=8192)`},
		"missing file": {file: filepath.Join(fx.dir, "absent.ko"), wantKind: loader.ErrNoFile, noCall: true,
			want: "no such file"},
		"not a module": {file: fx.garbage, wantKind: loader.ErrNotModule, noCall: true,
			want: "not a kernel module: not an ELF file: "},
		"too large": {file: fx.xz, maxSize: 100, wantKind: loader.ErrNotModule, noCall: true,
			want: "xz-decompressed module is larger than the 100-byte cap; a dnsmon module is far smaller, so the file is not one"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k := &loadertest.Syscalls{FinitErr: tc.errno}
			fsys := tc.fsys
			if fsys == nil {
				fsys = rootFS
			}
			rel := release
			if tc.release != "" {
				rel = tc.release
			}
			opts := []loader.Option{loader.WithSyscalls(k), loader.WithRelease(rel), loader.WithFS(fsys)}
			if tc.maxSize > 0 {
				opts = append(opts, loader.WithMaxSize(tc.maxSize))
			}
			info, err := loader.Load(t.Context(), tc.file, tc.params, opts...)
			calls := k.Calls()
			if tc.noCall {
				if len(calls) != 0 {
					t.Errorf("finit_module called %d times, want none", len(calls))
				}
			} else {
				if len(calls) != 1 || calls[0].Op != "finit_module" {
					t.Fatalf("calls = %+v, want one finit_module", calls)
				}
				c := calls[0]
				if c.Flags != 0 {
					t.Errorf("finit_module flags = %#x, want 0 (never MODULE_INIT_IGNORE_*)", c.Flags)
				}
				if c.Params != strings.Join(tc.params, " ") {
					t.Errorf("params = %q", c.Params)
				}
				want := fx.raw
				if tc.file == fx.signed {
					want = append(append([]byte{}, fx.raw...), modinfo.SignatureMagic...)
				}
				if !bytes.Equal(c.Module, want) {
					t.Errorf("finit_module got %d bytes, want the %d-byte module", len(c.Module), len(want))
				}
			}
			if tc.wantKind == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if info.Name != "dnsmon" {
					t.Errorf("info.Name = %q", info.Name)
				}
				return
			}
			var le *loader.Error
			if !errors.As(err, &le) {
				t.Fatalf("Load: err = %v, want *loader.Error", err)
			}
			if !errors.Is(err, tc.wantKind) {
				t.Errorf("Load: kind = %v, want %v", le.Kind, tc.wantKind)
			}
			if tc.errno != 0 && !tc.noCall && !errors.Is(err, tc.errno) {
				t.Errorf("Load: errno = %v, want %v", le.Errno, tc.errno)
			}
			if le.Op != "loading" || le.Target != tc.file || le.Release != rel {
				t.Errorf("Load: op %q target %q release %q, want release %q", le.Op, le.Target, le.Release, rel)
			}
			if strings.HasSuffix(tc.want, " ") {
				if !strings.HasPrefix(le.Reason, tc.want) {
					t.Errorf("Reason:\n got %s\nwant %s...", le.Reason, tc.want)
				}
			} else if le.Reason != tc.want {
				t.Errorf("Reason:\n got %s\nwant %s", le.Reason, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "loading "+tc.file+": ") {
				t.Errorf("Error() = %s", err)
			}
		})
	}
}

func TestLoadParamsListed(t *testing.T) {
	fx := makeFixtures(t)
	k := &loadertest.Syscalls{FinitErr: unix.EINVAL}
	_, err := loader.Load(t.Context(), fx.plain, []string{"ring_size=10"},
		loader.WithSyscalls(k), loader.WithRelease(release), loader.WithFS(hostFS(true, false, "", false)))
	for _, want := range []string{"ports (array of ushort): UDP/TCP destination ports to watch (default 53)", "ring_size (uint): ring capacity in records (64..65536)", "log (bool)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not list %q", err, want)
		}
	}
}

func TestLoadCanceled(t *testing.T) {
	fx := makeFixtures(t)
	k := &loadertest.Syscalls{}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := loader.Load(ctx, fx.plain, nil, loader.WithSyscalls(k), loader.WithRelease(release))
	if !errors.Is(err, context.Canceled) || len(k.Calls()) != 0 {
		t.Errorf("Load(canceled) = %v after %d calls", err, len(k.Calls()))
	}
}

func TestUnload(t *testing.T) {
	tests := map[string]struct {
		errno     syscall.Errno
		fsys      fstest.MapFS
		wantKind  error
		want      string
		wantUsers int
	}{
		"ok": {},
		"not loaded": {errno: unix.ENOENT, wantKind: loader.ErrNotLoaded,
			want: "not loaded: there is no module dnsmon in the kernel, so there is nothing to unload"},
		"in use": {errno: unix.EWOULDBLOCK, wantKind: loader.ErrInUse, wantUsers: 2,
			want: "in use (2 users): programs hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them)"},
		"busy": {errno: unix.EBUSY, fsys: fstest.MapFS{}, wantKind: loader.ErrInUse,
			want: "in use: programs hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them)"},
		"not root": {errno: unix.EPERM, fsys: hostFS(false, false, "", false), wantKind: loader.ErrNotRoot,
			want: "not permitted: unloading kernel modules needs root (CAP_SYS_MODULE)"},
		"modules disabled": {errno: unix.EPERM, fsys: hostFS(true, true, "", false), wantKind: loader.ErrModulesDisabled,
			want: "module loading is disabled on this host (kernel.modules_disabled=1 in /proc/sys/kernel/modules_disabled), and it stays disabled until reboot: remove the setting (grep -r modules_disabled /etc/sysctl.conf /etc/sysctl.d) and reboot, or load dnsmon at boot before it is set"},
		"other": {errno: unix.EFAULT, wantKind: loader.ErrFailed, want: "delete_module: bad address; see dmesg"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k := &loadertest.Syscalls{DeleteErr: tc.errno}
			fsys := tc.fsys
			if fsys == nil {
				fsys = hostFS(true, false, "", false)
			}
			err := loader.Unload(t.Context(), "dnsmon", loader.WithSyscalls(k), loader.WithFS(fsys))
			calls := k.Calls()
			if len(calls) != 1 || calls[0].Op != "delete_module" || calls[0].Name != "dnsmon" || calls[0].Flags != unix.O_NONBLOCK {
				t.Fatalf("calls = %+v, want delete_module(dnsmon, O_NONBLOCK)", calls)
			}
			if tc.wantKind == nil {
				if err != nil {
					t.Fatalf("Unload: %v", err)
				}
				return
			}
			var le *loader.Error
			if !errors.As(err, &le) || !errors.Is(err, tc.wantKind) || !errors.Is(err, tc.errno) {
				t.Fatalf("Unload: err = %v, want kind %v errno %v", err, tc.wantKind, tc.errno)
			}
			if le.Reason != tc.want {
				t.Errorf("Reason:\n got %s\nwant %s", le.Reason, tc.want)
			}
			if le.Users != tc.wantUsers {
				t.Errorf("Users = %d, want %d", le.Users, tc.wantUsers)
			}
			if err.Error() != "unloading dnsmon: "+tc.want {
				t.Errorf("Error() = %s", err)
			}
		})
	}
	if err := loader.Unload(t.Context(), "../x", loader.WithSyscalls(&loadertest.Syscalls{})); err == nil {
		t.Error("Unload accepted a bad name")
	}
}

func TestValidateParams(t *testing.T) {
	tests := map[string]struct {
		params []string
		ok     bool
	}{
		"none":          {nil, true},
		"good":          {[]string{"ports=53,5353", "ring_size=8192", "log=0"}, true},
		"dash":          {[]string{"ring-size=64"}, true},
		"no equals":     {[]string{"log"}, false},
		"empty name":    {[]string{"=1"}, false},
		"empty value":   {[]string{"log="}, false},
		"space":         {[]string{"ports=53 54"}, false},
		"quote":         {[]string{`ports="53"`}, false},
		"bad name":      {[]string{"a.b=1"}, false},
		"twice":         {[]string{"log=1", "log=0"}, false},
		"twice by dash": {[]string{"ring_size=64", "ring-size=128"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := loader.ValidateParams(tc.params)
			if (err == nil) != tc.ok {
				t.Errorf("ValidateParams(%q) = %v, want ok=%v", tc.params, err, tc.ok)
			}
			if err != nil && !errors.Is(err, loader.ErrBadParam) {
				t.Errorf("error %v does not wrap ErrBadParam", err)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for name, opt := range map[string]loader.Option{
		"nil syscalls": loader.WithSyscalls(nil),
		"empty rel":    loader.WithRelease(""),
		"spaced rel":   loader.WithRelease("6.1 x"),
		"dot-dot rel":  loader.WithRelease(".."),
		"nil fs":       loader.WithFS(nil),
		"zero maxsize": loader.WithMaxSize(0),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loader.Load(t.Context(), "x.ko", nil, opt); err == nil {
				t.Error("Load accepted a bad option")
			}
		})
	}
}
