package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewLogPathUnique: logs asked for under one name in the same second
// are distinct files, each left in place when another is removed.
func TestNewLogPathUnique(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "guest-logs")
	seen := map[string]bool{}
	for range 20 {
		p, err := NewLogPath(dir, "demo-6.1.0-56-amd64")
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("NewLogPath returned %s twice", p)
		}
		seen[p] = true
		if base := filepath.Base(p); !strings.HasPrefix(base, "demo-6.1.0-56-amd64-") || !strings.HasSuffix(base, ".log") {
			t.Errorf("log name %q, want demo-6.1.0-56-amd64-….log", base)
		}
	}
	var first string
	for p := range seen {
		first = p
		break
	}
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	for p := range seen {
		if _, err := os.Stat(p); (err == nil) == (p == first) {
			t.Errorf("%s: stat %v after removing only %s", p, err, first)
		}
	}
}
