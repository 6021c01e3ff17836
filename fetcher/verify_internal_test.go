package fetcher

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
)

// bigWindowFrame is a zstd frame of the one byte "x" whose header asks for
// a 256 MiB window: more than the decoder grants a module (twice
// artifact.MaxKoSize), less than zstd's own limit.
var bigWindowFrame = []byte{
	0x28, 0xb5, 0x2f, 0xfd, // magic
	0x00,             // frame header: no content size, not single-segment, no checksum
	18 << 3,          // window descriptor: 2^(10+18) bytes
	0x09, 0x00, 0x00, // last block, raw, 1 byte
	'x',
}

// TestDecompressChecks checks that the decompressed module must be the size
// and digest its manifest names, whatever the layer's own digest said, and
// that a frame cannot make the decoder take more memory than a module
// needs.
func TestDecompressChecks(t *testing.T) {
	ko := []byte(strings.Repeat("a module ", 100))
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := enc.EncodeAll(ko, nil)
	enc.Close()
	meta := func(b []byte, size int64) artifact.Meta {
		return artifact.Meta{KoDigest: artifact.Digest(b), KoSize: size}
	}
	for name, c := range map[string]struct {
		layer []byte
		meta  artifact.Meta
		want  string // "" for success; else in the error
		// digestErr makes the error a *store.DigestError about the
		// decompressed module.
		digestErr bool
	}{
		"as the manifest says":  {layer: layer, meta: meta(ko, int64(len(ko)))},
		"another digest":        {layer: layer, meta: meta([]byte("another module"), int64(len(ko))), want: "hashes to", digestErr: true},
		"shorter than it says":  {layer: layer, meta: meta(ko, int64(len(ko))+1), want: "wrong size", digestErr: true},
		"longer than it says":   {layer: layer, meta: meta(ko, int64(len(ko))-1), want: "wrong size", digestErr: true},
		"a window over the cap": {layer: bigWindowFrame, meta: meta([]byte("x"), 1), want: "decompressing module"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decompress(c.layer, c.meta, "test")
			if c.want == "" {
				if err != nil || string(got) != string(ko) {
					t.Fatalf("decompress: %d bytes, %v; want the module", len(got), err)
				}
				return
			}
			var de *store.DigestError
			if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &de) != c.digestErr ||
				(c.digestErr && de.Object != "decompressed module") {
				t.Fatalf("decompress: %v; want an error with %q (a digest error: %v)", err, c.want, c.digestErr)
			}
		})
	}
}

// TestSerialsFile checks the file of the serials seen: a damaged file is
// an error, not a fresh start (which would accept any older serial), and a
// serial kept is never lowered, even by a fetch that checked against an
// older reading of the file.
func TestSerialsFile(t *testing.T) {
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.json")
	if err := os.WriteFile(damaged, []byte(`{"sources": {"ghcr.io/o/r": "7"`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readSerials(damaged); err == nil || !strings.Contains(err.Error(), "remove it to start again") {
		t.Errorf("readSerials of a damaged file: %v, want an error", err)
	}

	path := filepath.Join(dir, SerialsFile)
	for _, step := range []struct {
		serial, want uint64
	}{{5, 5}, {3, 5}, {7, 7}} {
		if err := rememberSerial(path, "ghcr.io/o/r", step.serial); err != nil {
			t.Fatal(err)
		}
		s, err := readSerials(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Sources["ghcr.io/o/r"]; got != step.want {
			t.Errorf("after remembering %d: %d kept, want %d", step.serial, got, step.want)
		}
	}
}
