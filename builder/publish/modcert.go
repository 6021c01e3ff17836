package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
)

// PublishCert writes the module signing certificate (DER) of version as
// its own manifest, tagged artifact.CertTag(version), and signs that
// manifest with the publisher's key exactly like a module manifest. It
// does nothing when the tag already holds this certificate signed by this
// key; a different certificate under the tag is replaced (the key
// was rotated: modules signed by the old key no longer match it, and the
// farm rebuilds them because their content key names the certificate).
func (p *Publisher) PublishCert(ctx context.Context, version string, der []byte) (v1.Descriptor, error) {
	a, err := artifact.BuildCert(version, der)
	if err != nil {
		return v1.Descriptor{}, err
	}
	tag, err := artifact.CertTag(version)
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc := v1.Descriptor{MediaType: artifact.ManifestMediaType, Size: int64(len(a.Manifest)), Digest: a.Digest, ArtifactType: artifact.CertArtifactType}
	old, err := store.ReadManifest(ctx, p.src, tag)
	switch {
	case err == nil && bytes.Equal(old, a.Manifest) && p.key == nil:
		return desc, nil
	case err == nil && bytes.Equal(old, a.Manifest):
		// The same certificate: sign it unless this key did already (after
		// an artifact key rotation, only the old key had), keeping the
		// other keys' signatures, as for modules.
		return desc, p.sign(ctx, a.Digest)
	case err == nil:
		fmt.Fprintf(p.log, "replacing the module signing certificate %s:%s (%s)\n", p.target, tag, artifact.CertFingerprint(der))
	case !errors.Is(err, store.ErrNotFound):
		return v1.Descriptor{}, fmt.Errorf("reading %s:%s: %w", p.target, tag, err)
	}
	if err := p.putSigned(ctx, tag, artifact.CertArtifactType, a.Manifest, a.Digest, a.Config, a.LayerDesc, a.Layer); err != nil {
		return v1.Descriptor{}, err
	}
	fmt.Fprintf(p.log, "published %s:%s (module signing certificate %s)\n", p.target, tag, artifact.CertFingerprint(der))
	return desc, nil
}

// signingCert returns the fingerprint a module's manifest carries: that of
// the certificate that came with it, which must be the one its key names.
func signingCert(m builder.Module) (string, error) {
	if m.SigningCert == nil {
		if m.Key.SigningCert != "" {
			return "", fmt.Errorf("the module for %s is signed (key names certificate %s) but came without its certificate", m.Key.Kernel, m.Key.SigningCert)
		}
		return "", nil
	}
	fp := artifact.CertFingerprint(m.SigningCert)
	if m.Key.SigningCert != "" && m.Key.SigningCert != fp {
		return "", fmt.Errorf("the module for %s came with certificate %s, but its key names %s", m.Key.Kernel, fp, m.Key.SigningCert)
	}
	return fp, nil
}

// cert copies version's module signing certificate manifest, its blobs and
// its signature manifest into the bundle, when the source has one (older
// publishes have none).
func (b *bundleWriter) cert(ctx context.Context, src store.Source, version string) error {
	tag, err := artifact.CertTag(version)
	if err != nil {
		return err
	}
	raw, err := store.ReadManifest(ctx, src, tag)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s:%s: %w", src, tag, err)
	}
	layer, _, _, err := artifact.ParseCertManifest(raw)
	if err != nil {
		return fmt.Errorf("%s:%s: %w", src, tag, err)
	}
	var mf v1.Manifest
	if err := json.Unmarshal(raw, &mf); err != nil {
		return fmt.Errorf("%s:%s: %w", src, tag, err)
	}
	if err := b.copyBlobs(ctx, src, []v1.Descriptor{mf.Config, layer}, artifact.MaxCertSize); err != nil {
		return err
	}
	if err := b.tag(tag, raw, artifact.ManifestMediaType, artifact.CertArtifactType); err != nil {
		return err
	}
	_, err = b.copySignature(ctx, src, artifact.Digest(raw))
	return err
}
