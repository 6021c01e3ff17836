package publish_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/kmod/signature"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func signedModule(t *testing.T, p *modsign.KeyPair, release string) builder.Module {
	t.Helper()
	m := module(release, "r")
	var err error
	if m.Data, err = builder.SignModule(m.Data, release, p); err != nil {
		t.Fatal(err)
	}
	m.SigningCert, m.Key.SigningCert = p.Cert.Raw, modsign.Fingerprint(p.Cert)
	return m
}

// TestPublishCert checks that a signed module brings its certificate, signed
// and tagged VERSION__cert, once; that the content key's certificate decides
// Has; and that the manifest names the certificate.
func TestPublishCert(t *testing.T) {
	ctx := context.Background()
	pair, err := modsign.NewSigningKey("", modsign.WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	other, err := modsign.NewSigningKey("rotated key", modsign.WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	for name, target := range targets(t) {
		t.Run(name, func(t *testing.T) {
			key, _ := signature.GenerateKey()
			p := newPublisher(t, target, publish.WithSigningKey(key))
			m := signedModule(t, pair, "6.1.0-56-amd64")
			if err := p.Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
			ctag, _ := artifact.CertTag("0.1.0")
			raw := readManifest(t, target, ctag)
			layer, v, fp, err := artifact.ParseCertManifest(raw)
			if err != nil || v != "0.1.0" || fp != m.Key.SigningCert || layer.Digest != artifact.Digest(pair.Cert.Raw) {
				t.Fatalf("certificate manifest: %v %q %q %v", err, v, fp, layer.Digest)
			}
			readManifest(t, target, artifact.SignatureTag(artifact.Digest(raw)))
			mtag, _ := artifact.ModuleTag("0.1.0", "6.1.0-56-amd64", "amd64")
			if _, meta, err := artifact.ParseManifest(readManifest(t, target, mtag)); err != nil || meta.SigningCert != m.Key.SigningCert {
				t.Errorf("module manifest names certificate %q (%v)", meta.SigningCert, err)
			}
			// A second module of the version leaves the certificate as it is.
			if err := p.Publish(ctx, signedModule(t, pair, "6.1.0-57-amd64")); err != nil {
				t.Fatal(err)
			}
			if again := readManifest(t, target, ctag); !bytes.Equal(again, raw) {
				t.Error("the certificate manifest changed")
			}
			for kname, k := range map[string]struct {
				cert string
				want bool
			}{"same": {m.Key.SigningCert, true}, "unsigned": {"", false}, "rotated": {modsign.Fingerprint(other.Cert), false}} {
				kk := m.Key
				kk.SigningCert = k.cert
				if has, err := p.Has(ctx, kk); err != nil || has != k.want {
					t.Errorf("Has(%s certificate) = %v, %v; want %v", kname, has, err, k.want)
				}
			}
			// A rotated artifact key signs the certificate too, beside the
			// old key: hosts that trust only the new key verify it.
			key2, _ := signature.GenerateKey()
			p2, err := publish.New(ctx, target, publish.WithSigningKey(key2))
			if err != nil {
				t.Fatal(err)
			}
			defer p2.Close()
			if err := p2.Publish(ctx, signedModule(t, pair, "6.1.0-57-amd64")); err != nil {
				t.Fatal(err)
			}
			for kname, k := range map[string]*ecdsa.PrivateKey{"old key": key, "new key": key2} {
				if err := verifyWith(t, target, raw, k); err != nil {
					t.Errorf("the certificate after a rotation, checked with the %s: %v", kname, err)
				}
			}
			// A signed module without its certificate is refused.
			bad := signedModule(t, pair, "6.1.0-58-amd64")
			bad.SigningCert = nil
			if err := p.Publish(ctx, bad); err == nil || !strings.Contains(err.Error(), "came without its certificate") {
				t.Errorf("publishing a signed module without its certificate: %v", err)
			}
		})
	}
}

// verifyWith checks the signature of manifest raw in target with key.
func verifyWith(t *testing.T, target string, raw []byte, key *ecdsa.PrivateKey) error {
	t.Helper()
	ctx := context.Background()
	src, err := store.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d := artifact.Digest(raw)
	sraw, err := store.ReadManifest(ctx, src, artifact.SignatureTag(d))
	if err != nil {
		return err
	}
	blob := func(ctx context.Context, bd v1.Descriptor) ([]byte, error) {
		return store.ReadBlob(ctx, src, bd, signature.MaxPayloadSize)
	}
	_, err = signature.VerifyManifest(ctx, sraw, blob, signature.Keys{&key.PublicKey}, d)
	return err
}

// TestDirCert takes a signed module through dnsmon-farm build --to
// dir: and dnsmon-farm publish.
func TestDirCert(t *testing.T) {
	ctx := context.Background()
	pair, err := modsign.NewSigningKey("", modsign.WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dp, err := builder.NewDirPublisher(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := dp.Publish(ctx, signedModule(t, pair, "6.1.0-56-amd64")); err != nil {
		t.Fatal(err)
	}
	key, _ := signature.GenerateKey()
	target := store.LayoutPrefix + filepath.Join(t.TempDir(), "l")
	p := newPublisher(t, target, publish.WithSigningKey(key))
	if st, err := publish.Dir(ctx, dir, p); err != nil || st.Published != 1 {
		t.Fatalf("Dir: %+v, %v", st, err)
	}
	ctag, _ := artifact.CertTag("0.1.0")
	readManifest(t, target, ctag)

	// A certificate file that is not the module's is refused.
	other, err := modsign.NewSigningKey("other", modsign.WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, builder.SigningCertFile), other.Cert.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	p2 := newPublisher(t, store.LayoutPrefix+filepath.Join(t.TempDir(), "l2"), publish.WithSigningKey(key))
	if _, err := publish.Dir(ctx, dir, p2); err == nil || !strings.Contains(err.Error(), "is signed with certificate") {
		t.Errorf("Dir with a foreign certificate: %v", err)
	}
}
