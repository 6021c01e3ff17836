package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// guestKernel is one row of the guest matrix: the newest kernel of a suite
// and flavour, resolved at run time.
type guestKernel struct {
	suite, flavour string
}

// guestKernels are the kernels `make test` boots: Debian's 5.10, 6.1,
// 6.12, 7.2, 7.3 and one PREEMPT_RT kernel, and one kernel of each of
// Ubuntu's version lines, 4.4, 4.15, 5.4, 5.15, 6.8 and 7.0, plus 24.04's
// aws kernel; and Debian's arm64 kernels of bookworm and experimental,
// cross-compiled by the farm and booted on qemu-system-aarch64. The lines
// below 5.10 have the first kernels of the (priv, skb, state) hook and of
// per-namespace hooks, and need the compat shims (in_task, sock_net_uid,
// __poll_t, compat_ptr_ioctl). 26.04's GA kernel is 24.04's HWE one.
// DNSMON_GUEST_KERNELS=suite[:flavour],... narrows the run or names others
// (see GuestKernel); DNSMON_GUEST_KEEP_LOGS=1 keeps passing runs' console
// logs.
var guestKernels = []guestKernel{
	{"bullseye", "amd64"},
	{"bookworm", "amd64"},
	{"bookworm-security", "amd64"},
	{"sid", "amd64"},
	{"experimental", "amd64"},
	{"bookworm", "rt-amd64"},
	{"xenial", "generic"},
	{"xenial", "generic-hwe-16.04"},
	{"focal", "generic"},
	{"jammy", "generic"},
	{"noble", "generic"},
	{"noble", "generic-hwe-24.04"},
	{"noble", "aws"},
	{"bookworm", "arm64"},
	{"experimental", "arm64"},
}

func selectedKernels(t *testing.T) []guestKernel {
	return kernelsFromEnv("DNSMON_GUEST_KERNELS", guestKernels)
}

// name is the subtest's name: "noble/aws", or "noble" for the default
// flavour.
func (gk guestKernel) name() string {
	if gk.flavour == "" {
		return gk.suite
	}
	return gk.suite + "/" + gk.flavour
}

// kernelsFromEnv reads a list of SUITE[:FLAVOUR] from the environment
// variable name, or returns def when it is unset. A missing flavour is the
// distribution's default (GuestKernel).
func kernelsFromEnv(name string, def []guestKernel) []guestKernel {
	env := os.Getenv(name)
	if env == "" {
		return def
	}
	var ks []guestKernel
	for _, s := range strings.Split(env, ",") {
		suite, flavour, _ := strings.Cut(strings.TrimSpace(s), ":")
		ks = append(ks, guestKernel{suite, flavour})
	}
	return ks
}

// moduleSource is where the guests get dnsmon.ko: the builder farm, in
// each suite's builder image, as kernels.yaml describes it.
func moduleSource(root string, log io.Writer) ModuleSource {
	return &FarmModules{
		KernelsFile: filepath.Join(root, "kernels.yaml"),
		Options:     []builder.Option{builder.WithLog(log)},
	}
}

// results collects kernel × scenario verdicts for the summary table.
type results struct {
	mu      sync.Mutex
	kernels []string
	cells   map[string]map[string]string
	order   []string
}

func (r *results) add(kernel string, vs []Verdict, extra map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cells == nil {
		r.cells = map[string]map[string]string{}
	}
	if _, ok := r.cells[kernel]; !ok {
		r.kernels = append(r.kernels, kernel)
		r.cells[kernel] = map[string]string{}
	}
	seen := map[string]bool{}
	for _, s := range r.order {
		seen[s] = true
	}
	put := func(s, v string) {
		if !seen[s] {
			r.order = append(r.order, s)
			seen[s] = true
		}
		r.cells[kernel][s] = v
	}
	for _, v := range vs {
		put(v.Scenario, v.Status)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		put(k, extra[k])
	}
}

func (r *results) table() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	w := 24
	for _, s := range r.order {
		w = max(w, len(s)+2)
	}
	fmt.Fprintf(&b, "%-*s", w, "scenario")
	for _, k := range r.kernels {
		fmt.Fprintf(&b, " %-24s", k)
	}
	b.WriteString("\n")
	for _, s := range r.order {
		fmt.Fprintf(&b, "%-*s", w, s)
		for _, k := range r.kernels {
			v := r.cells[k][s]
			if v == "" {
				v = "-"
			}
			fmt.Fprintf(&b, " %-24s", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// guestSetup returns what every guest test and benchmark starts from: the
// Debian client, which resolves kernels through the shared cache, and the
// repository root.
func guestSetup(tb testing.TB) (*debian.Client, string) {
	tb.Helper()
	c, err := debian.NewClient()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := RepoRoot(".")
	if err != nil {
		tb.Fatal(err)
	}
	return c, root
}

func TestGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("boots qemu guests")
	}
	ctx := t.Context()
	c, root := guestSetup(t)
	tools := &archTools{root: root, dir: t.TempDir(), tools: GuestTools}
	logDir := filepath.Join(c.CacheRoot(), "guest-logs")
	res := &results{}
	t.Cleanup(func() {
		tab := res.table()
		fmt.Printf("\nguest results (kernel × scenario):\n%s\n", tab)
		_ = os.MkdirAll(logDir, 0o755)
		_ = os.WriteFile(filepath.Join(logDir, "summary.txt"), []byte(tab), 0o644)
	})
	// At most prepLimit guests resolve, download and build at once: those
	// steps wait mostly on the network, so they run ahead of the boots.
	prepSlots := make(chan struct{}, prepLimit)
	for _, gk := range selectedKernels(t) {
		t.Run(gk.name(), func(t *testing.T) {
			p := startPrepare(ctx, prepSlots, func() (guestPrep, error) {
				return prepareGuest(ctx, c, root, gk, moduleSource(root, io.Discard))
			})
			// Guests boot side by side, as many as go test's -parallel
			// (the number of cores): each -smp 1 TCG guest keeps one
			// core busy, and the next kernels' modules build meanwhile.
			t.Parallel()
			gp, err := p.wait(ctx)
			if gp.k.Release == "" {
				t.Fatal(err)
			}
			k := gp.k
			label := k.Release
			extra := map[string]string{}
			defer func() { res.add(label, nil, extra) }()
			if gp.vmlinuz == "" {
				extra["kernel"] = "fail"
				t.Fatal(err)
			}
			vmlinuz := gp.vmlinuz
			progs, terr := tools.get(ctx, k.Arch())
			if terr != nil {
				t.Fatal(terr)
			}
			files := append([]InitramfsFile(nil), progs...)
			ko := gp.ko
			if err != nil {
				extra["build"] = "fail"
				t.Error(err)
			} else {
				extra["build"] = "pass"
				files = append(files, InitramfsFile{Path: "/dnsmon.ko", Source: ko, Mode: 0o644})
				compressed, err := compressedModules(t.TempDir(), ko)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, compressed...)
				t.Logf("module for %s built in %v: %s", k.Release, gp.build.Round(time.Millisecond), ko)
			}
			initrd := filepath.Join(t.TempDir(), "initramfs.cpio")
			if err := WriteInitramfs(initrd, files); err != nil {
				t.Fatal(err)
			}
			logPath, err := NewLogPath(logDir, k.Release)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(ctx, Boot{Kernel: vmlinuz, Initrd: initrd, LogPath: logPath, Arch: k.Arch(), Timeout: 2 * time.Minute})
			res.add(label, r.Verdicts, nil)
			t.Logf("%s: %d verdicts in %v", k.Release, len(r.Verdicts), r.Elapsed.Round(time.Millisecond))
			failed := err != nil
			if err != nil {
				extra["done"] = "fail"
				t.Error(err)
			} else {
				extra["done"] = "pass"
			}
			for _, v := range r.Verdicts {
				switch v.Status {
				case Fail:
					failed = true
					t.Errorf("%s: %s: %s", k.Release, v.Scenario, v.Detail)
				case Skip:
					t.Logf("%s: %s skipped: %s", k.Release, v.Scenario, v.Detail)
				}
			}
			if failed || os.Getenv("DNSMON_GUEST_KEEP_LOGS") != "" {
				t.Logf("console log kept: %s", logPath)
			} else {
				os.Remove(logPath)
			}
		})
	}
}

// archTools builds the guest programs once per architecture.
type archTools struct {
	root, dir string
	tools     []Tool

	mu    sync.Mutex
	built map[string][]InitramfsFile
}

func (a *archTools) get(ctx context.Context, arch string) ([]InitramfsFile, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if files, ok := a.built[arch]; ok {
		return files, nil
	}
	dir := filepath.Join(a.dir, arch)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files, err := BuildToolsFor(ctx, a.root, dir, arch, a.tools)
	if err != nil {
		return nil, err
	}
	if a.built == nil {
		a.built = map[string][]InitramfsFile{}
	}
	a.built[arch] = files
	return files, nil
}

// prepLimit is how many guests prepare at once (see TestGuest).
const prepLimit = 3

// guestPrep is what a guest boots: its kernel, resolved and downloaded, and
// the module built for it. A failed step leaves its field and the later
// ones empty.
type guestPrep struct {
	k       debian.Kernel
	vmlinuz string
	ko      string
	build   time.Duration // how long the module took
}

// prepareGuest resolves gk, downloads its kernel and gets its module from
// src. Its error names the step that failed.
func prepareGuest(ctx context.Context, c *debian.Client, root string, gk guestKernel, src ModuleSource) (guestPrep, error) {
	var gp guestPrep
	k, err := GuestKernel(ctx, c, filepath.Join(root, "kernels.yaml"), gk.suite, gk.flavour)
	if err != nil {
		return gp, fmt.Errorf("resolving kernel: %w", err)
	}
	gp.k = k
	if gp.vmlinuz, err = Vmlinuz(ctx, c, k); err != nil {
		return gp, fmt.Errorf("getting kernel: %w", err)
	}
	start := time.Now()
	ko, err := src.Module(ctx, k)
	if err != nil {
		return gp, fmt.Errorf("building module for %s: %w", k.Release, err)
	}
	gp.ko, gp.build = ko, time.Since(start)
	return gp, nil
}

// pending is a guestPrep being made in the background.
type pending struct {
	done chan struct{}
	gp   guestPrep
	err  error
}

// startPrepare runs prepare once a slot is free, without waiting for it.
func startPrepare(ctx context.Context, slots chan struct{}, prepare func() (guestPrep, error)) *pending {
	p := &pending{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-ctx.Done():
			p.err = ctx.Err()
			return
		}
		p.gp, p.err = prepare()
	}()
	return p
}

func (p *pending) wait(ctx context.Context) (guestPrep, error) {
	select {
	case <-p.done:
		return p.gp, p.err
	case <-ctx.Done():
		return guestPrep{}, ctx.Err()
	}
}

// compressedModules writes dnsmon.ko.zst and dnsmon.ko.xz copies of ko into
// dir, as distributions ship modules, for the guest's load-zst and load-xz
// scenarios.
func compressedModules(dir, ko string) ([]InitramfsFile, error) {
	raw, err := os.ReadFile(ko)
	if err != nil {
		return nil, err
	}
	var zst, xzb bytes.Buffer
	zw, err := zstd.NewWriter(&zst)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	xw, err := xz.NewWriter(&xzb)
	if err != nil {
		return nil, err
	}
	if _, err := xw.Write(raw); err != nil {
		return nil, err
	}
	if err := xw.Close(); err != nil {
		return nil, err
	}
	var files []InitramfsFile
	for name, b := range map[string][]byte{"dnsmon.ko.zst": zst.Bytes(), "dnsmon.ko.xz": xzb.Bytes()} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		files = append(files, InitramfsFile{Path: "/" + name, Source: p, Mode: 0o644})
	}
	return files, nil
}
