package modsign

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
)

// Fingerprint names a certificate by content: "sha256:" and the hex SHA-256
// of its DER encoding. The farm puts it in a module's content key and
// manifest, dnsmon-fetch in its record.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}
