//go:build cgo

package cparse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
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

// FuzzParse checks the C parser against dnsmessage on any input, read as a
// query and as a response: the same verdict, for queries the same id,
// name, QTYPE and QCLASS, for responses the same header and answers.  The seed
// corpus is testdata/fuzz/FuzzParse (see testdata/README.md) plus the
// messages of TestParse.
func FuzzParse(f *testing.F) {
	f.Add(query(0x0100, 1, wire("example", "com")...))
	f.Add(query(0, 1, 0xc0, 12))
	f.Add(response(0x0180, 1, rr(toQuestion, 5, 300, wire("edge", "example", "net")...)))
	f.Add(response(0x0180, 2, rr(toQuestion, 1, 60, 1, 2, 3, 4), rr(toQuestion, 28, 60, make([]byte, 16)...)))
	f.Fuzz(func(t *testing.T, msg []byte) {
		compare(t, msg)
		compareResponse(t, msg)
	})
}

// responseVerdict is what both parsers must agree on for a response.
type responseVerdict struct {
	ok      bool
	id      uint16
	flags   uint16
	ancount uint16
	qtype   uint16
	qclass  uint16
	answers []Answer
	cut     bool
	why     string // "short-header", "query", "opcode", or "malformed"
}

// headerFlags rebuilds the flags word from dnsmessage's header; the Z bit
// (0x0040), which dnsmessage does not keep, is left out.
func headerFlags(h dnsmessage.Header) uint16 {
	f := uint16(h.OpCode)<<11 | uint16(h.RCode)&0xf
	for _, b := range []struct {
		set  bool
		flag uint16
	}{{h.Response, 0x8000}, {h.Authoritative, 0x0400}, {h.Truncated, 0x0200}, {h.RecursionDesired, 0x0100},
		{h.RecursionAvailable, 0x0080}, {h.AuthenticData, 0x0020}, {h.CheckingDisabled, 0x0010}} {
		if b.set {
			f |= b.flag
		}
	}
	return f
}

// responseOracle reads msg with dnsmessage the way the module reads a
// response: the header parses, QR is 1, the opcode is QUERY, the questions
// parse (their names followed through pointers), and then the first
// AnswersMax answer records, whose data must lie inside the message (a
// second parser, skipping, checks that: dnsmessage's typed readers do
// not); an A must hold 4 octets and an AAAA 16, which dnsmessage's readers
// check only as "at least". ok is false for a message holding a '.' octet,
// which dnsmessage refuses inside a label and the module takes (see
// hideDots): the caller then compares nothing.
func responseOracle(msg []byte) (v responseVerdict, ok bool) {
	if bytes.IndexByte(msg, '.') >= 0 {
		return responseVerdict{}, false
	}
	malformed := responseVerdict{why: "malformed"}
	var p, skip dnsmessage.Parser
	h, err := p.Start(msg)
	switch {
	case err != nil:
		return responseVerdict{why: "short-header"}, true
	case !h.Response:
		return responseVerdict{why: "query"}, true
	case h.OpCode != 0:
		return responseVerdict{why: "opcode"}, true
	}
	if _, err := skip.Start(msg); err != nil {
		return malformed, true
	}
	// The module checks every name it passes, as Question does; skipping
	// would not follow a question name's pointer.
	var first *dnsmessage.Question
	for {
		q, err := p.Question()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return malformed, true
		}
		if first == nil {
			first = &q
		}
	}
	if skip.SkipAllQuestions() != nil {
		return malformed, true
	}
	ancount := binary.BigEndian.Uint16(msg[6:8])
	v = responseVerdict{ok: true, id: h.ID, flags: headerFlags(h), ancount: ancount, cut: ancount > AnswersMax}
	if first != nil {
		v.qtype, v.qclass = uint16(first.Type), uint16(first.Class)
	}
	for range min(int(ancount), AnswersMax) {
		hdr, err := p.AnswerHeader()
		if err != nil {
			return malformed, true
		}
		if _, err := skip.AnswerHeader(); err != nil || skip.SkipAnswer() != nil {
			return malformed, true
		}
		a := Answer{Type: uint16(hdr.Type), TTL: hdr.TTL, Length: hdr.Length}
		switch hdr.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil || hdr.Length != 4 {
				return malformed, true
			}
			a.Data = netip.AddrFrom4(r.A).String()
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil || hdr.Length != 16 {
				return malformed, true
			}
			a.Data = netip.AddrFrom16(r.AAAA).String()
		case dnsmessage.TypeCNAME:
			r, err := p.CNAMEResource()
			if err != nil {
				return malformed, true
			}
			// No '.' octet is inside a label here, so '.' can stand
			// for the spare octet: it is never one.
			a.Data = presentation(r.CNAME, '.')
		default:
			if p.SkipAnswer() != nil {
				return malformed, true
			}
		}
		v.answers = append(v.answers, a)
	}
	return v, true
}

func cResponseVerdict(msg []byte) responseVerdict {
	r := ParseResponse(msg, len(msg))
	switch why := r.Why(); {
	case r.Err == 0:
		return responseVerdict{ok: true, id: r.ID, flags: r.Flags &^ 0x0040, ancount: r.ANCount,
			qtype: r.QType, qclass: r.QClass, answers: r.Answers, cut: r.Cut}
	case why == "short-header" || why == "query" || why == "opcode":
		return responseVerdict{why: why}
	}
	return responseVerdict{why: "malformed"}
}

func compareResponse(t *testing.T, msg []byte) {
	t.Helper()
	got := cResponseVerdict(msg)
	if want, ok := responseOracle(msg); ok && !reflect.DeepEqual(got, want) {
		t.Errorf("response %x:\nC parser   %+v (err %d)\ndnsmessage %+v", msg, got, ParseResponse(msg, len(msg)).Err, want)
	}
}

// response builds a response to "www.example.com A": the header with the
// given flags (QR added) and ANCOUNT, the question, then the records.
func response(flags, ancount uint16, records ...[]byte) []byte {
	msg := []byte{0x12, 0x34, byte((flags | 0x8000) >> 8), byte(flags), 0, 1, byte(ancount >> 8), byte(ancount), 0, 0, 0, 0}
	msg = append(msg, wire("www", "example", "com")...)
	msg = append(msg, 0, 1, 0, 1)
	for _, r := range records {
		msg = append(msg, r...)
	}
	return msg
}

// rr builds a record of class IN: name (wire form), type, TTL and data.
func rr(name []byte, typ uint16, ttl uint32, data ...byte) []byte {
	b := append([]byte(nil), name...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// toQuestion is a compression pointer to the question's name, offset 12.
var toQuestion = []byte{0xc0, 12}

func TestParseResponse(t *testing.T) {
	const typeTXT, typeOPT = 16, 41
	cname := rr(toQuestion, 5, 300, wire("edge", "example", "net")...)
	// The question ends at 33, so cname's data, its target, is at 45: the
	// records after it are named by a pointer to that.
	a := rr([]byte{0xc0, 45}, 1, 60, 93, 184, 216, 34)
	aaaa := rr([]byte{0xc0, 45}, 28, 60, 0x26, 0x06, 0x28, 0, 0x02, 0x20, 0, 1, 0x2, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46)
	var twenty [][]byte
	for i := range 20 {
		twenty = append(twenty, rr(toQuestion, 1, uint32(i), 10, 0, 0, byte(i)))
	}
	full := response(0x0180, 3, cname, a, aaaa)
	tests := map[string]struct {
		msg     []byte
		msgLen  int // 0: len(msg)
		why     string
		rcode   uint16
		answers []Answer
		cut     bool
	}{
		"cname chain, A and AAAA": {msg: full, answers: []Answer{
			{Type: 5, TTL: 300, Length: 18, Data: "edge.example.net"},
			{Type: 1, TTL: 60, Length: 4, Data: "93.184.216.34"},
			{Type: 28, TTL: 60, Length: 16, Data: "2606:2800:220:1:248:1893:25c8:1946"}}},
		"nxdomain":             {msg: response(0x0183, 0), rcode: 3},
		"servfail":             {msg: response(0x0182, 0), rcode: 2},
		"refused":              {msg: response(0x0185, 0), rcode: 5},
		"other types":          {msg: response(0x0180, 2, rr(toQuestion, typeTXT, 5, 3, 'a', 'b', 'c'), rr([]byte{0}, typeOPT, 0)), answers: []Answer{{Type: typeTXT, TTL: 5, Length: 4}, {Type: typeOPT}}},
		"twenty records":       {msg: response(0x0180, 20, twenty...), answers: answersOf(16), cut: true},
		"seventeen records":    {msg: response(0x0180, 17, twenty[:17]...), answers: answersOf(16), cut: true},
		"sixteen records":      {msg: response(0x0180, 16, twenty[:16]...), answers: answersOf(16)},
		"read cut mid-record":  {msg: full[:len(full)-10], msgLen: len(full), cut: true, answers: []Answer{{Type: 5, TTL: 300, Length: 18, Data: "edge.example.net"}, {Type: 1, TTL: 60, Length: 4, Data: "93.184.216.34"}}},
		"read cut in question": {msg: full[:20], msgLen: len(full), cut: true},
		"fewer than ANCOUNT":   {msg: response(0x0180, 4, cname, a, aaaa), why: "label-past-end"},
		"data past end":        {msg: full[:len(full)-1], why: "record-past-end"},
		"A of 5 octets":        {msg: response(0x0180, 1, rr(toQuestion, 1, 1, 1, 2, 3, 4, 5)), why: "bad-rdata"},
		"AAAA of 4 octets":     {msg: response(0x0180, 1, rr(toQuestion, 28, 1, 1, 2, 3, 4)), why: "bad-rdata"},
		"cname pointer loop":   {msg: response(0x0180, 1, rr(toQuestion, 5, 1, 0xc0, 45)), why: "pointer-loop"},
		"query":                {msg: query(0x0100, 1, wire("example", "com")...), why: "query"},
		"opcode notify":        {msg: response(4<<11, 0), why: "opcode"},
		"short header":         {msg: []byte{0x12, 0x34, 0x80, 0}, why: "short-header"},
		"read longer than msg": {msg: full, msgLen: len(full) - 1, why: "buffer"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			msgLen := tc.msgLen
			if msgLen == 0 {
				msgLen = len(tc.msg)
			}
			// A whole message is judged by dnsmessage too, verdict and all.
			if msgLen == len(tc.msg) {
				if _, ok := responseOracle(tc.msg); !ok {
					t.Errorf("the oracle cannot judge %x", tc.msg)
				}
				compareResponse(t, tc.msg)
			}
			r := ParseResponse(tc.msg, msgLen)
			if r.Why() != tc.why {
				t.Fatalf("verdict %q (err %d), want %q", r.Why(), r.Err, tc.why)
			}
			if tc.why != "" {
				return
			}
			if r.ID != 0x1234 || r.Flags&0xf != tc.rcode || r.Cut != tc.cut || !reflect.DeepEqual(r.Answers, tc.answers) {
				t.Errorf("got id %#x rcode %d cut %v answers %+v\nwant rcode %d cut %v answers %+v", r.ID, r.Flags&0xf, r.Cut, r.Answers, tc.rcode, tc.cut, tc.answers)
			}
		})
	}
}

// answersOf is the first n records of TestParseResponse's twenty.
func answersOf(n int) []Answer {
	var as []Answer
	for i := range n {
		as = append(as, Answer{Type: 1, TTL: uint32(i), Length: 4, Data: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}).String()})
	}
	return as
}
