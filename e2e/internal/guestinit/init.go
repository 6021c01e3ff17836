package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"golang.org/x/sys/unix"
)

// errSkip marks a scenario that could not run (a tool is missing).
var errSkip = errors.New("skipped")

// runner runs the scenarios in order and prints a verdict line for each.
type runner struct {
	initNetns uint64
	watch     *watcher
	failed    int
	passed    int
	clients   map[string]bool
}

func runInit() {
	t0 := time.Now()
	if err := mountAll(); err != nil {
		fmt.Println("guestinit: ", err)
	}
	// Reopen the console now that devtmpfs is mounted, in case the kernel
	// found no /dev/console.
	if f, err := os.OpenFile("/dev/console", os.O_RDWR, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			_ = unix.Dup2(int(f.Fd()), fd)
		}
	}
	// Keep kernel messages below warnings off the console; the log is read
	// with syslog(2) instead.
	_ = os.WriteFile("/proc/sys/kernel/printk", []byte("4 4 1 7"), 0o644)
	fmt.Printf("guestinit: kernel %s, init started after %v\n", kernelRelease(), time.Since(t0))
	if bootParam(proto.BenchMode) {
		runBench() // prints the done line and powers off
	}
	if bootParam(proto.DemoMode) {
		runDemo() // prints the done line and powers off
	}
	if bootParam(proto.StressMode) {
		runStress() // prints the done line and powers off
	}
	r := &runner{clients: map[string]bool{}}
	r.run()
	fmt.Printf("%s {\"passed\":%d,\"failed\":%d}\n", proto.DonePrefix, r.passed, r.failed)
	powerOff()
}

func (r *runner) report(name string, t0 time.Time, err error) bool {
	v := proto.Verdict{Scenario: name, Status: proto.Pass, Ms: time.Since(t0).Milliseconds()}
	switch {
	case errors.Is(err, errSkip):
		v.Status, v.Detail = proto.Skip, err.Error()
	case err != nil:
		v.Status, v.Detail = proto.Fail, err.Error()
		r.failed++
	default:
		r.passed++
	}
	// One write per line so that kernel output does not split it.
	os.Stdout.WriteString(v.Format() + "\n")
	return err == nil
}

// step runs one scenario.
func (r *runner) step(name string, fn func() error) bool {
	t0 := time.Now()
	return r.report(name, t0, fn())
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func (r *runner) run() {
	var err error
	r.initNetns, err = netnsInode()
	if !r.step("boot", func() error { return r.boot(err) }) {
		return
	}
	if !exists("/bin/dnsmon-load") || !exists("/dnsmon.ko") {
		r.report("load", time.Now(), fmt.Errorf("%w: /bin/dnsmon-load or /dnsmon.ko not in the initramfs", errSkip))
		return
	}
	if !r.step("load", func() error { return r.load("ports=53,5353", fmt.Sprintf("answer_timeout=%d", answerTimeout)) }) {
		r.step("dmesg-clean", r.dmesgClean)
		return
	}
	r.step("load-twice", r.loadTwice)
	if !exists("/bin/dnsmon-watch") {
		r.report("watch", time.Now(), fmt.Errorf("%w: /bin/dnsmon-watch not in the initramfs", errSkip))
	} else if r.step("watch", r.startWatch) {
		for _, q := range queries {
			r.step(q.scenario, func() error { return r.query(q) })
		}
		r.answers()
		r.malformed()
		r.tcp()
		r.step("klog-line", r.klogLine)
		r.step("unload-busy", r.unloadBusy)
		if err := r.watch.stop(); err != nil {
			fmt.Println("guestinit: dnsmon-watch:", err)
		}
	}
	r.step("unload", r.unload)
	r.step("unload-again", r.unloadAgain)
	// dnsmon-load decompresses in user space and hands finit_module a
	// memfd: the kernel must accept that as it does the plain file.
	for _, c := range []struct{ scenario, path string }{
		{"load-zst", "/dnsmon.ko.zst"},
		{"load-xz", "/dnsmon.ko.xz"},
	} {
		if exists(c.path) {
			r.step(c.scenario, func() error { return r.loadCompressed(c.path) })
		}
	}
	if exists("/bin/dnsmon-watch") {
		r.step("flood", r.flood)
	}
	r.step("dmesg-clean", r.dmesgClean)
}

// boot proves the harness without the module: lo is up and the responder
// answers the test clients over every transport.
func (r *runner) boot(nsErr error) error {
	if nsErr != nil {
		return nsErr
	}
	if err := loUp(); err != nil {
		return err
	}
	announceSanitizers()
	if err := startResponder(53, 5353, 5354); err != nil {
		return err
	}
	for _, nw := range []struct{ net, addr string }{
		{"udp4", "127.0.0.1:53"}, {"udp6", "[::1]:53"}, {"tcp4", "127.0.0.1:53"}, {"tcp6", "[::1]:53"},
	} {
		rep, err := r.client("dq-selftest", 0, false, "-net", nw.net, "-addr", nw.addr, "-name", "selftest.dnsmon.test")
		if err != nil {
			return err
		}
		if rep.Replies != 1 {
			return fmt.Errorf("%s %s: no reply from the responder", nw.net, nw.addr)
		}
	}
	return nil
}

// client runs a copy of this binary named comm as a test client.
func (r *runner) client(comm string, uid int, newNet bool, args ...string) (clientReport, error) {
	path := "/bin/" + comm
	if !r.clients[comm] {
		if err := os.Symlink("/init", path); err != nil && !errors.Is(err, os.ErrExist) {
			return clientReport{}, err
		}
		r.clients[comm] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"client"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if uid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), NoSetGroups: true}
	}
	if newNet {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var rep clientReport
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		return rep, fmt.Errorf("client %s: %v (stdout %q, stderr %q)", comm, err, out, stderr.String())
	}
	if rep.Err != "" {
		return rep, fmt.Errorf("client %s: %s", comm, rep.Err)
	}
	return rep, nil
}

// tool runs one of our binaries and returns its combined output.
func tool(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join("/bin", name), args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func waitFor(p string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if exists(p) {
			return true
		}
	}
	return exists(p)
}

func (r *runner) load(params ...string) error {
	out, err := tool("dnsmon-load", append([]string{"/dnsmon.ko"}, params...)...)
	if err != nil {
		return fmt.Errorf("dnsmon-load: %v: %s", err, out)
	}
	if !exists("/sys/module/dnsmon") {
		return fmt.Errorf("dnsmon-load succeeded but /sys/module/dnsmon is missing (output %q)", out)
	}
	// /dnsmon.ko did not come through dnsmon-fetch: it loads, and says so.
	if !strings.Contains(out, "NOT VERIFIED") {
		return fmt.Errorf("dnsmon-load did not report /dnsmon.ko as not verified by dnsmon-fetch: %q", out)
	}
	if !waitFor("/dev/dnsmon", 3*time.Second) {
		return errors.New("module loaded but /dev/dnsmon did not appear")
	}
	return nil
}

// loadCompressed loads a compressed copy of the module and unloads it.
func (r *runner) loadCompressed(path string) error {
	out, err := tool("dnsmon-load", path)
	if err != nil {
		return fmt.Errorf("dnsmon-load %s: %v: %s", path, err, out)
	}
	if !exists("/sys/module/dnsmon") {
		return fmt.Errorf("dnsmon-load %s succeeded but /sys/module/dnsmon is missing (output %q)", path, out)
	}
	return r.unload()
}

func (r *runner) loadTwice() error {
	out, err := tool("dnsmon-load", "/dnsmon.ko")
	if err == nil {
		return fmt.Errorf("second load succeeded: %q", out)
	}
	if !strings.Contains(strings.ToLower(out), "already loaded") {
		return fmt.Errorf("second load failed without saying \"already loaded\": %q", out)
	}
	return nil
}

func (r *runner) startWatch() error {
	w, err := startWatcher("--json")
	if err != nil {
		return err
	}
	r.watch = w
	// Prove the watcher reads before the scenarios rely on it.
	if _, err := r.client("dq-warmup", 0, false, "-name", "warmup.dnsmon.test", "-wait", "0"); err != nil {
		return err
	}
	_, _, err = w.waitQname(0, "warmup.dnsmon.test", 15*time.Second)
	return err
}

func (r *runner) unloadBusy() error {
	out, err := tool("dnsmon-load", "--unload")
	if err == nil {
		return fmt.Errorf("unload succeeded while dnsmon-watch holds /dev/dnsmon: %q", out)
	}
	if !exists("/sys/module/dnsmon") {
		return fmt.Errorf("unload reported failure but the module is gone: %q", out)
	}
	low := strings.ToLower(out)
	if !strings.Contains(low, "in use") && !strings.Contains(low, "busy") {
		return fmt.Errorf("refused unload does not say the module is in use: %q", out)
	}
	return nil
}

func (r *runner) unload() error {
	out, err := tool("dnsmon-load", "--unload")
	if err != nil {
		return fmt.Errorf("dnsmon-load --unload: %v: %s", err, out)
	}
	if exists("/sys/module/dnsmon") {
		return fmt.Errorf("module still loaded after unload (output %q)", out)
	}
	if exists("/dev/dnsmon") && waitGone("/dev/dnsmon", 2*time.Second) != nil {
		return errors.New("/dev/dnsmon remains after unload")
	}
	return nil
}

func waitGone(p string, d time.Duration) error {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !exists(p) {
			return nil
		}
	}
	return fmt.Errorf("%s still exists", p)
}

func (r *runner) unloadAgain() error {
	out, _ := tool("dnsmon-load", "--unload")
	if !strings.Contains(strings.ToLower(out), "not loaded") {
		return fmt.Errorf("unloading an absent module does not say \"not loaded\": %q", out)
	}
	return nil
}

// sanitizerBanners are what a kernel prints at boot when KASAN, KFENCE or
// lockdep is on, below the console's log level.
var sanitizerBanners = []string{"KernelAddressSanitizer initialized", "kfence: initialized", "Lock dependency validator"}

// announceSanitizers copies the kernel log's sanitizer banners to the
// console, so that the host sees which sanitizers the guest runs under.
func announceSanitizers() {
	log, err := kernelLog()
	if err != nil {
		return
	}
	for _, l := range strings.Split(log, "\n") {
		for _, b := range sanitizerBanners {
			if strings.Contains(l, b) {
				fmt.Println("guestinit: kernel:", strings.TrimSpace(l))
				break
			}
		}
	}
}

// badKernelLog are the markers of a kernel in trouble.
var badKernelLog = []string{"BUG", "WARNING", "Oops", "general protection"}

func (r *runner) dmesgClean() error {
	log, err := kernelLog()
	if err != nil {
		return err
	}
	var bad []string
	for _, l := range strings.Split(log, "\n") {
		for _, m := range badKernelLog {
			if strings.Contains(l, m) {
				bad = append(bad, strings.TrimSpace(l))
				break
			}
		}
	}
	taint, _ := os.ReadFile("/proc/sys/kernel/tainted")
	t := atoi(string(taint))
	// W (warning, bit 9) and D (died, bit 7) taints.
	if t&(1<<9|1<<7) != 0 {
		bad = append(bad, fmt.Sprintf("kernel tainted %d (W or D set)", t))
	}
	if len(bad) > 0 {
		if len(bad) > 10 {
			bad = bad[:10]
		}
		return fmt.Errorf("kernel log: %s", strings.Join(bad, " | "))
	}
	return nil
}

func (r *runner) klogLine() error {
	log, err := kernelLog()
	if err != nil {
		return err
	}
	want := "dnsmon: DNS Query for udp4.dnsmon.test from PID "
	if !strings.Contains(log, want) {
		var got []string
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, "dnsmon") {
				got = append(got, l)
			}
		}
		if len(got) > 5 {
			got = got[len(got)-5:]
		}
		return fmt.Errorf("no %q line in the kernel log; dnsmon lines: %q", want, got)
	}
	return nil
}
