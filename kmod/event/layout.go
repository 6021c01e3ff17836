package event

// The record format of dnsmon_event.h, version 2.
const (
	Version = 2 // DNSMON_EVENT_VERSION
	// VersionQueriesOnly is the first version, which the decoder still
	// reads: the same layout, with reason still a reserved zero and no
	// malformed events.
	VersionQueriesOnly = 1
	Size               = 1112 // sizeof(struct dnsmon_event), in every version
	QNameMax           = 1024 // DNSMON_QNAME_MAX, the qname buffer including its NUL
	CommLen            = 16   // DNSMON_COMM_LEN, the comm buffer including its NUL

	// FlagProcUnknown (DNSMON_F_PROC_UNKNOWN) says the sending process
	// could not be identified; pid, tid, uid and comm are then zero.
	FlagProcUnknown = 1 << 0
	// FlagMalformed (DNSMON_F_MALFORMED) marks a message whose question
	// does not parse: Reason says why, QName holds its first bytes.
	FlagMalformed = 1 << 1
	// MalformedBytes (DNSMON_MALFORMED_BYTES) is how many bytes of a
	// malformed message's question the record carries.
	MalformedBytes = 64

	StatsSize   = 72 // sizeof(struct dnsmon_stats)
	StatsV1Size = 32 // DNSMON_STATS_V1_SIZE: the first version's counters

	// IoctlStats is DNSMON_IOC_STATS: _IOR('d', 1, struct dnsmon_stats).
	// The struct's size is part of the number.
	IoctlStats = 2<<30 | StatsSize<<16 | 'd'<<8 | 1
	// IoctlStatsV1 is the same request with the first version's size,
	// which modules of that version answer.
	IoctlStatsV1 = 2<<30 | StatsV1Size<<16 | 'd'<<8 | 1
)

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
	daddrLen    = 16
	offComm     = 68
	offReason   = 84
	offReserved = 86
	offQName    = 88
)

// Offsets of struct dnsmon_stats's fields, each a __u64.
const (
	offStatsEvents   = 0
	offStatsDropped  = 8
	offStatsRingSize = 16
	offStatsQueued   = 24
	offStatsResp     = 32
	offStatsOpcodes  = 40
	offStatsNoQ      = 48
	offStatsTCP      = 56
	offStatsMalf     = 64
)

// Field is one field of a C struct as this package reads it.
type Field struct {
	Name   string // the C field name
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
		{"daddr", offDaddr, daddrLen},
		{"comm", offComm, CommLen},
		{"reason", offReason, 2},
		{"reserved", offReserved, 2},
		{"qname", offQName, QNameMax},
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
	}
}
