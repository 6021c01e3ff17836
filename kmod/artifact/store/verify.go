package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DigestError means content does not match the digest or size that names
// it: the source is corrupt or has been tampered with.
type DigestError struct {
	// Object says what was read: "blob", "manifest", "decompressed module".
	Object string
	// Want is the expected digest; Got what the bytes hash to (zero when
	// the size was wrong).
	Want, Got v1.Hash
	// WantSize and GotSize are set when the size was wrong.
	WantSize, GotSize int64
	// Source names where the content came from.
	Source string
}

func (e *DigestError) Error() string {
	if e.Got == (v1.Hash{}) {
		return fmt.Sprintf("%s %s from %s has the wrong size (more than %d bytes, or fewer): refusing corrupt or tampered content", e.Object, e.Want, e.Source, e.WantSize)
	}
	return fmt.Sprintf("%s %s from %s hashes to %s: refusing corrupt or tampered content", e.Object, e.Want, e.Source, e.Got)
}

// verifyingReader stops at size bytes and checks the digest when the last
// byte has been read, before returning io.EOF.
type verifyingReader struct {
	r      io.Reader
	h      hash.Hash
	want   v1.Hash
	size   int64
	n      int64
	source string
	err    error
}

// NewVerifyingReader returns a reader of rc that returns a *DigestError
// instead of io.EOF when the content is not size bytes with digest want.
// Only sha256 digests are accepted.
func NewVerifyingReader(rc io.Reader, want v1.Hash, size int64, source string) io.Reader {
	if want.Algorithm != "sha256" {
		return &verifyingReader{err: fmt.Errorf("digest %s: only sha256 is supported", want)}
	}
	// Read one byte past size to notice content that is too long.
	return &verifyingReader{r: io.LimitReader(rc, size+1), h: sha256.New(), want: want, size: size, source: source}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	if v.n > v.size {
		v.err = &DigestError{Object: "blob", Want: v.want, WantSize: v.size, GotSize: v.n, Source: v.source}
		return 0, v.err
	}
	v.h.Write(p[:n])
	switch {
	case errors.Is(err, io.EOF):
		if v.n != v.size {
			v.err = &DigestError{Object: "blob", Want: v.want, WantSize: v.size, GotSize: v.n, Source: v.source}
			return 0, v.err
		}
		if v.err = v.check(); v.err != nil {
			return 0, v.err
		}
		v.err = io.EOF
	case err != nil:
		// A reader that verifies too (go-containerregistry's remote blobs)
		// fails with the last bytes of wrong content: when they are all
		// here, say so with our error rather than with its.
		if v.n == v.size {
			if v.err = v.check(); v.err != nil {
				return 0, v.err
			}
		}
		v.err = fmt.Errorf("reading blob %s from %s: %w", v.want, v.source, err)
		return n, v.err
	}
	return n, err
}

// check compares the digest of the bytes read with the one wanted.
func (v *verifyingReader) check() error {
	got := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(v.h.Sum(nil))}
	if got != v.want {
		return &DigestError{Object: "blob", Want: v.want, Got: got, Source: v.source}
	}
	return nil
}
