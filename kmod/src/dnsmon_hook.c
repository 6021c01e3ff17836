// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_hook.c - NF_INET_LOCAL_OUT hooks for IPv4 and IPv6 that turn DNS
 * queries into events.
 *
 * LOCAL_OUT runs for locally generated packets, normally in the context of
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
 * a full socket (the overflow uid, 65534, when there is none).  A task sending on a socket
 * it shares (fork, SCM_RIGHTS, io_uring workers) is the sender and is
 * named.
 *
 * The hooks run first (NF_IP_PRI_FIRST), before NAT rewrites the
 * destination and before any NFQUEUE verdict can reinject the packet from
 * another task's context.
 *
 * Every message to a watched port yields an event or a counter: a query
 * whose question parses becomes a query event; one whose question does not
 * parse (or that is too short to hold a header) a DNSMON_F_MALFORMED
 * event, since tunnels and malware craft exactly such messages; responses,
 * other opcodes and messages without a question are counted.  TCP
 * segments are split into messages by following each stream
 * (dnsmon_tcp.c).
 *
 * Every packet of the family passes here, so the common case leaves after
 * a protocol and port check on the headers in place (the *_maybe_dns fast
 * path); the DNS payload is read only for a configured port.  Past the
 * fast path reads go through skb_header_pointer, which copies from
 * non-linear skbs into a stack or per-CPU scratch buffer, except that
 * while the ring is full a message in the linear area is checked in place.
 */
#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/uidgid.h>
#include <net/ip.h>
#include <net/ipv6.h>
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
/* The fragment-offset bits of an IPv6 fragment header's frag_off. */
#define DNSMON_IPV6_FRAG_OFFSET	0xfff8
#define DNSMON_IPV4_ADDR_LEN	4
/* UDP and TCP headers both open with the source and destination ports. */
#define DNSMON_L4_PORTS_LEN	4
#define DNSMON_IPV6_ADDR_LEN	16
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

/*
 * Where the payload sits in a packet that passed the cheap checks: one
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

static const struct dnsmon_config *dnsmon_cfg;
static __be16 dnsmon_ports_be[DNSMON_PORTS_MAX] __read_mostly;
static unsigned int dnsmon_nports __read_mostly;
static struct dnsmon_scratch __percpu *dnsmon_scratch;

/*
 * The kernel log's rate limit: DNSMON_LOG_BURST lines per
 * DNSMON_LOG_INTERVAL, as printk_ratelimit allows.  Not __ratelimit: it
 * takes its lock, with interrupts off, on every call, and once the burst
 * is spent that is every query the host sends.  Here a spent window is one
 * lockless compare against quiet_until, and the lock is taken only when a
 * line may be due.  The queries not logged are counted and reported by
 * the next line.
 */
#define DNSMON_LOG_INTERVAL	(5 * HZ)
#define DNSMON_LOG_BURST	10

struct dnsmon_log_limit {
	raw_spinlock_t lock;		/* begin, printed, quiet_until */
	unsigned long begin;		/* jiffies the window opened */
	unsigned int printed;		/* lines in the window */
	unsigned long quiet_until;	/* no line is due before; read unlocked */
	atomic_t missed;		/* queries not logged since the last line */
};

static struct dnsmon_log_limit dnsmon_log_limit = {
	.lock = __RAW_SPIN_LOCK_UNLOCKED(dnsmon_log_limit.lock),
};

static bool dnsmon_port_watched(__be16 port)
{
	unsigned int i;

	for (i = 0; i < dnsmon_nports; i++)
		if (dnsmon_ports_be[i] == port)
			return true;
	return false;
}

/*
 * Finds the payload behind the transport header at thoff.  Returns false
 * for anything that is not a UDP datagram to a watched port, or a TCP
 * segment to one that opens a connection or carries data.
 */
static bool dnsmon_l4(const struct sk_buff *skb, unsigned int thoff,
		      u8 proto, struct dnsmon_packet *pkt)
{
	unsigned int end = skb->len;

	if (thoff >= end)
		return false;
	pkt->proto = proto;
	pkt->seq = 0;
	pkt->syn = false;

	if (proto == IPPROTO_UDP) {
		struct udphdr _uh;
		const struct udphdr *uh;
		unsigned int ulen;

		uh = skb_header_pointer(skb, thoff, sizeof(_uh), &_uh);
		if (!uh || !dnsmon_port_watched(uh->dest))
			return false;
		ulen = ntohs(uh->len);
		if (ulen < sizeof(*uh))
			return false;
		if (ulen < end - thoff)
			end = thoff + ulen;
		pkt->dport = uh->dest;
		pkt->offset = thoff + sizeof(*uh);
		if (pkt->offset > end)
			return false;
		pkt->len = end - pkt->offset;
		return true;
	}

	if (proto == IPPROTO_TCP) {
		struct tcphdr _th;
		const struct tcphdr *th;
		unsigned int doff;

		th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
		if (!th || !dnsmon_port_watched(th->dest))
			return false;
		doff = th->doff * 4;
		if (doff < sizeof(*th) || doff > end - thoff)
			return false;
		pkt->dport = th->dest;
		pkt->offset = thoff + doff;
		pkt->len = end - pkt->offset;
		pkt->seq = ntohl(th->seq);
		pkt->syn = th->syn;
		/* The SYN consumes one sequence number before any data. */
		if (pkt->syn)
			pkt->seq++;
		/* No payload and no SYN: ACKs, FIN, RST. */
		return pkt->syn || pkt->len > 0;
	}
	return false;
}

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

/* The names of enum dnsmon_malformed_reason, as dnsmon-watch prints them. */
static const char *const dnsmon_reason_names[] = {
	[DNSMON_R_NONE] = "none",
	[DNSMON_R_SHORT_HEADER] = "short-header",
	[DNSMON_R_LABEL_PAST_END] = "label-past-end",
	[DNSMON_R_QUESTION_PAST_END] = "question-past-end",
	[DNSMON_R_BAD_LABEL_TYPE] = "bad-label-type",
	[DNSMON_R_NAME_TOO_LONG] = "name-too-long",
	[DNSMON_R_POINTER_LOOP] = "pointer-loop",
};

/*
 * The log line, with comm made printable: it is any 15 bytes a task chose.
 * The name (or a malformed message's bytes) is escaped already.  The
 * caller has consulted the rate limit.
 */
static void dnsmon_log(const struct dnsmon_event *ev)
{
	char comm[DNSMON_COMM_LEN];
	const char *what = "DNS Query for";
	char reason[sizeof("Malformed DNS query (question-past-end):")];
	unsigned int i, missed;

	missed = atomic_xchg(&dnsmon_log_limit.missed, 0);
	if (missed)
		pr_info("%u queries not logged (rate limit)\n", missed);
	if (ev->flags & DNSMON_F_MALFORMED) {
		snprintf(reason, sizeof(reason), "Malformed DNS query (%s):",
			 ev->reason < ARRAY_SIZE(dnsmon_reason_names) ?
			 dnsmon_reason_names[ev->reason] : "?");
		what = reason;
	}
	if (ev->flags & DNSMON_F_PROC_UNKNOWN) {
		pr_info("%s %s from PID 0 (unknown)\n", what, ev->qname);
		return;
	}
	for (i = 0; i < sizeof(comm) - 1 && ev->comm[i]; i++)
		comm[i] = (ev->comm[i] >= ' ' && ev->comm[i] <= '~') ?
			  ev->comm[i] : '?';
	comm[i] = '\0';
	pr_info("%s %s from PID %u (%s)\n", what, ev->qname, ev->tgid, comm);
}

static void dnsmon_log_limit_init(struct dnsmon_log_limit *l)
{
	l->begin = jiffies;
	l->printed = 0;
	l->quiet_until = l->begin;
	atomic_set(&l->missed, 0);
}

/* Whether this query gets a kernel log line: log=1 and within the rate. */
static bool dnsmon_log_due(void)
{
	struct dnsmon_log_limit *l = &dnsmon_log_limit;
	unsigned long flags, now = jiffies;
	bool due = false;

	if (!READ_ONCE(dnsmon_cfg->log))
		return false;
	if (time_before(now, READ_ONCE(l->quiet_until)))
		goto missed;
	/* Contended: another CPU is deciding; like __ratelimit, skip. */
	if (!raw_spin_trylock_irqsave(&l->lock, flags))
		goto missed;
	if (time_after_eq(now, l->begin + DNSMON_LOG_INTERVAL)) {
		l->begin = now;
		l->printed = 0;
	}
	if (l->printed < DNSMON_LOG_BURST) {
		l->printed++;
		due = true;
	} else {
		WRITE_ONCE(l->quiet_until, l->begin + DNSMON_LOG_INTERVAL);
	}
	raw_spin_unlock_irqrestore(&l->lock, flags);
	if (due)
		return true;
missed:
	atomic_inc(&l->missed);
	return false;
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
 * the message boundaries (sequence numbers) from the stream's next one;
 * a message that ends past the segment is counted as unparsed, and its
 * remaining bytes are skipped when they come.  Returns the boundary after
 * the segment, or false when the stream can no longer be followed (a
 * length prefix split between segments, too many messages).
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
	 * New bytes from end on; a retransmitted head (seq before end) holds
	 * no boundary at or after next, which is never before end.
	 */
	if (!dnsmon_tcp_messages(o, pkt, &next)) {
		dnsmon_tcp_forget(sk);
		dnsmon_dev_count(DNSMON_C_TCP_UNPARSED);
		return;
	}
	dnsmon_tcp_put(sk, next, seg_end);
}

/* The messages of a packet that passed the cheap checks. */
static void dnsmon_packet(struct sk_buff *skb, struct net *net, u8 family,
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

/*
 * The fast path, for every packet the host sends: at LOCAL_OUT the stack
 * has built the network and transport headers in the linear area, so the
 * protocol and destination port are read in place, with no copy, no stack
 * buffer and so no stack canary.  The *_maybe_dns functions return false
 * for a packet that cannot be a query to a watched port; true hands it to
 * the careful checks of dnsmon_ipv4 and dnsmon_ipv6, which also take
 * headers that are not linear.  A non-first fragment or a bogus header
 * length may pass here on payload bytes that look like a watched port;
 * the careful checks reject it.
 */

/* The network header when its first len bytes are in the linear area. */
static const void *dnsmon_linear_nh(const struct sk_buff *skb,
				    unsigned int len)
{
	int nhoff = skb_network_offset(skb);

	if (nhoff < 0 || skb_headlen(skb) < nhoff + len)
		return NULL;
	return skb->data + nhoff;
}

/* Whether the transport header at thoff may go to a watched port. */
static bool dnsmon_dport_maybe_watched(const struct sk_buff *skb,
				       unsigned int thoff)
{
	const struct udphdr *uh;

	if (skb_headlen(skb) < thoff + DNSMON_L4_PORTS_LEN)
		return true;
	uh = (const struct udphdr *)(skb->data + thoff);
	return dnsmon_port_watched(uh->dest);
}

static bool dnsmon_ipv4_maybe_dns(const struct sk_buff *skb)
{
	const struct iphdr *iph = dnsmon_linear_nh(skb, sizeof(*iph));

	if (!iph)
		return true;
	if (iph->protocol != IPPROTO_UDP && iph->protocol != IPPROTO_TCP)
		return false;
	return dnsmon_dport_maybe_watched(skb, skb_network_offset(skb) +
					  iph->ihl * 4);
}

/* Extension headers go to the careful path. */
static bool dnsmon_ipv6_maybe_dns(const struct sk_buff *skb)
{
	const struct ipv6hdr *ip6h = dnsmon_linear_nh(skb, sizeof(*ip6h));

	if (!ip6h)
		return true;
	if (ip6h->nexthdr != IPPROTO_UDP && ip6h->nexthdr != IPPROTO_TCP)
		return ipv6_ext_hdr(ip6h->nexthdr);
	return dnsmon_dport_maybe_watched(skb, skb_network_offset(skb) +
					  sizeof(*ip6h));
}

/*
 * The careful checks, kept out of line so that their stack buffers (and
 * the canary and zeroing they bring) cost nothing on the fast path.
 */
static noinline unsigned int dnsmon_ipv4(struct sk_buff *skb, struct net *net)
{
	struct iphdr _iph;
	const struct iphdr *iph;
	struct dnsmon_packet pkt;
	unsigned int thoff;

	iph = skb_header_pointer(skb, skb_network_offset(skb), sizeof(_iph),
				 &_iph);
	if (!iph)
		return NF_ACCEPT;
	if (iph->protocol != IPPROTO_UDP && iph->protocol != IPPROTO_TCP)
		return NF_ACCEPT;
	/* Only the first fragment holds the transport header. */
	if (iph->frag_off & htons(IP_OFFSET))
		return NF_ACCEPT;
	if (iph->ihl * 4 < sizeof(*iph))
		return NF_ACCEPT;
	thoff = skb_network_offset(skb) + iph->ihl * 4;
	if (!dnsmon_l4(skb, thoff, iph->protocol, &pkt))
		return NF_ACCEPT;

	dnsmon_packet(skb, net, AF_INET, &iph->daddr, DNSMON_IPV4_ADDR_LEN,
		      &pkt);
	return NF_ACCEPT;
}

static noinline unsigned int dnsmon_ipv6(struct sk_buff *skb, struct net *net)
{
	struct ipv6hdr _ip6h;
	const struct ipv6hdr *ip6h;
	struct dnsmon_packet pkt;
	__be16 frag_off = 0;
	u8 nexthdr;
	int thoff;

	ip6h = skb_header_pointer(skb, skb_network_offset(skb), sizeof(_ip6h),
				  &_ip6h);
	if (!ip6h)
		return NF_ACCEPT;
	nexthdr = ip6h->nexthdr;
	if (nexthdr != IPPROTO_UDP && nexthdr != IPPROTO_TCP) {
		if (!ipv6_ext_hdr(nexthdr))
			return NF_ACCEPT;
		thoff = ipv6_skip_exthdr(skb,
					 skb_network_offset(skb) + sizeof(*ip6h),
					 &nexthdr, &frag_off);
		if (thoff < 0)
			return NF_ACCEPT;
		if (nexthdr != IPPROTO_UDP && nexthdr != IPPROTO_TCP)
			return NF_ACCEPT;
		/* Only the first fragment holds the transport header. */
		if (frag_off & htons(DNSMON_IPV6_FRAG_OFFSET))
			return NF_ACCEPT;
	} else {
		thoff = skb_network_offset(skb) + sizeof(*ip6h);
	}
	if (!dnsmon_l4(skb, thoff, nexthdr, &pkt))
		return NF_ACCEPT;

	dnsmon_packet(skb, net, AF_INET6, &ip6h->daddr, DNSMON_IPV6_ADDR_LEN,
		      &pkt);
	return NF_ACCEPT;
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv4)
{
	if (!dnsmon_ipv4_maybe_dns(skb))
		return NF_ACCEPT;
	return dnsmon_ipv4(skb, DNSMON_NF_HOOK_NET);
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv6)
{
	if (!dnsmon_ipv6_maybe_dns(skb))
		return NF_ACCEPT;
	return dnsmon_ipv6(skb, DNSMON_NF_HOOK_NET);
}

static struct nf_hook_ops dnsmon_nf_ops[] __read_mostly = {
	{
		.hook = dnsmon_hook_ipv4,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_FIRST,
	},
	{
		.hook = dnsmon_hook_ipv6,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP6_PRI_FIRST,
	},
};

#ifdef DNSMON_NF_GLOBAL_HOOKS
/* One registration sees every network namespace. */
static int dnsmon_register(void)
{
	return nf_register_hooks(dnsmon_nf_ops, ARRAY_SIZE(dnsmon_nf_ops));
}

static void dnsmon_unregister(void)
{
	nf_unregister_hooks(dnsmon_nf_ops, ARRAY_SIZE(dnsmon_nf_ops));
}
#else
/* Hooks are per namespace: register in each, existing and future. */
static int __net_init dnsmon_net_init(struct net *net)
{
	return nf_register_net_hooks(net, dnsmon_nf_ops,
				     ARRAY_SIZE(dnsmon_nf_ops));
}

static void __net_exit dnsmon_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, dnsmon_nf_ops, ARRAY_SIZE(dnsmon_nf_ops));
}

static struct pernet_operations dnsmon_net_ops __read_mostly = {
	.init = dnsmon_net_init,
	.exit = dnsmon_net_exit,
};

static int dnsmon_register(void)
{
	return register_pernet_subsys(&dnsmon_net_ops);
}

static void dnsmon_unregister(void)
{
	unregister_pernet_subsys(&dnsmon_net_ops);
}
#endif /* DNSMON_NF_GLOBAL_HOOKS */

int dnsmon_hook_init(const struct dnsmon_config *config)
{
	unsigned int i;
	int err;

	dnsmon_cfg = config;
	dnsmon_log_limit_init(&dnsmon_log_limit);
	dnsmon_tcp_init();
	dnsmon_nports = config->nports;
	for (i = 0; i < config->nports; i++)
		dnsmon_ports_be[i] = htons(config->ports[i]);

	dnsmon_scratch = alloc_percpu(struct dnsmon_scratch);
	if (!dnsmon_scratch)
		return -ENOMEM;

	err = dnsmon_register();
	if (err)
		goto free_scratch;
	return 0;

free_scratch:
	/*
	 * A registration that failed part way has unregistered the
	 * namespaces it reached, whose hooks may still be running: wait for
	 * them as dnsmon_hook_exit does.
	 */
	synchronize_net();
	free_percpu(dnsmon_scratch);
	dnsmon_scratch = NULL;
	return err;
}

void dnsmon_hook_exit(void)
{
	dnsmon_unregister();
	/*
	 * Since 4.16 unregistering swaps in a dummy hook and frees the old
	 * entries with call_rcu: it does not wait for hooks still running on
	 * other CPUs, and unregister_pernet_subsys has no grace period after
	 * the exit callbacks.  Hooks run under rcu_read_lock, so one grace
	 * period here covers every kernel before the scratch, the ring and
	 * this module's text go away; kernels that synchronised inside
	 * unregister (RHEL 7's global hooks included) pay one more.
	 */
	synchronize_net();
	free_percpu(dnsmon_scratch);
	dnsmon_scratch = NULL;
}
