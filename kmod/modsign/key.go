package modsign

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// DefaultSubject is the common name of the certificate NewSigningKey makes.
// The kernel names the key after it in /proc/keys
// ("dnsmon module signing key: <subject key id>").
const DefaultSubject = "dnsmon module signing key"

// KeyPair is a module signing key and its certificate.
type KeyPair struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// KeyOption configures NewSigningKey.
type KeyOption func(*keyOptions) error

type keyOptions struct {
	bits     int
	validity time.Duration
	now      func() time.Time
}

// WithBits sets the RSA modulus size: 2048, 3072 or 4096. Default 4096.
func WithBits(n int) KeyOption {
	return func(o *keyOptions) error {
		switch n {
		case 2048, 3072, 4096:
			o.bits = n
			return nil
		}
		return fmt.Errorf("WithBits: %d is not 2048, 3072 or 4096", n)
	}
}

// WithValidity sets how long the certificate is valid. Default 30 years.
// Kernels up to 4.x refuse a certificate outside its validity period.
func WithValidity(d time.Duration) KeyOption {
	return func(o *keyOptions) error {
		if d < 24*time.Hour {
			return fmt.Errorf("WithValidity: %v is shorter than a day", d)
		}
		o.validity = d
		return nil
	}
}

// WithClock sets the time the certificate starts from. Default time.Now.
func WithClock(now func() time.Time) KeyOption {
	return func(o *keyOptions) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		o.now = now
		return nil
	}
}

// subjectPublicKeyInfo is decoded to hash the key bits for the subject key
// identifier.
type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// NewSigningKey makes an RSA key and a self-signed certificate for kernel
// module signing: SHA-256 with RSA, keyUsage digitalSignature,
// extendedKeyUsage codeSigning, CA:FALSE, and a subject key identifier (the
// SHA-1 of the public key, as openssl's "hash" method computes it), which
// the kernel uses to name and find the key. subject is the common name;
// DefaultSubject when empty.
func NewSigningKey(subject string, opts ...KeyOption) (*KeyPair, error) {
	o := keyOptions{bits: 4096, validity: 30 * 365 * 24 * time.Hour, now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if subject == "" {
		subject = DefaultSubject
	}
	key, err := rsa.GenerateKey(rand.Reader, o.bits)
	if err != nil {
		return nil, fmt.Errorf("generating a %d-bit RSA key: %w", o.bits, err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	var info subjectPublicKeyInfo
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, fmt.Errorf("decoding the public key: %w", err)
	}
	skid := sha1.Sum(info.PublicKey.RightAlign())
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("making a serial number: %w", err)
	}
	serial.Add(serial, big.NewInt(1))
	// A day of slack for guests and hosts whose clocks lag.
	start := o.now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: subject},
		NotBefore:             start,
		NotAfter:              start.Add(o.validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          skid[:],
		AuthorityKeyId:        skid[:],
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating the module signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the new certificate: %w", err)
	}
	return &KeyPair{Key: key, Cert: cert}, nil
}

// Check reports whether the key matches the certificate and the
// certificate is usable for module signing (RSA, with a subject key id).
func (p *KeyPair) Check() error {
	if p == nil || p.Key == nil || p.Cert == nil {
		return errors.New("module signing key pair: key or certificate missing")
	}
	pub, ok := p.Cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("module signing certificate %q: not an RSA key", p.Cert.Subject.CommonName)
	}
	if !pub.Equal(&p.Key.PublicKey) {
		return fmt.Errorf("module signing certificate %q does not match the private key", p.Cert.Subject.CommonName)
	}
	if len(p.Cert.SubjectKeyId) == 0 {
		return fmt.Errorf("module signing certificate %q has no subject key identifier", p.Cert.Subject.CommonName)
	}
	return nil
}

// PEM block types.
const (
	pemCert = "CERTIFICATE"
	pemKey  = "PRIVATE KEY"
)

// CertPEM encodes the certificate as PEM.
func (p *KeyPair) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCert, Bytes: p.Cert.Raw})
}

// KeyPEM encodes the private key as PKCS#8 PEM (what openssl and the
// kernel's sign-file read).
func (p *KeyPair) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		return nil, fmt.Errorf("encoding the module signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemKey, Bytes: der}), nil
}

// ParseCertificate reads a certificate in DER or PEM.
func ParseCertificate(b []byte) (*x509.Certificate, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != pemCert {
			return nil, fmt.Errorf("parsing certificate: PEM block %q is not a CERTIFICATE", blk.Type)
		}
		b = blk.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate: %w", err)
	}
	return c, nil
}

// ParsePrivateKey reads an RSA key in PEM (PKCS#8 or PKCS#1) or DER.
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	if k, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parsing private key: %T is not an RSA key", k)
	}
	return rk, nil
}

// File names WriteFiles uses in its directory.
const (
	KeyFile     = "dnsmon-module-signing.key" // PKCS#8 PEM, mode 0600
	CertFile    = "dnsmon-module-signing.pem" // PEM
	CertDERFile = "dnsmon-module-signing.der" // DER, for mokutil --import
)

// WriteFiles writes the key (0600) and the certificate (PEM and DER, 0644)
// into dir, each atomically, and returns their paths.
func (p *KeyPair) WriteFiles(dir string) (key, certPEM, certDER string, err error) {
	if err := p.Check(); err != nil {
		return "", "", "", err
	}
	kp, err := p.KeyPEM()
	if err != nil {
		return "", "", "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", "", fmt.Errorf("creating %q: %w", dir, err)
	}
	key, certPEM, certDER = filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile), filepath.Join(dir, CertDERFile)
	if err := atomicfile.Write(key, kp, 0o600); err != nil {
		return "", "", "", err
	}
	if err := atomicfile.Write(certPEM, p.CertPEM(), 0o644); err != nil {
		return "", "", "", err
	}
	if err := atomicfile.Write(certDER, p.Cert.Raw, 0o644); err != nil {
		return "", "", "", err
	}
	return key, certPEM, certDER, nil
}

// LoadKeyPair reads a key and a certificate (PEM or DER) and checks that
// they match.
func LoadKeyPair(keyPath, certPath string) (*KeyPair, error) {
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading module signing key: %w", err)
	}
	k, err := ParsePrivateKey(kb)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", keyPath, err)
	}
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("reading module signing certificate: %w", err)
	}
	c, err := ParseCertificate(cb)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", certPath, err)
	}
	p := &KeyPair{Key: k, Cert: c}
	return p, p.Check()
}
