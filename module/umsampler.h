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
 *   Each sampling attach takes a temporary mm_users reference with
 *   mmget_not_zero() and drops it with mmput_async() after kthread_unuse_mm().
 * No task_struct reference is ever kept: tasks are looked up from target->pid
 *   under RCU each pass.
 * Published sample buffers (region->slot[].data) belong to the region and are
 *   freed with it; debugfs values/ and raw/ files point at the region and are
 *   removed (debugfs_remove waits for running readers) before it is freed.
 */
#ifndef _UMSAMPLER_H
#define _UMSAMPLER_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "parse.h"

struct dentry;
struct mm_struct;
struct pid;

/* Event flags (umsampler:sample `flags`, snapshot `flags`). */
#define UMS_F_PARTIAL		0x1	/* some bytes could not be read (zeroed) */
#define UMS_F_CHANGED		0x2	/* bytes differ from the previous sample */
#define UMS_F_TRUNCATED		0x4	/* str: no NUL within len */

/* umsampler:region `op` */
enum ums_region_op { UMS_REG_ADD, UMS_REG_DEL, UMS_REG_GONE, UMS_REG_SYNC };
/* umsampler:region `reason` (for op=gone; UMS_WHY_NONE otherwise) */
enum ums_gone_why { UMS_WHY_NONE, UMS_WHY_EXIT, UMS_WHY_EXEC, UMS_WHY_UNMAPPED };


/**
 * struct ums_slot - one published sample of a region (two per region, latched)
 * @seq:	sample sequence number, from 1 (0: nothing published yet)
 * @time_ns:	CLOCK_MONOTONIC time the copy was taken
 * @late_ns:	@time_ns minus the scheduled deadline
 * @flags:	UMS_F_*
 * @data:	region->len bytes
 */
struct ums_slot {
	u64 seq;
	u64 time_ns;
	u64 late_ns;
	u32 flags;
	u8 *data;
};

struct ums_target {
	struct list_head list;		/* in ums_targets (both locks to change) */
	struct list_head regions;	/* ums_region.tnode (both locks to change) */
	struct pid *pid;		/* get_pid() ref, see top of file */
	struct mm_struct *mm;		/* mmgrab() ref, see top of file */
	pid_t pid_nr;			/* pid in the initial pid namespace */
	unsigned int nr_regions;	/* regions on @regions */
	bool gone;			/* [S] exited/exec'd; reaper frees it */
	u8 gone_why;			/* [S] enum ums_gone_why */
};

struct ums_region {
	struct list_head node;		/* in ums_regions, id order (both locks) */
	struct list_head tnode;		/* in target->regions (both locks) */
	struct ums_target *target;	/* owning target; outlives the region */
	u32 id;
	char name[UMS_NAME_LEN];
	u64 addr;
	u64 len;
	u32 period_us;
	u64 period_ns;
	u8 vtype;			/* enum ums_vtype */
	u8 mode;			/* enum ums_mode */
	bool fault;			/* may fault pages in */

	/* Sampler state [S]: written by the sampler under ums_lock only. */
	u64 deadline;			/* [S] next scheduled sample, ktime ns */
	u32 unmapped_streak;		/* [S] consecutive samples with unmapped bytes */
	bool gone;			/* [S] unmapped too long; reaper frees it */
	bool doomed;			/* ctl: deleted by the write being validated */

	/* Counters: written by the sampler only, read locklessly (READ_ONCE). */
	u64 nr_samples;
	u64 nr_partial;
	u64 nr_emitted;

	/*
	 * Published samples: the sampler fills slot[(seq + 1) & 1] and then
	 * bumps @latch; readers copy slot[latch & 1] and retry if @latch moved
	 * (raw_read_seqcount_latch_retry). Readers never block the sampler.
	 */
	seqcount_latch_t latch;
	struct ums_slot slot[2];

	struct dentry *d_value;		/* values/<name> */
	struct dentry *d_raw;		/* raw/<name> */
};

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
 * @attach_ns:		part of @cpu_ns spent attaching/detaching address spaces
 * @spans:		span copies: several adjacent regions read with one copy
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
};

/* main.c: module parameters */
extern unsigned int ums_param_period_us;
extern unsigned int ums_param_max_len;
extern unsigned int ums_param_max_regions;
extern unsigned int ums_param_unmapped_limit;
extern bool ums_param_debug_floor;
extern bool ums_param_allow_nondumpable;
extern bool ums_param_sched_fifo;

/* registry.c */
extern struct mutex ums_ctl_lock;
extern struct mutex ums_lock;
extern struct list_head ums_regions;
extern struct list_head ums_targets;
extern unsigned int ums_nr_regions;
extern unsigned int ums_nr_targets;
int ums_control(const char *buf, size_t n, char *err, size_t errsz);
void ums_reap(void);
void ums_destroy_all(void);
void ums_region_read(struct ums_region *r, struct ums_slot *out, u8 *data);
void ums_region_emit(struct ums_region *r, enum ums_region_op op, enum ums_gone_why why);

/* sampler.c */
extern struct ums_stats ums_stats;
extern bool ums_enabled;
int umsd_start(void);
void umsd_stop(void);
void umsd_release(void);
void umsd_kick(void);
u64 umsd_late_p99(void);

/* copy.c */
bool ums_range_readable(struct mm_struct *mm, u64 addr, u64 len);
u32 umsd_copy(struct ums_region *r, u8 *dst, struct mm_struct *mm);
u32 umsd_copy_floor(struct ums_region *r, u8 *dst);
bool umsd_copy_span(u64 addr, size_t len, u8 *dst, struct mm_struct *mm);

/* dbgfs.c */
int dbgfs_init(void);
void dbgfs_exit(void);
void dbgfs_region_add(struct ums_region *r);
void dbgfs_region_del(struct ums_region *r);

#endif /* _UMSAMPLER_H */
