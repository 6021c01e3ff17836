package publish_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goTool returns the peer tool name from $DNSMON_CACHE/bin, where .ci/deps
// installs it, building it there with `go install pkg@version` when it is
// missing or another version: interop tests run against the real tools.
// versionArgs make the tool print its version.
func goTool(t *testing.T, name, pkg, version string, versionArgs ...string) string {
	t.Helper()
	cache := os.Getenv("DNSMON_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "dnsmon")
	}
	bin := filepath.Join(cache, "bin")
	p := filepath.Join(bin, name)
	if out, err := exec.Command(p, versionArgs...).CombinedOutput(); err == nil && strings.Contains(string(out), strings.TrimPrefix(version, "v")) {
		return p
	}
	t.Logf("building %s %s into %s (once)", name, version, bin)
	cmd := exec.Command("go", "install", "-p", "1", pkg+"@"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	cmd.Dir = os.TempDir() // outside our module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@%s: %v\n%s", pkg, version, err, out)
	}
	return p
}
