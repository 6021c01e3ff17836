/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dnsmon.h - what the parts of the module share: its configuration, the
 * event ring (dnsmon_dev.c) and the netfilter hooks (dnsmon_hook.c).
 */
#ifndef DNSMON_H
#define DNSMON_H

#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "dnsmon_event.h"

#define DNSMON_PORTS_MAX	8
#define DNSMON_PORT_DEFAULT	53
#define DNSMON_RING_MIN		64
#define DNSMON_RING_MAX		65536
#define DNSMON_RING_DEFAULT	4096
#define DNSMON_ANSWER_TIMEOUT_DEFAULT	5	/* seconds */
#define DNSMON_ANSWER_TIMEOUT_MAX	3600

/* Module parameters; main.c owns the storage, the others read it. */
struct dnsmon_config {
	unsigned short ports[DNSMON_PORTS_MAX];
	unsigned int nports;
	unsigned int ring_size;
	bool log;
	bool responses;			/* pair responses with their queries */
	unsigned int answer_timeout;	/* seconds a query waits for its response */
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
/* Copies the version 3 fields from lookup up to names. */
void dnsmon_event_lookup_copy(struct dnsmon_event *to,
			      const struct dnsmon_event *from);
/*
 * Whether the ring is full right now, without the lock: a hint that lets
 * a producer skip building an event that would only be dropped.
 */
bool dnsmon_dev_full(void);

/* The counters of struct dnsmon_stats past events, dropped and queued. */
enum dnsmon_counter {
	DNSMON_C_RESPONSES,
	DNSMON_C_OTHER_OPCODES,
	DNSMON_C_NO_QUESTION,
	DNSMON_C_TCP_UNPARSED,
	DNSMON_C_MALFORMED,
	DNSMON_C_ANSWERS,
	DNSMON_C_UNPAIRED,
	DNSMON_C_UNANSWERED,
	DNSMON_C_EVICTED,
	DNSMON_C_MAX,
};

/* Adds one to counter c; any context that may run netfilter hooks. */
void dnsmon_dev_count(enum dnsmon_counter c);

/*
 * Where the payload sits in a packet that passed the hooks' checks: one
 * DNS message for UDP, a stretch of a stream for TCP.
 */
struct dnsmon_packet {
	unsigned int offset;	/* of the payload in the skb */
	unsigned int len;	/* of the payload in the skb */
	unsigned int msglen;	/* UDP: of the datagram's payload as sent */
	u8 proto;
	__be16 sport;
	__be16 dport;
	u32 seq;		/* TCP: sequence number of the first payload byte */
	bool syn;		/* TCP: the segment is a SYN */
};

#define DNSMON_IPV4_ADDR_LEN	4
#define DNSMON_IPV6_ADDR_LEN	16

/*
 * A query waiting for its response, and the key a response finds it by:
 * the transport, the querying socket's address and port, the server's,
 * and the DNS id.  Addresses are zero-padded to 16 bytes, so keys compare
 * with memcmp.
 */
struct dnsmon_pair_key {
	u8 family;
	u8 proto;
	u16 id;
	__be16 lport;
	__be16 rport;
	u8 laddr[16];
	u8 raddr[16];
};

/*
 * A TCP stream, as the stream table knows it: the socket that sends it
 * (owner, with a zero tuple), or the namespace that receives it and its
 * connection (owner and tuple, id 0).  Zero-padded; compared with memcmp.
 */
struct dnsmon_stream_key {
	const void *owner;
	struct dnsmon_pair_key tuple;
};

/*
 * The TCP stream table (dnsmon_tcp.c): the sequence number where the next
 * DNS message of a stream begins, and the one after the last byte seen.
 * Any context that may run netfilter hooks.
 */
void dnsmon_tcp_init(void);
/* The stream's SYN was seen: its first message begins at data_seq. */
void dnsmon_tcp_begin(const struct dnsmon_stream_key *k, u32 data_seq);
/* Whether the stream is followed; if so *next and *end are its record. */
bool dnsmon_tcp_get(const struct dnsmon_stream_key *k, u32 *next, u32 *end);
/* Stores the stream's record, unless another stream took its slot meanwhile. */
void dnsmon_tcp_put(const struct dnsmon_stream_key *k, u32 next, u32 end);
/* The stream can no longer be followed. */
void dnsmon_tcp_forget(const struct dnsmon_stream_key *k);

struct dnsmon_pending {
	struct dnsmon_pair_key key;
	u64 lookup;		/* the query event's seq; 0 for a free slot */
	u64 sent;		/* ktime_get_ns() when the query left */
	u32 flags;		/* DNSMON_F_PROC_UNKNOWN */
	u32 tgid;
	u32 tid;
	u32 uid;
	u16 qtype;
	u16 qclass;
	char comm[DNSMON_COMM_LEN];
};

/*
 * The queries of one network namespace waiting for responses
 * (dnsmon_pair.c): a bounded table, swept by a delayed work that reports
 * the queries left unanswered.  Lives in the namespace's net_generic
 * area; slots is NULL when responses=0.
 */
struct dnsmon_pairs {
	spinlock_t lock;		/* slots, used, dying */
	struct dnsmon_pending *slots;
	unsigned int used;		/* also read without the lock */
	bool dying;			/* the sweep is stopped for good */
	u32 seed;
	unsigned int netns;		/* inode number */
	struct delayed_work sweep;
};

struct net;

void dnsmon_pair_config(const struct dnsmon_config *config);
int dnsmon_pairs_init(struct dnsmon_pairs *t, struct net *net);
/* No query is added and no sweep runs after this returns. */
void dnsmon_pairs_stop(struct dnsmon_pairs *t);
/* Once no hook can reach t. */
void dnsmon_pairs_free(struct dnsmon_pairs *t);
/* A query event with seq was queued from ev; any hook context. */
void dnsmon_pairs_add(struct dnsmon_pairs *t, const struct dnsmon_pair_key *k,
		      const struct dnsmon_event *ev, u64 seq);
/* Takes the query k finds into *p; any hook context. */
bool dnsmon_pairs_take(struct dnsmon_pairs *t, const struct dnsmon_pair_key *k,
		       struct dnsmon_pending *p);
/* The namespace's table, or NULL; in a hook, under rcu_read_lock. */
struct dnsmon_pairs *dnsmon_net_pairs(struct net *net);

struct sk_buff;

/*
 * The reports (dnsmon_report.c): the events and counters of a packet's
 * messages.  dnsmon_packet runs in the hooks: LOCAL_OUT for queries,
 * LOCAL_IN for responses (response true).  local is the querying
 * socket's address, remote the server's.  init and exit allocate and free
 * the per-CPU scratch, exit only once no hook can run.
 */
int dnsmon_report_init(void);
void dnsmon_report_exit(void);
void dnsmon_packet(struct sk_buff *skb, struct net *net, u8 family,
		   const void *local, const void *remote, unsigned int alen,
		   const struct dnsmon_packet *pkt, bool response);
/* The unanswered event of p, at now (ktime_get_ns); bottom halves off. */
void dnsmon_report_unanswered(const struct dnsmon_pairs *t,
			      const struct dnsmon_pending *p, u64 now);

/* The kernel log (dnsmon_log.c): one rate-limited line per event. */
void dnsmon_log_init(const struct dnsmon_config *config);
/* Whether the next event gets a line: log=1 and within the rate. */
bool dnsmon_log_due(void);
void dnsmon_log(const struct dnsmon_event *ev);

int dnsmon_hook_init(const struct dnsmon_config *config);
void dnsmon_hook_exit(void);

#endif /* DNSMON_H */
