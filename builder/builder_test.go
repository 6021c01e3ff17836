package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/docker/docker/api/types/network"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

var testSource = fstest.MapFS{
	"Kbuild":  {Data: []byte("obj-m := hello.o\n")},
	"hello.c": {Data: []byte("int x;\n")},
}

func debTarget(kernel string) matrix.Target {
	return matrix.Target{Group: "debian-12", Distro: "debian", DistroRelease: "12", Family: matrix.FamilyDeb,
		Kernel: kernel, Arch: "amd64", Debootstrap: &matrix.Debootstrap{Suite: "bookworm", Mirror: matrix.DefaultDebianMirror},
		Method: matrix.MethodApt, Packages: []string{"linux-headers-" + kernel}, KernelDir: "/usr/src/linux-headers-" + kernel}
}

func imageTarget(kernel string) matrix.Target {
	return matrix.Target{Group: "rocky-9", Distro: "rocky", DistroRelease: "9", Family: matrix.FamilyRPM,
		Kernel: kernel, Arch: "amd64", Image: "docker.io/rockylinux/rockylinux:9",
		Method: matrix.MethodDnf, Packages: []string{"kernel-devel-" + kernel}, KernelDir: "/usr/src/kernels/" + kernel}
}

func newFakeEngine(t *testing.T, f *fakeClient, opts ...Option) Builder {
	t.Helper()
	b, err := New(append([]Option{WithClient(f), WithSource(testSource), WithModule("hello", "1.0"),
		WithCacheDir(t.TempDir()), WithPullRetry(3, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// okRun builds successfully: it checks the source arrived and returns a .ko.
func okRun(c *fakeContainer) (int, string, map[string][]byte) {
	if c.cfg.Cmd[2] == buildScript {
		if _, ok := c.in["/src/Kbuild"]; !ok {
			return 2, "no source", nil
		}
		return 0, "  LD [M]  /src/hello.ko\n", map[string][]byte{"/src/hello.ko": []byte("\x7fELF module")}
	}
	return 0, "dnsmon: headers ready\n", map[string][]byte{}
}

func TestBuildWithFake(t *testing.T) {
	tests := map[string]struct {
		target     matrix.Target
		run        func(c *fakeContainer) (int, string, map[string][]byte)
		pullErrs   []error
		wantErr    string
		wantPulls  int
		wantCommit bool
	}{
		"debootstrap base exists": {target: debTarget("6.1.0-50-amd64"), run: okRun, wantCommit: true},
		"pulled base":             {target: imageTarget("5.14.0-427.13.1.el9_4.x86_64"), run: okRun, wantPulls: 1, wantCommit: true},
		"pull retried": {target: imageTarget("5.14.0-427.13.1.el9_4.x86_64"), run: okRun,
			pullErrs: []error{errors.New("connection reset"), errors.New("stream: TLS handshake timeout")}, wantPulls: 3, wantCommit: true},
		"pull not found is final": {target: imageTarget("5.14.0-427.13.1.el9_4.x86_64"), run: okRun,
			pullErrs: []error{errors.New("stream: manifest unknown")}, wantPulls: 1, wantErr: "image not found"},
		"pull gives up": {target: imageTarget("5.14.0-427.13.1.el9_4.x86_64"), run: okRun,
			pullErrs: []error{errors.New("a"), errors.New("b"), errors.New("c")}, wantPulls: 3, wantErr: "pulling"},
		"headers fail": {target: debTarget("6.1.0-999-amd64"), wantErr: "the script exited with status 100",
			run: func(c *fakeContainer) (int, string, map[string][]byte) {
				return 100, "E: No packages found\n", map[string][]byte{}
			}},
		"compile fails": {target: debTarget("6.1.0-50-amd64"), wantErr: "hello.c:1: error: nope", wantCommit: true,
			run: func(c *fakeContainer) (int, string, map[string][]byte) {
				if c.cfg.Cmd[2] == buildScript {
					return 2, "hello.c:1: error: nope\n", map[string][]byte{}
				}
				return okRun(c)
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.run, f.pullErrs = tc.run, tc.pullErrs
			f.images[BaseImage(debTarget("x"))] = true
			b := newFakeEngine(t, f)
			m, err := b.Build(t.Context(), tc.target)
			headers := HeadersImage(tc.target)
			if tc.target.Debootstrap == nil {
				headers = HeadersImage(pinnedTo(tc.target, fakeTagDigest(tc.target.Image)))
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Build: %v, want error containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Build: %v", err)
			} else if string(m.Data) != "\x7fELF module" || m.BuilderImage != headers || m.Key.Kernel != tc.target.Kernel {
				t.Errorf("module = %+v", m)
			}
			if f.pulls != tc.wantPulls {
				t.Errorf("%d pulls, want %d", f.pulls, tc.wantPulls)
			}
			if got := len(f.commits) == 1 && f.commits[0] == headers; got != tc.wantCommit {
				t.Errorf("commits %q", f.commits)
			}
			if len(f.created) != 0 {
				t.Errorf("containers left: %d", len(f.created))
			}
		})
	}
}

func TestBuildContainerConfig(t *testing.T) {
	f := newFake()
	var headersNet, buildNet string
	var buildNoNet bool
	var labelled int
	f.run = func(c *fakeContainer) (int, string, map[string][]byte) {
		if c.cfg.Labels[LabelFarm] == "1" {
			labelled++
		}
		if c.cfg.Cmd[2] == buildScript {
			buildNet, buildNoNet = string(c.host.NetworkMode), c.cfg.NetworkDisabled
		} else {
			headersNet = string(c.host.NetworkMode)
		}
		return okRun(c)
	}
	f.images[BaseImage(debTarget("x"))] = true
	b := newFakeEngine(t, f)
	if _, err := b.Build(t.Context(), debTarget("6.1.0-50-amd64")); err != nil {
		t.Fatal(err)
	}
	if headersNet != "host" || buildNet != network.NetworkNone || !buildNoNet || labelled != 2 {
		t.Errorf("headers network %q, build network %q disabled=%v, labelled %d", headersNet, buildNet, buildNoNet, labelled)
	}
	// The headers image is made once and reused.
	if _, err := b.Build(t.Context(), debTarget("6.1.0-50-amd64")); err != nil {
		t.Fatal(err)
	}
	if len(f.commits) != 1 {
		t.Errorf("headers image made %d times", len(f.commits))
	}
}

func TestBuildCancelRemovesContainer(t *testing.T) {
	f := newFake()
	f.run = okRun
	f.images[BaseImage(debTarget("x"))] = true
	f.images[HeadersImage(debTarget("6.1.0-50-amd64"))] = true
	f.labels[HeadersImage(debTarget("6.1.0-50-amd64"))] = map[string]string{LabelBase: BaseImage(debTarget("x"))}
	f.block = true
	b := newFakeEngine(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go cancelOnceCreated(ctx, f, cancel)
	_, err := b.Build(ctx, debTarget("6.1.0-50-amd64"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build: %v, want context.Canceled", err)
	}
	if len(f.removed) != 1 || f.removeCtxs[0] != nil {
		t.Errorf("removed %q with ctx errors %v; want one removal with a live context", f.removed, f.removeCtxs)
	}
}

func TestRecipeHash(t *testing.T) {
	a := debTarget("6.1.0-50-amd64")
	if RecipeHash(a) != RecipeHash(debTarget("6.1.0-50-amd64")) {
		t.Error("RecipeHash is not stable")
	}
	b := debTarget("6.1.0-50-amd64")
	b.Debootstrap.Include = []string{"perl"}
	c := debTarget("6.1.0-50-amd64")
	c.Sources = []matrix.Source{{Apt: "deb http://deb.debian.org/debian experimental main"}}
	if RecipeHash(a) == RecipeHash(b) || RecipeHash(a) == RecipeHash(c) || BaseImage(a) == BaseImage(b) || BaseImage(a) != BaseImage(c) {
		t.Error("RecipeHash/BaseImage ignore the recipe")
	}
	// The build script makes modules, not images.
	img, recipe := HeadersImage(a), RecipeHash(a)
	saved := buildScript
	buildScript += "\n# edited\n"
	edited, editedImg := RecipeHash(a), HeadersImage(a)
	buildScript = saved
	if edited == recipe || editedImg != img {
		t.Errorf("editing the build script: RecipeHash changed %v (want true), HeadersImage changed %v (want false)", edited != recipe, editedImg != img)
	}
	if got := HeadersImage(debTarget("7.2.13+deb14-amd64")); !strings.HasPrefix(got, "dnsmon-headers:7.2.13_deb14-amd64-") || len(got) != len("dnsmon-headers:7.2.13_deb14-amd64-")+12 {
		t.Errorf("HeadersImage = %q", got)
	}
	if got := BaseImage(a); !strings.HasPrefix(got, "dnsmon-base:bookworm-") {
		t.Errorf("BaseImage = %q", got)
	}
}

func TestSourceDigest(t *testing.T) {
	d1, err := SourceDigest(testSource)
	if err != nil {
		t.Fatal(err)
	}
	changed := fstest.MapFS{"Kbuild": testSource["Kbuild"], "hello.c": {Data: []byte("int y;\n")}}
	renamed := fstest.MapFS{"Kbuild": testSource["Kbuild"], "hello2.c": testSource["hello.c"]}
	d2, _ := SourceDigest(changed)
	d3, _ := SourceDigest(renamed)
	if !strings.HasPrefix(d1, "sha256:") || d1 == d2 || d1 == d3 {
		t.Errorf("digests %s %s %s", d1, d2, d3)
	}
}

func TestDirPublisher(t *testing.T) {
	dir := t.TempDir()
	p, err := NewDirPublisher(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := Key{Module: "hello", ModuleVersion: "1", SourceDigest: "sha256:aa", Kernel: "7.3-amd64", Arch: "amd64", Recipe: "r"}
	ctx := t.Context()
	if has, err := p.Has(ctx, key); has || err != nil {
		t.Fatalf("Has before Publish = %v, %v", has, err)
	}
	if err := p.Publish(ctx, Module{Key: key, Data: []byte("ko"), Log: []byte("CC [M] hello.o\n")}); err != nil {
		t.Fatal(err)
	}
	if has, err := p.Has(ctx, key); !has || err != nil {
		t.Fatalf("Has after Publish = %v, %v", has, err)
	}
	if b, err := p.BuildLog(ctx, key); err != nil || string(b) != "CC [M] hello.o\n" {
		t.Errorf("BuildLog = %q, %v", b, err)
	}
	other := key
	other.SourceDigest = "sha256:bb"
	if has, _ := p.Has(ctx, other); has {
		t.Error("Has ignores the source digest")
	}
	if b, _ := os.ReadFile(dir + "/amd64/7.3-amd64/hello.ko"); string(b) != "ko" {
		t.Errorf("module file = %q", b)
	}
	// A module published before logs were kept beside it is built again,
	// so that a farm with a log directory never skips a target's log.
	if err := os.Remove(dir + "/amd64/7.3-amd64/hello.log"); err != nil {
		t.Fatal(err)
	}
	if has, _ := p.Has(ctx, key); has {
		t.Error("Has reports a module whose build log is gone")
	}
	bad := key
	bad.Kernel = "../x"
	if err := p.Publish(ctx, Module{Key: bad}); err == nil {
		t.Error("Publish accepted a kernel with a path separator")
	}
}

// fixedBuilder fails targets whose kernel contains "bad" and counts builds.
type fixedBuilder struct{ builds atomic.Int32 }

func (f *fixedBuilder) Key(_ context.Context, t matrix.Target) (Key, error) {
	return Key{Module: "m", ModuleVersion: "1", SourceDigest: "sha256:s", Kernel: t.Kernel, Arch: t.Arch, Recipe: "r"}, nil
}

func (f *fixedBuilder) Build(ctx context.Context, t matrix.Target) (Module, error) {
	f.builds.Add(1)
	if strings.Contains(t.Kernel, "bad") {
		return Module{Log: []byte("error: bad kernel\n")}, &BuildError{Target: t.Name(), Status: 2, Log: []byte("error: bad kernel\n")}
	}
	k, _ := f.Key(ctx, t)
	return Module{Key: k, Target: t, Data: bytes.Repeat([]byte{1}, 2048), Log: []byte("ok\n")}, nil
}

func TestRunIsolatesFailuresAndCaches(t *testing.T) {
	var targets []matrix.Target
	for i := range 6 {
		k := fmt.Sprintf("6.1.0-%d-amd64", i)
		if i == 2 {
			k = "6.1.0-bad-amd64"
		}
		targets = append(targets, debTarget(k))
	}
	fb := &fixedBuilder{}
	pub, _ := NewDirPublisher(t.TempDir())
	logs := t.TempDir()
	var progress bytes.Buffer
	results, err := Run(t.Context(), Cached(Limit(fb, 2), pub), targets, WithJobs(3), WithProgress(&progress, false), WithLogDir(logs))
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Run: %v, want ErrFailed", err)
	}
	for i, r := range results {
		want := "built"
		if i == 2 {
			want = "failed"
		}
		if r.Target.Kernel != targets[i].Kernel || r.Status() != want {
			t.Errorf("result %d: %s %s, want %s %s", i, r.Target.Kernel, r.Status(), targets[i].Kernel, want)
		}
	}
	if b, err := os.ReadFile(logs + "/debian-12/6.1.0-bad-amd64.log"); err != nil || !strings.Contains(string(b), "bad kernel") {
		t.Errorf("failed target's log: %q %v", b, err)
	}
	if n := strings.Count(progress.String(), "\n"); n != 12 {
		t.Errorf("progress has %d lines, want 12 (start and end of 6):\n%s", n, progress.String())
	}
	var sum bytes.Buffer
	_ = WriteSummary(&sum, results)
	for _, want := range []string{"TARGET", "RESULT", "debian-12/6.1.0-0-amd64", "2.0 KiB", "6 targets: 5 built, 0 cached, 1 failed", "--- debian-12/6.1.0-bad-amd64 failed:", "error: bad kernel"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}

	fb.builds.Store(0)
	cachedLogs := t.TempDir()
	results, err = Run(t.Context(), Cached(fb, pub), targets, WithJobs(3), WithLogDir(cachedLogs))
	if !errors.Is(err, ErrFailed) || fb.builds.Load() != 1 {
		t.Errorf("second run: %v, %d builds; want only the failed target rebuilt", err, fb.builds.Load())
	}
	if results[0].Status() != "cached" {
		t.Errorf("second run: %s", results[0].Status())
	}
	// The skipped targets' logs come from the publisher.
	if b, err := os.ReadFile(cachedLogs + "/debian-12/6.1.0-0-amd64.log"); err != nil || string(b) != "ok\n" {
		t.Errorf("cached target's log: %q %v", b, err)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	results, err := Run(ctx, &fixedBuilder{}, []matrix.Target{debTarget("6.1.0-1-amd64")})
	if !errors.Is(err, context.Canceled) || results[0].Status() != "cancelled" {
		t.Errorf("Run on a cancelled context: %v, %s", err, results[0].Status())
	}
}

func TestOptionsRejectBadValues(t *testing.T) {
	for name, opt := range map[string]Option{
		"nil client": WithClient(nil), "nil source": WithSource(nil), "bad module": WithModule("a/b", "1"),
		"empty cache": WithCacheDir(""), "nil log": WithLog(nil), "bad retry": WithPullRetry(0, 0),
	} {
		if _, err := New(WithClient(newFake()), opt); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := Run(t.Context(), &fixedBuilder{}, nil, WithJobs(0)); err == nil {
		t.Error("WithJobs(0) accepted")
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/a/b`: "/a/b", `/a\040b`: "/a b", `/x\134y`: `/x\y`, `/end\04`: `/end\04`} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/tree/proc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := removeTree(dir + "/tree"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/tree"); !os.IsNotExist(err) {
		t.Errorf("tree not removed: %v", err)
	}
}

func TestBuildMatrixWithFake(t *testing.T) {
	const file = "../matrix/testdata/valid/kernels.yaml"
	r := matrix.ResolverFunc(func(_ context.Context, q matrix.KernelQuery) (string, error) {
		return "7.2.13+deb14-" + q.Flavour, nil
	})
	all, err := matrix.LoadTargets(t.Context(), file, r)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	f.run = okRun
	for _, tg := range all {
		if tg.Debootstrap != nil {
			f.images[BaseImage(tg)] = true
		}
	}
	pub, _ := NewDirPublisher(t.TempDir())
	var sum bytes.Buffer
	m := MatrixBuild{File: file, Only: regexp.MustCompile(`^(debian|rocky)-`), Shard: 1, Shards: 2, Resolver: r,
		Publisher: pub, Options: []Option{WithClient(f), WithSource(testSource), WithModule("hello", "1.0"), WithCacheDir(t.TempDir())},
		Summary: &sum}
	results, err := BuildMatrix(t.Context(), m)
	if err != nil {
		t.Fatalf("BuildMatrix: %v\n%s", err, sum.String())
	}
	// debian-sid has 7.3-amd64 plus two tracked kernels, rocky-9 one: four
	// targets sorted by name, the second shard holds the last two.
	if len(results) != 2 || results[0].Target.Name() != "debian-sid/7.3-amd64" || results[1].Target.Group != "rocky-9" {
		t.Fatalf("shard 2/2 = %v", results)
	}
	if !strings.Contains(sum.String(), "2 targets: 2 built") {
		t.Errorf("summary:\n%s", sum.String())
	}
	m.Only = regexp.MustCompile(`^nothing`)
	if _, err := BuildMatrix(t.Context(), m); err == nil || !strings.Contains(err.Error(), "no targets") {
		t.Errorf("BuildMatrix with nothing selected: %v", err)
	}
}

func TestLiveProgress(t *testing.T) {
	var out syncBuffer
	_, err := Run(t.Context(), &fixedBuilder{}, []matrix.Target{debTarget("6.1.0-1-amd64"), debTarget("6.1.0-2-amd64")},
		WithJobs(1), WithProgress(&out, true))
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "\r\033[K") || !strings.Contains(s, "built     debian-12/6.1.0-2-amd64") || strings.Contains(s, "start  ") {
		t.Errorf("live progress output %q", s)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress ticker.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDebootstrapArgs(t *testing.T) {
	scripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(scripts, "jammy"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := matrix.Parse("kernels.yaml", []byte(`groups:
  - {name: d, distro: debian, release: "12", debootstrap: {suite: bookworm, include: [gcc, make]}, headers: {method: apt-extract, packages: ["linux-headers-{{.Release}}"]}, kernels: [6.1.0-50-amd64]}
  - {name: n, distro: ubuntu, release: "24.04", debootstrap: {suite: noble}, headers: {method: apt-extract, packages: ["linux-headers-{{.Release}}"]}, kernels: [6.8.0-155-generic]}
  - {name: j, distro: ubuntu, release: "22.04", debootstrap: {suite: jammy, components: [main]}, headers: {method: apt-extract, packages: ["linux-headers-{{.Release}}"]}, kernels: [5.15.0-160-generic]}
`))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := matrix.Expand(f)
	if err != nil {
		t.Fatal(err)
	}
	e := newFakeEngine(t, newFake()).(*engine)
	keyring := "--keyring=" + filepath.Join(e.o.cacheDir, "keyrings", "ubuntu-archive-keyring.gpg")
	want := map[string]string{
		"d": "--variant=minbase --arch=amd64 --cache-dir=C --include=gcc,make bookworm D http://deb.debian.org/debian",
		// noble is newer than the scripts: gutsy's serves every Ubuntu release.
		"n": "--variant=minbase --arch=amd64 --cache-dir=C --components=main,universe " + keyring + " noble D http://archive.ubuntu.com/ubuntu " + filepath.Join(scripts, "gutsy"),
		"j": "--variant=minbase --arch=amd64 --cache-dir=C " + keyring + " jammy D http://archive.ubuntu.com/ubuntu",
	}
	for _, tg := range ts {
		args, err := e.debootstrapArgs(tg, "C", "D", scripts)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(args, " "); got != want[tg.Group] {
			t.Errorf("%s: debootstrap %s\nwant %s", tg.Group, got, want[tg.Group])
		}
	}
	kr, err := os.ReadFile(filepath.Join(e.o.cacheDir, "keyrings", "ubuntu-archive-keyring.gpg"))
	if err != nil || !bytes.Equal(kr, debian.UbuntuKeyringFile()) {
		t.Errorf("the keyring debootstrap reads is not the embedded one (%v)", err)
	}

	// The image lists the suite's pockets and components, for the
	// toolchain image's upgrade; a Debian image keeps debootstrap's list.
	for _, tc := range []struct {
		tg   matrix.Target
		want string
	}{
		{ts[0], ""},
		{ts[1], "deb http://archive.ubuntu.com/ubuntu noble main universe\ndeb http://archive.ubuntu.com/ubuntu noble-updates main universe\ndeb http://archive.ubuntu.com/ubuntu noble-security main universe\n"},
	} {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc", "apt"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeSourcesList(root, tc.tg.Debootstrap); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(root, "etc", "apt", "sources.list"))
		if string(got) != tc.want {
			t.Errorf("%s: sources.list %q, want %q", tc.tg.Group, got, tc.want)
		}
	}
}
