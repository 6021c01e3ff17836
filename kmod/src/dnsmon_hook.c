// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_hook.c - NF_INET_LOCAL_OUT hooks for IPv4 and IPv6 that find the
 * packets to a watched DNS port, and NF_INET_LOCAL_IN hooks that find the
 * packets from one, in every network namespace.
 *
 * The LOCAL_OUT hooks run first (NF_IP_PRI_FIRST), before NAT rewrites the
 * destination and before any NFQUEUE verdict can reinject the packet from
 * another task's context.  The LOCAL_IN hooks run last, once NAT has put
 * back the addresses the query was sent with and the firewall has let
 * the packet through to its socket.
 *
 * What a packet for a watched port carries is made into events by
 * dnsmon_report.c.
 *
 * Every packet of the family passes here, so the common case leaves after
 * a protocol and port check on the headers in place (the *_maybe_dns fast
 * path); the DNS payload is read only for a configured port.  Past the
 * fast path reads go through skb_header_pointer, which copies from
 * non-linear skbs into a stack buffer.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "dnsmon.h"

/* The fragment-offset bits of an IPv6 fragment header's frag_off. */
#define DNSMON_IPV6_FRAG_OFFSET	0xfff8
/* UDP and TCP headers both open with the source and destination ports. */
#define DNSMON_L4_PORTS_LEN	4

/* Ports, one bit each. */
#define DNSMON_PORT_BITS	(1U << 16)

/*
 * The watched ports, indexed by the port as it sits in the header, in
 * network byte order: one bit test per packet, however many ports.  In
 * .bss rather than __read_mostly, which would put 8 KiB of zeros into the
 * module file; the few lines read are far from the array's neighbours.
 */
static DECLARE_BITMAP(dnsmon_ports, DNSMON_PORT_BITS);

static __always_inline bool dnsmon_port_watched(__be16 port)
{
	return test_bit((__force u16)port, dnsmon_ports);
}

/* Which way a packet goes, and so which of its ports is the server's. */
enum dnsmon_dir {
	DNSMON_OUT,	/* LOCAL_OUT: a query, to the server's port */
	DNSMON_IN,	/* LOCAL_IN: a response, from the server's port */
};

/*
 * Finds the payload behind the transport header at thoff.  Returns false
 * for anything that is not a UDP datagram or a TCP segment to
 * (DNSMON_OUT) or from (DNSMON_IN) a watched port; a TCP segment must
 * open a connection or carry data.
 */
static bool dnsmon_l4(const struct sk_buff *skb, unsigned int thoff,
		      u8 proto, enum dnsmon_dir dir, struct dnsmon_packet *pkt)
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
		if (!uh || !dnsmon_port_watched(dir == DNSMON_OUT ? uh->dest :
							       uh->source))
			return false;
		ulen = ntohs(uh->len);
		if (ulen < sizeof(*uh))
			return false;
		/*
		 * The first fragment of an IPv6 datagram that LOCAL_IN sees
		 * before reassembly holds less than ulen: the message is cut.
		 */
		pkt->msglen = ulen - sizeof(*uh);
		if (ulen < end - thoff)
			end = thoff + ulen;
		pkt->sport = uh->source;
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
		if (!th || !dnsmon_port_watched(dir == DNSMON_OUT ? th->dest :
							       th->source))
			return false;
		doff = th->doff * 4;
		if (doff < sizeof(*th) || doff > end - thoff)
			return false;
		pkt->sport = th->source;
		pkt->dport = th->dest;
		pkt->offset = thoff + doff;
		pkt->len = end - pkt->offset;
		pkt->msglen = pkt->len;
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

/*
 * The fast path, for every packet the host sends or receives: the network
 * and transport headers are in the linear area, so the protocol and the
 * port are read in place, with no copy, no stack buffer and so no stack
 * canary.  The *_maybe_dns functions return false for a packet that
 * cannot be a query to or a response from a watched port; true hands it to
 * the careful checks of dnsmon_ipv4 and dnsmon_ipv6, which also take
 * headers that are not linear.  A non-first fragment or a bogus header
 * length may pass here on payload bytes that look like a watched port;
 * the careful checks reject it.  They are inlined into each hook, so that
 * the direction folds away and a packet that is no DNS costs no call.
 */

/*
 * Whether the ports at th, if they are in the linear area, may go to
 * (DNSMON_OUT) or come from (DNSMON_IN) a watched port.
 */
static __always_inline bool dnsmon_ports_maybe_watched(const u8 *th,
						       const u8 *tail,
						       enum dnsmon_dir dir)
{
	const struct udphdr *uh = (const struct udphdr *)th;

	if (th + DNSMON_L4_PORTS_LEN > tail)
		return true;
	return dnsmon_port_watched(dir == DNSMON_OUT ? uh->dest : uh->source);
}

/*
 * At LOCAL_OUT the stack has just built the network header in the linear
 * area, and at LOCAL_IN it has pulled it there (ip_rcv_core and
 * ip6_rcv_core check that it is whole), so it is read in place, as
 * in-tree hooks read ip_hdr(); only the transport ports are checked
 * against the end of the linear area.
 */
static __always_inline bool dnsmon_ipv4_maybe_dns(const struct sk_buff *skb,
						  enum dnsmon_dir dir)
{
	const u8 *nh = skb_network_header(skb);
	const struct iphdr *iph = (const struct iphdr *)nh;

	if (iph->protocol != IPPROTO_UDP && iph->protocol != IPPROTO_TCP)
		return false;
	return dnsmon_ports_maybe_watched(nh + iph->ihl * 4,
					  skb_tail_pointer(skb), dir);
}

/* Extension headers go to the careful path. */
static __always_inline bool dnsmon_ipv6_maybe_dns(const struct sk_buff *skb,
						  enum dnsmon_dir dir)
{
	const u8 *nh = skb_network_header(skb);
	const struct ipv6hdr *ip6h = (const struct ipv6hdr *)nh;

	if (ip6h->nexthdr != IPPROTO_UDP && ip6h->nexthdr != IPPROTO_TCP)
		return ipv6_ext_hdr(ip6h->nexthdr);
	return dnsmon_ports_maybe_watched(nh + sizeof(*ip6h),
					  skb_tail_pointer(skb), dir);
}

/* Hands a packet that passed the checks to its report. */
static void dnsmon_deliver(struct sk_buff *skb, struct net *net, u8 family,
			   const void *saddr, const void *daddr,
			   unsigned int alen, enum dnsmon_dir dir,
			   const struct dnsmon_packet *pkt)
{
	if (dir == DNSMON_OUT)
		dnsmon_packet(skb, net, family, saddr, daddr, alen, pkt, false);
	else
		dnsmon_packet(skb, net, family, daddr, saddr, alen, pkt, true);
}

/*
 * The careful checks, kept out of line so that their stack buffers (and
 * the canary and zeroing they bring) cost nothing on the fast path.
 */
static noinline unsigned int dnsmon_ipv4(struct sk_buff *skb, struct net *net,
					 enum dnsmon_dir dir)
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
	if (!dnsmon_l4(skb, thoff, iph->protocol, dir, &pkt))
		return NF_ACCEPT;

	dnsmon_deliver(skb, net, AF_INET, &iph->saddr, &iph->daddr,
		       DNSMON_IPV4_ADDR_LEN, dir, &pkt);
	return NF_ACCEPT;
}

static noinline unsigned int dnsmon_ipv6(struct sk_buff *skb, struct net *net,
					 enum dnsmon_dir dir)
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
	if (!dnsmon_l4(skb, thoff, nexthdr, dir, &pkt))
		return NF_ACCEPT;

	dnsmon_deliver(skb, net, AF_INET6, &ip6h->saddr, &ip6h->daddr,
		       DNSMON_IPV6_ADDR_LEN, dir, &pkt);
	return NF_ACCEPT;
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv4)
{
	if (!dnsmon_ipv4_maybe_dns(skb, DNSMON_OUT))
		return NF_ACCEPT;
	return dnsmon_ipv4(skb, DNSMON_NF_HOOK_NET, DNSMON_OUT);
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv6)
{
	if (!dnsmon_ipv6_maybe_dns(skb, DNSMON_OUT))
		return NF_ACCEPT;
	return dnsmon_ipv6(skb, DNSMON_NF_HOOK_NET, DNSMON_OUT);
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv4_in)
{
	if (!dnsmon_ipv4_maybe_dns(skb, DNSMON_IN))
		return NF_ACCEPT;
	return dnsmon_ipv4(skb, DNSMON_NF_HOOK_NET_IN, DNSMON_IN);
}

static DNSMON_NF_HOOKFN(dnsmon_hook_ipv6_in)
{
	if (!dnsmon_ipv6_maybe_dns(skb, DNSMON_IN))
		return NF_ACCEPT;
	return dnsmon_ipv6(skb, DNSMON_NF_HOOK_NET_IN, DNSMON_IN);
}

/* The LOCAL_OUT hooks, then the LOCAL_IN ones (responses=1 only). */
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
	{
		.hook = dnsmon_hook_ipv4_in,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP_PRI_LAST,
	},
	{
		.hook = dnsmon_hook_ipv6_in,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP6_PRI_LAST,
	},
};
#define DNSMON_NF_OUT_OPS	2

/* How many of dnsmon_nf_ops are registered: set once, before any is. */
static unsigned int dnsmon_nf_nops __read_mostly;

/*
 * Each namespace's struct dnsmon_pairs, in its net_generic area.  The
 * area is freed right after the exit callbacks (ops_free_list), with no
 * grace period on older kernels: exit_batch waits for one, so no hook
 * that began before its namespace's hooks were unregistered still reads
 * the table when it goes.
 */
static unsigned int dnsmon_net_id __read_mostly;

struct dnsmon_pairs *dnsmon_net_pairs(struct net *net)
{
	if (!dnsmon_net_alive(net))
		return NULL;
	return net_generic(net, dnsmon_net_id);
}

#ifdef DNSMON_NF_GLOBAL_HOOKS
/* One registration sees every network namespace. */
static int dnsmon_hooks_register(void)
{
	return nf_register_hooks(dnsmon_nf_ops, dnsmon_nf_nops);
}

static void dnsmon_hooks_unregister(void)
{
	nf_unregister_hooks(dnsmon_nf_ops, dnsmon_nf_nops);
}

static int dnsmon_net_hooks_register(struct net *net)
{
	return 0;
}

static void dnsmon_net_hooks_unregister(struct net *net)
{
}
#else
/* Hooks are per namespace: registered in each, existing and future. */
static int dnsmon_hooks_register(void)
{
	return 0;
}

static void dnsmon_hooks_unregister(void)
{
}

static int dnsmon_net_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, dnsmon_nf_ops, dnsmon_nf_nops);
}

static void dnsmon_net_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, dnsmon_nf_ops, dnsmon_nf_nops);
}
#endif /* DNSMON_NF_GLOBAL_HOOKS */

static int __net_init dnsmon_net_init(struct net *net)
{
	struct dnsmon_pairs *t = net_generic(net, dnsmon_net_id);
	int err;

	err = dnsmon_pairs_init(t, net);
	if (err)
		return err;
	err = dnsmon_net_hooks_register(net);
	if (err) {
		dnsmon_pairs_stop(t);
		dnsmon_pairs_free(t);
	}
	return err;
}

static void __net_exit dnsmon_net_exit(struct net *net)
{
	dnsmon_net_hooks_unregister(net);
	dnsmon_pairs_stop(net_generic(net, dnsmon_net_id));
}

static void __net_exit dnsmon_net_exit_batch(struct list_head *net_exit_list)
{
	struct net *net;

	synchronize_net();
	list_for_each_entry(net, net_exit_list, exit_list)
		dnsmon_pairs_free(net_generic(net, dnsmon_net_id));
}

static struct pernet_operations dnsmon_net_ops __read_mostly = {
	.init = dnsmon_net_init,
	.exit = dnsmon_net_exit,
	.exit_batch = dnsmon_net_exit_batch,
	.id = &dnsmon_net_id,
	.size = sizeof(struct dnsmon_pairs),
};

/*
 * Global hooks go in once every namespace has its table, and out before
 * any table goes.
 */
static int dnsmon_register(void)
{
	int err;

	err = register_pernet_subsys(&dnsmon_net_ops);
	if (err)
		return err;
	err = dnsmon_hooks_register();
	if (err)
		unregister_pernet_subsys(&dnsmon_net_ops);
	return err;
}

static void dnsmon_unregister(void)
{
	dnsmon_hooks_unregister();
	unregister_pernet_subsys(&dnsmon_net_ops);
}

int dnsmon_hook_init(const struct dnsmon_config *config)
{
	unsigned int i;
	int err;

	dnsmon_log_init(config);
	dnsmon_tcp_init();
	dnsmon_pair_config(config);
	dnsmon_nf_nops = config->responses ? ARRAY_SIZE(dnsmon_nf_ops) :
					     DNSMON_NF_OUT_OPS;
	bitmap_zero(dnsmon_ports, DNSMON_PORT_BITS);
	for (i = 0; i < config->nports; i++)
		__set_bit((__force u16)htons(config->ports[i]), dnsmon_ports);

	err = dnsmon_report_init();
	if (err)
		return err;

	err = dnsmon_register();
	if (err)
		goto exit_report;
	return 0;

exit_report:
	/*
	 * A registration that failed part way has unregistered the
	 * namespaces it reached, whose hooks may still be running: wait for
	 * them as dnsmon_hook_exit does.
	 */
	synchronize_net();
	dnsmon_report_exit();
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
	dnsmon_report_exit();
}
