package e2e

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
)

// stressKernels are booted SMP for the unload race: the oldest and the
// newest kernel line the guests reach (both free hook entries with
// call_rcu, without waiting for hooks running on other CPUs).
var stressKernels = []guestKernel{
	{"bookworm", "amd64"},
	{"experimental", "amd64"},
}

// TestUnloadUnderLoad boots each stress kernel with two CPUs and loads and
// unloads the module up to 200 times while both CPUs send DNS over UDP and
// TCP and readers open, poll, read and close /dev/dnsmon; the kernel log
// must stay clean (no oops, BUG, WARNING or taint).
func TestUnloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("boots qemu guests")
	}
	ctx := t.Context()
	c, root := guestSetup(t)
	tools, err := BuildTools(ctx, root, t.TempDir(), GuestTools[:1])
	if err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(c.CacheRoot(), "guest-logs")
	for _, gk := range kernelsFromEnv("DNSMON_STRESS_KERNELS", stressKernels) {
		// One at a time: two 2-CPU TCG guests on a 2-core host, beside
		// the builds of other packages' tests, starve each other's vCPUs
		// into RCU stalls at boot (seen with 5.10).
		t.Run(gk.name(), func(t *testing.T) {
			gp, err := prepareGuest(ctx, c, root, gk, moduleSource(root, io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			k, vmlinuz, ko := gp.k, gp.vmlinuz, gp.ko
			initrd := filepath.Join(t.TempDir(), "initramfs.cpio")
			if err := WriteInitramfs(initrd, append(append([]InitramfsFile(nil), tools...),
				InitramfsFile{Path: "/dnsmon.ko", Source: ko, Mode: 0o644})); err != nil {
				t.Fatal(err)
			}
			logPath, err := NewLogPath(logDir, "stress-"+k.Release)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(ctx, Boot{Kernel: vmlinuz, Initrd: initrd, LogPath: logPath, CPUs: 2,
				Append: proto.StressMode, Timeout: 4 * time.Minute})
			failed := err != nil
			if err != nil {
				t.Error(err)
			}
			if b, rerr := os.ReadFile(logPath); rerr == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if strings.Contains(l, "guestinit: unload-under-load:") {
						t.Logf("%s: %s", k.Release, strings.TrimSpace(strings.TrimPrefix(l, "guestinit: ")))
					}
				}
			}
			want := map[string]bool{"boot": true, "unload-under-load": true, "dmesg-clean": true}
			for _, v := range r.Verdicts {
				delete(want, v.Scenario)
				if v.Status != Pass {
					failed = true
					t.Errorf("%s: %s %s: %s", k.Release, v.Scenario, v.Status, v.Detail)
				} else {
					t.Logf("%s: %s pass (%d ms)", k.Release, v.Scenario, v.Ms)
				}
			}
			for s := range want {
				failed = true
				t.Errorf("%s: no verdict for %s", k.Release, s)
			}
			if failed || os.Getenv("DNSMON_GUEST_KEEP_LOGS") != "" {
				t.Logf("console log kept: %s", logPath)
			} else {
				os.Remove(logPath)
			}
		})
	}
}
