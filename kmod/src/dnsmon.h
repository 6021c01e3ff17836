/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dnsmon.h - what the parts of the module share: its configuration, the
 * event ring (dnsmon_dev.c) and the netfilter hooks (dnsmon_hook.c).
 */
#ifndef DNSMON_H
#define DNSMON_H

#include <linux/types.h>

#include "dnsmon_event.h"

#define DNSMON_PORTS_MAX	8
#define DNSMON_PORT_DEFAULT	53
#define DNSMON_RING_MIN		64
#define DNSMON_RING_MAX		65536
#define DNSMON_RING_DEFAULT	4096

/* Module parameters; main.c owns the storage, the others read it. */
struct dnsmon_config {
	unsigned short ports[DNSMON_PORTS_MAX];
	unsigned int nports;
	unsigned int ring_size;
	bool log;
};

int dnsmon_dev_init(unsigned int ring_size);
void dnsmon_dev_exit(void);
/*
 * Queues a copy of *ev with the next sequence number, or counts it as
 * dropped when the ring is full or ev is NULL (an event the caller did
 * not build because dnsmon_dev_full said it would be dropped); returns
 * the sequence number.  ev->qname must be NUL-terminated at qname_len.
 * Any context that may run netfilter hooks.
 */
u64 dnsmon_dev_push(const struct dnsmon_event *ev);
/*
 * Whether the ring is full right now, without the lock: a hint that lets
 * a producer skip building an event that would only be dropped.
 */
bool dnsmon_dev_full(void);

/* Counters of messages that yield no query event (struct dnsmon_stats). */
enum dnsmon_counter {
	DNSMON_C_RESPONSES,
	DNSMON_C_OTHER_OPCODES,
	DNSMON_C_NO_QUESTION,
	DNSMON_C_TCP_UNPARSED,
	DNSMON_C_MALFORMED,
	DNSMON_C_MAX,
};

/* Adds one to counter c; any context that may run netfilter hooks. */
void dnsmon_dev_count(enum dnsmon_counter c);

struct sock;

/*
 * The TCP stream table (dnsmon_tcp.c): the sequence number where the next
 * DNS message of a socket's stream begins, and the one after the last
 * byte seen.  Any context that may run netfilter hooks.
 */
void dnsmon_tcp_init(void);
/* sk sent its SYN: its first message begins at data_seq. */
void dnsmon_tcp_begin(const struct sock *sk, u32 data_seq);
/* Whether sk is followed; if so *next and *end are its record. */
bool dnsmon_tcp_get(const struct sock *sk, u32 *next, u32 *end);
/* Stores sk's record, unless another socket took its slot meanwhile. */
void dnsmon_tcp_put(const struct sock *sk, u32 next, u32 end);
/* sk's stream can no longer be followed. */
void dnsmon_tcp_forget(const struct sock *sk);

/*
 * Where the payload sits in a packet that passed the hooks' checks: one
 * DNS message for UDP, a stretch of a stream for TCP.
 */
struct dnsmon_packet {
	unsigned int offset;	/* of the payload in the skb */
	unsigned int len;	/* of the payload */
	u8 proto;
	__be16 dport;
	u32 seq;		/* TCP: sequence number of the first payload byte */
	bool syn;		/* TCP: the segment is a SYN */
};

struct sk_buff;
struct net;

/*
 * The reports (dnsmon_report.c): the events and counters of a packet's
 * messages.  dnsmon_packet runs in the hooks; init and exit allocate and
 * free the per-CPU scratch, exit only once no hook can run.
 */
int dnsmon_report_init(void);
void dnsmon_report_exit(void);
void dnsmon_packet(struct sk_buff *skb, struct net *net, u8 family,
		   const void *daddr, unsigned int alen,
		   const struct dnsmon_packet *pkt);

/* The kernel log (dnsmon_log.c): one rate-limited line per event. */
void dnsmon_log_init(const struct dnsmon_config *config);
/* Whether the next event gets a line: log=1 and within the rate. */
bool dnsmon_log_due(void);
void dnsmon_log(const struct dnsmon_event *ev);

int dnsmon_hook_init(const struct dnsmon_config *config);
void dnsmon_hook_exit(void);

#endif /* DNSMON_H */
