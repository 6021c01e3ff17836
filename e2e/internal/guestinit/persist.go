package main

// The persistence scenarios (issue 12) run on a disk that outlives the
// guest: dnsmon_mode=persist-install installs dnsmon onto it, and
// dnsmon_mode=persist-boot boots the same disk again and runs only what a
// boot runs, then pre-stages a second kernel and uninstalls.
//
// The disk (/dev/vda, ext4) is the root of the "machine": its commands run
// chrooted into it, with busybox as /bin/sh, /sbin/modprobe and
// /sbin/depmod. The initramfs brings the kernel's own virtio and ext4
// modules in /kmods (loaded in name order) and, for persist-boot, the
// disk's file list from before the install in /persist/before.txt.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"github.com/dnsmon/dnsmon/fetcher/install/installtest"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

const diskRoot = "/mnt"

// runPersistMode runs a persistence scenario when the kernel command line
// holds dnsmon_mode=persist-install or dnsmon_mode=persist-boot, and then
// powers off; otherwise it returns at once.
func runPersistMode() {
	_ = os.MkdirAll("/proc", 0o755)
	_ = unix.Mount("proc", "/proc", "proc", 0, "")
	b, _ := os.ReadFile("/proc/cmdline")
	args := map[string]string{}
	for _, f := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			args[k] = v
		}
	}
	mode := args["dnsmon_mode"]
	if mode != "persist-install" && mode != "persist-boot" {
		return
	}
	if err := mountAll(); err != nil {
		fmt.Println("guestinit:", err)
	}
	if f, err := os.OpenFile("/dev/console", os.O_RDWR, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			_ = unix.Dup2(int(f.Fd()), fd)
		}
	}
	_ = os.WriteFile("/proc/sys/kernel/printk", []byte("4 4 1 7"), 0o644)
	os.Setenv("PATH", "/sbin:/bin")
	fmt.Printf("guestinit: kernel %s, %s\n", kernelRelease(), mode)
	r := &runner{clients: map[string]bool{}}
	p := &persist{r: r, k2: args["dnsmon_k2"]}
	if r.step("disk", p.mountDisk) {
		if mode == "persist-install" {
			p.install()
		} else {
			p.boot()
		}
	}
	p.unmount()
	fmt.Printf("%s {\"passed\":%d,\"failed\":%d}\n", proto.DonePrefix, r.passed, r.failed)
	powerOff()
}

type persist struct {
	r  *runner
	k2 string // the second kernel to pre-stage
}

// mountDisk loads the kernel's own block and filesystem modules, mounts
// the disk on /mnt and the API filesystems inside it.
func (p *persist) mountDisk() error {
	kos, _ := filepath.Glob("/kmods/*.ko")
	sort.Strings(kos)
	for _, ko := range kos {
		f, err := os.Open(ko)
		if err != nil {
			return err
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("loading %s: %w", filepath.Base(ko), err)
		}
	}
	if !waitFor("/dev/vda", 10*time.Second) {
		return errors.New("/dev/vda did not appear")
	}
	_ = os.MkdirAll(diskRoot, 0o755)
	if err := unix.Mount("/dev/vda", diskRoot, "ext4", 0, ""); err != nil {
		return fmt.Errorf("mounting /dev/vda: %w", err)
	}
	for _, m := range []struct{ src, dst, typ string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"}, {"tmpfs", "/tmp", "tmpfs"},
	} {
		if err := unix.Mount(m.src, diskRoot+m.dst, m.typ, 0, ""); err != nil {
			return fmt.Errorf("mounting %s in the disk: %w", m.typ, err)
		}
	}
	return nil
}

func (p *persist) unmount() {
	for _, d := range []string{"/tmp", "/dev", "/sys", "/proc", ""} {
		_ = unix.Unmount(diskRoot+d, 0)
	}
	unix.Sync()
}

// inRoot runs a command chrooted into the disk, as the machine would.
func inRoot(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: diskRoot}
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin", "HOME=/root"}
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	fmt.Printf("guestinit: # chroot %s %s\n%s\n", diskRoot, strings.Join(args, " "), s)
	if err != nil {
		return s, fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, s)
	}
	return s, nil
}

func want(out string, subs ...string) error {
	for _, s := range subs {
		if !strings.Contains(out, s) {
			return fmt.Errorf("output lacks %q: %s", s, out)
		}
	}
	return nil
}

// snapshot lists every path of the disk (not inside the API mounts) with
// its type, mode and content digest or link target.
func snapshot() ([]string, error) {
	return installtest.Snapshot(diskRoot, "/proc", "/sys", "/dev", "/tmp")
}

func readParam(name string) string {
	b, _ := os.ReadFile("/sys/module/dnsmon/parameters/" + name)
	return strings.TrimSpace(string(b))
}

func checkParams() error {
	if !exists("/sys/module/dnsmon") {
		return errors.New("/sys/module/dnsmon is missing: the module is not loaded")
	}
	if rs, ports := readParam("ring_size"), readParam("ports"); rs != "128" || ports != "53,5353" {
		return fmt.Errorf("loaded with ring_size=%s ports=%s, want the saved ring_size=128 ports=53,5353", rs, ports)
	}
	return nil
}

// install is boot 1: configure the source, then install with the tools
// an operator downloaded to /tmp (a tmpfs: they leave no trace on disk).
func (p *persist) install() {
	r := p.r
	if !r.step("copy-tools", func() error {
		for _, t := range []string{"dnsmon-load", "dnsmon-fetch"} {
			b, err := os.ReadFile("/bin/" + t)
			if err != nil {
				return err
			}
			if err := os.WriteFile(diskRoot+"/tmp/"+t, b, 0o755); err != nil {
				return err
			}
		}
		return nil
	}) {
		return
	}
	if !r.step("save-config", func() error {
		out, err := inRoot("/tmp/dnsmon-fetch", "--from", "/root/modules.tar.zst", "--key", "/etc/dnsmon/dnsmon.pub", "--save")
		if err != nil {
			return err
		}
		return want(out, "saved /etc/dnsmon/config.json")
	}) {
		return
	}
	files, err := snapshot()
	v := proto.Verdict{Scenario: "files-before", Status: proto.Pass, Detail: strings.Join(files, "\n")}
	if err != nil {
		v.Status, v.Detail = proto.Fail, err.Error()
	}
	os.Stdout.WriteString(v.Format() + "\n")
	krel := kernelRelease()
	r.step("fetch-install", func() error {
		out, err := inRoot("/tmp/dnsmon-fetch", "--install")
		if err != nil {
			return err
		}
		return want(out, krel+": installed dnsmon", "signature verified with sha256:", "ran /sbin/depmod -a "+krel)
	})
	r.step("install", func() error {
		out, err := inRoot("/tmp/dnsmon-load", "--install", "ring_size=128", "ports=53,5353")
		if err != nil {
			return err
		}
		return want(out, "installed dnsmon for kernel "+krel+" with ring_size=128 ports=53,5353")
	})
	r.step("install-again", func() error {
		out, err := inRoot("/tmp/dnsmon-load", "--install", "ring_size=128", "ports=53,5353")
		if err != nil {
			return err
		}
		return want(out, "nothing changed")
	})
	r.step("installed-files", func() error {
		for _, f := range []string{"/lib/modules/" + krel + "/updates/dnsmon.ko", "/etc/modules-load.d/dnsmon.conf", "/etc/modprobe.d/dnsmon.conf",
			"/etc/systemd/system/dnsmon.service", "/etc/systemd/system/sysinit.target.wants/dnsmon.service", "/etc/kernel/postinst.d/dnsmon",
			"/usr/local/sbin/dnsmon-load", "/usr/local/sbin/dnsmon-fetch", "/var/lib/dnsmon/installed.json"} {
			if _, err := os.Lstat(diskRoot + f); err != nil {
				return fmt.Errorf("%s missing after install: %w", f, err)
			}
		}
		dep, _ := os.ReadFile(diskRoot + "/lib/modules/" + krel + "/modules.dep")
		return want(string(dep), "updates/dnsmon.ko:")
	})
}

// boot is boot 2: what a boot runs, then pre-staging and uninstall.
func (p *persist) boot() {
	r := p.r
	krel := kernelRelease()
	if err := loUp(); err != nil {
		fmt.Println("guestinit: lo:", err)
	}
	r.step("modules-load.d", func() error {
		confs, _ := filepath.Glob(diskRoot + "/etc/modules-load.d/*.conf")
		n := 0
		for _, c := range confs {
			b, err := os.ReadFile(c)
			if err != nil {
				return err
			}
			for _, l := range strings.Split(string(b), "\n") {
				l = strings.TrimSpace(l)
				if l == "" || l[0] == '#' || l[0] == ';' {
					continue
				}
				if _, err := inRoot("/sbin/modprobe", l); err != nil {
					return err
				}
				n++
			}
		}
		if n == 0 {
			return errors.New("no module named in /etc/modules-load.d")
		}
		return checkParams()
	})
	r.step("reports-after-modprobe", func() error { return p.query("boot1.dnsmon.test") })
	r.step("unload", func() error { _, err := tool("dnsmon-load", "--unload"); return err })
	r.step("systemd-unit", func() error {
		link, err := os.Readlink(diskRoot + "/etc/systemd/system/sysinit.target.wants/dnsmon.service")
		if err != nil || link != "/etc/systemd/system/dnsmon.service" {
			return fmt.Errorf("enablement link -> %q, %v", link, err)
		}
		b, err := os.ReadFile(diskRoot + link)
		if err != nil {
			return err
		}
		var exec string
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && k == "ConditionPathExists" && strings.HasPrefix(v, "!") && exists(v[1:]) {
				return fmt.Errorf("ConditionPathExists=%s is false: the unit would be skipped", v)
			}
			if s, ok := strings.CutPrefix(l, "ExecStart="); ok {
				exec = s
			}
		}
		if exec == "" {
			return errors.New("no ExecStart in the unit")
		}
		// %v is systemd's specifier for the running kernel release.
		if _, err := inRoot(strings.Fields(strings.ReplaceAll(exec, "%v", krel))...); err != nil {
			return err
		}
		return checkParams()
	})
	r.step("reports-after-unit", func() error { return p.query("boot2.dnsmon.test") })
	r.step("unload-again", func() error { _, err := tool("dnsmon-load", "--unload"); return err })

	k2dir := diskRoot + "/lib/modules/" + p.k2
	var fixture []string
	r.step("prestage", func() error {
		if p.k2 == "" {
			return errors.New("no dnsmon_k2 on the kernel command line")
		}
		// What the new kernel's package puts there.
		if err := os.MkdirAll(k2dir+"/kernel", 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(k2dir+"/modules.builtin", nil, 0o644); err != nil {
			return err
		}
		if _, err := inRoot("/sbin/depmod", "-a", p.k2); err != nil {
			return err
		}
		ents, _ := os.ReadDir(k2dir)
		for _, e := range ents {
			fixture = append(fixture, e.Name())
		}
		out, err := inRoot("/bin/sh", "/etc/kernel/postinst.d/dnsmon", p.k2)
		if err != nil {
			return err
		}
		if strings.Contains(out, "WARNING") {
			return fmt.Errorf("hook warned: %s", out)
		}
		if err := want(out, p.k2+": installed dnsmon", "signature verified"); err != nil {
			return err
		}
		info, err := modinfo.ReadFile(context.Background(), k2dir+"/updates/dnsmon.ko", 0)
		if err != nil {
			return err
		}
		if v, _ := modinfo.ParseVermagic(info.Vermagic); v.Release != p.k2 {
			return fmt.Errorf("pre-staged module is for %q, not %q", v.Release, p.k2)
		}
		dep, _ := os.ReadFile(k2dir + "/modules.dep")
		return want(string(dep), "updates/dnsmon.ko:")
	})
	r.step("hook-no-module", func() error {
		out, err := inRoot("/bin/sh", "/etc/kernel/postinst.d/dnsmon", "9.9.9-none-amd64")
		if err != nil {
			return fmt.Errorf("the hook failed the package manager: %w", err)
		}
		return want(out, "NO MODULE YET", "WARNING: dnsmon: NO dnsmon module installed for kernel 9.9.9-none-amd64",
			"WARNING: dnsmon will NOT be loaded after booting 9.9.9-none-amd64")
	})
	r.step("uninstall", func() error {
		out, err := inRoot("/usr/local/sbin/dnsmon-load", "--uninstall")
		if err != nil {
			return err
		}
		return want(out, "uninstalled dnsmon")
	})
	r.step("uninstall-again", func() error {
		out, err := tool("dnsmon-load", "--uninstall", "--root", diskRoot)
		if err != nil {
			return err
		}
		return want(out, "dnsmon is not installed")
	})
	r.step("disk-restored", func() error {
		if p.k2 != "" {
			ents, _ := os.ReadDir(k2dir)
			var left []string
			for _, e := range ents {
				left = append(left, e.Name())
			}
			if strings.Join(left, " ") != strings.Join(fixture, " ") {
				return fmt.Errorf("%s holds %q after uninstall, want the kernel's own %q", k2dir, left, fixture)
			}
			if err := os.RemoveAll(k2dir); err != nil {
				return err
			}
		}
		b, err := os.ReadFile("/persist/before.txt")
		if err != nil {
			return err
		}
		before := strings.Split(strings.TrimSpace(string(b)), "\n")
		after, err := snapshot()
		if err != nil {
			return err
		}
		var diff []string
		for _, l := range after {
			if !slices.Contains(before, l) {
				diff = append(diff, "+ "+l)
			}
		}
		for _, l := range before {
			if !slices.Contains(after, l) {
				diff = append(diff, "- "+l)
			}
		}
		if len(diff) > 0 {
			return fmt.Errorf("the disk differs from before the install:\n%s", strings.Join(diff, "\n"))
		}
		fmt.Printf("guestinit: disk after uninstall equals the disk before install (%d paths)\n", len(after))
		return nil
	})
}

// query sends a DNS query and waits for the module's kernel log line.
func (p *persist) query(name string) error {
	if _, err := p.r.client("dq-persist", 0, false, "-name", name, "-wait", "0"); err != nil {
		return err
	}
	want := "dnsmon: DNS Query for " + name + " from PID "
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if log, err := kernelLog(); err == nil && strings.Contains(log, want) {
			return nil
		}
	}
	return fmt.Errorf("no %q line in the kernel log", want)
}
