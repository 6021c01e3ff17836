// Package signature signs and verifies manifest digests in cosign's format
// (a simple-signing payload signed with ECDSA P-256, stored in a manifest
// tagged sha256-HEX.sig), and reads and writes the PEM key files that
// `dnsmon-farm keygen` makes. It uses only the standard library and
// go-containerregistry, so `cosign verify --key` accepts what it signs.
package signature
