// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_tcp.c - where the DNS messages of each TCP stream begin.
 *
 * Over TCP each message is a 2-byte length and the message (RFC 1035
 * 4.2.2), written into a byte stream: a segment may carry several messages
 * (glibc writes A and AAAA in one writev; RFC 7766 pipelines), part of
 * one, or both, and may be sent again.  Only a reader that followed the
 * stream from its first byte knows where the next message begins, so the
 * hooks record, per socket, the sequence number of the next message
 * (next) and the one after the last byte they saw (end):
 *
 *   - the SYN a connecting socket sends starts the record: its data, and
 *     so its first message, begin at ISN + 1;
 *   - a segment that starts at end carries new bytes; one that ends at or
 *     before end is a retransmit and is not parsed again;
 *   - a socket without a record (connected before the module was loaded,
 *     or evicted by another socket that hashed to its slot) cannot be
 *     followed: its segments are counted as unparsed.
 *
 * The table is a fixed array indexed by a hash of the socket's address;
 * a socket is a key, never dereferenced.  A freed socket's address may be
 * reused, but a socket that sends to a watched port sent its SYN there
 * first, which overwrites whatever the slot held.  The segments of one
 * socket leave under its lock, one at a time, so a record is read and
 * written back around the parsing without its slot's lock held; a slot
 * lock only keeps two sockets that share a slot from tearing it.
 */
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>

#include "dnsmon.h"

/* Sockets followed at once; a power of two. */
#define DNSMON_TCP_STREAMS_BITS	10
#define DNSMON_TCP_STREAMS	(1U << DNSMON_TCP_STREAMS_BITS)

struct dnsmon_tcp_stream {
	spinlock_t lock;		/* sk, next, end */
	const struct sock *sk;		/* NULL: a free slot */
	u32 next;			/* where the next message begins */
	u32 end;			/* after the last byte seen */
};

static struct dnsmon_tcp_stream dnsmon_tcp_streams[DNSMON_TCP_STREAMS];

static struct dnsmon_tcp_stream *dnsmon_tcp_slot(const struct sock *sk)
{
	return &dnsmon_tcp_streams[hash_ptr((void *)sk,
					    DNSMON_TCP_STREAMS_BITS)];
}

void dnsmon_tcp_begin(const struct sock *sk, u32 data_seq)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(sk);

	spin_lock_bh(&s->lock);
	s->sk = sk;
	s->next = data_seq;
	s->end = data_seq;
	spin_unlock_bh(&s->lock);
}

bool dnsmon_tcp_get(const struct sock *sk, u32 *next, u32 *end)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(sk);
	bool found;

	spin_lock_bh(&s->lock);
	found = s->sk == sk;
	if (found) {
		*next = s->next;
		*end = s->end;
	}
	spin_unlock_bh(&s->lock);
	return found;
}

void dnsmon_tcp_put(const struct sock *sk, u32 next, u32 end)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(sk);

	spin_lock_bh(&s->lock);
	/* Evicted meanwhile by a socket sharing the slot: it keeps it. */
	if (s->sk == sk) {
		s->next = next;
		s->end = end;
	}
	spin_unlock_bh(&s->lock);
}

void dnsmon_tcp_forget(const struct sock *sk)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(sk);

	spin_lock_bh(&s->lock);
	if (s->sk == sk)
		s->sk = NULL;
	spin_unlock_bh(&s->lock);
}

void dnsmon_tcp_init(void)
{
	unsigned int i;

	for (i = 0; i < DNSMON_TCP_STREAMS; i++) {
		spin_lock_init(&dnsmon_tcp_streams[i].lock);
		dnsmon_tcp_streams[i].sk = NULL;
	}
}
