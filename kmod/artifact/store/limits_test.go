package store

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/dnsmon/dnsmon/kmod/artifact"
)

// tarOf returns entries as an uncompressed tar, ending with an entry
// header that claims extra bytes and no content when extra is not 0 (the
// stream ends there), or with the tar's end otherwise.
func tarOf(t *testing.T, entries []entry, extra int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if extra == 0 {
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + strings.Repeat("e", 64), Typeflag: tar.TypeReg, Mode: 0o644, Size: extra}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes() // the header is written; its content never is
}

// zstdFrame returns data as one zstd frame of raw blocks whose header asks
// for a window of 2^(10+exp) bytes plus mant eighths of that.
func zstdFrame(data []byte, exp, mant byte) []byte {
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, exp<<3 | mant}
	const maxBlock = 128 << 10
	for len(data) > 0 || len(out) == 6 {
		n := min(len(data), maxBlock)
		h := uint32(n) << 3 // raw block
		if n == len(data) {
			h |= 1 // last
		}
		out = append(out, byte(h), byte(h>>8), byte(h>>16))
		out = append(out, data[:n]...)
		data = data[n:]
	}
	return out
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "b.tar.zst")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func zstdOf(t *testing.T, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

// TestBundleLimitsBeforeReading checks the limits a bundle meets before
// its content is decompressed: an entry that claims more than the byte
// budget is refused at its header (not after decompressing up to the
// budget), and a zstd frame that asks for a window larger than the
// decoder's cap is refused although it is a valid bundle otherwise.
func TestBundleLimitsBeforeReading(t *testing.T) {
	ctx := context.Background()
	l := newTestLayout(t, []byte("layer"))
	whole := tarOf(t, l.entries, 0)
	for name, c := range map[string]struct {
		file    []byte
		wantErr string // "" for a bundle that opens
	}{
		"valid":                 {file: zstdOf(t, whole)},
		"valid, raw blocks":     {file: zstdFrame(whole, 18, 0)}, // a 256 MiB window: the cap
		"an entry over budget":  {file: zstdOf(t, tarOf(t, l.entries, 1<<40)), wantErr: "decompresses to more than"},
		"a window over the cap": {file: zstdFrame(whole, 18, 1), wantErr: "truncated or corrupt"}, // 288 MiB
	} {
		t.Run(name, func(t *testing.T) {
			src, err := Open(ctx, writeFile(t, c.file), WithMaxBundleSize(1<<20))
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				src.Close()
				return
			}
			if err == nil {
				src.Close()
				t.Fatalf("Open succeeded, want %q", c.wantErr)
			}
			var be *BundleError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Open: %v, want a *BundleError with %q", err, c.wantErr)
			}
		})
	}
}

// TestLayoutRefuses checks what a layout refuses before reading: a tag
// whose descriptor claims a manifest over the cap, and a blob name that is
// not blobs/sha256/HEX.
func TestLayoutRefuses(t *testing.T) {
	ctx := context.Background()
	l := newTestLayout(t, []byte("layer"))
	entries := append([]entry{}, l.entries...)
	idx, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{{
		MediaType: types.OCIManifestSchema1, Digest: artifact.Digest(l.manifest), Size: artifact.MaxManifestSize + 1,
		Annotations: map[string]string{artifact.AnnotationRefName: "big"}}}})
	if err != nil {
		t.Fatal(err)
	}
	entries[len(entries)-1] = reg("index.json", idx)
	file := filepath.Join(t.TempDir(), "b.tar.zst")
	writeTarZst(t, file, entries)
	src, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	want := fmt.Sprintf("is %d bytes, more than %d", artifact.MaxManifestSize+1, artifact.MaxManifestSize)
	if _, err := ReadManifest(ctx, src, "big"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ReadManifest of a tag claiming %d bytes: %v, want %q", artifact.MaxManifestSize+1, err, want)
	}
	bad := v1.Hash{Algorithm: "sha256", Hex: "../../../../etc/passwd"}
	if _, err := src.Blob(ctx, bad); err == nil || !strings.Contains(err.Error(), "only sha256 digests are supported") {
		t.Errorf("Blob(%s): %v, want a refusal of the name", bad, err)
	}
}
