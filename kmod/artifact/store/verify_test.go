package store

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/artifact"
)

func TestVerifyingReader(t *testing.T) {
	content := []byte("hello, module")
	d := artifact.Digest(content)
	for name, c := range map[string]struct {
		body    []byte
		size    int64
		wantErr bool
	}{
		"exact":     {content, int64(len(content)), false},
		"tampered":  {[]byte("hello, modulf"), int64(len(content)), true},
		"too long":  {append(content, 'x'), int64(len(content)), true},
		"too short": {content[:5], int64(len(content)), true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := io.ReadAll(NewVerifyingReader(bytes.NewReader(c.body), d, c.size, "test"))
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
