package publish_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/dnsmon/dnsmon/kmod/artifact"
)

// Peer tool versions the interop test runs (.ci/deps installs the same).
const (
	craneVersion = "v0.22.1"
	orasVersion  = "v1.3.6"
)

// TestPlainToolsListAndPull proves that plain crane and oras, which know
// nothing of dnsmon, list a published repository's tags and pull a module
// whose bytes are the .ko that was published, from a real registry server.
func TestPlainToolsListAndPull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds crane and oras and starts docker-registry")
	}
	crane := goTool(t, "crane", "github.com/google/go-containerregistry/cmd/crane", craneVersion, "version")
	oras := goTool(t, "oras", "oras.land/oras/cmd/oras", orasVersion, "version")
	ctx := context.Background()
	repo, _, _, p := registryPublisher(ctx, t)
	releases := []string{"6.1.0-50-amd64", "6.12.117+deb12-amd64"}
	published := map[string][]byte{}
	for _, rel := range releases {
		m := module(rel, "r")
		if err := p.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
		published[rel] = m.Data
	}

	out, err := exec.Command(crane, "ls", "--insecure", repo).CombinedOutput()
	if err != nil {
		t.Fatalf("crane ls: %v\n%s", err, out)
	}
	tags := strings.Fields(string(out))
	want := []string{"0.1.0"}
	for _, rel := range releases {
		tag, err := artifact.ModuleTag("0.1.0", rel, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, tag)
	}
	for _, w := range want {
		if !slices.Contains(tags, w) {
			t.Errorf("crane ls %s: no tag %q in %q", repo, w, tags)
		}
	}
	if sigs := slices.IndexFunc(tags, func(s string) bool { return strings.HasSuffix(s, ".sig") }); sigs < 0 {
		t.Errorf("crane ls %s: no signature tag in %q", repo, tags)
	}

	for _, rel := range releases {
		t.Run(rel, func(t *testing.T) {
			tag, err := artifact.ModuleTag("0.1.0", rel, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			outDir := t.TempDir()
			if out, err := exec.Command(oras, "pull", "--plain-http", "-o", outDir, repo+":"+tag).CombinedOutput(); err != nil {
				t.Fatalf("oras pull %s:%s: %v\n%s", repo, tag, err, out)
			}
			zst, err := os.ReadFile(filepath.Join(outDir, "dnsmon.ko.zst"))
			if err != nil {
				t.Fatalf("oras pull wrote no dnsmon.ko.zst: %v", err)
			}
			d, err := zstd.NewReader(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ko, err := d.DecodeAll(zst, nil)
			if err != nil {
				t.Fatalf("decompressing what oras pulled: %v", err)
			}
			if !bytes.Equal(ko, published[rel]) {
				t.Errorf("oras pulled %d bytes for %s, not the %d-byte module published", len(ko), rel, len(published[rel]))
			}
		})
	}
}
