package signature

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func hash(s string) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte(s)))}
}

func TestPayloadIsCosigns(t *testing.T) {
	p, err := NewPayload("127.0.0.1:5000/dnsmon/modules", hash("m"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/dnsmon/modules"},"image":{"docker-manifest-digest":"` +
		hash("m").String() + `"},"type":"cosign container image signature"},"optional":null}`
	if string(p) != want {
		t.Errorf("payload\n%s\nwant\n%s", p, want)
	}
}

func TestVerifyManifest(t *testing.T) {
	k, _ := GenerateKey()
	other, _ := GenerateKey()
	digest := hash("manifest")
	payload, _ := NewPayload("r/x", digest)
	sig, _ := Sign(k, payload)
	badType := []byte(strings.Replace(string(payload), PayloadType, "something else", 1))
	badTypeSig, _ := Sign(k, badType)

	type layer struct {
		payload   []byte
		sig       string
		noAnn     bool
		mediaType string // instead of PayloadMediaType
	}
	// tooMany is MaxSignatures bad signatures before the good one.
	var tooMany []layer
	for range MaxSignatures {
		tooMany = append(tooMany, layer{payload: payload, sig: "AAAA"})
	}
	tooMany = append(tooMany, layer{payload: payload, sig: sig})
	third, _ := GenerateKey()
	cases := map[string]struct {
		layers []layer
		keys   []*ecdsa.PrivateKey // default: k alone
		none   bool                // no key at all
		want   string              // "" means verified (by k)
	}{
		"rotation, signed by the second key": {layers: []layer{{payload, sig, false, ""}}, keys: []*ecdsa.PrivateKey{other, k}},
		"rotation, by neither key":           {layers: []layer{{payload, sig, false, ""}}, keys: []*ecdsa.PrivateKey{other, third}, want: "by any of the keys"},
		"no key":                             {layers: []layer{{payload, sig, false, ""}}, none: true, want: "no key to verify with"},
		"good":                               {layers: []layer{{payload, sig, false, ""}}},
		"second of two":                      {layers: []layer{{payload, "AAAA", false, ""}, {payload, sig, false, ""}}},
		"wrong key":                          {layers: []layer{{payload, sig, false, ""}}, keys: []*ecdsa.PrivateKey{other}, want: "does not verify"},
		"tampered payload":                   {layers: []layer{{append([]byte(" "), payload...), sig, false, ""}}, want: "does not verify"},
		"not base64":                         {layers: []layer{{payload, "***", false, ""}}, want: "not base64"},
		"no annotation":                      {layers: []layer{{payload, sig, true, ""}}, want: "no dev.cosignproject.cosign/signature"},
		"wrong type":                         {layers: []layer{{badType, badTypeSig, false, ""}}, want: "critical.type"},
		"no layers":                          {want: "holds no"},
		"other digest":                       {layers: []layer{{mustPayload("r/x", hash("other")), mustSign(k, mustPayload("r/x", hash("other"))), false, ""}}, want: "not \"sha256:"},
		"oversized payload":                  {layers: []layer{{make([]byte, MaxPayloadSize+1), sig, false, ""}}, want: "exceeds"},
		"good one after too many":            {layers: tooMany, want: fmt.Sprintf("more than %d signatures", MaxSignatures)},
		"not a payload layer":                {layers: []layer{{payload, sig, false, "application/octet-stream"}}, want: "holds no"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			blobs := map[v1.Hash][]byte{}
			var ds []v1.Descriptor
			for _, l := range c.layers {
				d := Layer{Payload: l.payload, Signature: l.sig}.Descriptor()
				if l.noAnn {
					d.Annotations = nil
				}
				if l.mediaType != "" {
					d.MediaType = types.MediaType(l.mediaType)
				}
				blobs[d.Digest] = l.payload
				ds = append(ds, d)
			}
			raw, _, err := Manifest(ds)
			if err != nil {
				t.Fatal(err)
			}
			priv := c.keys
			if priv == nil {
				priv = []*ecdsa.PrivateKey{k}
			}
			var keys Keys
			if !c.none {
				for _, p := range priv {
					keys = append(keys, &p.PublicKey)
				}
			}
			fetch := func(_ context.Context, d v1.Descriptor) ([]byte, error) { return blobs[d.Digest], nil }
			fp, err := VerifyManifest(context.Background(), raw, fetch, keys, digest)
			if c.want == "" {
				if err != nil || fp != Fingerprint(&k.PublicKey) {
					t.Fatalf("VerifyManifest = %q, %v", fp, err)
				}
				return
			}
			if !errors.Is(err, ErrNoSignature) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("VerifyManifest: %v, want ErrNoSignature with %q", err, c.want)
			}
		})
	}
}

// TestVerifyPayloadSize checks that VerifyPayload refuses a payload over
// MaxPayloadSize even when it is validly signed.
func TestVerifyPayloadSize(t *testing.T) {
	k, _ := GenerateKey()
	digest := hash("manifest")
	payload := append(mustPayload("r/x", digest), strings.Repeat(" ", MaxPayloadSize)...) // still one JSON value
	if err := VerifyPayload(&k.PublicKey, payload, mustSign(k, payload), digest); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("VerifyPayload of %d bytes: %v, want a refusal", len(payload), err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	priv, pub, err := GenerateKeyFiles(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(priv)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, %v; want 0600", priv, fi.Mode(), err)
	}
	k, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadPublicKey(pub)
	if err != nil || !p.Equal(&k.PublicKey) {
		t.Fatalf("public key does not match: %v", err)
	}
	if _, _, err := GenerateKeyFiles(dir, false); !errors.Is(err, ErrKeyExists) {
		t.Errorf("second keygen: %v, want refusal", err)
	}
	for name, c := range map[string]struct {
		file string
		body string
		want string
	}{
		"garbage":        {"x.pub", "hello", "no PEM block"},
		"private as pub": {"y.pub", string(mustRead(t, priv)), `want "PUBLIC KEY"`},
		"cosign private": {"z.key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", "not supported"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, c.file)
			os.WriteFile(p, []byte(c.body), 0o600)
			var err error
			if strings.HasSuffix(c.file, ".pub") {
				_, err = LoadPublicKey(p)
			} else {
				_, err = LoadPrivateKey(p)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("load %s: %v, want %q", c.file, err, c.want)
			}
		})
	}
}

func mustPayload(ref string, h v1.Hash) []byte {
	p, err := NewPayload(ref, h)
	if err != nil {
		panic(err)
	}
	return p
}

func mustSign(k *ecdsa.PrivateKey, p []byte) string {
	s, err := Sign(k, p)
	if err != nil {
		panic(err)
	}
	return s
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
