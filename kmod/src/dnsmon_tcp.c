// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_tcp.c - where the DNS messages of each TCP stream begin.
 *
 * Over TCP each message is a 2-byte length and the message (RFC 1035
 * 4.2.2), written into a byte stream: a segment may carry several messages
 * (glibc writes A and AAAA in one writev; RFC 7766 pipelines), part of
 * one, or both, and may be sent again.  Only a reader that followed the
 * stream from its first byte knows where the next message begins, so the
 * hooks record, per stream, the sequence number of the next message
 * (next) and the one after the last byte they saw (end).  A stream sent
 * to a watched port (queries) is known by its socket; one received from a
 * watched port (responses) by its namespace and connection, since at
 * LOCAL_IN the packet has no socket yet:
 *
 *   - the SYN a connecting socket sends, or the SYN-ACK its server sends
 *     back, starts the record: its data, and so its first message, begin
 *     at ISN + 1;
 *   - a segment that starts at end carries new bytes; one that ends at or
 *     before end is a retransmit and is not parsed again;
 *   - a stream without a record (connected before the module was loaded,
 *     or evicted by another stream that hashed to its slot) cannot be
 *     followed: its segments are counted as unparsed.
 *
 * The table is a fixed array indexed by a hash of the key; a socket or a
 * namespace is a key, never dereferenced.  A freed socket's address may
 * be reused, but a stream starts with its SYN, which overwrites whatever
 * the slot held.  The segments of one socket leave under its lock, one at
 * a time, so a record is read and written back around the parsing without
 * its slot's lock held; a slot lock only keeps two streams that share a
 * slot from tearing it.  The segments of a received stream are normally
 * handled on one CPU (one receive queue per flow); should two run at once,
 * a message may be reported twice or not at all, never read out of
 * bounds.
 */
#include <linux/jhash.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "dnsmon.h"

/* Streams followed at once; a power of two. */
#define DNSMON_TCP_STREAMS_BITS	10
#define DNSMON_TCP_STREAMS	(1U << DNSMON_TCP_STREAMS_BITS)

struct dnsmon_tcp_stream {
	spinlock_t lock;		/* key, next, end */
	struct dnsmon_stream_key key;	/* owner NULL: a free slot */
	u32 next;			/* where the next message begins */
	u32 end;			/* after the last byte seen */
};

static struct dnsmon_tcp_stream dnsmon_tcp_streams[DNSMON_TCP_STREAMS];

static struct dnsmon_tcp_stream *
dnsmon_tcp_slot(const struct dnsmon_stream_key *k)
{
	return &dnsmon_tcp_streams[jhash(k, sizeof(*k), 0) &
				   (DNSMON_TCP_STREAMS - 1)];
}

static bool dnsmon_tcp_is(const struct dnsmon_tcp_stream *s,
			  const struct dnsmon_stream_key *k)
{
	return !memcmp(&s->key, k, sizeof(*k));
}

void dnsmon_tcp_begin(const struct dnsmon_stream_key *k, u32 data_seq)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(k);

	spin_lock_bh(&s->lock);
	s->key = *k;
	s->next = data_seq;
	s->end = data_seq;
	spin_unlock_bh(&s->lock);
}

bool dnsmon_tcp_get(const struct dnsmon_stream_key *k, u32 *next, u32 *end)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(k);
	bool found;

	spin_lock_bh(&s->lock);
	found = dnsmon_tcp_is(s, k);
	if (found) {
		*next = s->next;
		*end = s->end;
	}
	spin_unlock_bh(&s->lock);
	return found;
}

void dnsmon_tcp_put(const struct dnsmon_stream_key *k, u32 next, u32 end)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(k);

	spin_lock_bh(&s->lock);
	/* Evicted meanwhile by a stream sharing the slot: it keeps it. */
	if (dnsmon_tcp_is(s, k)) {
		s->next = next;
		s->end = end;
	}
	spin_unlock_bh(&s->lock);
}

void dnsmon_tcp_forget(const struct dnsmon_stream_key *k)
{
	struct dnsmon_tcp_stream *s = dnsmon_tcp_slot(k);

	spin_lock_bh(&s->lock);
	if (dnsmon_tcp_is(s, k))
		memset(&s->key, 0, sizeof(s->key));
	spin_unlock_bh(&s->lock);
}

void dnsmon_tcp_init(void)
{
	unsigned int i;

	for (i = 0; i < DNSMON_TCP_STREAMS; i++) {
		spin_lock_init(&dnsmon_tcp_streams[i].lock);
		memset(&dnsmon_tcp_streams[i].key, 0,
		       sizeof(dnsmon_tcp_streams[i].key));
	}
}
