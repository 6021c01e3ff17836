package modsign

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInteropOpenSSL checks that openssl accepts our PKCS#7 as a detached
// signature over the unsigned module, and that it fails on a changed module.
func TestInteropOpenSSL(t *testing.T) {
	p, _ := keys(t)
	dir := t.TempDir()
	_, certPEM, _, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	mod := fakeModule(t, 20000)
	signed, err := Sign(mod, p, PKCS7)
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := Split(signed)
	if err != nil {
		t.Fatal(err)
	}
	sig := filepath.Join(dir, "sig.p7")
	content := filepath.Join(dir, "content")
	if err := os.WriteFile(sig, s.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(data []byte) ([]byte, error) {
		if err := os.WriteFile(content, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
			"-content", content, "-CAfile", certPEM, "-certfile", certPEM, "-nointern", "-purpose", "any",
			"-out", os.DevNull).CombinedOutput()
	}
	if out, err := verify(mod); err != nil {
		t.Fatalf("openssl cms -verify refused our signature: %v\n%s", err, out)
	}
	if out, err := verify(flip(mod, 5)); err == nil {
		t.Fatalf("openssl cms -verify accepted a changed module:\n%s", out)
	}
}

// TestInteropOpenSSLRaw checks the X509ID trailer's raw RSA signature with
// openssl dgst, which is what 3.10's perl sign-file made it with
// (openssl rsautl -sign over the SHA-256 DigestInfo).
func TestInteropOpenSSLRaw(t *testing.T) {
	p, _ := keys(t)
	dir := t.TempDir()
	_, certPEM, _, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, "pub.pem")
	if out, err := exec.Command("openssl", "x509", "-in", certPEM, "-pubkey", "-noout", "-out", pub).CombinedOutput(); err != nil {
		t.Fatalf("openssl x509 -pubkey: %v\n%s", err, out)
	}
	mod := fakeModule(t, 20000)
	signed, err := Sign(mod, p, X509ID)
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := Split(signed)
	if err != nil {
		t.Fatal(err)
	}
	sig := filepath.Join(dir, "sig.raw")
	content := filepath.Join(dir, "content")
	if err := os.WriteFile(sig, s.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data []byte
		ok   bool
	}{"module": {mod, true}, "changed": {flip(mod, 7), false}} {
		if err := os.WriteFile(content, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig, content).CombinedOutput()
		if (err == nil) != tc.ok {
			t.Errorf("%s: openssl dgst -verify: %v (want ok %v)\n%s", name, err, tc.ok, out)
		}
	}
}
