package cache

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// countingTransport counts the package downloads (below pool/).
type countingTransport struct{ packages atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/pool/") {
		c.packages.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestPruneAndRebuild builds the newest bookworm kernel's module through
// its header tree on the real engine, prunes everything, and builds
// again: the packages are downloaded again, the tree made again, and the
// module builds. It prunes trees and packages only, in a cache of its
// own: the engine's images are shared with the other tests.
func TestPruneAndRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds in containers")
	}
	ctx := t.Context()
	dir := t.TempDir()
	counter := &countingTransport{}
	pkgs, err := debian.NewClient(debian.WithCacheDir(dir), debian.WithHTTPClient(&http.Client{Transport: counter}))
	if err != nil {
		t.Fatal(err)
	}
	const kernelsFile = "../../kernels.yaml"
	f, err := matrix.Load(kernelsFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := matrix.DebianIndex(pkgs).NewestKernel(ctx, matrix.KernelQuery{Distro: "debian", Mirror: matrix.DefaultDebianMirror, Suites: []string{"bookworm"}, Flavour: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	target, err := matrix.TargetFor(f, "bookworm", k, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !builder.UsesTree(target) {
		t.Fatalf("%s does not build against a header tree", target.Name())
	}
	engine, err := builder.NewEngineClient()
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	var blog strings.Builder // one build at a time writes it
	defer func() { t.Logf("builds:\n%s", blog.String()) }()
	// The builder images are the engine's, shared with the tests of the
	// other packages, which run at the same time and make them under a
	// lock in the shared cache directory: made through that directory
	// first, they are made once, not once here and once there.
	shared, err := builder.New(builder.WithClient(engine), builder.WithSource(os.DirFS("../testdata/hello")),
		builder.WithModule("hello", "0.0.1"), builder.WithLog(&blog))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Build(ctx, target); err != nil {
		t.Fatalf("building through the shared cache: %v", err)
	}
	b, err := builder.New(builder.WithClient(engine), builder.WithCacheDir(dir), builder.WithPackageClient(pkgs),
		builder.WithSource(os.DirFS("../testdata/hello")), builder.WithModule("hello", "0.0.1"), builder.WithLog(&blog))
	if err != nil {
		t.Fatal(err)
	}
	store := headertree.NewStore(dir, nil)
	build := func(run string) {
		t.Helper()
		m, err := b.Build(ctx, target)
		if err != nil {
			t.Fatalf("%s build: %v", run, err)
		}
		if !bytes.HasPrefix(m.Data, []byte("\x7fELF")) || !bytes.Contains(m.Data, []byte("vermagic="+k+" ")) {
			t.Fatalf("%s build: not a module for %s", run, k)
		}
		if es, err := store.Entries(); err != nil || len(es) != 1 || !es[0].Complete {
			t.Fatalf("%s build: trees %+v, %v; want one", run, es, err)
		}
	}
	debs := func() []string {
		t.Helper()
		ds, err := filepath.Glob(filepath.Join(dir, "debs", "*.deb"))
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}

	build("first")
	first := counter.packages.Load()
	if first == 0 || len(debs()) == 0 {
		t.Fatalf("the first build downloaded %d packages (%d files)", first, len(debs()))
	}
	var log strings.Builder
	rep, err := Prune(ctx, kernelsFile, WithCacheDir(dir), WithPackageClient(pkgs), WithKinds(Trees, Packages),
		WithMaxAge(0), WithLog(&log))
	t.Logf("prune:\n%s%v", log.String(), rep)
	if err != nil {
		t.Fatal(err)
	}
	if es, err := store.Entries(); err != nil || len(es) != 0 {
		t.Fatalf("trees after prune: %+v, %v", es, err)
	}
	if ds := debs(); len(ds) != 0 {
		t.Fatalf("packages after prune: %q", ds)
	}
	if rep.Removed.Trees != 1 || rep.Removed.Packages != int64(first) || rep.After.Total() != 0 {
		t.Errorf("removed %+v, left %d bytes; want the tree and %d packages, nothing left", rep.Removed, rep.After.Total(), first)
	}

	build("second")
	if again := counter.packages.Load() - first; again != first || len(debs()) != int(first) {
		t.Errorf("the second build downloaded %d packages (%d files), want the %d again", again, len(debs()), first)
	}
}
