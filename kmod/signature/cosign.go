package signature

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// cosign's names.
const (
	// PayloadMediaType is the media type of a signature layer.
	PayloadMediaType types.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation holds the base64 signature on a signature layer.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// PayloadType is critical.type of a simple-signing payload.
	PayloadType = "cosign container image signature"
	// MaxPayloadSize caps a signature layer; cosign's payloads are a few
	// hundred bytes.
	MaxPayloadSize = 64 << 10
	// MaxSignatures caps how many layers of a signature manifest are tried.
	MaxSignatures = 32
)

// ErrNoSignature means a signature manifest holds no signature that
// verifies with the key.
var ErrNoSignature = errors.New("no valid signature")

// Payload is the simple-signing payload cosign signs.
type Payload struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// NewPayload returns the payload for a manifest digest in repository ref
// ("registry/repo", without tag or digest), byte for byte as cosign writes it.
func NewPayload(ref string, digest v1.Hash) ([]byte, error) {
	var p Payload
	p.Critical.Identity.DockerReference = ref
	p.Critical.Image.DockerManifestDigest = digest.String()
	p.Critical.Type = PayloadType
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding signature payload: %w", err)
	}
	return b, nil
}

// Sign returns the base64 ASN.1 ECDSA signature of the payload's SHA-256.
func Sign(k *ecdsa.PrivateKey, payload []byte) (string, error) {
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing payload: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyPayload checks sig over payload with k, then that the payload is a
// cosign payload for digest want.
func VerifyPayload(k *ecdsa.PublicKey, payload []byte, sig string, want v1.Hash) error {
	if len(payload) > MaxPayloadSize {
		return fmt.Errorf("payload is %d bytes, more than %d", len(payload), MaxPayloadSize)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("signature annotation is not base64: %w", err)
	}
	sum := sha256.Sum256(payload)
	if !ecdsa.VerifyASN1(k, sum[:], raw) {
		return errors.New("ECDSA signature does not verify with the key")
	}
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("parsing signed payload: %w", err)
	}
	if p.Critical.Type != PayloadType {
		return fmt.Errorf("signed payload has critical.type %q, want %q", p.Critical.Type, PayloadType)
	}
	if p.Critical.Image.DockerManifestDigest != want.String() {
		return fmt.Errorf("signed payload is for %q, not %q", p.Critical.Image.DockerManifestDigest, want)
	}
	return nil
}

// Layer is one signature: its payload and base64 signature.
type Layer struct {
	Payload   []byte
	Signature string
}

// Descriptor returns the layer's descriptor in a signature manifest.
func (l Layer) Descriptor() v1.Descriptor {
	sum := sha256.Sum256(l.Payload)
	return v1.Descriptor{
		MediaType:   PayloadMediaType,
		Size:        int64(len(l.Payload)),
		Digest:      v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)},
		Annotations: map[string]string{SignatureAnnotation: l.Signature},
	}
}

// Manifest returns a signature manifest holding layers and its config blob
// (an image config whose rootfs lists the layers, as cosign writes it).
func Manifest(layers []v1.Descriptor) (manifest, config []byte, err error) {
	cfg := v1.ConfigFile{RootFS: v1.RootFS{Type: "layers"}}
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.Digest)
	}
	config, err = json.Marshal(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding signature config: %w", err)
	}
	sum := sha256.Sum256(config)
	mf := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config: v1.Descriptor{
			MediaType: types.OCIConfigJSON,
			Size:      int64(len(config)),
			Digest:    v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)},
		},
		Layers: layers,
	}
	manifest, err = json.Marshal(mf)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding signature manifest: %w", err)
	}
	return manifest, config, nil
}

// BlobFunc reads a blob a descriptor names, verifying size and digest.
type BlobFunc func(ctx context.Context, d v1.Descriptor) ([]byte, error)

// Keys are the public keys a signature may be made with; a signature by any
// one of them verifies (a host trusts the old and the new key while the
// publisher rotates).
type Keys []*ecdsa.PublicKey

// Fingerprints lists the keys' fingerprints, comma-separated.
func (ks Keys) Fingerprints() string {
	fps := make([]string, len(ks))
	for i, k := range ks {
		fps[i] = Fingerprint(k)
	}
	return strings.Join(fps, ", ")
}

// VerifyManifest checks that the signature manifest raw holds at least one
// signature by one of keys for digest want. It returns the fingerprint of
// the key that verified; otherwise an error wrapping ErrNoSignature that
// says why each signature was refused.
func VerifyManifest(ctx context.Context, raw []byte, blob BlobFunc, keys Keys, want v1.Hash) (string, error) {
	if len(keys) == 0 {
		return "", fmt.Errorf("%w for %s: no key to verify with", ErrNoSignature, want)
	}
	var mf v1.Manifest
	if err := json.Unmarshal(raw, &mf); err != nil {
		return "", fmt.Errorf("parsing signature manifest: %w", err)
	}
	var why []string
	n := 0
	for i, l := range mf.Layers {
		if l.MediaType != PayloadMediaType {
			continue
		}
		if n++; n > MaxSignatures {
			why = append(why, fmt.Sprintf("more than %d signatures: rest ignored", MaxSignatures))
			break
		}
		sig, ok := l.Annotations[SignatureAnnotation]
		if !ok {
			why = append(why, fmt.Sprintf("layer %d: no %s annotation", i, SignatureAnnotation))
			continue
		}
		if l.Size > MaxPayloadSize || l.Size < 0 {
			why = append(why, fmt.Sprintf("layer %d: payload of %d bytes exceeds %d", i, l.Size, MaxPayloadSize))
			continue
		}
		payload, err := blob(ctx, l)
		if err != nil {
			why = append(why, fmt.Sprintf("layer %d: %v", i, err))
			continue
		}
		var first error
		for _, k := range keys {
			err := VerifyPayload(k, payload, sig, want)
			if err == nil {
				return Fingerprint(k), nil
			}
			if first == nil {
				first = err
			}
		}
		why = append(why, fmt.Sprintf("layer %d: %v", i, first))
	}
	if n == 0 {
		why = append(why, "the signature manifest holds no "+string(PayloadMediaType)+" layer")
	}
	noun := "key"
	if len(keys) > 1 {
		noun = "any of the keys"
	}
	return "", fmt.Errorf("%w by %s %s for %s: %s", ErrNoSignature, noun, keys.Fingerprints(), want, strings.Join(why, "; "))
}
