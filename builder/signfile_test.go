package builder

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/kmod/modsign"
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
		if err := atomicfile.Write(dest, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return dest
	}
	t.Fatalf("no linux-kbuild package among %s's header packages", k.Release)
	return ""
}

// TestInteropSignFile proves the PKCS7 trailer against the kernel's own
// tool: sign-file's output verifies with modsign, and is byte for byte
// what modsign.Sign writes (RSA PKCS#1 v1.5 signatures are deterministic).
// It lives with the farm, not in kmod/modsign, because finding sign-file
// means downloading Debian's linux-kbuild with matrix/debian.
func TestInteropSignFile(t *testing.T) {
	if testing.Short() {
		t.Skip("may download linux-kbuild")
	}
	tool := signFile(t)
	p, err := modsign.NewSigningKey("", modsign.WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key, certPEM, certDER, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	mod := make([]byte, 30000)
	rand.Read(mod)
	copy(mod, "\x7fELF")
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
			s, err := modsign.Verify(theirs, p.Cert)
			if err != nil {
				t.Fatalf("modsign.Verify(sign-file's module): %v", err)
			}
			if s.Format != modsign.PKCS7 {
				t.Errorf("sign-file wrote %v", s.Format)
			}
			ours, err := modsign.Sign(mod, p, modsign.PKCS7)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, theirs) {
				_, so, _ := modsign.Split(ours)
				t.Errorf("Sign differs from sign-file:\nours   %x\ntheirs %x", so.Data, s.Data)
			}
		})
	}
}
