package main

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// signingText is what dnsmon-load prints on stderr, before loading, for
// the loader's signing warning: why the load will likely fail and what to
// do about it.
func signingText(w *loader.SigningWarning) string {
	var b strings.Builder
	why := strings.Join(w.EnforcedBy, ", ")
	if w.CertRefused != nil {
		fmt.Fprintf(&b, "dnsmon-load: not offering %s for enrolment: %v\n", w.CertPath, certRefusal(w.CertRefused))
	}
	switch {
	case w.Unsigned:
		fmt.Fprintf(&b, "dnsmon-load: this kernel only loads signed modules (%s), and this module is unsigned: "+
			"fetch the signed module with dnsmon-fetch (it also writes the dnsmon certificate to %s); trying anyway", why, w.CertPath)
	case w.Cert == nil:
		fmt.Fprintf(&b, "dnsmon-load: this kernel only loads signed modules (%s); there is no dnsmon module signing certificate at %s "+
			"(dnsmon-fetch writes it), so whether the kernel trusts the module's key is unknown; trying anyway", why, w.CertPath)
	default:
		fmt.Fprintf(&b, "dnsmon-load: %s; the kernel's keyrings (/proc/keys) do not show the dnsmon key.\n", why)
		if len(w.OtherKeys) > 0 {
			fmt.Fprintf(&b, "They hold another key with the same signer, an older dnsmon key: %s\n", strings.Join(w.OtherKeys, "; "))
		}
		b.WriteString(enrolmentSteps(w.Cert, w.CertPath))
		b.WriteString("\n(Keys this process may not view are missing from /proc/keys: trying to load anyway.)")
	}
	return b.String()
}

// enrolmentSteps walks a user through trusting the key of cert, kept at
// path, once, as a Machine Owner Key.
func enrolmentSteps(cert *x509.Certificate, path string) string {
	return fmt.Sprintf(`This kernel only loads signed modules, and it does not trust the dnsmon module signing key yet
(%s, SHA-256 fingerprint %X). Enrol it once as a Machine Owner Key:
  1. sudo mokutil --import %s
     (choose a one-time password; you type it again after the reboot)
  2. reboot
  3. in the blue MokManager screen: Enroll MOK, Continue, Yes, enter the password, Reboot
Then check it with: grep %q /proc/keys   (or: mokutil --test-key %s)
and run dnsmon-load again.`,
		modsign.KeyDescription(cert), sha256.Sum256(cert.Raw), path, cert.Subject.CommonName, path)
}

// certRefusal adds to why a certificate file was refused what to do.
func certRefusal(err error) string {
	var cfe *loader.CertFileError
	switch {
	case !errors.As(err, &cfe):
		return err.Error()
	case cfe.UID != 0:
		return err.Error() + ": fetch the module again with dnsmon-fetch, as root"
	}
	return fmt.Sprintf("%v: run chmod go-w %s, and check its content came from dnsmon-fetch", err, cfe.Path)
}
