package install_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/fetcher/install/installtest"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/klauspost/compress/zstd"
)

const (
	krel  = "6.1.0-50-amd64"
	krel2 = "5.10.0-32-amd64"
)

// fakeCmds records depmod runs; missing makes LookPath fail.
type fakeCmds struct {
	missing bool
	fail    bool
	runs    []string
}

func (f *fakeCmds) LookPath(name string) (string, error) {
	if f.missing {
		return "", exec.ErrNotFound
	}
	return "/sbin/" + name, nil
}

func (f *fakeCmds) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.runs = append(f.runs, name+" "+strings.Join(args, " "))
	if f.fail {
		return []byte("depmod: ERROR: boom"), errors.New("exit status 1")
	}
	return nil, nil
}

// failFS fails writes (and removals) under the in-root prefix bad, like a
// read-only mount there.
type failFS struct {
	install.FS
	bad string
}

func (f failFS) hit(name string) error {
	if strings.HasPrefix(name, f.bad) {
		return &fs.PathError{Op: "write", Path: name, Err: syscall.EROFS}
	}
	return nil
}

func (f failFS) Mkdir(name string, perm fs.FileMode) error {
	if err := f.hit(name); err != nil {
		return err
	}
	return f.FS.Mkdir(name, perm)
}

func (f failFS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	if err := f.hit(name); err != nil {
		return err
	}
	return f.FS.WriteFile(name, data, perm)
}

func (f failFS) Symlink(target, name string) error {
	if err := f.hit(name); err != nil {
		return err
	}
	return f.FS.Symlink(target, name)
}

func (f failFS) Remove(name string) error {
	if err := f.hit(name); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

// realFS is the package's filesystem, reached through an Option-free
// install: tests wrap it by embedding the interface of a real one.
type osFS struct{}

func (osFS) ReadFile(n string) ([]byte, error)                 { return os.ReadFile(n) }
func (osFS) Lstat(n string) (fs.FileInfo, error)               { return os.Lstat(n) }
func (osFS) Readlink(n string) (string, error)                 { return os.Readlink(n) }
func (osFS) Mkdir(n string, p fs.FileMode) error               { return os.Mkdir(n, p) }
func (osFS) WriteFile(n string, d []byte, p fs.FileMode) error { return os.WriteFile(n, d, p) }
func (osFS) Symlink(t, n string) error                         { os.Remove(n); return os.Symlink(t, n) }
func (osFS) Remove(n string) error                             { return os.Remove(n) }

// host is a fake root: /lib/modules/KREL for each kernel, a module file
// and a dnsmon-load binary outside the root.
type host struct {
	root, ko, loader, fetch string
	cmds                    *fakeCmds
}

func newHost(t *testing.T, kernels ...string) *host {
	t.Helper()
	dir := t.TempDir()
	h := &host{root: filepath.Join(dir, "root"), cmds: &fakeCmds{}}
	for _, k := range kernels {
		mkdir(t, filepath.Join(h.root, "lib/modules", k, "kernel"))
	}
	mkdir(t, filepath.Join(h.root, "etc"))
	h.ko = writeFile(t, filepath.Join(dir, "dnsmon.ko"), module(krel), 0o644)
	h.loader = writeFile(t, filepath.Join(dir, "bin/dnsmon-load"), []byte("#!loader\n"), 0o755)
	h.fetch = writeFile(t, filepath.Join(dir, "bin/dnsmon-fetch"), []byte("#!fetch\n"), 0o755)
	return h
}

func module(release string) []byte {
	return kmodtest.KO(kmodtest.Module{Release: release, Padding: 512})
}

func (h *host) opts(extra ...install.Option) []install.Option {
	return append([]install.Option{install.WithRoot(h.root), install.WithCommands(h.cmds),
		install.WithLoaderBinary(h.loader), install.WithFetchBinary(h.fetch)}, extra...)
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p string, data []byte, perm fs.FileMode) string {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, data, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

// tree lists every path under root with its type, mode and content digest.
func tree(t *testing.T, root string) []string {
	t.Helper()
	out, err := installtest.Snapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t *testing.T, h *host, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.root, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInstallWritesEveryFile(t *testing.T) {
	h := newHost(t, krel)
	params := []string{"ports=53,5353", "ring_size=128"}
	res, err := install.ModuleAndBoot(t.Context(), h.ko, params, h.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Kernels; len(got) != 1 || got[0] != krel {
		t.Errorf("kernels %v", got)
	}
	if got := read(t, h, install.ModulePath(krel)); got != string(module(krel)) {
		t.Error("module content differs")
	}
	checks := []struct {
		path string
		perm fs.FileMode
		want []string
	}{
		{install.ModulesLoadPath, 0o644, []string{"\ndnsmon\n"}},
		{install.ModprobePath, 0o644, []string{"\noptions dnsmon ports=53,5353 ring_size=128\n"}},
		{install.UnitPath, 0o644, []string{
			"DefaultDependencies=no\n", "Before=sysinit.target network-pre.target\n",
			"ConditionPathExists=!/sys/module/dnsmon\n", "Type=oneshot\n",
			"ExecStart=/usr/local/sbin/dnsmon-load /lib/modules/%v/updates/dnsmon.ko ports=53,5353 ring_size=128\n",
			"WantedBy=sysinit.target\n"}},
		{install.HookPath, 0o755, []string{"#!/bin/sh\n", "FETCH=/usr/local/sbin/dnsmon-fetch\n",
			`"$FETCH" --kernel "$KREL" --install`, "WARNING: dnsmon will NOT be loaded after booting $KREL", "exit 0\n"}},
		{install.LoaderPath, 0o755, []string{"#!loader\n"}},
		{install.FetchPath, 0o755, []string{"#!fetch\n"}},
		{install.ManifestPath, 0o644, []string{`"kind": "module"`, `"kernel": "` + krel + `"`, `"ring_size=128"`}},
	}
	for _, c := range checks {
		got := read(t, h, c.path)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", c.path, w, got)
			}
		}
		fi, err := os.Stat(filepath.Join(h.root, c.path))
		if err != nil || fi.Mode().Perm() != c.perm {
			t.Errorf("%s mode %v (%v), want %v", c.path, fi.Mode(), err, c.perm)
		}
	}
	if target, err := os.Readlink(filepath.Join(h.root, install.UnitWantsPath)); err != nil || target != install.UnitPath {
		t.Errorf("enablement link -> %q, %v", target, err)
	}
	if want := "/sbin/depmod -b " + h.root + " -a " + krel; len(h.cmds.runs) != 1 || h.cmds.runs[0] != want {
		t.Errorf("depmod runs %q, want %q", h.cmds.runs, want)
	}
	m, err := install.ReadManifest(install.WithRoot(h.root))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range m.Files {
		listed = append(listed, e.Path)
	}
	want := []string{install.ModulePath(krel), install.LoaderPath, install.FetchPath, install.ModprobePath,
		install.UnitPath, install.UnitWantsPath, install.HookPath, install.ModulesLoadPath}
	if strings.Join(listed, " ") != strings.Join(want, " ") {
		t.Errorf("manifest files (in write order)\n got %q\nwant %q", listed, want)
	}
	// Every temporary file was renamed away.
	for _, l := range tree(t, h.root) {
		if strings.Contains(l, ".tmp-") {
			t.Errorf("temporary file left: %s", l)
		}
	}
}

func TestInstallIsIdempotent(t *testing.T) {
	h := newHost(t, krel)
	params := []string{"ring_size=128"}
	if _, err := install.ModuleAndBoot(t.Context(), h.ko, params, h.opts()...); err != nil {
		t.Fatal(err)
	}
	before := tree(t, h.root)
	res, err := install.ModuleAndBoot(t.Context(), h.ko, params, h.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() {
		t.Errorf("second install changed %+v", res.Changes)
	}
	if len(h.cmds.runs) != 1 {
		t.Errorf("depmod ran again: %q", h.cmds.runs)
	}
	if after := tree(t, h.root); strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Error("second install changed the tree")
	}
	// New parameters rewrite only the files that hold them.
	res, err = install.ModuleAndBoot(t.Context(), h.ko, []string{"ring_size=256"}, h.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	var wrote []string
	for _, c := range res.Changes {
		if c.Action == "wrote" {
			wrote = append(wrote, c.Path)
		}
	}
	if want := []string{install.ManifestPath, install.ModprobePath, install.UnitPath}; strings.Join(wrote, " ") != strings.Join(want, " ") {
		t.Errorf("new params wrote %q, want %q", wrote, want)
	}
}

func TestUninstallRestoresTheTree(t *testing.T) {
	h := newHost(t, krel, krel2)
	writeFile(t, filepath.Join(h.root, "etc/modprobe.d/other.conf"), []byte("options other x=1\n"), 0o644)
	before := tree(t, h.root)
	if _, err := install.ModuleAndBoot(t.Context(), h.ko, []string{"ports=53"}, h.opts()...); err != nil {
		t.Fatal(err)
	}
	ko2 := writeFile(t, filepath.Join(t.TempDir(), "dnsmon.ko"), module(krel2), 0o644)
	if _, err := install.Module(t.Context(), ko2, install.WithRoot(h.root), install.WithCommands(h.cmds)); err != nil {
		t.Fatal(err)
	}
	h.cmds.runs = nil
	res, err := install.Uninstall(t.Context(), install.WithRoot(h.root), install.WithCommands(h.cmds))
	if err != nil {
		t.Fatal(err)
	}
	if after := tree(t, h.root); strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("uninstall left a different tree:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	if len(res.Kernels) != 2 || len(h.cmds.runs) != 2 {
		t.Errorf("uninstall kernels %v, depmod runs %q", res.Kernels, h.cmds.runs)
	}
	// The boot configuration goes first, modules-load.d before everything.
	if res.Changes[0].Path != install.ModulesLoadPath {
		t.Errorf("first removal %s, want %s", res.Changes[0].Path, install.ModulesLoadPath)
	}
	if _, err := install.Uninstall(t.Context(), install.WithRoot(h.root)); !errors.Is(err, install.ErrNotInstalled) {
		t.Errorf("second uninstall: %v, want ErrNotInstalled", err)
	}
}

func TestUninstallKeepsDirectoriesInUse(t *testing.T) {
	h := newHost(t, krel)
	if _, err := install.ModuleAndBoot(t.Context(), h.ko, nil, h.opts()...); err != nil {
		t.Fatal(err)
	}
	other := writeFile(t, filepath.Join(h.root, "etc/modules-load.d/other.conf"), []byte("other\n"), 0o644)
	res, err := install.Uninstall(t.Context(), install.WithRoot(h.root), install.WithCommands(h.cmds))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("uninstall removed a file it did not write: %v", err)
	}
	kept := false
	for _, c := range res.Changes {
		kept = kept || c.Path == "/etc/modules-load.d" && c.Action == "kept"
	}
	if !kept {
		t.Errorf("/etc/modules-load.d not reported kept: %+v", res.Changes)
	}
}

func TestCrashHalfwayThenUninstall(t *testing.T) {
	h := newHost(t, krel)
	before := tree(t, h.root)
	fsys := failFS{FS: osFS{}, bad: filepath.Join(h.root, "etc/systemd")}
	_, err := install.ModuleAndBoot(t.Context(), h.ko, nil, h.opts(install.WithFS(fsys))...)
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("install with read-only /etc/systemd: %v", err)
	}
	// The module and its options are in place, nothing loads it yet.
	if _, err := os.Stat(filepath.Join(h.root, install.ModulePath(krel))); err != nil {
		t.Errorf("module not written before the unit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(h.root, install.ModulesLoadPath)); err == nil {
		t.Error("modules-load.d entry written although the install failed before it")
	}
	if _, err := install.Uninstall(t.Context(), install.WithRoot(h.root), install.WithCommands(h.cmds)); err != nil {
		t.Fatal(err)
	}
	if after := tree(t, h.root); strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("uninstall after a failed install left:\n%s", strings.Join(after, "\n"))
	}
}

func TestInstallFailures(t *testing.T) {
	cases := map[string]struct {
		setup  func(t *testing.T, h *host) []install.Option
		params []string
		want   error
		text   string
	}{
		"read-only /lib/modules": {
			setup: func(t *testing.T, h *host) []install.Option {
				return []install.Option{install.WithFS(failFS{FS: osFS{}, bad: filepath.Join(h.root, "lib/modules")})}
			},
			want: syscall.EROFS,
		},
		"file in place of the updates directory": {
			setup: func(t *testing.T, h *host) []install.Option {
				writeFile(t, filepath.Join(h.root, "lib/modules", krel, "updates"), []byte("x"), 0o644)
				return nil
			},
			want: syscall.ENOTDIR,
		},
		"module for a kernel not installed": {
			setup: func(t *testing.T, h *host) []install.Option {
				writeFile(t, h.ko, module("9.9.9-other"), 0o644)
				return nil
			},
			want: install.ErrKernelNotInstalled,
			text: "9.9.9-other",
		},
		"module for another kernel than asked": {
			setup: func(t *testing.T, h *host) []install.Option {
				return []install.Option{install.WithRelease(krel2)}
			},
			want: install.ErrWrongKernel,
		},
		"not a dnsmon module": {
			setup: func(t *testing.T, h *host) []install.Option {
				writeFile(t, h.ko, kmodtest.KO(kmodtest.Module{Name: "other", Release: krel}), 0o644)
				return nil
			},
			text: `not "dnsmon"`,
		},
		"not a module at all": {
			setup: func(t *testing.T, h *host) []install.Option {
				writeFile(t, h.ko, []byte("hello"), 0o644)
				return nil
			},
			text: "not",
		},
		"missing module file": {
			setup: func(t *testing.T, h *host) []install.Option {
				os.Remove(h.ko)
				return nil
			},
			want: fs.ErrNotExist,
		},
		"bad parameter": {
			setup:  func(t *testing.T, h *host) []install.Option { return nil },
			params: []string{"ring_size=1 2"},
			text:   "ring_size",
		},
		"depmod fails": {
			setup: func(t *testing.T, h *host) []install.Option {
				h.cmds.fail = true
				return nil
			},
			text: "depmod: ERROR: boom",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHost(t, krel, krel2)
			opts := c.setup(t, h)
			_, err := install.ModuleAndBoot(t.Context(), h.ko, c.params, h.opts(opts...)...)
			if err == nil {
				t.Fatal("install succeeded")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if c.text != "" && !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q lacks %q", err, c.text)
			}
			// No boot configuration without the module in place.
			if _, err := os.Stat(filepath.Join(h.root, install.ModulesLoadPath)); err == nil {
				t.Error("modules-load.d entry written by a failed install")
			}
		})
	}
}

func TestMissingDepmod(t *testing.T) {
	h := newHost(t, krel)
	h.cmds.missing = true
	res, err := install.ModuleAndBoot(t.Context(), h.ko, nil, h.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Notes, func(n install.Note) bool { return n.Kind == install.NoDepmod && n.Kernel == krel }) {
		t.Errorf("notes %v do not say depmod is missing", res.Notes)
	}
	if _, err := os.Stat(filepath.Join(h.root, install.UnitPath)); err != nil {
		t.Errorf("unit not written without depmod: %v", err)
	}
}

func TestCompressedModuleIsStoredDecompressed(t *testing.T) {
	h := newHost(t, krel)
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	zw.Write(module(krel))
	zw.Close()
	zst := writeFile(t, filepath.Join(t.TempDir(), "dnsmon.ko.zst"), buf.Bytes(), 0o644)
	if _, err := install.Module(t.Context(), zst, install.WithRoot(h.root), install.WithCommands(h.cmds)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, h, install.ModulePath(krel)); got != string(module(krel)) {
		t.Error("installed module is not the decompressed .ko")
	}
}

func TestLoaderAlreadyInPlaceIsNotRecorded(t *testing.T) {
	h := newHost(t, krel)
	inPlace := writeFile(t, filepath.Join(h.root, install.LoaderPath), []byte("#!loader\n"), 0o755)
	res, err := install.ModuleAndBoot(t.Context(), h.ko, nil, install.WithRoot(h.root), install.WithCommands(h.cmds), install.WithLoaderBinary(inPlace))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Notes, func(n install.Note) bool { return n.Kind == install.NoFetchBinary }) {
		t.Errorf("no note that the hook's dnsmon-fetch is not installed: %v", res.Notes)
	}
	if hook := read(t, h, install.HookPath); !strings.Contains(hook, "FETCH="+install.FetchPath+"\n") || strings.Contains(hook, "command -v") {
		t.Errorf("the hook must run %s alone, never one from $PATH:\n%s", install.FetchPath, hook)
	}
	if _, err := install.Uninstall(t.Context(), install.WithRoot(h.root), install.WithCommands(h.cmds)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inPlace); err != nil {
		t.Errorf("uninstall removed the dnsmon-load it did not copy: %v", err)
	}
}

func TestDamagedManifest(t *testing.T) {
	h := newHost(t, krel)
	writeFile(t, filepath.Join(h.root, install.ManifestPath), []byte(`{"files":[{"path":"/../../etc/passwd","kind":"config"}]}`), 0o644)
	if _, err := install.Uninstall(t.Context(), install.WithRoot(h.root)); err == nil || !strings.Contains(err.Error(), "bad path") {
		t.Errorf("uninstall with an escaping path: %v", err)
	}
}

func TestOptions(t *testing.T) {
	for name, opt := range map[string]install.Option{
		"empty root": install.WithRoot(""), "nil fs": install.WithFS(nil), "nil commands": install.WithCommands(nil),
		"empty loader": install.WithLoaderBinary(""), "empty fetch": install.WithFetchBinary(""),
		"bad kernel": install.WithRelease("../x"), "slash kernel": install.WithRelease("6.1/x"), "bad size": install.WithMaxSize(0),
	} {
		if _, err := install.Uninstall(context.Background(), opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := install.ModuleAndBoot(context.Background(), "x", nil, install.WithRoot(t.TempDir())); err == nil {
		t.Error("Install without a loader binary succeeded")
	}
}

// TestHook runs the post-install hook with sh against a fake dnsmon-fetch:
// it passes the release, stays quiet on success, and on failure warns on
// stderr but exits 0 so that the kernel package still installs. It runs
// the installed dnsmon-fetch by its absolute path alone: one in $PATH is
// never run.
func TestHook(t *testing.T) {
	h := newHost(t, krel)
	if _, err := install.ModuleAndBoot(t.Context(), h.ko, nil, install.WithRoot(h.root), install.WithCommands(h.cmds), install.WithLoaderBinary(h.loader)); err != nil {
		t.Fatal(err)
	}
	// The hook names install.FetchPath of the host it runs on; point it
	// at this test's copy instead, the one change made to it.
	fetchDir := t.TempDir()
	text := read(t, h, install.HookPath)
	if strings.Count(text, install.FetchPath) != 1 {
		t.Fatalf("the hook names %s %d times, want once:\n%s", install.FetchPath, strings.Count(text, install.FetchPath), text)
	}
	hook := writeFile(t, filepath.Join(t.TempDir(), "hook"), []byte(strings.Replace(text, install.FetchPath, filepath.Join(fetchDir, "dnsmon-fetch"), 1)), 0o755)
	for name, c := range map[string]struct {
		fetch   string
		inPath  bool // put the fake dnsmon-fetch in $PATH instead
		arg     string
		wantErr []string
	}{
		"module found": {fetch: "#!/bin/sh\necho \"$@\" > \"$LOG\"\n", arg: "7.0.0-1-amd64"},
		"no module": {fetch: "#!/bin/sh\necho \"$@\" > \"$LOG\"\necho 'no dnsmon 0.1.0 module for kernel 7.0.0-1-amd64' >&2\nexit 1\n", arg: "7.0.0-1-amd64",
			wantErr: []string{"no dnsmon 0.1.0 module", "WARNING: dnsmon: NO dnsmon module installed for kernel 7.0.0-1-amd64", "dnsmon-fetch --kernel 7.0.0-1-amd64 --install"}},
		"no dnsmon-fetch": {arg: "7.0.0-1-amd64", wantErr: []string{"dnsmon-fetch not found", "will NOT be loaded after booting 7.0.0-1-amd64"}},
		"only one in $PATH": {inPath: true, fetch: "#!/bin/sh\necho \"$@\" > \"$LOG\"\n", arg: "7.0.0-1-amd64",
			wantErr: []string{"dnsmon-fetch not found", "will NOT be loaded after booting 7.0.0-1-amd64"}},
		"no release": {arg: ""},
	} {
		t.Run(name, func(t *testing.T) {
			bin := t.TempDir()
			log := filepath.Join(t.TempDir(), "args")
			os.Remove(filepath.Join(fetchDir, "dnsmon-fetch"))
			switch {
			case c.fetch != "" && c.inPath:
				writeFile(t, filepath.Join(bin, "dnsmon-fetch"), []byte(c.fetch), 0o755)
			case c.fetch != "":
				writeFile(t, filepath.Join(fetchDir, "dnsmon-fetch"), []byte(c.fetch), 0o755)
			}
			cmd := exec.Command("/bin/sh", hook, c.arg)
			cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "LOG=" + log}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("hook failed: %v\n%s", err, stderr.String())
			}
			for _, w := range c.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if len(c.wantErr) == 0 && stderr.Len() > 0 {
				t.Errorf("unexpected stderr:\n%s", stderr.String())
			}
			b, _ := os.ReadFile(log)
			switch {
			case c.inPath && len(b) > 0:
				t.Errorf("the hook ran the dnsmon-fetch in $PATH with %q", b)
			case c.fetch != "" && !c.inPath && c.arg != "" && string(b) != "--kernel "+c.arg+" --install\n":
				t.Errorf("dnsmon-fetch got %q", b)
			}
		})
	}
}
