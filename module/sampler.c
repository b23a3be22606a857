// SPDX-License-Identifier: GPL-2.0
/*
 * sampler.c - the sampler thread ("umsampler"): deadlines, the absolute-time
 * hrtimer sleep, one mmap read-trylock per address space per wake-up (the
 * bytes are read from page frames, copy.c), publishing samples and emitting
 * umsampler:sample events, retiring targets that went away or withdrew
 * consent (exit, exec, changed credentials, non-dumpable).
 *
 * Functions named umsd_* run only in the sampler thread (or, for
 * umsd_start/stop/kick, control it).
 *
 * Timing: every region has an absolute deadline (CLOCK_MONOTONIC ns), aligned
 * to a multiple of its period when added. After a sample the deadline advances
 * by one period; if that is already in the past, whole periods are skipped and
 * counted in `missed` - the sampler never bursts to catch up, and never
 * accumulates drift. The thread sleeps with schedule_hrtimeout_range(ABS, 0
 * slack) until the earliest deadline, or until a control write kicks it.
 *
 * Spans: due regions of one target that follow each other in the target's
 * list and lie close together (each starts inside, or at most UMSD_SPAN_GAP
 * bytes after, what the span already covers; the span stays within
 * UMSD_SPAN_MAX bytes) are read with one user copy and one clock read, then
 * split into their regions. A struct's fields or an array's elements
 * registered one by one thus cost one copy, not one each, and are copied at
 * the same instant. A gap shorter than a page only touches pages that hold
 * bytes of the span's regions, so a span reads no page no region asked for.
 * If any byte of a span is not resident, its regions are read one by one
 * (missing pages, `fault` mode and unmapped detection are per region).
 *
 * Scheduling: SCHED_NORMAL by default; with the sched_fifo parameter the
 * thread switches itself to SCHED_FIFO (sched_set_fifo_low(): the lowest RT
 * priority, above every normal task) at its next wake-up, for punctual
 * sampling on a busy CPU.
 *
 * The pass holds ums_lock (see umsampler.h); everything it touches was
 * allocated by the control write that added the region, so the hot path
 * allocates nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/mmap_lock.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "render.h"
#include "umsampler.h"
#include "umsampler_trace.h"

struct ums_stats ums_stats;
/* Sampling on/off (debugfs `enabled`); read by the sampler each pass. */
bool ums_enabled = true;

static struct task_struct *umsd_task;
/* Set by umsd_kick() to make the sampler re-evaluate deadlines. */
static atomic_t umsd_kicked = ATOMIC_INIT(0);

#define UMSD_SPAN_MAX	PAGE_SIZE
#define UMSD_SPAN_GAP	256
/* Bounce buffer of span copies: used by the sampler thread only, under ums_lock. */
static u8 umsd_span_buf[UMSD_SPAN_MAX];

static void umsd_reap_fn(struct work_struct *work)
{
	ums_reap();
}

static DECLARE_WORK(umsd_reap_work, umsd_reap_fn);

/* Lateness histogram for late_p99_ns (thread samples), written by the sampler only. */
static u64 umsd_late_hist[UMS_HIST_NR];

/**
 * ums_hist_bucket() - histogram bucket of a lateness
 * @ns:	lateness in ns
 *
 * Log2 buckets split in UMS_HIST_SUB linear sub-buckets (<= 19% error).
 * Return: the bucket, < UMS_HIST_NR.
 */
unsigned int ums_hist_bucket(u64 ns)
{
	unsigned int lg;

	if (ns < UMS_HIST_SUB)
		return ns;
	lg = ilog2(ns);
	return lg * UMS_HIST_SUB + ((ns >> (lg - 2)) & (UMS_HIST_SUB - 1));
}

static u64 umsd_hist_upper(unsigned int b)
{
	unsigned int lg = b / UMS_HIST_SUB, sub = b % UMS_HIST_SUB;

	if (b < UMS_HIST_SUB)
		return b;
	if (lg >= 63)
		return U64_MAX;
	return (1ULL << lg) + (((u64)sub + 1) << (lg - 2)) - 1;
}

static void umsd_account_late(u64 late)
{
	umsd_late_hist[ums_hist_bucket(late)]++;
	if (late > ums_stats.late_max_ns)
		WRITE_ONCE(ums_stats.late_max_ns, late);
}

/**
 * ums_hist_p99() - 99th percentile of a lateness histogram
 * @count:	returns the count of one bucket
 *
 * Return: an upper bound of the bucket holding the 99th percentile, in ns
 * (0: empty histogram).
 */
u64 ums_hist_p99(u64 (*count)(unsigned int bucket))
{
	u64 total = 0, acc = 0, want;
	unsigned int i;

	for (i = 0; i < UMS_HIST_NR; i++)
		total += count(i);
	if (!total)
		return 0;
	want = total - total / 100;
	for (i = 0; i < UMS_HIST_NR; i++) {
		acc += count(i);
		if (acc >= want)
			return umsd_hist_upper(i);
	}
	return U64_MAX;
}

static u64 umsd_hist_count(unsigned int b)
{
	return READ_ONCE(umsd_late_hist[b]);
}

/**
 * umsd_late_p99() - 99th percentile of thread-sample lateness, from the histogram
 *
 * Return: an upper bound of the bucket holding the 99th percentile, in ns.
 */
u64 umsd_late_p99(void)
{
	return ums_hist_p99(umsd_hist_count);
}

/**
 * ums_region_read() - copy the latest published sample of a region
 * @r:		region; the caller keeps it alive (ums_ctl_lock or a debugfs file)
 * @out:	receives seq/time/late/flags (out->data is left untouched)
 * @data:	receives r->len bytes, or NULL for the metadata only
 *
 * Never blocks the sampler: retries if a new sample was published meanwhile.
 * out->seq is 0 if nothing was sampled yet.
 */
void ums_region_read(struct ums_region *r, struct ums_slot *out, u8 *data)
{
	const struct ums_slot *s;
	unsigned int seq;

	do {
		seq = raw_read_seqcount_latch(&r->latch);
		s = &r->slot[seq & 1];
		out->seq = READ_ONCE(s->seq);
		out->time_ns = READ_ONCE(s->time_ns);
		out->late_ns = READ_ONCE(s->late_ns);
		out->addr = READ_ONCE(s->addr);
		out->flags = READ_ONCE(s->flags);
		if (data)
			memcpy(data, s->data, r->len);
	} while (raw_read_seqcount_latch_retry(&r->latch, seq));
}

/*
 * Emit the sample in @s as each enabled event asks: umsampler:sample (in chunks) and
 * umsampler:batch (@spanned: into the open batch of the span, batch.c).
 */
static void umsd_emit(struct ums_region *r, const struct ums_slot *s, s64 value, bool spanned)
{
	u32 off = 0, chunk;

	if (trace_sample_enabled()) {
		do {
			chunk = min_t(u64, r->len - off, UMS_EVENT_CHUNK);
			trace_sample(r, s, value, off, s->data + off, chunk);
			off += chunk;
		} while (off < r->len);
	}
	if (trace_batch_enabled() && !(spanned && ums_batch_ev_add(r, s)))
		ums_batch_ev_one(r, s);
	WRITE_ONCE(r->nr_emitted, r->nr_emitted + 1);
}

/**
 * ums_region_next_slot() - the slot the next sample of @r is copied into
 * @r:	region; the caller is its sampler (thread, or mirror timer)
 *
 * Readers may still be copying it: they notice the latch moved and retry.
 * Return: the unpublished slot.
 */
struct ums_slot *ums_region_next_slot(struct ums_region *r)
{
	return &r->slot[(raw_read_seqcount_latch(&r->latch) & 1) ^ 1];
}

/**
 * ums_region_publish() - publish the sample copied into the next slot, and emit it
 * @r:		region; the caller is its only sampler (see umsampler.h)
 * @now:	CLOCK_MONOTONIC time of the copy
 * @flags:	UMS_F_PARTIAL if bytes were missing; the others are added here
 * @path:	who copied it
 * @spanned:	the thread copied it in a span: umsampler:batch gathers the
 *		span's samples into one event (batch.c); false in the mirror timer
 * @late:	receives the lateness against r->deadline
 *
 * The same for both paths: slot, latch, per-region counters, the
 * umsampler:sample event(s) as r->mode says. Global statistics are the
 * caller's. Context: any, hard irq included; never sleeps.
 * Return: true if the sample was emitted as event(s).
 */
bool ums_region_publish(struct ums_region *r, u64 now, u32 flags, enum ums_path path,
			bool spanned, u64 *late)
{
	unsigned int cur = raw_read_seqcount_latch(&r->latch) & 1;
	struct ums_slot *prev = &r->slot[cur], *s = &r->slot[cur ^ 1];
	bool emit;

	*late = now > r->deadline ? now - r->deadline : 0;
	if (!prev->seq || prev->addr != s->addr || memcmp(prev->data, s->data, r->len))
		flags |= UMS_F_CHANGED;
	if (r->vtype == UMS_VT_STR && !memchr(s->data, 0, r->len))
		flags |= UMS_F_TRUNCATED;
	s->seq = prev->seq + 1;
	s->time_ns = now;
	s->late_ns = *late;
	s->flags = flags;
	raw_write_seqcount_latch(&r->latch);

	WRITE_ONCE(r->nr_samples, r->nr_samples + 1);
	if (flags & UMS_F_PARTIAL)
		WRITE_ONCE(r->nr_partial, r->nr_partial + 1);
	WRITE_ONCE(r->path, path);
	emit = r->mode == UMS_MODE_ALWAYS || (r->mode == UMS_MODE_CHANGE && (flags & UMS_F_CHANGED));
	if (emit)
		umsd_emit(r, s, ums_value_field(r->vtype, s->data, r->len), spanned);
	return emit;
}

/*
 * Take one sample of @r and publish and emit it. @span: @r's bytes, already
 * copied at time @now (a span copy) from address @at; NULL: copy them now
 * from @mm (NULL: debug_floor). Returns the sample's flags.
 */
static u32 umsd_sample(struct ums_region *r, struct mm_struct *mm, const u8 *span, u64 now,
		       u64 at)
{
	struct ums_slot *s = ums_region_next_slot(r);
	u32 flags = 0;
	u64 late;

	s->addr = span ? at : r->addr;
	if (span) {
		memcpy(s->data, span, r->len);
		r->unmapped_streak = 0;	/* every byte was readable */
	} else {
		if (!mm)
			flags = umsd_copy_floor(r, s->data);
		else if (ums_region_chained(r))
			flags = umsd_copy_chain(r, s, mm);
		else
			flags = umsd_copy(r, s->data, mm);
		now = ktime_get_ns();
	}
	if (ums_region_publish(r, now, flags, UMS_PATH_THREAD, span != NULL, &late))
		ums_stats.emitted++;
	ums_stats.samples++;
	ums_stats.bytes += r->len;
	if (flags & UMS_F_PARTIAL)
		ums_stats.partial++;
	umsd_account_late(late);

	if (r->unmapped_streak >= READ_ONCE(ums_param_unmapped_limit)) {
		r->gone = true;
		ums_region_emit(r, UMS_REG_GONE, UMS_WHY_UNMAPPED);
	}
	return flags;
}

/*
 * The span starting at the due region @first (see the top of the file): returns
 * its last region (@first itself if no other region joins) and its length in
 * bytes from @first->addr.
 */
static struct ums_region *umsd_span(struct ums_target *t, struct ums_region *first,
				    u64 now, size_t *len)
{
	struct ums_region *last = first, *n = first;
	u64 end = first->addr + first->len, nend;

	/* Chains and seq= regions read elsewhere than their addr, one by one. */
	if (first->len > UMSD_SPAN_MAX / 2 || ums_region_chained(first))
		goto out;
	list_for_each_entry_continue(n, &t->regions, tnode) {
		nend = max(end, n->addr + n->len);
		if (n->gone || n->deadline > now || ums_mirror_on(n) || ums_region_chained(n) ||
		    n->addr < first->addr ||
		    n->addr > end + UMSD_SPAN_GAP || nend - first->addr > UMSD_SPAN_MAX)
			break;
		end = nend;
		last = n;
	}
out:
	*len = end - first->addr;
	return last;
}

/* Do @a and @b follow the same pointers to one object (fields of a struct on the heap)? */
static bool umsd_same_object(const struct ums_region *a, const struct ums_region *b)
{
	return b->nr_deref == a->nr_deref && !b->seq_mode && b->addr == a->addr &&
	       !memcmp(a->deref, b->deref, (a->nr_deref - 1) * sizeof(a->deref[0]));
}

/*
 * The run of due chained regions from @first on that follow the same
 * pointers as @first (regions added one after the other for the fields of
 * one object): its last region, @first itself if none joins.
 */
static struct ums_region *umsd_object_run(struct ums_target *t, struct ums_region *first, u64 now)
{
	struct ums_region *last = first, *n = first;

	if (!first->nr_deref || first->seq_mode)
		return first;
	list_for_each_entry_continue(n, &t->regions, tnode) {
		if (n->gone || n->deadline > now || !umsd_same_object(first, n))
			break;
		last = n;
	}
	return last;
}

/*
 * The regions @first..@last reach one object: follow the chain once and,
 * when all their bytes lie within a span, read them with one copy. Returns
 * the span's bytes (from address *@lo; *@obj: the object) or NULL: then each
 * region is read as usual.
 */
static const u8 *umsd_object_span(struct ums_region *first, struct ums_region *last,
				  struct mm_struct *mm, u64 *obj, u64 *lo)
{
	struct ums_region *x;
	bool base_unmapped;
	u64 a, hi = 0;

	*obj = umsd_chain_object(first, mm, &base_unmapped);
	*lo = U64_MAX;
	for (x = first; ; x = list_next_entry(x, tnode)) {
		a = umsd_chain_addr(x, *obj, mm);
		if (!a)
			return NULL;
		*lo = min(*lo, a);
		hi = max(hi, a + x->len);
		if (x == last)
			break;
	}
	if (hi - *lo > UMSD_SPAN_MAX || !umsd_copy_span(*lo, hi - *lo, umsd_span_buf, mm))
		return NULL;
	ums_stats.spans++;
	return umsd_span_buf;
}

/*
 * Advance @r's deadline past @now by whole periods, counting skipped ones.
 * After the first sample (taken as soon as the region is added), deadlines
 * move to multiples of the period, so that regions with the same period share
 * wake-ups and, per mm, one attach.
 */
static void umsd_advance(struct ums_region *r, u64 now)
{
	u64 skipped;

	if (r->nr_samples == 1) {
		r->deadline = (div64_u64(now, r->period_ns) + 1) * r->period_ns;
		return;
	}
	r->deadline += r->period_ns;
	if (r->deadline > now)
		return;
	skipped = div64_u64(now - r->deadline, r->period_ns) + 1;
	r->deadline += skipped * r->period_ns;
	ums_stats.missed += skipped;
}

/*
 * May @t still be sampled? Its pid must still name a task whose mm is ours
 * (else it exited or exec'd: t->mm is pinned by mmgrab, so comparing the
 * pointer is meaningful), whose credentials are the ones the add's access
 * check saw (t->cred is pinned by get_task_cred(), likewise), and which is
 * still dumpable (unless allow_nondumpable, which never covers a delegated
 * user's target). Sets t->gone_why otherwise.
 */
static bool umsd_target_alive(struct ums_target *t)
{
	struct task_struct *task;
	struct mm_struct *mm;
	bool same_cred;

	rcu_read_lock();
	task = pid_task(t->pid, PIDTYPE_PID);
	mm = task ? READ_ONCE(task->mm) : NULL;
	same_cred = task && rcu_access_pointer(task->real_cred) == t->cred;
	rcu_read_unlock();
	if (mm != t->mm) {
		t->gone_why = mm ? UMS_WHY_EXEC : UMS_WHY_EXIT;
		return false;
	}
	if (!same_cred) {
		t->gone_why = UMS_WHY_CRED;
		return false;
	}
	if (get_dumpable(t->mm) != SUID_DUMP_USER &&
	    (t->delegated || !READ_ONCE(ums_param_allow_nondumpable))) {
		t->gone_why = UMS_WHY_NONDUMPABLE;
		return false;
	}
	return true;
}

static void umsd_target_gone(struct ums_target *t)
{
	struct ums_region *r;

	t->gone = true;
	ums_stats.targets_gone++;
	ums_for_each_target_region(r, t)
		if (!r->gone)
			ums_region_emit(r, UMS_REG_GONE, t->gone_why);
}

/*
 * Sample @t's due regions with one mmap lock (read, never waited for): the
 * copies read the target's page frames (copy.c). With the debug_floor
 * parameter the bytes come from a kernel buffer instead (no target): the
 * benchmark floor. If the lock is held for writing (mmap, munmap, mprotect in
 * progress), the due regions skip this period (`busy`). Returns true if a
 * region went away.
 */
static bool umsd_sample_target(struct ums_target *t, u64 now)
{
	bool due = false, reap = false, floor = READ_ONCE(ums_param_debug_floor);
	struct mm_struct *mm = floor ? NULL : t->mm;
	struct ums_region *r, *x, *last;
	bool locked = false;
	size_t span_len;
	u64 t0, stamp, base, obj = 0, at;
	const u8 *span;
	u32 flags;

	ums_for_each_target_region(r, t) {
		if (!r->gone && r->deadline <= now && !ums_mirror_on(r)) {
			due = true;
			break;
		}
	}
	if (!due)
		return false;

	/* The mm_users reference keeps the address space for GUP; dropped below. */
	if (!umsd_target_alive(t) || !mmget_not_zero(t->mm)) {
		if (!t->gone_why)
			t->gone_why = UMS_WHY_EXIT;
		umsd_target_gone(t);
		return true;
	}
	t0 = local_clock();
	locked = floor || mmap_read_trylock(t->mm);
	ums_stats.attach_ns += local_clock() - t0;
	r = list_first_entry(&t->regions, struct ums_region, tnode);
	while (!list_entry_is_head(r, &t->regions, tnode)) {
		/* A mirror that is on belongs to its hrtimer (mirror.c). */
		if (r->gone || r->deadline > now || ums_mirror_on(r)) {
			r = list_next_entry(r, tnode);
			continue;
		}
		if (!locked) {
			ums_stats.busy++;
			umsd_advance(r, now);
			r = list_next_entry(r, tnode);
			continue;
		}
		span = NULL;
		stamp = 0;
		base = r->addr;
		if (ums_region_chained(r)) {
			last = umsd_object_run(t, r, now);
			if (last != r && mm)
				span = umsd_object_span(r, last, mm, &obj, &base);
		} else {
			last = umsd_span(t, r, now, &span_len);
			if (last != r && umsd_copy_span(r->addr, span_len, umsd_span_buf, mm)) {
				span = umsd_span_buf;
				ums_stats.spans++;
			}
		}
		if (span)
			stamp = ktime_get_ns();
		for (x = r; ; x = list_next_entry(x, tnode)) {
			/* a chain's field: where the one copy found it */
			at = x->nr_deref && span ? umsd_chain_addr(x, obj, mm) : x->addr;
			flags = umsd_sample(x, mm, span ? span + (at - base) : NULL, stamp, at);
			umsd_advance(x, now);
			reap |= x->gone;
			/* Hand it (back) to its hrtimer if every byte was readable. */
			if (x->mirror && mm)
				ums_mirror_build(x, mm, flags);
			if (x == last)
				break;
		}
		ums_batch_ev_flush();
		r = list_next_entry(last, tnode);
	}
	t0 = local_clock();
	if (locked && !floor)
		mmap_read_unlock(t->mm);
	/* Never run exit_mmap() in the sampler if the target just exited. */
	mmput_async(t->mm);
	ums_stats.attach_ns += local_clock() - t0;
	return reap;
}

/* One pass over all targets; returns the earliest deadline left (U64_MAX: none). */
static u64 umsd_pass(void)
{
	u64 now = ktime_get_ns(), next = U64_MAX, t0 = local_clock();
	struct ums_target *t;
	struct ums_region *r;
	bool reap = false;

	mutex_lock(&ums_lock);
	ums_for_each_target(t) {
		if (t->gone)
			continue;
		reap |= umsd_sample_target(t, now);
		/* A pass over max_regions regions is long: let others run between targets. */
		cond_resched();
		if (t->gone)
			continue;
		ums_for_each_target_region(r, t)
			if (!r->gone && r->deadline < next && !ums_mirror_on(r))
				next = r->deadline;
	}
	mutex_unlock(&ums_lock);

	if (reap)
		schedule_work(&umsd_reap_work);
	ums_stats.ticks++;
	ums_stats.cpu_ns += local_clock() - t0;
	return next;
}

/* A pause: the thread takes every mirrored region back (their hrtimers stop). */
static void umsd_suspend_mirrors(void)
{
	struct ums_region *r;

	mutex_lock(&ums_lock);
	ums_for_each_region(r)
		ums_mirror_suspend(r);
	mutex_unlock(&ums_lock);
}

/* After a pause, restart every region on its next aligned deadline: a pause is not lateness. */
static void umsd_realign(void)
{
	u64 now = ktime_get_ns();
	struct ums_region *r;

	mutex_lock(&ums_lock);
	ums_for_each_region(r)
		r->deadline = (div64_u64(now, r->period_ns) + 1) * r->period_ns;
	mutex_unlock(&ums_lock);
}

/* Apply the sched_fifo parameter to the sampler thread itself, if it changed. */
static void umsd_set_policy(bool *fifo)
{
	bool want = READ_ONCE(ums_param_sched_fifo);

	if (want == *fifo)
		return;
	if (want)
		sched_set_fifo_low(current);
	else
		sched_set_normal(current, 0);
	*fifo = want;
}

static int umsd_fn(void *unused)
{
	bool was_enabled = true, enabled, fifo = false;
	u64 next = U64_MAX;
	ktime_t expires;

	while (!kthread_should_stop()) {
		atomic_set(&umsd_kicked, 0);
		umsd_set_policy(&fifo);
		enabled = READ_ONCE(ums_enabled);
		if (!enabled && was_enabled)
			umsd_suspend_mirrors();
		if (enabled && !was_enabled)
			umsd_realign();
		was_enabled = enabled;
		next = enabled ? umsd_pass() : U64_MAX;

		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop() || atomic_read(&umsd_kicked)) {
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (next == U64_MAX) {
			schedule();
		} else {
			expires = ns_to_ktime(next);
			schedule_hrtimeout_range(&expires, 0, HRTIMER_MODE_ABS);
		}
	}
	return 0;
}

/**
 * umsd_kick() - make the sampler re-read the registry and its deadlines now
 *
 * Context: any process context.
 */
void umsd_kick(void)
{
	atomic_set(&umsd_kicked, 1);
	/* umsd_task holds a task reference until umsd_release(). */
	if (umsd_task)
		wake_up_process(umsd_task);
}

/**
 * umsd_start() - create and start the sampler thread
 *
 * Return: 0 or a negative errno.
 */
int umsd_start(void)
{
	struct task_struct *task = kthread_run(umsd_fn, NULL, "umsampler");

	if (IS_ERR(task))
		return PTR_ERR(task);
	/* Dropped by umsd_release(), so umsd_kick() never wakes a freed task. */
	get_task_struct(task);
	umsd_task = task;
	return 0;
}

/**
 * umsd_stop() - stop the sampler thread and wait for the reaper
 *
 * Control writes may still kick the (stopped) thread until umsd_release().
 */
void umsd_stop(void)
{
	kthread_stop(umsd_task);
	cancel_work_sync(&umsd_reap_work);
}

/**
 * umsd_release() - drop the sampler's task reference
 *
 * Context: after umsd_stop(), once nothing can call umsd_kick() any more.
 */
void umsd_release(void)
{
	put_task_struct(umsd_task);
	umsd_task = NULL;
}
