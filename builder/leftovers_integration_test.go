package builder

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/debian/debiantest"
)

// The tests here prove on the real engine that a farm run leaves nothing
// behind (no container, no dangling image of its own) whether its targets
// build, fail, are cancelled or the farm is killed, and that two farm
// processes on one cache directory make each header tree and image once.

// TestFarmLeavesNothing runs a farm over a target that builds and one that
// fails in its container: no container is left, the dangling farm image
// found at the start is removed, and a dangling image without the farm's
// label is left alone.
func TestFarmLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	ctx := t.Context()
	good, _ := engineTargets(t, ctx)
	c := engineClient(t)
	farmImage := danglingImage(t, c, true)
	otherImage := danglingImage(t, c, false)

	results, err := testFarm(t, c, "testdata/hello").build(ctx, []matrix.Target{good[0], withoutHeaders(good[0])})
	if !errors.Is(err, ErrFailed) || len(results) != 2 {
		t.Fatalf("farm run: %v, want one failed target", err)
	}
	var be *BuildError
	if results[0].Status() != "built" || !errors.As(results[1].Err, &be) {
		t.Fatalf("results: %s (%v), %s (%v); want built, then a build error", results[0].Status(), results[0].Err, results[1].Status(), results[1].Err)
	}
	if imageExists(t, c, farmImage) {
		t.Errorf("the dangling farm image %s is still there", shortID(farmImage))
	}
	if !imageExists(t, c, otherImage) {
		t.Errorf("the dangling image %s without the farm's label was removed", shortID(otherImage))
	}
	checkNoLeftovers(t, c, os.Getpid(), "after the failed build")
}

// TestFarmKilled kills a farm process with SIGKILL while its build runs:
// its container stays, and the next farm run removes it along with the
// dangling farm images.
func TestFarmKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	ctx := t.Context()
	good, _ := engineTargets(t, ctx)
	c := engineClient(t)
	dir := t.TempDir()
	cmd, out := startFarm(t, farmJob{Targets: good[:1], Source: "testdata/slow",
		Out: filepath.Join(dir, "out"), Durations: filepath.Join(dir, "durations.json")})
	pid := cmd.Process.Pid
	waitRunning(t, c, pid, out)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // reaped: its PID names no live process from here on
	if left, err := ContainersOf(ctx, c, pid); err != nil || len(left) == 0 {
		t.Fatalf("the killed farm left no container (%v): nothing to prove", err)
	}
	// What a farm killed while it made an image again over its tag leaves.
	farmImage := danglingImage(t, c, true)

	if _, err := testFarm(t, c, "testdata/hello").build(ctx, []matrix.Target{withoutHeaders(good[0])}); !errors.Is(err, ErrFailed) {
		t.Fatalf("second farm run: %v, want its one target failed", err)
	}
	checkNoLeftovers(t, c, pid, "the killed farm, after the next run")
	if imageExists(t, c, farmImage) {
		t.Errorf("the dangling farm image %s is still there", shortID(farmImage))
	}
	checkNoLeftovers(t, c, os.Getpid(), "the second run")
}

// TestTwoFarmsOneCache runs two farm processes at once on one fresh cache
// directory, both building one target: its header tree is downloaded and
// its toolchain image committed once, and both publish the module. The
// target's packages come from a signed test mirror whose kernel Makefile
// stands in for kbuild (it compiles an empty object); its base image is the
// real bookworm base under the target's own tag, so the toolchain image is
// new to the engine and made by the test (removed at its end). The
// toolchain script runs without package sources: the base image has the
// compiler already, so making the image needs no network.
func TestTwoFarmsOneCache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	ctx := t.Context()
	good, _ := engineTargets(t, ctx)
	b, _ := newTestEngine(t, "testdata/hello")
	if err := b.(*engine).ensureBase(ctx, good[0]); err != nil {
		t.Fatal(err)
	}
	c := engineClient(t)

	signer, err := debiantest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	mirror, err := debiantest.NewMirror(signer, map[string][]debiantest.Deb{"bookworm": {
		{Name: "linux-headers-9.9.9-amd64", Version: "9.9.9-1", Depends: "linux-kbuild-9.9, linux-compiler-gcc-12-x86",
			Files: map[string]string{"usr/src/linux-headers-9.9.9-amd64/Makefile": "modules:\n\tgcc -c -x c -o $(M)/hello.ko /dev/null\n"}},
		{Name: "linux-kbuild-9.9", Version: "9.9.9-1", Files: map[string]string{"usr/lib/linux-kbuild-9.9/scripts/x": ""}},
		{Name: "linux-compiler-gcc-12-x86", Version: "9.9.9-1", Depends: "gcc-12"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer mirror.Close()
	target := treeTarget(mirror.URL, "gcc", "make") // the mirror's port makes the base tag new
	target.ReplaceSources = true
	toolchain := ToolchainImage(target, []string{"gcc-12"})
	if err := c.ImageTag(ctx, BaseImage(good[0]), BaseImage(target)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeImage(t, c, BaseImage(target)) }) // the tag only
	t.Cleanup(func() { removeImage(t, c, toolchain) })

	dir := t.TempDir()
	keyring := filepath.Join(dir, "keyring.gpg")
	var kr bytes.Buffer
	if err := signer.Keyring()[0].Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyring, kr.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	type farm struct {
		cmd *exec.Cmd
		out *syncBuffer
		pub string
	}
	var farms []farm
	for i := range 2 {
		job := farmJob{Targets: []matrix.Target{target}, Source: "testdata/hello", CacheDir: cache, Keyring: keyring,
			Out: filepath.Join(dir, fmt.Sprint("out", i)), Durations: filepath.Join(dir, fmt.Sprint("durations", i))}
		cmd, out := startFarm(t, job)
		farms = append(farms, farm{cmd, out, job.Out})
	}
	var logs strings.Builder
	for i, f := range farms {
		err := f.cmd.Wait()
		logs.WriteString(f.out.String())
		if err != nil {
			t.Fatalf("farm %d: %v\n%s", i+1, err, f.out.String())
		}
	}
	t.Logf("both farms:\n%s", logs.String())

	if n := mirror.Hits.Load(); n != 2 {
		t.Errorf("%d package downloads, want 2: the headers and kbuild packages once", n)
	}
	if n := strings.Count(logs.String(), "making "+toolchain+"\n"); n != 1 {
		t.Errorf("the toolchain image %s was made %d times, want once", toolchain, n)
	}
	trees, err := filepath.Glob(filepath.Join(cache, "trees", "*", ".done"))
	if err != nil || len(trees) != 1 {
		t.Errorf("header trees: %q, want one", trees)
	}
	key, err := b.Key(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range farms {
		pub, err := NewDirPublisher(f.pub)
		if err != nil {
			t.Fatal(err)
		}
		ko, err := os.ReadFile(pub.Path(key))
		if err != nil || !bytes.HasPrefix(ko, []byte("\x7fELF")) {
			t.Errorf("farm %d published no module: %v", i+1, err)
		}
	}
}

// farmJobEnv holds the JSON farmJob that makes TestFarmProcess a farm.
const farmJobEnv = "DNSMON_TEST_FARM_JOB"

// farmJob is one farm run in a process of its own.
type farmJob struct {
	Targets []matrix.Target `json:"targets"`
	// Source is the module source directory.
	Source string `json:"source"`
	// CacheDir is the cache directory; "" is the default one.
	CacheDir string `json:"cache_dir,omitempty"`
	// Keyring, when set, is the file of the OpenPGP keys that sign the
	// package indexes, instead of Debian's.
	Keyring string `json:"keyring,omitempty"`
	// Out is the directory the modules are published to; Durations the
	// farm's file of build times.
	Out       string `json:"out"`
	Durations string `json:"durations"`
}

// TestFarmProcess is a farm run in a process of its own when the test
// binary is started by startFarm; otherwise it is skipped.
func TestFarmProcess(t *testing.T) {
	spec := os.Getenv(farmJobEnv)
	if spec == "" {
		t.Skip("the farm process of the tests that start one")
	}
	var job farmJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatal(err)
	}
	opts := []Option{WithSource(os.DirFS(job.Source)), WithModule("hello", "0.0.1"), WithLog(os.Stderr)}
	if job.CacheDir != "" {
		opts = append(opts, WithCacheDir(job.CacheDir))
	}
	if job.Keyring != "" {
		f, err := os.Open(job.Keyring)
		if err != nil {
			t.Fatal(err)
		}
		kr, err := openpgp.ReadKeyRing(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		pkgs, err := debian.NewClient(debian.WithCacheDir(job.CacheDir), debian.WithKeyring(kr))
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, WithPackageClient(pkgs))
	}
	pub, err := NewDirPublisher(job.Out)
	if err != nil {
		t.Fatal(err)
	}
	m := MatrixBuild{Publisher: pub, Options: opts, FarmOptions: []FarmOption{WithDurations(job.Durations)}}
	if _, err := m.build(t.Context(), job.Targets); err != nil {
		t.Fatal(err)
	}
}

// startFarm runs job in a new process of the test binary; its output goes
// to the returned buffer. The process is killed if the test ends first.
func startFarm(t *testing.T, job farmJob) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFarmProcess$")
	cmd.Env = append(os.Environ(), farmJobEnv+"="+string(spec))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Wait() })
	return cmd, out
}

// testFarm is a farm run of the module in src, publishing to a new
// directory, with build times kept out of the shared cache.
func testFarm(t *testing.T, c Client, src string) MatrixBuild {
	t.Helper()
	pub, err := NewDirPublisher(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return MatrixBuild{Publisher: pub,
		Options:     []Option{WithClient(c), WithSource(os.DirFS(src)), WithModule("hello", "0.0.1"), WithLog(testLog{t})},
		FarmOptions: []FarmOption{WithJobs(2), WithDurations(filepath.Join(t.TempDir(), "durations.json"))}}
}

// withoutHeaders is t pointed at a kernel directory that does not exist:
// its build fails in its container, as a broken kernel's does.
func withoutHeaders(t matrix.Target) matrix.Target {
	t.Group, t.KernelDir = t.Group+"-no-headers", "/nonexistent"
	return t
}

func engineClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := NewEngineClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitRunning waits until a builder container of process pid runs. out is
// the process's output, shown when none comes.
func waitRunning(t *testing.T, c Client, pid int, out fmt.Stringer) {
	t.Helper()
	f := filters.NewArgs(filters.Arg("label", LabelFarm+"=1"), filters.Arg("label", fmt.Sprintf("%s=%d", LabelPID, pid)),
		filters.Arg("status", "running"))
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		cs, err := c.ContainerList(t.Context(), container.ListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 0 {
			return
		}
	}
	t.Fatalf("no build container of process %d runs:\n%s", pid, out)
}

// farmLeftovers lists what a farm run of process pid may leave behind:
// its containers, and the dangling farm images that no container uses
// (those a build of another farm on the shared engine still uses are not
// leftovers).
func farmLeftovers(t *testing.T, c Client, pid int) []string {
	t.Helper()
	ctx := t.Context()
	ids, err := ContainersOf(ctx, c, pid)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, id := range ids {
		left = append(left, "container "+shortID(id))
	}
	imgs, err := c.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("dangling", "true"),
		filters.Arg("label", LabelFarm+"=1"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		users, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("ancestor", img.ID))})
		if err != nil {
			t.Fatal(err)
		}
		if len(users) == 0 {
			left = append(left, "dangling image "+shortID(strings.TrimPrefix(img.ID, "sha256:")))
		}
	}
	return left
}

// checkNoLeftovers fails t, saying when, if the farm run of process pid
// left anything behind (farmLeftovers).
func checkNoLeftovers(t *testing.T, c Client, pid int, when string) {
	t.Helper()
	if left := farmLeftovers(t, c, pid); len(left) > 0 {
		t.Errorf("%s: left behind: %s", when, strings.Join(left, ", "))
	}
}

// danglingImage imports two images in turn under one new tag, which leaves
// the first dangling, as an image made again over its tag is; with the
// farm's label or without. It returns the dangling image's ID; both images
// are removed when the test ends.
func danglingImage(t *testing.T, c *client.Client, farm bool) string {
	t.Helper()
	ctx := t.Context()
	var b [6]byte
	_, _ = rand.Read(b[:])
	tag := "dnsmon-test-dangling:" + hex.EncodeToString(b[:])
	var changes []string
	if farm {
		changes = []string{"LABEL " + LabelFarm + "=1"}
	}
	var ids []string
	for i := range 2 {
		var layer bytes.Buffer
		tw := tar.NewWriter(&layer)
		body := fmt.Sprintf("%s %d\n", tag, i)
		if err := tw.WriteHeader(&tar.Header{Name: "dangling", Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		rc, err := c.ImageImport(ctx, image.ImportSource{Source: &layer, SourceName: "-"}, tag, image.ImportOptions{Changes: changes})
		if err == nil {
			err = readStream(rc)
			rc.Close()
		}
		if err != nil {
			t.Fatalf("importing %s: %v", tag, err)
		}
		img, err := c.ImageInspect(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
		t.Cleanup(func() { removeImage(t, c, img.ID) })
	}
	return ids[0]
}

func imageExists(t *testing.T, c Client, ref string) bool {
	t.Helper()
	_, err := c.ImageInspect(t.Context(), ref)
	if err != nil && !cerrdefs.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// removeImage removes an image or tag the test made, at its end.
func removeImage(t *testing.T, c Client, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if _, err := c.ImageRemove(ctx, ref, image.RemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		t.Errorf("removing %s: %v", ref, err)
	}
}
