package publish_test

import (
	"context"
	"crypto/ecdsa"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/signature"
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

// registryPublisher starts docker-registry and returns a publisher to its
// repository dnsmon/modules that signs with a new key, whose files
// (signature.PrivateKeyFile, PublicKeyFile) are in dir: what the peer
// tools read.
func registryPublisher(ctx context.Context, t *testing.T) (repo, dir string, key *ecdsa.PrivateKey, p *publish.Publisher) {
	t.Helper()
	repo = kmodtest.StartDockerRegistry(t) + "/dnsmon/modules"
	dir = t.TempDir()
	if _, _, err := signature.GenerateKeyFiles(dir, false); err != nil {
		t.Fatal(err)
	}
	key, err := signature.LoadPrivateKey(filepath.Join(dir, signature.PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err = publish.New(ctx, repo, publish.WithSigningKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return repo, dir, key, p
}
