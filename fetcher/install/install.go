package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// ErrKernelNotInstalled means the module is for a kernel release that has
// no /lib/modules directory under the root.
var ErrKernelNotInstalled = errors.New("kernel not installed")

// ErrWrongKernel means the module is not for the release WithRelease named.
var ErrWrongKernel = errors.New("module built for another kernel")

// Change is what happened to one path.
type Change struct {
	// Path inside the root.
	Path string
	// Action: "wrote", "unchanged", "created", "removed", "absent" or
	// "kept" (a directory that is not empty).
	Action string
}

// Result is what ModuleAndBoot, Module or Uninstall did.
type Result struct {
	// Kernels are the releases whose module was installed or removed.
	Kernels []string
	// Changes lists every path touched or checked, in order.
	Changes []Change
	// Notes are things the operator should know (depmod missing, ...).
	Notes []Note
}

// Changed reports whether anything on disk changed.
func (r *Result) Changed() bool {
	return slices.ContainsFunc(r.Changes, func(c Change) bool {
		return c.Action != "unchanged" && c.Action != "absent" && c.Action != "kept"
	})
}

// write is one planned file or symlink.
type write struct {
	entry Entry
	data  []byte // file content; nil for a symlink
	perm  fs.FileMode
}

// ModuleAndBoot installs the module file (a .ko, or a .ko.zst/.xz/.gz,
// stored decompressed) for the kernel release its vermagic names, runs
// depmod, and arranges loading at boot with params (each name=value,
// checked like loader.Load does): modprobe.d options, the systemd unit and
// its enablement link, the kernel post-install hook, and the modules-load.d
// entry, last. Unlike Module, which adds one kernel's module file to a host
// set up this way, it configures the whole host. The module file must be
// on disk already; it fetches nothing (fetcher.FetchAndInstall does). A
// second ModuleAndBoot with the same inputs changes nothing.
func ModuleAndBoot(ctx context.Context, module string, params []string, opts ...Option) (*Result, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := loader.ValidateParams(params); err != nil {
		return nil, err
	}
	if o.loaderBin == "" {
		return nil, errors.New("installing: no dnsmon-load binary to run at boot (WithLoaderBinary)")
	}
	release, mod, err := o.moduleWrite(ctx, module)
	if err != nil {
		return nil, err
	}
	writes := []write{mod}
	loaderData, copyLoader, err := o.binary(o.loaderBin, LoaderPath)
	if err != nil {
		return nil, err
	}
	if copyLoader {
		writes = append(writes, write{entry: Entry{Path: LoaderPath, Kind: "binary"}, data: loaderData, perm: 0o755})
	}
	if o.fetchBin != "" {
		data, copyFetch, err := o.binary(o.fetchBin, FetchPath)
		if err != nil {
			return nil, err
		}
		if copyFetch {
			writes = append(writes, write{entry: Entry{Path: FetchPath, Kind: "binary"}, data: data, perm: 0o755})
		}
	}
	writes = append(writes,
		write{entry: Entry{Path: ModprobePath, Kind: "config"}, data: modprobeConf(params), perm: 0o644},
		write{entry: Entry{Path: UnitPath, Kind: "unit"}, data: unitFile(params), perm: 0o644},
		write{entry: Entry{Path: UnitWantsPath, Kind: "link", Target: UnitPath}},
		write{entry: Entry{Path: HookPath, Kind: "hook"}, data: hookScript(FetchPath), perm: 0o755},
		write{entry: Entry{Path: ModulesLoadPath, Kind: "config"}, data: modulesLoadConf(), perm: 0o644},
	)
	res := &Result{Kernels: []string{release}}
	if o.fetchBin == "" {
		res.Notes = append(res.Notes, Note{Kind: NoFetchBinary})
	}
	if err := o.apply(ctx, res, writes, &params); err != nil {
		return res, err
	}
	return res, nil
}

// Module installs only the module file for its kernel release and runs
// depmod, leaving the boot configuration alone; it is what
// fetcher.FetchAndInstall (and so the kernel post-install hook) does for a
// kernel other than the one ModuleAndBoot configured. The file is recorded
// in the manifest, so Uninstall removes it too.
func Module(ctx context.Context, module string, opts ...Option) (*Result, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	release, mod, err := o.moduleWrite(ctx, module)
	if err != nil {
		return nil, err
	}
	res := &Result{Kernels: []string{release}}
	if err := o.apply(ctx, res, []write{mod}, nil); err != nil {
		return res, err
	}
	return res, nil
}

// moduleWrite reads and checks the module file and plans its write.
func (o *options) moduleWrite(ctx context.Context, module string) (string, write, error) {
	ko, err := readModule(ctx, module, o.MaxSize)
	if err != nil {
		return "", write{}, err
	}
	info, err := modinfo.Read(bytes.NewReader(ko))
	if err != nil {
		return "", write{}, fmt.Errorf("installing %s: %w", module, err)
	}
	if info.Name != "" && info.Name != kmod.Name {
		return "", write{}, fmt.Errorf("installing %s: module is %q, not %q", module, info.Name, kmod.Name)
	}
	vm, err := modinfo.ParseVermagic(info.Vermagic)
	if err != nil {
		return "", write{}, fmt.Errorf("installing %s: %w", module, err)
	}
	release := vm.Release
	if release == "." || release == ".." || strings.ContainsAny(release, "/\x00") {
		return "", write{}, fmt.Errorf("installing %s: bad kernel release %q in vermagic", module, release)
	}
	if o.release != "" && release != o.release {
		return "", write{}, fmt.Errorf("installing %s: %w: its vermagic names kernel %s, not %s", module, ErrWrongKernel, release, o.release)
	}
	kdir := o.path("/lib/modules/" + release)
	fi, err := o.fsys.Lstat(kdir)
	if err != nil || !fi.IsDir() {
		return "", write{}, fmt.Errorf("installing %s: %w: the module is for kernel %s, but %s does not exist",
			module, ErrKernelNotInstalled, release, kdir)
	}
	return release, write{entry: Entry{Path: ModulePath(release), Kind: "module", Kernel: release}, data: ko, perm: 0o644}, nil
}

// readModule reads a module file, decompressing it.
func readModule(ctx context.Context, path string, limit int64) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("installing: %w", err)
	}
	if c := modinfo.DetectCompression(b); c != modinfo.None {
		var buf bytes.Buffer
		if _, err := modinfo.Decompress(ctx, &buf, bytes.NewReader(b), limit); err != nil {
			return nil, fmt.Errorf("installing %s: %w", path, err)
		}
		b = buf.Bytes()
	}
	return b, nil
}

// binary reads a program to copy to dest, unless it is dest already.
func (o *options) binary(src, dest string) ([]byte, bool, error) {
	full := o.path(dest)
	if a, err := filepath.EvalSymlinks(src); err == nil {
		if b, err := filepath.EvalSymlinks(full); err == nil && a == b {
			return nil, false, nil
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, false, fmt.Errorf("installing %s: %w", dest, err)
	}
	return data, true, nil
}

// apply writes the manifest (old and new entries together, so that a
// crash leaves every file findable), then each write in order, running
// depmod right after a module that changed.
func (o *options) apply(ctx context.Context, res *Result, writes []write, params *[]string) error {
	m, err := o.readManifest()
	if errors.Is(err, ErrNotInstalled) {
		m, err = &Manifest{}, nil
	}
	if err != nil {
		return err
	}
	paths := []string{ManifestPath}
	for _, w := range writes {
		paths = append(paths, w.entry.Path)
		m.add(w.entry)
	}
	if params != nil {
		m.Params = slices.Clone(*params)
	}
	for _, p := range paths {
		missing, err := o.missingDirs(filepath.Dir(p))
		if err != nil {
			return err
		}
		for _, d := range missing {
			m.addDir(d)
		}
	}
	if cur, _ := o.fsys.ReadFile(o.path(ManifestPath)); !bytes.Equal(cur, m.encode()) {
		if err := o.mkdirs(res, filepath.Dir(ManifestPath)); err != nil {
			return err
		}
		if err := o.fsys.WriteFile(o.path(ManifestPath), m.encode(), 0o644); err != nil {
			return fmt.Errorf("writing the install manifest: %w", err)
		}
		res.Changes = append(res.Changes, Change{Path: ManifestPath, Action: "wrote"})
		fmt.Fprintf(o.Log, "wrote %s\n", o.path(ManifestPath))
	}
	for _, w := range writes {
		if err := o.mkdirs(res, filepath.Dir(w.entry.Path)); err != nil {
			return err
		}
		changed, err := o.writeOne(w)
		if err != nil {
			return err
		}
		action := "unchanged"
		if changed {
			action = "wrote"
			fmt.Fprintf(o.Log, "wrote %s\n", o.path(w.entry.Path))
		}
		res.Changes = append(res.Changes, Change{Path: w.entry.Path, Action: action})
		// The module index is refreshed before any configuration names
		// the module.
		if changed && w.entry.Kind == "module" {
			if err := o.depmod(ctx, res, w.entry.Kernel); err != nil {
				return err
			}
		}
	}
	return nil
}

// missingDirs returns the directories from the root down to dir (an
// in-root path) that do not exist, parents first.
func (o *options) missingDirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		ok, err := exists(o.fsys, o.path(d))
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", o.path(d), err)
		}
		if ok {
			break
		}
		missing = append([]string{d}, missing...)
	}
	return missing, nil
}

func (o *options) mkdirs(res *Result, dir string) error {
	missing, err := o.missingDirs(dir)
	if err != nil {
		return err
	}
	for _, d := range missing {
		if err := o.fsys.Mkdir(o.path(d), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating %s: %w", o.path(d), err)
		}
		res.Changes = append(res.Changes, Change{Path: d, Action: "created"})
	}
	return nil
}

// writeOne writes w unless the file already has that content and mode (or
// the link that target); it reports whether it wrote.
func (o *options) writeOne(w write) (bool, error) {
	full := o.path(w.entry.Path)
	if w.data == nil {
		if t, err := o.fsys.Readlink(full); err == nil && t == w.entry.Target {
			return false, nil
		}
		if err := o.fsys.Symlink(w.entry.Target, full); err != nil {
			return false, fmt.Errorf("linking %s: %w", full, err)
		}
		return true, nil
	}
	if fi, err := o.fsys.Lstat(full); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() == w.perm {
		if cur, err := o.fsys.ReadFile(full); err == nil && bytes.Equal(cur, w.data) {
			return false, nil
		}
	}
	if err := o.fsys.WriteFile(full, w.data, w.perm); err != nil {
		return false, fmt.Errorf("writing %s: %w", full, err)
	}
	return true, nil
}

// depmod refreshes the module index of release, or notes that it could
// not.
func (o *options) depmod(ctx context.Context, res *Result, release string) error {
	bin, err := o.cmds.LookPath("depmod")
	if err != nil {
		res.Notes = append(res.Notes, Note{Kind: NoDepmod, Kernel: release})
		return nil
	}
	args := []string{"-a", release}
	if o.root != "/" {
		args = []string{"-b", o.root, "-a", release}
	}
	out, err := o.cmds.Run(ctx, bin, args...)
	if err != nil {
		return fmt.Errorf("running %s %s: %w: %s", bin, strings.Join(args, " "), err, out)
	}
	res.Notes = append(res.Notes, Note{Kind: RanDepmod, Kernel: release, Command: append([]string{bin}, args...)})
	return nil
}

// Uninstall removes every file and directory the manifest lists, in the
// reverse order of ModuleAndBoot, runs depmod for each kernel whose module it
// removed, and removes the manifest last. Directories that are no longer
// empty (something else was put there) are kept. Without a manifest it
// returns an error wrapping ErrNotInstalled. It does not unload a loaded
// module.
func Uninstall(ctx context.Context, opts ...Option) (*Result, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	m, err := o.readManifest()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	// Boot configuration first, the module last: a crash halfway leaves
	// either a working boot or nothing that loads a missing module.
	order := map[string]int{"config": 0, "link": 1, "unit": 2, "hook": 3, "binary": 4, "module": 5}
	files := slices.Clone(m.Files)
	slices.Reverse(files)
	slices.SortStableFunc(files, func(a, b Entry) int { return order[a.Kind] - order[b.Kind] })
	// modules-load.d before modprobe.d: nothing loads the module with
	// default parameters in between.
	slices.SortStableFunc(files, func(a, b Entry) int {
		return boolInt(b.Path == ModulesLoadPath) - boolInt(a.Path == ModulesLoadPath)
	})
	for _, e := range files {
		full := o.path(e.Path)
		err := o.fsys.Remove(full)
		switch {
		case err == nil:
			res.Changes = append(res.Changes, Change{Path: e.Path, Action: "removed"})
			fmt.Fprintf(o.Log, "removed %s\n", full)
			if e.Kind == "module" {
				res.Kernels = append(res.Kernels, e.Kernel)
			}
		case errors.Is(err, fs.ErrNotExist):
			res.Changes = append(res.Changes, Change{Path: e.Path, Action: "absent"})
		default:
			return res, fmt.Errorf("removing %s: %w", full, err)
		}
	}
	for _, k := range res.Kernels {
		if ok, _ := exists(o.fsys, o.path("/lib/modules/"+k)); !ok {
			continue
		}
		if err := o.depmod(ctx, res, k); err != nil {
			return res, err
		}
	}
	if err := o.fsys.Remove(o.path(ManifestPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("removing the install manifest: %w", err)
	}
	res.Changes = append(res.Changes, Change{Path: ManifestPath, Action: "removed"})
	// The fetcher's memory of index serials goes with dnsmon: a later
	// install starts trusting from the first index it sees, as a new host does.
	if err := o.fsys.Remove(o.path(hoststate.SerialsPath)); err == nil {
		res.Changes = append(res.Changes, Change{Path: hoststate.SerialsPath, Action: "removed"})
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("removing %s: %w", hoststate.SerialsPath, err)
	}
	// And so does the state directory the fetcher made, once empty.
	if err := o.fsys.Remove(o.path(filepath.Dir(hoststate.SerialsPath))); err == nil {
		res.Changes = append(res.Changes, Change{Path: filepath.Dir(hoststate.SerialsPath), Action: "removed"})
	}
	dirs := slices.Clone(m.Dirs)
	slices.SortStableFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range dirs {
		full := o.path(d)
		err := o.fsys.Remove(full)
		switch {
		case err == nil:
			res.Changes = append(res.Changes, Change{Path: d, Action: "removed"})
		case errors.Is(err, fs.ErrNotExist):
			res.Changes = append(res.Changes, Change{Path: d, Action: "absent"})
		default:
			// Not empty: something else lives there now.
			res.Changes = append(res.Changes, Change{Path: d, Action: "kept"})
		}
	}
	return res, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
