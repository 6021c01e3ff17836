package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/builder/internal/flock"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/debian/debiantest"
)

// fakeEngine holds images and containers; removing an image's last tag
// removes it.
type fakeEngine struct {
	mu         sync.Mutex
	images     []image.Summary
	containers []container.Summary
	removed    []string         // references, in order
	refuse     map[string]error // by reference
	forced     bool
}

var _ Engine = (*fakeEngine)(nil)

func (f *fakeEngine) ImageList(context.Context, image.ListOptions) ([]image.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []image.Summary
	for _, s := range f.images {
		if !slices.ContainsFunc(s.RepoTags, func(t string) bool { return !slices.Contains(f.removed, t) }) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func (f *fakeEngine) ImageRemove(_ context.Context, ref string, o image.RemoveOptions) ([]image.DeleteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.Force {
		f.forced = true
	}
	if err := f.refuse[ref]; err != nil {
		return nil, err
	}
	f.removed = append(f.removed, ref)
	return []image.DeleteResponse{{Untagged: ref}}, nil
}

func (f *fakeEngine) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.containers), nil
}

// Builder images of the fixture: a debootstrap base, a toolchain image
// made from it, and a headers image made from a registry image.
const (
	baseRef      = "dnsmon-base:bookworm-0123456789ab"
	toolchainRef = "dnsmon-toolchain:bookworm-0123456789ab"
	headersRef   = "dnsmon-headers:5.14.0-1.el9.x86_64-0123456789ab"
	registryRef  = "docker.io/rockylinux/rockylinux:9"
	mib          = 1 << 20
)

// fixture is a cache directory with header trees and packages from a
// signed test mirror, and an engine with builder images.
type fixture struct {
	dir     string
	signer  *debiantest.Signer
	mirror  *debiantest.Mirror
	matrix  *matrix.File // the group of every kernel of the mirror
	engine  *fakeEngine
	now     time.Time
	kernels map[string]string // kernel → its tree's key
}

// group is the kernels file of the fixture, listing kernels.
const group = `groups:
  - name: debian-12
    distro: debian
    release: "12"
    debootstrap: {suite: bookworm, mirror: %s, include: [gcc-12, make]}
    headers:
      method: apt-extract
      packages: ["linux-headers-{{.Release}}"]
    kernels: [%s]
`

// newFixture makes the trees of the kernels 9.9.1 to 9.9.3 and the
// images, each last used the days ago that ages gives (trees, then their
// packages, then base, toolchain, headers; -1: no use recorded).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := debiantest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	var debs []debiantest.Deb
	var names []string
	for _, k := range []string{"9.9.1-amd64", "9.9.2-amd64", "9.9.3-amd64"} {
		v := strings.TrimSuffix(k, "-amd64")
		debs = append(debs,
			debiantest.Deb{Name: "linux-headers-" + k, Version: v + "-1", Depends: "linux-kbuild-" + v + ", gcc-12",
				Files: map[string]string{"usr/src/linux-headers-" + k + "/Makefile": strings.Repeat("x", 10000)}},
			debiantest.Deb{Name: "linux-kbuild-" + v, Version: v + "-1",
				Files: map[string]string{"usr/lib/linux-kbuild-" + v + "/scripts/x": strings.Repeat("y", 5000)}})
		names = append(names, k)
	}
	m, err := debiantest.NewMirror(s, map[string][]debiantest.Deb{"bookworm": debs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	f := &fixture{dir: t.TempDir(), signer: s, mirror: m, now: time.Now(), kernels: map[string]string{}}
	f.matrix, err = matrix.Parse("all.yaml", []byte(fmt.Sprintf(group, m.URL, strings.Join(names, ", "))))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range names {
		f.kernels[k] = f.makeTree(t, k)
	}
	f.engine = &fakeEngine{images: []image.Summary{
		{ID: "sha256:base", RepoTags: []string{baseRef}, Labels: map[string]string{builder.LabelFarm: "1"}, Size: 300 * mib, Created: f.daysAgo(60).Unix()},
		{ID: "sha256:tool", ParentID: "sha256:base", RepoTags: []string{toolchainRef}, Labels: map[string]string{builder.LabelFarm: "1"}, Size: 400 * mib, Created: f.daysAgo(59).Unix()},
		{ID: "sha256:rocky", RepoTags: []string{registryRef}, Size: 200 * mib, Created: f.daysAgo(100).Unix()},
		{ID: "sha256:hdr", ParentID: "sha256:rocky", RepoTags: []string{headersRef}, Labels: map[string]string{builder.LabelFarm: "1"}, Size: 700 * mib, Created: f.daysAgo(50).Unix()},
	}}
	return f
}

func (f *fixture) daysAgo(n int) time.Time {
	return f.now.Add(-time.Duration(n)*24*time.Hour - time.Minute)
}

// client is a package client that reads the mirror as it is now.
func (f *fixture) client(t *testing.T) *debian.Client {
	t.Helper()
	c, err := debian.NewClient(debian.WithCacheDir(f.dir), debian.WithKeyring(f.signer.Keyring()), debian.WithMaxAge(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) target(t *testing.T, kernel string) matrix.Target {
	t.Helper()
	tg, err := matrix.TargetFor(f.matrix, "", kernel, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// makeTree makes kernel's tree the way a build does, and returns its key.
func (f *fixture) makeTree(t *testing.T, kernel string) string {
	t.Helper()
	c := f.client(t)
	s := headertree.NewStore(f.dir, c)
	plan, err := builder.PlanTree(t.Context(), c, s, f.target(t, kernel))
	if err != nil {
		t.Fatal(err)
	}
	tree, release, err := plan.Use(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	release()
	return tree.Key
}

// kernelsFile writes a kernels file listing kernels.
func (f *fixture) kernelsFile(t *testing.T, kernels ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kernels.yaml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(group, f.mirror.URL, strings.Join(kernels, ", "))), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// age sets the last uses: of the three trees, of their packages, and of
// the base, toolchain and headers images (-1: none recorded).
func (f *fixture) age(t *testing.T, trees, packages [3]int, images [3]int) {
	t.Helper()
	touch := func(p string, days int) {
		if err := os.Chtimes(p, f.daysAgo(days), f.daysAgo(days)); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range []string{"9.9.1-amd64", "9.9.2-amd64", "9.9.3-amd64"} {
		touch(filepath.Join(f.dir, "trees", f.kernels[k], ".done"), trees[i])
		debs, _ := filepath.Glob(filepath.Join(f.dir, "debs", "*"+strings.TrimSuffix(k, "-amd64")+"*.deb"))
		if len(debs) != 2 {
			t.Fatalf("packages of %s: %q", k, debs)
		}
		for _, d := range debs {
			touch(d, packages[i])
		}
	}
	for i, ref := range []string{baseRef, toolchainRef, headersRef} {
		p := builder.ImageUsePath(f.dir, ref)
		if images[i] < 0 {
			_ = os.Remove(p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		touch(p, images[i])
	}
}

func (f *fixture) prune(t *testing.T, kernelsFile string, opts ...Option) (Report, string, error) {
	t.Helper()
	var log strings.Builder
	rep, err := Prune(t.Context(), kernelsFile, append([]Option{WithCacheDir(f.dir), WithEngine(f.engine),
		WithPackageClient(f.client(t)), WithLog(&log), WithClock(func() time.Time { return f.now })}, opts...)...)
	t.Logf("log:\n%s\nsummary:\n%v", log.String(), rep)
	return rep, log.String(), err
}

// left lists what the fixture still holds: "tree 9.9.1-amd64",
// "package NAME.deb", "image REF".
func (f *fixture) left(t *testing.T) []string {
	t.Helper()
	var out []string
	for k, key := range f.kernels {
		if headertree.NewStore(f.dir, nil).Has(key) {
			out = append(out, "tree "+k)
		}
	}
	debs, _ := filepath.Glob(filepath.Join(f.dir, "debs", "*.deb"))
	for _, d := range debs {
		out = append(out, "package "+filepath.Base(d))
	}
	imgs, _ := f.engine.ImageList(t.Context(), image.ListOptions{})
	for _, s := range imgs {
		if s.Labels[builder.LabelFarm] == "1" {
			out = append(out, "image "+s.RepoTags[0])
		}
	}
	slices.Sort(out)
	return out
}

// sorted is the entries of lists in left's order.
func sorted(lists ...[]string) []string {
	out := slices.Concat(lists...)
	slices.Sort(out)
	return out
}

func debs(v string) []string {
	return []string{"package linux-headers-" + v + "-amd64_" + v + "-1_amd64.deb", "package linux-kbuild-" + v + "_" + v + "-1_amd64.deb"}
}

func TestPruneLRU(t *testing.T) {
	everything := sorted([]string{"image " + baseRef, "image " + headersRef, "image " + toolchainRef},
		debs("9.9.1"), debs("9.9.2"), debs("9.9.3"), []string{"tree 9.9.1-amd64", "tree 9.9.2-amd64", "tree 9.9.3-amd64"})
	tests := map[string]struct {
		opts []Option
		// maxSizeBelow, when set, is the size limit: the total less it.
		maxSizeBelow int64
		wantRemoved  []string
		wantLog      []string
	}{
		"keep-days 30": {opts: []Option{WithMaxAge(30 * 24 * time.Hour)},
			wantRemoved: sorted([]string{"image " + headersRef}, debs("9.9.1"), []string{"tree 9.9.1-amd64"}),
			wantLog: []string{"removed tree ", "(linux-headers-9.9.1-amd64 9.9.1-1, linux-kbuild-9.9.1 9.9.1-1)",
				"removed image " + headersRef + ": 500.0 MiB, last used ", "removed package linux-kbuild-9.9.1_9.9.1-1_amd64.deb"}},
		"keep-days 0": {opts: []Option{WithMaxAge(0)}, wantRemoved: everything},
		"max-size 0":  {opts: []Option{WithMaxSize(0)}, wantRemoved: everything},
		// The oldest entry is the first package of 9.9.1 (50 days).
		"max-size just below the total": {maxSizeBelow: 1, wantRemoved: debs("9.9.1")[:1]},
		// The base image goes after the toolchain image built on it,
		// whose use counts as the base's.
		"max-size 12M": {opts: []Option{WithMaxSize(12 * mib)},
			wantRemoved: sorted([]string{"image " + baseRef, "image " + headersRef, "image " + toolchainRef},
				debs("9.9.1"), debs("9.9.2"), []string{"tree 9.9.1-amd64", "tree 9.9.2-amd64"}),
			wantLog: []string{"removed image " + toolchainRef + ": 100.0 MiB, last used ", "removed image " + baseRef +
				": 300.0 MiB, last used ", "(" + toolchainRef + ", built on it)"}},
		"keep-days 30, dry run": {opts: []Option{WithMaxAge(30 * 24 * time.Hour), WithDryRun(true)},
			wantLog: []string{"would remove tree ", "would remove image " + headersRef}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			// trees 40, 20 and 1 days; packages 50, 25, 2; base made 60
			// days ago, toolchain used 10 days ago, headers 35.
			f.age(t, [3]int{40, 20, 1}, [3]int{50, 25, 2}, [3]int{-1, 10, 35})
			before := f.left(t)
			if !slices.Equal(before, everything) {
				t.Fatalf("fixture holds %q", before)
			}
			opts := tc.opts
			if tc.maxSizeBelow > 0 {
				rep, _, err := f.prune(t, f.kernelsFile(t, "9.9.4-amd64"), WithMaxAge(1000*24*time.Hour), WithDryRun(true))
				if err != nil {
					t.Fatal(err)
				}
				opts = []Option{WithMaxSize(rep.Before.Total() - tc.maxSizeBelow)}
			}
			rep, log, err := f.prune(t, f.kernelsFile(t, "9.9.4-amd64"), opts...)
			if err != nil {
				t.Fatal(err)
			}
			var removed []string
			for _, e := range before {
				if !slices.Contains(f.left(t), e) {
					removed = append(removed, e)
				}
			}
			if !slices.Equal(removed, tc.wantRemoved) {
				t.Errorf("removed %q\nwant %q", removed, tc.wantRemoved)
			}
			for _, w := range tc.wantLog {
				if !strings.Contains(log, w) {
					t.Errorf("the log lacks %q", w)
				}
			}
			if rep.Before.Images != 900*mib {
				t.Errorf("images take %d bytes, want 900 MiB (each its own layers)", rep.Before.Images)
			}
			if rep.Before.Total()-rep.After.Total() != rep.Freed || rep.Freed == 0 {
				t.Errorf("freed %d, before %d, after %d", rep.Freed, rep.Before.Total(), rep.After.Total())
			}
			if f.engine.forced {
				t.Error("an image removal was forced")
			}
			if !strings.Contains(rep.String(), "freed "+FormatBytes(rep.Freed)) && !strings.Contains(rep.String(), "would free") {
				t.Errorf("summary %q", rep.String())
			}
		})
	}
}

// TestPruneSkipsWhatIsInUse leaves a tree a build holds, the packages
// while a tree is being made, and the images containers use or the
// engine will not remove, and never forces.
func TestPruneSkipsWhatIsInUse(t *testing.T) {
	f := newFixture(t)
	f.age(t, [3]int{40, 40, 40}, [3]int{40, 40, 40}, [3]int{40, 40, 40})
	s := headertree.NewStore(f.dir, nil)
	_, releaseTree, err := s.UseKey(t.Context(), f.kernels["9.9.1-amd64"])
	if err != nil {
		t.Fatal(err)
	}
	making, err := flock.Shared(t.Context(), filepath.Join(f.dir, "trees", "packages.lock"))
	if err != nil {
		t.Fatal(err)
	}
	f.engine.containers = []container.Summary{{ID: "c0ffee0123456789", ImageID: "sha256:hdr"}}
	f.engine.refuse = map[string]error{toolchainRef: fmt.Errorf("Error response from daemon: %w", cerrdefs.ErrConflict)}

	for _, dry := range []bool{true, false} {
		rep, log, err := f.prune(t, f.kernelsFile(t, "9.9.4-amd64"), WithMaxAge(0), WithDryRun(dry))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{
			"skipped tree " + f.kernels["9.9.1-amd64"][:12] + " (linux-headers-9.9.1-amd64 9.9.1-1, linux-kbuild-9.9.1 9.9.1-1): a build is using it",
			"skipped the downloaded packages: a header tree is being made from them",
			"skipped image " + headersRef + ": container c0ffee012345 uses it",
		} {
			if !strings.Contains(log, w) {
				t.Errorf("dry run %v: the log lacks %q", dry, w)
			}
		}
		// A dry run does not ask the engine, which refuses to remove the
		// toolchain image, and so the base image it is built on stays.
		for _, w := range []string{"skipped image " + toolchainRef + ": the engine refuses", "skipped image " + baseRef + ": an image that stays is built on it"} {
			if said := strings.Contains(log, w); said == dry {
				t.Errorf("dry run %v: the log says %q: %v, want %v", dry, w, said, !dry)
			}
		}
		if strings.Count(log, "skipped the downloaded packages") != 1 {
			t.Error("the packages' skip is not said once")
		}
		wantSkipped := 10 // a tree, 6 packages, 3 images
		if dry {
			wantSkipped = 8
		}
		if rep.Skipped != wantSkipped || !strings.Contains(rep.String(), fmt.Sprintf("skipped %d entries in use", wantSkipped)) {
			t.Errorf("dry run %v: skipped %d, want %d; summary %q", dry, rep.Skipped, wantSkipped, rep.String())
		}
	}
	want := sorted([]string{"image " + baseRef, "image " + headersRef, "image " + toolchainRef},
		debs("9.9.1"), debs("9.9.2"), debs("9.9.3"), []string{"tree 9.9.1-amd64"})
	if got := f.left(t); !slices.Equal(got, want) {
		t.Errorf("left %q\nwant %q", got, want)
	}
	if f.engine.forced {
		t.Error("an image removal was forced")
	}

	releaseTree()
	making()
	if _, _, err := f.prune(t, f.kernelsFile(t, "9.9.4-amd64"), WithMaxAge(0), WithKinds(Trees, Packages)); err != nil {
		t.Fatal(err)
	}
	want = []string{"image " + baseRef, "image " + headersRef, "image " + toolchainRef}
	if got := f.left(t); !slices.Equal(got, want) {
		t.Errorf("once free, left %q\nwant %q", got, want)
	}
}

// TestPruneKeepsTheOnlyCopy keeps the tree of a kernel that kernels.yaml
// lists and the mirror no longer serves, which the build then still
// finds, and that of a listed kernel the mirror still serves; the tree of
// a kernel no longer listed is removed like any other.
func TestPruneKeepsTheOnlyCopy(t *testing.T) {
	f := newFixture(t)
	f.age(t, [3]int{40, 40, 40}, [3]int{40, 40, 40}, [3]int{40, 40, 40})
	if err := f.mirror.Drop("bookworm", "linux-headers-9.9.1-amd64", "linux-kbuild-9.9.1", "linux-headers-9.9.2-amd64", "linux-kbuild-9.9.2"); err != nil {
		t.Fatal(err)
	}
	kernels := f.kernelsFile(t, "9.9.1-amd64", "9.9.3-amd64")
	rep, log, err := f.prune(t, kernels, WithMaxAge(0))
	if err != nil {
		t.Fatal(err)
	}
	key := f.kernels["9.9.1-amd64"]
	w := "kept tree " + key[:12] + " (linux-headers-9.9.1-amd64 9.9.1-1, linux-kbuild-9.9.1 9.9.1-1): kernel 9.9.1-amd64 of group debian-12 is in kernels.yaml " +
		"and its mirror no longer serves its headers (package linux-headers-9.9.1-amd64 is not in the package index): this tree is their only copy"
	if !strings.Contains(log, w) {
		t.Errorf("the log lacks %q", w)
	}
	w = "kept tree " + f.kernels["9.9.3-amd64"][:12] + " (linux-headers-9.9.3-amd64 9.9.3-1, linux-kbuild-9.9.3 9.9.3-1): kernel 9.9.3-amd64 of group debian-12 is in kernels.yaml: " +
		"its mirror still serves its headers, but drops superseded kernels, and this tree would then be their only copy"
	if !strings.Contains(log, w) {
		t.Errorf("the log lacks %q", w)
	}
	if rep.Kept != 2 || !strings.Contains(rep.String(), "kept 2 header trees: the headers of kernels kernels.yaml lists") {
		t.Errorf("kept %d; summary %q", rep.Kept, rep.String())
	}
	if got := f.left(t); !slices.Equal(got, []string{"tree 9.9.1-amd64", "tree 9.9.3-amd64"}) {
		t.Errorf("left %q, want the trees of 9.9.1 and 9.9.3", got)
	}

	// The build still finds it, and only it.
	c := f.client(t)
	s := headertree.NewStore(f.dir, c)
	plan, err := builder.PlanTree(t.Context(), c, s, f.target(t, "9.9.1-amd64"))
	if err != nil || plan.Gone == nil || plan.Key != key || !slices.Equal(plan.Install, []string{"gcc-12"}) {
		t.Fatalf("PlanTree of the dropped, listed kernel: %+v, %v; want the kept tree %s", plan, err, key[:12])
	}
	var missing *headertree.MissingError
	if _, err := builder.PlanTree(t.Context(), c, s, f.target(t, "9.9.2-amd64")); !errors.As(err, &missing) {
		t.Errorf("PlanTree of the dropped, unlisted kernel: %v, want a MissingError", err)
	}
	if plan, err := builder.PlanTree(t.Context(), c, s, f.target(t, "9.9.3-amd64")); err != nil || plan.Gone != nil || plan.Key != f.kernels["9.9.3-amd64"] {
		t.Errorf("PlanTree of the served kernel: %+v, %v", plan, err)
	}

	// Once kernels.yaml no longer lists them, they go.
	if _, _, err := f.prune(t, f.kernelsFile(t, "9.9.4-amd64"), WithMaxAge(0)); err != nil {
		t.Fatal(err)
	}
	if got := f.left(t); len(got) != 0 {
		t.Errorf("left %q, want nothing", got)
	}
}

// TestPruneNeedsTheKernelsFile: without it no tree can be told
// irreplaceable, so nothing is removed.
func TestPruneNeedsTheKernelsFile(t *testing.T) {
	f := newFixture(t)
	before := f.left(t)
	if _, _, err := f.prune(t, filepath.Join(t.TempDir(), "kernels.yaml"), WithMaxAge(0)); !errors.As(err, new(*KernelsError)) || !strings.Contains(err.Error(), "kernels.yaml") {
		t.Errorf("Prune without a kernels file: %v", err)
	}
	if got := f.left(t); !slices.Equal(got, before) {
		t.Errorf("removed %q", before)
	}
	if _, err := Prune(t.Context(), "kernels.yaml", WithCacheDir(f.dir)); err == nil || !strings.Contains(err.Error(), "neither a maximum age nor a maximum size") {
		t.Errorf("Prune without a limit: %v", err)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 83*mib + mib/10: "83.1 MiB", 20 << 30: "20.0 GiB", 3 << 40: "3.0 TiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
