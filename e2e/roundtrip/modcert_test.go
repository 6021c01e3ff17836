package roundtrip_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var (
	pairsOnce sync.Once
	pairs     [2]*modsign.KeyPair
	pairsErr  error
)

// modulePairs returns two module signing key pairs: ours and a stranger's.
func modulePairs(t *testing.T) (ours, other *modsign.KeyPair) {
	t.Helper()
	pairsOnce.Do(func() {
		for i, subject := range []string{"", "someone else's module key"} {
			if pairs[i], pairsErr = modsign.NewSigningKey(subject, modsign.WithBits(2048)); pairsErr != nil {
				return
			}
		}
	})
	if pairsErr != nil {
		t.Fatal(pairsErr)
	}
	return pairs[0], pairs[1]
}

// signedModule is one module for debianHost's kernel as the farm hands it
// to a publisher.
type signedModule struct {
	signer *modsign.KeyPair // signs the .ko; nil: unsigned
	cert   *modsign.KeyPair // whose certificate comes with it; nil: none
	flip   bool             // flip a code byte after signing
}

func (s signedModule) module(t *testing.T) builder.Module {
	t.Helper()
	ko := kmodtest.KO(kmodtest.Module{Version: "0.3.0", Release: debianHost.Release, Padding: 4096})
	m := builder.Module{
		Key: builder.Key{Module: "dnsmon", ModuleVersion: "0.3.0", SourceDigest: "sha256:" + strings.Repeat("ab", 32),
			Kernel: debianHost.Release, Arch: "amd64", Recipe: "sha256:" + strings.Repeat("cd", 32)},
		Target:  matrix.Target{Group: "debian-12", Distro: "debian", DistroRelease: "12", Kernel: debianHost.Release, Arch: "amd64"},
		Data:    ko,
		Created: time.Unix(1700000000, 0),
	}
	if s.signer != nil {
		var err error
		if m.Data, err = builder.SignModule(ko, debianHost.Release, s.signer); err != nil {
			t.Fatal(err)
		}
	}
	if s.flip {
		m.Data[1000] ^= 0xff // inside .text
	}
	if s.cert != nil {
		m.SigningCert = s.cert.Cert.Raw
		if s.cert == s.signer {
			m.Key.SigningCert = modsign.Fingerprint(s.cert.Cert)
		}
	}
	return m
}

func publishModules(t *testing.T, target string, key *ecdsa.PrivateKey, ms ...builder.Module) *publish.Publisher {
	t.Helper()
	opts := []publish.Option{publish.WithRetryBackoff(fastRetry)}
	if key != nil {
		opts = append(opts, publish.WithSigningKey(key))
	} else {
		opts = append(opts, publish.WithoutSigning())
	}
	p, err := publish.New(context.Background(), target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	for _, m := range ms {
		if err := p.Publish(context.Background(), m); err != nil {
			t.Fatalf("publishing: %v", err)
		}
	}
	return p
}

// TestModuleCert publishes modules with the module signing certificate and
// fetches them: the certificate is verified, written and recorded; a
// tampered certificate, one without our artifact signature, and a module
// signed by another key are refused.
func TestModuleCert(t *testing.T) {
	key := newKey(t)
	otherKey := newKey(t)
	ours, other := modulePairs(t)
	if modsign.Fingerprint(ours.Cert) != artifact.CertFingerprint(ours.Cert.Raw) {
		t.Fatal("modsign.Fingerprint and artifact.CertFingerprint disagree")
	}

	regAddr, _ := startRegistry(t)
	good := signedModule{signer: ours, cert: ours}
	layoutDir := filepath.Join(t.TempDir(), "layout")
	lp := publishModules(t, store.LayoutPrefix+layoutDir, key, good.module(t))
	if _, err := lp.Reindex(context.Background(), publish.ReindexOptions{}); err != nil {
		t.Fatalf("Reindex: %v", err)
	}
	bundle := writeBundle(t, store.LayoutPrefix+layoutDir, publish.BundleOptions{})

	type tc struct {
		setup    func(t *testing.T) string
		opts     []fetcher.Option
		insecure bool
		signed   bool   // want module_signed
		cert     bool   // want the certificate verified, recorded and written
		noWrite  bool   // certificate recorded but not written
		log      string // in the fetch log
		wantErr  string
		wantIs   error
		wantAs   any
	}
	repo := func(name string, k *ecdsa.PrivateKey, ms ...signedModule) func(t *testing.T) string {
		return func(t *testing.T) string {
			var bms []builder.Module
			for _, m := range ms {
				bms = append(bms, m.module(t))
			}
			publishModules(t, regAddr+"/"+name, k, bms...)
			return regAddr + "/" + name
		}
	}
	cases := map[string]tc{
		"signed, registry":             {setup: repo("good", key, good), signed: true, cert: true},
		"signed, layout after reindex": {setup: func(*testing.T) string { return store.LayoutPrefix + layoutDir }, signed: true, cert: true},
		"signed, bundle":               {setup: func(*testing.T) string { return bundle }, signed: true, cert: true},
		"signed, insecure": {setup: repo("insecure", key, good), insecure: true, signed: true, noWrite: true,
			log: "its artifact signature was not verified"},
		"unsigned publish without a certificate": {setup: repo("unsigned", key, signedModule{}),
			log: "was published unsigned (" + regAddr + "/unsigned publishes no module signing certificate"},
		"signed module, publish older than certificates": {setup: repo("old", key, signedModule{signer: ours}), signed: true,
			log: "(a publish older than module signing certificates)"},
		"unsigned module beside a certificate": {setup: func(t *testing.T) string {
			src := repo("mixed", key, signedModule{})(t)
			p := publishModules(t, src, key)
			if _, err := p.PublishCert(context.Background(), "0.3.0", ours.Cert.Raw); err != nil {
				t.Fatal(err)
			}
			return src
		}, log: "was published unsigned"},
		"signed by another key": {setup: repo("stranger", key, signedModule{signer: other, cert: ours}),
			wantIs: modsign.ErrWrongKey, wantAs: new(*fetcher.ModuleSignatureError), wantErr: "it is signed by another key than the module signing certificate published with it"},
		"code byte flipped after signing": {setup: repo("flipped", key, signedModule{signer: ours, cert: ours, flip: true}),
			wantIs: modsign.ErrBadSignature, wantAs: new(*fetcher.ModuleSignatureError)},
		// The checks below refuse what a publisher signed wrong: a
		// certificate or manifest that does not say what it holds.
		"manifest names another certificate than the version's": {setup: func(t *testing.T) string {
			src := repo("renamed", key, signedModule{signer: ours, cert: other})(t) // names other's
			p := publishModules(t, src, key)
			if _, err := p.PublishCert(context.Background(), "0.3.0", ours.Cert.Raw); err != nil { // the signer's
				t.Fatal(err)
			}
			return src
		}, wantIs: modsign.ErrWrongKey, wantAs: new(*fetcher.ModuleSignatureError), wantErr: "the manifest names certificate " + modsign.Fingerprint(other.Cert)},
		"manifest names a certificate, module unsigned": {setup: repo("nosig", key, signedModule{cert: ours}),
			wantIs: modsign.ErrNotSigned, wantAs: new(*fetcher.ModuleSignatureError)},
		"another version's certificate": {setup: func(t *testing.T) string {
			src := repo("otherversion", key, good)(t)
			p := publishModules(t, src, key)
			d, err := p.PublishCert(context.Background(), "0.4.0", ours.Cert.Raw)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := crane.Manifest(src + "@" + d.Digest.String())
			if err != nil {
				t.Fatal(err)
			}
			tag, _ := artifact.CertTag("0.3.0")
			putManifest(t, src+":"+tag, raw)
			return src
		}, wantErr: `is the certificate of version "0.4.0", not "0.3.0": refusing a mislabelled certificate`},
		// Unverified, so the certificate's own manifest is all that
		// names it: it must name what it holds.
		"certificate manifest names another certificate, insecure": {setup: func(t *testing.T) string {
			src := repo("misnamed", key, signedModule{signer: other, cert: other})(t)
			a, err := artifact.BuildCert("0.3.0", other.Cert.Raw)
			if err != nil {
				t.Fatal(err)
			}
			var mf v1.Manifest
			if err := json.Unmarshal(a.Manifest, &mf); err != nil {
				t.Fatal(err)
			}
			mf.Annotations[artifact.AnnotationSigningCert] = modsign.Fingerprint(ours.Cert)
			raw, err := json.Marshal(mf)
			if err != nil {
				t.Fatal(err)
			}
			tag, _ := artifact.CertTag("0.3.0")
			putManifest(t, src+":"+tag, raw)
			return src
		}, insecure: true, wantErr: "its manifest says " + modsign.Fingerprint(ours.Cert) + ": refusing a mislabelled certificate"},
		"tampered certificate": {setup: func(t *testing.T) string {
			addr, tp := startRegistry(t) // its own: the certificate blob is shared
			publishModules(t, addr+"/tampered", key, good.module(t))
			a, err := artifact.BuildCert("0.3.0", ours.Cert.Raw)
			if err != nil {
				t.Fatal(err)
			}
			tp.mu.Lock()
			tp.corrupt[a.LayerDesc.Digest.String()] = true
			tp.mu.Unlock()
			return addr + "/tampered"
		}, wantAs: new(*store.DigestError), wantErr: "refusing corrupt or tampered content"},
		"certificate without an artifact signature": {setup: func(t *testing.T) string {
			src := repo("certunsigned", key, signedModule{signer: ours})(t)
			p := publishModules(t, src, nil)
			if _, err := p.PublishCert(context.Background(), "0.3.0", ours.Cert.Raw); err != nil {
				t.Fatal(err)
			}
			return src
		}, wantIs: fetcher.ErrUnsigned, wantErr: "module signing certificate"},
		"certificate signed by another artifact key": {setup: func(t *testing.T) string {
			src := repo("certother", key, signedModule{signer: ours})(t)
			p := publishModules(t, src, otherKey)
			if _, err := p.PublishCert(context.Background(), "0.3.0", ours.Cert.Raw); err != nil {
				t.Fatal(err)
			}
			return src
		}, wantIs: signature.ErrNoSignature},
		"manifest names a certificate the source lacks": {setup: func(t *testing.T) string {
			p := publishModules(t, regAddr+"/lacking", key)
			m := good.module(t)
			meta, err := publish.Meta(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.PublishArtifact(context.Background(), meta, m.Data); err != nil {
				t.Fatal(err)
			}
			return regAddr + "/lacking"
		}, wantErr: "publishes no certificate for version 0.3.0"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			src := c.setup(t)
			dir := t.TempDir()
			out := filepath.Join(dir, "modules", "dnsmon.ko")
			certPath := filepath.Join(dir, "var", "lib", "dnsmon", "dnsmon-module-signing.der")
			var log bytes.Buffer
			opts := []fetcher.Option{fetcher.WithSource(src), fetcher.WithHost(debianHost), fetcher.WithOutput(out),
				fetcher.WithRetryBackoff(fastRetry), fetcher.WithCertPath(certPath), fetcher.WithVersion("0.3.0"), fetcher.WithLogger(&log)}
			if c.insecure {
				opts = append(opts, fetcher.WithInsecureSkipVerify())
			} else {
				opts = append(opts, fetcher.WithPublicKey(&key.PublicKey))
			}
			rec, err := fetcher.Fetch(context.Background(), append(opts, c.opts...)...)
			if c.wantErr != "" || c.wantIs != nil || c.wantAs != nil {
				if err == nil {
					t.Fatal("Fetch succeeded, want a refusal")
				}
				t.Logf("refused: %v", err)
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("error %q\nwant it to contain %q", err, c.wantErr)
				}
				if c.wantIs != nil && !errors.Is(err, c.wantIs) {
					t.Errorf("error %q is not %v", err, c.wantIs)
				}
				if c.wantAs != nil && !errors.As(err, c.wantAs) {
					t.Errorf("error %q (%T) is not a %T", err, err, c.wantAs)
				}
				for _, p := range []string{out, certPath} {
					if _, err := os.Stat(p); err == nil {
						t.Errorf("%s written by a refused fetch", p)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if rec.ModuleSigned != c.signed {
				t.Errorf("module_signed %v, want %v", rec.ModuleSigned, c.signed)
			}
			wantFP := ""
			if c.cert || c.noWrite || strings.Contains(name, "beside") {
				wantFP = modsign.Fingerprint(ours.Cert)
			}
			if rec.SigningCert != wantFP {
				t.Errorf("signing_cert %q, want %q", rec.SigningCert, wantFP)
			}
			b, rerr := os.ReadFile(certPath)
			switch {
			case c.cert && (rerr != nil || !bytes.Equal(b, ours.Cert.Raw) || rec.SigningCertPath != certPath):
				t.Errorf("certificate at %s: %v (record path %q)", certPath, rerr, rec.SigningCertPath)
			case c.noWrite && rerr == nil:
				t.Errorf("an unverified certificate was written to %s", certPath)
			}
			if disk, err := os.ReadFile(out + fetcher.RecordSuffix); err != nil || !bytes.Contains(disk, []byte(`"module_signed"`)) {
				t.Errorf("record on disk lacks module_signed: %s %v", disk, err)
			}
			if c.log != "" && !strings.Contains(log.String(), c.log) {
				t.Errorf("log %q lacks %q", log.String(), c.log)
			}
		})
	}
}
