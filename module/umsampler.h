/* SPDX-License-Identifier: GPL-2.0 */
/*
 * umsampler.h - the module's shared data model: targets, regions, published
 * samples, statistics, and the two locks that guard them.
 *
 * Objects
 * -------
 * struct ums_target  one watched address space: a (struct pid, mm) pair.
 * struct ums_region  one byte range [addr, addr + len) of a target, sampled
 *                    every period_us, with its two published sample slots.
 *
 * Locks (order: ums_ctl_lock -> ums_lock)
 * -----
 * ums_ctl_lock (mutex, registry.c) serializes everything done on behalf of
 *   users: control writes (validate + commit), the reaper, debugfs readers of
 *   `regions` and `snapshot`, module exit. It protects the id/name namespace
 *   (ums_regions list, ums_ids xarray, ums_next_id) and region/target
 *   lifetimes: a region or target is freed only with ums_ctl_lock held.
 * ums_lock (mutex, registry.c) is what the sampler holds for one pass. It
 *   protects the sampler's view: ums_targets, each target's regions list, and
 *   the sampler-owned fields marked [S] below. Control writes take it only to
 *   link/unlink already-prepared objects (no allocation, no sleeping lookups),
 *   so the sampler never waits longer than such a splice, and a control write
 *   never waits longer than one sampling pass.
 * List membership (ums_regions, ums_targets, target->regions) changes only
 * with BOTH locks held, so either lock is enough to walk those lists.
 *
 * References (who holds what)
 * ----------
 * target->pid: get_pid() reference taken when the target is created by a
 *   control write (from find_get_pid() in the writer's pid namespace), dropped
 *   by ums_target_destroy().
 * target->mm: mmgrab() reference (mm_count: keeps the mm_struct, not the
 *   address space) taken at creation, dropped (mmdrop) by ums_target_destroy().
 *   Each sampling pass over the target takes a temporary mm_users reference
 *   with mmget_not_zero() (so that GUP may walk it) and drops it with
 *   mmput_async() after mmap_read_unlock().
 * target->cred: get_task_cred() reference to the target's objective
 *   credentials when the add passed the access check, dropped by
 *   ums_target_destroy(); only compared with the task's current ones.
 * Pages: a GUP reference (get_user_pages_remote) is held only for the copy
 *   of one page and dropped at once (copy.c); nothing is pinned. A mirror
 *   (mirror.c) remembers page frames without any reference: they stay valid
 *   only as long as its mmu_interval_notifier says so.
 * region->mirror: owned by the region (ums_mirror_new() at add, destroyed by
 *   ums_mirror_destroy() when the region leaves the registry); see mirror.c
 *   for its lock and for who may sample a mirrored region when.
 * Writers: a control write comes from the debugfs control file (its opener
 *   has CAP_SYS_PTRACE) or from /dev/umsampler (cdev.c), whose opener may be a
 *   delegated user (struct ums_writer). Regions and targets a delegated user
 *   adds are marked `delegated`: allow_nondumpable never applies to them, and
 *   such a user reaches only the delegated regions of its own euid.
 * No task_struct reference is ever kept: tasks are looked up from target->pid
 *   under RCU each pass.
 * region->ref: one reference for the registry (taken by ums_region_new(),
 *   dropped by ums_region_put() when the region is deleted or reaped) and one
 *   per open values/ or raw/ file (dbgfs.c, dropped at release). Published
 *   sample buffers (region->slot[].data) are freed with the last one, so a
 *   reader stuck in copy_to_user() never holds up del, the reaper or module
 *   exit; such a reader only reads the region's own fields, never its target.
 */
#ifndef _UMSAMPLER_H
#define _UMSAMPLER_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include "parse.h"

struct cred;
struct dentry;
struct ums_mirror;
struct mm_struct;
struct pid;
struct vm_area_struct;

/* Sample flags, region ops, gone reasons, modes: common/umsampler_abi.h (via parse.h). */

/**
 * struct ums_slot - one published sample of a region (two per region, latched)
 * @seq:	sample sequence number, from 1 (0: nothing published yet)
 * @time_ns:	CLOCK_MONOTONIC time the copy was taken
 * @late_ns:	@time_ns minus the scheduled deadline
 * @addr:	where @data was read: region->addr, or for a deref chain the
 *		address it resolved to (0 if it did not: UMS_F_UNRESOLVED)
 * @flags:	UMS_F_*
 * @data:	region->len bytes
 */
struct ums_slot {
	u64 seq;
	u64 time_ns;
	u64 late_ns;
	u64 addr;
	u32 flags;
	u8 *data;
};

/**
 * struct ums_target - one watched address space
 * @list:	in ums_targets (both locks to change)
 * @regions:	its regions, ums_region.tnode (both locks to change)
 * @pid:	get_pid() reference, see top of file
 * @mm:		mmgrab() reference, see top of file
 * @cred:	get_task_cred() reference, see top of file
 * @pid_nr:	pid in the initial pid namespace
 * @nr_regions:	regions on @regions
 * @delegated:	added by a user without CAP_SYS_PTRACE: always dumpable-checked
 * @gone:	[S] exited, exec'd or withdrew consent; the reaper frees it
 * @gone_why:	[S] enum ums_gone_why
 */
struct ums_target {
	struct list_head list;
	struct list_head regions;
	struct pid *pid;
	struct mm_struct *mm;
	const struct cred *cred;
	pid_t pid_nr;
	unsigned int nr_regions;
	bool delegated;
	bool gone;
	u8 gone_why;
};

/**
 * struct ums_region - one sampled byte range of a target
 * @ref:		registry's reference + one per open data file (see top of file)
 * @node:		in ums_regions, id order (both locks to change)
 * @tnode:		in target->regions (both locks to change)
 * @target:		owning target; outlives the region's membership in the registry
 * @id:			region id (cyclic, never a live one)
 * @name:		unique name; r<ID> by default
 * @addr:		start address in the target
 * @len:		bytes sampled
 * @period_us:		sampling period as given
 * @period_ns:		the same in ns
 * @vtype:		enum ums_vtype
 * @mode:		enum ums_mode: when samples become events
 * @fault:		may fault pages in (where that cannot wait, copy.c)
 * @nr_deref:		pointer hops (`deref=`), 0 for a plain region (copy.c)
 * @ptr_size:		bytes of the target's pointers: 8, or 4 for a 32-bit task
 * @seq_mode:		enum ums_seq_mode (`seq=`)
 * @deref:		the hops' offsets
 * @seq:		the counter's address (UMS_SEQ_ABS) or offset from the data (REL)
 * @mirror:		the hrtimer-sampled view of its pages, or NULL (mirror.c)
 * @owner:		euid of the writer that added it
 * @delegated:		added by a writer without CAP_SYS_PTRACE (struct ums_writer)
 * @deadline:		[S] next scheduled sample, ktime ns
 * @unmapped_streak:	[S] consecutive samples with bytes outside readable mappings
 * @gone:		[S] unmapped too long; the reaper frees it
 * @doomed:		deleted by the control write being validated (ums_ctl_lock)
 * @nr_samples:		samples taken (sampler writes, readers READ_ONCE)
 * @nr_partial:		of them partial (likewise)
 * @nr_emitted:		of them emitted as events (likewise)
 * @path:		enum ums_path that took the latest sample (its writer, READ_ONCE)
 * @latch:		published-sample latch: the sampler fills slot[(seq + 1) & 1]
 *			and bumps it; readers copy slot[latch & 1] and retry if it
 *			moved (ums_region_read()). Readers never block the sampler.
 * @slot:		the two published samples
 * @d_value:		values/<name> (dbgfs.c)
 * @d_raw:		raw/<name> (dbgfs.c)
 *
 * Fields without a mark are set when the region is prepared and never change.
 * [S] fields and the latch's write side belong to the sampler thread, except
 * while the region's mirror is on: then to the mirror's hrtimer (mirror.c).
 */
struct ums_region {
	struct kref ref;
	struct list_head node;
	struct list_head tnode;
	struct ums_target *target;
	u32 id;
	char name[UMS_NAME_LEN];
	u64 addr;
	u64 len;
	u32 period_us;
	u64 period_ns;
	u8 vtype;
	u8 mode;
	bool fault;
	u8 nr_deref;
	u8 ptr_size;
	u8 seq_mode;
	s64 deref[UMS_DEREF_MAX];
	s64 seq;
	struct ums_mirror *mirror;
	kuid_t owner;
	bool delegated;

	u64 deadline;
	u32 unmapped_streak;
	bool gone;
	bool doomed;

	u64 nr_samples;
	u64 nr_partial;
	u64 nr_emitted;
	u8 path;

	seqcount_latch_t latch;
	struct ums_slot slot[2];

	struct dentry *d_value;
	struct dentry *d_raw;
};

/* Does @r read elsewhere than [addr, addr + len), or under a counter (`deref=`, `seq=`)? */
static inline bool ums_region_chained(const struct ums_region *r)
{
	return r->nr_deref || r->seq_mode;
}

/**
 * struct ums_stats - global sampler statistics, written by the sampler only
 * @ticks:		sampler passes (wake-ups)
 * @samples:		region samples taken
 * @bytes:		bytes copied
 * @partial:		samples with UMS_F_PARTIAL
 * @emitted:		samples emitted as events (a chunked sample counts once)
 * @missed:		whole periods skipped because the sampler was late
 * @late_max_ns:	largest lateness seen
 * @targets_gone:	targets found exited or exec'd
 * @cpu_ns:		time spent in sampling passes
 * @attach_ns:		part of @cpu_ns spent taking/releasing address spaces (mmap lock)
 * @spans:		span copies: several adjacent regions read with one copy
 * @busy:		region samples skipped: the target's mmap lock was held for writing
 * @poisoned:		page reads that hit a hardware memory error
 * @unresolved:		samples of deref chains that met a NULL or unreadable pointer
 * @seq_retries:	copies of `seq=` regions taken again: the counter moved or was odd
 * @torn:		`seq=` samples published without a stable copy (UMS_F_TORN)
 */
struct ums_stats {
	u64 ticks;
	u64 samples;
	u64 bytes;
	u64 partial;
	u64 emitted;
	u64 missed;
	u64 late_max_ns;
	u64 targets_gone;
	u64 cpu_ns;
	u64 attach_ns;
	u64 spans;
	u64 busy;
	u64 poisoned;
	u64 unresolved;
	u64 seq_retries;
	u64 torn;
};

/*
 * Iterators over the registry (either lock is enough to walk, see top of file;
 * the _safe variants for walks that unlink, both locks held).
 */
#define ums_for_each_target(t)		list_for_each_entry(t, &ums_targets, list)
#define ums_for_each_target_safe(t, next)	\
	list_for_each_entry_safe(t, next, &ums_targets, list)
#define ums_for_each_region(r)		list_for_each_entry(r, &ums_regions, node)
#define ums_for_each_region_safe(r, next)	\
	list_for_each_entry_safe(r, next, &ums_regions, node)
#define ums_for_each_target_region(r, t)	list_for_each_entry(r, &(t)->regions, tnode)

/**
 * struct ums_iface - an interface's hooks into the registry
 * @region_add:	a region was linked and its add event emitted; make it visible
 * @region_del:	a region was unlinked; drop what the interface holds of it
 *		before the registry drops its reference
 * @list:	in the registry's list of interfaces (ums_ctl_lock)
 *
 * The core calls interfaces only through these hooks (DAMON's callback
 * pattern): debugfs (dbgfs.c) is one, a character device would be another.
 * Both hooks run with ums_ctl_lock held and may sleep.
 */
struct ums_iface {
	void (*region_add)(struct ums_region *r);
	void (*region_del)(struct ums_region *r);
	struct list_head list;
};

/* main.c: module parameters */
extern unsigned int ums_param_period_us;
extern unsigned int ums_param_max_len;
extern unsigned int ums_param_max_regions;
extern unsigned int ums_param_unmapped_limit;
extern bool ums_param_debug_floor;
extern bool ums_param_allow_nondumpable;
extern bool ums_param_sched_fifo;
extern unsigned int ums_param_mirror_budget;
extern unsigned int ums_param_user_max_regions;

/**
 * struct ums_writer - who a control write or a device read comes from
 * @cred:	credentials of the file's opener (file->f_cred, pinned by the
 *		open file): adds pass the kernel's ptrace access check with them
 * @priv:	the opener has CAP_SYS_PTRACE in the initial user namespace: it
 *		reaches every region visible in its pid namespace, may `enable`
 *		and `disable`, and allow_nondumpable applies to its adds. Without
 *		it (a delegated user of /dev/umsampler) it reaches only its own
 *		delegated regions, at most user_max_regions of them.
 */
struct ums_writer {
	const struct cred *cred;
	bool priv;
};

/* registry.c */
extern struct mutex ums_ctl_lock;
extern struct mutex ums_lock;
extern struct list_head ums_regions;
extern struct list_head ums_targets;
extern unsigned int ums_nr_regions;
extern unsigned int ums_nr_targets;
int ums_control(const char *buf, size_t n, const struct ums_writer *w, struct ums_perr *perr);
bool ums_region_reach(const struct ums_region *r, const struct ums_writer *w);
void ums_iface_register(struct ums_iface *iface);
void ums_iface_unregister(struct ums_iface *iface);
bool ums_region_visible(const struct ums_region *r);
void ums_region_get(struct ums_region *r);
void ums_region_put(struct ums_region *r);
void ums_reap(void);
void ums_destroy_all(void);
void ums_region_emit(struct ums_region *r, enum ums_region_op op, enum ums_gone_why why);

/* sampler.c: the sampler, and both halves of the published-sample latch */
extern struct ums_stats ums_stats;
void ums_region_read(struct ums_region *r, struct ums_slot *out, u8 *data);
struct ums_slot *ums_region_next_slot(struct ums_region *r);
bool ums_region_publish(struct ums_region *r, u64 now, u32 flags, enum ums_path path,
			bool spanned, u64 *late);
/* Lateness histograms: log2 buckets split in UMS_HIST_SUB linear sub-buckets. */
#define UMS_HIST_SUB	4
#define UMS_HIST_NR	(64 * UMS_HIST_SUB)
unsigned int ums_hist_bucket(u64 ns);
u64 ums_hist_p99(u64 (*count)(unsigned int bucket));
extern bool ums_enabled;
int umsd_start(void);
void umsd_stop(void);
void umsd_release(void);
void umsd_kick(void);
u64 umsd_late_p99(void);

/* copy.c */
const char *umsd_vma_refused(struct vm_area_struct *vma);
const char *ums_range_refused(struct mm_struct *mm, u64 addr, u64 len);
u32 umsd_copy(struct ums_region *r, u8 *dst, struct mm_struct *mm);
u32 umsd_copy_chain(struct ums_region *r, struct ums_slot *s, struct mm_struct *mm);
u64 umsd_chain_object(const struct ums_region *r, struct mm_struct *mm, bool *base_unmapped);
u64 umsd_chain_addr(const struct ums_region *r, u64 obj, struct mm_struct *mm);
u32 umsd_copy_floor(struct ums_region *r, u8 *dst);
bool umsd_copy_span(u64 addr, size_t len, u8 *dst, struct mm_struct *mm);

/* mirror.c */
/**
 * struct ums_mirror_stats - what the mirror clock did (atomic: any CPU, hard irq)
 * @samples:	samples taken in the hrtimer
 * @bytes:	bytes copied there
 * @emitted:	of the samples, emitted as events
 * @missed:	whole periods skipped by a late hrtimer
 * @expiries:	callbacks of the clock (one takes every region then due)
 * @cpu_ns:	time spent in them (hard irq, invisible to schedstat)
 * @builds:	mirrors (re)built by the thread
 * @handbacks:	mirrors handed back to the thread (invalidation, pause, target check, poison)
 * @late_max_ns: largest lateness of a mirror sample
 */
struct ums_mirror_stats {
	atomic64_t samples;
	atomic64_t bytes;
	atomic64_t emitted;
	atomic64_t missed;
	atomic64_t expiries;
	atomic64_t cpu_ns;
	atomic64_t builds;
	atomic64_t handbacks;
	atomic64_t late_max_ns;
};

extern struct ums_mirror_stats ums_mirror_stats;
int ums_mirror_new(struct ums_region *r, struct mm_struct *mm, unsigned int line,
		   struct ums_perr *perr);
void ums_mirror_destroy(struct ums_region *r);
bool ums_mirror_on(struct ums_region *r);
void ums_mirror_build(struct ums_region *r, struct mm_struct *mm, u32 flags);
void ums_mirror_suspend(struct ums_region *r);
enum ums_mirror_state ums_mirror_state(struct ums_region *r);
u64 ums_mirror_late_p99(void);
void ums_mirror_init(void);
void ums_mirror_exit(void);

/**
 * struct ums_batch_ev - what one umsampler:batch event carries (batch.c)
 * @pid:	the target's pid
 * @count:	number of entries
 * @addr:	target address of @data[0]
 * @size:	bytes in @data
 * @data:	the bytes of the entries' regions from @addr on (others zero)
 * @id:		per entry: region id
 * @seq:	per entry: sample number
 * @late_ns:	per entry: lateness
 * @offset:	per entry: offset of its bytes in its region (long regions' pieces)
 * @start:	per entry: where its bytes start in @data
 * @len:	per entry: how many bytes (the event's `size`)
 * @vtype:	per entry: value type
 * @flags:	per entry: sample flags
 *
 * The layout and size budget are in common/umsampler_abi.h (UMS_BATCH_*).
 */
struct ums_batch_ev {
	s32 pid;
	u32 count;
	u64 addr;
	u32 size;
	const u8 *data;
	const u32 *id;
	const u64 *seq;
	const u64 *late_ns;
	const u32 *offset;
	const u16 *start;
	const u16 *len;
	const u8 *vtype;
	const u8 *flags;
};

/* batch.c */
bool ums_batch_ev_add(const struct ums_region *r, const struct ums_slot *s);
void ums_batch_ev_flush(void);
void ums_batch_ev_one(const struct ums_region *r, const struct ums_slot *s);

/* dbgfs.c */
int ums_dbgfs_init(void);
void ums_dbgfs_exit(void);
/* Room for ums_err_text()'s report. */
#define UMS_ERR_TEXT	192
void ums_err_text(char *buf, size_t size, int err, const char *msg, const char *who);
size_t ums_value_text_size(const struct ums_region *r);

/* cdev.c: /dev/umsampler */
int ums_cdev_init(void);
void ums_cdev_exit(void);

#endif /* _UMSAMPLER_H */
