package e2e

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// Debian's ovmf package: the firmware code and its empty variable store.
const (
	OVMFCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	OVMFVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// GUID is an EFI GUID in its on-disk (mixed-endian) byte order.
type GUID [16]byte

// ParseGUID parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
func ParseGUID(s string) (GUID, error) {
	var g GUID
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 || len(s) != 36 {
		return g, fmt.Errorf("parsing GUID %q: not xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s)
	}
	// The first three fields are little-endian on disk.
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:])
	return g, nil
}

func mustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err) // only called on the constants below
	}
	return g
}

// GUIDs of the variable store and of the db variable.
var (
	guidNvData        = mustGUID("fff12b8d-7696-4c8b-a985-2747075b4f50") // EFI_SYSTEM_NV_DATA_FV_GUID
	guidAuthVars      = mustGUID("aaf32c78-947b-439a-a180-2e144ec37792") // EFI_AUTHENTICATED_VARIABLE_GUID
	guidImageSecurity = mustGUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f") // EFI_IMAGE_SECURITY_DATABASE_GUID
	guidCertX509      = mustGUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072") // EFI_CERT_X509_GUID
	// DnsmonOwner is the SignatureOwner of the certificates WithDB adds.
	DnsmonOwner = mustGUID("5d4e8a0c-1f6b-4c55-9a57-646e736d6f6e")
)

// Variable store layout (edk2 MdeModulePkg VariableFormat.h, as
// virt-firmware's varstore/edk2.py reads and writes it).
const (
	varStartID      = 0x55aa
	varAdded        = 0x3f
	authVarHdrSize  = 60 // AUTHENTICATED_VARIABLE_HEADER
	varStoreHdrSize = 28 // VARIABLE_STORE_HEADER
	// db's attributes: non-volatile, boot service and runtime access,
	// time-based authenticated write access.
	dbAttributes = 0x01 | 0x02 | 0x04 | 0x20
)

// efiVar is one variable of the store.
type efiVar struct {
	name  string
	guid  GUID
	attr  uint32
	count uint64
	time  [16]byte
	pkIdx uint32
	data  []byte
}

// WriteVarsWithDB copies the edk2 variable store src (e.g. OVMFVars) to
// dest with the UEFI db variable set to one EFI_SIGNATURE_LIST of
// EFI_CERT_X509_GUID per DER certificate, owned by DnsmonOwner. Other
// variables are kept; an existing db is replaced. Firmware booted with it
// has no PK, so Secure Boot stays off, but Linux still loads db into its
// platform keyring.
func WriteVarsWithDB(src, dest string, certs [][]byte, now time.Time) error {
	img, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading variable store: %w", err)
	}
	start, end, err := varStoreRange(img)
	if err != nil {
		return fmt.Errorf("reading variable store %q: %w", src, err)
	}
	vars, err := parseVars(img[start:end])
	if err != nil {
		return fmt.Errorf("reading variable store %q: %w", src, err)
	}
	kept := vars[:0]
	for _, v := range vars {
		if !(v.name == "db" && v.guid == guidImageSecurity) {
			kept = append(kept, v)
		}
	}
	db := efiVar{name: "db", guid: guidImageSecurity, attr: dbAttributes, data: signatureLists(certs), time: efiTime(now)}
	vars = append(kept, db)
	var body []byte
	for _, v := range vars {
		body = append(body, v.bytes()...)
	}
	if len(body) > end-start {
		return fmt.Errorf("writing variable store %q: %d bytes of variables do not fit in %d", dest, len(body), end-start)
	}
	out := bytes.Clone(img)
	copy(out[start:], body)
	for i := start + len(body); i < end; i++ {
		out[i] = 0xff
	}
	if err := atomicfile.Write(dest, out, 0o600); err != nil {
		return fmt.Errorf("writing variable store: %w", err)
	}
	return nil
}

// varStoreRange finds the variables area of a raw edk2 store: a firmware
// volume of the NV data type at offset 0 whose header is followed by an
// authenticated variable store header.
func varStoreRange(img []byte) (int, int, error) {
	if len(img) < 64 || GUID(img[16:32]) != guidNvData || string(img[40:44]) != "_FVH" {
		return 0, 0, errors.New("not an edk2 NV data firmware volume")
	}
	hlen := int(binary.LittleEndian.Uint16(img[48:]))
	if hlen+varStoreHdrSize > len(img) {
		return 0, 0, errors.New("firmware volume header runs past the file")
	}
	vs := img[hlen:]
	if GUID(vs[:16]) != guidAuthVars {
		return 0, 0, errors.New("variable store is not of the authenticated format")
	}
	size := int(binary.LittleEndian.Uint32(vs[16:]))
	if vs[20] != 0x5a || vs[21] != 0xfe {
		return 0, 0, fmt.Errorf("variable store format 0x%x state 0x%x, want 0x5a 0xfe", vs[20], vs[21])
	}
	if size < varStoreHdrSize || hlen+size > len(img) {
		return 0, 0, fmt.Errorf("variable store size %d does not fit the file", size)
	}
	return hlen + varStoreHdrSize, hlen + size, nil
}

// parseVars reads the live (VAR_ADDED) variables of a store area.
func parseVars(b []byte) ([]efiVar, error) {
	var vars []efiVar
	for pos := 0; pos+authVarHdrSize <= len(b); {
		h := b[pos:]
		if binary.LittleEndian.Uint16(h) != varStartID {
			break
		}
		nsize := int(binary.LittleEndian.Uint32(h[36:]))
		dsize := int(binary.LittleEndian.Uint32(h[40:]))
		next := pos + authVarHdrSize + nsize + dsize
		if nsize < 2 || nsize%2 != 0 || next > len(b) {
			return nil, fmt.Errorf("variable at 0x%x: name %d and data %d bytes do not fit", pos, nsize, dsize)
		}
		if h[2] == varAdded {
			v := efiVar{
				attr:  binary.LittleEndian.Uint32(h[4:]),
				count: binary.LittleEndian.Uint64(h[8:]),
				pkIdx: binary.LittleEndian.Uint32(h[32:]),
				guid:  GUID(h[44:60]),
				name:  fromUCS2(h[60 : 60+nsize]),
				data:  bytes.Clone(h[60+nsize : 60+nsize+dsize]),
			}
			copy(v.time[:], h[16:32])
			vars = append(vars, v)
		}
		pos = (next + 3) &^ 3
	}
	return vars, nil
}

func (v efiVar) bytes() []byte {
	name := toUCS2(v.name)
	b := make([]byte, authVarHdrSize, authVarHdrSize+len(name)+len(v.data)+3)
	binary.LittleEndian.PutUint16(b, varStartID)
	b[2] = varAdded
	binary.LittleEndian.PutUint32(b[4:], v.attr)
	binary.LittleEndian.PutUint64(b[8:], v.count)
	copy(b[16:32], v.time[:])
	binary.LittleEndian.PutUint32(b[32:], v.pkIdx)
	binary.LittleEndian.PutUint32(b[36:], uint32(len(name)))
	binary.LittleEndian.PutUint32(b[40:], uint32(len(v.data)))
	copy(b[44:60], v.guid[:])
	b = append(b, name...)
	b = append(b, v.data...)
	for len(b)%4 != 0 {
		b = append(b, 0xff)
	}
	return b
}

// signatureLists encodes one EFI_SIGNATURE_LIST per certificate.
func signatureLists(certs [][]byte) []byte {
	var b []byte
	for _, c := range certs {
		sigSize := 16 + len(c) // EFI_SIGNATURE_DATA: owner, certificate
		hdr := make([]byte, 28)
		copy(hdr, guidCertX509[:])
		binary.LittleEndian.PutUint32(hdr[16:], uint32(28+sigSize))
		binary.LittleEndian.PutUint32(hdr[20:], 0)
		binary.LittleEndian.PutUint32(hdr[24:], uint32(sigSize))
		b = append(b, hdr...)
		b = append(b, DnsmonOwner[:]...)
		b = append(b, c...)
	}
	return b
}

// efiTime encodes EFI_TIME in UTC.
func efiTime(t time.Time) [16]byte {
	var b [16]byte
	t = t.UTC()
	binary.LittleEndian.PutUint16(b[0:], uint16(t.Year()))
	b[2], b[3], b[4], b[5], b[6] = byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second())
	binary.LittleEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
	return b
}

func toUCS2(s string) []byte {
	u := utf16.Encode([]rune(s + "\x00"))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUCS2(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// DBCerts returns the X.509 certificates in the db variable of an edk2
// variable store (for tests and diagnostics).
func DBCerts(path string) ([][]byte, error) {
	img, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading variable store: %w", err)
	}
	start, end, err := varStoreRange(img)
	if err != nil {
		return nil, fmt.Errorf("reading variable store %q: %w", path, err)
	}
	vars, err := parseVars(img[start:end])
	if err != nil {
		return nil, fmt.Errorf("reading variable store %q: %w", path, err)
	}
	var certs [][]byte
	for _, v := range vars {
		if v.name != "db" || v.guid != guidImageSecurity {
			continue
		}
		for d := v.data; len(d) >= 28; {
			listSize := int(binary.LittleEndian.Uint32(d[16:]))
			hdrSize := int(binary.LittleEndian.Uint32(d[20:]))
			sigSize := int(binary.LittleEndian.Uint32(d[24:]))
			if listSize < 28+hdrSize || listSize > len(d) || sigSize <= 16 {
				return nil, fmt.Errorf("reading variable store %q: malformed signature list", path)
			}
			if GUID(d[:16]) == guidCertX509 {
				for s := d[28+hdrSize : listSize]; len(s) >= sigSize; s = s[sigSize:] {
					certs = append(certs, bytes.Clone(s[16:sigSize]))
				}
			}
			d = d[listSize:]
		}
	}
	return certs, nil
}
