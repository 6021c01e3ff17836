/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel version difference dnsmon knows, in one place.
 *
 * Kbuild force-includes this header before every source file (-include),
 * so the sources are written against the newest kernel API and this file
 * polyfills older kernels.  Each shim is guarded by the version that
 * introduced the API and, where the API is a macro, by #ifndef; its
 * #include sits beside it so that the real declaration is seen before the
 * shim renames it (__compat_x plus #define x __compat_x).
 */
#ifndef DNSMON_COMPAT_H
#define DNSMON_COMPAT_H

#include <linux/kconfig.h>
#include <linux/version.h>

/*
 * Distributions first: RHEL 7 reports LINUX_VERSION_CODE 3.10.0 for every
 * minor release and backports behind it, so version arithmetic lies there.
 * RHEL_RELEASE_CODE comes from <linux/version.h> on RHEL and its rebuilds
 * (CentOS, Oracle, Rocky).  RHEL 8 and later follow mainline closely
 * enough for the version checks below.
 */
#if defined(RHEL_RELEASE_CODE) && defined(RHEL_RELEASE_VERSION)
#if RHEL_RELEASE_CODE >= RHEL_RELEASE_VERSION(7, 0) && \
	RHEL_RELEASE_CODE < RHEL_RELEASE_VERSION(8, 0)
#define ISRHEL7
#if RHEL_RELEASE_CODE >= RHEL_RELEASE_VERSION(7, 2)
#define ISRHEL7_2	/* 7.2 or later */
#endif
#endif
#endif /* RHEL_RELEASE_CODE */

#if LINUX_VERSION_CODE < KERNEL_VERSION(3, 10, 0)
#error "dnsmon needs Linux 3.10 or newer"
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(8, 0, 0)
#error "dnsmon has not been checked against Linux 8 or newer"
#endif

/*
 * Netfilter hook functions.  Newest form (4.4 to 7.x):
 *   unsigned int fn(void *priv, struct sk_buff *skb,
 *                   const struct nf_hook_state *state)
 * DNSMON_NF_HOOKFN(fn) declares a hook in this kernel's form;
 * DNSMON_NF_HOOK_NET names the namespace of the packet inside a hook at
 * NF_INET_LOCAL_OUT and DNSMON_NF_HOOK_NET_IN inside one at
 * NF_INET_LOCAL_IN.  Older kernels pass no namespace: they take it from
 * the output device at LOCAL_OUT (skb_dst(skb)->dev) and from the input
 * device at LOCAL_IN, where out is NULL.
 */
#include <linux/netfilter.h>
#include <linux/netdevice.h>
#include <net/net_namespace.h>

static inline struct net *dnsmon_nf_dev_net(const struct net_device *out)
{
	return out ? dev_net(out) : &init_net;
}

#if defined(ISRHEL7_2)
/* RHEL 7.2 to 7.9: five arguments, nf_hook_state without ->net before 7.8. */
#define DNSMON_NF_HOOKFN(fn)						\
	unsigned int fn(const struct nf_hook_ops *ops,			\
			struct sk_buff *skb,				\
			const struct net_device *in,			\
			const struct net_device *out,			\
			const struct nf_hook_state *state)
#define DNSMON_NF_HOOK_NET	dnsmon_nf_dev_net(out)
#define DNSMON_NF_HOOK_NET_IN	dnsmon_nf_dev_net(in)
#elif defined(ISRHEL7) || (LINUX_VERSION_CODE >= KERNEL_VERSION(3, 13, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(4, 1, 0))
/* Mainline 3.13 to 4.0, RHEL 7.0 and 7.1. */
#define DNSMON_NF_HOOKFN(fn)						\
	unsigned int fn(const struct nf_hook_ops *ops,			\
			struct sk_buff *skb,				\
			const struct net_device *in,			\
			const struct net_device *out,			\
			int (*okfn)(struct sk_buff *))
#define DNSMON_NF_HOOK_NET	dnsmon_nf_dev_net(out)
#define DNSMON_NF_HOOK_NET_IN	dnsmon_nf_dev_net(in)
#elif LINUX_VERSION_CODE < KERNEL_VERSION(3, 13, 0)
/* Mainline 3.10 to 3.12. */
#define DNSMON_NF_HOOKFN(fn)						\
	unsigned int fn(unsigned int hooknum,				\
			struct sk_buff *skb,				\
			const struct net_device *in,			\
			const struct net_device *out,			\
			int (*okfn)(struct sk_buff *))
#define DNSMON_NF_HOOK_NET	dnsmon_nf_dev_net(out)
#define DNSMON_NF_HOOK_NET_IN	dnsmon_nf_dev_net(in)
#elif LINUX_VERSION_CODE < KERNEL_VERSION(4, 4, 0)
/* Mainline 4.1 to 4.3: nf_hook_state, still no ->net. */
#define DNSMON_NF_HOOKFN(fn)						\
	unsigned int fn(const struct nf_hook_ops *ops,			\
			struct sk_buff *skb,				\
			const struct nf_hook_state *state)
#define DNSMON_NF_HOOK_NET	dnsmon_nf_dev_net(state->out)
#define DNSMON_NF_HOOK_NET_IN	dnsmon_nf_dev_net(state->in)
#else
#define DNSMON_NF_HOOKFN(fn)						\
	unsigned int fn(void *priv,					\
			struct sk_buff *skb,				\
			const struct nf_hook_state *state)
#define DNSMON_NF_HOOK_NET	(state->net)
#define DNSMON_NF_HOOK_NET_IN	(state->net)
#endif /* nf_hookfn */

/*
 * Registration: 4.3 made hooks per network namespace
 * (nf_register_net_hooks); 4.13 removed the global nf_register_hooks.
 * RHEL 7 has only the global form, which sees every namespace.
 */
#if defined(ISRHEL7) || LINUX_VERSION_CODE < KERNEL_VERSION(4, 3, 0)
#define DNSMON_NF_GLOBAL_HOOKS
#endif

/*
 * Whether a namespace is still in use.  Global hooks see packets of a
 * namespace that is being dismantled, after this module's pernet exit
 * ran; its per-namespace data must not be touched then.  net->count
 * drops to zero before any exit runs.  Per-namespace hooks are
 * unregistered in that exit, and a hook that began before waits in
 * exit_batch's grace period, so they need no check.
 */
#ifdef DNSMON_NF_GLOBAL_HOOKS
static inline bool dnsmon_net_alive(const struct net *net)
{
	return atomic_read(&net->count) != 0;
}
#else
static inline bool dnsmon_net_alive(const struct net *net)
{
	return true;
}
#endif

/* The inode number of a network namespace: net->ns.inum from 3.19. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(3, 19, 0)
static inline unsigned int dnsmon_net_inum(const struct net *net)
{
	return net->proc_inum;
}
#else
static inline unsigned int dnsmon_net_inum(const struct net *net)
{
	return net->ns.inum;
}
#endif

/* ktime_get_real_ns and ktime_get_ns: 3.17. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(3, 17, 0) && !defined(ISRHEL7)
#include <linux/ktime.h>
#include <linux/hrtimer.h>
static inline u64 __compat_ktime_get_real_ns(void)
{
	return ktime_to_ns(ktime_get_real());
}
#define ktime_get_real_ns __compat_ktime_get_real_ns
static inline u64 __compat_ktime_get_ns(void)
{
	return ktime_to_ns(ktime_get());
}
#define ktime_get_ns __compat_ktime_get_ns
#endif

/* U32_MAX: 3.14. */
#include <linux/kernel.h>
#ifndef U32_MAX
#define U32_MAX ((u32)~0U)
#endif

/* READ_ONCE and WRITE_ONCE: 3.19. */
#include <linux/compiler.h>
#ifndef READ_ONCE
#define READ_ONCE(x) ACCESS_ONCE(x)
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val) (ACCESS_ONCE(x) = (val))
#endif

/* in_task: 4.11. */
#include <linux/hardirq.h>
#include <linux/preempt.h>
#ifndef in_task
#define in_task() (!(preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)))
#endif

/* sk_fullsock: 4.1 (request socks on skb->sk came with it). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(4, 1, 0) && !defined(ISRHEL7)
#include <net/sock.h>
#include <net/tcp_states.h>
static inline bool __compat_sk_fullsock(const struct sock *sk)
{
	return sk->sk_state != TCP_TIME_WAIT;
}
#define sk_fullsock __compat_sk_fullsock
#endif

/*
 * sock_net_uid: 4.10 (sk->sk_uid, the creator's uid, kept after close).
 * Before, the socket inode's owner, root once the socket is orphaned.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(4, 10, 0)
#include <net/sock.h>
static inline kuid_t __compat_sock_net_uid(const struct net *net,
					   const struct sock *sk)
{
	return sk ? sock_i_uid((struct sock *)sk) : make_kuid(net->user_ns, 0);
}
#define sock_net_uid __compat_sock_net_uid
#endif

/* __poll_t and the EPOLL* masks for poll handlers: 4.16. */
#include <linux/poll.h>
#if LINUX_VERSION_CODE < KERNEL_VERSION(4, 16, 0)
#define __poll_t unsigned int
#endif
#ifndef EPOLLIN
#define EPOLLIN POLLIN
#endif
#ifndef EPOLLRDNORM
#define EPOLLRDNORM POLLRDNORM
#endif

/* compat_ptr_ioctl: 5.5. */
#include <linux/fs.h>
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 5, 0)
#ifdef CONFIG_COMPAT
#include <linux/compat.h>
static inline long __compat_compat_ptr_ioctl(struct file *file,
					     unsigned int cmd,
					     unsigned long arg)
{
	if (!file->f_op->unlocked_ioctl)
		return -ENOIOCTLCMD;
	return file->f_op->unlocked_ioctl(file, cmd,
					  (unsigned long)compat_ptr(arg));
}
#define compat_ptr_ioctl __compat_compat_ptr_ioctl
#else
#define compat_ptr_ioctl NULL
#endif /* CONFIG_COMPAT */
#endif /* < 5.5 */

#endif /* DNSMON_COMPAT_H */
