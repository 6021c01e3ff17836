// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_log.c - the kernel log line of each event, rate-limited.
 */
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>

#include "dnsmon.h"

static const struct dnsmon_config *dnsmon_log_cfg;

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

/* The names of enum dnsmon_malformed_reason, as dnsmon-watch prints them. */
static const char *const dnsmon_reason_names[] = {
	[DNSMON_R_NONE] = "none",
	[DNSMON_R_SHORT_HEADER] = "short-header",
	[DNSMON_R_LABEL_PAST_END] = "label-past-end",
	[DNSMON_R_QUESTION_PAST_END] = "question-past-end",
	[DNSMON_R_BAD_LABEL_TYPE] = "bad-label-type",
	[DNSMON_R_NAME_TOO_LONG] = "name-too-long",
	[DNSMON_R_POINTER_LOOP] = "pointer-loop",
	[DNSMON_R_BAD_RECORD] = "bad-record",
};

/*
 * The log line, with comm made printable: it is any 15 bytes a task chose.
 * The name (or a malformed message's bytes) is escaped already.  The
 * caller has consulted the rate limit.
 */
void dnsmon_log(const struct dnsmon_event *ev)
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

void dnsmon_log_init(const struct dnsmon_config *config)
{
	struct dnsmon_log_limit *l = &dnsmon_log_limit;

	dnsmon_log_cfg = config;
	l->begin = jiffies;
	l->printed = 0;
	l->quiet_until = l->begin;
	atomic_set(&l->missed, 0);
}

bool dnsmon_log_due(void)
{
	struct dnsmon_log_limit *l = &dnsmon_log_limit;
	unsigned long flags, now = jiffies;
	bool due = false;

	if (!READ_ONCE(dnsmon_log_cfg->log))
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
