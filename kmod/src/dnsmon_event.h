/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dnsmon_event.h - the user-space ABI of /dev/dnsmon, defined once.
 *
 * read(2) on /dev/dnsmon returns a whole number of fixed-size records
 * (struct dnsmon_event); a buffer smaller than one record gets -EINVAL.
 * Every field has a fixed offset and width; the layout only grows by
 * bumping DNSMON_EVENT_VERSION.  The Go decoder (kmod/event) is tested
 * against this header field by field.
 *
 * This header is included both by the module and by user-space programs,
 * so it uses only <linux/types.h> and <linux/ioctl.h>.
 */
#ifndef DNSMON_EVENT_H
#define DNSMON_EVENT_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * Version 2 turned version 1's reserved word into reason and added
 * DNSMON_F_MALFORMED; the size did not change.  Version 3 appended the
 * lookup fields after qname (answers and unanswered queries); the fields
 * of version 2 keep their offsets.
 */
#define DNSMON_EVENT_VERSION	3
/* sizeof(struct dnsmon_event) in versions 1 and 2. */
#define DNSMON_EVENT_V2_SIZE	1112

/* Largest presentation-form name: 255 wire octets, every byte as \DDD. */
#define DNSMON_QNAME_MAX	1024
#define DNSMON_COMM_LEN		16

/* The sending process could not be identified (skb->sk is not current's). */
#define DNSMON_F_PROC_UNKNOWN	(1U << 0)
/*
 * A message to a watched port with QR 0 and opcode QUERY (or too short to
 * tell) whose question does not parse.  reason says why; qname holds the
 * first DNSMON_MALFORMED_BYTES bytes of the question (of the whole message
 * when it is shorter than the header), every byte outside 0x21..0x7e and
 * the specials " $ ( ) . ; @ \ written as \DDD; qtype and qclass are 0.
 */
#define DNSMON_F_MALFORMED	(1U << 1)
#define DNSMON_MALFORMED_BYTES	64

/* What an event reports: struct dnsmon_event's kind. */
enum dnsmon_event_kind {
	DNSMON_K_QUERY = 0,	/* a query left; lookup is its own seq */
	/*
	 * A response arrived for a query the module saw, from the server it
	 * went to, to the socket that sent it, with its DNS id: the query's
	 * process, server and local address; the response's question,
	 * header flags and answer records.
	 */
	DNSMON_K_ANSWER = 1,
	/*
	 * No response within answer_timeout: the query's process, addresses,
	 * id, qtype and qclass; qname is empty (the query event of the same
	 * lookup has it).
	 */
	DNSMON_K_UNANSWERED = 2,
};

/* Answer records an event carries, and the room for their names. */
#define DNSMON_ANSWERS_MAX	16
#define DNSMON_NAMES_MAX	1024

/* struct dnsmon_event's cut: what of a response the event does not hold. */
#define DNSMON_CUT_RECORDS	(1U << 0)	/* records past the 16th, or past the bytes read */
#define DNSMON_CUT_NAMES	(1U << 1)	/* a CNAME target that did not fit names */

/* The record types whose data an answer carries; others are type + length. */
#define DNSMON_TYPE_A		1
#define DNSMON_TYPE_CNAME	5
#define DNSMON_TYPE_AAAA	28

/*
 * One answer record.  For an A or an AAAA, addr holds the address (A in
 * its first 4 bytes); for a CNAME, name locates its target in the event's
 * names (presentation form, like qname, without a NUL; len 0 with
 * DNSMON_CUT_NAMES when it did not fit); for other types data is zero.
 */
struct dnsmon_answer {
	__u16 type;		/* TYPE */
	__u16 rdlength;		/* RDLENGTH as sent */
	__u32 ttl;		/* TTL, seconds */
	union {
		__u8 addr[16];
		struct {
			__u16 off;	/* in names */
			__u16 len;
		} name;
	} data;
};

/* Why a message is malformed: struct dnsmon_event's reason. */
enum dnsmon_malformed_reason {
	DNSMON_R_NONE = 0,
	DNSMON_R_SHORT_HEADER,		/* shorter than the 12-byte header */
	DNSMON_R_LABEL_PAST_END,	/* a label or pointer runs past the end */
	DNSMON_R_QUESTION_PAST_END,	/* no room for QTYPE and QCLASS */
	DNSMON_R_BAD_LABEL_TYPE,	/* a label type 0x40 or 0x80 */
	DNSMON_R_NAME_TOO_LONG,		/* the name is over 255 octets */
	DNSMON_R_POINTER_LOOP,		/* more compression pointers than a name needs */
	DNSMON_R_BAD_RECORD,		/* an answer: a record runs past the end or holds bad data */
};

struct dnsmon_event {
	__u16 version;		/* DNSMON_EVENT_VERSION */
	__u16 size;		/* sizeof(struct dnsmon_event) */
	__u32 flags;		/* DNSMON_F_* */
	__u64 seq;		/* 1, 2, 3, ... for every event produced, dropped ones included */
	__u64 time_ns;		/* CLOCK_REALTIME, nanoseconds since the epoch */
	__u32 tgid;		/* process id (0 when DNSMON_F_PROC_UNKNOWN) */
	__u32 tid;		/* thread id */
	__u32 uid;		/* uid as seen from the initial user namespace; when
				 * DNSMON_F_PROC_UNKNOWN, the socket creator's uid,
				 * or 65534 (overflowuid) without a full socket */
	__u32 netns;		/* inode number of the sender's network namespace */
	__u8  family;		/* AF_INET (2) or AF_INET6 (10) */
	__u8  proto;		/* IPPROTO_UDP (17) or IPPROTO_TCP (6) */
	__u16 dport;		/* destination port, host byte order */
	__u16 dns_id;		/* DNS message id, host byte order */
	__u16 qtype;		/* first question's QTYPE */
	__u16 qclass;		/* first question's QCLASS */
	__u16 qname_len;	/* bytes in qname before its NUL */
	__u8  daddr[16];	/* destination address; IPv4 uses the first 4 bytes */
	char  comm[DNSMON_COMM_LEN];	/* task comm, NUL-terminated */
	__u16 reason;		/* enum dnsmon_malformed_reason; 0 for a query */
	__u16 reserved;		/* zero */
	char  qname[DNSMON_QNAME_MAX];	/* presentation form, \DDD-escaped, NUL-terminated, no trailing dot; "." for the root */
	/* Version 3: */
	__u64 lookup;		/* seq of the query event this event belongs to */
	__u16 kind;		/* enum dnsmon_event_kind */
	__u16 dns_flags;	/* answer: the response's flags word (QR, opcode, AA, TC, RD, RA, AD, CD, rcode) */
	__u32 latency_us;	/* answer, unanswered: microseconds since the query left */
	__u16 ancount;		/* answer: ANCOUNT as sent */
	__u8  nanswers;		/* answer: records in answers */
	__u8  cut;		/* answer: DNSMON_CUT_* */
	__u16 names_len;	/* answer: bytes used in names */
	__u16 lport;		/* the querying socket's port, host byte order */
	__u8  laddr[16];	/* the querying socket's address; IPv4 uses the first 4 bytes */
	struct dnsmon_answer answers[DNSMON_ANSWERS_MAX];
	char  names[DNSMON_NAMES_MAX];	/* CNAME targets, back to back, no NULs */
};

/*
 * Counters since the module was loaded.  The struct only grows; its size
 * is part of the ioctl number, so each size is its own request and the
 * module answers every size it ever had.
 */
struct dnsmon_stats {
	__u64 events;		/* events produced (the last seq handed out) */
	__u64 dropped;		/* events lost because the ring was full */
	__u64 ring_size;	/* capacity of the ring, in records */
	__u64 queued;		/* records waiting to be read now */
	/* Messages to a watched port that are not queries, not reported: */
	__u64 responses;	/* QR set (an mDNS answer, say) */
	__u64 other_opcodes;	/* opcode other than QUERY (NOTIFY, UPDATE, ...) */
	__u64 no_question;	/* QDCOUNT 0 (a DNS cookie exchange, say) */
	/* TCP bytes to a watched port that could not be parsed as messages */
	__u64 tcp_unparsed;	/* segments or parts of segments */
	__u64 malformed;	/* DNSMON_F_MALFORMED events produced */
	/* Version 3: responses from a watched port arriving for local sockets */
	__u64 answers;		/* paired with their query: answer events produced */
	__u64 unpaired;		/* paired with no query the module saw: not reported */
	__u64 unanswered;	/* queries that got no response in answer_timeout */
	__u64 evicted;		/* queries pushed out of a full table before their response */
};

/* The second version's counters: up to malformed. */
#define DNSMON_STATS_V2_SIZE	72

/* The first version's counters: events, dropped, ring_size, queued. */
#define DNSMON_STATS_V1_SIZE	32

#define DNSMON_IOC_MAGIC	'd'
#define DNSMON_IOC_STATS	_IOR(DNSMON_IOC_MAGIC, 1, struct dnsmon_stats)
/* The same request as version-1 and version-2 tools send it. */
#define DNSMON_IOC_STATS_V1	_IOC(_IOC_READ, DNSMON_IOC_MAGIC, 1, DNSMON_STATS_V1_SIZE)
#define DNSMON_IOC_STATS_V2	_IOC(_IOC_READ, DNSMON_IOC_MAGIC, 1, DNSMON_STATS_V2_SIZE)

#endif /* DNSMON_EVENT_H */
