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
	}
}

// malformedSample is a malformed message's event: a pointer loop.
func malformedSample() Event {
	e := sample()
	e.Flags, e.Reason, e.QType, e.QClass, e.QName = FlagMalformed, ReasonPointerLoop, 0, 0, `\192\012\000\001\000\001`
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

func TestDecode(t *testing.T) {
	v6 := sample()
	v6.Family, v6.Proto, v6.Server = FamilyIPv6, ProtoTCP, netip.MustParseAddr("2001:db8::53")
	root := sample()
	root.QName, root.QType, root.Flags, root.PID, root.TID, root.UID, root.Comm = ".", 2, FlagProcUnknown, 0, 0, 0, ""
	long := sample()
	long.QName, long.Comm = strings.Repeat(`\255`, 256)[:QNameMax-1], "0123456789abcde"

	patch := func(e Event, f func(b []byte)) []byte {
		b := mustEncode(t, e)
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
			in:      patch(sample(), func(b []byte) { copy(b[offComm:], "0123456789abcdefXX") }),
			wantErr: ErrMalformed,
		},
		"malformed": {in: mustEncode(t, malformedSample()), want: malformedSample()},
		// The first version: the same layout, reason reserved.
		"version 1": {in: patch(sample(), func(b []byte) { b[offVersion] = 1 }), want: sample()},
		"version 1 with a reason": {
			in:      patch(malformedSample(), func(b []byte) { b[offVersion] = 1 }),
			wantErr: ErrMalformed,
		},
		"reason without flag": {
			in:      patch(sample(), func(b []byte) { b[offReason] = byte(ReasonPointerLoop) }),
			wantErr: ErrMalformed,
		},
		"flag without reason": {
			in:      patch(sample(), func(b []byte) { b[offFlags] |= FlagMalformed }),
			wantErr: ErrMalformed,
		},
		"bad version":  {in: patch(sample(), func(b []byte) { b[offVersion] = 3 }), wantErr: ErrVersion},
		"bad size":     {in: patch(sample(), func(b []byte) { binary.LittleEndian.PutUint16(b[offSize:], 1000) }), wantErr: ErrSize},
		"short header": {in: []byte{1, 0}, wantErr: ErrShort},
		"short record": {in: mustEncode(t, sample())[:Size-1], wantErr: ErrShort},
		"qname_len":    {in: patch(sample(), func(b []byte) { binary.LittleEndian.PutUint16(b[offQNameLen:], QNameMax) }), wantErr: ErrMalformed},
		"family":       {in: patch(sample(), func(b []byte) { b[offFamily] = 7 }), wantErr: ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Decode: err = %v, want %v", err, tc.wantErr)
				}
				var ve *VersionError
				if errors.As(err, &ve) && ve.Version != 3 {
					t.Errorf("VersionError.Version = %d", ve.Version)
				}
				var se *SizeError
				if errors.As(err, &se) && se.Size != 1000 {
					t.Errorf("SizeError.Size = %d", se.Size)
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
		"version": {&VersionError{Version: 3}, "record version 3, but this program reads versions 1 to 2"},
		"size":    {&SizeError{Size: 1000}, "record size 1000, but version 2 records are 1112 bytes"},
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
		"comm too long":   func(e *Event) { e.Comm = strings.Repeat("c", CommLen) },
		"qname too long":  func(e *Event) { e.QName = strings.Repeat("q", QNameMax) },
		"qname NUL":       func(e *Event) { e.QName = "a\x00b" },
		"family mismatch": func(e *Event) { e.Family = FamilyIPv6 },
		"no server":       func(e *Event) { e.Server = netip.Addr{} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			e := sample()
			mutate(&e)
			if _, err := e.MarshalBinary(); err == nil {
				t.Error("MarshalBinary succeeded")
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
	want := []string{"comm", "container", "exe", "family", "id", "netns", "pid", "port", "proto", "qname", "qtype", "seq", "server", "tid", "time", "uid", "user"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("JSON keys:\n got %q\nwant %q", keys, want)
	}
	wantVals := map[string]any{
		"time": "2026-11-27T10:00:00.123456789Z", "pid": 1234.0, "tid": 1240.0, "comm": "curl", "uid": 1000.0,
		"netns": 4026531840.0, "family": "ipv4", "proto": "udp", "server": "127.0.0.53", "id": 48879.0,
		"qname": "example.com", "qtype": "AAAA", "seq": 42.0, "exe": "/usr/bin/curl", "container": "0123456789abcdef",
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
	odd.QType, odd.QClass, odd.Flags, odd.Family, odd.Server = 65, 3, FlagProcUnknown, FamilyIPv6, netip.MustParseAddr("::1")
	b, err = json.Marshal(odd)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"qtype":"HTTPS"`, `"qclass":"CH"`, `"proc_unknown":true`, `"family":"ipv6"`, `"server":"::1"`} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("JSON %s lacks %s", b, s)
		}
	}
}

func TestStats(t *testing.T) {
	tests := map[string]struct {
		s        Stats
		size     int
		wantJSON string
	}{
		"current": {
			s:        Stats{Events: 10, Dropped: 2, RingSize: 4096, Queued: 3, Responses: 4, OtherOpcodes: 5, NoQuestion: 6, TCPUnparsed: 7, Malformed: 8},
			size:     StatsSize,
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
			if j, _ := json.Marshal(tc.s); string(j) != tc.wantJSON {
				t.Errorf("stats JSON = %s, want %s", j, tc.wantJSON)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	for r := ReasonNone; r <= ReasonPointerLoop+1; r++ {
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

// stream returns n records with seq 1..n.
func stream(t testing.TB, n int) []byte {
	var b []byte
	for i := 1; i <= n; i++ {
		e := sample()
		e.Seq = uint64(i)
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
	tests := map[string]struct {
		r         func(b []byte) io.Reader
		in        []byte
		batch     int
		wantN     int
		wantErr   error
		wantCalls int // 0: don't check
	}{
		"batched":            {r: func(b []byte) io.Reader { return bytes.NewReader(b) }, in: stream(t, 100), batch: 64, wantN: 100, wantErr: io.EOF, wantCalls: 3},
		"one byte at a time": {r: func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }, in: stream(t, 3), batch: 2, wantN: 3, wantErr: io.EOF},
		"data with EOF":      {r: func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }, in: stream(t, 5), wantN: 5, wantErr: io.EOF},
		"half record":        {r: func(b []byte) io.Reader { return bytes.NewReader(b) }, in: stream(t, 2)[:Size+10], wantN: 1, wantErr: io.ErrUnexpectedEOF},
		"bad version":        {r: func(b []byte) io.Reader { return bytes.NewReader(b) }, in: append(stream(t, 1), 9, 0, 0x58, 4), wantN: 1, wantErr: ErrVersion},
		"reader error":       {r: func(b []byte) io.Reader { return iotest.ErrReader(io.ErrClosedPipe) }, wantErr: io.ErrClosedPipe},
		"empty":              {r: func(b []byte) io.Reader { return bytes.NewReader(b) }, wantErr: io.EOF},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			if name == "bad version" {
				in = append(in, make([]byte, Size-4)...)
			}
			cr := &countingReader{r: tc.r(in)}
			r := NewReader(cr, tc.batch)
			n := 0
			var err error
			for {
				var e Event
				if e, err = r.Next(); err != nil {
					break
				}
				n++
				if e.Seq != uint64(n) {
					t.Fatalf("event %d has seq %d", n, e.Seq)
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

// FuzzDecode checks that Decode never panics and that whatever it accepts
// encodes back to the same event.
func FuzzDecode(f *testing.F) {
	f.Add(mustEncode(f, sample()))
	v6 := sample()
	v6.Family, v6.Server, v6.QName = FamilyIPv6, netip.MustParseAddr("fe80::1"), "."
	f.Add(mustEncode(f, v6))
	f.Add([]byte{1, 0, 0x58, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
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
	data := stream(b, 1000)
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
