package store

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/dnsmon/dnsmon/kmod/artifact"
)

// entry is a tar entry of a test bundle.
type entry struct {
	name, link string
	typ        byte
	body       []byte
}

func reg(name string, body []byte) entry { return entry{name: name, typ: tar.TypeReg, body: body} }

func blobEntry(body []byte) entry { return reg("blobs/sha256/"+artifact.Digest(body).Hex, body) }

// writeTarZst writes entries as a zstd-compressed tar to file.
func writeTarZst(t *testing.T, file string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body))}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testLayout is a layout with one tag, "v", naming a manifest whose layer
// is layer.
type testLayout struct {
	manifest, layer []byte
	entries         []entry
}

func newTestLayout(t *testing.T, layer []byte) testLayout {
	t.Helper()
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: artifact.Digest([]byte("{}")), Size: 2},
		Layers: []v1.Descriptor{{MediaType: types.OCILayer, Digest: artifact.Digest(layer), Size: int64(len(layer))}}}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{{
		MediaType: types.OCIManifestSchema1, Digest: artifact.Digest(raw), Size: int64(len(raw)),
		Annotations: map[string]string{artifact.AnnotationRefName: "v"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return testLayout{manifest: raw, layer: layer, entries: []entry{
		{name: "blobs/", typ: tar.TypeDir}, {name: "blobs/sha256/", typ: tar.TypeDir},
		blobEntry([]byte("{}")), blobEntry(layer), blobEntry(raw),
		reg("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)), reg("index.json", idx),
	}}
}

// largeBlob is larger than smallEntrySize, so it is streamed.
func largeBlob() []byte {
	return bytes.Repeat([]byte("dnsmon module layer "), smallEntrySize/16)
}

// TestBundleStreamsLargeBlobs reads a tag and its blobs from a bundle: the
// small ones from memory, the large layer by a second pass over the tar,
// and nothing is written to $TMPDIR.
func TestBundleStreamsLargeBlobs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	l := newTestLayout(t, largeBlob())
	file := filepath.Join(t.TempDir(), "b.tar.zst")
	writeTarZst(t, file, l.entries)
	ctx := context.Background()

	src, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := src.(*layoutSource).files.(*bundleFS)
	layer := "blobs/sha256/" + artifact.Digest(l.layer).Hex
	if _, ok := b.small[layer]; ok {
		t.Errorf("the %d-byte layer is held in memory", len(l.layer))
	}
	if b.large[layer] != int64(len(l.layer)) {
		t.Errorf("large entries %v, want %s of %d bytes", b.large, layer, len(l.layer))
	}

	raw, err := ReadManifest(ctx, src, "v")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, l.manifest) {
		t.Errorf("manifest %s, want %s", raw, l.manifest)
	}
	if got := b.passes.Load(); got != 1 {
		t.Errorf("%d passes over the tar after reading the manifest, want 1", got)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadBlob(ctx, src, m.Layers[0], 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, l.layer) {
		t.Error("layer read from the bundle differs")
	}
	if got := b.passes.Load(); got != 2 {
		t.Errorf("%d passes over the tar after reading the layer, want 2", got)
	}
	if _, err := src.Blob(ctx, artifact.Digest([]byte("absent"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("absent blob: %v, want ErrNotFound", err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("opening and reading a bundle left %v in $TMPDIR", left)
	}
}

// TestBundleBudgets checks the byte budget of a pass, the in-memory budget
// and a bundle rewritten between passes.
func TestBundleBudgets(t *testing.T) {
	ctx := context.Background()
	l := newTestLayout(t, bytes.Repeat([]byte("x"), 4096))
	for name, c := range map[string]struct {
		lim     bundleLimits
		change  []entry // written over the bundle once it is open
		wantErr string
	}{
		"within the budgets": {lim: bundleLimits{max: 1 << 20, small: 1024, inMemory: 1 << 16, entries: 100}},
		"byte budget":        {lim: bundleLimits{max: 4000, small: 1024, inMemory: 1 << 16, entries: 100}, wantErr: "decompresses to more than 4000 bytes"},
		"in-memory budget": {lim: bundleLimits{max: 1 << 20, small: 1 << 20, inMemory: 4096, entries: 100},
			wantErr: "index, manifests and signatures take more than 4096 bytes of memory"},
		"changed since opened": {lim: bundleLimits{max: 1 << 20, small: 1024, inMemory: 1 << 16, entries: 100},
			change: newTestLayout(t, bytes.Repeat([]byte("y"), 5000)).entries, wantErr: "changed since it was opened: entry gone"},
		// The layer's entry, same name, other size.
		"resized since opened": {lim: bundleLimits{max: 1 << 20, small: 1024, inMemory: 1 << 16, entries: 100},
			change: resized(l.entries, string(l.layer), 5000), wantErr: "changed since it was opened: 5000 bytes, was 4096"},
		"entry count": {lim: bundleLimits{max: 1 << 20, small: 1024, inMemory: 1 << 16, entries: 5}, wantErr: "more than 5 entries"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "b.tar.zst")
			writeTarZst(t, file, l.entries)
			src, err := openBundleLimits(ctx, file, c.lim)
			if err == nil {
				defer src.Close()
				if c.change != nil {
					// Rewrite the open file in place: the descriptor sees it.
					writeTarZst(t, file, c.change)
				}
				_, err = ReadBlob(ctx, src, v1.Descriptor{Digest: artifact.Digest(l.layer), Size: int64(len(l.layer))}, 1<<20)
			}
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var be *BundleError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v (%T), want a *BundleError containing %q", err, err, c.wantErr)
			}
		})
	}
}

// resized returns entries with the blob entry of content given size bytes
// instead, under the same name.
func resized(entries []entry, content string, size int) []entry {
	out := append([]entry{}, entries...)
	for i, e := range out {
		if e.name == blobEntry([]byte(content)).name {
			out[i] = reg(e.name, bytes.Repeat([]byte("y"), size))
		}
	}
	return out
}

// TestBundleRefusesEntries checks the entries a bundle may not hold.
func TestBundleRefusesEntries(t *testing.T) {
	l := newTestLayout(t, []byte("layer"))
	blob := "blobs/sha256/" + strings.Repeat("0", 64)
	for name, c := range map[string]struct {
		entries []entry
		wantErr string
	}{
		"absolute path":   {entries: []entry{reg("/tmp/evil", []byte("x"))}, wantErr: `entry "/tmp/evil": absolute path`},
		"dot-dot":         {entries: []entry{reg("blobs/../../evil", []byte("x"))}, wantErr: `entry "blobs/../../evil": path contains ".."`},
		"symlink":         {entries: []entry{{name: "index.json", typ: tar.TypeSymlink, link: "/etc/passwd"}}, wantErr: `is a link to "/etc/passwd"`},
		"hard link":       {entries: []entry{{name: blob, typ: tar.TypeLink, link: "oci-layout"}}, wantErr: "bundles may not hold links"},
		"device":          {entries: []entry{{name: blob, typ: tar.TypeChar}}, wantErr: "bundles hold only regular files and directories"},
		"fifo":            {entries: []entry{{name: blob, typ: tar.TypeFifo}}, wantErr: "bundles hold only regular files and directories"},
		"unexpected file": {entries: []entry{reg("blobs/sha256/short", []byte("x"))}, wantErr: "unexpected file"},
		"unexpected dir":  {entries: []entry{{name: "etc/", typ: tar.TypeDir}}, wantErr: "unexpected directory"},
		"duplicate":       {entries: []entry{reg("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))}, wantErr: `entry "oci-layout": appears twice`},
		"duplicate blob":  {entries: []entry{reg("./"+l.entries[2].name, []byte("other"))}, wantErr: "appears twice"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "b.tar.zst")
			writeTarZst(t, file, append(append([]entry{}, l.entries...), c.entries...))
			openRefused(t, file, c.wantErr)
		})
	}
}

// openRefused checks that Open refuses the bundle file with a
// *BundleError whose text holds want.
func openRefused(t *testing.T, file, want string) {
	t.Helper()
	src, err := Open(t.Context(), file)
	if err == nil {
		src.Close()
		t.Fatalf("Open succeeded, want %q", want)
	}
	var be *BundleError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v (%T), want a *BundleError containing %q", err, err, want)
	}
}

// TestBundleMalformed checks files that are not whole bundles.
func TestBundleMalformed(t *testing.T) {
	l := newTestLayout(t, []byte("layer"))
	whole := filepath.Join(t.TempDir(), "whole.tar.zst")
	writeTarZst(t, whole, l.entries)
	raw, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		entries []entry // written as a bundle, when data is nil
		data    []byte
		wantErr string
	}{
		"not zstd":   {data: []byte("hello"), wantErr: "truncated or corrupt (zstd or tar stream)"},
		"truncated":  {data: raw[:len(raw)/2], wantErr: "truncated or corrupt (zstd or tar stream)"},
		"no index":   {entries: l.entries[:len(l.entries)-1], wantErr: "no index.json"},
		"bad layout": {entries: append(append([]entry{}, l.entries[:5]...), reg("oci-layout", []byte("{}")), l.entries[6]), wantErr: "not an OCI image layout"},
		"empty":      {data: []byte{}, wantErr: "no oci-layout"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "b.tar.zst")
			if c.data != nil {
				if err := os.WriteFile(file, c.data, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				writeTarZst(t, file, c.entries)
			}
			openRefused(t, file, c.wantErr)
		})
	}
}

// TestLayoutDir reads a layout directory through the same code.
func TestLayoutDir(t *testing.T) {
	ctx := context.Background()
	l := newTestLayout(t, []byte("layer"))
	dir := t.TempDir()
	for _, e := range l.entries {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if e.typ == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, e.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Open(ctx, LayoutPrefix+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if raw, err := ReadManifest(ctx, src, "v"); err != nil || !bytes.Equal(raw, l.manifest) {
		t.Fatalf("manifest %s, %v; want %s", raw, err, l.manifest)
	}
	rc, err := src.Blob(ctx, artifact.Digest(l.layer))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, l.layer) {
		t.Fatalf("layer %q, %v; want %q", b, err, l.layer)
	}
	if _, err := src.Blob(ctx, v1.Hash{Algorithm: "sha256", Hex: "../../" + strings.Repeat("0", 58)}); err == nil {
		t.Error("a digest with a path in it was read")
	}
	if _, err := src.Blob(ctx, artifact.Digest([]byte("none"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing blob: %v, want ErrNotFound", err)
	}
	// A blob that links out of the layout is refused (layout.Path.Blob).
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := artifact.Digest([]byte("outside"))
	if err := os.Symlink(outside, filepath.Join(dir, "blobs", "sha256", h.Hex)); err != nil {
		t.Fatal(err)
	}
	if rc, err := src.Blob(ctx, h); err == nil {
		rc.Close()
		t.Error("a blob that is a symbolic link was read")
	}
}
