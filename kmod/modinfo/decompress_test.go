package modinfo

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// compressAll returns data compressed every way a module file may be:
// "zst" (Go encoder), "zst-cli" (the zstd command, as Kbuild runs it),
// "xz" (Go encoder configured like Kbuild's xz --check=crc32
// --lzma2=dict=1MiB) and "gz".
func compressAll(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}

	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	out["zst"] = enc.EncodeAll(data, nil)
	enc.Close()

	cmd := exec.CommandContext(t.Context(), "zstd", "-q", "-c", "-T0")
	cmd.Stdin = bytes.NewReader(data)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("zstd: %v", err)
	}
	out["zst-cli"] = b

	var xb bytes.Buffer
	xw, err := xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 20}.NewWriter(&xb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := xw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	out["xz"] = xb.Bytes()

	var gb bytes.Buffer
	gw := gzip.NewWriter(&gb)
	if _, err := gw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	out["gz"] = gb.Bytes()
	return out
}

func TestDecompress(t *testing.T) {
	data := bytes.Repeat([]byte("\x7fELF dnsmon module bytes "), 40000) // 1 MB
	comp := compressAll(t, data)
	tests := map[string]struct {
		in       []byte
		limit    int64
		wantComp Compression
		wantErr  error
	}{
		"plain":             {in: data, wantComp: None},
		"zst":               {in: comp["zst"], wantComp: Zstd},
		"zst-cli":           {in: comp["zst-cli"], wantComp: Zstd},
		"xz":                {in: comp["xz"], wantComp: XZ},
		"gz":                {in: comp["gz"], wantComp: Gzip},
		"exact limit":       {in: comp["zst"], limit: int64(len(data)), wantComp: Zstd},
		"plain over cap":    {in: data, limit: 1000, wantComp: None, wantErr: ErrTooLarge},
		"zst over cap":      {in: comp["zst"], limit: int64(len(data)) - 1, wantComp: Zstd, wantErr: ErrTooLarge},
		"zst-cli over cap":  {in: comp["zst-cli"], limit: 4096, wantComp: Zstd, wantErr: ErrTooLarge},
		"xz over cap":       {in: comp["xz"], limit: 4096, wantComp: XZ, wantErr: ErrTooLarge},
		"gz over cap":       {in: comp["gz"], limit: 4096, wantComp: Gzip, wantErr: ErrTooLarge},
		"truncated xz":      {in: comp["xz"][:len(comp["xz"])/2], wantComp: XZ, wantErr: errAny},
		"corrupt zst":       {in: append(append([]byte{}, comp["zst"][:8]...), bytes.Repeat([]byte{0xff}, 64)...), wantComp: Zstd, wantErr: errAny},
		"huge xz dict":      {in: withXZDictCode(t, comp["xz"], 36), wantComp: XZ, wantErr: errAny}, // 768 MiB
		"invalid xz dict":   {in: withXZDictCode(t, comp["xz"], 41), wantComp: XZ, wantErr: errAny},
		"empty input plain": {in: nil, wantComp: None},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			c, err := Decompress(t.Context(), &out, bytes.NewReader(tc.in), tc.limit)
			if c != tc.wantComp {
				t.Errorf("compression = %v, want %v", c, tc.wantComp)
			}
			switch {
			case tc.wantErr == errAny:
				if err == nil {
					t.Fatal("Decompress succeeded, want an error")
				}
				return
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Decompress: err = %v, want %v", err, tc.wantErr)
				}
				var tl *TooLargeError
				if !errors.As(err, &tl) || tl.Limit != tc.limit || tl.Compression != tc.wantComp {
					t.Errorf("Decompress: err = %#v, want *TooLargeError{%v, %d}", err, tc.wantComp, tc.limit)
				}
				return
			case err != nil:
				t.Fatalf("Decompress: %v", err)
			}
			want := data
			if tc.in == nil {
				want = nil
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("Decompress: %d bytes out, want %d", out.Len(), len(want))
			}
		})
	}
}

var errAny = errors.New("any error")

// withXZDictCode returns a copy of an xz stream written with one LZMA2
// filter and no size fields, its dictionary size code replaced by code.
func withXZDictCode(t *testing.T, in []byte, code byte) []byte {
	t.Helper()
	out := append([]byte{}, in...)
	// stream header (12) | header size | flags | filter id 0x21 | props size 1 | dict code
	if out[13] != 0 || out[14] != 0x21 || out[15] != 1 {
		t.Fatalf("unexpected xz block header % x", out[12:18])
	}
	out[16] = code
	return out
}

func TestDetectCompression(t *testing.T) {
	tests := map[string]struct {
		head []byte
		want Compression
	}{
		"elf":   {[]byte("\x7fELF\x02\x01"), None},
		"zstd":  {[]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, Zstd},
		"xz":    {[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, XZ},
		"xz5":   {[]byte{0xfd, '7', 'z', 'X', 'Z'}, None},
		"gzip":  {[]byte{0x1f, 0x8b, 8}, Gzip},
		"empty": {nil, None},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := DetectCompression(tc.head); got != tc.want {
				t.Errorf("DetectCompression(% x) = %v, want %v", tc.head, got, tc.want)
			}
		})
	}
	if got := Compression(9).String(); got != "Compression(9)" {
		t.Errorf("String = %q", got)
	}
}
