package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"
)

// Family is an address family as the kernel numbers it.
type Family uint8

// The families a record may carry.
const (
	FamilyIPv4 Family = 2  // AF_INET
	FamilyIPv6 Family = 10 // AF_INET6
)

// String returns "ipv4", "ipv6", or the number.
func (f Family) String() string {
	switch f {
	case FamilyIPv4:
		return "ipv4"
	case FamilyIPv6:
		return "ipv6"
	}
	return strconv.Itoa(int(f))
}

// Proto is an IP protocol number.
type Proto uint8

// The transports a record may carry.
const (
	ProtoTCP Proto = 6  // IPPROTO_TCP
	ProtoUDP Proto = 17 // IPPROTO_UDP
)

// String returns "udp", "tcp", or the number.
func (p Proto) String() string {
	switch p {
	case ProtoUDP:
		return "udp"
	case ProtoTCP:
		return "tcp"
	}
	return strconv.Itoa(int(p))
}

// Event is one record of the module: a DNS query it saw, the answer to
// one, or a query that went unanswered (Kind). The events of one lookup
// share its Lookup.
type Event struct {
	Seq    uint64    // 1, 2, 3, ... per event produced; a gap means drops
	Time   time.Time // when the query left, its answer arrived, or the wait for one ended (CLOCK_REALTIME), in UTC
	Flags  uint32    // FlagProcUnknown, ...
	PID    uint32    // process id (tgid)
	TID    uint32    // thread id
	UID    uint32    // uid in the initial user namespace
	NetNS  uint32    // inode of the sender's network namespace
	Family Family
	Proto  Proto
	Server netip.Addr // destination address of the query (the resolver)
	Port   uint16     // destination port
	ID     uint16     // DNS message id
	QType  QType
	QClass QClass
	QName  string // presentation form, \DDD-escaped, no trailing dot, "." for the root; for a malformed query its first bytes, escaped alike; empty when unanswered
	Reason Reason // why a malformed message is malformed; 0 otherwise
	Comm   string // task comm

	// Version 3 on; a record of an earlier version is a query whose
	// Lookup is its Seq, with no Local.
	Kind   Kind
	Lookup uint64         // Seq of the lookup's query event
	Local  netip.AddrPort // the querying socket's address and port
	// DNSFlags is an answer's header flags word: QR, opcode, the
	// DNSFlag* bits and the response code (Rcode, DNSFlagNames).
	DNSFlags uint16
	Latency  time.Duration // answer, unanswered: since the query left, in whole microseconds
	ANCount  uint16        // answer: ANCOUNT as sent
	Answers  []Answer      // answer: its first records, in order, at most AnswersMax
	Cut      uint8         // answer: CutRecords, CutNames

	// Filled in by the watcher from /proc and /etc/passwd when it can;
	// never by the kernel.
	User      string // user name of UID
	Exe       string // /proc/PID/exe
	Container string // container id from /proc/PID/cgroup
	// Via is, on a stub resolver's upstream query and on its answer or
	// unanswered event, the application the stub asked for; nil when the
	// watcher joined the query to none.
	Via *Asker
}

// ProcUnknown reports whether the kernel could not tell which process sent
// the query.
func (e *Event) ProcUnknown() bool { return e.Flags&FlagProcUnknown != 0 }

// Malformed reports whether the event is a message to a DNS port whose
// question does not parse, rather than a query, or an answer whose
// response does not parse past some point.
func (e *Event) Malformed() bool { return e.Flags&FlagMalformed != 0 }

// Reason says why a malformed message is malformed
// (enum dnsmon_malformed_reason).
type Reason uint16

// The reasons a record may carry.
const (
	ReasonNone            Reason = iota // a query
	ReasonShortHeader                   // shorter than the 12-byte header
	ReasonLabelPastEnd                  // a label or pointer runs past the end
	ReasonQuestionPastEnd               // no room for QTYPE and QCLASS
	ReasonBadLabelType                  // a label type 0x40 or 0x80
	ReasonNameTooLong                   // the name is over 255 octets
	ReasonPointerLoop                   // more compression pointers than a name needs
	ReasonBadRecord                     // an answer: a record runs past the end or holds bad data
)

var reasonNames = [...]string{
	ReasonNone:            "none",
	ReasonShortHeader:     "short-header",
	ReasonLabelPastEnd:    "label-past-end",
	ReasonQuestionPastEnd: "question-past-end",
	ReasonBadLabelType:    "bad-label-type",
	ReasonNameTooLong:     "name-too-long",
	ReasonPointerLoop:     "pointer-loop",
	ReasonBadRecord:       "bad-record",
}

// String returns the reason's name, as the module's log line has it, or
// "reason-N" for one this release does not know.
func (r Reason) String() string { return nameOf(reasonNames[:], int(r), "reason-") }

// ParseReason is the inverse of String.
func ParseReason(s string) (Reason, error) {
	if v, ok := parseName(reasonNames[:], s, "reason-"); ok {
		return Reason(v), nil
	}
	return 0, fmt.Errorf("unknown malformed reason %q", s)
}

var (
	// ErrVersion is matched by every *VersionError.
	ErrVersion = errors.New("unsupported record version")
	// ErrSize is matched by every *SizeError.
	ErrSize = errors.New("unexpected record size")
	// ErrShort means fewer bytes than one record.
	ErrShort = errors.New("short record")
	// ErrMalformed means a field holds an impossible value.
	ErrMalformed = errors.New("malformed record")
)

// VersionError says a record has a version this decoder does not read:
// the module and the tools come from different releases.
type VersionError struct{ Version uint16 }

func (e *VersionError) Error() string {
	return fmt.Sprintf("record version %d, but this program reads versions %d to %d", e.Version, VersionQueriesOnly, Version)
}

// Is makes errors.Is(err, ErrVersion) true.
func (e *VersionError) Is(target error) bool { return target == ErrVersion }

// SizeError says a record's size field does not match its version.
type SizeError struct{ Size, Version uint16 }

func (e *SizeError) Error() string {
	return fmt.Sprintf("record size %d, but version %d records are %d bytes", e.Size, e.Version, RecordSize(e.Version))
}

// Is makes errors.Is(err, ErrSize) true.
func (e *SizeError) Is(target error) bool { return target == ErrSize }

// Header returns the version and size fields that begin every record.
func Header(b []byte) (version, size uint16, err error) {
	if len(b) < headerLen {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	return binary.LittleEndian.Uint16(b[offVersion:]), binary.LittleEndian.Uint16(b[offSize:]), nil
}

// Decode decodes the record at the start of b, which must hold at least
// the record's size (RecordSize of its version). Records are in the host's
// byte order; dnsmon builds for little-endian machines only.
func Decode(b []byte) (Event, error) {
	v, sz, err := Header(b)
	if err != nil {
		return Event{}, err
	}
	want := RecordSize(v)
	if want == 0 {
		return Event{}, &VersionError{Version: v}
	}
	if int(sz) != want {
		return Event{}, &SizeError{Size: sz, Version: v}
	}
	if len(b) < want {
		return Event{}, fmt.Errorf("%w: %d bytes, want %d", ErrShort, len(b), want)
	}
	b = b[:want]
	le := binary.LittleEndian
	e := Event{
		Flags:  le.Uint32(b[offFlags:]),
		Seq:    le.Uint64(b[offSeq:]),
		Time:   time.Unix(0, int64(le.Uint64(b[offTimeNS:]))).UTC(),
		PID:    le.Uint32(b[offTgid:]),
		TID:    le.Uint32(b[offTid:]),
		UID:    le.Uint32(b[offUID:]),
		NetNS:  le.Uint32(b[offNetNS:]),
		Family: Family(b[offFamily]),
		Proto:  Proto(b[offProto]),
		Port:   le.Uint16(b[offDport:]),
		ID:     le.Uint16(b[offDNSID:]),
		QType:  QType(le.Uint16(b[offQType:])),
		QClass: QClass(le.Uint16(b[offQClass:])),
		Reason: Reason(le.Uint16(b[offReason:])),
	}
	if v == VersionQueriesOnly && (e.Flags&FlagMalformed != 0 || e.Reason != 0) {
		return Event{}, fmt.Errorf("%w: version %d record with a malformed flag or reason", ErrMalformed, v)
	}
	if e.Malformed() != (e.Reason != ReasonNone) {
		return Event{}, fmt.Errorf("%w: malformed flag %v but reason %d", ErrMalformed, e.Malformed(), e.Reason)
	}
	// The module always NUL-terminates comm; a record without the NUL is
	// not one of its records.
	comm := b[offComm : offComm+CommLen]
	if bytes.IndexByte(comm, 0) < 0 {
		return Event{}, fmt.Errorf("%w: comm is not NUL-terminated", ErrMalformed)
	}
	e.Comm = cstring(comm)
	if e.Server, err = decodeAddr(e.Family, b[offDaddr:offDaddr+addrLen]); err != nil {
		return Event{}, err
	}
	n := int(le.Uint16(b[offQNameLen:]))
	if n >= QNameMax {
		return Event{}, fmt.Errorf("%w: qname_len %d, at most %d", ErrMalformed, n, QNameMax-1)
	}
	e.QName = cstring(b[offQName : offQName+n])
	if v != Version {
		// Versions 1 and 2 report queries only, each its own lookup.
		e.Kind, e.Lookup = KindQuery, e.Seq
		return e, nil
	}
	if err := decodeLookup(b, &e); err != nil {
		return Event{}, err
	}
	return e, nil
}

// decodeAddr reads an address of family f from a 16-byte field, IPv4 in
// its first 4 bytes.
func decodeAddr(f Family, b []byte) (netip.Addr, error) {
	switch f {
	case FamilyIPv4:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case FamilyIPv6:
		return netip.AddrFrom16([16]byte(b[:addrLen])), nil
	}
	return netip.Addr{}, fmt.Errorf("%w: address family %d", ErrMalformed, f)
}

// decodeLookup reads the fields version 3 appended: the lookup, the local
// socket and an answer's header and records.
func decodeLookup(b []byte, e *Event) error {
	le := binary.LittleEndian
	e.Lookup = le.Uint64(b[offLookup:])
	if e.Lookup == 0 {
		// Every event belongs to a query, whose seq is at least 1.
		return fmt.Errorf("%w: lookup 0", ErrMalformed)
	}
	e.Kind = Kind(le.Uint16(b[offKind:]))
	if e.Kind > KindUnanswered {
		return fmt.Errorf("%w: kind %d", ErrMalformed, e.Kind)
	}
	e.DNSFlags = le.Uint16(b[offDNSFlags:])
	e.Latency = time.Duration(le.Uint32(b[offLatency:])) * time.Microsecond
	e.ANCount = le.Uint16(b[offANCount:])
	e.Cut = b[offCut]
	laddr, _ := decodeAddr(e.Family, b[offLaddr:offLaddr+addrLen]) // the family was checked with daddr
	e.Local = netip.AddrPortFrom(laddr, le.Uint16(b[offLport:]))

	nanswers, namesLen := int(b[offNAnswers]), int(le.Uint16(b[offNamesLen:]))
	switch {
	case nanswers > AnswersMax:
		return fmt.Errorf("%w: nanswers %d, at most %d", ErrMalformed, nanswers, AnswersMax)
	case namesLen > NamesMax:
		return fmt.Errorf("%w: names_len %d, at most %d", ErrMalformed, namesLen, NamesMax)
	case e.Cut&^(CutRecords|CutNames) != 0:
		return fmt.Errorf("%w: cut %#x", ErrMalformed, e.Cut)
	case e.Kind != KindAnswer && (nanswers != 0 || namesLen != 0 || e.Cut != 0):
		return fmt.Errorf("%w: %s event with answer records", ErrMalformed, e.Kind)
	}
	names := b[offNames : offNames+namesLen]
	if nanswers > 0 {
		e.Answers = make([]Answer, 0, nanswers)
	}
	total := 0
	for i := range nanswers {
		r := b[offAnswers+i*AnswerSize : offAnswers+(i+1)*AnswerSize]
		a := Answer{
			Type:     QType(le.Uint16(r[offAnsType:])),
			RDLength: le.Uint16(r[offAnsRDLength:]),
			TTL:      le.Uint32(r[offAnsTTL:]),
		}
		// The module fills addr only when RDLENGTH fits the type; an A
		// of another length is still a record, without an address.
		switch {
		case a.Type == TypeA && a.RDLength == 4:
			a.Addr = netip.AddrFrom4([4]byte(r[offAnsAddr : offAnsAddr+4]))
		case a.Type == TypeAAAA && a.RDLength == 16:
			a.Addr = netip.AddrFrom16([16]byte(r[offAnsAddr : offAnsAddr+16]))
		case a.Type == TypeCNAME:
			off, n := int(le.Uint16(r[offAnsNameOff:])), int(le.Uint16(r[offAnsNameLen:]))
			if off+n > namesLen {
				return fmt.Errorf("%w: answer %d's name at %d+%d, past names_len %d", ErrMalformed, i, off, n, namesLen)
			}
			// The module writes the names back to back: together they
			// fit names.
			if total += n; total > NamesMax {
				return fmt.Errorf("%w: answer names of more than %d bytes", ErrMalformed, NamesMax)
			}
			a.Name = string(names[off : off+n])
		}
		e.Answers = append(e.Answers, a)
	}
	return nil
}

// cstring returns b up to its first NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// AppendBinary appends e as a record of the current version, as the
// module writes it. The fields filled by the watcher (User, Exe,
// Container, Via) are not part of a record. An unset Local is written as
// zeros; Latency is written in whole microseconds.
func (e *Event) AppendBinary(b []byte) ([]byte, error) {
	if len(e.Comm) >= CommLen || bytes.IndexByte([]byte(e.Comm), 0) >= 0 {
		return b, fmt.Errorf("encoding record: comm %q does not fit %d bytes with its NUL", e.Comm, CommLen)
	}
	if len(e.QName) >= QNameMax || bytes.IndexByte([]byte(e.QName), 0) >= 0 {
		return b, fmt.Errorf("encoding record: qname of %d bytes does not fit %d with its NUL", len(e.QName), QNameMax)
	}
	daddr, ok := encodeAddr(e.Family, e.Server)
	if !ok {
		return b, fmt.Errorf("encoding record: server %v does not match family %v", e.Server, e.Family)
	}
	var laddr [addrLen]byte
	if e.Local.IsValid() {
		if laddr, ok = encodeAddr(e.Family, e.Local.Addr()); !ok {
			return b, fmt.Errorf("encoding record: local address %v does not match family %v", e.Local, e.Family)
		}
	}
	switch {
	case e.Lookup == 0:
		return b, errors.New("encoding record: lookup 0 (a query's lookup is its seq)")
	case e.Kind > KindUnanswered:
		return b, fmt.Errorf("encoding record: kind %d", e.Kind)
	case e.Kind != KindAnswer && (len(e.Answers) != 0 || e.Cut != 0):
		return b, fmt.Errorf("encoding record: %s event with answer records", e.Kind)
	case len(e.Answers) > AnswersMax:
		return b, fmt.Errorf("encoding record: %d answers, at most %d", len(e.Answers), AnswersMax)
	case e.Cut&^(CutRecords|CutNames) != 0:
		return b, fmt.Errorf("encoding record: cut %#x", e.Cut)
	case e.Latency < 0 || e.Latency/time.Microsecond > math.MaxUint32:
		return b, fmt.Errorf("encoding record: latency %v does not fit 32 bits of microseconds", e.Latency)
	}
	start := len(b)
	b = append(b, make([]byte, Size)...)
	r := b[start:]
	le := binary.LittleEndian
	le.PutUint16(r[offVersion:], Version)
	le.PutUint16(r[offSize:], Size)
	le.PutUint32(r[offFlags:], e.Flags)
	le.PutUint64(r[offSeq:], e.Seq)
	le.PutUint64(r[offTimeNS:], uint64(e.Time.UnixNano()))
	le.PutUint32(r[offTgid:], e.PID)
	le.PutUint32(r[offTid:], e.TID)
	le.PutUint32(r[offUID:], e.UID)
	le.PutUint32(r[offNetNS:], e.NetNS)
	r[offFamily] = byte(e.Family)
	r[offProto] = byte(e.Proto)
	le.PutUint16(r[offDport:], e.Port)
	le.PutUint16(r[offDNSID:], e.ID)
	le.PutUint16(r[offQType:], uint16(e.QType))
	le.PutUint16(r[offQClass:], uint16(e.QClass))
	le.PutUint16(r[offQNameLen:], uint16(len(e.QName)))
	le.PutUint16(r[offReason:], uint16(e.Reason))
	copy(r[offDaddr:], daddr[:])
	copy(r[offComm:], e.Comm)
	copy(r[offQName:], e.QName)

	le.PutUint64(r[offLookup:], e.Lookup)
	le.PutUint16(r[offKind:], uint16(e.Kind))
	le.PutUint16(r[offDNSFlags:], e.DNSFlags)
	le.PutUint32(r[offLatency:], uint32(e.Latency/time.Microsecond))
	le.PutUint16(r[offANCount:], e.ANCount)
	r[offNAnswers] = byte(len(e.Answers))
	r[offCut] = e.Cut
	le.PutUint16(r[offLport:], e.Local.Port())
	copy(r[offLaddr:], laddr[:])
	names := 0
	for i, a := range e.Answers {
		ra := r[offAnswers+i*AnswerSize : offAnswers+(i+1)*AnswerSize]
		le.PutUint16(ra[offAnsType:], uint16(a.Type))
		le.PutUint16(ra[offAnsRDLength:], a.RDLength)
		le.PutUint32(ra[offAnsTTL:], a.TTL)
		switch n := addrLenOf(a.Type); {
		case a.Addr.IsValid() && int(a.RDLength) != n:
			return b[:start], fmt.Errorf("encoding record: answer %d: %v address in a %s record of rdlength %d", i, a.Addr, a.Type, a.RDLength)
		case a.Addr.IsValid() && n == 4 && a.Addr.Is4():
			a4 := a.Addr.As4()
			copy(ra[offAnsAddr:], a4[:])
		case a.Addr.IsValid() && n == 16 && a.Addr.Is6():
			a16 := a.Addr.As16()
			copy(ra[offAnsAddr:], a16[:])
		case a.Addr.IsValid():
			return b[:start], fmt.Errorf("encoding record: answer %d: %v address in a %s record", i, a.Addr, a.Type)
		case a.Name != "" && a.Type != TypeCNAME:
			return b[:start], fmt.Errorf("encoding record: answer %d: a name in a %s record", i, a.Type)
		case a.Name != "":
			if names+len(a.Name) > NamesMax {
				return b[:start], fmt.Errorf("encoding record: answer names of more than %d bytes", NamesMax)
			}
			le.PutUint16(ra[offAnsNameOff:], uint16(names))
			le.PutUint16(ra[offAnsNameLen:], uint16(len(a.Name)))
			names += copy(r[offNames+names:], a.Name)
		}
	}
	le.PutUint16(r[offNamesLen:], uint16(names))
	return b, nil
}

// encodeAddr returns a as a 16-byte address field of family f, IPv4 in
// its first 4 bytes, and whether a is of that family.
func encodeAddr(f Family, a netip.Addr) (b [addrLen]byte, ok bool) {
	switch {
	case f == FamilyIPv4 && a.Is4():
		a4 := a.As4()
		copy(b[:], a4[:])
	case f == FamilyIPv6 && a.Is6():
		b = a.As16()
	default:
		return b, false
	}
	return b, true
}

// MarshalBinary returns e as a record.
func (e *Event) MarshalBinary() ([]byte, error) { return e.AppendBinary(make([]byte, 0, Size)) }

// UnmarshalBinary decodes a record into e.
func (e *Event) UnmarshalBinary(b []byte) error {
	d, err := Decode(b)
	if err != nil {
		return err
	}
	*e = d
	return nil
}

// Stats are the module's counters since it was loaded (DNSMON_IOC_STATS).
// A module of the first version has only the first four, one of the
// second only those up to Malformed; V1 and V2 say so.
type Stats struct {
	Events   uint64 `json:"events"`    // events produced (the last seq handed out)
	Dropped  uint64 `json:"dropped"`   // events lost because the ring was full
	RingSize uint64 `json:"ring_size"` // ring capacity, in records
	Queued   uint64 `json:"queued"`    // records waiting to be read

	// Messages to a watched port that are not queries, not reported.
	Responses    uint64 `json:"responses"`     // QR set
	OtherOpcodes uint64 `json:"other_opcodes"` // opcode other than QUERY
	NoQuestion   uint64 `json:"no_question"`   // QDCOUNT 0
	// TCP bytes to a watched port that could not be split into messages.
	TCPUnparsed uint64 `json:"tcp_unparsed"`
	Malformed   uint64 `json:"malformed"` // malformed events produced

	// Responses from a watched port arriving for local sockets.
	Answers    uint64 `json:"answers"`    // paired with their query: answer events produced
	Unpaired   uint64 `json:"unpaired"`   // paired with no query the module saw, not reported
	Unanswered uint64 `json:"unanswered"` // queries that got no response in time
	Evicted    uint64 `json:"evicted"`    // queries pushed out of the module's full table before their response

	V1 bool `json:"-"` // read from a first-version module: no counters past Queued
	V2 bool `json:"-"` // read from a second-version module: no counters past Malformed
}

// size returns the struct dnsmon_stats size s was read as.
func (s Stats) size() int {
	switch {
	case s.V1:
		return StatsV1Size
	case s.V2:
		return StatsV2Size
	}
	return StatsSize
}

// DecodeStats decodes a struct dnsmon_stats of any size the module
// answers: StatsSize, or StatsV2Size or StatsV1Size from a module of an
// earlier version.
func DecodeStats(b []byte) (Stats, error) {
	if len(b) != StatsSize && len(b) != StatsV2Size && len(b) != StatsV1Size {
		return Stats{}, fmt.Errorf("%w: stats of %d bytes, want %d, %d or %d", ErrShort, len(b), StatsSize, StatsV2Size, StatsV1Size)
	}
	le := binary.LittleEndian
	s := Stats{
		Events:   le.Uint64(b[offStatsEvents:]),
		Dropped:  le.Uint64(b[offStatsDropped:]),
		RingSize: le.Uint64(b[offStatsRingSize:]),
		Queued:   le.Uint64(b[offStatsQueued:]),
		V1:       len(b) == StatsV1Size,
		V2:       len(b) == StatsV2Size,
	}
	if len(b) >= StatsV2Size {
		s.Responses = le.Uint64(b[offStatsResp:])
		s.OtherOpcodes = le.Uint64(b[offStatsOpcodes:])
		s.NoQuestion = le.Uint64(b[offStatsNoQ:])
		s.TCPUnparsed = le.Uint64(b[offStatsTCP:])
		s.Malformed = le.Uint64(b[offStatsMalf:])
	}
	if len(b) >= StatsSize {
		s.Answers = le.Uint64(b[offStatsAnswers:])
		s.Unpaired = le.Uint64(b[offStatsUnpaired:])
		s.Unanswered = le.Uint64(b[offStatsUnanswered:])
		s.Evicted = le.Uint64(b[offStatsEvicted:])
	}
	return s, nil
}

// AppendBinary appends s as a struct dnsmon_stats, of the first version's
// size when V1 and of the second's when V2.
func (s Stats) AppendBinary(b []byte) ([]byte, error) {
	for _, v := range s.counters()[:s.size()/8] {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b, nil
}

// counters returns every counter, in the order of struct dnsmon_stats.
func (s Stats) counters() []uint64 {
	return []uint64{
		s.Events, s.Dropped, s.RingSize, s.Queued,
		s.Responses, s.OtherOpcodes, s.NoQuestion, s.TCPUnparsed, s.Malformed,
		s.Answers, s.Unpaired, s.Unanswered, s.Evicted,
	}
}
