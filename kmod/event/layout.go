package event

// The record format of dnsmon_event.h, version 3.
const (
	Version = 3 // DNSMON_EVENT_VERSION
	// VersionQueriesOnly is the first version, which the decoder still
	// reads: the layout of the second, with reason still a reserved zero
	// and no malformed events.
	VersionQueriesOnly = 1
	// VersionMalformed is the second version, which the decoder still
	// reads: queries and malformed messages in SizeV2 bytes, without the
	// lookup fields that version 3 appended.
	VersionMalformed = 2

	Size     = 2560 // sizeof(struct dnsmon_event)
	SizeV2   = 1112 // DNSMON_EVENT_V2_SIZE: the size of versions 1 and 2
	QNameMax = 1024 // DNSMON_QNAME_MAX, the qname buffer including its NUL
	CommLen  = 16   // DNSMON_COMM_LEN, the comm buffer including its NUL

	// AnswersMax (DNSMON_ANSWERS_MAX) is how many answer records an event
	// carries; the rest of a response shows as CutRecords.
	AnswersMax = 16
	// NamesMax (DNSMON_NAMES_MAX) is the room for the CNAME targets of an
	// event's answers; a target that does not fit shows as CutNames.
	NamesMax = 1024
	// AnswerSize is sizeof(struct dnsmon_answer).
	AnswerSize = 24

	// FlagProcUnknown (DNSMON_F_PROC_UNKNOWN) says the sending process
	// could not be identified; pid, tid, uid and comm are then zero.
	FlagProcUnknown = 1 << 0
	// FlagMalformed (DNSMON_F_MALFORMED) marks a message whose question
	// (or, in an answer, a record) does not parse: Reason says why; a
	// query's QName holds its first bytes.
	FlagMalformed = 1 << 1
	// MalformedBytes (DNSMON_MALFORMED_BYTES) is how many bytes of a
	// malformed message's question the record carries.
	MalformedBytes = 64

	// CutRecords (DNSMON_CUT_RECORDS) says the response has records past
	// the AnswersMax-th, or past the bytes the module read.
	CutRecords = 1 << 0
	// CutNames (DNSMON_CUT_NAMES) says a CNAME target did not fit in
	// NamesMax bytes: its Name is empty.
	CutNames = 1 << 1

	StatsSize   = 104 // sizeof(struct dnsmon_stats)
	StatsV2Size = 72  // DNSMON_STATS_V2_SIZE: the second version's counters
	StatsV1Size = 32  // DNSMON_STATS_V1_SIZE: the first version's counters

	// IoctlStats is DNSMON_IOC_STATS: _IOR('d', 1, struct dnsmon_stats).
	// The struct's size is part of the number.
	IoctlStats = 2<<30 | StatsSize<<16 | 'd'<<8 | 1
	// IoctlStatsV2 is the same request with the second version's size,
	// which modules of that version answer.
	IoctlStatsV2 = 2<<30 | StatsV2Size<<16 | 'd'<<8 | 1
	// IoctlStatsV1 is the same request with the first version's size,
	// which modules of that version answer.
	IoctlStatsV1 = 2<<30 | StatsV1Size<<16 | 'd'<<8 | 1
)

// headerLen is how many bytes of a record say its version and size.
const headerLen = 4

// RecordSize returns the size of a record of version v, or 0 for a version
// this package does not read.
func RecordSize(v uint16) int {
	switch v {
	case VersionQueriesOnly, VersionMalformed:
		return SizeV2
	case Version:
		return Size
	}
	return 0
}

// Offsets and widths of struct dnsmon_event's fields.
const (
	offVersion  = 0
	offSize     = 2
	offFlags    = 4
	offSeq      = 8
	offTimeNS   = 16
	offTgid     = 24
	offTid      = 28
	offUID      = 32
	offNetNS    = 36
	offFamily   = 40
	offProto    = 41
	offDport    = 42
	offDNSID    = 44
	offQType    = 46
	offQClass   = 48
	offQNameLen = 50
	offDaddr    = 52
	addrLen     = 16 // daddr and laddr
	offComm     = 68
	offReason   = 84
	offReserved = 86
	offQName    = 88
	// Version 3:
	offLookup   = 1112
	offKind     = 1120
	offDNSFlags = 1122
	offLatency  = 1124
	offANCount  = 1128
	offNAnswers = 1130
	offCut      = 1131
	offNamesLen = 1132
	offLport    = 1134
	offLaddr    = 1136
	offAnswers  = 1152
	offNames    = 1536
)

// Offsets of struct dnsmon_answer's fields.
const (
	offAnsType     = 0
	offAnsRDLength = 2
	offAnsTTL      = 4
	offAnsData     = 8
	ansDataLen     = 16
	// The members of the data union.
	offAnsAddr    = offAnsData
	offAnsNameOff = offAnsData
	offAnsNameLen = offAnsData + 2
)

// Offsets of struct dnsmon_stats's fields, each a __u64.
const (
	offStatsEvents     = 0
	offStatsDropped    = 8
	offStatsRingSize   = 16
	offStatsQueued     = 24
	offStatsResp       = 32
	offStatsOpcodes    = 40
	offStatsNoQ        = 48
	offStatsTCP        = 56
	offStatsMalf       = 64
	offStatsAnswers    = 72
	offStatsUnpaired   = 80
	offStatsUnanswered = 88
	offStatsEvicted    = 96
)

// Field is one field of a C struct as this package reads it.
type Field struct {
	Name   string // the C field name; a union member's is its path, as in data.name.off
	Offset int    // offsetof
	Size   int    // sizeof
}

// Layout returns the fields of struct dnsmon_event in declaration order,
// with the offsets and sizes the decoder uses.
func Layout() []Field {
	return []Field{
		{"version", offVersion, 2},
		{"size", offSize, 2},
		{"flags", offFlags, 4},
		{"seq", offSeq, 8},
		{"time_ns", offTimeNS, 8},
		{"tgid", offTgid, 4},
		{"tid", offTid, 4},
		{"uid", offUID, 4},
		{"netns", offNetNS, 4},
		{"family", offFamily, 1},
		{"proto", offProto, 1},
		{"dport", offDport, 2},
		{"dns_id", offDNSID, 2},
		{"qtype", offQType, 2},
		{"qclass", offQClass, 2},
		{"qname_len", offQNameLen, 2},
		{"daddr", offDaddr, addrLen},
		{"comm", offComm, CommLen},
		{"reason", offReason, 2},
		{"reserved", offReserved, 2},
		{"qname", offQName, QNameMax},
		{"lookup", offLookup, 8},
		{"kind", offKind, 2},
		{"dns_flags", offDNSFlags, 2},
		{"latency_us", offLatency, 4},
		{"ancount", offANCount, 2},
		{"nanswers", offNAnswers, 1},
		{"cut", offCut, 1},
		{"names_len", offNamesLen, 2},
		{"lport", offLport, 2},
		{"laddr", offLaddr, addrLen},
		{"answers", offAnswers, AnswersMax * AnswerSize},
		{"names", offNames, NamesMax},
	}
}

// AnswerLayout returns the fields of struct dnsmon_answer in declaration
// order. data is a union; AnswerDataLayout has its members.
func AnswerLayout() []Field {
	return []Field{
		{"type", offAnsType, 2},
		{"rdlength", offAnsRDLength, 2},
		{"ttl", offAnsTTL, 4},
		{"data", offAnsData, ansDataLen},
	}
}

// AnswerDataLayout returns the members of struct dnsmon_answer's data
// union, which overlap, by their paths from the struct.
func AnswerDataLayout() []Field {
	return []Field{
		{"data.addr", offAnsAddr, ansDataLen},
		{"data.name", offAnsNameOff, 4},
		{"data.name.off", offAnsNameOff, 2},
		{"data.name.len", offAnsNameLen, 2},
	}
}

// StatsLayout returns the fields of struct dnsmon_stats in declaration order.
func StatsLayout() []Field {
	return []Field{
		{"events", offStatsEvents, 8},
		{"dropped", offStatsDropped, 8},
		{"ring_size", offStatsRingSize, 8},
		{"queued", offStatsQueued, 8},
		{"responses", offStatsResp, 8},
		{"other_opcodes", offStatsOpcodes, 8},
		{"no_question", offStatsNoQ, 8},
		{"tcp_unparsed", offStatsTCP, 8},
		{"malformed", offStatsMalf, 8},
		{"answers", offStatsAnswers, 8},
		{"unpaired", offStatsUnpaired, 8},
		{"unanswered", offStatsUnanswered, 8},
		{"evicted", offStatsEvicted, 8},
	}
}
