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

/*
 * The per-CPU scratch: a message read from a packet (a query's first
 * DNSMON_MSG_MAX bytes or a response's first DNS_RESPONSE_READ_MAX), the
 * event being built, a response's records and a CNAME's target.
 */
struct dnsmon_scratch {
	u8 msg[DNS_RESPONSE_READ_MAX];
	struct dnsmon_event ev;
	struct dns_response resp;
	char name[DNS_NAME_TEXT_MAX];
};

/*
 * Where a packet came from and went, for the events of its messages:
 * local is the querying socket's side, remote the server's.
 */
struct dnsmon_origin {
	const struct sk_buff *skb;
	struct net *net;
	unsigned int netns;	/* net's inode number */
	u8 family;
	const void *local;
	const void *remote;
	unsigned int alen;
	u8 proto;
	__be16 lport;
	__be16 rport;
	bool response;		/* from the server: LOCAL_IN */
};

static struct dnsmon_scratch __percpu *dnsmon_scratch;

/* Zero lookup fields, for dnsmon_event_lookup_copy to clear an event's. */
static const struct dnsmon_event dnsmon_no_lookup;

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
 * The reason a name or question the parser could not read gives a
 * malformed event, query or answer; 0 for any other verdict.
 */
static int dnsmon_name_reason(int err)
{
	switch (-err) {
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
	}
	return 0;
}

/*
 * What the parser's verdict means for a message to a watched port: 0 for
 * a query, a DNSMON_R_* reason for a malformed one, or -1 for a message
 * that is no query (counted here) and yields no event.
 */
static int dnsmon_classify(int err)
{
	int reason = dnsmon_name_reason(err);

	if (reason)
		return reason;
	switch (-err) {
	case DNS_EOK:
		return 0;
	case DNS_ESHORT:
		return DNSMON_R_SHORT_HEADER;
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
 * Clears the scratch event's header and lookup fields (what
 * dnsmon_dev_push copies besides the names, which it copies only up to
 * their lengths) and fills in what every event of o has.
 */
static void dnsmon_event_begin(struct dnsmon_event *ev,
			       const struct dnsmon_origin *o,
			       enum dnsmon_event_kind kind)
{
	memset(ev, 0, offsetof(struct dnsmon_event, qname));
	dnsmon_event_lookup_copy(ev, &dnsmon_no_lookup);
	ev->version = DNSMON_EVENT_VERSION;
	ev->size = sizeof(*ev);
	ev->time_ns = ktime_get_real_ns();
	ev->netns = o->netns;
	ev->family = o->family;
	ev->proto = o->proto;
	ev->dport = ntohs(o->rport);
	memcpy(ev->daddr, o->remote, o->alen);
	ev->kind = kind;
	ev->lport = ntohs(o->lport);
	memcpy(ev->laddr, o->local, o->alen);
}

/*
 * What an answer or unanswered event takes from its waiting query: the
 * process that asked, the lookup, and the time since the query left.
 */
static void dnsmon_fill_lookup(struct dnsmon_event *ev,
			       const struct dnsmon_pending *p, u64 now)
{
	ev->flags = p->flags;
	ev->tgid = p->tgid;
	ev->tid = p->tid;
	ev->uid = p->uid;
	memcpy(ev->comm, p->comm, sizeof(ev->comm));
	ev->lookup = p->lookup;
	ev->latency_us = min_t(u64, div_u64(now - p->sent, NSEC_PER_USEC),
			       U32_MAX);
}

/* The key a response to the query of o with id finds it by. */
static void dnsmon_key_of(struct dnsmon_pair_key *k,
			    const struct dnsmon_origin *o, u16 id)
{
	memset(k, 0, sizeof(*k));
	k->family = o->family;
	k->proto = o->proto;
	k->id = id;
	k->lport = o->lport;
	k->rport = o->rport;
	memcpy(k->laddr, o->local, o->alen);
	memcpy(k->raddr, o->remote, o->alen);
}

/*
 * Queues an event for the DNS message msg[0:len] (the first len bytes of
 * one of msglen), and writes its log line when log.  Runs with bottom
 * halves disabled, so the per-CPU scratch is ours.  The scratch event is
 * not cleared between packets: its header is rewritten whole and
 * dnsmon_dev_push copies the name only up to its NUL.  A query sent over
 * UDP waits in its namespace's table for its response.
 */
static void dnsmon_queue(const struct dnsmon_origin *o, unsigned int offset,
			 unsigned int len, bool log)
{
	struct dnsmon_scratch *s = this_cpu_ptr(dnsmon_scratch);
	struct dnsmon_event *ev = &s->ev;
	struct dns_query q = { 0 };
	struct dnsmon_pair_key k;
	const u8 *msg;
	int reason;
	u64 seq;

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

	dnsmon_event_begin(ev, o, DNSMON_K_QUERY);
	ev->dns_id = q.id;
	ev->qtype = q.qtype;
	ev->qclass = q.qclass;
	ev->qname_len = q.name_len;
	if (reason > 0) {
		ev->flags |= DNSMON_F_MALFORMED;
		ev->reason = reason;
	}
	dnsmon_fill_sender(ev, o->skb, o->net);

	seq = dnsmon_dev_push(ev);
	if (log)
		dnsmon_log(ev);
	if (reason == 0) {
		dnsmon_key_of(&k, o, q.id);
		dnsmon_pairs_add(dnsmon_net_pairs(o->net), &k, ev, seq);
	}
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

/* What a response's parse error makes of its answer event. */
static int dnsmon_response_reason(int err)
{
	int reason = dnsmon_name_reason(err);

	return reason ? reason : DNSMON_R_BAD_RECORD;
}

/*
 * Copies the records the parser read into ev: addresses as they are,
 * CNAME targets decoded into names while they fit.
 */
static void dnsmon_fill_answers(struct dnsmon_event *ev, const u8 *msg,
				unsigned int len, const struct dns_response *r,
				char *name)
{
	unsigned int i;
	int n;

	for (i = 0; i < r->nanswers && i < DNSMON_ANSWERS_MAX; i++) {
		const struct dns_answer *a = &r->an[i];
		struct dnsmon_answer *out = &ev->answers[i];

		out->type = a->type;
		out->rdlength = a->rdlength;
		out->ttl = a->ttl;
		switch (a->type) {
		case DNS_TYPE_A:
		case DNS_TYPE_AAAA:
			/* The parser checked the length: 4 or 16. */
			memcpy(out->data.addr, msg + a->rdata,
			       min_t(unsigned int, a->rdlength,
				     sizeof(out->data.addr)));
			break;
		case DNS_TYPE_CNAME:
			n = dnsmon_decode_name(msg, len, a->rdata, name,
					       DNS_NAME_TEXT_MAX);
			if (n < 0)
				break;
			if (n > DNSMON_NAMES_MAX - ev->names_len) {
				ev->cut |= DNSMON_CUT_NAMES;
				break;
			}
			memcpy(ev->names + ev->names_len, name, n);
			out->data.name.off = ev->names_len;
			out->data.name.len = n;
			ev->names_len += n;
			break;
		}
	}
	ev->nanswers = i;
}

/*
 * A response of msglen bytes at offset in the packet, len of them there,
 * from a watched port to a local socket.  A response that pairs with a
 * query waiting in its namespace's table becomes an answer event carrying
 * the query's process; one that pairs with none is only counted, and
 * costs no more than reading its header.  Bottom halves are off while the
 * scratch is in use: LOCAL_IN may run in process context.
 */
static void dnsmon_answer(const struct dnsmon_origin *o, unsigned int offset,
			  unsigned int len, unsigned int msglen)
{
	const struct sk_buff *skb = o->skb;
	u8 _hdr[DNS_HEADER_LEN];
	const u8 *hdr, *msg;
	struct dnsmon_pair_key k;
	struct dnsmon_pending p;
	struct dnsmon_scratch *s;
	struct dnsmon_event *ev;
	u64 now;
	int err, n;

	if (len < sizeof(_hdr))
		return;
	len = min_t(unsigned int, len, DNS_RESPONSE_READ_MAX);
	hdr = skb_header_pointer(skb, offset, sizeof(_hdr), _hdr);
	if (!hdr || !(hdr[DNS_OFF_FLAGS] & (DNS_FLAG_QR >> 8)))
		return;
	dnsmon_key_of(&k, o, hdr[0] << 8 | hdr[1]);
	if (!dnsmon_pairs_take(dnsmon_net_pairs(o->net), &k, &p)) {
		dnsmon_dev_count(DNSMON_C_UNPAIRED);
		return;
	}
	dnsmon_dev_count(DNSMON_C_ANSWERS);
	/* Nobody reads: the answer could only be counted as dropped. */
	if (dnsmon_dev_full()) {
		dnsmon_dev_push(NULL);
		return;
	}
	now = ktime_get_ns();

	local_bh_disable();
	s = this_cpu_ptr(dnsmon_scratch);
	ev = &s->ev;
	msg = skb_header_pointer(skb, offset, len, s->msg);
	if (!msg)
		goto out;
	err = dnsmon_parse_response(msg, len, max(len, msglen), &s->resp);

	dnsmon_event_begin(ev, o, DNSMON_K_ANSWER);
	dnsmon_fill_lookup(ev, &p, now);
	ev->dns_id = k.id;
	ev->dns_flags = hdr[DNS_OFF_FLAGS] << 8 | hdr[DNS_OFF_FLAGS + 1];
	ev->ancount = hdr[DNS_OFF_ANCOUNT] << 8 | hdr[DNS_OFF_ANCOUNT + 1];
	ev->qtype = s->resp.qtype;
	ev->qclass = s->resp.qclass;
	n = 0;
	if (hdr[DNS_OFF_QDCOUNT] | hdr[DNS_OFF_QDCOUNT + 1])
		n = dnsmon_decode_name(msg, len, DNS_HEADER_LEN, ev->qname,
				       sizeof(ev->qname));
	/* A name that does not decode leaves garbage behind. */
	if (n > 0)
		ev->qname_len = n;
	else
		ev->qname[0] = '\0';
	if (err) {
		ev->flags |= DNSMON_F_MALFORMED;
		ev->reason = dnsmon_response_reason(err);
	}
	if (s->resp.cut)
		ev->cut |= DNSMON_CUT_RECORDS;
	dnsmon_fill_answers(ev, msg, len, &s->resp, s->name);
	dnsmon_dev_push(ev);
out:
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
		if (seg_end - b - DNSMON_TCP_LEN_PREFIX < msglen)
			dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		else if (o->response)
			dnsmon_answer(o, at + DNSMON_TCP_LEN_PREFIX, msglen,
				      msglen);
		else
			dnsmon_report(o, at + DNSMON_TCP_LEN_PREFIX, msglen);
		b += DNSMON_TCP_LEN_PREFIX + msglen;
	}
	*next = b;
	return true;
}

/*
 * The stream a TCP segment belongs to: the socket that sends it, or the
 * namespace and connection that receive it.  False for a segment sent by
 * something other than a TCP socket (a raw socket writing its own
 * segments), which has no stream to follow.
 */
static bool dnsmon_stream_of(struct dnsmon_stream_key *k,
			     const struct dnsmon_origin *o)
{
	memset(k, 0, sizeof(*k));
	if (o->response) {
		k->owner = o->net;
		dnsmon_key_of(&k->tuple, o, 0);
		return true;
	}
	k->owner = dnsmon_tcp_sock(o->skb);
	return k->owner != NULL;
}

/*
 * A TCP segment to (queries) or from (responses) a watched port.  The
 * stream's SYN starts following it; data is split into messages where the
 * stream says they begin.  A segment with no stream is taken to start at
 * a message, which is what its sender made it.
 */
static void dnsmon_tcp_segment(const struct dnsmon_origin *o,
			       const struct dnsmon_packet *pkt)
{
	struct dnsmon_stream_key k;
	u32 seg_end = pkt->seq + pkt->len;
	u32 next, end;

	if (!dnsmon_stream_of(&k, o)) {
		next = pkt->seq;
		if (!dnsmon_tcp_messages(o, pkt, &next))
			dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	if (pkt->syn)
		dnsmon_tcp_begin(&k, pkt->seq);
	if (pkt->len == 0)
		return;
	if (!dnsmon_tcp_get(&k, &next, &end)) {
		dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	/* Nothing new: a retransmit, already reported when first sent. */
	if (!after(seg_end, end))
		return;
	/* Bytes the stream skipped: where messages begin is lost. */
	if (after(pkt->seq, end)) {
		dnsmon_tcp_forget(&k);
		dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	/*
	 * The new bytes start at end.  A head sent before (seq before end)
	 * is passed over: next, the first boundary not yet read, is never
	 * before end.
	 */
	if (!dnsmon_tcp_messages(o, pkt, &next)) {
		dnsmon_tcp_forget(&k);
		dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	dnsmon_tcp_put(&k, next, seg_end);
}

void dnsmon_packet(struct sk_buff *skb, struct net *net, u8 family,
		   const void *local, const void *remote, unsigned int alen,
		   const struct dnsmon_packet *pkt, bool response)
{
	struct dnsmon_origin o = {
		.skb = skb,
		.net = net,
		.netns = dnsmon_net_inum(net),
		.family = family,
		.local = local,
		.remote = remote,
		.alen = alen,
		.proto = pkt->proto,
		.lport = response ? pkt->dport : pkt->sport,
		.rport = response ? pkt->sport : pkt->dport,
		.response = response,
	};

	if (pkt->proto == IPPROTO_TCP)
		dnsmon_tcp_segment(&o, pkt);
	else if (response)
		dnsmon_answer(&o, pkt->offset, pkt->len, pkt->msglen);
	else
		dnsmon_report(&o, pkt->offset, pkt->len);
}

void dnsmon_report_unanswered(const struct dnsmon_pairs *t,
			      const struct dnsmon_pending *p, u64 now)
{
	struct dnsmon_event *ev = &this_cpu_ptr(dnsmon_scratch)->ev;
	const struct dnsmon_pair_key *k = &p->key;
	const struct dnsmon_origin o = {
		.netns = t->netns,
		.family = k->family,
		.local = k->laddr,
		.remote = k->raddr,
		.alen = k->family == AF_INET ? DNSMON_IPV4_ADDR_LEN :
					       sizeof(k->laddr),
		.proto = k->proto,
		.lport = k->lport,
		.rport = k->rport,
	};

	dnsmon_event_begin(ev, &o, DNSMON_K_UNANSWERED);
	dnsmon_fill_lookup(ev, p, now);
	ev->dns_id = k->id;
	ev->qtype = p->qtype;
	ev->qclass = p->qclass;
	ev->qname[0] = '\0';
	dnsmon_dev_push(ev);
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
