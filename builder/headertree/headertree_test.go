package headertree

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/debian/debiantest"
)

// index is a bookworm-like index: the headers of two kernels, the shared
// kbuild of two versions, a compiler metapackage and an image.
var index = []debian.Package{
	{Name: "linux-headers-6.1.0-50-amd64", Version: "6.1.176-1", SHA256: "a1",
		Depends: "linux-headers-6.1.0-50-common (= 6.1.176-1), linux-kbuild-6.1 (>= 6.1.176-1), linux-compiler-gcc-12-x86 (>= 6.1.176-1), linux-image-6.1.0-50-amd64 | linux-image-6.1.0-50-amd64-unsigned"},
	{Name: "linux-headers-6.1.0-50-common", Version: "6.1.176-1", SHA256: "c1", Depends: "linux-base"},
	{Name: "linux-headers-6.1.0-50-common", Version: "6.1.170-1", SHA256: "c0"},
	{Name: "linux-kbuild-6.1", Version: "6.1.170-1", SHA256: "k0", Depends: "libc6 (>= 2.34)"},
	{Name: "linux-kbuild-6.1", Version: "6.1.176-1", SHA256: "k1", Depends: "libc6 (>= 2.34), libssl3:amd64 (>= 3.0.0)"},
	{Name: "linux-compiler-gcc-12-x86", Version: "6.1.176-1", SHA256: "g1", Depends: "gcc-12 | nothing, binutils"},
	{Name: "linux-headers-6.1.0-49-amd64", Version: "6.1.170-1", SHA256: "a0",
		Depends: "linux-headers-6.1.0-49-common (= 6.1.170-1), linux-kbuild-6.1 (>= 6.1.170-1)"},
	{Name: "linux-headers-6.1.0-51-amd64", Version: "6.1.180-1", SHA256: "a2",
		Depends: "linux-kbuild-6.1 (>= 6.1.180-1)"},
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name        string
		roots       []string
		wantUnpack  []string // name=version
		wantInstall []string
		wantMissing string
	}{
		{name: "headers, common of the exact version, newest kbuild, the compiler to install",
			roots:       []string{"linux-headers-6.1.0-50-amd64"},
			wantUnpack:  []string{"linux-headers-6.1.0-50-amd64=6.1.176-1", "linux-headers-6.1.0-50-common=6.1.176-1", "linux-kbuild-6.1=6.1.176-1"},
			wantInstall: []string{"binutils", "gcc-12", "libc6", "libssl3"}},
		{name: "a dependency no version satisfies", roots: []string{"linux-headers-6.1.0-51-amd64"}, wantMissing: "linux-kbuild-6.1"},
		{name: "a dependency the index lacks", roots: []string{"linux-headers-6.1.0-49-amd64"}, wantMissing: "linux-headers-6.1.0-49-common"},
		{name: "a root the index lacks", roots: []string{"linux-headers-9.9.9-amd64"}, wantMissing: "linux-headers-9.9.9-amd64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Resolve(index, tc.roots)
			if tc.wantMissing != "" {
				var me *MissingError
				if !errors.As(err, &me) || me.Package != tc.wantMissing {
					t.Fatalf("Resolve: err = %v, want a MissingError for %s", err, tc.wantMissing)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, pkg := range p.Unpack {
				got = append(got, pkg.Name+"="+pkg.Version)
			}
			if !slices.Equal(got, tc.wantUnpack) || !slices.Equal(p.Install, tc.wantInstall) {
				t.Errorf("unpack %q install %q, want %q %q", got, p.Install, tc.wantUnpack, tc.wantInstall)
			}
		})
	}
}

func TestPlanKey(t *testing.T) {
	a, err := Resolve(index, []string{"linux-headers-6.1.0-50-amd64"})
	if err != nil {
		t.Fatal(err)
	}
	b := a
	b.Unpack = slices.Clone(a.Unpack)
	b.Unpack[0].SHA256 = "other"
	if a.Key() == b.Key() || len(a.Key()) != 64 {
		t.Errorf("Key does not follow the packages' digests: %s %s", a.Key(), b.Key())
	}
}

// testMirror serves one kernel's header packages, signed.
func testMirror(t *testing.T) (*debiantest.Mirror, *debian.Client) {
	t.Helper()
	s, err := debiantest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	m, err := debiantest.NewMirror(s, map[string][]debiantest.Deb{"bookworm": {
		{Name: "linux-headers-9.9.9-amd64", Version: "9.9.9-1", Depends: "linux-kbuild-9.9, gcc-12",
			Files: map[string]string{"usr/src/linux-headers-9.9.9-amd64/Makefile": "all:\n",
				"usr/src/linux-headers-9.9.9-amd64/arch/x86/Makefile":        "x86\n",
				"usr/src/linux-headers-9.9.9-amd64/arch/mips/Makefile":       "mips\n",
				"usr/src/linux-headers-9.9.9-amd64/include/config/auto.conf": "CONFIG_X=y\n",
				"usr/src/linux-headers-9.9.9-amd64/include/config/X":         ""},
			Links: map[string]string{"usr/src/linux-headers-9.9.9-amd64/scripts": "../../lib/linux-kbuild-9.9/scripts"}},
		{Name: "linux-kbuild-9.9", Version: "9.9.9-1",
			Files: map[string]string{"usr/lib/linux-kbuild-9.9/scripts/Makefile.build": "x\n", "lib/modules/9.9.9-amd64/x": ""}},
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

func mirrorPlan(t *testing.T, m *debiantest.Mirror, c *debian.Client) Plan {
	t.Helper()
	pkgs, err := c.Packages(t.Context(), debian.Suite{Name: "bookworm", BaseURL: m.URL, Component: "main", Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(pkgs, []string{"linux-headers-9.9.9-amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStoreUse(t *testing.T) {
	m, c := testMirror(t)
	p := mirrorPlan(t, m, c)
	s := NewStore(t.TempDir(), c)

	// Several users at once make the tree once.
	var wg sync.WaitGroup
	var failed atomic.Int32
	trees := make([]Tree, 4)
	for i := range trees {
		wg.Go(func() {
			tree, release, err := s.Use(t.Context(), p)
			if err != nil {
				t.Error(err)
				failed.Add(1)
				return
			}
			defer release()
			trees[i] = tree
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	if got := m.Hits.Load(); got != 2 {
		t.Errorf("%d package downloads, want 2 (each package once)", got)
	}
	tree := trees[0]
	if b, err := os.ReadFile(filepath.Join(tree.Dir, "usr/src/linux-headers-9.9.9-amd64/scripts/Makefile.build")); err != nil || string(b) != "x\n" {
		t.Errorf("the headers' scripts symlink does not reach kbuild: %q, %v", b, err)
	}
	// What a module build reads is there; what it never reads is not.
	for name, want := range map[string]bool{
		"arch/x86/Makefile": true, "include/config/auto.conf": true,
		"arch/mips": false, "include/config/X": false,
	} {
		_, err := os.Lstat(filepath.Join(tree.Dir, "usr/src/linux-headers-9.9.9-amd64", name))
		if got := err == nil; got != want {
			t.Errorf("%s in the tree: %v, want %v", name, got, want)
		}
	}
	binds, err := tree.Binds()
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, b := range binds {
		targets = append(targets, b.Target)
	}
	want := []string{"/usr/lib/linux-kbuild-9.9", "/usr/lib/modules", "/usr/src/linux-headers-9.9.9-amd64"}
	if !slices.Equal(targets, want) {
		t.Errorf("binds %q, want %q", targets, want)
	}

	// A second store on the same directory (another process) finds it.
	if _, release, err := NewStore(filepath.Dir(filepath.Dir(tree.Dir)), c).Use(t.Context(), p); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	if got := m.Hits.Load(); got != 2 {
		t.Errorf("%d package downloads after reuse, want 2", got)
	}
}

func TestStoreRefusesTamperedPackage(t *testing.T) {
	m, c := testMirror(t)
	p := mirrorPlan(t, m, c)
	m.Tamper.Store(true)
	dir := t.TempDir()
	_, _, err := NewStore(dir, c).Use(t.Context(), p)
	var de *debian.DigestError
	if !errors.As(err, &de) {
		t.Fatalf("Use with a tampered package: err = %v, want a DigestError", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "trees")); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return e.IsDir() }) {
		t.Errorf("a tree was left after a failed download: %v", ents)
	}
	m.Tamper.Store(false)
	if _, release, err := NewStore(dir, c).Use(context.Background(), p); err != nil {
		t.Fatalf("Use after the mirror is repaired: %v", err)
	} else {
		release()
	}
}

func TestSkipper(t *testing.T) {
	const h = "usr/src/linux-headers-6.1.0-50-common/"
	tests := []struct {
		name string
		typ  byte
		size int64
		arch string
		want bool
	}{
		{h + "arch/mips/Makefile", tar.TypeReg, 10, "x86", true},
		{h + "arch/mips", tar.TypeDir, 0, "x86", true},
		{h + "arch/x86/Makefile", tar.TypeReg, 10, "x86", false},
		{h + "arch/x86", tar.TypeDir, 0, "x86", false},
		{h + "arch", tar.TypeDir, 0, "x86", false},
		{h + "arch/mips/Makefile", tar.TypeReg, 10, "", false}, // unknown architecture: keep all
		{h + "include/config/SMP", tar.TypeReg, 0, "x86", true},
		{h + "include/config/auto.conf", tar.TypeReg, 900, "x86", false},
		{h + "include/config", tar.TypeDir, 0, "x86", false},
		{h + "include/linux/module.h", tar.TypeReg, 0, "x86", false},
		{"usr/lib/linux-kbuild-6.1/arch/mips/x", tar.TypeReg, 0, "x86", false}, // only the headers' own trees
		{"usr/src/other/arch/mips/x", tar.TypeReg, 0, "x86", false},
	}
	for _, tc := range tests {
		if got := skipper(tc.arch)(&tar.Header{Name: tc.name, Typeflag: tc.typ, Size: tc.size}); got != tc.want {
			t.Errorf("skip %s (arch %q) = %v, want %v", tc.name, tc.arch, got, tc.want)
		}
	}
}

func TestPlanSrcArch(t *testing.T) {
	for debArch, want := range map[string]string{"amd64": "x86", "arm64": "arm64", "all": "", "hurd-amd64": ""} {
		p := Plan{Unpack: []debian.Package{{Name: "linux-headers-x", Fields: map[string]string{"Architecture": debArch}}}}
		if got := p.SrcArch(); got != want {
			t.Errorf("SrcArch of a %s package = %q, want %q", debArch, got, want)
		}
	}
}

// TestResolveUbuntu: Ubuntu's headers of a kernel line or cloud flavour
// are in linux-LINE-headers-ABI packages, unpacked like Debian's -common.
func TestResolveUbuntu(t *testing.T) {
	index := []debian.Package{
		{Name: "linux-headers-7.0.0-1021-aws", Version: "7.0.0-1021.21~24.04.1", SHA256: "a",
			Depends: "linux-aws-7.0-headers-7.0.0-1021, libc6 (>= 2.38), libelf1t64 (>= 0.142), libssl3t64 (>= 3.0.0), zlib1g (>= 1:1.2.3.3)"},
		{Name: "linux-aws-7.0-headers-7.0.0-1021", Version: "7.0.0-1021.21~24.04.1", SHA256: "b", Depends: "coreutils"},
		{Name: "linux-headers-6.8.0-155-generic", Version: "6.8.0-155.165", SHA256: "c",
			Depends: "linux-headers-6.8.0-155, libc6 (>= 2.38), libelf1t64 (>= 0.142)"},
		{Name: "linux-headers-6.8.0-155", Version: "6.8.0-155.165", SHA256: "d", Depends: "coreutils"},
	}
	tests := []struct {
		root        string
		wantUnpack  []string
		wantInstall []string
	}{
		{"linux-headers-7.0.0-1021-aws", []string{"linux-aws-7.0-headers-7.0.0-1021", "linux-headers-7.0.0-1021-aws"},
			[]string{"coreutils", "libc6", "libelf1t64", "libssl3t64", "zlib1g"}},
		{"linux-headers-6.8.0-155-generic", []string{"linux-headers-6.8.0-155", "linux-headers-6.8.0-155-generic"},
			[]string{"coreutils", "libc6", "libelf1t64"}},
	}
	for _, tc := range tests {
		p, err := Resolve(index, []string{tc.root})
		if err != nil {
			t.Fatalf("%s: %v", tc.root, err)
		}
		var got []string
		for _, pkg := range p.Unpack {
			got = append(got, pkg.Name)
		}
		if !slices.Equal(got, tc.wantUnpack) || !slices.Equal(p.Install, tc.wantInstall) {
			t.Errorf("%s: unpack %q install %q, want %q and %q", tc.root, got, p.Install, tc.wantUnpack, tc.wantInstall)
		}
	}
}
