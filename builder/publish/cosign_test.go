package publish_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// cosignVersion is the cosign release the interop test verifies with.
const cosignVersion = "v2.6.5"

// cosignBinary returns cosign, built once into the cache (several minutes).
func cosignBinary(t *testing.T) string {
	return goTool(t, "cosign", "github.com/sigstore/cosign/v2/cmd/cosign", cosignVersion, "version")
}

// TestCosignVerifies proves that `cosign verify --key` accepts what the
// publisher signs, and refuses it with another key.
func TestCosignVerifies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cosign and starts docker-registry")
	}
	cosign := cosignBinary(t)
	ctx := context.Background()
	repo, dir, key, p := registryPublisher(ctx, t)
	otherDir := t.TempDir()
	if _, _, err := signature.GenerateKeyFiles(otherDir, false); err != nil {
		t.Fatal(err)
	}
	m := module("6.12.117+deb12-amd64", "r")
	if err := p.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	src, err := store.Open(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	digest, err := resolve(ctx, src, "0.1.0", m.Key.Kernel, signature.Keys{&key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	ref := repo + "@" + digest.String()
	for name, c := range map[string]struct {
		pub  string
		want bool
	}{
		"our key":   {filepath.Join(dir, signature.PublicKeyFile), true},
		"other key": {filepath.Join(otherDir, signature.PublicKeyFile), false},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := runCosign(t, cosign, "verify", "--key", c.pub, "--insecure-ignore-tlog=true", ref)
			if (err == nil) != c.want {
				t.Fatalf("cosign verify --key %s %s: err %v, want success %v\n%s", c.pub, ref, err, c.want, out)
			}
			t.Logf("cosign: %s", out)
		})
	}

	// The other way round: what `cosign sign --key` writes, package
	// signature verifies with cosign's public key.
	kdir := t.TempDir()
	if out, err := runCosignIn(t, kdir, cosign, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	urepo := strings.TrimSuffix(repo, "/modules") + "/cosign-signed"
	up := newPublisher(t, urepo, publish.WithoutSigning())
	if err := up.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	usrc, err := store.Open(ctx, urepo)
	if err != nil {
		t.Fatal(err)
	}
	defer usrc.Close()
	udigest, err := resolve(ctx, usrc, "0.1.0", m.Key.Kernel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCosignIn(t, kdir, cosign, "sign", "--key", "cosign.key", "--tlog-upload=false", "--yes", urepo+"@"+udigest.String()); err != nil {
		t.Fatalf("cosign sign: %v\n%s", err, out)
	}
	cpub, err := signature.LoadPublicKey(filepath.Join(kdir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resolve(ctx, usrc, "0.1.0", m.Key.Kernel, signature.Keys{cpub}); err != nil {
		t.Errorf("verifying cosign's own signature: %v", err)
	}
	if _, err := resolve(ctx, usrc, "0.1.0", m.Key.Kernel, signature.Keys{&key.PublicKey}); err == nil {
		t.Error("cosign's signature verified with our key")
	}
}

func runCosign(t *testing.T, cosign string, args ...string) ([]byte, error) {
	return runCosignIn(t, t.TempDir(), cosign, args...)
}

// runCosignIn runs cosign in dir with every non-loopback connection sent to
// a closed local port (cosign tries to reach Sigstore's TUF mirror), its
// caches in dir, and a fixed key password.
func runCosignIn(t *testing.T, dir, cosign string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(cosign, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=test", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"),
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost")
	return cmd.CombinedOutput()
}
