package signature

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// File names that GenerateKeyFiles writes.
const (
	PrivateKeyFile = "dnsmon.key"
	PublicKeyFile  = "dnsmon.pub"
)

// GenerateKey returns a new ECDSA P-256 key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ECDSA P-256 key: %w", err)
	}
	return k, nil
}

// MarshalPrivateKey encodes k as a PKCS#8 "PRIVATE KEY" PEM block.
func MarshalPrivateKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes k as a PKIX "PUBLIC KEY" PEM block, the form
// `cosign verify --key` reads.
func MarshalPublicKey(k *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes a PKCS#8 "PRIVATE KEY" or SEC 1 "EC PRIVATE KEY"
// PEM block holding a P-256 key.
func ParsePrivateKey(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("parsing private key: no PEM block")
	}
	var key any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("parsing private key: PEM block is %q, want \"PRIVATE KEY\" (cosign's encrypted keys are not supported)", blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("parsing private key: not an ECDSA P-256 key")
	}
	return k, nil
}

// ParsePublicKey decodes a PKIX "PUBLIC KEY" PEM block holding a P-256 key.
func ParsePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("parsing public key: no PEM block")
	}
	if blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("parsing public key: PEM block is %q, want \"PUBLIC KEY\"", blk.Type)
	}
	key, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing public key: %w", err)
	}
	k, ok := key.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("parsing public key: not an ECDSA P-256 key")
	}
	return k, nil
}

// LoadPrivateKey reads a private key file.
func LoadPrivateKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a public key file.
func LoadPublicKey(path string) (*ecdsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Fingerprint returns "sha256:" and the hex SHA-256 of the key's PKIX DER
// encoding.
func Fingerprint(k *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ErrKeyExists means GenerateKeyFiles found a key file already there and
// was not told to overwrite it.
var ErrKeyExists = errors.New("refusing to replace a signing key")

// GenerateKeyFiles makes a key pair and writes dir/dnsmon.key (mode 0600)
// and dir/dnsmon.pub (0644), each atomically. It refuses to replace an
// existing file unless overwrite is set.
func GenerateKeyFiles(dir string, overwrite bool) (privPath, pubPath string, err error) {
	privPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	if !overwrite {
		for _, p := range []string{privPath, pubPath} {
			if _, err := os.Lstat(p); err == nil {
				return "", "", fmt.Errorf("%s exists: %w", p, ErrKeyExists)
			}
		}
	}
	k, err := GenerateKey()
	if err != nil {
		return "", "", err
	}
	priv, err := MarshalPrivateKey(k)
	if err != nil {
		return "", "", err
	}
	pub, err := MarshalPublicKey(&k.PublicKey)
	if err != nil {
		return "", "", err
	}
	if err := atomicfile.Write(privPath, priv, 0o600); err != nil {
		return "", "", err
	}
	if err := atomicfile.Write(pubPath, pub, 0o644); err != nil {
		return "", "", err
	}
	return privPath, pubPath, nil
}
