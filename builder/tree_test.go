package builder

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/debian/debiantest"
)

// treeMirror serves the header packages of kernel 9.9.9-amd64, which need
// gcc-12, signed by a key the returned client trusts.
func treeMirror(t *testing.T) (*debiantest.Mirror, *debian.Client) {
	t.Helper()
	m, s := signedTreeMirror(t)
	c, err := debian.NewClient(debian.WithCacheDir(t.TempDir()), debian.WithKeyring(s.Keyring()))
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

// signedTreeMirror is treeMirror's mirror and the key it signs with.
func signedTreeMirror(t *testing.T) (*debiantest.Mirror, *debiantest.Signer) {
	t.Helper()
	s, err := debiantest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	m, err := debiantest.NewMirror(s, map[string][]debiantest.Deb{"bookworm": {
		{Name: "linux-headers-9.9.9-amd64", Version: "9.9.9-1", Depends: "linux-kbuild-9.9, linux-compiler-gcc-12-x86",
			Files: map[string]string{"usr/src/linux-headers-9.9.9-amd64/Makefile": "all:\n"}},
		{Name: "linux-kbuild-9.9", Version: "9.9.9-1", Files: map[string]string{"usr/lib/linux-kbuild-9.9/scripts/x": ""}},
		{Name: "linux-compiler-gcc-12-x86", Version: "9.9.9-1", Depends: "gcc-12"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, s
}

func treeTarget(mirror string, include ...string) matrix.Target {
	t := debTarget("9.9.9-amd64")
	t.Method = matrix.MethodAptExtract
	t.Debootstrap = &matrix.Debootstrap{Suite: "bookworm", Mirror: mirror, Include: include}
	return t
}

func TestBuildFromTree(t *testing.T) {
	tests := []struct {
		name      string
		include   []string
		wantImage func(matrix.Target) string
	}{
		{"the compiler is added to the base image once", []string{"gcc", "make"},
			func(t matrix.Target) string { return ToolchainImage(t, []string{"gcc-12"}) }},
		{"the base image has the compiler", []string{"gcc-12", "make"}, BaseImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, c := treeMirror(t)
			target := treeTarget(m.URL, tc.include...)
			f := newFake()
			var mounts [][]mount.Mount
			f.run = func(fc *fakeContainer) (int, string, map[string][]byte) {
				if fc.cfg.Cmd[2] == buildScript {
					mounts = append(mounts, fc.host.Mounts)
				}
				return okRun(fc)
			}
			f.images[BaseImage(target)] = true
			b := newFakeEngine(t, f, WithPackageClient(c))
			hits := m.Hits.Load()
			for range 2 {
				mod, err := b.Build(t.Context(), target)
				if err != nil {
					t.Fatal(err)
				}
				if want := tc.wantImage(target); mod.BuilderImage != want {
					t.Errorf("built in %q, want %q", mod.BuilderImage, want)
				}
			}
			wantCommits := 0
			if tc.wantImage(target) != BaseImage(target) {
				wantCommits = 1
			}
			if len(f.commits) != wantCommits {
				t.Errorf("images made: %q, want %d", f.commits, wantCommits)
			}
			if got := m.Hits.Load() - hits; got != 2 {
				t.Errorf("%d package downloads for two builds, want 2 (the headers and kbuild, once)", got)
			}
			if len(mounts) != 2 {
				t.Fatalf("%d builds ran", len(mounts))
			}
			var targets []string
			for _, mt := range mounts[0] {
				if mt.Type != mount.TypeBind || !mt.ReadOnly {
					t.Errorf("mount %+v is not a read-only bind", mt)
				}
				targets = append(targets, mt.Target)
			}
			if want := []string{"/usr/lib/linux-kbuild-9.9", "/usr/src/linux-headers-9.9.9-amd64"}; !slices.Equal(targets, want) {
				t.Errorf("mounts %q, want %q", targets, want)
			}
			if len(f.created) != 0 {
				t.Errorf("containers left: %d", len(f.created))
			}
		})
	}
}

func TestBuildFromTreeMissingPackage(t *testing.T) {
	m, c := treeMirror(t)
	target := treeTarget(m.URL, "gcc-12")
	target.Kernel, target.Packages = "9.9.8-amd64", []string{"linux-headers-9.9.8-amd64"}
	f := newFake()
	f.images[BaseImage(target)] = true
	_, err := newFakeEngine(t, f, WithPackageClient(c)).Build(t.Context(), target)
	if err == nil || !strings.Contains(err.Error(), "linux-headers-9.9.8-amd64 is not in the package index") {
		t.Fatalf("Build: %v, want the missing package named", err)
	}
}

func TestReapDead(t *testing.T) {
	f := newFake()
	f.images["img"] = true
	for _, pid := range []string{fmt.Sprint(os.Getpid()), "999999999", "not-a-pid"} {
		if _, err := f.ContainerCreate(t.Context(), &container.Config{Image: "img",
			Labels: map[string]string{LabelFarm: "1", LabelPID: pid}}, nil, nil, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	n, err := ReapDead(t.Context(), f)
	if err != nil || n != 2 || len(f.created) != 1 {
		t.Fatalf("ReapDead removed %d (err %v), %d left; want the two of no live process removed, ours kept", n, err, len(f.created))
	}
}

// TestBuildFromKeptTree: once the mirror drops a kernel's packages, as
// Debian drops superseded kernels, the tree made from them still builds
// the kernel's module; without it the build names what is missing.
func TestBuildFromKeptTree(t *testing.T) {
	m, s := signedTreeMirror(t)
	dir := t.TempDir()
	// A fresh client per build reads the index as the mirror serves it now.
	client := func() *debian.Client {
		c, err := debian.NewClient(debian.WithCacheDir(dir), debian.WithKeyring(s.Keyring()), debian.WithMaxAge(0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	target := treeTarget(m.URL, "gcc", "make")
	f := newFake()
	f.run = okRun
	f.images[BaseImage(target)] = true
	build := func() (Module, string, error) {
		var log strings.Builder
		mod, err := newFakeEngine(t, f, WithCacheDir(dir), WithPackageClient(client()), WithLog(&log)).Build(t.Context(), target)
		return mod, log.String(), err
	}
	if _, _, err := build(); err != nil {
		t.Fatal(err)
	}
	toolchain := ToolchainImage(target, []string{"gcc-12"})
	for _, ref := range []string{BaseImage(target), toolchain} {
		if _, ok := ImageLastUse(dir, ref); !ok {
			t.Errorf("no use of %s recorded", ref)
		}
	}

	if err := m.Drop("bookworm", "linux-headers-9.9.9-amd64", "linux-kbuild-9.9", "linux-compiler-gcc-12-x86"); err != nil {
		t.Fatal(err)
	}
	hits := m.Hits.Load()
	mod, log, err := build()
	if err != nil {
		t.Fatalf("build after the mirror dropped the kernel: %v", err)
	}
	if !strings.Contains(log, "header packages are gone from the mirror") || !strings.Contains(log, "kept in the cache") {
		t.Errorf("the log does not say the kept tree is used:\n%s", log)
	}
	if mod.BuilderImage != toolchain || len(mod.HeaderBinds) != 2 {
		t.Errorf("built in %s with %d header mounts, want %s and 2", mod.BuilderImage, len(mod.HeaderBinds), toolchain)
	}
	if m.Hits.Load() != hits {
		t.Error("packages were downloaded for the kept tree")
	}

	es, err := headertree.NewStore(dir, nil).Entries()
	if err != nil || len(es) != 1 {
		t.Fatalf("trees: %+v %v", es, err)
	}
	if err := headertree.NewStore(dir, nil).Remove(es[0].Key); err != nil {
		t.Fatal(err)
	}
	_, _, err = build()
	var missing *headertree.MissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "no header tree of it is kept in the cache") {
		t.Fatalf("build without the tree: %v, want the missing package and no kept tree", err)
	}
}
