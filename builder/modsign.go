package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/matrix"
)

// WithModuleSigner makes the builder sign every module it builds with p,
// after the stripped .ko is copied out of the build container, in the
// format the target kernel verifies (modsign.FormatFor). The private key
// stays in this process: it never enters a container, an image, a log or an
// artifact. The certificate's fingerprint becomes part of the content key
// (Key.SigningCert), so a module signed by another key, or unsigned, is a
// different artifact. Default: modules are published unsigned.
func WithModuleSigner(p *modsign.KeyPair) Option {
	return func(o *options) error {
		if p == nil {
			return errors.New("WithModuleSigner: nil key pair")
		}
		if err := p.Check(); err != nil {
			return fmt.Errorf("WithModuleSigner: %w", err)
		}
		o.signer = p
		return nil
	}
}

// withoutModuleSigner undoes WithModuleSigner (BuildOne builds the unsigned
// module first and signs a copy).
func withoutModuleSigner() Option {
	return func(o *options) error {
		o.signer = nil
		return nil
	}
}

// SignModule returns ko signed with p for kernel release: any signature
// trailer already there is removed, then a new one is appended in
// modsign.FormatFor(release), and the result is checked against p's
// certificate. It is the farm's signing step; the guest tests use it too.
func SignModule(ko []byte, release string, p *modsign.KeyPair) ([]byte, error) {
	format, err := modsign.FormatFor(release)
	if err != nil {
		return nil, fmt.Errorf("signing the module for %q: %w", release, err)
	}
	unsigned, err := modsign.Strip(ko)
	if err != nil {
		return nil, fmt.Errorf("signing the module for %q: %w", release, err)
	}
	signed, err := modsign.Sign(unsigned, p, format)
	if err != nil {
		return nil, fmt.Errorf("signing the module for %q: %w", release, err)
	}
	if _, err := modsign.Verify(signed, p.Cert); err != nil {
		return nil, fmt.Errorf("signing the module for %q: the new signature does not verify: %w", release, err)
	}
	return signed, nil
}

// signingCert is the content-key field for o's signer: its certificate's
// fingerprint, or "" when modules are unsigned.
func (o *options) signingCert() string {
	if o.signer == nil {
		return ""
	}
	return modsign.Fingerprint(o.signer.Cert)
}

// buildOneSigned is BuildOne with a signer: it builds (or finds) the
// unsigned module, signs it with SignModule and stores the result beside
// it in the module cache.
func buildOneSigned(ctx context.Context, t matrix.Target, o *options, opts []Option) (string, error) {
	unsignedPath, err := BuildOne(ctx, t, append(opts[:len(opts):len(opts)], withoutModuleSigner(), WithClient(o.client))...)
	if err != nil {
		return "", err
	}
	b, err := New(append(opts[:len(opts):len(opts)], WithClient(o.client))...)
	if err != nil {
		return "", err
	}
	key, err := b.Key(ctx, t)
	if err != nil {
		return "", err
	}
	dir := strings.TrimPrefix(key.SourceDigest, "sha256:")[:12] + "-signed-" + strings.TrimPrefix(key.SigningCert, "sha256:")[:12]
	pub, err := NewDirPublisher(filepath.Join(o.cacheDir, "modules", dir))
	if err != nil {
		return "", err
	}
	if has, err := pub.Has(ctx, key); err != nil || has {
		return pub.Path(key), err
	}
	ko, err := os.ReadFile(unsignedPath)
	if err != nil {
		return "", fmt.Errorf("signing the module for %q: %w", t.Name(), err)
	}
	signed, err := SignModule(ko, t.Kernel, o.signer)
	if err != nil {
		return "", err
	}
	m := Module{Key: key, Target: t, Data: signed, SigningCert: o.signer.Cert.Raw, Created: time.Now().UTC()}
	var rec DirRecord
	if b, err := os.ReadFile(strings.TrimSuffix(unsignedPath, ".ko") + ".json"); err == nil && json.Unmarshal(b, &rec) == nil {
		m.BuilderImage, m.BaseImage = rec.BuilderImage, rec.BaseImage
	}
	if err := pub.Publish(ctx, m); err != nil {
		return "", err
	}
	return pub.Path(key), nil
}

// SigningCertFile is where a DirPublisher keeps the certificate (DER) of
// the signed modules it holds: DIR/SigningCertFile.
const SigningCertFile = "module-signing-cert.der"

// ReadDirCert returns the certificate a DirPublisher directory holds for
// key: nil for an unsigned module, an error when the certificate is
// missing or is not the one key names.
func ReadDirCert(dir string, key Key) ([]byte, error) {
	if key.SigningCert == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, SigningCertFile))
	if err != nil {
		return nil, fmt.Errorf("reading the module signing certificate of %s: %w", key.Kernel, err)
	}
	c, err := modsign.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, SigningCertFile), err)
	}
	if fp := modsign.Fingerprint(c); fp != key.SigningCert {
		return nil, fmt.Errorf("the module for %s is signed with certificate %s, but %s holds %s", key.Kernel, key.SigningCert, filepath.Join(dir, SigningCertFile), fp)
	}
	return c.Raw, nil
}
