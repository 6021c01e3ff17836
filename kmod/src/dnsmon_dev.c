// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_dev.c - /dev/dnsmon: one ring of struct dnsmon_event records.
 *
 * Producers are the netfilter hooks (process or softirq context); they
 * take dnsmon_ring.lock with interrupts saved, so the ring may be fed from
 * any context a hook runs in.  A full ring drops the new event and counts
 * it; every event, dropped or not, takes the next sequence number, so a
 * reader sees each loss as a gap.
 *
 * Readers are serialised by a mutex.  The records between tail and
 * tail + count are never written by producers (they only fill the free
 * slots after them), so a reader copies them to user space without the
 * spinlock and then releases them by advancing tail.
 *
 * Wake-ups are batched: a producer wakes readers only when it makes the
 * ring non-empty, since a reader sleeps only on an empty ring and drains
 * everything it can once awake.
 */
#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "dnsmon.h"

#define DNSMON_DEV_NAME		"dnsmon"
#define DNSMON_DEV_MODE		0600

struct dnsmon_ring {
	spinlock_t lock;		/* tail, count, slots */
	struct mutex read_lock;		/* one reader at a time */
	wait_queue_head_t wait;
	struct dnsmon_event *slots;
	u32 size;			/* capacity in records */
	u32 tail;			/* oldest unread record */
	u32 count;			/* unread records */
	/*
	 * Sequence numbers handed out, and events dropped.  Atomic, so that
	 * an event dropped without being built (dnsmon_dev_full) is counted
	 * without the lock; queued events take theirs under it, so the ring
	 * holds them in sequence order.
	 */
	atomic64_t events;
	atomic64_t dropped;
	atomic64_t counters[DNSMON_C_MAX];	/* enum dnsmon_counter */
};

static struct dnsmon_ring dnsmon_ring;

/*
 * The lookup fields, lookup up to names, field by field: FORTIFY_SOURCE
 * takes one memcpy across them for an overflow of lookup.
 */
void dnsmon_event_lookup_copy(struct dnsmon_event *to,
			      const struct dnsmon_event *from)
{
	to->lookup = from->lookup;
	to->kind = from->kind;
	to->dns_flags = from->dns_flags;
	to->latency_us = from->latency_us;
	to->ancount = from->ancount;
	to->nanswers = from->nanswers;
	to->cut = from->cut;
	to->names_len = from->names_len;
	to->lport = from->lport;
	memcpy(to->laddr, from->laddr, sizeof(to->laddr));
	memcpy(to->answers, from->answers, sizeof(to->answers));
}

/*
 * Writes ev into a free slot.  Only the header, the name up to its NUL,
 * the lookup fields and the CNAME names in use are copied: the slot's
 * bytes past those are zero but for the names of the record it held
 * before, whose lengths the slot still records, so only those stretches
 * are cleared.  Readers get whole records with no stale bytes while a
 * query costs a short copy, not sizeof(*ev).  A query's lookup is its own
 * sequence number, known only here.
 */
static void dnsmon_slot_fill(struct dnsmon_event *slot,
			     const struct dnsmon_event *ev, u64 seq)
{
	unsigned int old_len = slot->qname_len;
	unsigned int len = ev->qname_len;
	unsigned int old_names = slot->names_len;
	unsigned int names = ev->names_len;

	memcpy(slot, ev, offsetof(struct dnsmon_event, qname) + len + 1);
	if (old_len > len)
		memset(slot->qname + len + 1, 0, old_len - len);
	dnsmon_event_lookup_copy(slot, ev);
	memcpy(slot->names, ev->names, names);
	if (old_names > names)
		memset(slot->names + names, 0, old_names - names);
	slot->seq = seq;
	if (ev->kind == DNSMON_K_QUERY)
		slot->lookup = seq;
}

u64 dnsmon_dev_push(const struct dnsmon_event *ev)
{
	struct dnsmon_ring *r = &dnsmon_ring;
	unsigned long flags;
	bool was_empty;
	u32 idx;
	u64 seq;

	if (!ev) {
		atomic64_inc(&r->dropped);
		return atomic64_inc_return(&r->events);
	}
	spin_lock_irqsave(&r->lock, flags);
	seq = atomic64_inc_return(&r->events);
	if (r->count == r->size) {
		atomic64_inc(&r->dropped);
		spin_unlock_irqrestore(&r->lock, flags);
		return seq;
	}
	idx = r->tail + r->count;
	if (idx >= r->size)
		idx -= r->size;
	dnsmon_slot_fill(&r->slots[idx], ev, seq);
	was_empty = r->count == 0;
	WRITE_ONCE(r->count, r->count + 1);
	spin_unlock_irqrestore(&r->lock, flags);

	if (was_empty)
		wake_up_interruptible(&r->wait);
	return seq;
}

void dnsmon_dev_count(enum dnsmon_counter c)
{
	atomic64_inc(&dnsmon_ring.counters[c]);
}

bool dnsmon_dev_full(void)
{
	const struct dnsmon_ring *r = &dnsmon_ring;

	return READ_ONCE(r->count) == r->size;
}

/*
 * A lockless look at the fill level, for wait conditions and poll; the
 * records themselves are only taken under the lock (dnsmon_ring_copy).
 */
static u32 dnsmon_ring_count(const struct dnsmon_ring *r)
{
	return READ_ONCE(r->count);
}

static void dnsmon_ring_release(struct dnsmon_ring *r, u32 n)
{
	unsigned long flags;

	spin_lock_irqsave(&r->lock, flags);
	WARN_ON_ONCE(n > r->count);
	r->tail += n;
	if (r->tail >= r->size)
		r->tail -= r->size;
	WRITE_ONCE(r->count, r->count - n);
	spin_unlock_irqrestore(&r->lock, flags);
}

static int dnsmon_dev_open(struct inode *inode, struct file *file)
{
	return nonseekable_open(inode, file);
}

/*
 * Copies up to max records to buf, oldest first, and releases them.
 * Returns the number of records copied, or -EFAULT when none could be.
 * Called with read_lock held.
 */
static ssize_t dnsmon_ring_copy(struct dnsmon_ring *r, char __user *buf,
				u32 max)
{
	u32 avail, n, done = 0, tail;

	spin_lock_irq(&r->lock);
	avail = r->count;
	tail = r->tail;
	spin_unlock_irq(&r->lock);

	n = min(avail, max);
	while (done < n) {
		u32 chunk = min(n - done, r->size - tail);
		size_t bytes = (size_t)chunk * sizeof(struct dnsmon_event);

		if (copy_to_user(buf, &r->slots[tail], bytes))
			break;
		buf += bytes;
		done += chunk;
		tail += chunk;
		if (tail == r->size)
			tail = 0;
	}
	if (done == 0 && n > 0)
		return -EFAULT;
	dnsmon_ring_release(r, done);
	return done;
}

static ssize_t dnsmon_dev_read(struct file *file, char __user *buf,
			       size_t len, loff_t *off)
{
	struct dnsmon_ring *r = &dnsmon_ring;
	size_t max = len / sizeof(struct dnsmon_event);
	ssize_t n;
	int err;

	if (max == 0)
		return -EINVAL;
	if (max > r->size)
		max = r->size;

	for (;;) {
		if (dnsmon_ring_count(r) == 0) {
			if (file->f_flags & O_NONBLOCK)
				return -EAGAIN;
			err = wait_event_interruptible(r->wait,
						       dnsmon_ring_count(r) != 0);
			if (err)
				return err;
		}
		if (mutex_lock_interruptible(&r->read_lock))
			return -ERESTARTSYS;
		n = dnsmon_ring_copy(r, buf, (u32)max);
		mutex_unlock(&r->read_lock);
		/* Zero: another reader took the records first; wait again. */
		if (n != 0)
			break;
	}
	if (n < 0)
		return n;
	return n * sizeof(struct dnsmon_event);
}

static __poll_t dnsmon_dev_poll(struct file *file, poll_table *wait)
{
	struct dnsmon_ring *r = &dnsmon_ring;

	poll_wait(file, &r->wait, wait);
	if (dnsmon_ring_count(r) != 0)
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static long dnsmon_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct dnsmon_ring *r = &dnsmon_ring;
	struct dnsmon_stats stats;
	size_t size;

	/* An older tool gets the counters it knows, the struct's prefix. */
	switch (cmd) {
	case DNSMON_IOC_STATS:
		size = sizeof(stats);
		break;
	case DNSMON_IOC_STATS_V2:
		size = DNSMON_STATS_V2_SIZE;
		break;
	case DNSMON_IOC_STATS_V1:
		size = DNSMON_STATS_V1_SIZE;
		break;
	default:
		return -ENOTTY;
	}
	memset(&stats, 0, sizeof(stats));
	spin_lock_irq(&r->lock);
	stats.events = atomic64_read(&r->events);
	stats.dropped = atomic64_read(&r->dropped);
	stats.queued = r->count;
	spin_unlock_irq(&r->lock);
	stats.ring_size = r->size;
	stats.responses = atomic64_read(&r->counters[DNSMON_C_RESPONSES]);
	stats.other_opcodes = atomic64_read(&r->counters[DNSMON_C_OTHER_OPCODES]);
	stats.no_question = atomic64_read(&r->counters[DNSMON_C_NO_QUESTION]);
	stats.tcp_unparsed = atomic64_read(&r->counters[DNSMON_C_TCP_UNPARSED]);
	stats.malformed = atomic64_read(&r->counters[DNSMON_C_MALFORMED]);
	stats.answers = atomic64_read(&r->counters[DNSMON_C_ANSWERS]);
	stats.unpaired = atomic64_read(&r->counters[DNSMON_C_UNPAIRED]);
	stats.unanswered = atomic64_read(&r->counters[DNSMON_C_UNANSWERED]);
	stats.evicted = atomic64_read(&r->counters[DNSMON_C_EVICTED]);
	if (copy_to_user((void __user *)arg, &stats, size))
		return -EFAULT;
	return 0;
}

static const struct file_operations dnsmon_dev_fops = {
	.owner = THIS_MODULE,
	.open = dnsmon_dev_open,
	.read = dnsmon_dev_read,
	.poll = dnsmon_dev_poll,
	.unlocked_ioctl = dnsmon_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice dnsmon_miscdev __read_mostly = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = DNSMON_DEV_NAME,
	.fops = &dnsmon_dev_fops,
	.mode = DNSMON_DEV_MODE,
};

int dnsmon_dev_init(unsigned int ring_size)
{
	struct dnsmon_ring *r = &dnsmon_ring;
	unsigned int i;
	int err;

	BUILD_BUG_ON(DNSMON_STATS_V1_SIZE !=
		     offsetof(struct dnsmon_stats, responses));
	BUILD_BUG_ON(DNSMON_STATS_V2_SIZE !=
		     offsetof(struct dnsmon_stats, answers));
	BUILD_BUG_ON(DNSMON_EVENT_V2_SIZE !=
		     offsetof(struct dnsmon_event, lookup));
	spin_lock_init(&r->lock);
	mutex_init(&r->read_lock);
	init_waitqueue_head(&r->wait);
	r->size = ring_size;
	r->tail = 0;
	r->count = 0;
	atomic64_set(&r->events, 0);
	atomic64_set(&r->dropped, 0);
	for (i = 0; i < DNSMON_C_MAX; i++)
		atomic64_set(&r->counters[i], 0);
	r->slots = vzalloc((size_t)ring_size * sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;

	err = misc_register(&dnsmon_miscdev);
	if (err)
		goto free_slots;
	return 0;

free_slots:
	vfree(r->slots);
	r->slots = NULL;
	return err;
}

void dnsmon_dev_exit(void)
{
	struct dnsmon_ring *r = &dnsmon_ring;

	misc_deregister(&dnsmon_miscdev);
	vfree(r->slots);
	r->slots = NULL;
}
