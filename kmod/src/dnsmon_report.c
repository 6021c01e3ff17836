// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_report.c - the messages of a packet the hooks found for a watched
 * port, made into events and counters.
 *
 * Every message to a watched port yields an event or a counter: a query
 * whose question parses becomes a query event; one whose question does not
 * parse (or that is too short to hold a header) a DNSMON_F_MALFORMED
 * event, since tunnels and malware craft exactly such messages; responses,
 * other opcodes and messages without a question are counted.  TCP
 * segments are split into messages by following each stream
 * (dnsmon_tcp.c).
 *
 * The sender.  LOCAL_OUT runs for locally generated packets, normally in the context of
 * the task whose send call produced them, so `current` is the sender.  It
 * is not when the packet leaves from softirq context (TCP retransmits,
 * TCP data released by an incoming ACK, TCP small-queue tasklets, IPsec
 * resumption) or carries no socket of its own.  The rule, cheap and
 * without false names:
 *
 *   the sender is current  iff  in_task() (not hard or soft interrupt
 *   context) and skb->sk is a full socket still attached to a struct
 *   socket (not a request or time-wait sock, not an orphan).
 *
 * Otherwise the event carries DNSMON_F_PROC_UNKNOWN with tgid, tid and
 * comm zeroed, and uid is the uid that created the socket when there is
 * a full socket (the overflow uid, 65534, when there is none).  A task
 * sending on a socket it shares (fork, SCM_RIGHTS, io_uring workers) is
 * the sender and is named.
 */
#include <linux/cred.h>
#include <linux/in.h>
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/uidgid.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "dns_parse.h"
#include "dnsmon.h"

/*
 * Bytes of DNS message read from a packet: the header and a question of
 * the longest name fit with room to spare.  A compression pointer in the
 * question that aims past this is treated as pointing past the end.
 */
#define DNSMON_MSG_MAX		512
/* DNS over TCP prefixes each message with its length (RFC 1035 4.2.2). */
#define DNSMON_TCP_LEN_PREFIX	2
/*
 * Messages taken from one TCP segment.  A GSO segment of 64 KiB could
 * carry more; past this the stream is no longer followed and the rest is
 * counted as unparsed, which bounds the work one segment costs.
 */
#define DNSMON_TCP_MSGS_MAX	256
/* The DNS message id: the header's first two bytes. */
#define DNS_ID_LEN		2

struct dnsmon_scratch {
	u8 msg[DNSMON_MSG_MAX];
	struct dnsmon_event ev;
};

/* Where a packet came from and went, for the events of its messages. */
struct dnsmon_origin {
	const struct sk_buff *skb;
	struct net *net;
	u8 family;
	const void *daddr;
	unsigned int alen;
	u8 proto;
	__be16 dport;
};

static struct dnsmon_scratch __percpu *dnsmon_scratch;

static bool dnsmon_sender_is_current(const struct sk_buff *skb)
{
	const struct sock *sk = skb->sk;

	return in_task() && sk && sk_fullsock(sk) && sk->sk_socket;
}

static void dnsmon_fill_sender(struct dnsmon_event *ev,
			       const struct sk_buff *skb, struct net *net)
{
	const struct sock *sk = skb->sk;

	if (dnsmon_sender_is_current(skb)) {
		ev->tgid = task_tgid_nr(current);
		ev->tid = task_pid_nr(current);
		ev->uid = from_kuid_munged(&init_user_ns, current_uid());
		get_task_comm(ev->comm, current);
		return;
	}
	ev->flags |= DNSMON_F_PROC_UNKNOWN;
	if (sk && sk_fullsock(sk))
		ev->uid = from_kuid_munged(&init_user_ns,
					   sock_net_uid(net, sk));
	else
		ev->uid = from_kuid_munged(&init_user_ns, INVALID_UID);
}

/*
 * What the parser's verdict means for a message to a watched port: 0 for
 * a query, a DNSMON_R_* reason for a malformed one, or -1 for a message
 * that is no query (counted here) and yields no event.
 */
static int dnsmon_classify(int err)
{
	switch (-err) {
	case DNS_EOK:
		return 0;
	case DNS_ESHORT:
		return DNSMON_R_SHORT_HEADER;
	case DNS_ETRUNCATED:
		return DNSMON_R_LABEL_PAST_END;
	case DNS_EQUESTION:
		return DNSMON_R_QUESTION_PAST_END;
	case DNS_ERESERVED:
		return DNSMON_R_BAD_LABEL_TYPE;
	case DNS_ETOOLONG:
		return DNSMON_R_NAME_TOO_LONG;
	case DNS_EPOINTERS:
		return DNSMON_R_POINTER_LOOP;
	case DNS_ERESPONSE:
		dnsmon_dev_count(DNSMON_C_RESPONSES);
		return -1;
	case DNS_EOPCODE:
		dnsmon_dev_count(DNSMON_C_OTHER_OPCODES);
		return -1;
	case DNS_ENOQUESTION:
		dnsmon_dev_count(DNSMON_C_NO_QUESTION);
		return -1;
	}
	/* DNS_EBUFFER: the buffers here are always large enough. */
	WARN_ON_ONCE(1);
	return -1;
}

/*
 * Queues an event for the DNS message msg[0:len] (the first len bytes of
 * one of msglen), and writes its log line when log.  Runs with bottom
 * halves disabled, so the per-CPU scratch is ours.  The scratch event is
 * not cleared between packets: its header is rewritten whole and
 * dnsmon_dev_push copies the name only up to its NUL.
 */
static void dnsmon_queue(const struct dnsmon_origin *o, unsigned int offset,
			 unsigned int len, bool log)
{
	struct dnsmon_scratch *s = this_cpu_ptr(dnsmon_scratch);
	struct dnsmon_event *ev = &s->ev;
	struct dns_query q = { 0 };
	const u8 *msg;
	int reason;

	msg = skb_header_pointer(o->skb, offset, len, s->msg);
	if (!msg)
		return;
	reason = dnsmon_classify(dnsmon_parse_query(msg, len, &q, ev->qname,
						    sizeof(ev->qname)));
	if (reason < 0)
		return;
	if (reason > 0) {
		unsigned int from = len < DNS_HEADER_LEN ? 0 : DNS_HEADER_LEN;

		dnsmon_dev_count(DNSMON_C_MALFORMED);
		q.id = len >= DNS_ID_LEN ? (msg[0] << 8 | msg[1]) : 0;
		q.name_len = dnsmon_escape_bytes(msg + from,
					min_t(unsigned int, len - from,
					      DNSMON_MALFORMED_BYTES),
					ev->qname, sizeof(ev->qname));
	}
	if (!log)
		log = dnsmon_log_due();

	memset(ev, 0, offsetof(struct dnsmon_event, qname));
	ev->version = DNSMON_EVENT_VERSION;
	ev->size = sizeof(*ev);
	ev->time_ns = ktime_get_real_ns();
	ev->netns = dnsmon_net_inum(o->net);
	ev->family = o->family;
	ev->proto = o->proto;
	ev->dport = ntohs(o->dport);
	ev->dns_id = q.id;
	ev->qtype = q.qtype;
	ev->qclass = q.qclass;
	ev->qname_len = q.name_len;
	if (reason > 0) {
		ev->flags |= DNSMON_F_MALFORMED;
		ev->reason = reason;
	}
	memcpy(ev->daddr, o->daddr, o->alen);
	dnsmon_fill_sender(ev, o->skb, o->net);

	dnsmon_dev_push(ev);
	if (log)
		dnsmon_log(ev);
}

/*
 * Reports the DNS message of msglen bytes at offset in the packet.
 *
 * While nobody reads, the ring stays full and a query could only be
 * counted as dropped.  Then a message that lies in the linear area, as
 * queries the stack builds do, is checked in place without decoding its
 * name, and neither the scratch nor an event is touched unless a log line
 * is due.  A reader that frees room meanwhile costs that one query, which
 * is counted like any other drop.
 */
static void dnsmon_report(const struct dnsmon_origin *o, unsigned int offset,
			  unsigned int msglen)
{
	unsigned int len = min_t(unsigned int, msglen, DNSMON_MSG_MAX);
	struct dns_query q;
	bool log = false;
	int reason;

	if (dnsmon_dev_full() && offset + len <= skb_headlen(o->skb)) {
		reason = dnsmon_classify(dnsmon_parse_query(
				o->skb->data + offset, len, &q, NULL, 0));
		if (reason < 0)
			return;
		log = dnsmon_log_due();
		if (!log) {
			if (reason > 0)
				dnsmon_dev_count(DNSMON_C_MALFORMED);
			dnsmon_dev_push(NULL);
			return;
		}
	}
	local_bh_disable();
	dnsmon_queue(o, offset, len, log);
	local_bh_enable();
}

/* The TCP socket that sent skb, if a TCP socket sent it. */
static const struct sock *dnsmon_tcp_sock(const struct sk_buff *skb)
{
	const struct sock *sk = skb->sk;

	if (!sk || !sk_fullsock(sk) || sk->sk_type != SOCK_STREAM ||
	    sk->sk_protocol != IPPROTO_TCP)
		return NULL;
	return sk;
}

/*
 * Reports the messages that begin in a TCP segment's new bytes.  b walks
 * the message boundaries (sequence numbers) from *next; a message that
 * ends past the segment is counted as unparsed, and its remaining bytes
 * are skipped when they come.  Sets *next to the first boundary after the
 * segment and returns true, or returns false when the stream can no
 * longer be followed (a length prefix split between segments, more than
 * DNSMON_TCP_MSGS_MAX messages).
 */
static bool dnsmon_tcp_messages(const struct dnsmon_origin *o,
				const struct dnsmon_packet *pkt, u32 *next)
{
	u32 seg_end = pkt->seq + pkt->len;
	u32 b = *next;
	unsigned int n;

	for (n = 0; before(b, seg_end); n++) {
		unsigned int at = pkt->offset + (b - pkt->seq);
		__be16 _prefix;
		const __be16 *prefix;
		unsigned int msglen;

		if (n == DNSMON_TCP_MSGS_MAX ||
		    seg_end - b < DNSMON_TCP_LEN_PREFIX)
			return false;
		prefix = skb_header_pointer(o->skb, at, sizeof(_prefix),
					    &_prefix);
		if (!prefix)
			return false;
		msglen = ntohs(*prefix);
		if (seg_end - b - DNSMON_TCP_LEN_PREFIX >= msglen)
			dnsmon_report(o, at + DNSMON_TCP_LEN_PREFIX, msglen);
		else
			dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		b += DNSMON_TCP_LEN_PREFIX + msglen;
	}
	*next = b;
	return true;
}

/*
 * A TCP segment to a watched port.  A socket's SYN starts following its
 * stream; data is split into messages where the stream says they begin.
 * A segment sent by something other than a TCP socket (a raw socket
 * writing its own segments) has no stream to follow: its payload is taken
 * to start at a message, which is what its sender made it.
 */
static void dnsmon_tcp_segment(const struct dnsmon_origin *o,
			       const struct dnsmon_packet *pkt)
{
	const struct sock *sk = dnsmon_tcp_sock(o->skb);
	u32 seg_end = pkt->seq + pkt->len;
	u32 next, end;

	if (!sk) {
		next = pkt->seq;
		if (!dnsmon_tcp_messages(o, pkt, &next))
			dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	if (pkt->syn)
		dnsmon_tcp_begin(sk, pkt->seq);
	if (pkt->len == 0)
		return;
	if (!dnsmon_tcp_get(sk, &next, &end)) {
		dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	/* Nothing new: a retransmit, already reported when first sent. */
	if (!after(seg_end, end))
		return;
	/* Bytes the stream skipped: where messages begin is lost. */
	if (after(pkt->seq, end)) {
		dnsmon_tcp_forget(sk);
		dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	/*
	 * The new bytes start at end.  A head sent before (seq before end)
	 * is passed over: next, the first boundary not yet read, is never
	 * before end.
	 */
	if (!dnsmon_tcp_messages(o, pkt, &next)) {
		dnsmon_tcp_forget(sk);
		dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	dnsmon_tcp_put(sk, next, seg_end);
}

void dnsmon_packet(struct sk_buff *skb, struct net *net, u8 family,
		   const void *daddr, unsigned int alen,
		   const struct dnsmon_packet *pkt)
{
	struct dnsmon_origin o = {
		.skb = skb,
		.net = net,
		.family = family,
		.daddr = daddr,
		.alen = alen,
		.proto = pkt->proto,
		.dport = pkt->dport,
	};

	if (pkt->proto == IPPROTO_TCP)
		dnsmon_tcp_segment(&o, pkt);
	else
		dnsmon_report(&o, pkt->offset, pkt->len);
}

int dnsmon_report_init(void)
{
	dnsmon_scratch = alloc_percpu(struct dnsmon_scratch);
	return dnsmon_scratch ? 0 : -ENOMEM;
}

void dnsmon_report_exit(void)
{
	free_percpu(dnsmon_scratch);
	dnsmon_scratch = NULL;
}
