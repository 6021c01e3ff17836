package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// TestKeygenModuleSigning writes the module signing key pair next to the
// artifact key, refuses to replace it without --force, and reads it back.
func TestKeygenModuleSigning(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range []struct {
		args    []string
		out     string
		wantErr string
	}{
		{args: []string{"-dir", dir}, out: "dnsmon.pub"},
		{args: []string{"-module-signing", "-dir", dir}, out: "dnsmon module signing key: "},
		{args: []string{"-module-signing", "-dir", dir}, wantErr: "refusing to replace"},
		{args: []string{"-module-signing", "-force", "-dir", dir}, out: "build with: dnsmon-farm build --module-key"},
	} {
		var stdout bytes.Buffer
		err := runKeygen(context.Background(), &stdout, io.Discard, tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("step %d: %v, want %q", i, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(stdout.String(), tc.out) {
			t.Errorf("step %d: %v, output %q lacks %q", i, err, stdout.String(), tc.out)
		}
	}
	keyPath := filepath.Join(dir, modsign.KeyFile)
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v", keyPath, err, st.Mode())
	}
	pair, err := modsign.LoadKeyPair(keyPath, filepath.Join(dir, modsign.CertDERFile))
	if err != nil {
		t.Fatal(err)
	}
	if pair.Cert.Subject.CommonName != modsign.DefaultSubject {
		t.Errorf("subject %q", pair.Cert.Subject.CommonName)
	}
	if _, err := os.Stat(filepath.Join(dir, "dnsmon.key")); err != nil {
		t.Errorf("the artifact key is gone: %v", err)
	}
}
