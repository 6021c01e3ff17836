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
 * Every packet of the family passes here, so the common case leaves after
 * the protocol and port checks; the DNS payload is read only for a
 * configured port.  All reads go through skb_header_pointer, which copies
 * from non-linear skbs into a per-CPU scratch buffer.
 */
#include <linux/cred.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/kernel.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/uidgid.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>

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
#define DNSMON_IPV6_ADDR_LEN	16

struct dnsmon_scratch {
	u8 msg[DNSMON_MSG_MAX];
	struct dnsmon_event ev;
};

/* Where the DNS message sits in a packet that passed the cheap checks. */
struct dnsmon_packet {
	unsigned int offset;	/* of the DNS message in the skb */
	unsigned int len;	/* of the DNS message */
	u8 proto;
	__be16 dport;
};

static const struct dnsmon_config *dnsmon_cfg;
static __be16 dnsmon_ports_be[DNSMON_PORTS_MAX] __read_mostly;
static unsigned int dnsmon_nports __read_mostly;
static struct dnsmon_scratch __percpu *dnsmon_scratch;
static DEFINE_RATELIMIT_STATE(dnsmon_log_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

static bool dnsmon_port_watched(__be16 port)
{
	unsigned int i;

	for (i = 0; i < dnsmon_nports; i++)
		if (dnsmon_ports_be[i] == port)
			return true;
	return false;
}

/*
 * Finds the DNS message behind the transport header at thoff.  Returns
 * false for anything that is not a query-bearing UDP datagram or TCP
 * segment to a watched port.
 */
static bool dnsmon_l4(const struct sk_buff *skb, unsigned int thoff,
		      u8 proto, struct dnsmon_packet *pkt)
{
	unsigned int end = skb->len;

	if (thoff >= end)
		return false;
	pkt->proto = proto;

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
		__be16 _prefix;
		const __be16 *prefix;
		unsigned int msglen;

		th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
		if (!th || !dnsmon_port_watched(th->dest))
			return false;
		doff = th->doff * 4;
		if (doff < sizeof(*th) || doff > end - thoff)
			return false;
		thoff += doff;
		/* No payload: handshake, ACKs, FIN. */
		if (end - thoff < DNSMON_TCP_LEN_PREFIX)
			return false;
		prefix = skb_header_pointer(skb, thoff, sizeof(_prefix),
					    &_prefix);
		if (!prefix)
			return false;
		msglen = ntohs(*prefix);
		thoff += DNSMON_TCP_LEN_PREFIX;
		/* Only a query carried whole in this segment. */
		if (msglen > end - thoff)
			return false;
		pkt->dport = th->dest;
		pkt->offset = thoff;
		pkt->len = msglen;
		return true;
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

/* The log line, with comm made printable: it is any 15 bytes a task chose. */
static void dnsmon_log(const struct dnsmon_event *ev)
{
	char comm[DNSMON_COMM_LEN];
	unsigned int i;

	if (!__ratelimit(&dnsmon_log_rs))
		return;
	if (ev->flags & DNSMON_F_PROC_UNKNOWN) {
		pr_info("DNS Query for %s from PID 0 (unknown)\n", ev->qname);
		return;
	}
	for (i = 0; i < sizeof(comm) - 1 && ev->comm[i]; i++)
		comm[i] = (ev->comm[i] >= ' ' && ev->comm[i] <= '~') ?
			  ev->comm[i] : '?';
	comm[i] = '\0';
	pr_info("DNS Query for %s from PID %u (%s)\n", ev->qname, ev->tgid,
		comm);
}

/*
 * Parses the DNS message of a packet that passed the cheap checks and
 * queues an event.  Runs with bottom halves disabled, so the per-CPU
 * scratch is ours.
 */
static void dnsmon_report(const struct sk_buff *skb, struct net *net,
			  u8 family, const void *daddr, unsigned int alen,
			  const struct dnsmon_packet *pkt)
{
	struct dnsmon_scratch *s = this_cpu_ptr(dnsmon_scratch);
	struct dnsmon_event *ev = &s->ev;
	struct dns_query q;
	unsigned int len = min_t(unsigned int, pkt->len, DNSMON_MSG_MAX);
	const u8 *msg;

	if (len < DNS_HEADER_LEN)
		return;
	msg = skb_header_pointer(skb, pkt->offset, len, s->msg);
	if (!msg)
		return;

	memset(ev, 0, offsetof(struct dnsmon_event, qname));
	if (dnsmon_parse_query(msg, len, &q, ev->qname,
			       sizeof(ev->qname)) != 0)
		return;
	/* Records are copied to user space whole: no stale name bytes. */
	memset(ev->qname + q.name_len, 0, sizeof(ev->qname) - q.name_len);

	ev->version = DNSMON_EVENT_VERSION;
	ev->size = sizeof(*ev);
	ev->time_ns = ktime_get_real_ns();
	ev->netns = dnsmon_net_inum(net);
	ev->family = family;
	ev->proto = pkt->proto;
	ev->dport = ntohs(pkt->dport);
	ev->dns_id = q.id;
	ev->qtype = q.qtype;
	ev->qclass = q.qclass;
	ev->qname_len = q.name_len;
	memcpy(ev->daddr, daddr, alen);
	dnsmon_fill_sender(ev, skb, net);

	dnsmon_dev_push(ev);
	if (READ_ONCE(dnsmon_cfg->log))
		dnsmon_log(ev);
}

static unsigned int dnsmon_ipv4(struct sk_buff *skb, struct net *net)
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

	local_bh_disable();
	dnsmon_report(skb, net, AF_INET, &iph->daddr, DNSMON_IPV4_ADDR_LEN,
		      &pkt);
	local_bh_enable();
	return NF_ACCEPT;
}

static unsigned int dnsmon_ipv6(struct sk_buff *skb, struct net *net)
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

	local_bh_disable();
	dnsmon_report(skb, net, AF_INET6, &ip6h->daddr, DNSMON_IPV6_ADDR_LEN,
		      &pkt);
	local_bh_enable();
	return NF_ACCEPT;
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv4)
{
	return dnsmon_ipv4(skb, DNSMON_NF_HOOK_NET);
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv6)
{
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
	free_percpu(dnsmon_scratch);
	dnsmon_scratch = NULL;
	return err;
}

void dnsmon_hook_exit(void)
{
	dnsmon_unregister();
	free_percpu(dnsmon_scratch);
	dnsmon_scratch = NULL;
}
