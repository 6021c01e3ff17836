package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
)

// sanitizerBanners are printed at boot by a kernel whose sanitizers are
// on, and copied to the console by the guest's init; a console without
// them means the guest did not run the kernel the tier is about.
var sanitizerBanners = []string{
	"kasan: KernelAddressSanitizer initialized",
	"kfence: initialized",
	"Lock dependency validator",
}

// sanitizerReports mark a kernel report in the console: a sanitizer's
// (BUG: KASAN:, BUG: KFENCE:, lockdep's and PROVE_RCU's WARNING:,
// DEBUG_LIST's corruption) or any other oops or panic.
var sanitizerReports = []string{"BUG:", "WARNING:", "KASAN:", "KFENCE:", "Oops", "Kernel panic", "corruption", "suspicious RCU"}

// TestSanitizer boots the sanitizer kernel (KASAN, KFENCE, lockdep,
// PROVE_RCU, DEBUG_ATOMIC_SLEEP, DEBUG_LIST; panic_on_warn=1
// kasan.fault=panic) with two CPUs, in two guests side by side: one
// through every guest scenario (UDP and TCP over IPv4 and IPv6, the TCP
// stream cases, the malformed queries, namespaces), one in stress mode
// (load and unload in a loop under UDP and TCP floods, readers racing the
// unload, namespaces made and destroyed). Any report panics the guest before it says done; the console
// is also searched for one.
func TestSanitizer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a kernel and boots qemu guests")
	}
	ctx := t.Context()
	c, root := guestSetup(t)
	k, err := BuildSanitizerKernel(ctx, c, testLogWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	bootSanitizer(t, k, root, filepath.Join(c.CacheRoot(), "guest-logs"))
}

// TestSanitizerKernel only builds the sanitizer kernel: `make test` runs it
// in the background at the lowest CPU priority from its start, so that the
// build uses the time the other tests wait on the network, and
// TestSanitizer finds the kernel built or waits for it.
func TestSanitizerKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a kernel")
	}
	c, _ := guestSetup(t)
	if _, err := BuildSanitizerKernel(t.Context(), c, testLogWriter{t}); err != nil {
		t.Fatal(err)
	}
}

// bootSanitizer builds the module against k and boots k through the
// scenarios and the stress, logging into logDir.
func bootSanitizer(t *testing.T, k SanitizerKernel, root, logDir string) {
	ctx := t.Context()
	ko, err := k.BuildModule(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files, err := BuildTools(ctx, root, t.TempDir(), GuestTools)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, InitramfsFile{Path: "/dnsmon.ko", Source: ko, Mode: 0o644})
	compressed, err := compressedModules(t.TempDir(), ko)
	if err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(t.TempDir(), "initramfs.cpio")
	if err := WriteInitramfs(initrd, append(files, compressed...)); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name, append string
		timeout      time.Duration
		want         []string // scenarios that must pass
	}{
		{"scenarios", "", 10 * time.Minute, []string{"boot", "load", "watch", "udp4", "udp6", "tcp4", "tcp6", "netns",
			"malformed/pointer-loop", "malformed/dot-in-label", "tcp/two-in-one-segment/6", "tcp/retransmitted-query/4",
			"tcp/segment-starts-mid-message/6", "unload-busy", "unload", "load-zst", "flood", "dmesg-clean"}},
		{"stress", proto.StressMode + " " + proto.StressSeconds + "=90", 10 * time.Minute, []string{"boot", "unload-under-load", "dmesg-clean"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			// Each guest's vCPUs take turns on one host thread: the two
			// guests side by side use two cores.
			t.Parallel()
			ctx := t.Context()
			logPath, err := NewLogPath(logDir, "sanitizer-"+mode.name+"-"+k.Release)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(ctx, Boot{Kernel: k.Vmlinuz, Initrd: initrd, LogPath: logPath, CPUs: 2,
				Append: SanitizerBootArgs + " " + mode.append, Timeout: mode.timeout})
			failed := err != nil
			if err != nil {
				t.Error(err)
			}
			t.Logf("%s on %s (%s): %d verdicts in %v", mode.name, k.Release, k.Package, len(r.Verdicts), r.Elapsed.Round(time.Second))
			want := map[string]bool{}
			for _, s := range mode.want {
				want[s] = true
			}
			for _, v := range r.Verdicts {
				delete(want, v.Scenario)
				switch v.Status {
				case Pass:
				case Skip:
					t.Logf("%s skipped: %s", v.Scenario, v.Detail)
				default:
					failed = true
					t.Errorf("%s %s: %s", v.Scenario, v.Status, v.Detail)
				}
			}
			for s := range want {
				failed = true
				t.Errorf("no verdict for %s", s)
			}
			console, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			var announced strings.Builder
			for _, l := range strings.Split(string(console), "\n") {
				switch {
				case strings.HasPrefix(l, "guestinit: kernel: "):
					announced.WriteString(l + "\n")
				case strings.HasPrefix(l, "guestinit: unload-under-load:"):
					t.Log(strings.TrimSpace(strings.TrimPrefix(l, "guestinit: ")))
				}
			}
			for _, b := range sanitizerBanners {
				if !strings.Contains(announced.String(), b) {
					failed = true
					t.Errorf("the console lacks %q: the guest did not boot a sanitizer kernel", b)
				}
			}
			if bad := reportLines(string(console)); len(bad) > 0 {
				failed = true
				t.Errorf("kernel reports in the console:\n%s", strings.Join(bad, "\n"))
			}
			if failed || os.Getenv("DNSMON_GUEST_KEEP_LOGS") != "" {
				t.Logf("console log kept: %s", logPath)
			} else {
				os.Remove(logPath)
			}
		})
	}
}

// reportLines returns the console lines that carry a kernel report, at most
// 40 of them.
func reportLines(console string) []string {
	var bad []string
	for _, l := range strings.Split(console, "\n") {
		for _, m := range sanitizerReports {
			if strings.Contains(l, m) {
				bad = append(bad, strings.TrimSpace(l))
				break
			}
		}
		if len(bad) == 40 {
			break
		}
	}
	return bad
}

// testLogWriter sends progress lines to the test log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestCheckConfig(t *testing.T) {
	const fragment = "# comment\nCONFIG_KASAN=y\nCONFIG_NR_CPUS=8\nCONFIG_RANDOMIZE_BASE=n\n"
	for _, tc := range []struct {
		name, config string
		bad          []string // substrings of the error; none: no error
	}{
		{"all held", "CONFIG_KASAN=y\nCONFIG_NR_CPUS=8\n# CONFIG_RANDOMIZE_BASE is not set\n", nil},
		{"dropped", "CONFIG_NR_CPUS=8\n", []string{"CONFIG_KASAN is not set (asked: y)"}},
		{"other value", "CONFIG_KASAN=y\nCONFIG_NR_CPUS=64\n", []string{"CONFIG_NR_CPUS is 64 (asked: 8)"}},
		{"set though asked off", "CONFIG_KASAN=y\nCONFIG_NR_CPUS=8\nCONFIG_RANDOMIZE_BASE=y\n",
			[]string{"CONFIG_RANDOMIZE_BASE=y (asked: not set)"}},
		{"several", "", []string{"CONFIG_KASAN", "CONFIG_NR_CPUS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkConfig(fragment, tc.config)
			if len(tc.bad) == 0 {
				if err != nil {
					t.Fatalf("checkConfig: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("checkConfig: no error")
			}
			for _, b := range tc.bad {
				if !strings.Contains(err.Error(), b) {
					t.Errorf("error %q lacks %q", err, b)
				}
			}
		})
	}
}

func TestReportLines(t *testing.T) {
	console := strings.Join([]string{
		"[    0.000000] kasan: KernelAddressSanitizer initialized (generic)",
		"[    0.100000] kfence: initialized - using 2097152 bytes for 255 objects",
		"[   12.000000] BUG: KASAN: slab-use-after-free in dnsmon_hook+0x12/0x40 [dnsmon]",
		"guestinit: verdict udp4 pass",
		"[   13.000000] WARNING: suspicious RCU usage",
		"[   14.000000] list_add corruption. prev->next should be next",
	}, "\n")
	got := reportLines(console)
	if len(got) != 3 || !strings.Contains(got[0], "slab-use-after-free") || !strings.Contains(got[2], "list_add") {
		t.Fatalf("reportLines = %q, want the KASAN, RCU and list lines", got)
	}
}
