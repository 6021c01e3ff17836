package hoststate

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// DefaultCertPath is where the module signing certificate (DER) is kept for
// enrolment as a Machine Owner Key.
const DefaultCertPath = "/var/lib/dnsmon/dnsmon-module-signing.der"

// SerialsPath is where the fetcher keeps the highest version-index serial
// it has seen per source; install.Uninstall removes it with the rest of
// dnsmon.
const SerialsPath = "/var/lib/dnsmon/index-serials.json"

// WriteCert writes cert (DER, 0644) to path atomically, DefaultCertPath
// when path is empty, creating its directory.
func WriteCert(cert *x509.Certificate, path string) error {
	if cert == nil {
		return fmt.Errorf("writing the module signing certificate: no certificate")
	}
	if path == "" {
		path = DefaultCertPath
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing the module signing certificate: %w", err)
	}
	if err := atomicfile.Write(path, cert.Raw, 0o644); err != nil {
		return fmt.Errorf("writing the module signing certificate: %w", err)
	}
	return nil
}
