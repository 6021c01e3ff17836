package modinfo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// DefaultMaxModuleSize caps a decompressed module when the caller passes no
// limit. The biggest in-tree modules are a few tens of megabytes; dnsmon.ko
// is well under one.
const DefaultMaxModuleSize = 64 << 20

// maxXZDict caps the LZMA2 dictionary an .xz header may ask for (xz -9 uses
// 64 MiB; the kernel's own module compression uses 1 MiB).
const maxXZDict = 64 << 20

// Compression is how a module file is compressed, from its magic bytes.
type Compression int

// The compressions a module file may have.
const (
	None Compression = iota // plain ELF (or unknown data)
	Zstd                    // .ko.zst, magic 28 b5 2f fd
	XZ                      // .ko.xz, magic fd 37 7a 58 5a 00
	Gzip                    // .ko.gz, magic 1f 8b
)

// String returns "none", "zstd", "xz" or "gzip".
func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Zstd:
		return "zstd"
	case XZ:
		return "xz"
	case Gzip:
		return "gzip"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

var (
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicGzip = []byte{0x1f, 0x8b}
)

// DetectCompression names the compression whose magic bytes begin head
// (6 bytes are enough), or None.
func DetectCompression(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, magicZstd):
		return Zstd
	case bytes.HasPrefix(head, magicXZ):
		return XZ
	case bytes.HasPrefix(head, magicGzip):
		return Gzip
	}
	return None
}

// DetectFile is DetectCompression on the first bytes of r.
func DetectFile(r io.ReaderAt) (Compression, error) {
	var head [6]byte
	n, err := r.ReadAt(head[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return None, fmt.Errorf("reading magic bytes: %w", err)
	}
	return DetectCompression(head[:n]), nil
}

// ErrTooLarge is matched (errors.Is) by every *TooLargeError.
var ErrTooLarge = errors.New("module too large")

// TooLargeError says a module grew past the size cap while decompressing.
type TooLargeError struct {
	Compression Compression
	Limit       int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s-decompressed module is larger than the %d-byte cap", e.Compression, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Decompress copies src to dst, decompressing it when its magic bytes say
// zstd, xz or gzip, and stops with a *TooLargeError once more than limit
// bytes would be written (limit <= 0 means DefaultMaxModuleSize). Plain data
// is copied under the same cap. It returns the compression it found.
func Decompress(ctx context.Context, dst io.Writer, src io.Reader, limit int64) (Compression, error) {
	if limit <= 0 {
		limit = DefaultMaxModuleSize
	}
	br := bufio.NewReader(&ctxReader{ctx: ctx, r: src})
	head, err := br.Peek(12)
	if err != nil && !errors.Is(err, io.EOF) {
		return None, fmt.Errorf("reading magic bytes: %w", err)
	}
	c := DetectCompression(head)
	var r io.Reader
	switch c {
	case None:
		r = br
	case Zstd:
		d, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(limit)),
			zstd.WithDecoderMaxWindow(uint64(min(limit, zstd.MaxWindowSize))))
		if err != nil {
			return c, fmt.Errorf("starting zstd decoder: %w", err)
		}
		defer d.Close()
		r = d
	case XZ:
		if err := checkXZDict(br); err != nil {
			return c, err
		}
		d, err := xz.NewReader(br)
		if err != nil {
			return c, fmt.Errorf("reading xz header: %w", err)
		}
		r = d
	case Gzip:
		d, err := gzip.NewReader(br)
		if err != nil {
			return c, fmt.Errorf("reading gzip header: %w", err)
		}
		defer d.Close()
		r = d
	}
	n, err := io.Copy(dst, io.LimitReader(r, limit+1))
	if err != nil {
		if c == None {
			return c, fmt.Errorf("copying module: %w", err)
		}
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return c, &TooLargeError{Compression: c, Limit: limit}
		}
		return c, fmt.Errorf("decompressing %s: %w", c, err)
	}
	if n > limit {
		return c, &TooLargeError{Compression: c, Limit: limit}
	}
	return c, nil
}

// checkXZDict refuses an .xz stream whose first block asks for an LZMA2
// dictionary above maxXZDict, before the decoder allocates it. Layout (xz
// file format 1.0.4): 12-byte stream header, then the block header: size
// byte, flags byte, optional compressed and uncompressed size VLIs, then
// filter flags (id VLI, properties size VLI, properties).
func checkXZDict(br *bufio.Reader) error {
	hdr, err := br.Peek(12 + 1)
	if err != nil {
		return nil // let the decoder report the truncation
	}
	size := (int(hdr[12]) + 1) * 4
	b, err := br.Peek(12 + size)
	if err != nil {
		return nil
	}
	b = b[12+1 : 12+size]
	flags := b[0]
	b = b[1:]
	vli := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && i < len(b); i++ {
			v |= uint64(b[i]&0x7f) << (7 * i)
			if b[i]&0x80 == 0 {
				b = b[i+1:]
				return v, true
			}
		}
		return 0, false
	}
	for _, bit := range []byte{0x40, 0x80} {
		if flags&bit != 0 {
			if _, ok := vli(); !ok {
				return nil
			}
		}
	}
	for range int(flags&3) + 1 {
		id, ok1 := vli()
		n, ok2 := vli()
		if !ok1 || !ok2 || uint64(len(b)) < n {
			return nil
		}
		if id == 0x21 && n == 1 { // LZMA2: one property byte, the dictionary size
			d := b[0] & 0x3f
			if d > 40 {
				return fmt.Errorf("reading xz header: invalid LZMA2 dictionary size code %d", d)
			}
			dict := uint64(2|d&1) << (d/2 + 11)
			if dict > maxXZDict {
				return fmt.Errorf("reading xz header: LZMA2 dictionary of %d bytes is larger than the %d-byte cap", dict, maxXZDict)
			}
		}
		b = b[n:]
	}
	return nil
}

// ctxReader fails reads once ctx is done, so a long decompression stops on
// cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
