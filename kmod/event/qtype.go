package event

import (
	"fmt"
	"strconv"
	"strings"
)

// QType is a DNS query type (RFC 1035 TYPE/QTYPE, IANA registry).
type QType uint16

// maxNamedQType is the largest type with a mnemonic here (CAA).
const maxNamedQType = 257

// qtypeName returns the mnemonic of the types people meet (IANA registry).
func qtypeName(t QType) (string, bool) {
	switch t {
	case 1:
		return "A", true
	case 2:
		return "NS", true
	case 5:
		return "CNAME", true
	case 6:
		return "SOA", true
	case 12:
		return "PTR", true
	case 13:
		return "HINFO", true
	case 15:
		return "MX", true
	case 16:
		return "TXT", true
	case 17:
		return "RP", true
	case 18:
		return "AFSDB", true
	case 24:
		return "SIG", true
	case 25:
		return "KEY", true
	case 28:
		return "AAAA", true
	case 29:
		return "LOC", true
	case 33:
		return "SRV", true
	case 35:
		return "NAPTR", true
	case 36:
		return "KX", true
	case 37:
		return "CERT", true
	case 39:
		return "DNAME", true
	case 41:
		return "OPT", true
	case 42:
		return "APL", true
	case 43:
		return "DS", true
	case 44:
		return "SSHFP", true
	case 45:
		return "IPSECKEY", true
	case 46:
		return "RRSIG", true
	case 47:
		return "NSEC", true
	case 48:
		return "DNSKEY", true
	case 49:
		return "DHCID", true
	case 50:
		return "NSEC3", true
	case 51:
		return "NSEC3PARAM", true
	case 52:
		return "TLSA", true
	case 53:
		return "SMIMEA", true
	case 55:
		return "HIP", true
	case 59:
		return "CDS", true
	case 60:
		return "CDNSKEY", true
	case 61:
		return "OPENPGPKEY", true
	case 62:
		return "CSYNC", true
	case 63:
		return "ZONEMD", true
	case 64:
		return "SVCB", true
	case 65:
		return "HTTPS", true
	case 99:
		return "SPF", true
	case 108:
		return "EUI48", true
	case 109:
		return "EUI64", true
	case 249:
		return "TKEY", true
	case 250:
		return "TSIG", true
	case 251:
		return "IXFR", true
	case 252:
		return "AXFR", true
	case 255:
		return "ANY", true
	case 256:
		return "URI", true
	case 257:
		return "CAA", true
	}
	return "", false
}

// String returns the mnemonic ("AAAA"), or "TYPE" and the number (RFC 3597)
// for a type without one.
func (t QType) String() string {
	if s, ok := qtypeName(t); ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// ParseQType reads a mnemonic or a TYPEnnn name, case-insensitively.
func ParseQType(s string) (QType, error) {
	u := strings.ToUpper(s)
	for t := range QType(maxNamedQType + 1) {
		if name, ok := qtypeName(t); ok && name == u {
			return t, nil
		}
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return QType(v), nil
		}
	}
	return 0, fmt.Errorf("unknown DNS query type %q", s)
}

// QClass is a DNS query class.
type QClass uint16

// ClassIN is the Internet class, what nearly every query asks.
const ClassIN QClass = 1

func qclassName(c QClass) (string, bool) {
	switch c {
	case 1:
		return "IN", true
	case 3:
		return "CH", true
	case 4:
		return "HS", true
	case 254:
		return "NONE", true
	case 255:
		return "ANY", true
	}
	return "", false
}

// String returns "IN", "CH", "HS", "NONE", "ANY" or "CLASS" and the number.
func (c QClass) String() string {
	if s, ok := qclassName(c); ok {
		return s
	}
	return "CLASS" + strconv.Itoa(int(c))
}

// ParseQClass reads a class mnemonic or a CLASSnnn name, case-insensitively.
func ParseQClass(s string) (QClass, error) {
	u := strings.ToUpper(s)
	for c := range QClass(256) {
		if name, ok := qclassName(c); ok && name == u {
			return c, nil
		}
	}
	if n, ok := strings.CutPrefix(u, "CLASS"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return QClass(v), nil
		}
	}
	return 0, fmt.Errorf("unknown DNS class %q", s)
}
