package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/matrix"
)

// engineTargets resolves, at run time, the newest bookworm and sid kernels
// through the shipped kernels.yaml (the mirror drops old kernels within
// days, so nothing is pinned), plus a bookworm target for a kernel that
// does not exist.
func engineTargets(t *testing.T, ctx context.Context) (good []matrix.Target, broken matrix.Target) {
	t.Helper()
	resolved.once.Do(func() { resolved.good, resolved.broken, resolved.err = resolveTargets(ctx) })
	if resolved.err != nil {
		t.Fatal(resolved.err)
	}
	return resolved.good, resolved.broken
}

// resolved holds the targets, resolved once for all tests of the package
// (reading the indexes takes seconds).
var resolved struct {
	once   sync.Once
	good   []matrix.Target
	broken matrix.Target
	err    error
}

func resolveTargets(ctx context.Context) (good []matrix.Target, broken matrix.Target, err error) {
	f, err := matrix.Load("../kernels.yaml")
	if err != nil {
		return nil, broken, err
	}
	r, err := matrix.DefaultResolver()
	if err != nil {
		return nil, broken, err
	}
	for _, suite := range []string{"bookworm", "sid"} {
		k, err := r.NewestKernel(ctx, matrix.KernelQuery{Distro: "debian", Mirror: matrix.DefaultDebianMirror, Suites: []string{suite}, Flavour: "amd64"})
		if err != nil {
			return nil, broken, fmt.Errorf("resolving the newest %s kernel: %w", suite, err)
		}
		tg, err := matrix.TargetFor(f, suite, k, "amd64")
		if err != nil {
			return nil, broken, err
		}
		good = append(good, tg)
	}
	broken, err = matrix.TargetFor(f, "bookworm", "6.1.0-999-amd64", "amd64")
	return good, broken, err
}

func newTestEngine(t *testing.T, src string) (Builder, Client) {
	t.Helper()
	c, err := NewEngineClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	b, err := New(WithClient(c), WithSource(os.DirFS(src)), WithModule("hello", "0.0.1"), WithLog(testLog{t}))
	if err != nil {
		t.Fatal(err)
	}
	return b, c
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestEngine builds for two Debian suites on the real engine: a second run
// builds nothing, and a target whose kernel does not exist fails alone.
func TestEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	ctx := t.Context()
	good, broken := engineTargets(t, ctx)
	b, c := newTestEngine(t, "testdata/hello")
	pub, err := NewDirPublisher(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	targets := append(append([]matrix.Target{}, good...), broken)
	var progress bytes.Buffer
	start := time.Now()
	results, err := Run(ctx, Cached(b, pub), targets, WithJobs(2), WithProgress(&progress, false))
	t.Logf("first run %s:\n%s", time.Since(start).Round(time.Second), progress.String())
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("first run: err = %v, want ErrFailed", err)
	}
	for i, r := range results {
		t.Logf("%s: %s in %s", r.Target.Name(), r.Status(), r.Duration.Round(100*time.Millisecond))
		if i < len(good) {
			if r.Status() != "built" {
				t.Fatalf("%s: %s: %v", r.Target.Name(), r.Status(), r.Err)
			}
			ko, err := os.ReadFile(pub.Path(r.Module.Key))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(ko, []byte("\x7fELF")) || !bytes.Contains(ko, []byte("vermagic="+r.Target.Kernel+" ")) {
				t.Errorf("%s: module is not an ELF file with vermagic %s", r.Target.Name(), r.Target.Kernel)
			}
			if bytes.Contains(ko, []byte(".debug_info")) {
				t.Errorf("%s: module still has debug info", r.Target.Name())
			}
		} else if r.Status() != "failed" || !strings.Contains(r.Err.Error(), "6.1.0-999-amd64") {
			t.Errorf("broken target: %s: %v", r.Status(), r.Err)
		}
	}
	var sum bytes.Buffer
	if err := WriteSummary(&sum, results); err != nil {
		t.Fatal(err)
	}
	t.Logf("summary:\n%s", sum.String())

	start = time.Now()
	results, err = Run(ctx, Cached(b, pub), good, WithJobs(2))
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	for _, r := range results {
		if r.Status() != "cached" {
			t.Errorf("second run: %s %s, want cached", r.Target.Name(), r.Status())
		}
	}
	t.Logf("second run (nothing to build): %s", time.Since(start).Round(time.Millisecond))

	orphans, err := ContainersOf(ctx, c, os.Getpid())
	if err != nil || len(orphans) != 0 {
		t.Errorf("containers left behind: %v %v", orphans, err)
	}
}

// TestEngineBrokenSource checks that a compiler error fails the target and
// reaches its result and log.
func TestEngineBrokenSource(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	ctx := t.Context()
	good, _ := engineTargets(t, ctx)
	b, _ := newTestEngine(t, "testdata/broken")
	_, err := b.Build(ctx, good[0])
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Build: %v, want a *BuildError", err)
	}
	if !strings.Contains(string(be.Log), "this_is_not_declared") || !strings.Contains(err.Error(), "this_is_not_declared") {
		t.Errorf("the compiler error is missing from the error:\n%v", err)
	}
}

// TestEngineCancel cancels a farm run while its build's container runs:
// the run leaves neither the container nor a dangling farm image.
func TestEngineCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	good, _ := engineTargets(t, t.Context())
	c := engineClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := testFarm(t, c, "testdata/slow").build(ctx, good[:1])
		done <- err
	}()
	waitRunning(t, c, os.Getpid(), &syncBuffer{})
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("farm run after cancel: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the farm run did not return after cancel")
	}
	checkNoLeftovers(t, c, os.Getpid(), "after cancel")
}

// TestBuildOne builds through the module cache: the path the qemu tests use.
func TestBuildOne(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	ctx := t.Context()
	good, _ := engineTargets(t, ctx)
	dir := t.TempDir()
	for i := range 2 {
		start := time.Now()
		opts := []Option{WithCacheDir(dir), WithSource(os.DirFS("testdata/hello")), WithModule("hello", "0.0.1")}
		var p string
		var err error
		if i == 0 {
			p, err = BuildOne(ctx, good[1], opts...)
		} else {
			p, err = BuildForSuite(ctx, "../kernels.yaml", "sid", good[1].Kernel, "amd64", opts...)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p, dir+"/modules/") || !strings.HasSuffix(p, "/amd64/"+good[1].Kernel+"/hello.ko") {
			t.Errorf("BuildOne path %q", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
		t.Logf("BuildOne run %d: %s", i+1, time.Since(start).Round(time.Millisecond))
	}
}
