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
 * DNSMON_F_MALFORMED; the size did not change.
 */
#define DNSMON_EVENT_VERSION	2

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

/* Why a message is malformed: struct dnsmon_event's reason. */
enum dnsmon_malformed_reason {
	DNSMON_R_NONE = 0,
	DNSMON_R_SHORT_HEADER,		/* shorter than the 12-byte header */
	DNSMON_R_LABEL_PAST_END,	/* a label or pointer runs past the end */
	DNSMON_R_QUESTION_PAST_END,	/* no room for QTYPE and QCLASS */
	DNSMON_R_BAD_LABEL_TYPE,	/* a label type 0x40 or 0x80 */
	DNSMON_R_NAME_TOO_LONG,		/* the name is over 255 octets */
	DNSMON_R_POINTER_LOOP,		/* more compression pointers than a name needs */
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
};

/* The first version's counters: events, dropped, ring_size, queued. */
#define DNSMON_STATS_V1_SIZE	32

#define DNSMON_IOC_MAGIC	'd'
#define DNSMON_IOC_STATS	_IOR(DNSMON_IOC_MAGIC, 1, struct dnsmon_stats)
/* The same request as a version-1 tool sends it. */
#define DNSMON_IOC_STATS_V1	_IOC(_IOC_READ, DNSMON_IOC_MAGIC, 1, DNSMON_STATS_V1_SIZE)

#endif /* DNSMON_EVENT_H */
