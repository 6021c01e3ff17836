package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// sanitizerConfig is merged into tinyconfig: what a guest needs (serial
// console, initramfs, devtmpfs, IPv4/IPv6, netfilter, namespaces, modules)
// and the sanitizers the module is tested under.
//
//go:embed sanitizer.config
var sanitizerConfig string

// The sanitizer kernel is built from Debian's kernel source package, fetched
// with the project's own client (verified against the suite's signed
// InRelease), so the tier needs no apt on the machine that runs it.
const (
	sanitizerSuite   = "bookworm"
	sanitizerPackage = "linux-source-6.1"
	// sanitizerRecipe changes whenever the steps below change what they
	// produce, so that a cached kernel from older steps is not reused.
	sanitizerRecipe = "2"
)

// SanitizerKernel is a kernel built with KASAN, KFENCE, lockdep, PROVE_RCU,
// DEBUG_ATOMIC_SLEEP and DEBUG_LIST, and a tree prepared for building
// external modules against it.
type SanitizerKernel struct {
	Package string // the source package and version, e.g. linux-source-6.1 6.1.192-3
	Release string // its kernel release, e.g. 6.1.192
	Vmlinuz string // its bzImage
	Tree    string // the build tree: make -C Tree M=DIR modules
}

// SanitizerBootArgs make any sanitizer report or kernel warning fatal, so
// that a guest whose kernel saw one never reports done.
const SanitizerBootArgs = "panic_on_warn=1 kasan.fault=panic"

// BuildSanitizerKernel returns the sanitizer kernel, building it the first
// time into CACHE/sanitizer/VERSION-HASH, where HASH covers the source
// package's digest, sanitizer.config, the compiler and the recipe. A build
// takes about 10 minutes on two cores; progress goes to log, the compiler's
// output to build.log in that directory. A directory without its .done
// marker (an interrupted build) is removed and built again, and a new
// build removes the kernels of other hashes. Callers sharing the cache
// directory take turns (a lock file beside the kernels): `make test` starts
// the build in the background (TestSanitizerKernel) and TestSanitizer
// waits for it.
func BuildSanitizerKernel(ctx context.Context, c *debian.Client, log io.Writer) (SanitizerKernel, error) {
	pkgs, err := c.Packages(ctx, debian.SuiteFor(sanitizerSuite))
	if err != nil {
		return SanitizerKernel{}, fmt.Errorf("sanitizer kernel: %w", err)
	}
	var src debian.Package
	for _, p := range pkgs {
		if p.Name == sanitizerPackage && (src.Name == "" || debian.CompareVersions(p.Version, src.Version) > 0) {
			src = p
		}
	}
	if src.Name == "" {
		return SanitizerKernel{}, fmt.Errorf("sanitizer kernel: %s has no package %s", sanitizerSuite, sanitizerPackage)
	}
	cc, err := exec.CommandContext(ctx, "gcc", "--version").Output()
	if err != nil {
		return SanitizerKernel{}, fmt.Errorf("sanitizer kernel: running gcc (install gcc, or run make deps): %w", err)
	}
	sum := sha256.New()
	for _, s := range []string{sanitizerRecipe, src.SHA256, sanitizerConfig, string(cc)} {
		fmt.Fprintf(sum, "%d:%s", len(s), s)
	}
	dir := filepath.Join(c.CacheRoot(), "sanitizer", src.Version+"-"+hex.EncodeToString(sum.Sum(nil))[:16])
	k := SanitizerKernel{
		Package: src.Name + " " + src.Version,
		Vmlinuz: filepath.Join(dir, "bzImage"),
		Tree:    filepath.Join(dir, "out"),
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return SanitizerKernel{}, err
	}
	unlock, err := lockFile(ctx, filepath.Join(filepath.Dir(dir), ".lock"), log)
	if err != nil {
		return SanitizerKernel{}, fmt.Errorf("sanitizer kernel: %w", err)
	}
	defer unlock()
	if rel, err := os.ReadFile(filepath.Join(dir, ".done")); err == nil {
		k.Release = strings.TrimSpace(string(rel))
		return k, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return SanitizerKernel{}, fmt.Errorf("sanitizer kernel: removing an interrupted build: %w", err)
	}
	start := time.Now()
	fmt.Fprintf(log, "sanitizer kernel: building %s (KASAN, KFENCE, lockdep) into %s; this takes about 10 minutes on two cores, once\n", k.Package, dir)
	rel, err := buildSanitizer(ctx, c, src, dir)
	if err != nil {
		return SanitizerKernel{}, fmt.Errorf("sanitizer kernel %s: %w", k.Package, err)
	}
	k.Release = rel
	fmt.Fprintf(log, "sanitizer kernel: %s built in %v\n", rel, time.Since(start).Round(time.Second))
	// Kernels of older sources or configs are never asked for again.
	if ents, err := os.ReadDir(filepath.Dir(dir)); err == nil {
		for _, e := range ents {
			if old := filepath.Join(filepath.Dir(dir), e.Name()); old != dir && e.Name() != ".lock" {
				os.RemoveAll(old)
			}
		}
	}
	return k, nil
}

// buildSanitizer unpacks src into dir/src, configures and builds it into
// dir/out, keeps what external module builds need, and writes dir/.done
// holding the kernel release last.
func buildSanitizer(ctx context.Context, c *debian.Client, src debian.Package, dir string) (string, error) {
	deb, err := c.Download(ctx, src)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// The package holds one tarball, usr/src/linux-source-6.1.tar.xz,
	// which unpacks to linux-source-6.1/.
	tarball := filepath.Join(dir, "src.tar.xz")
	f, err := os.Create(tarball)
	if err != nil {
		return "", err
	}
	err = debian.ExtractFile(deb, "usr/src/"+src.Name+".tar.xz", f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	buildLog, err := os.Create(filepath.Join(dir, "build.log"))
	if err != nil {
		return "", err
	}
	defer buildLog.Close()
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = buildLog, buildLog
		fmt.Fprintf(buildLog, "+ %s %s\n", name, strings.Join(args, " "))
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w (see %s)", name, strings.Join(args, " "), err, buildLog.Name())
		}
		return nil
	}
	if err := run("tar", "-xJf", tarball); err != nil {
		return "", err
	}
	if err := os.Remove(tarball); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(dir, src.Name), filepath.Join(dir, "src")); err != nil {
		return "", fmt.Errorf("the source package did not unpack to %s/: %w", src.Name, err)
	}
	frag := filepath.Join(dir, "sanitizer.config")
	if err := os.WriteFile(frag, []byte(sanitizerConfig), 0o644); err != nil {
		return "", err
	}
	mk := func(args ...string) error { return run("make", append([]string{"-C", "src", "O=../out"}, args...)...) }
	if err := mk("tinyconfig"); err != nil {
		return "", err
	}
	if err := run("src/scripts/kconfig/merge_config.sh", "-m", "-O", "out", "out/.config", frag); err != nil {
		return "", err
	}
	if err := mk("olddefconfig"); err != nil {
		return "", err
	}
	config, err := os.ReadFile(filepath.Join(dir, "out", ".config"))
	if err != nil {
		return "", err
	}
	if err := checkConfig(sanitizerConfig, string(config)); err != nil {
		return "", err
	}
	if err := mk(fmt.Sprintf("-j%d", runtime.NumCPU()), "bzImage", "modules_prepare"); err != nil {
		return "", err
	}
	var rel bytes.Buffer
	cmd := exec.CommandContext(ctx, "make", "-s", "-C", "src", "O=../out", "kernelrelease")
	cmd.Dir, cmd.Stdout = dir, &rel
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make kernelrelease: %w", err)
	}
	if err := os.Rename(filepath.Join(dir, "out/arch/x86/boot/bzImage"), filepath.Join(dir, "bzImage")); err != nil {
		return "", err
	}
	if err := pruneTree(dir); err != nil {
		return "", fmt.Errorf("pruning the build tree: %w", err)
	}
	release := strings.TrimSpace(rel.String())
	if err := atomicfile.Write(filepath.Join(dir, ".done"), []byte(release+"\n"), 0o644); err != nil {
		return "", err
	}
	return release, nil
}

// checkConfig reports every option of the fragment that the resolved
// .config does not hold as asked: Kconfig silently drops an option whose
// dependencies are unmet, which would leave a kernel without the
// sanitizer it is meant to have.
func checkConfig(fragment, config string) error {
	have := map[string]string{}
	for _, l := range strings.Split(config, "\n") {
		if name, v, ok := strings.Cut(l, "="); ok && strings.HasPrefix(name, "CONFIG_") {
			have[name] = v
		}
	}
	var bad []string
	for _, l := range strings.Split(fragment, "\n") {
		name, want, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || !strings.HasPrefix(name, "CONFIG_") {
			continue
		}
		got, set := have[name]
		switch {
		case want == "n" && !set:
		case want == "n":
			bad = append(bad, fmt.Sprintf("%s=%s (asked: not set)", name, got))
		case got != want:
			if !set {
				got = "not set"
			}
			bad = append(bad, fmt.Sprintf("%s is %s (asked: %s)", name, got, want))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the configured kernel lacks options of sanitizer.config (add what they depend on there): %s", strings.Join(bad, "; "))
	}
	return nil
}

// pruneTree deletes from dir/src and dir/out what building an external
// module does not read: the kernel's own sources and objects. It keeps,
// like a distribution's headers package, every Makefile and Kconfig, the
// include and scripts folders, the architecture's headers, and the built
// host programs, Module.symvers and configuration in out/. About 1.5 GB
// become about 100 MB.
func pruneTree(dir string) error {
	srcDir, outDir := filepath.Join(dir, "src"), filepath.Join(dir, "out")
	keepSrc := func(rel string) bool {
		base := filepath.Base(rel)
		switch {
		case strings.HasPrefix(base, "Makefile"), strings.HasPrefix(base, "Kconfig"), strings.HasPrefix(base, "Kbuild"),
			base == "Platform":
			return true
		}
		for _, p := range []string{"include/", "scripts/", "arch/x86/include/", "arch/x86/tools/", "tools/include/"} {
			if strings.HasPrefix(rel, p) {
				return true
			}
		}
		return false
	}
	keepOut := func(rel string) bool {
		if strings.HasSuffix(rel, ".o") || strings.HasSuffix(rel, ".a") {
			// Host programs keep their objects only in scripts/ and
			// tools/, which make may check for freshness.
			return strings.HasPrefix(rel, "scripts/") || strings.HasPrefix(rel, "tools/")
		}
		switch rel {
		case "vmlinux", "vmlinux.o", "arch/x86/boot/compressed/vmlinux", "arch/x86/boot/vmlinux.bin",
			"arch/x86/boot/compressed/vmlinux.bin", "arch/x86/boot/compressed/vmlinux.bin.gz":
			return false
		}
		return true
	}
	for _, t := range []struct {
		root string
		keep func(string) bool
	}{{srcDir, keepSrc}, {outDir, keepOut}} {
		err := filepath.WalkDir(t.root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(t.root, p)
			if err != nil {
				return err
			}
			if t.keep(rel) {
				return nil
			}
			return os.Remove(p)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// BuildModule builds the module in root's kmod/src against k's tree with
// W=1, in a copy under dir, and returns the .ko. Any compiler warning
// fails the build: the tree was made by the same compiler.
func (k SanitizerKernel) BuildModule(ctx context.Context, root, dir string) (string, error) {
	srcDir := filepath.Join(root, "kmod", "src")
	ents, err := os.ReadDir(srcDir)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "dnsmon-"+k.Release)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && (n == "Kbuild" || n == "Makefile" || n == "VERSION" || strings.HasSuffix(n, ".c") || strings.HasSuffix(n, ".h")) {
			b, err := os.ReadFile(filepath.Join(srcDir, n))
			if err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(out, n), b, 0o644); err != nil {
				return "", err
			}
		}
	}
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "make", "-C", k.Tree, "M="+out, "W=1", "modules")
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building dnsmon.ko against the sanitizer kernel %s: %w\n%s", k.Release, err, buf.String())
	}
	if bytes.Contains(buf.Bytes(), []byte("warning:")) {
		return "", fmt.Errorf("building dnsmon.ko against the sanitizer kernel %s: compiler warnings:\n%s", k.Release, buf.String())
	}
	return filepath.Join(out, "dnsmon.ko"), nil
}

// lockPoll is how often a waiting lockFile tries again: flock(2) cannot be
// interrupted by a context.
const lockPoll = time.Second

// lockFile takes an exclusive flock(2) on path, creating it, and waits for
// it until ctx ends, saying once on log that it waits. The returned func
// releases it.
func lockFile(ctx context.Context, path string, log io.Writer) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for said := false; ; said = true {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !said {
			fmt.Fprintf(log, "waiting for the build that holds %s\n", path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
