//go:build cgo

package cparse

import (
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// verdict is what both parsers must agree on.
type verdict struct {
	ok            bool
	id, typ, clas uint16
	name          string
}

// oracle decodes msg with dnsmessage the way the module decides to report
// a query: the header parses, QR is 0, the opcode is QUERY and the first
// question parses.
func oracle(msg []byte) verdict {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || h.Response || h.OpCode != 0 {
		return verdict{}
	}
	q, err := p.Question()
	if err != nil {
		return verdict{}
	}
	return verdict{ok: true, id: h.ID, typ: uint16(q.Type), clas: uint16(q.Class), name: presentation(q.Name)}
}

// presentation writes a dnsmessage.Name (raw label octets joined by dots,
// with a trailing dot; dnsmessage rejects labels holding a dot) the way
// the module does: no trailing dot except for the root, and every octet
// outside 0x21..0x7e or among the master-file specials " $ ( ) ; @ \
// as \DDD.
func presentation(n dnsmessage.Name) string {
	raw := n.Data[:n.Length]
	if string(raw) == "." {
		return "."
	}
	raw = raw[:len(raw)-1]
	var b strings.Builder
	for _, c := range raw {
		switch {
		case c == '.':
			b.WriteByte(c)
		case c < 0x21 || c > 0x7e || strings.IndexByte(`"$();@\`, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte('0' + c/100)
			b.WriteByte('0' + c/10%10)
			b.WriteByte('0' + c%10)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func cVerdict(t *testing.T, msg []byte) verdict {
	t.Helper()
	q := Parse(msg)
	if q.Err != 0 {
		return verdict{}
	}
	if q.NameLen != len(q.Name) {
		t.Errorf("name_len %d, but the name before its NUL is %d bytes (%q)", q.NameLen, len(q.Name), q.Name)
	}
	return verdict{ok: true, id: q.ID, typ: q.Type, clas: q.Class, name: q.Name}
}

func compare(t *testing.T, msg []byte) {
	t.Helper()
	want := oracle(msg)
	got := cVerdict(t, msg)
	if got != want {
		t.Errorf("message %x:\nC parser   %+v (err %d)\ndnsmessage %+v", msg, got, Parse(msg).Err, want)
	}
	// The verdict-only mode must agree with the full parse, error for error.
	full, check := Parse(msg), Check(msg)
	full.Name, full.NameLen = "", 0
	if check != full {
		t.Errorf("message %x:\nverdict-only %+v\nfull parse   %+v", msg, check, full)
	}
}

// query builds a query message: header with the given flags and QDCOUNT,
// then name (wire form, as given), QTYPE A and QCLASS IN.
func query(flags, qdcount uint16, name ...byte) []byte {
	msg := []byte{0x12, 0x34, byte(flags >> 8), byte(flags), byte(qdcount >> 8), byte(qdcount), 0, 0, 0, 0, 0, 0}
	msg = append(msg, name...)
	return append(msg, 0, 1, 0, 1)
}

// wire encodes dotted labels (no escapes) into wire form.
func wire(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func TestParse(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := map[string]struct {
		msg  []byte
		ok   bool
		name string
	}{
		"example.com":         {msg: query(0x0100, 1, wire("example", "com")...), ok: true, name: "example.com"},
		"root":                {msg: query(0, 1, 0), ok: true, name: "."},
		"space and specials":  {msg: query(0, 1, wire("a b", `"$();@\`)...), ok: true, name: `a\032b.\034\036\040\041\059\064\092`},
		"control and high":    {msg: query(0, 1, wire("\x00\x07\x1b\x7f\xff")...), ok: true, name: `\000\007\027\127\255`},
		"printable kept":      {msg: query(0, 1, wire("A-z_0*~!#%")...), ok: true, name: "A-z_0*~!#%"},
		"dot inside label":    {msg: query(0, 1, wire("a.b", "com")...)},
		"response":            {msg: query(0x8000, 1, wire("example", "com")...)},
		"opcode status":       {msg: query(2<<11, 1, wire("example", "com")...)},
		"qdcount 0":           {msg: query(0, 0, wire("example", "com")...)},
		"short header":        {msg: []byte{0x12, 0x34, 0, 0, 0, 1}},
		"empty":               {msg: nil},
		"label past end":      {msg: append(query(0, 1)[:12], 10, 'a', 'b')},
		"no terminator":       {msg: append(query(0, 1)[:12], 3, 'c', 'o', 'm')},
		"no qtype":            {msg: append(query(0, 1)[:12], wire("com")...)},
		"half qclass":         {msg: append(append(query(0, 1)[:12], wire("com")...), 0, 1, 0)},
		"reserved label 0x40": {msg: query(0, 1, 0x40, 0)},
		"reserved label 0x80": {msg: query(0, 1, 0x80, 0)},
		"pointer loop":        {msg: query(0, 1, 0xc0, 12)},
		"pointer past end":    {msg: query(0, 1, 0xc0, 0xff)},
		"pointer cut":         {msg: append(query(0, 1)[:12], 0xc0)},
		// The name at 12 is "x" and a pointer to "com" at 20, after QTYPE and QCLASS.
		"pointer forward":     {msg: append(append(query(0, 1)[:12], 1, 'x', 0xc0, 20, 0, 1, 0, 1), wire("com")...), ok: true, name: "x.com"},
		"pointer chain of 10": {msg: append(append(query(0, 1)[:12], 0xc0, 14), 0xc0, 16, 0xc0, 18, 0xc0, 20, 0xc0, 22, 0xc0, 24, 0xc0, 26, 0xc0, 28, 0xc0, 30, 0xc0, 32, 0, 0, 1, 0, 1), ok: true, name: "."},
		"pointer chain of 11": {msg: append(append(query(0, 1)[:12], 0xc0, 14), 0xc0, 16, 0xc0, 18, 0xc0, 20, 0xc0, 22, 0xc0, 24, 0xc0, 26, 0xc0, 28, 0xc0, 30, 0xc0, 32, 0xc0, 34, 0, 0, 1, 0, 1)},
		"four 63-octet labels": {msg: query(0, 1, wire(long63, long63, long63, long63[:61])...), ok: true,
			name: long63 + "." + long63 + "." + long63 + "." + long63[:61]},
		"name of 256 octets": {msg: query(0, 1, wire(long63, long63, long63, long63[:62])...)},
		"all escaped maximum": {msg: query(0, 1, wire(strings.Repeat("\x01", 63), strings.Repeat("\x01", 63), strings.Repeat("\x01", 63), strings.Repeat("\x01", 61))...), ok: true,
			name: strings.Repeat(`\001`, 63) + "." + strings.Repeat(`\001`, 63) + "." + strings.Repeat(`\001`, 63) + "." + strings.Repeat(`\001`, 61)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := cVerdict(t, tc.msg)
			if got.ok != tc.ok || got.name != tc.name {
				t.Errorf("C parser: ok %v name %q (err %d), want ok %v name %q", got.ok, got.name, Parse(tc.msg).Err, tc.ok, tc.name)
			}
			compare(t, tc.msg)
		})
	}
}

// FuzzParse checks the C parser against dnsmessage on any input: the same
// verdict, and for queries the same id, name, QTYPE and QCLASS.  The seed
// corpus is testdata/fuzz/FuzzParse (see testdata/README.md) plus the
// messages of TestParse.
func FuzzParse(f *testing.F) {
	f.Add(query(0x0100, 1, wire("example", "com")...))
	f.Add(query(0, 1, 0xc0, 12))
	f.Fuzz(func(t *testing.T, msg []byte) {
		compare(t, msg)
	})
}
