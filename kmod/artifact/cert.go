package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The module signing certificate of a version is published beside its
// index as a manifest of its own, tagged CertTag(version):
//
//	0.1.0__cert → manifest (artifactType CertArtifactType, empty config)
//	              └─ layer CertMediaType: the certificate, DER
//
// signed like module manifests (SignatureTag of its digest). The manifest
// has no timestamp, so the same certificate always gives the same digest.
const (
	// CertArtifactType is the artifactType of a certificate manifest.
	CertArtifactType = "application/vnd.dnsmon.module-cert.v1"
	// CertMediaType is the media type of its one layer, the DER certificate.
	CertMediaType types.MediaType = "application/x-x509-ca-cert"
	// CertTitle is the file name `oras pull` gives the layer.
	CertTitle = "dnsmon-module-signing.der"
	// MaxCertSize caps a certificate blob.
	MaxCertSize = 64 << 10
	// certTagSuffix follows the version tag; no module tag ends so.
	certTagSuffix = "__cert"
)

// CertTag returns the tag of a version's module signing certificate.
func CertTag(version string) (string, error) {
	vt, err := VersionTag(version)
	if err != nil {
		return "", err
	}
	return vt + certTagSuffix, nil
}

// CertFingerprint is the fingerprint the SigningCert annotation carries:
// "sha256:" and the hex SHA-256 of the DER (modsign.Fingerprint).
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CertArtifact is a certificate manifest with its blobs, ready to write.
type CertArtifact struct {
	Manifest  []byte
	Digest    v1.Hash
	Layer     []byte // the DER certificate
	LayerDesc v1.Descriptor
	Config    []byte // "{}"
}

// BuildCert makes the certificate manifest of version for DER certificate der.
func BuildCert(version string, der []byte) (*CertArtifact, error) {
	if version == "" || len(der) == 0 || len(der) > MaxCertSize {
		return nil, fmt.Errorf("building the certificate artifact of %q: empty version, or a certificate of %d bytes (want 1..%d)", version, len(der), MaxCertSize)
	}
	ld := v1.Descriptor{MediaType: CertMediaType, Size: int64(len(der)), Digest: Digest(der),
		Annotations: map[string]string{AnnotationTitle: CertTitle}}
	mf := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     ManifestMediaType,
		ArtifactType:  CertArtifactType,
		Config:        v1.Descriptor{MediaType: EmptyMediaType, Size: int64(len(emptyJSON)), Digest: Digest(emptyJSON)},
		Layers:        []v1.Descriptor{ld},
		Annotations:   map[string]string{AnnotationVersion: version, AnnotationSigningCert: CertFingerprint(der)},
	}
	raw, err := json.Marshal(mf)
	if err != nil {
		return nil, fmt.Errorf("encoding the certificate manifest of %q: %w", version, err)
	}
	return &CertArtifact{Manifest: raw, Digest: Digest(raw), Layer: append([]byte(nil), der...), LayerDesc: ld, Config: EmptyJSON()}, nil
}

// ParseCertManifest parses and checks a certificate manifest and returns
// its certificate layer's descriptor, its version and the fingerprint it
// announces (check it against the layer after reading it).
func ParseCertManifest(raw []byte) (layer v1.Descriptor, version, fingerprint string, err error) {
	var mf v1.Manifest
	if err := json.Unmarshal(raw, &mf); err != nil {
		return v1.Descriptor{}, "", "", fmt.Errorf("parsing the certificate manifest: %w", err)
	}
	if mf.ArtifactType != CertArtifactType {
		return v1.Descriptor{}, "", "", fmt.Errorf("manifest has artifactType %q, want %q: not a dnsmon module signing certificate", mf.ArtifactType, CertArtifactType)
	}
	if len(mf.Layers) != 1 || mf.Layers[0].MediaType != CertMediaType || mf.Layers[0].Size <= 0 || mf.Layers[0].Size > MaxCertSize {
		return v1.Descriptor{}, "", "", fmt.Errorf("certificate manifest must have exactly one %s layer of at most %d bytes", CertMediaType, MaxCertSize)
	}
	return mf.Layers[0], mf.Annotations[AnnotationVersion], mf.Annotations[AnnotationSigningCert], nil
}
