// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_pair.c - the queries of each network namespace that wait for
 * their responses.
 *
 * A query event that went out over UDP leaves a slot here; a response
 * arriving for the socket that sent it, from the server it went to, with
 * its DNS id, takes the slot back (dnsmon_report.c makes the answer event
 * from it).  Pairing needs all five: a spoofed response from another
 * address, or to another port, pairs with nothing and is only counted.
 *
 * The table is per namespace, so that one namespace's queries cannot push
 * out another's, and bounded: DNSMON_PAIRS slots, a key hashed with a
 * per-table random seed to a window of DNSMON_PAIRS_PROBE slots.  A query
 * takes the slot of an earlier query with the same key (a resend), else a
 * free one, else the oldest in its window, which is counted as evicted.
 * Nothing is allocated per packet.
 *
 * A delayed work sweeps out the queries older than answer_timeout as
 * unanswered events.  It is armed when a query is added and re-arms
 * itself for the oldest query left, so an idle namespace costs nothing.
 * dying, set under the lock before the work is cancelled, keeps a hook
 * still running from arming it again.
 */
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "dnsmon.h"

#define DNSMON_PAIRS_BITS	8
#define DNSMON_PAIRS		(1U << DNSMON_PAIRS_BITS)
#define DNSMON_PAIRS_PROBE	8

static bool dnsmon_pair_on __read_mostly;
static u64 dnsmon_pair_timeout_ns __read_mostly;
static unsigned long dnsmon_pair_timeout_jiffies __read_mostly;

void dnsmon_pair_config(const struct dnsmon_config *config)
{
	dnsmon_pair_on = config->responses;
	dnsmon_pair_timeout_ns = (u64)config->answer_timeout * NSEC_PER_SEC;
	dnsmon_pair_timeout_jiffies = (unsigned long)config->answer_timeout * HZ;
}

static unsigned int dnsmon_pairs_hash(const struct dnsmon_pairs *t,
				      const struct dnsmon_pair_key *k)
{
	return jhash(k, sizeof(*k), t->seed) & (DNSMON_PAIRS - 1);
}

static struct dnsmon_pending *dnsmon_pairs_slot(struct dnsmon_pairs *t,
						unsigned int h, unsigned int i)
{
	return &t->slots[(h + i) & (DNSMON_PAIRS - 1)];
}

/* Whether p holds k; the id first, which rules out nearly every other. */
static bool dnsmon_pairs_is(const struct dnsmon_pending *p,
			    const struct dnsmon_pair_key *k)
{
	return p->key.id == k->id && !memcmp(&p->key, k, sizeof(*k));
}

/*
 * Reports and frees the queries that waited answer_timeout or longer;
 * re-arms for the oldest query left.
 */
static void dnsmon_pairs_sweep(struct work_struct *work)
{
	struct dnsmon_pairs *t = container_of(to_delayed_work(work),
					      struct dnsmon_pairs, sweep);
	u64 now = ktime_get_ns();
	u64 oldest = now;
	unsigned int i;

	spin_lock_bh(&t->lock);
	for (i = 0; i < DNSMON_PAIRS && t->used > 0; i++) {
		struct dnsmon_pending *p = &t->slots[i];

		if (!p->lookup)
			continue;
		if (now - p->sent >= dnsmon_pair_timeout_ns) {
			dnsmon_report_unanswered(t, p, now);
			dnsmon_dev_count(DNSMON_C_UNANSWERED);
			p->lookup = 0;
			WRITE_ONCE(t->used, t->used - 1);
		} else if (p->sent < oldest) {
			oldest = p->sent;
		}
	}
	if (t->used > 0 && !t->dying)
		schedule_delayed_work(&t->sweep, usecs_to_jiffies(div_u64(
			oldest + dnsmon_pair_timeout_ns - now, NSEC_PER_USEC)) + 1);
	spin_unlock_bh(&t->lock);
}

void dnsmon_pairs_add(struct dnsmon_pairs *t, const struct dnsmon_pair_key *k,
		      const struct dnsmon_event *ev, u64 seq)
{
	struct dnsmon_pending *p, *same = NULL, *empty = NULL, *oldest = NULL;
	unsigned int h, i;

	if (!t || !t->slots)
		return;
	h = dnsmon_pairs_hash(t, k);
	spin_lock_bh(&t->lock);
	if (t->dying)
		goto out;
	for (i = 0; i < DNSMON_PAIRS_PROBE; i++) {
		p = dnsmon_pairs_slot(t, h, i);
		if (!p->lookup) {
			if (!empty)
				empty = p;
		} else if (dnsmon_pairs_is(p, k)) {
			same = p;
		} else if (!oldest || p->sent < oldest->sent) {
			oldest = p;
		}
	}
	p = same ? same : empty ? empty : oldest;
	if (p->lookup)
		dnsmon_dev_count(DNSMON_C_EVICTED);
	else
		WRITE_ONCE(t->used, t->used + 1);
	p->key = *k;
	p->lookup = seq;
	p->sent = ktime_get_ns();
	p->flags = ev->flags & DNSMON_F_PROC_UNKNOWN;
	p->tgid = ev->tgid;
	p->tid = ev->tid;
	p->uid = ev->uid;
	p->qtype = ev->qtype;
	p->qclass = ev->qclass;
	memcpy(p->comm, ev->comm, sizeof(p->comm));
	/* A no-op while the sweep is armed already. */
	schedule_delayed_work(&t->sweep, dnsmon_pair_timeout_jiffies + 1);
out:
	spin_unlock_bh(&t->lock);
}

bool dnsmon_pairs_take(struct dnsmon_pairs *t, const struct dnsmon_pair_key *k,
		       struct dnsmon_pending *out)
{
	struct dnsmon_pending *p;
	bool found = false;
	unsigned int h, i;

	/*
	 * No query waits (the common case of a flood of unsolicited
	 * responses, or of a full ring, whose queries are not added): no
	 * hash and no lock.  A response always comes after its query was
	 * added, which the send and the receive between them order.
	 */
	if (!t || !t->slots || !READ_ONCE(t->used))
		return false;
	h = dnsmon_pairs_hash(t, k);
	spin_lock_bh(&t->lock);
	for (i = 0; i < DNSMON_PAIRS_PROBE; i++) {
		p = dnsmon_pairs_slot(t, h, i);
		if (p->lookup && dnsmon_pairs_is(p, k)) {
			*out = *p;
			p->lookup = 0;
			WRITE_ONCE(t->used, t->used - 1);
			found = true;
			break;
		}
	}
	spin_unlock_bh(&t->lock);
	return found;
}

int dnsmon_pairs_init(struct dnsmon_pairs *t, struct net *net)
{
	spin_lock_init(&t->lock);
	INIT_DELAYED_WORK(&t->sweep, dnsmon_pairs_sweep);
	t->netns = dnsmon_net_inum(net);
	t->used = 0;
	t->slots = NULL;
	t->dying = !dnsmon_pair_on;
	if (!dnsmon_pair_on)
		return 0;
	get_random_bytes(&t->seed, sizeof(t->seed));
	t->slots = vzalloc(DNSMON_PAIRS * sizeof(*t->slots));
	return t->slots ? 0 : -ENOMEM;
}

void dnsmon_pairs_stop(struct dnsmon_pairs *t)
{
	spin_lock_bh(&t->lock);
	t->dying = true;
	spin_unlock_bh(&t->lock);
	cancel_delayed_work_sync(&t->sweep);
}

void dnsmon_pairs_free(struct dnsmon_pairs *t)
{
	vfree(t->slots);
	t->slots = NULL;
}
