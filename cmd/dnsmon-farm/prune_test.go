package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestPruneVerb checks the verb's flags before anything is removed: a bad
// limit, or a kernels file that cannot be read.
func TestPruneVerb(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{args: nil, wantErr: "prune: give --keep-days N, --max-size SIZE or both"},
		{args: []string{"--max-size", "20GB"}, wantErr: `prune: --max-size: "20GB": want a whole number of bytes`},
		{args: []string{"--keep-days", "7", "extra"}, wantErr: `unexpected arguments ["extra"]`},
		{args: []string{"--keep-days", "7", "-f", filepath.Join(t.TempDir(), "kernels.yaml")}, wantErr: "(pass -f with the kernels file the farm builds"},
	} {
		t.Setenv("DNSMON_CACHE", t.TempDir())
		err := run(context.Background(), io.Discard, io.Discard, append([]string{"prune"}, tc.args...))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("prune %q: %v, want %q", tc.args, err, tc.wantErr)
		}
	}
}
