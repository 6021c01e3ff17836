package fetcher

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/fetcher/internal/hostopt"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// ModuleSignatureError means the module's appended signature (the one the
// kernel checks) does not verify against the module signing certificate
// the source publishes: it was signed by another key, or altered after
// signing.
type ModuleSignatureError struct {
	// Source, Release: where the module came from and its kernel.
	Source, Release string
	// Cert is the fingerprint of the source's certificate.
	Cert string
	// Err is modsign.Verify's error (wrapping modsign.ErrWrongKey,
	// ErrBadSignature or ErrMalformed).
	Err error
}

func (e *ModuleSignatureError) Error() string {
	what := "its signature does not verify against"
	if errors.Is(e.Err, modsign.ErrWrongKey) {
		what = "it is signed by another key than"
	}
	return fmt.Sprintf("refusing the module for %s from %s: %s the module signing certificate published with it (%s): %v",
		e.Release, e.Source, what, e.Cert, e.Err)
}

func (e *ModuleSignatureError) Unwrap() error { return e.Err }

// WithCertPath sets where Fetch writes the module signing certificate
// (DER) that it fetched and verified with the module, for `mokutil
// --import` and for dnsmon-load to check against /proc/keys. Default:
// hoststate.DefaultCertPath under WithRoot; with WithOutput, the file
// hoststate.DefaultCertPath names (dnsmon-module-signing.der) beside the
// module.
func WithCertPath(path string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.certPath, path, "WithCertPath", "path") }
}

func (o *options) certOut() string {
	switch {
	case o.certPath != "":
		return o.certPath
	case o.output != "":
		return filepath.Join(filepath.Dir(o.output), filepath.Base(hoststate.DefaultCertPath))
	}
	return filepath.Join(o.root, hoststate.DefaultCertPath)
}

// ModuleCert is a module signing certificate read from a source.
type ModuleCert struct {
	// Cert is the parsed certificate; Fingerprint its modsign.Fingerprint.
	Cert        *x509.Certificate
	Fingerprint string
	// Signer is the fingerprint of the artifact key that verified the
	// certificate's manifest, "" when verification was skipped.
	Signer string
}

// ReadModuleCert reads version's module signing certificate from src
// (artifact.CertTag) and, when key is not nil, verifies its manifest's
// signature exactly like a module's. It returns an error wrapping
// store.ErrNotFound when the source publishes no certificate for version.
func ReadModuleCert(ctx context.Context, src store.Source, version string, keys signature.Keys) (*ModuleCert, error) {
	tag, err := artifact.CertTag(version)
	if err != nil {
		return nil, err
	}
	raw, err := store.ReadManifest(ctx, src, tag)
	if err != nil {
		return nil, fmt.Errorf("reading the module signing certificate %s:%s: %w", src, tag, err)
	}
	layer, v, fp, err := artifact.ParseCertManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", src, tag, err)
	}
	if v != version {
		return nil, fmt.Errorf("%s:%s is the certificate of version %q, not %q: refusing a mislabelled certificate", src, tag, v, version)
	}
	mc := &ModuleCert{}
	if len(keys) > 0 {
		if mc.Signer, err = verifySignature(ctx, src, artifact.Digest(raw), keys); err != nil {
			return nil, fmt.Errorf("refusing the module signing certificate %s:%s, its artifact signature does not check out: %w", src, tag, err)
		}
	}
	der, err := store.ReadBlob(ctx, src, layer, artifact.MaxCertSize)
	if err != nil {
		return nil, err
	}
	if got := artifact.CertFingerprint(der); got != fp {
		return nil, fmt.Errorf("%s:%s: the certificate hashes to %s, its manifest says %s: refusing a mislabelled certificate", src, tag, got, fp)
	}
	if mc.Cert, err = modsign.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("%s:%s: %w", src, tag, err)
	}
	mc.Fingerprint = modsign.Fingerprint(mc.Cert)
	return mc, nil
}

// checkModuleCert fetches the module signing certificate published with
// m, checks m's appended signature against it and, when the certificate's
// own artifact signature was verified, writes it to o.certOut(). It fills
// the record's module signature fields. A source without a certificate
// (publishes older than module signing) is accepted, and said so.
func (o *options) checkModuleCert(ctx context.Context, src store.Source, keys signature.Keys, m *Module, rec *Record) error {
	rec.ModuleSigned = modsign.IsSigned(m.Ko)
	mc, err := ReadModuleCert(ctx, src, m.Meta.Version, keys)
	if errors.Is(err, store.ErrNotFound) {
		if m.Meta.SigningCert != "" {
			return fmt.Errorf("the module for %s names module signing certificate %s, but %s publishes no certificate for version %s: refusing a module whose signature cannot be checked",
				m.Meta.Release, m.Meta.SigningCert, src, m.Meta.Version)
		}
		if !rec.ModuleSigned {
			// Built without a module signing key: say that, not "older".
			fmt.Fprintf(o.Log, "the module for %s was published unsigned (%s publishes no module signing certificate for dnsmon %s): it loads only where module signatures are not enforced (no Secure Boot, lockdown or module.sig_enforce)\n",
				m.Meta.Release, src, m.Meta.Version)
			return nil
		}
		// A signed module whose manifest names no certificate comes from
		// a publish older than the certificates published beside modules.
		fmt.Fprintf(o.Log, "%s publishes no module signing certificate for dnsmon %s (a publish older than module signing certificates): the module's signature is not checked here; it loads where the kernel trusts its signer or signatures are not enforced\n", src, m.Meta.Version)
		return nil
	}
	if err != nil {
		return err
	}
	if m.Meta.SigningCert != "" && m.Meta.SigningCert != mc.Fingerprint {
		return &ModuleSignatureError{Source: src.String(), Release: m.Meta.Release, Cert: mc.Fingerprint,
			Err: fmt.Errorf("%w: the manifest names certificate %s", modsign.ErrWrongKey, m.Meta.SigningCert)}
	}
	if !rec.ModuleSigned {
		if m.Meta.SigningCert != "" {
			return &ModuleSignatureError{Source: src.String(), Release: m.Meta.Release, Cert: mc.Fingerprint, Err: modsign.ErrNotSigned}
		}
		fmt.Fprintf(o.Log, "the module for %s was published unsigned: it loads only where module signatures are not enforced (no Secure Boot, lockdown or module.sig_enforce)\n", m.Meta.Release)
	} else if _, err := modsign.Verify(m.Ko, mc.Cert); err != nil {
		return &ModuleSignatureError{Source: src.String(), Release: m.Meta.Release, Cert: mc.Fingerprint, Err: err}
	}
	rec.SigningCert = mc.Fingerprint
	if mc.Signer == "" {
		// Never offer an unverified certificate for enrolment.
		fmt.Fprintf(o.Log, "not writing the module signing certificate %s: its artifact signature was not verified\n", mc.Fingerprint)
		return nil
	}
	path := o.certOut()
	if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, mc.Cert.Raw) {
		if err := hoststate.WriteCert(mc.Cert, path); err != nil {
			return err
		}
	}
	rec.SigningCertPath = path
	fmt.Fprintf(o.Log, "wrote %s (module signing certificate %s, %s)\n", path, modsign.KeyDescription(mc.Cert), mc.Fingerprint)
	return nil
}
