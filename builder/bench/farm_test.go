package bench

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// farmCommand reproduces the rows of BenchmarkFarm.
const farmCommand = "go test -run '^$' -bench '^BenchmarkFarm$' -benchtime 1x -timeout 90m ./builder/bench"

// BenchmarkFarm measures the build farm on the reachable Debian amd64
// matrix (the targets `make demo` builds, `dnsmon-farm build --only
// '^debian-[^/]*/.*-amd64$'`: the arm64 ones are cross-compiled beside
// them, and left out so the figures compare across versions) and then the
// distribution path on what it published. It runs once whatever b.N is
// (use -benchtime 1x) and appends its rows to $BENCH_OUT/rows.jsonl.
//
//   - cold (BENCH_COLD=1 only: it removes every builder image, header
//     tree and downloaded header package first, several minutes of
//     debootstrap; debootstrap's own package cache stays);
//   - warm: images cached, module source changed by a comment, so every
//     target is built and published (median of BENCH_FARM_RUNS, default 5);
//   - no-op: nothing changed (median of BENCH_NOOP_RUNS, default 5);
//   - the floor: `make` alone for every target in its headers image,
//     summed and divided by the jobs (Floor), before the first warm run
//     and after each; warm / floor with each warm run against the floors
//     around it; also with one kernel's make standing for every target;
//   - a new kernel (when the one kernel builds from a header tree): its
//     header packages and tree removed, built alone, then again with its
//     headers cached against its raw make (BENCH_NEW_RUNS, default 5);
//   - fetch-and-verify from a loopback registry and from a bundle (median
//     of BENCH_FETCH_RUNS, default 10), artifact and bundle sizes, and the
//     sizes of the binaries in bin/ (`make build` first).
//
// Each warm run publishes, signed, to a fresh in-process registry.
// BENCH_FARM_ONLY replaces the target filter.
func BenchmarkFarm(b *testing.B) {
	ctx := b.Context()
	r := newBenchRun(b, "BENCH_FARM_ONLY", `^debian-[^/]*/.*-amd64$`)
	root, f, add, src := r.root, r.f, r.add, r.src
	warmRuns, noopRuns, fetchRuns := envInt("BENCH_FARM_RUNS", 5), envInt("BENCH_NOOP_RUNS", 5), envInt("BENCH_FETCH_RUNS", 10)
	jobs := f.jobs
	r.cold(ctx, "Farm", "targets, ", "debootstrap + headers", farmCommand)

	// The floor is sampled around the warm runs: one raw make of every
	// target, each alone in a fresh container, before the first warm run
	// and after each, and every warm run is compared with the mean of the
	// floors just before and just after it. A shared VM's speed drifts by
	// tens of percent over minutes; bracketing cancels a steady drift.
	// An untimed warm run first finds the targets and brings their
	// images into the page cache.
	rawMakes := map[string][]time.Duration{} // target name → one per floor
	floorSet := func(res []builder.Result, src fs.FS) time.Duration {
		var makes []time.Duration
		for _, r := range res {
			mt, err := rawMake(ctx, r, src, 1)
			if err != nil {
				b.Fatal(err)
			}
			rawMakes[r.Target.Name()] = append(rawMakes[r.Target.Name()], mt)
			makes = append(makes, mt)
		}
		fl, err := Floor(makes, jobs)
		if err != nil {
			b.Fatal(err)
		}
		return fl
	}
	lastSrc := src("warm-up")
	last, _, err := f.build(ctx, lastSrc, true)
	if err != nil {
		b.Fatalf("warm-up build: %v", err)
	}
	floors := []time.Duration{floorSet(last, lastSrc)}
	one := pickOneKernel(last) // every run builds the same targets in the same order
	var warm, perTarget, perOne []time.Duration
	for i := range warmRuns {
		lastSrc = src(fmt.Sprintf("warm %d", i))
		res, d, err := f.build(ctx, lastSrc, true)
		if err != nil {
			b.Fatalf("warm build %d: %v", i+1, err)
		}
		for _, r := range res {
			if r.Status() != "built" {
				b.Fatalf("warm build %d: %s was %s, want built", i+1, r.Target.Name(), r.Status())
			}
			perTarget = append(perTarget, r.Duration)
			if r.Target.Name() == one.Target.Name() {
				perOne = append(perOne, r.Duration)
			}
		}
		warm = append(warm, d)
		last = res
		floors = append(floors, floorSet(res, lastSrc))
		b.Logf("warm run %d: %d targets in %v; floor (Σ raw make ÷ %d) %v before, %v after", i+1, len(res),
			d.Round(time.Millisecond), jobs, floors[i].Round(time.Millisecond), floors[i+1].Round(time.Millisecond))
	}
	warmMed, _ := MedianDuration(warm)
	targets := len(last)
	add(Row{Section: "Farm", Metric: fmt.Sprintf("warm: %d targets (images cached, source changed), built + signed + published, -j %d (median of %d)", targets, jobs, warmRuns),
		Value: Seconds(warmMed), Command: farmCommand})

	var noop []time.Duration
	for i := range noopRuns {
		res, d, err := f.build(ctx, lastSrc, false)
		if err != nil {
			b.Fatalf("no-op build %d: %v", i+1, err)
		}
		for _, r := range res {
			if r.Status() != "cached" {
				b.Fatalf("no-op build %d: %s was %s, want cached", i+1, r.Target.Name(), r.Status())
			}
		}
		noop = append(noop, d)
	}
	noopMed, _ := MedianDuration(noop)
	var resolve []time.Duration
	for range noopRuns {
		t0 := time.Now()
		r, err := matrix.DefaultResolver()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := matrix.LoadTargets(ctx, f.file, r); err != nil {
			b.Fatal(err)
		}
		resolve = append(resolve, time.Since(t0))
	}
	resolveMed, _ := MedianDuration(resolve)
	add(Row{Section: "Farm", Metric: fmt.Sprintf("no-op: %d targets, nothing changed (index lookups + registry checks; median of %d)", targets, noopRuns),
		Value: Seconds(noopMed), Command: farmCommand}.WithGoal("< 2 s", noopMed < 2*time.Second))
	add(Row{Section: "Farm", Metric: fmt.Sprintf("of which: loading kernels.yaml and resolving its tracked kernels from the cached Debian indexes (median of %d)", noopRuns),
		Value: Seconds(resolveMed), Command: farmCommand})

	var perKernel []string
	for _, r := range last {
		m, _ := MedianDuration(rawMakes[r.Target.Name()])
		perKernel = append(perKernel, fmt.Sprintf("%s %.2f s", r.Target.Kernel, m.Seconds()))
	}
	slices.Sort(perKernel)
	add(Row{Section: "Farm", Metric: fmt.Sprintf("raw `make` per kernel, alone in a container of its headers image, every kernel once before the first warm run and after each (median of %d)", len(floors)),
		Value: strings.Join(perKernel, ", "), Command: farmCommand})
	perMed, _ := MedianDuration(perTarget)
	perOneMed, _ := MedianDuration(perOne)
	add(Row{Section: "Farm", Metric: fmt.Sprintf("warm, per target: container + make + strip + copy out + sign + publish, all targets (median of %d) / %s only", len(perTarget), one.Target.Name()),
		Value: Seconds(perMed) + " / " + Seconds(perOneMed), Command: farmCommand})
	floorMed, _ := MedianDuration(floors)
	add(Row{Section: "Farm", Metric: fmt.Sprintf("floor: targets × raw make ÷ jobs, each target with its own raw make (Σ over the %d targets ÷ %d; median of %d)", targets, jobs, len(floors)),
		Value: Seconds(floorMed), Command: farmCommand})
	// The median of the paired ratios: a pair sees one state of the
	// machine, the medians of the two series may not.
	around := func(xs []time.Duration, i int) float64 { return float64(xs[i]+xs[i+1]) / 2 }
	var ratios, oneRatios []float64
	oneMakes := rawMakes[one.Target.Name()]
	for i := range warm {
		ratios = append(ratios, float64(warm[i])/around(floors, i))
		oneRatios = append(oneRatios, float64(warm[i])/(around(oneMakes, i)*float64(targets)/float64(jobs)))
	}
	ratio, _ := Median(ratios)
	add(Row{Section: "Farm", Metric: fmt.Sprintf("warm / floor, each warm run against the mean of the floors just before and after it (median of %d pairs; medians alone: %s / %s = %.2f)",
		len(ratios), Seconds(warmMed), Seconds(floorMed), float64(warmMed)/float64(floorMed)),
		Value: fmt.Sprintf("%.2f", ratio), Command: farmCommand}.WithGoal("≤ 1.3", ratio <= 1.3))
	oneRatio, _ := Median(oneRatios)
	oneMed, _ := MedianDuration(oneMakes)
	add(Row{Section: "Farm", Metric: fmt.Sprintf("the same with one kernel's raw make standing for every target: warm / (%d × %s's raw make ÷ %d), paired likewise (median of %d; %s's raw make: %s)",
		targets, one.Target.Kernel, jobs, len(oneRatios), one.Target.Kernel, Seconds(oneMed)),
		Value: fmt.Sprintf("%.2f", oneRatio), Command: farmCommand})

	if len(one.Module.HeaderBinds) > 0 {
		newRuns := envInt("BENCH_NEW_RUNS", 5)
		nk, err := newKernel(ctx, f, one, newRuns, src)
		if err != nil {
			b.Fatal(err)
		}
		newMed, _ := MedianDuration(nk.fresh)
		cachedMed, _ := MedianDuration(nk.cached)
		rawMed, _ := MedianDuration(nk.raw)
		var ratios []float64
		for i := range nk.cached {
			ratios = append(ratios, float64(nk.cached[i])/float64(nk.raw[i]))
		}
		ratio, _ := Median(ratios)
		add(Row{Section: "Farm", Metric: fmt.Sprintf("a new kernel: %s alone, its header packages and tree absent from the cache (indexes and images cached), built + module-signed + published signed (median of %d)", one.Target.Name(), newRuns),
			Value: Seconds(newMed), Command: farmCommand}.WithGoal("≤ 10 s", newMed <= 10*time.Second))
		add(Row{Section: "Farm", Metric: fmt.Sprintf("the same kernel with its headers cached / its raw `make -j%d` in the same image and tree, each build paired with the raw make after it (median of %d pairs; medians alone: %s / %s)", jobs, newRuns, Seconds(cachedMed), Seconds(rawMed)),
			Value: fmt.Sprintf("%.2f", ratio), Command: farmCommand}.WithGoal("≤ 1.5", ratio <= 1.5))
	}

	drows, err := f.distribution(ctx, b, root, last, one, fetchRuns)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range drows {
		add(r)
	}
}

// farmArm64Command reproduces the rows of BenchmarkFarmArm64.
const farmArm64Command = "go test -run '^$' -bench '^BenchmarkFarmArm64$' -benchtime 1x -timeout 90m ./builder/bench"

// BenchmarkFarmArm64 measures the reachable arm64 matrix, Debian's arm64
// kernels cross-compiled on this farm (`dnsmon-farm build --only
// '^debian-[^/]*-arm64/'`), as BenchmarkFarm measures the amd64 one: cold
// (BENCH_COLD=1 only; the builder images, header trees and header
// packages removed first) and warm (source changed, median of
// BENCH_FARM_RUNS, default 5). BENCH_FARM_ARM64_ONLY replaces the filter.
func BenchmarkFarmArm64(b *testing.B) {
	ctx := b.Context()
	r := newBenchRun(b, "BENCH_FARM_ARM64_ONLY", `^debian-[^/]*-arm64/`)
	f, add, src := r.f, r.add, r.src
	warmRuns, jobs := envInt("BENCH_FARM_RUNS", 5), f.jobs
	r.cold(ctx, "Farm arm64", "arm64 targets cross-compiled, ", "debootstrap, cross compiler, arm64 headers and the farm's kbuild", farmArm64Command)
	if _, _, err := f.build(ctx, src("warm-up"), true); err != nil {
		b.Fatalf("warm-up build: %v", err)
	}
	var warm, perTarget []time.Duration
	targets := 0
	for i := range warmRuns {
		res, d, err := f.build(ctx, src(fmt.Sprintf("warm %d", i)), true)
		if err != nil {
			b.Fatalf("warm build %d: %v", i+1, err)
		}
		for _, t := range res {
			if t.Status() != "built" {
				b.Fatalf("warm build %d: %s was %s, want built", i+1, t.Target.Name(), t.Status())
			}
			if t.Target.Arch != "arm64" {
				b.Fatalf("%s is not an arm64 target", t.Target.Name())
			}
			perTarget = append(perTarget, t.Duration)
		}
		targets = len(res)
		warm = append(warm, d)
		b.Logf("warm run %d: %d targets in %v", i+1, len(res), d.Round(time.Millisecond))
	}
	warmMed, _ := MedianDuration(warm)
	perMed, _ := MedianDuration(perTarget)
	add(Row{Section: "Farm arm64", Metric: fmt.Sprintf("warm: %d arm64 targets cross-compiled (images cached, source changed), built + signed + published, -j %d (median of %d)", targets, jobs, warmRuns),
		Value: Seconds(warmMed), Command: farmArm64Command})
	add(Row{Section: "Farm arm64", Metric: fmt.Sprintf("warm, per target: container + make + strip + copy out + sign + publish (median of %d)", len(perTarget)),
		Value: Seconds(perMed), Command: farmArm64Command})
}

// benchRun is what the farm benchmarks share: the repository's
// kernels.yaml filtered by an environment variable, a farm publishing
// with a fresh signing key, and the rows, appended to $BENCH_OUT/rows.jsonl
// when the benchmark ends.
type benchRun struct {
	b    *testing.B
	root string
	f    *farm
	rows []Row
}

// newBenchRun filters the targets by $onlyEnv, default def.
func newBenchRun(b *testing.B, onlyEnv, def string) *benchRun {
	root, err := repoRoot()
	if err != nil {
		b.Fatal(err)
	}
	only, err := regexp.Compile(envOr(onlyEnv, def))
	if err != nil {
		b.Fatalf("%s: %v", onlyEnv, err)
	}
	key, err := signature.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	r := &benchRun{b: b, root: root, f: &farm{file: filepath.Join(root, "kernels.yaml"), only: only, jobs: runtime.NumCPU(), key: key}}
	b.Cleanup(func() {
		r.f.close()
		if err := Append(RowsFile(), r.rows...); err != nil {
			b.Error(err)
		}
	})
	return r
}

func (r *benchRun) add(row Row) {
	r.b.Logf("%s: %s = %s %s", row.Section, row.Metric, row.Value, row.Goal)
	r.rows = append(r.rows, row)
}

// src is the module source with a comment about note changed, so that
// every target builds again.
func (r *benchRun) src(note string) fs.FS {
	s, err := ChangedSource(kmod.Source(), "dnsmon_main.c", fmt.Sprintf("bench %s %d", note, time.Now().UnixNano()))
	if err != nil {
		r.b.Fatal(err)
	}
	return s
}

// cold builds every target from nothing when BENCH_COLD=1, removing the
// builder images, header trees and header packages first, and adds its
// row (what says what the targets are; makes, what the images need);
// otherwise it adds a row saying how to run it.
func (r *benchRun) cold(ctx context.Context, section, what, makes, command string) {
	if os.Getenv("BENCH_COLD") != "1" {
		r.add(Row{Section: section, Metric: "cold: every builder image made from scratch (" + makes + ")",
			Value: "skipped (set BENCH_COLD=1; removes the builder images, header trees and header packages, several minutes)", Command: "BENCH_COLD=1 " + command})
		return
	}
	n, err := removeBuilderImages(ctx)
	if err != nil {
		r.b.Fatal(err)
	}
	if err := removeHeaderCache(); err != nil {
		r.b.Fatal(err)
	}
	res, d, err := r.f.build(ctx, r.src("cold"), true)
	if err != nil {
		r.b.Fatalf("cold build: %v", err)
	}
	r.add(Row{Section: section, Metric: fmt.Sprintf("cold: %d %s%d builder images, the header trees and header packages removed first, -j %d (1 run)", len(res), what, n, r.f.jobs),
		Value: Seconds(d), Command: "BENCH_COLD=1 " + command})
}

// farm builds the selected targets, publishing to a fresh in-process
// registry per warm run.
type farm struct {
	file string
	only *regexp.Regexp
	jobs int
	key  *ecdsa.PrivateKey
	opts []builder.Option // beside the source and the log
	// The registry and publisher of the latest source.
	srv  *httptest.Server
	repo string
	pub  *publish.Publisher
}

// build builds and publishes src; fresh starts a new registry first.
func (f *farm) build(ctx context.Context, src fs.FS, fresh bool) ([]builder.Result, time.Duration, error) {
	if fresh || f.pub == nil {
		if err := f.newRegistry(ctx); err != nil {
			return nil, 0, err
		}
	}
	t0 := time.Now()
	res, err := builder.BuildMatrix(ctx, builder.MatrixBuild{
		File: f.file, Only: f.only, Publisher: f.pub,
		Options:     append([]builder.Option{builder.WithSource(src), builder.WithLog(io.Discard)}, f.opts...),
		FarmOptions: []builder.FarmOption{builder.WithJobs(f.jobs)},
	})
	return res, time.Since(t0), err
}

func (f *farm) newRegistry(ctx context.Context) error {
	f.close()
	f.srv = httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	f.repo = strings.TrimPrefix(f.srv.URL, "http://") + "/dnsmon/modules"
	p, err := publish.New(ctx, f.repo, publish.WithSigningKey(f.key))
	if err != nil {
		return fmt.Errorf("opening the loopback registry %q: %w", f.repo, err)
	}
	f.pub = p
	return nil
}

// close closes the registry and publisher of the latest source, once:
// distribution closes them, and so does the benchmark's cleanup.
func (f *farm) close() {
	if f.pub != nil {
		f.pub.Close()
		f.pub = nil
	}
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// pickOneKernel picks the target whose raw make stands for every target in
// the one-kernel ratio and whose module the distribution rows fetch:
// Debian 12's generic kernel when the matrix has it.
func pickOneKernel(res []builder.Result) builder.Result {
	for _, r := range res {
		if strings.HasPrefix(r.Target.Name(), "debian-12/") && !strings.Contains(r.Target.Name(), "-rt-") {
			return r
		}
	}
	return res[0]
}

// newKernelRuns are the times of newKernel's runs.
type newKernelRuns struct{ fresh, cached, raw []time.Duration }

// newKernel measures one kernel as the farm first meets it and as it meets
// it again. Each run moves the kernel's header packages and tree out of the
// cache and builds it alone (fresh), builds it again with the source
// changed (cached), then runs its raw make with one job per CPU, as the
// farm's container does. Each build publishes to a fresh loopback registry,
// signed, and the module is signed too.
func newKernel(ctx context.Context, f *farm, one builder.Result, runs int, src func(string) fs.FS) (newKernelRuns, error) {
	var nk newKernelRuns
	signer, err := modsign.NewSigningKey("dnsmon bench")
	if err != nil {
		return nk, err
	}
	cache, err := debian.CacheDir()
	if err != nil {
		return nk, err
	}
	g := &farm{file: f.file, only: regexp.MustCompile("^" + regexp.QuoteMeta(one.Target.Name()) + "$"), jobs: f.jobs, key: f.key,
		opts: []builder.Option{builder.WithModuleSigner(signer)}}
	defer g.close()
	buildOne := func(s fs.FS) (builder.Result, time.Duration, error) {
		res, d, err := g.build(ctx, s, true)
		if err != nil {
			return builder.Result{}, 0, err
		}
		if len(res) != 1 || res[0].Status() != "built" {
			return builder.Result{}, 0, fmt.Errorf("building %s alone: %d results, want it built", one.Target.Name(), len(res))
		}
		return res[0], d, nil
	}
	trash, err := os.MkdirTemp(cache, "bench-moved-")
	if err != nil {
		return nk, err
	}
	defer headertree.RemoveDir(trash)
	for i := range runs {
		if err := moveHeadersOut(cache, one.Module.HeaderBinds, filepath.Join(trash, strconv.Itoa(i))); err != nil {
			return nk, err
		}
		if _, d, err := buildOne(src(fmt.Sprintf("new %d", i))); err != nil {
			return nk, fmt.Errorf("new kernel run %d: %w", i+1, err)
		} else {
			nk.fresh = append(nk.fresh, d)
		}
		s := src(fmt.Sprintf("cached %d", i))
		r, d, err := buildOne(s)
		if err != nil {
			return nk, fmt.Errorf("cached kernel run %d: %w", i+1, err)
		}
		nk.cached = append(nk.cached, d)
		mt, err := rawMake(ctx, r, s, runtime.NumCPU())
		if err != nil {
			return nk, err
		}
		nk.raw = append(nk.raw, mt)
	}
	return nk, nil
}

// moveHeadersOut moves the header tree that binds come from, and the
// downloaded packages it was unpacked from (every version of each), out of
// the cache into dst, so the farm meets the kernel as new. They are moved,
// not removed: deleting ten thousand files leaves the disk busy for
// seconds after, which would be charged to the build measured next.
func moveHeadersOut(cache string, binds []headertree.Bind, dst string) error {
	trees := filepath.Join(cache, "trees")
	rel, err := filepath.Rel(trees, binds[0].Source)
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("header bind %s is not below %s", binds[0].Source, trees)
	}
	key, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	entries, err := headertree.NewStore(cache, nil).Entries()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if e.Key != key {
			continue
		}
		for _, p := range e.Packages {
			name, _, _ := strings.Cut(p, " ")
			debs, err := filepath.Glob(filepath.Join(cache, "debs", name+"_*.deb"))
			if err != nil {
				return err
			}
			for _, d := range debs {
				if err := os.Rename(d, filepath.Join(dst, filepath.Base(d))); err != nil {
					return err
				}
			}
		}
	}
	return os.Rename(filepath.Join(trees, key), filepath.Join(dst, key))
}

// rawMake runs `make -jJOBS modules` once for one target in a fresh
// container of its builder image with its header tree (networking
// disabled, as the farm builds) and returns make's time as the container's
// clock measured it.
func rawMake(ctx context.Context, r builder.Result, src fs.FS, jobs int) (time.Duration, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.AddFS(src); err != nil {
		return 0, fmt.Errorf("packing the module source: %w", err)
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	const script = `set -e; mkdir -p /src; tar -x -C /src; cd /src
s=$(date +%s%N); make -j"$JOBS" -C "$KDIR" M=/src W=1 modules >/tmp/make.log 2>&1 || { cat /tmp/make.log; exit 1; }; e=$(date +%s%N)
echo "make_ns $((e-s))"`
	args := []string{"run", "--rm", "-i", "--network", "none",
		"-e", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "-e", "KDIR=" + r.Target.KernelDir, "-e", "JOBS=" + strconv.Itoa(jobs)}
	for _, b := range r.Module.HeaderBinds {
		args = append(args, "--mount", "type=bind,readonly,source="+b.Source+",target="+b.Target)
	}
	cmd := exec.CommandContext(ctx, "docker", append(args, r.Module.BuilderImage, "/bin/sh", "-c", script)...)
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("raw make in %s: %v\n%s", r.Module.BuilderImage, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "make_ns "); ok {
			ns, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("raw make: bad timing line %q", l)
			}
			return time.Duration(ns), nil
		}
	}
	return 0, fmt.Errorf("raw make: no timing line in:\n%s", out)
}

// removeBuilderImages removes every image the builder made: base,
// toolchain and headers images.
func removeBuilderImages(ctx context.Context) (int, error) {
	c, err := builder.NewEngineClient()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	n := 0
	for _, repo := range []string{builder.HeadersRepo, builder.ToolchainRepo, builder.BaseRepo} {
		imgs, err := c.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", repo))})
		if err != nil {
			return n, fmt.Errorf("listing %s images: %w", repo, err)
		}
		for _, img := range imgs {
			if _, err := c.ImageRemove(ctx, img.ID, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
				return n, fmt.Errorf("removing %s image %s: %w", repo, img.ID, err)
			}
			n++
		}
	}
	return n, nil
}

// removeHeaderCache removes every header tree and downloaded header
// package; debootstrap's package cache (debs/debootstrap) stays, as it did
// for the cold figures before header trees.
func removeHeaderCache() error {
	cache, err := debian.CacheDir()
	if err != nil {
		return err
	}
	debs, err := filepath.Glob(filepath.Join(cache, "debs", "*.deb"))
	if err != nil {
		return err
	}
	for _, d := range debs {
		if err := os.Remove(d); err != nil {
			return err
		}
	}
	s := headertree.NewStore(cache, nil)
	entries, err := s.Entries()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := s.Remove(e.Key); err != nil {
			return err
		}
	}
	return nil
}

// distribution measures fetching what the last warm run published, from
// its registry and from a bundle of it, and the sizes on the way.
func (f *farm) distribution(ctx context.Context, b *testing.B, root string, res []builder.Result, one builder.Result, runs int) ([]Row, error) {
	defer f.close()
	dir := b.TempDir()
	release := one.Target.Kernel
	pub := &f.key.PublicKey
	fetchMedian := func(from string) (time.Duration, error) {
		var ds []time.Duration
		for i := range runs {
			t0 := time.Now()
			_, err := fetcher.Fetch(ctx, fetcher.WithSource(from), fetcher.WithRelease(release), fetcher.WithArch(one.Target.Arch),
				fetcher.WithPublicKey(pub), fetcher.WithOutput(filepath.Join(dir, fmt.Sprintf("fetch-%d", i), "dnsmon.ko")))
			if err != nil {
				return 0, fmt.Errorf("fetching %s from %s: %w", release, from, err)
			}
			ds = append(ds, time.Since(t0))
		}
		return MedianDuration(ds)
	}
	var rows []Row
	regMed, err := fetchMedian(f.repo)
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Section: "Distribution", Metric: fmt.Sprintf("fetch + verify %s from a loopback registry (in-process ggcr; median of %d)", release, runs),
		Value: Seconds(regMed), Command: farmCommand})

	src, err := store.Open(ctx, f.repo)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	bundle := filepath.Join(dir, "dnsmon-bundle.tar.zst")
	st, err := publish.WriteBundleFile(ctx, src, bundle, publish.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("writing the bundle: %w", err)
	}
	bundleMed, err := fetchMedian(bundle)
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Section: "Distribution", Metric: fmt.Sprintf("fetch + verify %s from a bundle file (median of %d)", release, runs),
		Value: Seconds(bundleMed), Command: farmCommand})

	var sizes []string
	var largest int64
	for _, r := range res {
		m, err := fetcher.Resolve(ctx, src, fetcher.Host{Release: r.Target.Kernel, Arch: r.Target.Arch}, "", nil)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", r.Target.Name(), err)
		}
		raw, err := src.Manifest(ctx, m.Digest.String(), 4<<20)
		if err != nil {
			return nil, err
		}
		man, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil || len(man.Layers) != 1 {
			return nil, fmt.Errorf("manifest of %s: %v (%d layers)", r.Target.Name(), err, len(man.Layers))
		}
		n := man.Layers[0].Size
		largest = max(largest, n)
		sizes = append(sizes, fmt.Sprintf("%s %.1f KiB (.ko %.1f KiB)", r.Target.Kernel, float64(n)/1024, float64(len(m.Ko))/1024))
	}
	slices.Sort(sizes)
	rows = append(rows, Row{Section: "Distribution", Metric: "compressed artifact (zstd layer) per kernel; largest",
		Value: fmt.Sprintf("%s; largest %s", strings.Join(sizes, ", "), Bytes(largest)), Command: farmCommand}.WithGoal("≤ 32 KiB", largest <= 32<<10))
	fi, err := os.Stat(bundle)
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Section: "Distribution", Metric: fmt.Sprintf("bundle for the matrix (%d modules, signed)", st.Modules),
		Value: Bytes(fi.Size()), Command: farmCommand})

	var bins []string
	var fetchLoad int64
	for _, name := range []string{"dnsmon-farm", "dnsmon-fetch", "dnsmon-load", "dnsmon-watch"} {
		fi, err := os.Stat(filepath.Join(root, "bin", name))
		if err != nil {
			return nil, fmt.Errorf("%w (run `make build` first)", err)
		}
		bins = append(bins, fmt.Sprintf("%s %.2f MiB", name, float64(fi.Size())/(1<<20)))
		if name == "dnsmon-fetch" || name == "dnsmon-load" {
			fetchLoad += fi.Size()
		}
	}
	rows = append(rows,
		Row{Section: "Distribution", Metric: "static binaries (CGO_ENABLED=0, -trimpath -s -w)", Value: strings.Join(bins, ", "), Command: "make build && ls -l bin/"},
		Row{Section: "Distribution", Metric: "dnsmon-fetch + dnsmon-load", Value: Bytes(fetchLoad), Command: "make build && ls -l bin/"}.WithGoal("≤ 16 MiB", fetchLoad <= 16<<20))
	return rows, nil
}

func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for ; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}
