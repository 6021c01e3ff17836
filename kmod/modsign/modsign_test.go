package modsign

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testKeys caches two 2048-bit key pairs: key generation is the slow part.
var testKeys = sync.OnceValues(func() ([2]*KeyPair, error) {
	var ps [2]*KeyPair
	for i := range ps {
		p, err := NewSigningKey("", WithBits(2048))
		if err != nil {
			return ps, err
		}
		ps[i] = p
	}
	return ps, nil
})

func keys(t *testing.T) (ours, foreign *KeyPair) {
	t.Helper()
	ps, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return ps[0], ps[1]
}

func fakeModule(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, "\x7fELF")
	return b
}

func TestNewSigningKey(t *testing.T) {
	p, _ := keys(t)
	c := p.Cert
	if c.Subject.CommonName != DefaultSubject {
		t.Errorf("CN = %q", c.Subject.CommonName)
	}
	if c.SignatureAlgorithm.String() != "SHA256-RSA" {
		t.Errorf("signature algorithm %v", c.SignatureAlgorithm)
	}
	if c.KeyUsage != 1 { // x509.KeyUsageDigitalSignature only
		t.Errorf("key usage %b", c.KeyUsage)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != 3 { // ExtKeyUsageCodeSigning
		t.Errorf("ext key usage %v", c.ExtKeyUsage)
	}
	if len(c.SubjectKeyId) != 20 || c.IsCA {
		t.Errorf("skid %x, CA %v", c.SubjectKeyId, c.IsCA)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if c.NotBefore.After(time.Now()) {
		t.Errorf("not valid yet: %v", c.NotBefore)
	}
	if got, want := KeyDescription(c), DefaultSubject+": "; got[:len(want)] != want {
		t.Errorf("KeyDescription = %q", got)
	}
	for name, opt := range map[string]KeyOption{"bits": WithBits(1024), "validity": WithValidity(time.Hour), "clock": WithClock(nil)} {
		if _, err := NewSigningKey("", opt); err == nil {
			t.Errorf("option %s: bad value accepted", name)
		}
	}
}

func TestWriteLoad(t *testing.T) {
	p, foreign := keys(t)
	dir := t.TempDir()
	k, cp, cd, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(k)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v %v", st.Mode(), err)
	}
	for _, cert := range []string{cp, cd} {
		q, err := LoadKeyPair(k, cert)
		if err != nil {
			t.Fatalf("LoadKeyPair(%s): %v", cert, err)
		}
		if !q.Key.Equal(p.Key) || !q.Cert.Equal(p.Cert) {
			t.Errorf("%s: round trip changed the key pair", cert)
		}
	}
	other := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(other, foreign.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyPair(k, other); err == nil {
		t.Error("a key with another key's certificate was accepted")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestFormatFor(t *testing.T) {
	tests := map[string]struct {
		release string
		want    Format
		err     bool
	}{
		"rhel7.9":      {"3.10.0-1160.el7.x86_64", X509ID, false},
		"rhel7.0":      {"3.10.0-123.el7.x86_64", X509ID, false},
		"mainline3.10": {"3.10.99", X509ID, false},
		"4.2":          {"4.2.0-1-amd64", X509ID, false},
		"4.3":          {"4.3.0", PKCS7, false},
		"rhel8":        {"4.18.0-553.el8_10.x86_64", PKCS7, false},
		"bookworm":     {"6.1.0-56-amd64", PKCS7, false},
		"experimental": {"7.3-amd64", PKCS7, false},
		"3.6":          {"3.6.11", 0, true},
		"garbage":      {"linux", 0, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := FormatFor(tc.release)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("FormatFor(%q) = %v, %v; want %v (error %v)", tc.release, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	p, foreign := keys(t)
	mod := fakeModule(t, 40000)
	for _, f := range []Format{PKCS7, X509ID} {
		t.Run(f.String(), func(t *testing.T) {
			signed, err := Sign(mod, p, f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(signed, mod) || !bytes.HasSuffix(signed, []byte(Magic)) {
				t.Fatal("signed module is not module + trailer")
			}
			s, err := Verify(signed, p.Cert)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if s.Format != f {
				t.Errorf("format %v, want %v", s.Format, f)
			}
			if f == X509ID && (s.Signer != DefaultSubject || !bytes.Equal(s.KeyID, p.Cert.SubjectKeyId)) {
				t.Errorf("signer %q key id %x", s.Signer, s.KeyID)
			}
			stripped, err := Strip(signed)
			if err != nil || !bytes.Equal(stripped, mod) {
				t.Errorf("Strip: %v, equal %v", err, bytes.Equal(stripped, mod))
			}
			if _, err := Sign(signed, p, f); !errors.Is(err, ErrAlreadySigned) {
				t.Errorf("signing twice: %v", err)
			}
			sigStart := len(mod) + 10 // inside the signature data
			if f == X509ID {
				sigStart = len(mod) + len(DefaultSubject) + 20 + 2 + 10
			}
			if f == PKCS7 {
				sigStart = len(signed) - len(Magic) - infoSize - 10 // inside the RSA signature, the last field
			}
			foreignSigned, err := Sign(mod, foreign, f)
			if err != nil {
				t.Fatal(err)
			}
			cases := map[string]struct {
				data []byte
				want error
			}{
				"module byte":    {flip(signed, 100), ErrBadSignature},
				"last byte":      {flip(signed, len(mod)-1), ErrBadSignature},
				"signature byte": {flip(signed, sigStart), ErrBadSignature},
				"foreign key":    {foreignSigned, ErrWrongKey},
				"unsigned":       {mod, ErrNotSigned},
				"truncated":      {signed[len(signed)-len(Magic)-infoSize-5:], ErrMalformed},
				"magic only":     {[]byte(Magic), ErrMalformed},
			}
			if f == PKCS7 {
				// The trailer still fits, but the DER inside it is cut short.
				cut := bytes.Clone(signed[:len(mod)-40])
				cut = append(cut, signed[len(mod):len(signed)-len(Magic)-infoSize-40]...)
				ms := moduleSignature{IDType: idPKCS7, SigLen: uint32(len(signed) - len(Magic) - infoSize - 40 - len(mod))}
				cases["cut DER"] = struct {
					data []byte
					want error
				}{append(append(cut, ms.bytes()...), Magic...), ErrMalformed}
			}
			for name, tc := range cases {
				_, err := Verify(tc.data, p.Cert)
				if !errors.Is(err, tc.want) {
					t.Errorf("%s: Verify = %v, want %v", name, err, tc.want)
				}
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestSignerName(t *testing.T) {
	tests := []struct{ cn, o, email, want string }{
		{"dnsmon module signing key", "", "", "dnsmon module signing key"},
		{"dnsmon module signing key", "dnsmon", "", "dnsmon module signing key"},
		{"Build time autogenerated kernel key", "Build time autogenerated kernel key", "", "Build time autogenerated kernel key"},
		{"CentOS Linux kernel signing key", "CentOS", "", "CentOS Linux kernel signing key"},
		{"Secure Boot Signing", "Example Corp", "", "Example Corp: Secure Boot Signing"},
		{"Example Corp signing", "Example Corporation", "", "Example Corp signing"},
		{"", "Org", "", "Org"},
		{"", "", "a@b", "a@b"},
	}
	for _, tc := range tests {
		if got := signerName(tc.cn, tc.o, tc.email); got != tc.want {
			t.Errorf("signerName(%q, %q, %q) = %q, want %q", tc.cn, tc.o, tc.email, got, tc.want)
		}
	}
}
