package hoststate

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// DefaultCertPath is where WriteEnrolment puts the DER certificate for
// mokutil.
const DefaultCertPath = "/var/lib/dnsmon/dnsmon-module-signing.der"

// SerialsPath is where dnsmon-fetch keeps the highest version-index serial
// it has seen per source; Uninstall removes it with the rest of dnsmon.
const SerialsPath = "/var/lib/dnsmon/index-serials.json"

// WriteEnrolment writes cert (DER, 0644) to path atomically (DefaultCertPath
// when empty) and returns the enrolment steps for a user to follow.
func WriteEnrolment(cert *x509.Certificate, path string) (string, error) {
	if cert == nil {
		return "", fmt.Errorf("writing the module signing certificate: no certificate")
	}
	if path == "" {
		path = DefaultCertPath
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("writing the module signing certificate: %w", err)
	}
	if err := atomicfile.Write(path, cert.Raw, 0o644); err != nil {
		return "", fmt.Errorf("writing the module signing certificate: %w", err)
	}
	return Guidance(cert, path), nil
}

// Guidance is the text that walks a user through trusting the dnsmon key
// once, as a Machine Owner Key.
func Guidance(cert *x509.Certificate, path string) string {
	return fmt.Sprintf(`This kernel only loads signed modules, and it does not trust the dnsmon module signing key yet
(%s, SHA-256 fingerprint %s). Enrol it once as a Machine Owner Key:
  1. sudo mokutil --import %s
     (choose a one-time password; you type it again after the reboot)
  2. reboot
  3. in the blue MokManager screen: Enroll MOK, Continue, Yes, enter the password, Reboot
Then check it with: grep %q /proc/keys   (or: mokutil --test-key %s)
and run dnsmon-load again.`,
		modsign.KeyDescription(cert), fingerprint(cert), path, cert.Subject.CommonName, path)
}

func fingerprint(cert *x509.Certificate) string {
	return fmt.Sprintf("%X", sha256.Sum256(cert.Raw))
}
