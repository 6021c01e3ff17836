package modsign

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Magic ends every signed module.
const Magic = "~Module signature appended~\n"

// infoSize is sizeof(struct module_signature).
const infoSize = 12

// Errors callers branch on; every error from Verify and Split wraps one.
var (
	// ErrNotSigned: the module has no signature trailer.
	ErrNotSigned = errors.New("module is not signed")
	// ErrMalformed: the trailer or the signature data cannot be parsed.
	ErrMalformed = errors.New("module signature is malformed")
	// ErrWrongKey: the signature names another key than the certificate.
	ErrWrongKey = errors.New("module is signed by another key")
	// ErrBadSignature: the signature names the certificate's key but does
	// not match the module's bytes.
	ErrBadSignature = errors.New("module signature does not match its contents")
	// ErrAlreadySigned: Sign was given a module that already has a
	// signature; Strip it first.
	ErrAlreadySigned = errors.New("module is already signed")
)

// Format is the kind of signature trailer a kernel checks.
type Format int

// Formats.
const (
	// PKCS7 is the CMS SignedData trailer (id_type PKEY_ID_PKCS7), checked
	// by kernels from 4.3.
	PKCS7 Format = iota + 1
	// X509ID is the older trailer of 3.7–4.2 and every RHEL 7 kernel
	// (id_type PKEY_ID_X509): the signer's name, the certificate's subject
	// key identifier and a raw RSA signature.
	X509ID
)

func (f Format) String() string {
	switch f {
	case PKCS7:
		return "pkcs7"
	case X509ID:
		return "x509-id"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// id_type values (enum pkey_id_type).
const (
	idPGP   = 0
	idX509  = 1
	idPKCS7 = 2
)

// algo values (enum pkey_algo of 3.7–4.2).
const algoRSA = 1

// hash values (enum pkey_hash_algo of 3.7–4.2).
var pkeyHash = map[byte]crypto.Hash{
	2: crypto.SHA1,
	4: crypto.SHA256,
	5: crypto.SHA384,
	6: crypto.SHA512,
	7: crypto.SHA224,
}

const hashSHA256 = 4

// rhel7RE matches RHEL/CentOS 7 kernel releases, which report 3.10.0 but
// carry backports; their module_signing.c still checks the X509ID form.
var rhel7RE = regexp.MustCompile(`\.el7`)

var releaseRE = regexp.MustCompile(`^(\d+)\.(\d+)`)

// FormatFor returns the trailer format the kernel release verifies:
// X509ID for RHEL 7 (3.10.0-*.el7*) and mainline before 4.3, PKCS7 from 4.3.
func FormatFor(release string) (Format, error) {
	if rhel7RE.MatchString(release) {
		return X509ID, nil
	}
	m := releaseRE.FindStringSubmatch(release)
	if m == nil {
		return 0, fmt.Errorf("choosing the signature format: %q is not a kernel release", release)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	switch {
	case major < 3 || (major == 3 && minor < 7):
		return 0, fmt.Errorf("choosing the signature format: kernel %q predates module signing (3.7)", release)
	case major < 4 || (major == 4 && minor < 3):
		return X509ID, nil
	}
	return PKCS7, nil
}

// moduleSignature is struct module_signature.
type moduleSignature struct {
	Algo, Hash, IDType, SignerLen, KeyIDLen byte
	SigLen                                  uint32
}

func (m moduleSignature) bytes() []byte {
	b := make([]byte, infoSize)
	b[0], b[1], b[2], b[3], b[4] = m.Algo, m.Hash, m.IDType, m.SignerLen, m.KeyIDLen
	binary.BigEndian.PutUint32(b[8:], m.SigLen)
	return b
}

// Signature is a parsed trailer.
type Signature struct {
	Format Format
	// Signer and KeyID are set for X509ID: the certificate's subject name
	// as the kernel forms it, and its subject key identifier.
	Signer string
	KeyID  []byte
	// Hash is the digest algorithm X509ID names (PKCS7 names it inside Data).
	Hash crypto.Hash
	// Data is the PKCS#7 DER (PKCS7) or the raw RSA signature without its
	// two-byte length (X509ID).
	Data []byte
}

// Split separates a signed module into the unsigned module and its parsed
// trailer. It returns ErrNotSigned without the magic, and ErrMalformed when
// the trailer's lengths do not fit.
func Split(module []byte) ([]byte, *Signature, error) {
	if !bytes.HasSuffix(module, []byte(Magic)) {
		return module, nil, ErrNotSigned
	}
	rest := module[:len(module)-len(Magic)]
	if len(rest) < infoSize {
		return nil, nil, fmt.Errorf("%w: %d bytes before the magic, want at least %d", ErrMalformed, len(rest), infoSize)
	}
	ib := rest[len(rest)-infoSize:]
	ms := moduleSignature{Algo: ib[0], Hash: ib[1], IDType: ib[2], SignerLen: ib[3], KeyIDLen: ib[4], SigLen: binary.BigEndian.Uint32(ib[8:])}
	rest = rest[:len(rest)-infoSize]
	need := uint64(ms.SigLen) + uint64(ms.SignerLen) + uint64(ms.KeyIDLen)
	if ms.SigLen == 0 || need >= uint64(len(rest)) {
		return nil, nil, fmt.Errorf("%w: trailer claims %d bytes of signature data but the file has %d before it", ErrMalformed, need, len(rest))
	}
	body := rest[:uint64(len(rest))-need]
	tail := rest[len(body):]
	switch ms.IDType {
	case idPKCS7:
		if ms.Algo != 0 || ms.Hash != 0 || ms.SignerLen != 0 || ms.KeyIDLen != 0 {
			return nil, nil, fmt.Errorf("%w: PKCS#7 trailer with non-zero algo/hash/signer/key id fields", ErrMalformed)
		}
		return body, &Signature{Format: PKCS7, Data: tail}, nil
	case idX509:
		if ms.Algo != algoRSA {
			return nil, nil, fmt.Errorf("%w: X.509-identifier trailer with public key algorithm %d, want RSA (%d)", ErrMalformed, ms.Algo, algoRSA)
		}
		h, ok := pkeyHash[ms.Hash]
		if !ok {
			return nil, nil, fmt.Errorf("%w: X.509-identifier trailer with unknown hash %d", ErrMalformed, ms.Hash)
		}
		signer := tail[:ms.SignerLen]
		keyID := tail[ms.SignerLen : int(ms.SignerLen)+int(ms.KeyIDLen)]
		mpi := tail[int(ms.SignerLen)+int(ms.KeyIDLen):]
		// mod_extract_mpi_array: a big-endian two-byte byte count, then the
		// integer; the count must cover exactly the rest.
		if len(mpi) < 3 || int(binary.BigEndian.Uint16(mpi)) != len(mpi)-2 {
			return nil, nil, fmt.Errorf("%w: raw RSA signature length does not match the trailer", ErrMalformed)
		}
		return body, &Signature{Format: X509ID, Signer: string(signer), KeyID: bytes.Clone(keyID), Hash: h, Data: mpi[2:]}, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown key identifier type %d", ErrMalformed, ms.IDType)
}

// Strip returns the module without its signature trailer, or the module
// itself when it has none.
func Strip(module []byte) ([]byte, error) {
	body, _, err := Split(module)
	if errors.Is(err, ErrNotSigned) {
		return module, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stripping the module signature: %w", err)
	}
	return body, nil
}

// IsSigned reports whether the module ends with the signature magic.
func IsSigned(module []byte) bool {
	return bytes.HasSuffix(module, []byte(Magic))
}

// signerName is the name the kernel gives a certificate's subject
// (x509_fabricate_name): the CN alone when it starts with the O (or with
// its first 7 characters), else "O: CN"; the CN, the O or the e-mail
// address when only one is present.
func signerName(cn, o, email string) string {
	switch {
	case cn != "" && o != "":
		if strings.HasPrefix(cn, o) || (len(cn) >= 7 && len(o) >= 7 && cn[:7] == o[:7]) {
			return cn
		}
		return o + ": " + cn
	case cn != "":
		return cn
	case o != "":
		return o
	}
	return email
}
