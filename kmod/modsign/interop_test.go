package modsign

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// signFile finds the kernel's sign-file: installed by a linux-kbuild
// package, extracted with headers into the dnsmon cache, or else taken from
// the newest bookworm linux-kbuild package (downloaded into the cache).
func signFile(t *testing.T) string {
	t.Helper()
	c, err := debian.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, pat := range []string{
		"/usr/lib/linux-kbuild-*/scripts/sign-file",
		filepath.Join(c.CacheRoot(), "headers", "*", "usr", "lib", "linux-kbuild-*", "scripts", "sign-file"),
		filepath.Join(c.CacheRoot(), "bin", "sign-file-*"),
	} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	return downloadSignFile(t, c)
}

// downloadSignFile extracts sign-file from the newest bookworm linux-kbuild
// package into CACHE/bin.
func downloadSignFile(t *testing.T, c *debian.Client) string {
	t.Helper()
	k, err := c.NewestKernel(t.Context(), debian.SuiteFor("bookworm"), "amd64")
	if err != nil {
		t.Fatalf("resolving bookworm's kernel for its sign-file: %v", err)
	}
	for _, p := range k.Headers {
		if !strings.HasPrefix(p.Name, "linux-kbuild-") {
			continue
		}
		deb, err := c.Download(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(c.CacheRoot(), "bin", "sign-file-"+k.Release)
		var data []byte
		err = debian.WalkData(deb, func(h *tar.Header, r io.Reader) error {
			if strings.HasSuffix(h.Name, "/scripts/sign-file") && h.Typeflag == tar.TypeReg {
				data, err = io.ReadAll(r)
				return err
			}
			return nil
		})
		if err != nil || data == nil {
			t.Fatalf("no sign-file in %s: %v", deb, err)
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteFileAtomic(dest, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return dest
	}
	t.Fatalf("no linux-kbuild package among %s's header packages", k.Release)
	return ""
}

// TestInteropSignFile proves the PKCS7 trailer against the kernel's own
// tool: sign-file's output verifies in Go, and is byte for byte what Sign
// writes (RSA PKCS#1 v1.5 signatures are deterministic).
func TestInteropSignFile(t *testing.T) {
	if testing.Short() {
		t.Skip("may download linux-kbuild")
	}
	tool := signFile(t)
	p, _ := keys(t)
	dir := t.TempDir()
	key, certPEM, certDER, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	mod := fakeModule(t, 30000)
	for name, cert := range map[string]string{"pem": certPEM, "der": certDER} {
		t.Run(name, func(t *testing.T) {
			ko := filepath.Join(t.TempDir(), "dnsmon.ko")
			if err := os.WriteFile(ko, mod, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(tool, "sha256", key, cert, ko).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tool, err, out)
			}
			theirs, err := os.ReadFile(ko)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Verify(theirs, p.Cert)
			if err != nil {
				t.Fatalf("Verify(sign-file's module): %v", err)
			}
			if s.Format != PKCS7 {
				t.Errorf("sign-file wrote %v", s.Format)
			}
			ours, err := Sign(mod, p, PKCS7)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, theirs) {
				_, so, _ := Split(ours)
				t.Errorf("Sign differs from sign-file:\nours   %x\ntheirs %x", so.Data, s.Data)
			}
		})
	}
}

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
