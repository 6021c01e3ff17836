//go:build cgo

package cparse

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// verdict is what both parsers must agree on.
type verdict struct {
	ok            bool
	id, typ, clas uint16
	name          string
	why           string // cparse's Query.Why for a message not reported
}

// oracle decodes msg with dnsmessage the way the module decides to report
// a query: the header parses, QR is 0, the opcode is QUERY and the first
// question parses.  dnsmessage refuses a label holding a '.' octet, which
// the module reports as \046, so the oracle first swaps every such octet
// of the first question's name for an octet the message does not use, and
// swaps it back in the name dnsmessage returns.  ok is false when it cannot
// (a '.' octet also read as a length or pointer, or as part of the header
// or the question's type and class, or a message using all 256 octets);
// the caller then compares nothing.
func oracle(msg []byte) (v verdict, ok bool) {
	msg, spare, ok := hideDots(msg)
	if !ok {
		return verdict{}, false
	}
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	switch {
	case err != nil:
		return verdict{why: "short-header"}, true
	case h.Response:
		return verdict{why: "response"}, true
	case h.OpCode != 0:
		return verdict{why: "opcode"}, true
	}
	q, err := p.Question()
	if err != nil {
		return verdict{why: questionWhy(err)}, true
	}
	return verdict{ok: true, id: h.ID, typ: uint16(q.Type), clas: uint16(q.Class), name: presentation(q.Name, spare)}, true
}

// questionWhy maps dnsmessage's error for the first question onto the
// module's reasons; dnsmessage's errors are not exported, so by their text.
func questionWhy(err error) string {
	s := err.Error()
	switch {
	case errors.Is(err, dnsmessage.ErrSectionDone):
		return "no-question"
	case !strings.Contains(s, "Question.Name"):
		return "question-past-end"
	case strings.Contains(s, "name too long"):
		return "name-too-long"
	case strings.Contains(s, "too many pointers"):
		return "pointer-loop"
	case strings.Contains(s, "segment prefix is reserved"):
		return "bad-label-type"
	}
	return "label-past-end"
}

// hideDots returns msg with every '.' octet inside a label of the first
// question's name replaced by spare, an octet msg does not hold.  It walks
// the name as dnsmessage does and stops where dnsmessage would fail.
func hideDots(msg []byte) (out []byte, spare byte, ok bool) {
	var used [256]bool
	for _, c := range msg {
		used[c] = true
	}
	found := false
	for c := 0; c < 256 && !found; c++ {
		if !used[c] {
			spare, found = byte(c), true
		}
	}
	const headerLen, maxPointers, typeClassLen = 12, 10, 4
	structural := map[int]bool{}
	var dots []int
	// end is where the name ends in place (after its terminator or its
	// first pointer): the question's type and class follow it.
	cur, pointers, end := headerLen, 0, -1
	for cur < len(msg) {
		c := int(msg[cur])
		structural[cur] = true
		cur++
		if c == 0 {
			if end < 0 {
				end = cur
			}
			break
		}
		if c&0xc0 == 0xc0 {
			if cur >= len(msg) || pointers == maxPointers {
				break
			}
			structural[cur] = true
			if end < 0 {
				end = cur + 1
			}
			pointers++
			cur = (c&0x3f)<<8 | int(msg[cur])
			continue
		}
		if c&0xc0 != 0 || cur+c > len(msg) {
			break
		}
		for i := cur; i < cur+c; i++ {
			if msg[i] == '.' {
				dots = append(dots, i)
			}
		}
		cur += c
	}
	if len(dots) == 0 {
		return msg, spare, true
	}
	if !found {
		return nil, 0, false
	}
	out = append([]byte(nil), msg...)
	for _, i := range dots {
		// A pointer can make a label of the header or of the type and
		// class, which dnsmessage also reads as such: that octet cannot
		// be swapped without changing what it means there.
		if structural[i] || i < headerLen || (end >= 0 && i >= end && i < end+typeClassLen) {
			return nil, 0, false
		}
		out[i] = spare
	}
	return out, spare, true
}

// presentation writes a dnsmessage.Name (raw label octets joined by dots,
// with a trailing dot) the way the module does: no trailing dot except for
// the root, and every octet outside 0x21..0x7e or among the master-file
// specials " $ ( ) ; @ \ as \DDD.  spare stands for a '.' octet inside a
// label, written \046.
func presentation(n dnsmessage.Name, spare byte) string {
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
		case c == spare:
			b.WriteString(`\046`)
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
		return verdict{why: q.Why()}
	}
	if q.NameLen != len(q.Name) {
		t.Errorf("name_len %d, but the name before its NUL is %d bytes (%q)", q.NameLen, len(q.Name), q.Name)
	}
	return verdict{ok: true, id: q.ID, typ: q.Type, clas: q.Class, name: q.Name}
}

func compare(t *testing.T, msg []byte) {
	t.Helper()
	got := cVerdict(t, msg)
	want, ok := oracle(msg)
	if ok && got != want {
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
		why  string
	}{
		"example.com":         {msg: query(0x0100, 1, wire("example", "com")...), ok: true, name: "example.com"},
		"root":                {msg: query(0, 1, 0), ok: true, name: "."},
		"space and specials":  {msg: query(0, 1, wire("a b", `"$();@\`)...), ok: true, name: `a\032b.\034\036\040\041\059\064\092`},
		"control and high":    {msg: query(0, 1, wire("\x00\x07\x1b\x7f\xff")...), ok: true, name: `\000\007\027\127\255`},
		"printable kept":      {msg: query(0, 1, wire("A-z_0*~!#%")...), ok: true, name: "A-z_0*~!#%"},
		"dot inside label":    {msg: query(0, 1, wire("a.b", "com")...), ok: true, name: `a\046b.com`},
		"only dots":           {msg: query(0, 1, wire("..", ".")...), ok: true, name: `\046\046.\046`},
		"response":            {msg: query(0x8000, 1, wire("example", "com")...), why: "response"},
		"opcode status":       {msg: query(2<<11, 1, wire("example", "com")...), why: "opcode"},
		"qdcount 0":           {msg: query(0, 0, wire("example", "com")...), why: "no-question"},
		"short header":        {msg: []byte{0x12, 0x34, 0, 0, 0, 1}, why: "short-header"},
		"empty":               {msg: nil, why: "short-header"},
		"label past end":      {msg: append(query(0, 1)[:12], 10, 'a', 'b'), why: "label-past-end"},
		"no terminator":       {msg: append(query(0, 1)[:12], 3, 'c', 'o', 'm'), why: "label-past-end"},
		"no qtype":            {msg: append(query(0, 1)[:12], wire("com")...), why: "question-past-end"},
		"half qclass":         {msg: append(append(query(0, 1)[:12], wire("com")...), 0, 1, 0), why: "question-past-end"},
		"reserved label 0x40": {msg: query(0, 1, 0x40, 0), why: "bad-label-type"},
		"reserved label 0x80": {msg: query(0, 1, 0x80, 0), why: "bad-label-type"},
		"pointer loop":        {msg: query(0, 1, 0xc0, 12), why: "pointer-loop"},
		"pointer past end":    {msg: query(0, 1, 0xc0, 0xff), why: "label-past-end"},
		"pointer cut":         {msg: append(query(0, 1)[:12], 0xc0), why: "label-past-end"},
		// The name at 12 is "x" and a pointer to "com" at 20, after QTYPE and QCLASS.
		"pointer forward":     {msg: append(append(query(0, 1)[:12], 1, 'x', 0xc0, 20, 0, 1, 0, 1), wire("com")...), ok: true, name: "x.com"},
		"pointer chain of 10": {msg: append(append(query(0, 1)[:12], 0xc0, 14), 0xc0, 16, 0xc0, 18, 0xc0, 20, 0xc0, 22, 0xc0, 24, 0xc0, 26, 0xc0, 28, 0xc0, 30, 0xc0, 32, 0, 0, 1, 0, 1), ok: true, name: "."},
		"pointer chain of 11": {msg: append(append(query(0, 1)[:12], 0xc0, 14), 0xc0, 16, 0xc0, 18, 0xc0, 20, 0xc0, 22, 0xc0, 24, 0xc0, 26, 0xc0, 28, 0xc0, 30, 0xc0, 32, 0xc0, 34, 0, 0, 1, 0, 1), why: "pointer-loop"},
		"four 63-octet labels": {msg: query(0, 1, wire(long63, long63, long63, long63[:61])...), ok: true,
			name: long63 + "." + long63 + "." + long63 + "." + long63[:61]},
		"name of 256 octets": {msg: query(0, 1, wire(long63, long63, long63, long63[:62])...), why: "name-too-long"},
		"all escaped maximum": {msg: query(0, 1, wire(strings.Repeat("\x01", 63), strings.Repeat("\x01", 63), strings.Repeat("\x01", 63), strings.Repeat("\x01", 61))...), ok: true,
			name: strings.Repeat(`\001`, 63) + "." + strings.Repeat(`\001`, 63) + "." + strings.Repeat(`\001`, 63) + "." + strings.Repeat(`\001`, 61)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := cVerdict(t, tc.msg)
			if got.ok != tc.ok || got.name != tc.name || got.why != tc.why {
				t.Errorf("C parser: ok %v name %q why %q, want ok %v name %q why %q", got.ok, got.name, got.why, tc.ok, tc.name, tc.why)
			}
			if _, ok := oracle(tc.msg); !ok {
				t.Errorf("the oracle cannot judge %x", tc.msg)
			}
			compare(t, tc.msg)
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		in   string
		size int
		want string
	}{
		{"", 8, ""},
		{"abc", 8, "abc"},
		{"a.b", 16, `a\046b`},
		{"\x00 \xff\\", 32, `\000\032\255\092`},
		// Whole octets only: 7 bytes hold one escape and its NUL, not two.
		{"\x01\x02", 7, `\001`},
		{"abcdef", 5, "abcd"},
		{"abc", 1, ""},
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		if got := Escape([]byte(tc.in), tc.size); got != tc.want {
			t.Errorf("Escape(%q, %d) = %q, want %q", tc.in, tc.size, got, tc.want)
		}
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
