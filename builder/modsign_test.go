package builder

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/modsign"
)

var (
	testPairOnce sync.Once
	testPair     *modsign.KeyPair
	testPairErr  error
)

func signingPair(t *testing.T) *modsign.KeyPair {
	t.Helper()
	testPairOnce.Do(func() { testPair, testPairErr = modsign.NewSigningKey("", modsign.WithBits(2048)) })
	if testPairErr != nil {
		t.Fatal(testPairErr)
	}
	return testPair
}

func TestSignModule(t *testing.T) {
	p := signingPair(t)
	other, err := modsign.NewSigningKey("another key", modsign.WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	ko := []byte("\x7fELF module body")
	signedByOther, err := modsign.Sign(ko, other, modsign.PKCS7)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		in      []byte
		release string
		format  modsign.Format
		wantErr string
	}{
		"pkcs7 for 6.1":            {in: ko, release: "6.1.0-50-amd64", format: modsign.PKCS7},
		"x509-id for rhel 7":       {in: ko, release: "3.10.0-1160.el7.x86_64", format: modsign.X509ID},
		"x509-id for 4.2":          {in: ko, release: "4.2.0-1-amd64", format: modsign.X509ID},
		"re-signs a signed module": {in: signedByOther, release: "7.3-amd64", format: modsign.PKCS7},
		"not a release":            {in: ko, release: "nope", wantErr: "not a kernel release"},
		"predates signing":         {in: ko, release: "3.2.0-4-amd64", wantErr: "predates module signing"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := SignModule(tc.in, tc.release, p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("SignModule: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := modsign.Verify(out, p.Cert)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if s.Format != tc.format {
				t.Errorf("format %v, want %v", s.Format, tc.format)
			}
			if body, _ := modsign.Strip(out); !bytes.Equal(body, ko) {
				t.Errorf("signed body differs from the module")
			}
			if _, err := modsign.Verify(out, other.Cert); !errors.Is(err, modsign.ErrWrongKey) {
				t.Errorf("Verify with another certificate: %v, want ErrWrongKey", err)
			}
		})
	}
}

// TestSignedBuildWithFake builds with WithModuleSigner: the module comes out
// signed for its kernel, the key names the certificate, and the private key
// never reaches the container.
func TestSignedBuildWithFake(t *testing.T) {
	p := signingPair(t)
	keyPEM, err := p.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	f.images[BaseImage(debTarget("x"))] = true
	var leaked []string
	f.run = func(c *fakeContainer) (int, string, map[string][]byte) {
		for name, b := range c.in {
			if bytes.Contains(b, keyPEM) || bytes.Contains(b, []byte("PRIVATE KEY")) {
				leaked = append(leaked, name)
			}
		}
		for _, e := range c.cfg.Env {
			if strings.Contains(e, "PRIVATE KEY") || strings.Contains(e, "module-signing") {
				leaked = append(leaked, e)
			}
		}
		return okRun(c)
	}
	target := debTarget("6.1.0-50-amd64")
	unsigned := newFakeEngine(t, f)
	signed := newFakeEngine(t, f, WithModuleSigner(p))
	uk, _ := unsigned.Key(t.Context(), target)
	sk, _ := signed.Key(t.Context(), target)
	if uk.SigningCert != "" || sk.SigningCert != modsign.Fingerprint(p.Cert) {
		t.Errorf("signing certs in keys: unsigned %q, signed %q", uk.SigningCert, sk.SigningCert)
	}
	if uk.Digest() == sk.Digest() {
		t.Error("signed and unsigned modules share a content key")
	}
	m, err := signed.Build(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := modsign.Verify(m.Data, p.Cert); err != nil || s.Format != modsign.PKCS7 {
		t.Fatalf("built module: %v (format %v)", err, s)
	}
	if !bytes.Equal(m.SigningCert, p.Cert.Raw) || m.Key != sk {
		t.Errorf("module key %+v, cert %d bytes", m.Key, len(m.SigningCert))
	}
	if bytes.Contains(m.Log, keyPEM) {
		t.Error("the build log holds the private key")
	}
	if len(leaked) > 0 {
		t.Errorf("the private key reached the container: %q", leaked)
	}
}

func TestBuildOneSigned(t *testing.T) {
	p := signingPair(t)
	f := newFake()
	f.run = okRun
	f.images[BaseImage(debTarget("x"))] = true
	cache := t.TempDir()
	opts := []Option{WithClient(f), WithSource(testSource), WithModule("hello", "1.0"), WithCacheDir(cache), WithPullRetry(1, 0)}
	target := debTarget("6.1.0-50-amd64")
	unsignedPath, err := BuildOne(t.Context(), target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	builds := len(f.removed)
	signedPath, err := BuildOne(t.Context(), target, append(opts, WithModuleSigner(p))...)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.removed) != builds {
		t.Errorf("signing rebuilt the module: %d containers, then %d", builds, len(f.removed))
	}
	if signedPath == unsignedPath || !strings.Contains(signedPath, "-signed-") {
		t.Errorf("signed module at %s, unsigned at %s", signedPath, unsignedPath)
	}
	b, err := os.ReadFile(signedPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := modsign.Verify(b, p.Cert); err != nil {
		t.Fatal(err)
	}
	if u, _ := os.ReadFile(unsignedPath); modsign.IsSigned(u) {
		t.Error("the unsigned cache entry got signed")
	}
	again, err := BuildOne(t.Context(), target, append(opts, WithModuleSigner(p))...)
	if err != nil || again != signedPath {
		t.Errorf("second signed BuildOne: %s, %v", again, err)
	}
}
