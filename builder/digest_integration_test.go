package builder

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/dnsmon/dnsmon/kmod/kmodtest"
)

// TestBaseTagOnEngine proves on the real engine and a real registry
// (Debian's docker-registry on loopback) what the fake stands in for: the
// engine asks the registry which digest a tag names (the one the registry
// itself reports), a moved tag gives another key, and a base image pinned
// that way is pulled by digest and inspected by its pinned reference,
// giving the ID containers start from.
func TestBaseTagOnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes to a registry through the engine")
	}
	ctx := t.Context()
	c, err := NewEngineClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ref := kmodtest.StartDockerRegistry(t) + "/dnsmon-test/base:1"
	tg := imageTarget("5.14.0-427.13.1.el9_4.x86_64")
	tg.Image, tg.Arch = ref, runtime.GOARCH

	var ids []string
	t.Cleanup(func() {
		for _, id := range ids {
			_, _ = c.ImageRemove(context.Background(), id, image.RemoveOptions{Force: true, PruneChildren: true})
		}
	})
	// push makes an image of one file holding content under ref, pushes
	// it, and returns the digest the registry reports for the tag.
	push := func(content string) string {
		t.Helper()
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		_ = tw.WriteHeader(&tar.Header{Name: "content", Mode: 0o644, Size: int64(len(content))})
		_, _ = tw.Write([]byte(content))
		_ = tw.Close()
		rc, err := c.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, ref, image.ImportOptions{})
		if err == nil {
			err = readStream(rc)
			rc.Close()
		}
		if err != nil {
			t.Fatalf("importing %s: %v", ref, err)
		}
		img, err := c.ImageInspect(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
		rc, err = c.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: "e30="})
		if err == nil {
			err = readStream(rc)
			rc.Close()
		}
		if err != nil {
			t.Fatalf("pushing %s: %v", ref, err)
		}
		d, err := crane.Digest(ref)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	engineFor := func() *engine {
		t.Helper()
		b, err := New(WithClient(c), WithSource(os.DirFS("testdata/hello")), WithModule("hello", "0.0.1"), WithLog(testLog{t}),
			WithCacheDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		return b.(*engine)
	}
	keyOf := func(e *engine) Key {
		t.Helper()
		k, err := e.Key(ctx, tg)
		if err != nil {
			t.Fatalf("Key: %v", err)
		}
		return k
	}

	first := push("first")
	k1 := keyOf(engineFor())
	if k1.Recipe != RecipeHash(pinnedTo(tg, first)) {
		t.Errorf("key's recipe %s, want that of %s pinned to %s", k1.Recipe, ref, first)
	}
	second := push("second") // the tag moves
	e := engineFor()
	k2 := keyOf(e)
	if second == first || k2.Recipe != RecipeHash(pinnedTo(tg, second)) || k2 == k1 {
		t.Errorf("after the tag moved to %s: recipe %s, want that of the image pinned to it", second, k2.Recipe)
	}

	// Without the images, the engine pulls by digest, and finds the image
	// by its pinned reference.
	for _, id := range ids {
		if _, err := c.ImageRemove(ctx, id, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !client.IsErrNotFound(err) {
			t.Fatal(err)
		}
	}
	pt, err := e.pin(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ensureBase(ctx, pt); err != nil {
		t.Fatalf("ensureBase %s: %v", pt.Image, err)
	}
	base, id, err := e.resolveBase(ctx, pt)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, id)
	name := strings.TrimSuffix(ref, ":1")
	img, err := c.ImageInspect(ctx, name+"@"+second)
	if err != nil {
		t.Fatal(err)
	}
	if base != name+"@"+second || id != img.ID {
		t.Errorf("base %s, ID %s; want %s@%s, %s", base, id, name, second, img.ID)
	}
}
