package event

import (
	"fmt"
	"net/netip"
	"strings"
)

// Kind is what an event reports (enum dnsmon_event_kind).
type Kind uint16

// The kinds of events. Every lookup starts with a query event; the module
// then reports an answer or, after its answer timeout, an unanswered
// event, both with the query's seq as their Lookup.
const (
	KindQuery      Kind = iota // a query left; its Lookup is its own Seq
	KindAnswer                 // a response to a query the module saw arrived
	KindUnanswered             // no response came in time; QName is empty
)

var kindNames = [...]string{
	KindQuery:      "query",
	KindAnswer:     "answer",
	KindUnanswered: "unanswered",
}

// String returns "query", "answer", "unanswered", or "kind-N" for a kind
// this release does not know.
func (k Kind) String() string { return nameOf(kindNames[:], int(k), "kind-") }

// ParseKind is the inverse of String.
func ParseKind(s string) (Kind, error) {
	if v, ok := parseName(kindNames[:], s, "kind-"); ok {
		return Kind(v), nil
	}
	return 0, fmt.Errorf("unknown event kind %q", s)
}

// The record types whose data an answer carries (DNSMON_TYPE_*); of the
// others an event has the type, TTL and length only.
const (
	TypeA     QType = 1
	TypeCNAME QType = 5
	TypeAAAA  QType = 28
)

// Answer is one answer record of a response, as an answer event carries it.
type Answer struct {
	Type     QType
	TTL      uint32 // seconds
	RDLength uint16 // RDLENGTH as sent
	// Addr is an A or AAAA record's address; it is unset when RDLength is
	// not 4 or 16, which the module does not read as an address.
	Addr netip.Addr
	// Name is a CNAME record's target in presentation form, escaped as
	// QName is; empty when it did not fit the event (CutNames).
	Name string
}

// addrLenOf returns the RDLENGTH of an A or AAAA record, or 0 for a type
// whose data is no address.
func addrLenOf(t QType) int {
	switch t {
	case TypeA:
		return 4
	case TypeAAAA:
		return 16
	}
	return 0
}

// The bits of a DNS header's flags word (RFC 1035 4.1.1, RFC 4035 3.2)
// that Event.DNSFlags holds for an answer.
const (
	DNSFlagQR = 0x8000 // a response
	DNSFlagAA = 0x0400 // authoritative answer
	DNSFlagTC = 0x0200 // truncated
	DNSFlagRD = 0x0100 // recursion desired
	DNSFlagRA = 0x0080 // recursion available
	DNSFlagAD = 0x0020 // authentic data
	DNSFlagCD = 0x0010 // checking disabled

	rcodeMask = 0x000f
)

// dnsFlagNames are the flags DNSFlagNames names, in the order dig prints
// them.
var dnsFlagNames = []bitName[uint16]{
	{DNSFlagAA, "aa"}, {DNSFlagTC, "tc"}, {DNSFlagRD, "rd"},
	{DNSFlagRA, "ra"}, {DNSFlagAD, "ad"}, {DNSFlagCD, "cd"},
}

// Rcode returns the response code of an answer: the low four bits of its
// flags word.
func (e *Event) Rcode() Rcode { return Rcode(e.DNSFlags & rcodeMask) }

// DNSFlagNames returns the names of the flags an answer has set among aa,
// tc, rd, ra, ad and cd, in that order; nil when none is.
func (e *Event) DNSFlagNames() []string { return setNames(dnsFlagNames, e.DNSFlags) }

// parseDNSFlag returns the bit of a name DNSFlagNames returns.
func parseDNSFlag(s string) (uint16, error) {
	if bit, ok := bitOf(dnsFlagNames, s); ok {
		return bit, nil
	}
	return 0, fmt.Errorf("unknown DNS header flag %q", s)
}

// Rcode is a DNS response code (RFC 1035 4.1.1, RFC 2136 2.2).
type Rcode uint16

var rcodeNames = [...]string{
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
}

// String returns the mnemonic ("NXDOMAIN"), or "RCODE" and the number for
// a code without one.
func (r Rcode) String() string { return nameOf(rcodeNames[:], int(r), "RCODE") }

// ParseRcode reads a mnemonic or an RCODEn name, case-insensitively.
func ParseRcode(s string) (Rcode, error) {
	if v, ok := parseName(rcodeNames[:], strings.ToUpper(s), "RCODE"); ok {
		return Rcode(v), nil
	}
	return 0, fmt.Errorf("unknown DNS response code %q", s)
}

// cutNames are the names of the Cut bits, lowest first.
var cutNames = []bitName[uint8]{{CutRecords, "records"}, {CutNames, "names"}}

// cutList returns the names of the Cut bits set: "records", "names".
func (e *Event) cutList() []string { return setNames(cutNames, e.Cut) }

func parseCut(s string) (uint8, error) {
	if bit, ok := bitOf(cutNames, s); ok {
		return bit, nil
	}
	return 0, fmt.Errorf("unknown cut %q", s)
}
