package store

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dnsmon/dnsmon/kmod/artifact"
)

var errBroken = errors.New("connection reset")

func TestVerifyingReader(t *testing.T) {
	content := []byte("hello, module")
	d := artifact.Digest(content)
	for name, c := range map[string]struct {
		body []byte
		size int64
		// fail is an error after the body, instead of io.EOF: a reader
		// that verifies too, or a connection that breaks.
		fail    error
		wantErr bool
	}{
		"exact":                                 {content, int64(len(content)), nil, false},
		"tampered":                              {[]byte("hello, modulf"), int64(len(content)), nil, true},
		"too long":                              {append(content, 'x'), int64(len(content)), nil, true},
		"too short":                             {content[:5], int64(len(content)), nil, true},
		"tampered, then the reader's own error": {[]byte("hello, modulf"), int64(len(content)), errBroken, true},
		"exact, then an error":                  {content, int64(len(content)), errBroken, false},
		"cut short by an error":                 {content[:5], int64(len(content)), errBroken, false},
	} {
		t.Run(name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(c.body)
			if c.fail != nil {
				r = io.MultiReader(r, iotest.ErrReader(c.fail))
			}
			got, err := io.ReadAll(NewVerifyingReader(r, d, c.size, "test"))
			if int64(len(got)) > c.size {
				t.Errorf("handed out %d bytes, more than the %d the descriptor names", len(got), c.size)
			}
			if (err == nil) != (!c.wantErr && c.fail == nil) {
				t.Fatalf("err = %v", err)
			}
			if c.fail != nil && !c.wantErr && !errors.Is(err, c.fail) {
				t.Errorf("err = %v, want %v", err, c.fail)
			}
			var de *DigestError
			if c.wantErr != errors.As(err, &de) {
				t.Errorf("err = %v, want DigestError %v", err, c.wantErr)
			}
			if c.wantErr && !strings.Contains(err.Error(), "refusing corrupt or tampered content") {
				t.Errorf("message %q", err)
			}
		})
	}
}

// TestVerifyingReaderSHA256Only checks that a digest of another algorithm
// is refused rather than compared with a SHA-256.
func TestVerifyingReaderSHA256Only(t *testing.T) {
	content := []byte("hello, module")
	d := v1.Hash{Algorithm: "sha512", Hex: strings.Repeat("0", 128)}
	if _, err := io.ReadAll(NewVerifyingReader(bytes.NewReader(content), d, int64(len(content)), "test")); err == nil ||
		!strings.Contains(err.Error(), "only sha256 is supported") {
		t.Errorf("reading with a %s digest: %v, want a refusal", d.Algorithm, err)
	}
}
