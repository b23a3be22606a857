// SPDX-License-Identifier: GPL-2.0
/*
 * mirror.c - mirror mode (`add ... mirror`): a region's samples copied in an
 * hrtimer callback, in hard irq, from page frames remembered once and kept
 * valid by an mmu_interval_notifier, as a secondary MMU (KVM, HMM users) keeps
 * its view of a process's pages.
 *
 * Objects and ownership
 * ---------------------
 * struct ums_mirror belongs to one region (region->mirror), made at add by
 * ums_mirror_new() and destroyed by ums_mirror_destroy() when the region
 * leaves the registry (del, reaper, failed write, module exit), all with
 * ums_ctl_lock held. It has:
 *  - an mmu_interval_notifier over the region's pages [start, start +
 *    nr_pages * PAGE_SIZE) of the target's mm (the notifier holds its own
 *    mmgrab() reference, dropped by mmu_interval_notifier_remove());
 *  - pages[]: the page frames of that range, as found by the last build.
 *    NO reference is held on them (no pin, no GUP reference: reclaim,
 *    migration, compaction and KSM treat them as any other page). They may
 *    be read only while `on` is true: `on` is set only if no invalidation of
 *    the range started since the build's mmu_interval_read_begin(), and the
 *    invalidate callback clears it (under @lock) before the kernel frees,
 *    moves or remaps any of those pages;
 *  - a place (@node) on the clock's list while it is on.
 *
 * The clock (ums_mirror_clock) is one hrtimer for all mirrors
 * (HRTIMER_MODE_ABS_HARD: hard irq, on PREEMPT_RT too). Each expiry takes
 * every due mirrored region in one callback and re-arms at the earliest
 * deadline left: R regions due at one deadline (deadlines are aligned to the
 * period) cost one interrupt, not R.
 *
 * Locks, outer first:
 *  - ums_mirror_clock.lock (raw spinlock) protects the clock's list, its
 *    `next` and the mirrors' @node. The callback holds it for its whole walk,
 *    so a mirror taken off the list (ums_mirror_suspend()) is no longer
 *    referenced by the callback once the lock is released.
 *  - ums_mirror.lock (raw spinlock, taken in hard irq by the callback, with
 *    irqs off elsewhere) protects `on`, `seq` (the notifier's sequence via
 *    mmu_interval_set_seq()/mmu_interval_read_retry()) and, while `on`, the
 *    region's sampler-owned fields: deadline, the latch's write side and
 *    slots, the per-region counters, path. The invalidate callback takes
 *    only this one. Nothing sleeps under either.
 *
 * Who samples a mirrored region (exactly one writer at any time):
 *  - `on` true: the clock. The thread skips the region (ums_mirror_on()).
 *  - `on` false: the sampler thread, as any other region. Only the thread
 *    sets `on` (ums_mirror_build(), after one of its own samples found every
 *    byte readable); the callback reads the region only under the mirror's
 *    lock with `on` true, so once `on` is cleared under that lock the region
 *    is the thread's alone.
 *  - The timer hands the region back (clears `on`, kicks the thread) instead
 *    of sampling whenever it cannot do the thread's job exactly: sampling is
 *    paused, the target exited, exec'd, changed credentials or became
 *    non-dumpable (the thread then retires it, as without mirror), or a page
 *    is poisoned (the thread's copy survives it and reports it). The deadline
 *    is not advanced, so the thread takes the sample that was due: none is
 *    lost, none is stale.
 *  - The invalidate callback clears `on` and kicks the thread. It never
 *    sleeps, so it also serves non-blockable invalidations (OOM reaper). The
 *    thread samples the region from then on and rebuilds the mirror after
 *    each of its samples; pages that were missing (never touched, swapped
 *    out) are thus re-checked every period, since no notifier fires when a
 *    page appears.
 *
 * Bounded interrupt time: a region's len must fit in the mirror_budget
 * module parameter, and so must the sum of all mirrored regions' lengths
 * (they may all be due in one expiry: deadlines are aligned to the
 * period); each region is at least a byte, so the walk is bounded too. An add over either gets E2BIG (this region alone) or ENOSPC
 * (the sum), with a message. A kernel without CONFIG_MMU_NOTIFIER (the
 * debug kernel's tinyconfig) refuses `mirror` with EOPNOTSUPP.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "umsampler.h"

/**
 * struct ums_mirror - a region's notifier-guarded view of its pages
 * @notifier:	over the region's pages; its own mmgrab() of the mm
 * @node:	[clock lock] on ums_mirror_clock.list while on (or until the
 *		callback or ums_mirror_suspend() notices it is off)
 * @lock:	see the top of the file
 * @region:	the owning region (outlives the mirror)
 * @start:	page-aligned user address of pages[0]
 * @nr_pages:	pages in the range
 * @on:		[lock] pages[] valid, the clock samples the region
 * @pages:	[@on] page frames of the range, no reference held
 */
struct ums_mirror {
	struct mmu_interval_notifier notifier;
	struct list_head node;
	raw_spinlock_t lock;
	struct ums_region *region;
	unsigned long start;
	unsigned int nr_pages;
	bool on;
	struct page *pages[];
};

struct ums_mirror_stats ums_mirror_stats;

#ifdef CONFIG_MMU_NOTIFIER

/**
 * struct ums_mirror_clock - the one hrtimer of all mirrors
 * @timer:	ABS_HARD; started only by the sampler thread (after
 *		hrtimer_cancel(), so never while queued or running), re-armed
 *		only by its own callback
 * @lock:	protects @list, @next and every mirror's node (see the top)
 * @list:	the mirrors that are on (and some just turned off)
 * @next:	[lock] expiry the timer is armed for, U64_MAX if not armed
 */
struct ums_mirror_clock {
	struct hrtimer timer;
	raw_spinlock_t lock;
	struct list_head list;
	u64 next;
};

static struct ums_mirror_clock ums_mirror_clock = {
	.lock = __RAW_SPIN_LOCK_UNLOCKED(ums_mirror_clock.lock),
	.list = LIST_HEAD_INIT(ums_mirror_clock.list),
	.next = U64_MAX,
};

/* Bytes of all existing mirrors (prepared or linked regions); ums_ctl_lock. */
static unsigned long ums_mirror_reserved;

/* Lateness histogram of mirror samples (buckets of ums_hist_bucket()); any CPU. */
static atomic64_t ums_mirror_late_hist[UMS_HIST_NR];

static u64 ums_mirror_hist_count(unsigned int b)
{
	return atomic64_read(&ums_mirror_late_hist[b]);
}

/**
 * ums_mirror_late_p99() - 99th percentile of mirror-sample lateness
 *
 * Return: an upper bound of the bucket holding it, in ns (0: no sample).
 */
u64 ums_mirror_late_p99(void)
{
	return ums_hist_p99(ums_mirror_hist_count);
}

/*
 * The invalidate callback: the kernel is about to unmap, move, replace or
 * re-protect pages of the range. Hand the region back to the thread. Never
 * sleeps (serves non-blockable invalidations too), always succeeds.
 */
static bool ums_mirror_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct ums_mirror *m = container_of(mni, struct ums_mirror, notifier);
	unsigned long flags;
	bool was_on;

	raw_spin_lock_irqsave(&m->lock, flags);
	mmu_interval_set_seq(mni, cur_seq);
	was_on = m->on;
	m->on = false;
	raw_spin_unlock_irqrestore(&m->lock, flags);
	if (was_on) {
		atomic64_inc(&ums_mirror_stats.handbacks);
		umsd_kick();
	}
	return true;
}

static const struct mmu_interval_notifier_ops ums_mirror_ops = {
	.invalidate = ums_mirror_invalidate,
};

/*
 * Would the thread sample @t now (umsd_target_alive() without the reasons)?
 * Pointer comparisons under RCU: no reference, no lock.
 */
static bool ums_mirror_target_ok(const struct ums_target *t)
{
	struct task_struct *task;
	bool ok;

	rcu_read_lock();
	task = pid_task(t->pid, PIDTYPE_PID);
	ok = task && READ_ONCE(task->mm) == t->mm &&
	     rcu_access_pointer(task->real_cred) == t->cred;
	rcu_read_unlock();
	return ok && (get_dumpable(t->mm) == SUID_DUMP_USER ||
		      (!t->delegated && READ_ONCE(ums_param_allow_nondumpable)));
}

/* Copy @r's bytes from the mirrored page frames; false on a memory error. m->lock held, on. */
static bool ums_mirror_copy(struct ums_mirror *m, struct ums_region *r, u8 *dst)
{
	size_t off = 0, chunk;
	unsigned long addr, rem;
	struct page *page;
	void *kaddr;

	while (off < r->len) {
		addr = r->addr + off;
		chunk = min_t(size_t, r->len - off, PAGE_SIZE - offset_in_page(addr));
		page = m->pages[(addr - m->start) >> PAGE_SHIFT];
		if (PageHWPoison(page))
			return false;
		kaddr = kmap_local_page(page);
		rem = copy_mc_to_kernel(dst + off, kaddr + offset_in_page(addr), chunk);
		kunmap_local(kaddr);
		if (rem)
			return false;
		off += chunk;
	}
	return true;
}

/*
 * What one expiry's walk did, added to ums_mirror_stats once at its end:
 * a handful of atomics per expiry, not per region-sample. The lateness
 * histogram is counted in runs of one bucket (the regions of one deadline
 * are late by about the same).
 */
struct ums_mirror_walk {
	const struct ums_target *target;	/* the last target checked ... */
	bool ok;				/* ... and whether the thread would sample it */
	u64 samples, bytes, emitted, missed, late_max;
	unsigned int bucket, run;		/* lateness bucket, samples in it */
};

static void ums_mirror_walk_late(struct ums_mirror_walk *w, u64 late)
{
	unsigned int b = ums_hist_bucket(late);

	if (w->run && b != w->bucket) {
		atomic64_add(w->run, &ums_mirror_late_hist[w->bucket]);
		w->run = 0;
	}
	w->bucket = b;
	w->run++;
	w->late_max = max(w->late_max, late);
}

static void ums_mirror_walk_end(struct ums_mirror_walk *w, u64 start)
{
	s64 old = atomic64_read(&ums_mirror_stats.late_max_ns);

	if (w->run)
		atomic64_add(w->run, &ums_mirror_late_hist[w->bucket]);
	while ((u64)old < w->late_max &&
	       !atomic64_try_cmpxchg(&ums_mirror_stats.late_max_ns, &old, w->late_max))
		;
	if (w->samples) {
		atomic64_add(w->samples, &ums_mirror_stats.samples);
		atomic64_add(w->bytes, &ums_mirror_stats.bytes);
		atomic64_add(w->emitted, &ums_mirror_stats.emitted);
		atomic64_add(w->missed, &ums_mirror_stats.missed);
	}
	atomic64_inc(&ums_mirror_stats.expiries);
	atomic64_add(ktime_get_ns() - start, &ums_mirror_stats.cpu_ns);
}

/* Would the thread sample @t now? One answer per run of regions of one target. */
static bool ums_mirror_walk_ok(struct ums_mirror_walk *w, const struct ums_target *t)
{
	if (w->target != t) {
		w->target = t;
		w->ok = ums_mirror_target_ok(t);
	}
	return w->ok;
}

/*
 * Take @m's sample if it is due; m->lock held, on. Returns false if the
 * region goes back to the thread: the deadline did not move, so the thread
 * takes this very sample.
 */
static bool ums_mirror_sample(struct ums_mirror *m, struct ums_mirror_walk *w, u64 now)
{
	struct ums_region *r = m->region;
	struct ums_slot *slot;
	u64 late, skipped;

	if (r->deadline > now)
		return true;
	slot = ums_region_next_slot(r);
	slot->addr = r->addr;
	if (!ums_mirror_walk_ok(w, r->target) || !ums_mirror_copy(m, r, slot->data))
		return false;
	/* Every byte was read: mapped and readable. */
	now = ktime_get_ns();
	r->unmapped_streak = 0;
	if (ums_region_publish(r, now, 0, UMS_PATH_MIRROR, false, &late))
		w->emitted++;
	w->samples++;
	w->bytes += r->len;
	ums_mirror_walk_late(w, late);

	r->deadline += r->period_ns;
	if (r->deadline <= now) {
		skipped = div64_u64(now - r->deadline, r->period_ns) + 1;
		r->deadline += skipped * r->period_ns;
		w->missed += skipped;
	}
	return true;
}

/*
 * The clock's callback, in hard irq: every due mirrored region sampled in
 * one walk, then re-armed at the earliest deadline left.
 */
static enum hrtimer_restart ums_mirror_tick(struct hrtimer *timer)
{
	struct ums_mirror_clock *c = container_of(timer, struct ums_mirror_clock, timer);
	bool enabled = READ_ONCE(ums_enabled), kick = false, on;
	u64 now = ktime_get_ns(), next = U64_MAX;
	struct ums_mirror_walk w = { };
	struct ums_mirror *m, *tmp;

	raw_spin_lock(&c->lock);
	list_for_each_entry_safe(m, tmp, &c->list, node) {
		raw_spin_lock(&m->lock);
		if (m->on && (!enabled || !ums_mirror_sample(m, &w, now))) {
			m->on = false;
			kick = true;
			atomic64_inc(&ums_mirror_stats.handbacks);
		}
		on = m->on;
		if (on)
			next = min(next, m->region->deadline);
		raw_spin_unlock(&m->lock);
		if (!on)
			list_del_init(&m->node);
	}
	c->next = next;
	if (next != U64_MAX)
		hrtimer_set_expires(timer, ns_to_ktime(next));
	raw_spin_unlock(&c->lock);
	ums_mirror_walk_end(&w, now);
	if (kick)
		umsd_kick();
	return next != U64_MAX ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

/**
 * ums_mirror_new() - give a region being added its mirror (off until built)
 * @r:		the prepared region (not linked yet)
 * @mm:		its target's mm, mm_users held by the caller
 * @line:	control line, for messages
 * @perr:	receives the reason on failure
 *
 * Context: process context, ums_ctl_lock held; may sleep (takes the mm's
 * mmap lock for writing, killably: -EINTR).
 * Return: 0; -E2BIG if r->len exceeds mirror_budget; -ENOSPC if all mirrored
 * regions together would; -ENOMEM; or the notifier's error.
 */
int ums_mirror_new(struct ums_region *r, struct mm_struct *mm, unsigned int line,
		   struct ums_perr *perr)
{
	unsigned int budget = READ_ONCE(ums_param_mirror_budget), nr;
	unsigned long start = r->addr & PAGE_MASK;
	struct ums_mirror *m;
	int ret;

	lockdep_assert_held(&ums_ctl_lock);
	if (r->len > budget)
		return ums_perr_set(perr, -E2BIG, line,
				    "mirror: len %llu exceeds mirror_budget (%u bytes)", r->len, budget);
	if (ums_mirror_reserved + r->len > budget)
		return ums_perr_set(perr, -ENOSPC, line,
				    "mirror: mirrored regions would copy %lu bytes per expiry, over mirror_budget (%u)",
				    ums_mirror_reserved + (unsigned long)r->len, budget);
	nr = (PAGE_ALIGN(r->addr + r->len) - start) >> PAGE_SHIFT;
	m = kzalloc(struct_size(m, pages, nr), GFP_KERNEL);
	if (!m)
		return ums_perr_set(perr, -ENOMEM, line, "out of memory");
	raw_spin_lock_init(&m->lock);
	m->region = r;
	m->start = start;
	m->nr_pages = nr;
	INIT_LIST_HEAD(&m->node);
	/*
	 * The first notifier of an mm needs its mmap lock for writing: waited
	 * for killably, like the add's own read lock (registry.c).
	 */
	ret = mmap_write_lock_killable(mm);
	if (!ret) {
		/* Removed by ums_mirror_destroy(); holds its own mmgrab() until then. */
		ret = mmu_interval_notifier_insert_locked(&m->notifier, mm, start,
							  (unsigned long)nr << PAGE_SHIFT,
							  &ums_mirror_ops);
		mmap_write_unlock(mm);
	}
	if (ret) {
		kfree(m);
		return ums_perr_set(perr, ret, line, "mirror: cannot watch the range: %d", ret);
	}
	ums_mirror_reserved += r->len;
	r->mirror = m;
	return 0;
}

/**
 * ums_mirror_destroy() - stop and free a region's mirror, if it has one
 * @r:	a region that the sampler thread can no longer reach (unlinked, or
 *	never linked)
 *
 * Waits for a running clock callback and a running invalidate callback;
 * afterwards neither runs again for @r.
 * Context: process context, ums_ctl_lock held; may sleep.
 */
void ums_mirror_destroy(struct ums_region *r)
{
	struct ums_mirror *m = r->mirror;

	lockdep_assert_held(&ums_ctl_lock);
	if (!m)
		return;
	/* Not turned on again: the thread no longer sees @r. */
	ums_mirror_suspend(r);
	mmu_interval_notifier_remove(&m->notifier);
	ums_mirror_reserved -= r->len;
	r->mirror = NULL;
	kfree(m);
}

/**
 * ums_mirror_on() - does the mirror's hrtimer sample @r now?
 * @r:	a region
 *
 * Only the sampler thread turns a mirror on, so a false answer stays false
 * until the thread itself builds the mirror: the thread may then sample @r.
 * Context: any; takes the mirror's lock.
 * Return: true if @r has a mirror that is on.
 */
bool ums_mirror_on(struct ums_region *r)
{
	struct ums_mirror *m = r->mirror;
	unsigned long flags;
	bool on;

	if (!m)
		return false;
	raw_spin_lock_irqsave(&m->lock, flags);
	on = m->on;
	raw_spin_unlock_irqrestore(&m->lock, flags);
	return on;
}

/*
 * Make the clock expire no later than @deadline. Only the sampler thread
 * starts it, after cancelling it: hrtimer_start() never meets its callback.
 */
static void ums_mirror_clock_arm(struct ums_mirror_clock *c, u64 deadline)
{
	u64 next;

	hrtimer_cancel(&c->timer);
	raw_spin_lock_irq(&c->lock);
	/* The callback may have run meanwhile and armed for later, or found nothing. */
	c->next = min(c->next, deadline);
	next = c->next;
	raw_spin_unlock_irq(&c->lock);
	hrtimer_start(&c->timer, ns_to_ktime(next), HRTIMER_MODE_ABS_HARD);
}

/**
 * ums_mirror_build() - (re)build @r's mirror after a thread sample, and turn it on
 * @r:		a linked region the thread just sampled (its mirror is off)
 * @mm:		the target's mm: mmap lock held for reading, mm_users held
 * @flags:	the flags of that sample: a partial sample (a byte missing,
 *		unmapped or refused) leaves the mirror off, to be tried again
 *		after the next sample
 *
 * Looks every page of the range up without faulting (FOLL_NOFAULT: only
 * present pages) and drops each GUP reference at once; the page frames stay
 * valid only while no invalidation of the range starts, which the notifier
 * sequence checks under the lock. The timer then takes the region's next
 * deadline: the clock is re-armed if it would expire later.
 * Context: the sampler thread, ums_lock held; may sleep
 * (mmu_interval_read_begin() waits for an invalidation in progress).
 */
void ums_mirror_build(struct ums_region *r, struct mm_struct *mm, u32 flags)
{
	struct ums_mirror_clock *c = &ums_mirror_clock;
	struct ums_mirror *m = r->mirror;
	struct vm_area_struct *vma;
	unsigned long seq, addr;
	bool on, rearm;
	struct page *page;
	unsigned int i;
	u64 deadline;

	if (!m || (flags & UMS_F_PARTIAL) || r->gone || !READ_ONCE(ums_enabled))
		return;
	seq = mmu_interval_read_begin(&m->notifier);
	for (i = 0; i < m->nr_pages; i++) {
		addr = m->start + ((unsigned long)i << PAGE_SHIFT);
		vma = vma_lookup(mm, addr);
		if (!vma || umsd_vma_refused(vma))
			return;
		if (ums_gup_remote(mm, addr, FOLL_FORCE | FOLL_NOFAULT, &page) != 1)
			return;
		/* Off: the timer does not read pages[]; the lock below orders these writes. */
		m->pages[i] = page;
		put_page(page);
	}
	raw_spin_lock_irq(&c->lock);
	raw_spin_lock(&m->lock);
	on = !mmu_interval_read_retry(&m->notifier, seq);
	m->on = on;
	deadline = r->deadline;
	raw_spin_unlock(&m->lock);
	if (on && list_empty(&m->node))
		list_add_tail(&m->node, &c->list);
	rearm = on && deadline < c->next;
	raw_spin_unlock_irq(&c->lock);
	if (!on)
		return;
	atomic64_inc(&ums_mirror_stats.builds);
	if (rearm)
		ums_mirror_clock_arm(c, deadline);
}

/**
 * ums_mirror_suspend() - hand @r back to the thread (sampling paused, or @r going away)
 * @r:	a region
 *
 * Afterwards the clock's callback no longer reads or writes @r and holds no
 * pointer to its mirror, so the thread may change @r's deadline
 * (umsd_realign()) and ums_mirror_destroy() may free the mirror. Only the
 * thread turns it on again. The clock may still expire once for nothing.
 * Context: process context (the sampler thread with ums_lock held, or
 * ums_mirror_destroy()); does not sleep.
 */
void ums_mirror_suspend(struct ums_region *r)
{
	struct ums_mirror *m = r->mirror;

	if (!m)
		return;
	raw_spin_lock_irq(&ums_mirror_clock.lock);
	raw_spin_lock(&m->lock);
	m->on = false;
	raw_spin_unlock(&m->lock);
	list_del_init(&m->node);
	raw_spin_unlock_irq(&ums_mirror_clock.lock);
}

/**
 * ums_mirror_init() - set the clock up
 *
 * Context: module init, before any region exists.
 */
void ums_mirror_init(void)
{
	ums_hrtimer_setup(&ums_mirror_clock.timer, ums_mirror_tick, CLOCK_MONOTONIC,
			  HRTIMER_MODE_ABS_HARD);
}

/**
 * ums_mirror_exit() - stop the clock
 *
 * Context: module exit, after every region (and so every mirror) was
 * destroyed: the callback finds an empty list and would not re-arm.
 */
void ums_mirror_exit(void)
{
	hrtimer_cancel(&ums_mirror_clock.timer);
}

/**
 * ums_mirror_state() - @r's mirror state for `regions` and `snapshot`
 * @r:	a region
 *
 * Return: UMS_MIRROR_OFF (no mirror asked for), _ON or _STALE.
 */
enum ums_mirror_state ums_mirror_state(struct ums_region *r)
{
	if (!r->mirror)
		return UMS_MIRROR_OFF;
	return ums_mirror_on(r) ? UMS_MIRROR_ON : UMS_MIRROR_STALE;
}

#else /* !CONFIG_MMU_NOTIFIER: no mirror can be made, every region is the thread's. */

int ums_mirror_new(struct ums_region *r, struct mm_struct *mm, unsigned int line,
		   struct ums_perr *perr)
{
	return ums_perr_set(perr, -EOPNOTSUPP, line, "mirror: this kernel has no CONFIG_MMU_NOTIFIER");
}

void ums_mirror_destroy(struct ums_region *r)
{
}

bool ums_mirror_on(struct ums_region *r)
{
	return false;
}

void ums_mirror_build(struct ums_region *r, struct mm_struct *mm, u32 flags)
{
}

void ums_mirror_suspend(struct ums_region *r)
{
}

enum ums_mirror_state ums_mirror_state(struct ums_region *r)
{
	return UMS_MIRROR_OFF;
}

u64 ums_mirror_late_p99(void)
{
	return 0;
}

void ums_mirror_init(void)
{
}

void ums_mirror_exit(void)
{
}

#endif /* CONFIG_MMU_NOTIFIER */
