package modsign

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	_ "crypto/sha1"   // X509ID trailers may name SHA-1
	_ "crypto/sha256" // SHA-224 and SHA-256
	_ "crypto/sha512" // SHA-384 and SHA-512
)

// Object identifiers of the PKCS#7 structure.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA224        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidEmail         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

var digestOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{{oidSHA256, crypto.SHA256}, {oidSHA384, crypto.SHA384}, {oidSHA512, crypto.SHA512}, {oidSHA224, crypto.SHA224}, {oidSHA1, crypto.SHA1}}

func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, d := range digestOIDs {
		if d.oid.Equal(oid) {
			return d.hash, true
		}
	}
	return 0, false
}

// contentInfo is PKCS#7 ContentInfo (and CMS EncapsulatedContentInfo).
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	// Content is the [0] EXPLICIT wrapper, absent when detached.
	Content asn1.RawValue `asn1:"optional"`
}

// signedData is PKCS#7 SignedData.
type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	ContentInfo      contentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

// signerInfo is PKCS#7 SignerInfo; SID is IssuerAndSerialNumber (version
// 1) or a [0] subject key identifier (CMS version 3).
type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	AuthAttributes     asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnauthAttributes   asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// Sign returns module with a signature trailer in format f made with the
// key pair: SHA-256 with RSA PKCS#1 v1.5 in both formats. PKCS7 is a
// detached SignedData without certificates or signed attributes, with the
// signer identified by issuer and serial number, as the kernel's sign-file
// writes it. A module that is already signed is refused (ErrAlreadySigned).
func Sign(module []byte, p *KeyPair, f Format) ([]byte, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	if IsSigned(module) {
		return nil, fmt.Errorf("signing: %w; strip the old signature first", ErrAlreadySigned)
	}
	if len(module) == 0 {
		return nil, errors.New("signing: empty module")
	}
	digest := crypto.SHA256.New()
	digest.Write(module)
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.Key, crypto.SHA256, digest.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("signing the module: %w", err)
	}
	var data []byte
	var ms moduleSignature
	switch f {
	case PKCS7:
		if data, err = pkcs7(p.Cert, sig); err != nil {
			return nil, err
		}
		ms = moduleSignature{IDType: idPKCS7, SigLen: uint32(len(data))}
	case X509ID:
		name := certSigner(p.Cert)
		if len(name) > 255 || len(p.Cert.SubjectKeyId) > 255 {
			return nil, fmt.Errorf("signing: signer name or key id of %q longer than 255 bytes", name)
		}
		mpi := make([]byte, 2, 2+len(sig))
		binary.BigEndian.PutUint16(mpi, uint16(len(sig)))
		mpi = append(mpi, sig...)
		data = append(append([]byte(name), p.Cert.SubjectKeyId...), mpi...)
		ms = moduleSignature{Algo: algoRSA, Hash: hashSHA256, IDType: idX509,
			SignerLen: byte(len(name)), KeyIDLen: byte(len(p.Cert.SubjectKeyId)), SigLen: uint32(len(mpi))}
	default:
		return nil, fmt.Errorf("signing: unknown format %v", f)
	}
	out := make([]byte, 0, len(module)+len(data)+infoSize+len(Magic))
	out = append(out, module...)
	out = append(out, data...)
	out = append(out, ms.bytes()...)
	return append(out, Magic...), nil
}

// pkcs7 wraps an RSA signature over the module digest in a detached
// SignedData.
func pkcs7(cert *x509.Certificate, sig []byte) ([]byte, error) {
	sid, err := asn1.Marshal(issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber})
	if err != nil {
		return nil, fmt.Errorf("encoding the signer id: %w", err)
	}
	sd := signedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: oidSHA256}},
		ContentInfo:      contentInfo{ContentType: oidData},
		SignerInfos: []signerInfo{{
			Version:            1,
			SID:                asn1.RawValue{FullBytes: sid},
			DigestAlgorithm:    pkix.AlgorithmIdentifier{Algorithm: oidSHA256},
			SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue},
			Signature:          sig,
		}},
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("encoding PKCS#7 SignedData: %w", err)
	}
	out, err := asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: explicit0(inner)})
	if err != nil {
		return nil, fmt.Errorf("encoding PKCS#7 ContentInfo: %w", err)
	}
	return out, nil
}

// explicit0 wraps DER in a [0] EXPLICIT tag.
func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

// certSigner is the signer name the kernel derives from cert's subject.
func certSigner(cert *x509.Certificate) string {
	var cn, o, email string
	for _, a := range cert.Subject.Names {
		v, _ := a.Value.(string)
		switch {
		case a.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 3}):
			cn = v
		case a.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 10}):
			o = v
		case a.Type.Equal(oidEmail):
			email = v
		}
	}
	return signerName(cn, o, email)
}

// KeyDescription is how the kernel describes cert's key in /proc/keys:
// "SIGNER: SUBJECT-KEY-ID-IN-HEX".
func KeyDescription(cert *x509.Certificate) string {
	return fmt.Sprintf("%s: %x", certSigner(cert), cert.SubjectKeyId)
}

// Verify checks module's signature trailer against cert: the signature must
// name cert's key (else ErrWrongKey) and match the bytes before the trailer
// (else ErrBadSignature). It returns the parsed trailer.
func Verify(module []byte, cert *x509.Certificate) (*Signature, error) {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("verifying the module signature: certificate %q has no RSA key", cert.Subject.CommonName)
	}
	body, s, err := Split(module)
	if err != nil {
		return nil, fmt.Errorf("verifying the module signature: %w", err)
	}
	switch s.Format {
	case X509ID:
		if !bytes.Equal(s.KeyID, cert.SubjectKeyId) || s.Signer != certSigner(cert) {
			return s, fmt.Errorf("verifying the module signature: %w: signed by %q key id %x, the certificate is %q key id %x",
				ErrWrongKey, s.Signer, s.KeyID, certSigner(cert), cert.SubjectKeyId)
		}
		h := s.Hash.New()
		h.Write(body)
		if err := rsa.VerifyPKCS1v15(pub, s.Hash, h.Sum(nil), leftPad(s.Data, pub.Size())); err != nil {
			return s, fmt.Errorf("verifying the module signature: %w (%v)", ErrBadSignature, err)
		}
		return s, nil
	case PKCS7:
		return s, verifyPKCS7(body, s.Data, cert, pub)
	}
	return s, fmt.Errorf("verifying the module signature: %w: format %v", ErrMalformed, s.Format)
}

// leftPad restores leading zero bytes that an MPI may have dropped.
func leftPad(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	return append(make([]byte, n-len(b)), b...)
}

func verifyPKCS7(content, der []byte, cert *x509.Certificate, pub *rsa.PublicKey) error {
	malformed := func(format string, args ...any) error {
		return fmt.Errorf("verifying the module signature: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 {
		return malformed("PKCS#7 ContentInfo: %v (%d trailing bytes)", err, len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return malformed("PKCS#7 content type %v is not signedData", ci.ContentType)
	}
	if ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 {
		return malformed("PKCS#7 ContentInfo without content")
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) != 0 {
		return malformed("PKCS#7 SignedData: %v", err)
	}
	if !sd.ContentInfo.ContentType.Equal(oidData) {
		return malformed("signed content type %v is not data", sd.ContentInfo.ContentType)
	}
	if len(sd.ContentInfo.Content.Bytes) != 0 {
		return malformed("the signature is not detached")
	}
	if len(sd.SignerInfos) != 1 {
		return malformed("%d signers, want 1", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if err := matchSigner(si.SID, cert); err != nil {
		return err
	}
	hash, ok := hashForOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return malformed("unsupported digest algorithm %v", si.DigestAlgorithm.Algorithm)
	}
	switch alg := si.SignatureAlgorithm.Algorithm; {
	case alg.Equal(oidRSAEncryption), alg.Equal(oidSHA256WithRSA), alg.Equal(oidSHA384WithRSA), alg.Equal(oidSHA512WithRSA):
	default:
		return malformed("unsupported signature algorithm %v", alg)
	}
	h := hash.New()
	h.Write(content)
	digest := h.Sum(nil)
	if len(si.AuthAttributes.FullBytes) > 0 {
		md, err := messageDigest(si.AuthAttributes.Bytes)
		if err != nil {
			return malformed("signed attributes: %v", err)
		}
		if !bytes.Equal(md, digest) {
			return fmt.Errorf("verifying the module signature: %w: the signed message digest differs from the module's", ErrBadSignature)
		}
		// The signature covers the attributes re-tagged as a SET OF.
		signed := bytes.Clone(si.AuthAttributes.FullBytes)
		signed[0] = 0x31
		h := hash.New()
		h.Write(signed)
		digest = h.Sum(nil)
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, leftPad(si.Signature, pub.Size())); err != nil {
		return fmt.Errorf("verifying the module signature: %w (%v)", ErrBadSignature, err)
	}
	return nil
}

// matchSigner checks that a SignerInfo's identifier names cert.
func matchSigner(sid asn1.RawValue, cert *x509.Certificate) error {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
			return fmt.Errorf("verifying the module signature: %w: signer id: %v", ErrMalformed, err)
		}
		if !bytes.Equal(ias.Issuer.FullBytes, cert.RawIssuer) || ias.Serial.Cmp(cert.SerialNumber) != 0 {
			var issuer pkix.RDNSequence
			_, _ = asn1.Unmarshal(ias.Issuer.FullBytes, &issuer)
			return fmt.Errorf("verifying the module signature: %w: signed by issuer %q serial %x, the certificate is issuer %q serial %x",
				ErrWrongKey, issuer.String(), ias.Serial, cert.Issuer.String(), cert.SerialNumber)
		}
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
		if !bytes.Equal(sid.Bytes, cert.SubjectKeyId) {
			return fmt.Errorf("verifying the module signature: %w: signed by key id %x, the certificate's is %x", ErrWrongKey, sid.Bytes, cert.SubjectKeyId)
		}
	default:
		return fmt.Errorf("verifying the module signature: %w: unknown signer id (class %d tag %d)", ErrMalformed, sid.Class, sid.Tag)
	}
	return nil
}

// messageDigest finds the messageDigest attribute in the contents of a
// SignedAttributes SET.
func messageDigest(b []byte) ([]byte, error) {
	for len(b) > 0 {
		var a attribute
		rest, err := asn1.Unmarshal(b, &a)
		if err != nil {
			return nil, err
		}
		b = rest
		if a.Type.Equal(oidMessageDigest) {
			var md []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &md); err != nil {
				return nil, err
			}
			return md, nil
		}
	}
	return nil, errors.New("no messageDigest attribute")
}
