package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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

// Event is one DNS query seen by the module.
type Event struct {
	Seq    uint64    // 1, 2, 3, ... per event produced; a gap means drops
	Time   time.Time // when the query left (CLOCK_REALTIME), in UTC
	Flags  uint32    // FlagProcUnknown, ...
	PID    uint32    // process id (tgid)
	TID    uint32    // thread id
	UID    uint32    // uid in the initial user namespace
	NetNS  uint32    // inode of the sender's network namespace
	Family Family
	Proto  Proto
	Server netip.Addr // destination address (the resolver)
	Port   uint16     // destination port
	ID     uint16     // DNS message id
	QType  QType
	QClass QClass
	QName  string // presentation form, \DDD-escaped, no trailing dot, "." for the root; for a malformed message its first bytes, escaped alike
	Reason Reason // why a malformed message is malformed; 0 for a query
	Comm   string // task comm

	// Filled in by the watcher from /proc and /etc/passwd when it can;
	// never by the kernel.
	User      string // user name of UID
	Exe       string // /proc/PID/exe
	Container string // container id from /proc/PID/cgroup
}

// ProcUnknown reports whether the kernel could not tell which process sent
// the query.
func (e *Event) ProcUnknown() bool { return e.Flags&FlagProcUnknown != 0 }

// Malformed reports whether the event is a message to a DNS port whose
// question does not parse, rather than a query.
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
)

var reasonNames = [...]string{
	ReasonNone:            "none",
	ReasonShortHeader:     "short-header",
	ReasonLabelPastEnd:    "label-past-end",
	ReasonQuestionPastEnd: "question-past-end",
	ReasonBadLabelType:    "bad-label-type",
	ReasonNameTooLong:     "name-too-long",
	ReasonPointerLoop:     "pointer-loop",
}

// String returns the reason's name, as the module's log line has it, or
// "reason-N" for one this release does not know.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason-" + strconv.Itoa(int(r))
}

// ParseReason is the inverse of String.
func ParseReason(s string) (Reason, error) {
	for i, n := range reasonNames {
		if n == s {
			return Reason(i), nil
		}
	}
	if n, ok := strings.CutPrefix(s, "reason-"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return Reason(v), nil
		}
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
type SizeError struct{ Size uint16 }

func (e *SizeError) Error() string {
	return fmt.Sprintf("record size %d, but version %d records are %d bytes", e.Size, Version, Size)
}

// Is makes errors.Is(err, ErrSize) true.
func (e *SizeError) Is(target error) bool { return target == ErrSize }

// Header returns the version and size fields that begin every record.
func Header(b []byte) (version, size uint16, err error) {
	if len(b) < 4 {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	return binary.LittleEndian.Uint16(b[offVersion:]), binary.LittleEndian.Uint16(b[offSize:]), nil
}

// Decode decodes the record at the start of b, which must hold at least
// Size bytes. Records are in the host's byte order; dnsmon builds for
// little-endian x86_64 only.
func Decode(b []byte) (Event, error) {
	v, sz, err := Header(b)
	if err != nil {
		return Event{}, err
	}
	if v != Version && v != VersionQueriesOnly {
		return Event{}, &VersionError{Version: v}
	}
	if sz != Size {
		return Event{}, &SizeError{Size: sz}
	}
	if len(b) < Size {
		return Event{}, fmt.Errorf("%w: %d bytes, want %d", ErrShort, len(b), Size)
	}
	b = b[:Size]
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
	switch e.Family {
	case FamilyIPv4:
		e.Server = netip.AddrFrom4([4]byte(b[offDaddr : offDaddr+4]))
	case FamilyIPv6:
		e.Server = netip.AddrFrom16([16]byte(b[offDaddr : offDaddr+daddrLen]))
	default:
		return Event{}, fmt.Errorf("%w: address family %d", ErrMalformed, e.Family)
	}
	n := int(le.Uint16(b[offQNameLen:]))
	if n >= QNameMax {
		return Event{}, fmt.Errorf("%w: qname_len %d, at most %d", ErrMalformed, n, QNameMax-1)
	}
	e.QName = cstring(b[offQName : offQName+n])
	return e, nil
}

// cstring returns b up to its first NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// AppendBinary appends e as a record, as the module writes it. The fields
// filled by the watcher (User, Exe, Container) are not part of a record.
func (e *Event) AppendBinary(b []byte) ([]byte, error) {
	if len(e.Comm) >= CommLen || bytes.IndexByte([]byte(e.Comm), 0) >= 0 {
		return b, fmt.Errorf("encoding record: comm %q does not fit %d bytes with its NUL", e.Comm, CommLen)
	}
	if len(e.QName) >= QNameMax || bytes.IndexByte([]byte(e.QName), 0) >= 0 {
		return b, fmt.Errorf("encoding record: qname of %d bytes does not fit %d with its NUL", len(e.QName), QNameMax)
	}
	var daddr [daddrLen]byte
	switch {
	case e.Family == FamilyIPv4 && e.Server.Is4():
		a := e.Server.As4()
		copy(daddr[:], a[:])
	case e.Family == FamilyIPv6 && e.Server.Is6():
		daddr = e.Server.As16()
	default:
		return b, fmt.Errorf("encoding record: server %v does not match family %v", e.Server, e.Family)
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
	return b, nil
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
// A module of the first version has only the first four; V1 says so.
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

	V1 bool `json:"-"` // read from a first-version module: no counters past Queued
}

// DecodeStats decodes a struct dnsmon_stats of either size the module
// answers: StatsSize, or StatsV1Size from a first-version module.
func DecodeStats(b []byte) (Stats, error) {
	if len(b) != StatsSize && len(b) != StatsV1Size {
		return Stats{}, fmt.Errorf("%w: stats of %d bytes, want %d or %d", ErrShort, len(b), StatsSize, StatsV1Size)
	}
	le := binary.LittleEndian
	s := Stats{
		Events:   le.Uint64(b[offStatsEvents:]),
		Dropped:  le.Uint64(b[offStatsDropped:]),
		RingSize: le.Uint64(b[offStatsRingSize:]),
		Queued:   le.Uint64(b[offStatsQueued:]),
		V1:       len(b) == StatsV1Size,
	}
	if !s.V1 {
		s.Responses = le.Uint64(b[offStatsResp:])
		s.OtherOpcodes = le.Uint64(b[offStatsOpcodes:])
		s.NoQuestion = le.Uint64(b[offStatsNoQ:])
		s.TCPUnparsed = le.Uint64(b[offStatsTCP:])
		s.Malformed = le.Uint64(b[offStatsMalf:])
	}
	return s, nil
}

// AppendBinary appends s as a struct dnsmon_stats, of the first
// version's size when V1.
func (s Stats) AppendBinary(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	b = le.AppendUint64(b, s.Events)
	b = le.AppendUint64(b, s.Dropped)
	b = le.AppendUint64(b, s.RingSize)
	b = le.AppendUint64(b, s.Queued)
	if s.V1 {
		return b, nil
	}
	b = le.AppendUint64(b, s.Responses)
	b = le.AppendUint64(b, s.OtherOpcodes)
	b = le.AppendUint64(b, s.NoQuestion)
	b = le.AppendUint64(b, s.TCPUnparsed)
	return le.AppendUint64(b, s.Malformed), nil
}
