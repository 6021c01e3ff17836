package event

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func sample() Event {
	return Event{
		Seq: 42, Time: time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC),
		PID: 1234, TID: 1240, UID: 1000, NetNS: 4026531840,
		Family: FamilyIPv4, Proto: ProtoUDP, Server: netip.MustParseAddr("127.0.0.53"), Port: 53,
		ID: 0xbeef, QType: 28, QClass: ClassIN, QName: "example.com", Comm: "curl",
		Lookup: 42, Local: netip.MustParseAddrPort("127.0.0.1:41000"),
	}
}

// malformedSample is a malformed message's event: a pointer loop.
func malformedSample() Event {
	e := sample()
	e.Flags, e.Reason, e.QType, e.QClass, e.QName = FlagMalformed, ReasonPointerLoop, 0, 0, `\192\012\000\001\000\001`
	return e
}

// answerSample is the answer to sample's lookup: a CNAME, the address it
// leads to, and a record whose data an event does not carry.
func answerSample() Event {
	e := sample()
	e.Seq, e.Time, e.Kind, e.QType, e.QName = 43, e.Time.Add(12345*time.Microsecond), KindAnswer, TypeA, "www.example.com"
	e.DNSFlags, e.Latency, e.ANCount = DNSFlagQR|DNSFlagRD|DNSFlagRA, 12345*time.Microsecond, 3
	e.Answers = []Answer{
		{Type: TypeCNAME, TTL: 300, RDLength: 18, Name: "edge.example.net"},
		{Type: TypeA, TTL: 60, RDLength: 4, Addr: netip.MustParseAddr("93.184.216.34")},
		{Type: 16, TTL: 5, RDLength: 12},
	}
	return e
}

// unansweredSample is sample's lookup given up on after 5 s.
func unansweredSample() Event {
	e := sample()
	e.Seq, e.Time, e.Kind, e.QName, e.Latency = 44, e.Time.Add(5*time.Second), KindUnanswered, "", 5*time.Second
	return e
}

// oldRecord returns e as a record of version v (1 or 2): the first
// SizeV2 bytes of the current record, whose fields have the same offsets.
func oldRecord(t testing.TB, e Event, v uint16) []byte {
	t.Helper()
	b := mustEncode(t, e)[:SizeV2]
	binary.LittleEndian.PutUint16(b[offVersion:], v)
	binary.LittleEndian.PutUint16(b[offSize:], SizeV2)
	return b
}

// asOld is e as decoded from a record of version 1 or 2.
func asOld(e Event) Event {
	e.Lookup, e.Local = e.Seq, netip.AddrPort{}
	return e
}

func mustEncode(t testing.TB, e Event) []byte {
	t.Helper()
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answerAt returns the bytes of answer i of record b.
func answerAt(b []byte, i int) []byte { return b[offAnswers+i*AnswerSize:] }

func TestDecode(t *testing.T) {
	le := binary.LittleEndian
	v6 := sample()
	v6.Family, v6.Proto, v6.Server, v6.Local = FamilyIPv6, ProtoTCP, netip.MustParseAddr("2001:db8::53"), netip.MustParseAddrPort("[2001:db8::2]:50000")
	root := sample()
	root.QName, root.QType, root.Flags, root.PID, root.TID, root.UID, root.Comm = ".", 2, FlagProcUnknown, 0, 0, 0, ""
	long := sample()
	long.QName, long.Comm = strings.Repeat(`\255`, 256)[:QNameMax-1], "0123456789abcde"
	v6Answer := answerSample()
	v6Answer.Family, v6Answer.Server, v6Answer.Local, v6Answer.QType = v6.Family, v6.Server, v6.Local, TypeAAAA
	v6Answer.DNSFlags |= DNSFlagAA | 3 // NXDOMAIN with its SOA
	v6Answer.Answers = []Answer{
		{Type: TypeAAAA, TTL: 1, RDLength: 16, Addr: netip.MustParseAddr("2001:db8::1")},
		{Type: TypeAAAA, TTL: 2, RDLength: 16, Addr: netip.MustParseAddr("::ffff:192.0.2.1")},
	}
	// A response that does not parse past its second record, and has
	// more than the event holds.
	broken := answerSample()
	broken.Flags, broken.Reason, broken.Cut, broken.ANCount = FlagMalformed, ReasonBadRecord, CutRecords, 40
	broken.Answers = broken.Answers[:1]
	cutName := answerSample()
	cutName.Cut = CutNames
	cutName.Answers[0].Name = ""
	oddA := answerSample()
	oddA.Answers = []Answer{{Type: TypeA, TTL: 9, RDLength: 7}, {Type: TypeAAAA, TTL: 9, RDLength: 4}}
	empty := answerSample()
	empty.ANCount, empty.Answers, empty.DNSFlags = 0, nil, DNSFlagQR|DNSFlagRD|DNSFlagRA|2
	full := answerSample()
	full.ANCount, full.Cut, full.Answers = 20, CutRecords|CutNames, nil
	for i := range AnswersMax {
		full.Answers = append(full.Answers, Answer{Type: TypeCNAME, TTL: uint32(i), RDLength: 70, Name: strings.Repeat(string(rune('a'+i)), 64)})
	}

	patch := func(in []byte, f func(b []byte)) []byte {
		b := append([]byte{}, in...)
		f(b)
		return b
	}
	tests := map[string]struct {
		in      []byte
		want    Event
		wantErr error
	}{
		"ipv4 udp":      {in: mustEncode(t, sample()), want: sample()},
		"ipv6 tcp":      {in: mustEncode(t, v6), want: v6},
		"root unknown":  {in: mustEncode(t, root), want: root},
		"longest":       {in: mustEncode(t, long), want: long},
		"trailing data": {in: append(mustEncode(t, sample()), 1, 2, 3), want: sample()},
		"comm without NUL": {
			in:      patch(mustEncode(t, sample()), func(b []byte) { copy(b[offComm:], "0123456789abcdefXX") }),
			wantErr: ErrMalformed,
		},
		"malformed": {in: mustEncode(t, malformedSample()), want: malformedSample()},
		// The first two versions: the same fields in SizeV2 bytes, and in
		// the first, reason reserved.
		"version 1":                   {in: oldRecord(t, sample(), 1), want: asOld(sample())},
		"version 2":                   {in: oldRecord(t, sample(), 2), want: asOld(sample())},
		"version 2 malformed":         {in: oldRecord(t, malformedSample(), 2), want: asOld(malformedSample())},
		"version 2 trailing data":     {in: append(oldRecord(t, v6, 2), mustEncode(t, sample())...), want: asOld(v6)},
		"version 1 with a reason":     {in: oldRecord(t, malformedSample(), 1), wantErr: ErrMalformed},
		"version 2 of version 3 size": {in: patch(mustEncode(t, sample()), func(b []byte) { b[offVersion] = 2 }), wantErr: ErrSize},
		"version 3 of version 2 size": {in: patch(oldRecord(t, sample(), 2), func(b []byte) { b[offVersion] = 3 }), wantErr: ErrSize},
		"version 2 short":             {in: oldRecord(t, sample(), 2)[:SizeV2-1], wantErr: ErrShort},
		"reason without flag": {
			in:      patch(mustEncode(t, sample()), func(b []byte) { b[offReason] = byte(ReasonPointerLoop) }),
			wantErr: ErrMalformed,
		},
		"flag without reason": {
			in:      patch(mustEncode(t, sample()), func(b []byte) { b[offFlags] |= FlagMalformed }),
			wantErr: ErrMalformed,
		},
		"bad version":  {in: patch(mustEncode(t, sample()), func(b []byte) { b[offVersion] = 4 }), wantErr: ErrVersion},
		"bad size":     {in: patch(mustEncode(t, sample()), func(b []byte) { le.PutUint16(b[offSize:], 1000) }), wantErr: ErrSize},
		"short header": {in: []byte{1, 0}, wantErr: ErrShort},
		"short record": {in: mustEncode(t, sample())[:Size-1], wantErr: ErrShort},
		"qname_len":    {in: patch(mustEncode(t, sample()), func(b []byte) { le.PutUint16(b[offQNameLen:], QNameMax) }), wantErr: ErrMalformed},
		"family":       {in: patch(mustEncode(t, sample()), func(b []byte) { b[offFamily] = 7 }), wantErr: ErrMalformed},

		// Version 3's lookups.
		"answer":                  {in: mustEncode(t, answerSample()), want: answerSample()},
		"ipv6 answer":             {in: mustEncode(t, v6Answer), want: v6Answer},
		"malformed answer":        {in: mustEncode(t, broken), want: broken},
		"name cut":                {in: mustEncode(t, cutName), want: cutName},
		"no records":              {in: mustEncode(t, empty), want: empty},
		"every record":            {in: mustEncode(t, full), want: full},
		"unanswered":              {in: mustEncode(t, unansweredSample()), want: unansweredSample()},
		"addresses of odd length": {in: mustEncode(t, oddA), want: oddA},
		// The module fills addr only for the right length: bytes there
		// with another length are not an address.
		"A of another length": {
			in: patch(mustEncode(t, answerSample()), func(b []byte) { le.PutUint16(answerAt(b, 1)[offAnsRDLength:], 5) }),
			want: func() Event {
				e := answerSample()
				e.Answers[1].RDLength, e.Answers[1].Addr = 5, netip.Addr{}
				return e
			}(),
		},
		"lookup 0": {in: patch(mustEncode(t, sample()), func(b []byte) { le.PutUint64(b[offLookup:], 0) }), wantErr: ErrMalformed},
		"kind":     {in: patch(mustEncode(t, sample()), func(b []byte) { b[offKind] = 3 }), wantErr: ErrMalformed},
		"nanswers": {in: patch(mustEncode(t, full), func(b []byte) { b[offNAnswers] = AnswersMax + 1 }), wantErr: ErrMalformed},
		"names_len": {
			in:      patch(mustEncode(t, answerSample()), func(b []byte) { le.PutUint16(b[offNamesLen:], NamesMax+1) }),
			wantErr: ErrMalformed,
		},
		"name past names_len": {
			in:      patch(mustEncode(t, answerSample()), func(b []byte) { le.PutUint16(answerAt(b, 0)[offAnsNameLen:], 17) }),
			wantErr: ErrMalformed,
		},
		"names overlapping past names": {
			in: patch(mustEncode(t, full), func(b []byte) {
				for i := range AnswersMax {
					le.PutUint16(answerAt(b, i)[offAnsNameOff:], 0)
					le.PutUint16(answerAt(b, i)[offAnsNameLen:], 1000)
				}
			}),
			wantErr: ErrMalformed,
		},
		"cut bits":           {in: patch(mustEncode(t, answerSample()), func(b []byte) { b[offCut] = 4 }), wantErr: ErrMalformed},
		"records in a query": {in: patch(mustEncode(t, answerSample()), func(b []byte) { b[offKind] = byte(KindQuery) }), wantErr: ErrMalformed},
		"cut in unanswered":  {in: patch(mustEncode(t, unansweredSample()), func(b []byte) { b[offCut] = CutRecords }), wantErr: ErrMalformed},
		"names in a query":   {in: patch(mustEncode(t, sample()), func(b []byte) { le.PutUint16(b[offNamesLen:], 1) }), wantErr: ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Decode: err = %v, want %v", err, tc.wantErr)
				}
				var ve *VersionError
				if errors.As(err, &ve) && ve.Version != 4 {
					t.Errorf("VersionError.Version = %d", ve.Version)
				}
				var se *SizeError
				if errors.As(err, &se) && (se.Size != le.Uint16(tc.in[offSize:]) || se.Version != le.Uint16(tc.in[offVersion:])) {
					t.Errorf("SizeError = %+v", se)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestErrorSentences(t *testing.T) {
	tests := map[string]struct {
		err  error
		want string
	}{
		"version":        {&VersionError{Version: 4}, "record version 4, but this program reads versions 1 to 3"},
		"size":           {&SizeError{Size: 1000, Version: 3}, "record size 1000, but version 3 records are 2560 bytes"},
		"size version 2": {&SizeError{Size: 2560, Version: 2}, "record size 2560, but version 2 records are 1112 bytes"},
		"size version 1": {&SizeError{Size: 2560, Version: 1}, "record size 2560, but version 1 records are 1112 bytes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := map[string]func(e *Event){
		"comm too long":            func(e *Event) { e.Comm = strings.Repeat("c", CommLen) },
		"qname too long":           func(e *Event) { e.QName = strings.Repeat("q", QNameMax) },
		"qname NUL":                func(e *Event) { e.QName = "a\x00b" },
		"family mismatch":          func(e *Event) { e.Family = FamilyIPv6 },
		"no server":                func(e *Event) { e.Server = netip.Addr{} },
		"local mismatch":           func(e *Event) { e.Local = netip.MustParseAddrPort("[::1]:53") },
		"lookup 0":                 func(e *Event) { e.Lookup = 0 },
		"kind":                     func(e *Event) { e.Kind = 3 },
		"records in an unanswered": func(e *Event) { e.Kind = KindUnanswered },
		"cut in a query":           func(e *Event) { e.Kind, e.Answers = KindQuery, nil },
		"cut bits":                 func(e *Event) { e.Cut = 4 },
		"too many records": func(e *Event) {
			e.Answers = make([]Answer, AnswersMax+1)
		},
		"names too long": func(e *Event) {
			e.Answers = []Answer{{Type: TypeCNAME, Name: strings.Repeat("n", 600)}, {Type: TypeCNAME, Name: strings.Repeat("m", 600)}}
		},
		"negative latency": func(e *Event) { e.Latency = -time.Microsecond },
		"latency too long": func(e *Event) { e.Latency = 72 * time.Minute },
		"address length":   func(e *Event) { e.Answers[1].RDLength = 16 },
		"address family":   func(e *Event) { e.Answers[1].Type, e.Answers[1].RDLength = TypeAAAA, 16 },
		"address in TXT":   func(e *Event) { e.Answers[2].Addr = netip.MustParseAddr("192.0.2.1") },
		"name in an A":     func(e *Event) { e.Answers[1].Addr, e.Answers[1].Name = netip.Addr{}, "x.test" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			e := answerSample()
			e.Cut = CutRecords
			mutate(&e)
			if b, err := e.AppendBinary([]byte{1, 2}); err == nil {
				t.Error("AppendBinary succeeded")
			} else if !bytes.Equal(b, []byte{1, 2}) {
				t.Errorf("AppendBinary failed but returned %d bytes", len(b))
			}
		})
	}
}

func TestQType(t *testing.T) {
	tests := []struct {
		t    QType
		want string
	}{
		{1, "A"}, {2, "NS"}, {5, "CNAME"}, {6, "SOA"}, {12, "PTR"}, {15, "MX"}, {16, "TXT"},
		{28, "AAAA"}, {33, "SRV"}, {35, "NAPTR"}, {43, "DS"}, {46, "RRSIG"}, {48, "DNSKEY"},
		{64, "SVCB"}, {65, "HTTPS"}, {255, "ANY"}, {257, "CAA"}, {0, "TYPE0"}, {66, "TYPE66"},
		{65535, "TYPE65535"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.t.String(); got != tc.want {
				t.Errorf("QType(%d) = %q, want %q", tc.t, got, tc.want)
			}
			back, err := ParseQType(strings.ToLower(tc.want))
			if err != nil || back != tc.t {
				t.Errorf("ParseQType(%q) = %d, %v", tc.want, back, err)
			}
		})
	}
	for _, bad := range []string{"", "TYPE", "TYPE65536", "BOGUS"} {
		if _, err := ParseQType(bad); err == nil {
			t.Errorf("ParseQType(%q) succeeded", bad)
		}
	}
	for c, want := range map[QClass]string{1: "IN", 3: "CH", 255: "ANY", 42: "CLASS42"} {
		if got := c.String(); got != want {
			t.Errorf("QClass(%d) = %q, want %q", c, got, want)
		}
		if back, err := ParseQClass(want); err != nil || back != c {
			t.Errorf("ParseQClass(%q) = %d, %v", want, back, err)
		}
	}
}

func TestJSON(t *testing.T) {
	e := sample()
	e.Exe, e.Container, e.User = "/usr/bin/curl", "0123456789abcdef", "alice"
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"comm", "container", "exe", "family", "id", "kind", "local", "lookup", "netns", "pid", "port", "proto", "qname", "qtype", "seq", "server", "tid", "time", "uid", "user"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("JSON keys:\n got %q\nwant %q", keys, want)
	}
	wantVals := map[string]any{
		"time": "2026-11-27T10:00:00.123456789Z", "pid": 1234.0, "tid": 1240.0, "comm": "curl", "uid": 1000.0,
		"netns": 4026531840.0, "family": "ipv4", "proto": "udp", "server": "127.0.0.53", "id": 48879.0,
		"qname": "example.com", "qtype": "AAAA", "seq": 42.0, "exe": "/usr/bin/curl", "container": "0123456789abcdef",
		"kind": "query", "lookup": 42.0, "local": "127.0.0.1:41000",
	}
	for k, v := range wantVals {
		if m[k] != v {
			t.Errorf("JSON %s = %#v, want %#v", k, m[k], v)
		}
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Errorf("JSON round trip:\n got %+v\nwant %+v", back, e)
	}

	odd := sample()
	odd.QType, odd.QClass, odd.Flags, odd.Family, odd.Server, odd.Local = 65, 3, FlagProcUnknown, FamilyIPv6, netip.MustParseAddr("::1"), netip.MustParseAddrPort("[::1]:5353")
	b, err = json.Marshal(odd)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"qtype":"HTTPS"`, `"qclass":"CH"`, `"proc_unknown":true`, `"family":"ipv6"`, `"server":"::1"`, `"local":"[::1]:5353"`} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("JSON %s lacks %s", b, s)
		}
	}
}

// TestLookupJSON checks the fields of answers and unanswered queries, and
// that every event reads back as it was written.
func TestLookupJSON(t *testing.T) {
	broken := answerSample()
	broken.Flags, broken.Reason, broken.Cut, broken.ANCount = FlagMalformed, ReasonBadRecord, CutRecords|CutNames, 40
	broken.Answers = []Answer{{Type: TypeCNAME, TTL: 7, RDLength: 200}, {Type: TypeA, TTL: 1, RDLength: 3}}
	nx := answerSample()
	nx.DNSFlags, nx.ANCount, nx.Answers, nx.QClass = DNSFlagQR|DNSFlagAA|DNSFlagTC|DNSFlagRD|DNSFlagRA|DNSFlagAD|DNSFlagCD|3, 0, nil, 3
	odd := answerSample()
	odd.DNSFlags, odd.Via = DNSFlagQR|12, &Asker{PID: 1234, Comm: "curl", Lookup: 17, Candidates: 1}
	guessed := sample()
	guessed.Comm, guessed.Server, guessed.Via = "systemd-resolve", netip.MustParseAddr("192.0.2.53"), &Asker{Candidates: 3}
	odd.Family, odd.Server, odd.Local = FamilyIPv6, netip.MustParseAddr("2001:db8::53"), netip.MustParseAddrPort("[2001:db8::2]:50000")
	odd.Answers = []Answer{{Type: TypeAAAA, TTL: 0, RDLength: 16, Addr: netip.MustParseAddr("2001:db8::1")}}
	fromV2, err := Decode(oldRecord(t, sample(), 2))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		e       Event
		want    []string
		notWant []string
	}{
		"answer": {
			e: answerSample(),
			want: []string{`"seq":43,"kind":"answer","lookup":42,`, `"local":"127.0.0.1:41000"`, `"qname":"www.example.com","qtype":"A"`,
				`"rcode":"NOERROR","flags":["rd","ra"],"ancount":3,"answers":[{"type":"CNAME","ttl":300,"data":"edge.example.net","length":18},{"type":"A","ttl":60,"data":"93.184.216.34"},{"type":"TXT","ttl":5,"length":12}],"latency_us":12345`},
			notWant: []string{`"cut"`, `"unanswered"`, `"malformed"`, `"via"`},
		},
		"malformed answer": {
			e: broken,
			want: []string{`"qname":"www.example.com","qtype":"A","malformed":true,"reason":"bad-record"`,
				`"answers":[{"type":"CNAME","ttl":7,"length":200},{"type":"A","ttl":1,"length":3}],"cut":["records","names"]`},
			notWant: []string{`"data":"`},
		},
		"nxdomain, every flag": {
			e:       nx,
			want:    []string{`"qclass":"CH","rcode":"NXDOMAIN","flags":["aa","tc","rd","ra","ad","cd"],"ancount":0,"latency_us":12345`},
			notWant: []string{`"answers"`},
		},
		"rcode without mnemonic, via": {
			e:       odd,
			want:    []string{`"rcode":"RCODE12"`, `"local":"[2001:db8::2]:50000"`, `"answers":[{"type":"AAAA","ttl":0,"data":"2001:db8::1"}]`, `"via":{"pid":1234,"comm":"curl","lookup":17}`},
			notWant: []string{`"flags"`, `"ambiguous"`},
		},
		"ambiguous via": {
			e:       guessed,
			want:    []string{`"comm":"systemd-resolve"`, `"via":{"ambiguous":3}`},
			notWant: []string{`"via":{"pid"`},
		},
		"unanswered": {
			e:       unansweredSample(),
			want:    []string{`"kind":"unanswered","lookup":42`, `"qtype":"AAAA"`, `"unanswered":true,"latency_us":5000000`},
			notWant: []string{`"qname"`, `"rcode"`, `"ancount"`, `"answers"`, `"flags"`},
		},
		"query": {
			e:       sample(),
			want:    []string{`"kind":"query","lookup":42`},
			notWant: []string{`"latency_us"`, `"rcode"`, `"unanswered"`},
		},
		"version 2 record": {
			e:       fromV2,
			want:    []string{`"seq":42,"kind":"query","lookup":42,`},
			notWant: []string{`"local"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.want {
				if !bytes.Contains(b, []byte(s)) {
					t.Errorf("JSON %s lacks %s", b, s)
				}
			}
			for _, s := range tc.notWant {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("JSON %s has %s", b, s)
				}
			}
			var back Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tc.e) {
				t.Errorf("JSON round trip:\n got %+v\nwant %+v", back, tc.e)
			}
		})
	}
	for _, bad := range []string{
		`{"kind":"reply","family":"ipv4","proto":"udp"}`,
		`{"kind":"answer","family":"ipv4","proto":"udp","qtype":"A","rcode":"NOSUCH"}`,
		`{"kind":"answer","family":"ipv4","proto":"udp","qtype":"A","rcode":"RCODE16"}`,
		`{"kind":"answer","family":"ipv4","proto":"udp","qtype":"A","flags":["qr"]}`,
		`{"kind":"answer","family":"ipv4","proto":"udp","qtype":"A","cut":["all"]}`,
		`{"kind":"answer","family":"ipv4","proto":"udp","qtype":"A","answers":[{"type":"A","data":"x"}]}`,
		`{"kind":"answer","family":"ipv4","proto":"udp","qtype":"A","answers":[{"type":"TXT","data":"x"}]}`,
		`{"kind":"answer","family":"ipv4","proto":"udp","qtype":"A","answers":[{"type":"BOGUS"}]}`,
		`{"family":"ipv4","proto":"udp","qtype":"A","local":"1.2.3.4"}`,
		`{"family":"ipv4","proto":"udp","qtype":"A","via":"systemd-resolved"}`,
		`{"family":"ipv4","proto":"udp","qtype":"A","via":{"pid":1,"comm":"curl"}}`,
		`{"family":"ipv4","proto":"udp","qtype":"A","via":{"ambiguous":1}}`,
		`{"family":"ipv4","proto":"udp","qtype":"A","via":{"ambiguous":2,"pid":1}}`,
	} {
		var e Event
		if err := json.Unmarshal([]byte(bad), &e); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestNames(t *testing.T) {
	for k, want := range map[Kind]string{KindQuery: "query", KindAnswer: "answer", KindUnanswered: "unanswered", 9: "kind-9"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d) = %q, want %q", k, got, want)
		}
		if back, err := ParseKind(want); err != nil || back != k {
			t.Errorf("ParseKind(%q) = %v, %v", want, back, err)
		}
	}
	rcodes := []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12"}
	for i, want := range rcodes {
		if got := Rcode(i).String(); got != want {
			t.Errorf("Rcode(%d) = %q, want %q", i, got, want)
		}
		if back, err := ParseRcode(strings.ToLower(want)); err != nil || back != Rcode(i) {
			t.Errorf("ParseRcode(%q) = %v, %v", want, back, err)
		}
		e := Event{DNSFlags: DNSFlagQR | DNSFlagRD | uint16(i)}
		if e.Rcode() != Rcode(i) || !reflect.DeepEqual(e.DNSFlagNames(), []string{"rd"}) {
			t.Errorf("flags %#x: rcode %v, flags %q", e.DNSFlags, e.Rcode(), e.DNSFlagNames())
		}
	}
	for _, bad := range []string{"", "bogus", "RCODE", "RCODEx"} {
		if _, err := ParseRcode(bad); err == nil {
			t.Errorf("ParseRcode(%q) succeeded", bad)
		}
	}
	if _, err := ParseKind("bogus"); err == nil {
		t.Error("ParseKind(bogus) succeeded")
	}
	if got := (&Event{DNSFlags: 0x8000 | 0x7800 | 0x0040}).DNSFlagNames(); got != nil {
		t.Errorf("QR, opcode and Z named as %q", got)
	}
}

func TestStats(t *testing.T) {
	tests := map[string]struct {
		s        Stats
		size     int
		wantJSON string
	}{
		"current": {
			s: Stats{Events: 10, Dropped: 2, RingSize: 4096, Queued: 3, Responses: 4, OtherOpcodes: 5, NoQuestion: 6, TCPUnparsed: 7, Malformed: 8,
				Answers: 9, Unpaired: 10, Unanswered: 11, Evicted: 12},
			size:     StatsSize,
			wantJSON: `{"events":10,"dropped":2,"ring_size":4096,"queued":3,"responses":4,"other_opcodes":5,"no_question":6,"tcp_unparsed":7,"malformed":8,"answers":9,"unpaired":10,"unanswered":11,"evicted":12}`,
		},
		"version 2": {
			s:    Stats{Events: 10, Dropped: 2, RingSize: 4096, Queued: 3, Responses: 4, OtherOpcodes: 5, NoQuestion: 6, TCPUnparsed: 7, Malformed: 8, V2: true},
			size: StatsV2Size,
			// A second-version module keeps no lookups.
			wantJSON: `{"events":10,"dropped":2,"ring_size":4096,"queued":3,"responses":4,"other_opcodes":5,"no_question":6,"tcp_unparsed":7,"malformed":8}`,
		},
		"version 1": {
			s:    Stats{Events: 10, Dropped: 2, RingSize: 4096, Queued: 3, V1: true},
			size: StatsV1Size,
			// A first-version module keeps no other counters.
			wantJSON: `{"events":10,"dropped":2,"ring_size":4096,"queued":3}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, _ := tc.s.AppendBinary(nil)
			if len(b) != tc.size {
				t.Fatalf("stats encode to %d bytes, want %d", len(b), tc.size)
			}
			got, err := DecodeStats(b)
			if err != nil || got != tc.s {
				t.Errorf("DecodeStats = %+v, %v", got, err)
			}
			if _, err := DecodeStats(b[:len(b)-1]); !errors.Is(err, ErrShort) {
				t.Errorf("DecodeStats(short) = %v", err)
			}
			j, err := json.Marshal(tc.s)
			if err != nil || string(j) != tc.wantJSON {
				t.Errorf("stats JSON = %s, %v; want %s", j, err, tc.wantJSON)
			}
			var back Stats
			if err := json.Unmarshal(j, &back); err != nil {
				t.Fatal(err)
			}
			back.V1, back.V2 = tc.s.V1, tc.s.V2
			if back != tc.s {
				t.Errorf("stats JSON read back as %+v", back)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	for r := ReasonNone; r <= ReasonBadRecord+1; r++ {
		back, err := ParseReason(r.String())
		if err != nil || back != r {
			t.Errorf("ParseReason(%q) = %v, %v; want %v", r.String(), back, err, r)
		}
	}
	if got := Reason(99).String(); got != "reason-99" {
		t.Errorf("Reason(99) = %q", got)
	}
	if _, err := ParseReason("bogus"); err == nil {
		t.Error("ParseReason(bogus) succeeded")
	}
}

func TestMalformedJSON(t *testing.T) {
	e := malformedSample()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"malformed":true`, `"reason":"pointer-loop"`, `"data":"\\192\\012\\000\\001\\000\\001"`} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("JSON %s lacks %s", b, s)
		}
	}
	for _, s := range []string{`"qname"`, `"qtype"`, `"qclass"`} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("JSON %s of a malformed message has %s", b, s)
		}
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Errorf("JSON round trip:\n got %+v\nwant %+v", back, e)
	}
}

// stream returns n records with seq 1..n, every other one of version 2
// when mixed.
func stream(t testing.TB, n int, mixed bool) []byte {
	var b []byte
	for i := 1; i <= n; i++ {
		e := sample()
		e.Seq, e.Lookup = uint64(i), uint64(i)
		if mixed && i%2 == 0 {
			b = append(b, oldRecord(t, e, 2)...)
			continue
		}
		var err error
		if b, err = e.AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// countingReader counts Read calls.
type countingReader struct {
	r     io.Reader
	calls int
}

func (c *countingReader) Read(p []byte) (int, error) { c.calls++; return c.r.Read(p) }

func TestReader(t *testing.T) {
	whole := func(b []byte) io.Reader { return bytes.NewReader(b) }
	badVersion := append(stream(t, 1, false), 9, 0, 0x58, 4)
	badVersion = append(badVersion, make([]byte, Size-4)...)
	tests := map[string]struct {
		r         func(b []byte) io.Reader
		in        []byte
		batch     int
		wantN     int
		wantErr   error
		wantCalls int // 0: don't check
	}{
		"batched":            {r: whole, in: stream(t, 100, false), batch: 64, wantN: 100, wantErr: io.EOF, wantCalls: 3},
		"version 2 batched":  {r: whole, in: stream(t, 100, true), batch: 64, wantN: 100, wantErr: io.EOF, wantCalls: 3},
		"one byte at a time": {r: func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }, in: stream(t, 3, false), batch: 2, wantN: 3, wantErr: io.EOF},
		"versions mixed, one byte at a time": {
			r: func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }, in: stream(t, 5, true), batch: 1, wantN: 5, wantErr: io.EOF,
		},
		"versions mixed, halves": {r: func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }, in: stream(t, 7, true), batch: 2, wantN: 7, wantErr: io.EOF},
		"data with EOF":          {r: func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }, in: stream(t, 5, true), wantN: 5, wantErr: io.EOF},
		"half record":            {r: whole, in: stream(t, 2, false)[:Size+10], wantN: 1, wantErr: io.ErrUnexpectedEOF},
		"half version 2 record":  {r: whole, in: stream(t, 2, true)[:Size+SizeV2-1], wantN: 1, wantErr: io.ErrUnexpectedEOF},
		"half header":            {r: whole, in: stream(t, 2, true)[:Size+3], wantN: 1, wantErr: io.ErrUnexpectedEOF},
		"bad version":            {r: whole, in: badVersion, wantN: 1, wantErr: ErrVersion},
		"reader error":           {r: func(b []byte) io.Reader { return iotest.ErrReader(io.ErrClosedPipe) }, wantErr: io.ErrClosedPipe},
		"empty":                  {r: whole, wantErr: io.EOF},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cr := &countingReader{r: tc.r(tc.in)}
			r := NewReader(cr, tc.batch)
			if v := r.Version(); v != 0 {
				t.Errorf("Version() before Next = %d", v)
			}
			n := 0
			var err error
			for {
				var e Event
				if e, err = r.Next(); err != nil {
					break
				}
				n++
				if e.Seq != uint64(n) || e.Lookup != e.Seq {
					t.Fatalf("event %d has seq %d, lookup %d", n, e.Seq, e.Lookup)
				}
				// stream makes every other record of version 2 when
				// mixed, and only those have no Local.
				if want := map[bool]uint16{true: Version, false: VersionMalformed}[e.Local.IsValid()]; r.Version() != want {
					t.Fatalf("event %d: Version() = %d, want %d", n, r.Version(), want)
				}
			}
			if n != tc.wantN || !errors.Is(err, tc.wantErr) {
				t.Errorf("read %d events, then %v; want %d, then %v", n, err, tc.wantN, tc.wantErr)
			}
			if tc.wantCalls != 0 && cr.calls != tc.wantCalls {
				t.Errorf("%d Read calls, want %d", cr.calls, tc.wantCalls)
			}
			if _, again := r.Next(); tc.wantErr == ErrVersion && !errors.Is(again, ErrVersion) {
				t.Errorf("error not sticky: %v", again)
			}
		})
	}
}

// TestBuffered checks the count of records decoded without another read
// when they have different sizes.
func TestBuffered(t *testing.T) {
	in := stream(t, 5, true)
	in = append(in, mustEncode(t, sample())[:100]...) // part of a sixth
	r := NewReader(bytes.NewReader(in), 8)
	if n := r.Buffered(); n != 0 {
		t.Errorf("Buffered before reading = %d", n)
	}
	for want := 4; want >= 0; want-- {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if n := r.Buffered(); n != want {
			t.Errorf("Buffered = %d, want %d", n, want)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Next after the last whole record = %v", err)
	}
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// encodes back to the same event.
func FuzzDecode(f *testing.F) {
	f.Add(mustEncode(f, sample()))
	v6 := sample()
	v6.Family, v6.Server, v6.QName, v6.Local = FamilyIPv6, netip.MustParseAddr("fe80::1"), ".", netip.MustParseAddrPort("[fe80::2]:1")
	f.Add(mustEncode(f, v6))
	f.Add(mustEncode(f, answerSample()))
	f.Add(mustEncode(f, unansweredSample()))
	f.Add(oldRecord(f, sample(), 2))
	f.Add([]byte{1, 0, 0x58, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		if v, _, _ := Header(b); v != Version {
			// Encoded as the current version, an older record gains a
			// local address of zeros and its seq as lookup, which must
			// not be 0.
			if e.Seq == 0 {
				return
			}
			e.Local = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
			if e.Family == FamilyIPv6 {
				e.Local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
			}
		}
		out, err := e.MarshalBinary()
		if err != nil {
			// Decode accepts bytes after a NUL in comm/qname that encoding drops;
			// only a name that cannot be encoded at all is a bug.
			t.Fatalf("decoded %+v but cannot encode it: %v", e, err)
		}
		back, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", back, e)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	rec := mustEncode(b, sample())
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReader(b *testing.B) {
	data := stream(b, 1000, false)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), DefaultBatch)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
