package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// diskModules are the kernel's own modules a guest needs to mount an ext4
// virtio disk on Debian kernels, where all of them are modular, in load
// order. crc32c_generic backs the crc32c checksums ext4 and jbd2 ask the
// crypto API for (qemu's TCG CPU has no SSE 4.2 for crc32c-intel).
var diskModules = []string{"virtio", "virtio_ring", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_blk",
	"crc16", "crc32c_generic", "mbcache", "jbd2", "ext4"}

// TestPersist proves issue 12 in a guest with a persistent disk: boot 1
// installs dnsmon onto the disk; boot 2 boots the same disk and runs only
// what a boot runs (modprobe of each modules-load.d name, then the systemd
// unit's ExecStart), checks the saved parameters and that the module
// reports, pre-stages a second kernel with the post-install hook, and
// uninstalls, leaving the disk as it was before the install.
func TestPersist(t *testing.T) {
	if testing.Short() {
		t.Skip("boots qemu guests")
	}
	ctx := t.Context()
	c, root := guestSetup(t)
	k1, err := c.NewestKernel(ctx, debian.SuiteFor("bookworm"), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := c.NewestKernel(ctx, debian.SuiteFor("bullseye"), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	vmlinuz, err := Vmlinuz(ctx, c, k1)
	if err != nil {
		t.Fatal(err)
	}
	kmods, err := kernelModules(ctx, c, k1, diskModules)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	src := moduleSource(root, io.Discard)
	key, err := signature.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	layout := store.LayoutPrefix + filepath.Join(work, "layout")
	pub, err := publish.New(ctx, layout, publish.WithSigningKey(key))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []debian.Kernel{k1, k2} {
		tb := time.Now()
		ko, err := src.Module(ctx, k)
		if err != nil {
			t.Fatalf("building the module for %s: %v", k.Release, err)
		}
		t.Logf("module for %s ready in %v", k.Release, time.Since(tb).Round(time.Millisecond))
		if err := publishModule(ctx, pub, ko, k.Release); err != nil {
			t.Fatal(err)
		}
	}
	pub.Close()
	bundle := filepath.Join(work, "modules.tar.zst")
	lsrc, err := store.Open(ctx, layout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := publish.WriteBundleFile(ctx, lsrc, bundle, publish.BundleOptions{}); err != nil {
		t.Fatal(err)
	}
	lsrc.Close()
	pemKey, err := signature.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	disk, err := makeDisk(ctx, work, k1.Release, bundle, pemKey)
	if err != nil {
		t.Fatal(err)
	}
	tools, err := BuildTools(ctx, root, filepath.Join(work, "bin"), []Tool{
		{Pkg: "./e2e/internal/guestinit", Path: "/init"},
		{Pkg: "./cmd/dnsmon-load", Path: "/bin/dnsmon-load"},
		{Pkg: "./cmd/dnsmon-fetch", Path: "/bin/dnsmon-fetch"},
	})
	if err != nil {
		t.Fatal(err)
	}
	files := append(tools, kmods...)
	logDir := filepath.Join(c.CacheRoot(), "guest-logs")
	boot := func(name string, extra []InitramfsFile, appendArgs string) []Verdict {
		t.Helper()
		initrd := filepath.Join(work, name+".cpio")
		if err := WriteInitramfs(initrd, append(slices.Clone(files), extra...)); err != nil {
			t.Fatal(err)
		}
		logPath, err := NewLogPath(logDir, "persist-"+name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(ctx, Boot{Kernel: vmlinuz, Initrd: initrd, LogPath: logPath, Timeout: 2 * time.Minute, Append: appendArgs,
			Args: []string{"-drive", "file=" + disk + ",format=raw,if=virtio"}})
		t.Logf("%s: %d verdicts in %v (console %s)", name, len(r.Verdicts), r.Elapsed.Round(time.Millisecond), logPath)
		failed := err != nil
		if err != nil {
			t.Error(err)
		}
		for _, v := range r.Verdicts {
			if v.Status == Fail {
				failed = true
				t.Errorf("%s: %s: %s", name, v.Scenario, v.Detail)
			} else if v.Scenario != "files-before" {
				t.Logf("%s: %s %s (%d ms)", name, v.Scenario, v.Status, v.Ms)
			}
		}
		if !failed && os.Getenv("DNSMON_GUEST_KEEP_LOGS") == "" {
			os.Remove(logPath)
		}
		return r.Verdicts
	}
	vs := boot("install", nil, "dnsmon_mode=persist-install")
	var before string
	for _, v := range vs {
		if v.Scenario == "files-before" && v.Status == Pass {
			before = v.Detail
		}
	}
	if before == "" || t.Failed() {
		t.Fatal("boot 1 did not install (see above)")
	}
	boot("boot", []InitramfsFile{{Path: "/persist/before.txt", Data: []byte(before + "\n")}},
		"dnsmon_mode=persist-boot dnsmon_k2="+k2.Release)
}

// publishModule publishes ko for release, with the metadata its .modinfo
// gives.
func publishModule(ctx context.Context, p *publish.Publisher, ko, release string) error {
	b, err := os.ReadFile(ko)
	if err != nil {
		return err
	}
	info, err := modinfo.Read(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("reading %s: %w", ko, err)
	}
	meta := artifact.Meta{Version: kmod.Version(), Release: release, Arch: "amd64", Distro: "debian",
		Vermagic: info.Vermagic, Created: time.Now().UTC().Truncate(time.Second)}
	if sv := info.Get("srcversion"); len(sv) > 0 {
		meta.Srcversion = sv[0]
	}
	if _, err := p.PublishArtifact(ctx, meta, b); err != nil {
		return fmt.Errorf("publishing the module for %s: %w", release, err)
	}
	return nil
}

// kernelModules extracts the named modules of k (decompressed) from its
// image package once into CACHE/kernels/RELEASE/disk-modules and returns
// them as initramfs files /kmods/NN-name.ko in load order.
func kernelModules(ctx context.Context, c *debian.Client, k debian.Kernel, names []string) ([]InitramfsFile, error) {
	dir := filepath.Join(c.CacheRoot(), "kernels", k.Release, "disk-modules")
	have := func() bool {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(dir, n+".ko")); err != nil {
				return false
			}
		}
		return true
	}
	if !have() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		// sid and experimental keep the modules in a package of their own.
		pkgs := []debian.Package{k.Image}
		if k.Vmlinuz.Name != k.Image.Name {
			pkgs = append(pkgs, k.Vmlinuz)
		}
		for _, p := range pkgs {
			deb, err := c.Download(ctx, p)
			if err != nil {
				return nil, err
			}
			err = debian.WalkData(deb, func(h *tar.Header, r io.Reader) error {
				base := path.Base(h.Name)
				name, _, ok := strings.Cut(base, ".ko")
				if !ok || !slices.Contains(names, name) || !strings.Contains(h.Name, "/kernel/") {
					return nil
				}
				var buf bytes.Buffer
				if _, err := modinfo.Decompress(ctx, &buf, r, 0); err != nil {
					return fmt.Errorf("%s: %w", h.Name, err)
				}
				return os.WriteFile(filepath.Join(dir, name+".ko"), buf.Bytes(), 0o644)
			})
			if err != nil {
				return nil, fmt.Errorf("extracting modules of %s: %w", k.Release, err)
			}
		}
		if !have() {
			return nil, fmt.Errorf("%s lacks some of %v (built in? then drop them from the list)", k.Release, names)
		}
	}
	var out []InitramfsFile
	for i, n := range names {
		out = append(out, InitramfsFile{Path: fmt.Sprintf("/kmods/%02d-%s.ko", i, n), Source: filepath.Join(dir, n+".ko")})
	}
	return out, nil
}

// makeDisk makes a 64 MiB ext4 image holding the "machine": busybox as
// sh, modprobe and depmod, an empty module tree for krel (indexed by
// depmod), the publisher's key and the module bundle.
func makeDisk(ctx context.Context, work, krel, bundle string, pemKey []byte) (string, error) {
	stage := filepath.Join(work, "stage")
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return "", fmt.Errorf("busybox (Debian's busybox-static) is needed for the guest disk: %w", err)
	}
	bbData, err := os.ReadFile(bb)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"bin/busybox": bbData,
		"lib/modules/" + krel + "/modules.builtin": nil,
		"etc/dnsmon/dnsmon.pub":                    pemKey,
		"etc/os-release":                           []byte("ID=debian\nVERSION_ID=\"12\"\n"),
	}
	for p, data := range files {
		full := filepath.Join(stage, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, data, 0o755); err != nil {
			return "", err
		}
	}
	// var/lib as on every host (FHS): dnsmon's state directory goes below it.
	for _, d := range []string{"proc", "sys", "dev", "tmp", "root", "sbin", "var/lib", "lib/modules/" + krel + "/kernel"} {
		if err := os.MkdirAll(filepath.Join(stage, d), 0o755); err != nil {
			return "", err
		}
	}
	b, err := os.ReadFile(bundle)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(stage, "root/modules.tar.zst"), b, 0o644); err != nil {
		return "", err
	}
	for link, target := range map[string]string{"bin/sh": "busybox", "sbin/modprobe": "/bin/busybox", "sbin/depmod": "/bin/busybox"} {
		if err := os.Symlink(target, filepath.Join(stage, link)); err != nil {
			return "", err
		}
	}
	disk := filepath.Join(work, "disk.img")
	for _, cmd := range [][]string{
		{bb, "depmod", "-b", stage, "-a", krel},
		{"mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", "-d", stage, disk, "64M"},
	} {
		if out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %w\n%s", strings.Join(cmd, " "), err, out)
		}
	}
	return disk, nil
}
