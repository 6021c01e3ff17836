package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

func module(release, recipe string) builder.Module {
	return builder.Module{
		Key: builder.Key{Module: "dnsmon", ModuleVersion: "0.1.0", SourceDigest: "sha256:" + strings.Repeat("1", 64),
			Kernel: release, Arch: "amd64", Recipe: recipe},
		Target:       matrix.Target{Group: "debian-12", Distro: "debian", DistroRelease: "12", Kernel: release, Arch: "amd64"},
		Data:         kmodtest.KO(kmodtest.Module{Release: release}),
		BuilderImage: "dnsmon-headers:x",
		BaseImage:    "docker.io/library/debian@sha256:" + strings.Repeat("5", 64),
		Created:      time.Unix(1700000000, 0),
	}
}

func targets(t *testing.T) map[string]string {
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	return map[string]string{
		"registry": strings.TrimPrefix(s.URL, "http://") + "/dnsmon/modules",
		"layout":   store.LayoutPrefix + filepath.Join(t.TempDir(), "layout"),
	}
}

// resolve does what a host does before it downloads a layer: it finds
// release's amd64 module in version's index, reads its manifest (digest
// checked), checks the metadata against the index entry and, when keys are
// given, the signature. It returns the module manifest's digest. The host
// side's own resolver is tested against this package's output in
// e2e/roundtrip; this keeps the farm's tests on the farm's side.
func resolve(ctx context.Context, src store.Source, version, release string, keys signature.Keys) (v1.Hash, error) {
	tag, err := artifact.VersionTag(version)
	if err != nil {
		return v1.Hash{}, err
	}
	raw, err := store.ReadManifest(ctx, src, tag)
	if err != nil {
		return v1.Hash{}, err
	}
	_, descs, err := artifact.ParseIndex(raw)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("%s:%s: %w", src, tag, err)
	}
	for _, d := range descs {
		if d.Annotations[artifact.AnnotationRelease] != release || d.Annotations[artifact.AnnotationArch] != "amd64" {
			continue
		}
		mraw, err := store.ReadManifest(ctx, src, d.Digest.String())
		if err != nil {
			return v1.Hash{}, err
		}
		if _, meta, err := artifact.ParseManifest(mraw); err != nil {
			return v1.Hash{}, fmt.Errorf("%s@%s: %w", src, d.Digest, err)
		} else if meta.Release != release || meta.Version != version {
			return v1.Hash{}, fmt.Errorf("%s@%s is %s for %s, but the index lists it for %s %s", src, d.Digest, meta.Version, meta.Release, version, release)
		}
		if len(keys) == 0 {
			return d.Digest, nil
		}
		sraw, err := store.ReadManifest(ctx, src, artifact.SignatureTag(d.Digest))
		if err != nil {
			return v1.Hash{}, fmt.Errorf("reading the signature of %s: %w", d.Digest, err)
		}
		blob := func(ctx context.Context, bd v1.Descriptor) ([]byte, error) {
			return store.ReadBlob(ctx, src, bd, signature.MaxPayloadSize)
		}
		if _, err := signature.VerifyManifest(ctx, sraw, blob, keys, d.Digest); err != nil {
			return v1.Hash{}, fmt.Errorf("verifying the signature of %s: %w", d.Digest, err)
		}
		return d.Digest, nil
	}
	return v1.Hash{}, fmt.Errorf("%s:%s lists no module for %s/amd64", src, tag, release)
}

func readManifest(t *testing.T, target, ref string) []byte {
	t.Helper()
	src, err := store.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	raw, err := store.ReadManifest(context.Background(), src, ref)
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	return raw
}

// newPublisher returns a publisher to target that the test closes.
func newPublisher(t *testing.T, target string, opts ...publish.Option) *publish.Publisher {
	t.Helper()
	p, err := publish.New(context.Background(), target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPublisher(t *testing.T) {
	ctx := context.Background()
	key, _ := signature.GenerateKey()
	key2, _ := signature.GenerateKey()
	for name, target := range targets(t) {
		t.Run(name, func(t *testing.T) {
			p := newPublisher(t, target, publish.WithSigningKey(key))
			m := module("6.1.0-56-amd64", "sha256:"+strings.Repeat("2", 64))
			if has, err := p.Has(ctx, m.Key); err != nil || has {
				t.Fatalf("Has before publishing = %v, %v", has, err)
			}
			for i := 0; i < 2; i++ { // publishing twice replaces, not duplicates
				if err := p.Publish(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Publish(ctx, module("6.12.117+deb12-amd64", m.Key.Recipe)); err != nil {
				t.Fatal(err)
			}
			for kname, c := range map[string]struct {
				mutate func(*builder.Key)
				want   bool
			}{
				"same":         {func(*builder.Key) {}, true},
				"other recipe": {func(k *builder.Key) { k.Recipe = "sha256:" + strings.Repeat("3", 64) }, false},
				"other source": {func(k *builder.Key) { k.SourceDigest = "sha256:" + strings.Repeat("4", 64) }, false},
				"other kernel": {func(k *builder.Key) { k.Kernel = "6.1.0-57-amd64" }, false},
				"other arch":   {func(k *builder.Key) { k.Arch = "arm64" }, false},
				"other ver":    {func(k *builder.Key) { k.ModuleVersion = "0.2.0" }, false},
			} {
				k := m.Key
				c.mutate(&k)
				if has, err := p.Has(ctx, k); err != nil || has != c.want {
					t.Errorf("Has(%s) = %v, %v; want %v", kname, has, err, c.want)
				}
			}
			_, descs, err := artifact.ParseIndex(readManifest(t, target, "0.1.0"))
			if err != nil || len(descs) != 2 {
				t.Fatalf("index lists %d modules (%v), want 2", len(descs), err)
			}
			d := descs[0]
			if d.Annotations[artifact.AnnotationDistro] != "debian-12" {
				t.Errorf("descriptor annotations %v", d.Annotations)
			}
			if _, meta, err := artifact.ParseManifest(readManifest(t, target, d.Digest.String())); err != nil || meta.BuilderBase != m.BaseImage {
				t.Errorf("module manifest names base image %q (%v), want %q", meta.BuilderBase, err, m.BaseImage)
			}
			countSigs := func() int {
				var mf v1.Manifest
				json.Unmarshal(readManifest(t, target, artifact.SignatureTag(d.Digest)), &mf)
				return len(mf.Layers)
			}
			if n := countSigs(); n != 1 {
				t.Errorf("%d signatures after publishing twice with one key, want 1", n)
			}
			// A rotated key: what only the old key signed is not published
			// for the new one, so the farm publishes it again.
			p2 := newPublisher(t, target, publish.WithSigningKey(key2))
			again := module(d.Annotations[artifact.AnnotationRelease], m.Key.Recipe)
			if has, err := p2.Has(ctx, again.Key); err != nil || has {
				t.Errorf("Has with a rotated key, before signing = %v, %v; want false", has, err)
			}
			if err := p2.Publish(ctx, again); err != nil {
				t.Fatal(err)
			}
			if n := countSigs(); n != 2 {
				t.Errorf("%d signatures after a second key signed, want 2", n)
			}
			for kname, pp := range map[string]*publish.Publisher{"old key": p, "new key": p2} {
				if has, err := pp.Has(ctx, again.Key); err != nil || !has {
					t.Errorf("Has with the %s after both signed = %v, %v; want true", kname, has, err)
				}
			}
		})
	}
}

func TestPublishRefuses(t *testing.T) {
	ctx := context.Background()
	key, _ := signature.GenerateKey()
	target := store.LayoutPrefix + t.TempDir()
	if _, err := publish.New(ctx, target); !errors.Is(err, publish.ErrNoSigningKey) {
		t.Errorf("New without key: %v", err)
	}
	p := newPublisher(t, target, publish.WithSigningKey(key))
	for name, c := range map[string]struct {
		m    builder.Module
		want string
	}{
		"wrong vermagic": {func() builder.Module {
			m := module("6.1.0-56-amd64", "r")
			m.Data = kmodtest.KO(kmodtest.Module{Release: "6.1.0-55-amd64"})
			return m
		}(), "refusing to publish the module for 6.1.0-56-amd64"},
		"not ELF": {func() builder.Module { m := module("6.1.0-56-amd64", "r"); m.Data = []byte("MZ"); return m }(), "not an ELF"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := p.Publish(ctx, c.m); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Publish: %v, want %q", err, c.want)
			}
		})
	}
}

func TestDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dp, err := builder.NewDirPublisher(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"6.1.0-56-amd64", "5.10.0-32-amd64"} {
		if err := dp.Publish(ctx, module(r, "r")); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := signature.GenerateKey()
	p := newPublisher(t, store.LayoutPrefix+filepath.Join(t.TempDir(), "l"), publish.WithSigningKey(key))
	for i, want := range []publish.DirStats{{Published: 2}, {Skipped: 2}} {
		st, err := publish.Dir(ctx, dir, p)
		if err != nil || st != want {
			t.Errorf("run %d: Dir = %+v, %v; want %+v", i, st, err, want)
		}
	}
}

// TestConcurrentPublish publishes many kernels at once, as the farm does,
// and checks that the index lists them all.
func TestConcurrentPublish(t *testing.T) {
	ctx := context.Background()
	key, _ := signature.GenerateKey()
	for name, target := range targets(t) {
		t.Run(name, func(t *testing.T) {
			p := newPublisher(t, target, publish.WithSigningKey(key))
			var g errgroup.Group
			g.SetLimit(4)
			const n = 12
			for i := 0; i < n; i++ {
				rel := fmt.Sprintf("6.1.0-%d-amd64", i)
				g.Go(func() error { return p.Publish(ctx, module(rel, "r")) })
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			_, descs, err := artifact.ParseIndex(readManifest(t, target, "0.1.0"))
			if err != nil || len(descs) != n {
				t.Errorf("index lists %d modules (%v), want %d", len(descs), err, n)
			}
		})
	}
}
