package builder

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/debian/debiantest"
)

// treeMirror serves the header packages of kernel 9.9.9-amd64, which need
// gcc-12, signed by a key the returned client trusts.
func treeMirror(t *testing.T) (*debiantest.Mirror, *debian.Client) {
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
	c, err := debian.NewClient(debian.WithCacheDir(t.TempDir()), debian.WithKeyring(s.Keyring()))
	if err != nil {
		t.Fatal(err)
	}
	return m, c
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
