package main

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// TestExplain checks the advice dnsmon-farm adds to the farm libraries'
// errors: the text is what README.md's Troubleshooting table quotes.
func TestExplain(t *testing.T) {
	_, noKey := publish.New(t.Context(), "oci-layout:"+t.TempDir())
	dir := t.TempDir()
	if _, _, err := signature.GenerateKeyFiles(dir, false); err != nil {
		t.Fatal(err)
	}
	_, _, exists := signature.GenerateKeyFiles(dir, false)
	other := errors.New("with-dockerd: dockerd exited")
	for name, tc := range map[string]struct {
		err    error
		want   string
		wantIs error
	}{
		"no signing key": {err: noKey, wantIs: publish.ErrNoSigningKey,
			want: "publishing needs a signing key (dnsmon-farm keygen makes one)"},
		"key exists": {err: exists, wantIs: signature.ErrKeyExists,
			want: filepath.Join(dir, signature.PrivateKeyFile) + " exists: refusing to replace a signing key (pass --force)"},
		"other": {err: other, wantIs: other, want: other.Error()},
	} {
		t.Run(name, func(t *testing.T) {
			got := explain(tc.err)
			if got == nil || got.Error() != tc.want {
				t.Fatalf("explain(%v) = %v, want %s", tc.err, got, tc.want)
			}
			if !errors.Is(got, tc.wantIs) {
				t.Errorf("explain(%v) does not wrap %v", tc.err, tc.wantIs)
			}
		})
	}
	if explain(nil) != nil {
		t.Error("explain(nil) is not nil")
	}
}
