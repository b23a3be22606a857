// SPDX-License-Identifier: GPL-2.0
/*
 * registry.c - region and target lifecycle: control writes (validate, then
 * commit all-or-nothing), the reaper for regions the sampler found gone, and
 * teardown. The locking and reference rules are at the top of umsampler.h.
 *
 * A control write runs in three phases, all under ums_ctl_lock:
 *  1. parse: the whole buffer is parsed by the pure parser (parse.c); any bad
 *     line fails the write before anything is looked up;
 *  2. prepare: each command, in order, is checked against the registry as the
 *     earlier commands of the same write would leave it. Adds resolve their
 *     pid in the writer's pid namespace, pass the kernel's ptrace access check
 *     for reading that process (ums_may_read()), check its mapping and
 *     allocate everything they will need; deletes mark regions `doomed`. Any
 *     failure undoes the marks and frees what was prepared;
 *  3. commit: under ums_lock, prepared regions are linked and their `add`
 *     events emitted (so no sample event can precede its region's add), and
 *     doomed regions are unlinked; nothing here can fail. `del` events and
 *     debugfs files follow, outside ums_lock.
 *
 * Pid namespaces scope everything a writer or reader can see: `del ID`,
 * `del name=`, `clear`, `sync`, `regions`, `snapshot` and the values/ and
 * raw/ files only reach regions whose target is visible in the caller's pid
 * namespace (ums_region_visible()). Names are one namespace for everybody.
 * A writer without CAP_SYS_PTRACE (a delegated user of /dev/umsampler, see
 * struct ums_writer) reaches, in addition, only the regions it added itself
 * (ums_region_reach()); `enable`/`disable` need CAP_SYS_PTRACE.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "umsampler.h"
#include "umsampler_trace.h"

DEFINE_MUTEX(ums_ctl_lock);
DEFINE_MUTEX(ums_lock);
LIST_HEAD(ums_regions);
LIST_HEAD(ums_targets);
/* Counts of linked regions/targets; written with both locks held. */
unsigned int ums_nr_regions;
unsigned int ums_nr_targets;

/* Registered interfaces (struct ums_iface), called in order. ums_ctl_lock. */
static LIST_HEAD(ums_ifaces);

/* id -> region, for regions linked or being prepared. ums_ctl_lock. */
static DEFINE_XARRAY_ALLOC1(ums_ids);
/*
 * Where the cyclic id allocation goes on (ums_ctl_lock): ids grow until
 * U32_MAX, then wrap to the lowest free one; a live id is never handed out.
 */
static u32 ums_next_id = 1;

/**
 * struct ums_batch - what one control write has prepared but not committed
 * @w:		who writes
 * @added:	new regions (ums_region.node), in command order
 * @targets:	targets created for @added (ums_target.list)
 * @nr_added:	entries on @added
 * @nr_doomed:	linked regions marked for deletion
 * @sync:	a `sync` command was seen
 * @enable:	the last `enable` (1) or `disable` (0) seen, -1 if none
 */
struct ums_batch {
	const struct ums_writer *w;
	struct list_head added;
	struct list_head targets;
	unsigned int nr_added;
	unsigned int nr_doomed;
	bool sync;
	int enable;
};

static struct ums_target *ums_target_new(struct pid *pid, struct mm_struct *mm,
					 const struct cred *cred, bool delegated)
{
	struct ums_target *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	INIT_LIST_HEAD(&t->list);
	INIT_LIST_HEAD(&t->regions);
	/* References dropped by ums_target_destroy(). */
	t->pid = get_pid(pid);
	mmgrab(mm);
	t->mm = mm;
	t->cred = get_cred(cred);
	t->pid_nr = pid_nr(pid);
	t->delegated = delegated;
	return t;
}

static void ums_target_destroy(struct ums_target *t)
{
	WARN_ON_ONCE(!list_empty(&t->regions));
	put_cred(t->cred);
	mmdrop(t->mm);
	put_pid(t->pid);
	kfree(t);
}

/* A new region with the registry's reference; its id and name come with ums_region_name(). */
static struct ums_region *ums_region_new(const struct ums_cmd *c)
{
	struct ums_region *r = kzalloc(sizeof(*r), GFP_KERNEL);
	int i;

	if (!r)
		return NULL;
	kref_init(&r->ref);
	for (i = 0; i < 2; i++) {
		r->slot[i].data = kvzalloc(c->len, GFP_KERNEL);
		if (!r->slot[i].data)
			goto fail;
	}
	INIT_LIST_HEAD(&r->node);
	INIT_LIST_HEAD(&r->tnode);
	seqcount_latch_init(&r->latch);
	if (c->name[0])
		strscpy(r->name, c->name, sizeof(r->name));
	r->addr = c->addr;
	r->len = c->len;
	r->period_us = c->period_us;
	r->period_ns = (u64)c->period_us * NSEC_PER_USEC;
	r->vtype = c->vtype;
	r->mode = c->mode;
	r->fault = c->fault;
	r->nr_deref = c->nr_deref;
	memcpy(r->deref, c->deref, sizeof(r->deref));
	r->seq_mode = c->seq_mode;
	r->seq = c->seq;
	r->slot[0].addr = r->slot[1].addr = c->addr;
	return r;
fail:
	kvfree(r->slot[0].data);
	kfree(r);
	return NULL;
}

static void ums_region_release(struct kref *ref)
{
	struct ums_region *r = container_of(ref, struct ums_region, ref);

	WARN_ON_ONCE(r->mirror);
	kvfree(r->slot[0].data);
	kvfree(r->slot[1].data);
	kfree(r);
}

/**
 * ums_region_get() - take a reference on a region (an open data file's)
 * @r:	the region; the caller knows it is alive (e.g. debugfs_file_get())
 */
void ums_region_get(struct ums_region *r)
{
	kref_get(&r->ref);
}

/**
 * ums_region_put() - drop a reference; the last one frees the region
 * @r:	the region
 */
void ums_region_put(struct ums_region *r)
{
	kref_put(&r->ref, ums_region_release);
}

/**
 * ums_region_visible() - is the region's target visible in the caller's pid namespace?
 * @r:	a linked region (its target is alive); ums_ctl_lock or debugfs_file_get()
 *
 * Return: true if the target has a pid in current's active pid namespace.
 */
bool ums_region_visible(const struct ums_region *r)
{
	return pid_nr_ns(r->target->pid, task_active_pid_ns(current)) != 0;
}

/**
 * ums_region_reach() - may this writer (or device reader) act on the region?
 * @r:	a linked region (its target is alive); ums_ctl_lock
 * @w:	the opener of the control file or device
 *
 * Return: true if the region is visible in current's pid namespace and @w
 * has CAP_SYS_PTRACE or is the delegated user who added it (same euid).
 */
bool ums_region_reach(const struct ums_region *r, const struct ums_writer *w)
{
	if (!ums_region_visible(r))
		return false;
	return w->priv || (r->delegated && uid_eq(r->owner, w->cred->euid));
}

/* Drop a region that was never linked (prepared by a failed or undone command). */
static void ums_region_discard(struct ums_region *r)
{
	ums_mirror_destroy(r);
	xa_erase(&ums_ids, r->id);
	list_del(&r->node);
	ums_region_put(r);
}

/**
 * ums_iface_register() - plug an interface into the registry
 * @iface:	its hooks; region_add() is called for every region linked from now on
 *
 * Context: process context; takes ums_ctl_lock.
 */
void ums_iface_register(struct ums_iface *iface)
{
	mutex_lock(&ums_ctl_lock);
	list_add_tail(&iface->list, &ums_ifaces);
	mutex_unlock(&ums_ctl_lock);
}

/**
 * ums_iface_unregister() - unplug an interface; no hook of it runs afterwards
 * @iface:	as registered
 *
 * Context: process context; takes ums_ctl_lock.
 */
void ums_iface_unregister(struct ums_iface *iface)
{
	mutex_lock(&ums_ctl_lock);
	list_del(&iface->list);
	mutex_unlock(&ums_ctl_lock);
}

static void __ums_iface_region_add(struct ums_region *r)
{
	struct ums_iface *iface;

	lockdep_assert_held(&ums_ctl_lock);
	list_for_each_entry(iface, &ums_ifaces, list)
		iface->region_add(r);
}

static void __ums_iface_region_del(struct ums_region *r)
{
	struct ums_iface *iface;

	lockdep_assert_held(&ums_ctl_lock);
	list_for_each_entry(iface, &ums_ifaces, list)
		iface->region_del(r);
}

/**
 * ums_region_emit() - emit a umsampler:region lifecycle event
 * @r:		the region
 * @op:		add, del, gone or sync
 * @why:	reason for gone, UMS_WHY_NONE otherwise
 */
void ums_region_emit(struct ums_region *r, enum ums_region_op op, enum ums_gone_why why)
{
	trace_region(r, op, why);
}

/* The live or prepared region named @name; @visible: only one the writer may see. */
static struct ums_region *ums_find_name(struct ums_batch *b, const char *name, bool reach)
{
	struct ums_region *r;

	ums_for_each_region(r)
		if (!r->doomed && !strcmp(r->name, name))
			return !reach || ums_region_reach(r, b->w) ? r : NULL;
	list_for_each_entry(r, &b->added, node)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

/*
 * The target an add joins: same pid, mm and credentials (a target whose
 * credentials changed is about to be retired; the add gets a new one).
 */
static struct ums_target *ums_find_target(struct ums_batch *b, struct pid *pid,
					  struct mm_struct *mm, const struct cred *cred)
{
	bool delegated = !b->w->priv;
	struct ums_target *t;

	ums_for_each_target(t)
		if (t->pid == pid && t->mm == mm && t->cred == cred && t->delegated == delegated &&
		    !READ_ONCE(t->gone))
			return t;
	list_for_each_entry(t, &b->targets, list)
		if (t->pid == pid && t->mm == mm && t->cred == cred)
			return t;
	return NULL;
}

/*
 * The kernel's own access check for reading another process's memory, with
 * the credentials of whoever opened the control file (@cred): opening
 * /proc/PID/mem runs mm_access(PTRACE_MODE_ATTACH_FSCREDS), i.e.
 * ptrace_may_access() with Yama, every LSM (SELinux, AppArmor, Landlock) and
 * the dumpable/user-namespace rules, none of which a module can call directly.
 * The path is resolved in the writer's root; the mm it opened must be @mm
 * (a /proc of another pid namespace would name another process).
 */
static int ums_may_read(const struct ums_cmd *c, const struct cred *cred, struct mm_struct *mm,
			struct ums_perr *perr)
{
	const struct cred *old;
	char path[32];
	struct file *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", c->pid);
	old = override_creds(cred);
	f = filp_open(path, O_RDONLY, 0);
	revert_creds(old);
	if (f == ERR_PTR(-EACCES) || f == ERR_PTR(-EPERM))
		return ums_perr_set(perr, -EPERM, c->line,
				    "reading pid %d is not allowed (ptrace access check: ptrace_scope, LSM or credentials)",
				    c->pid);
	if (IS_ERR(f))
		return ums_perr_set(perr, f == ERR_PTR(-ENOENT) ? -ESRCH : PTR_ERR(f), c->line,
				    "access check: cannot open %s: %pe", path, f);
	if (f->private_data != mm)
		ret = ums_perr_set(perr, -ESRCH, c->line,
				   "access check: %s in the writer's root is another process", path);
	/* The file holds its own mm reference; fput() drops both. */
	fput(f);
	return ret;
}

/* Why @task cannot be a target (kernel thread, exiting), or NULL; takes *mmp (mm_users). */
static const char *ums_task_refused(struct task_struct *task, struct mm_struct **mmp)
{
	if (task->flags & PF_KTHREAD)
		return "is a kernel thread";
	*mmp = (task->flags & PF_EXITING) ? NULL : get_task_mm(task);
	return *mmp ? NULL : "is exiting";
}

/*
 * Validate what an add needs from the target process; takes an mm_users ref
 * (*mmp) and a cred ref (*credp) on success.
 */
static int ums_get_target_mm(const struct ums_cmd *c, struct pid *pid, const struct ums_writer *w,
			     struct mm_struct **mmp, const struct cred **credp,
			     struct ums_perr *perr)
{
	struct task_struct *task;
	const char *why;
	int ret;

	task = get_pid_task(pid, PIDTYPE_PID);
	if (!task)
		return ums_perr_set(perr, -ESRCH, c->line, "no process %d", c->pid);
	why = ums_task_refused(task, mmp);
	if (why) {
		ret = ums_perr_set(perr, -EINVAL, c->line, "pid %d %s", c->pid, why);
		goto out;
	}
	/*
	 * The credentials are taken before the check: if they change while it
	 * runs, the sampler sees the change and retires the target (reason
	 * cred) instead of keeping credentials no check ever saw.
	 */
	*credp = get_task_cred(task);
	ret = ums_may_read(c, w->cred, *mmp, perr);
	/*
	 * Setuid and prctl(PR_SET_DUMPABLE, 0) processes ask not to be
	 * inspected; honour that unless the administrator said otherwise (and
	 * always for a delegated user). Checked here and on every pass
	 * (sampler.c, mirror.c).
	 */
	if (!ret && get_dumpable(*mmp) != SUID_DUMP_USER &&
	    (!w->priv || !READ_ONCE(ums_param_allow_nondumpable)))
		ret = ums_perr_set(perr, -EPERM, c->line,
				   "pid %d is not dumpable (setuid or PR_SET_DUMPABLE 0); see allow_nondumpable",
				   c->pid);
	if (ret) {
		put_cred(*credp);
		*credp = NULL;
		mmput(*mmp);
		*mmp = NULL;
	}
out:
	put_task_struct(task);
	return ret;
}

/* Regions a delegated writer owns once @b is applied (its own doomed ones do not count). */
static unsigned int ums_user_regions(struct ums_batch *b)
{
	kuid_t uid = b->w->cred->euid;
	unsigned int n = b->nr_added;
	struct ums_region *r;

	ums_for_each_region(r)
		if (!r->doomed && r->delegated && uid_eq(r->owner, uid))
			n++;
	return n;
}

/* Checks of an add that need nothing from the target: name taken, max_regions, user_max_regions. */
static int ums_add_allowed(struct ums_batch *b, const struct ums_cmd *c, struct ums_perr *perr)
{
	unsigned int max = READ_ONCE(ums_param_max_regions);

	if (c->name[0] && ums_find_name(b, c->name, false))
		return ums_perr_set(perr, -EEXIST, c->line, "name '%s' already exists", c->name);
	if (ums_nr_regions - b->nr_doomed + b->nr_added >= max)
		return ums_perr_set(perr, -ENOSPC, c->line, "max_regions (%u) reached", max);
	if (!b->w->priv) {
		max = READ_ONCE(ums_param_user_max_regions);
		if (ums_user_regions(b) >= max)
			return ums_perr_set(perr, -ENOSPC, c->line,
					    "user_max_regions (%u) reached for uid %u", max,
					    from_kuid(&init_user_ns, b->w->cred->euid));
	}
	return 0;
}

/* Bytes of @mm's pointers: 4 for a 32-bit (compat) task, whose address space ends below 4 GiB. */
static unsigned int ums_ptr_size(const struct mm_struct *mm)
{
	return (u64)mm->task_size > (1ULL << 32) ? 8 : 4;
}

/*
 * What must be mapped readable at the add (copy.c's mapping rules): the
 * region's bytes; for a deref chain its base pointer (what it points to may
 * come and go); a seq counter whose address is known now.
 */
static int ums_add_mapped(const struct ums_cmd *c, struct mm_struct *mm, struct ums_perr *perr)
{
	u64 len = c->nr_deref ? ums_ptr_size(mm) : c->len, sa = 0;
	const char *refused, *srefused = NULL;
	int ret;

	if (c->seq_mode == UMS_SEQ_ABS)
		sa = c->seq;
	else if (c->seq_mode == UMS_SEQ_REL && !c->nr_deref)
		sa = c->addr + c->seq;
	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	refused = ums_range_refused(mm, c->addr, len);
	if (!refused && c->seq_mode && sa)
		srefused = sa < mm->task_size - 4 ? ums_range_refused(mm, sa, 4) : "not mapped";
	mmap_read_unlock(mm);
	if (refused)
		return ums_perr_set(perr, -EFAULT, c->line, "0x%llx+%llu in pid %d: %s", c->addr,
				    len, c->pid, refused);
	if (srefused)
		return ums_perr_set(perr, -EFAULT, c->line, "seq 0x%llx in pid %d: %s", sa, c->pid,
				    srefused);
	return 0;
}

/* Give @r an id and a name, join it to its target (new or in the batch), queue it. */
static int ums_add_link(struct ums_batch *b, struct ums_region *r, const struct ums_cmd *c,
			struct pid *pid, struct mm_struct *mm, const struct cred *cred,
			struct ums_perr *perr)
{
	struct ums_target *t;
	int ret;

	t = ums_find_target(b, pid, mm, cred);
	if (!t) {
		t = ums_target_new(pid, mm, cred, !b->w->priv);
		if (!t)
			return ums_perr_set(perr, -ENOMEM, c->line, "out of memory");
		list_add_tail(&t->list, &b->targets);
	}
	ret = xa_alloc_cyclic(&ums_ids, &r->id, r, XA_LIMIT(1, U32_MAX), &ums_next_id, GFP_KERNEL);
	if (ret < 0)
		return ums_perr_set(perr, ret, c->line, "cannot allocate id");
	if (!r->name[0])
		snprintf(r->name, sizeof(r->name), "r%u", r->id);
	r->target = t;
	r->owner = b->w->cred->euid;
	r->delegated = !b->w->priv;
	list_add_tail(&r->node, &b->added);
	b->nr_added++;
	return 0;
}

static int ums_prepare_add(struct ums_batch *b, const struct ums_cmd *c, struct ums_perr *perr)
{
	const struct cred *cred = NULL;
	struct mm_struct *mm = NULL;
	struct ums_region *r;
	struct pid *pid;
	int ret;

	ret = ums_add_allowed(b, c, perr);
	if (ret)
		return ret;
	/* Resolved in the writer's pid namespace; this reference is dropped below. */
	pid = find_get_pid(c->pid);
	if (!pid)
		return ums_perr_set(perr, -ESRCH, c->line, "no process %d", c->pid);
	ret = ums_get_target_mm(c, pid, b->w, &mm, &cred, perr);
	if (ret)
		goto out_pid;
	ret = ums_add_mapped(c, mm, perr);
	if (ret)
		goto out_mm;
	r = ums_region_new(c);
	if (!r) {
		ret = ums_perr_set(perr, -ENOMEM, c->line, "out of memory");
		goto out_mm;
	}
	r->ptr_size = ums_ptr_size(mm);
	ret = ums_add_link(b, r, c, pid, mm, cred, perr);
	if (ret) {
		ums_region_put(r);
	} else if (c->mirror) {
		ret = ums_mirror_new(r, mm, c->line, perr);
		if (ret) {
			ums_region_discard(r);
			b->nr_added--;
		}
	}
out_mm:
	put_cred(cred);
	mmput(mm);
out_pid:
	put_pid(pid);
	return ret;
}

static bool ums_region_linked(struct ums_region *r)
{
	return !list_empty(&r->tnode);
}

/* Take @r out: doomed if it is live, dropped if this batch added it. */
static void ums_batch_del(struct ums_batch *b, struct ums_region *r)
{
	if (ums_region_linked(r)) {
		r->doomed = true;
		b->nr_doomed++;
	} else {
		ums_region_discard(r);
		b->nr_added--;
	}
}

/* del pid=PID, or clear (@all): every region of that pid / the writer can see. */
static unsigned int ums_batch_del_many(struct ums_batch *b, const struct ums_cmd *c, bool all)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ums_region *r, *tmp;
	unsigned int n = 0;

	ums_for_each_region(r) {
		if (!r->doomed && ums_region_reach(r, b->w) &&
		    (all || pid_nr_ns(r->target->pid, ns) == c->pid)) {
			r->doomed = true;
			b->nr_doomed++;
			n++;
		}
	}
	list_for_each_entry_safe(r, tmp, &b->added, node) {
		if (all || pid_nr_ns(r->target->pid, ns) == c->pid) {
			ums_region_discard(r);
			b->nr_added--;
			n++;
		}
	}
	return n;
}

static int ums_prepare_del(struct ums_batch *b, const struct ums_cmd *c, struct ums_perr *perr)
{
	struct ums_region *r;

	switch (c->op) {
	case UMS_OP_DEL_ID:
		r = xa_load(&ums_ids, c->id);
		if (!r || r->doomed || !ums_region_reach(r, b->w))
			return ums_perr_set(perr, -ENOENT, c->line, "no region %u", c->id);
		break;
	case UMS_OP_DEL_NAME:
		r = ums_find_name(b, c->name, true);
		if (!r)
			return ums_perr_set(perr, -ENOENT, c->line, "no region named '%s'", c->name);
		break;
	case UMS_OP_DEL_PID:
		if (!ums_batch_del_many(b, c, false))
			return ums_perr_set(perr, -ENOENT, c->line, "no region for pid %d", c->pid);
		return 0;
	default:	/* UMS_OP_CLEAR: what the writer can see */
		ums_batch_del_many(b, c, true);
		return 0;
	}
	ums_batch_del(b, r);
	return 0;
}

/* Undo a failed batch: nothing it did is visible afterwards. */
static void ums_batch_abort(struct ums_batch *b, u32 first_id)
{
	struct ums_region *r, *tmp;
	struct ums_target *t, *tt;

	ums_for_each_region(r)
		r->doomed = false;
	list_for_each_entry_safe(r, tmp, &b->added, node)
		ums_region_discard(r);
	list_for_each_entry_safe(t, tt, &b->targets, list) {
		list_del(&t->list);
		ums_target_destroy(t);
	}
	ums_next_id = first_id;
}

static void ums_first_deadline(struct ums_region *r, u64 now)
{
	/* Sample at once; umsd_advance() then aligns the deadlines to the period. */
	r->deadline = now;
}

/*
 * Unlink regions selected by @pick (and targets left empty or gone) under
 * ums_lock; the caller frees them from @dead_r/@dead_t after dropping it.
 */
static void __ums_unlink(bool (*pick)(struct ums_region *r), struct list_head *dead_r,
			 struct list_head *dead_t)
{
	struct ums_region *r, *tmp;
	struct ums_target *t, *tt;

	lockdep_assert_held(&ums_ctl_lock);
	lockdep_assert_held(&ums_lock);
	ums_for_each_region_safe(r, tmp) {
		if (!pick(r))
			continue;
		list_del_init(&r->tnode);
		r->target->nr_regions--;
		list_move_tail(&r->node, dead_r);
		ums_nr_regions--;
	}
	ums_for_each_target_safe(t, tt) {
		/* A gone target's regions were all picked by ums_pick_gone(). */
		if (t->nr_regions)
			continue;
		list_move_tail(&t->list, dead_t);
		ums_nr_targets--;
	}
}

/*
 * Free unlinked regions and targets. A region that did not get its op=gone
 * event gets op=del, so every region that got add ends with one of them.
 * Removing the data files waits only for opens in progress (dbgfs.c); an open
 * file keeps its own reference on the region.
 */
static void ums_free_dead(struct list_head *dead_r, struct list_head *dead_t)
{
	struct ums_region *r, *tmp;
	struct ums_target *t, *tt;

	list_for_each_entry_safe(r, tmp, dead_r, node) {
		if (!r->gone && !r->target->gone)
			ums_region_emit(r, UMS_REG_DEL, UMS_WHY_NONE);
		ums_mirror_destroy(r);
		__ums_iface_region_del(r);
		xa_erase(&ums_ids, r->id);
		list_del(&r->node);
		ums_region_put(r);
	}
	list_for_each_entry_safe(t, tt, dead_t, list) {
		list_del(&t->list);
		ums_target_destroy(t);
	}
}

static bool ums_pick_doomed(struct ums_region *r)
{
	return r->doomed;
}

static void ums_batch_commit(struct ums_batch *b)
{
	LIST_HEAD(dead_r);
	LIST_HEAD(dead_t);
	struct ums_region *r;
	struct ums_target *t;
	struct ums_region *first;
	u64 now = ktime_get_ns();

	mutex_lock(&ums_lock);
	list_for_each_entry(t, &b->targets, list)
		ums_nr_targets++;
	list_splice_tail_init(&b->targets, &ums_targets);
	list_for_each_entry(r, &b->added, node) {
		ums_first_deadline(r, now);
		/* Under ums_lock: the sampler cannot sample it before this event. */
		ums_region_emit(r, UMS_REG_ADD, UMS_WHY_NONE);
		list_add_tail(&r->tnode, &r->target->regions);
		r->target->nr_regions++;
		ums_nr_regions++;
	}
	first = list_first_entry_or_null(&b->added, struct ums_region, node);
	list_splice_tail_init(&b->added, &ums_regions);
	/*
	 * Unlink doomed regions, and targets left without regions (including
	 * new ones whose regions the same write deleted again).
	 */
	__ums_unlink(ums_pick_doomed, &dead_r, &dead_t);
	mutex_unlock(&ums_lock);

	ums_free_dead(&dead_r, &dead_t);
	/* The new regions are the tail of ums_regions, stable under ums_ctl_lock. */
	r = first;
	if (r)
		list_for_each_entry_from(r, &ums_regions, node)
			__ums_iface_region_add(r);
	if (b->sync)
		ums_for_each_region(r)
			if (ums_region_reach(r, b->w))
				ums_region_emit(r, UMS_REG_SYNC, UMS_WHY_NONE);
	if (b->enable >= 0)
		WRITE_ONCE(ums_enabled, b->enable);
	umsd_kick();
}

/* Check every command of a write and stage what it changes in @b; stops at the first error. */
static int ums_batch_prepare(struct ums_batch *b, const struct ums_cmd *cmds, int nr,
			     struct ums_perr *perr)
{
	int i, ret = 0;

	for (i = 0; i < nr && !ret; i++) {
		switch (cmds[i].op) {
		case UMS_OP_ADD:
			ret = ums_prepare_add(b, &cmds[i], perr);
			break;
		case UMS_OP_SYNC:
			b->sync = true;
			break;
		case UMS_OP_ENABLE:
		case UMS_OP_DISABLE:
			if (!b->w->priv)
				ret = ums_perr_set(perr, -EPERM, cmds[i].line,
						   "'%s' needs CAP_SYS_PTRACE", ums_op_name(cmds[i].op));
			b->enable = cmds[i].op == UMS_OP_ENABLE;
			break;
		default:
			ret = ums_prepare_del(b, &cmds[i], perr);
			break;
		}
	}
	return ret;
}

/**
 * ums_control() - apply one control write, all or nothing
 * @buf:	the written bytes (not NUL-terminated)
 * @n:		their count
 * @w:		the control file's or device's opener: adds pass the ptrace
 *		access check with its credentials, and what it may reach and do
 *		follows struct ums_writer
 * @perr:	receives the errno and a message naming the line and the problem
 *		on failure
 *
 * Context: process context; takes ums_ctl_lock, and ums_lock briefly.
 * Return: number of commands applied, or a negative errno (nothing applied).
 */
int ums_control(const char *buf, size_t n, const struct ums_writer *w, struct ums_perr *perr)
{
	struct ums_limits lim = {
		.max_len = READ_ONCE(ums_param_max_len),
		.addr_limit = TASK_SIZE_MAX,
		.default_period_us = READ_ONCE(ums_param_period_us),
		.min_period_us = UMS_PERIOD_MIN_US,
		.max_period_us = UMS_PERIOD_MAX_US,
		.max_pid = PID_MAX_LIMIT,
	};
	struct ums_batch b = {
		.w = w,
		.added = LIST_HEAD_INIT(b.added),
		.targets = LIST_HEAD_INIT(b.targets),
		.enable = -1,
	};
	struct ums_cmd *cmds;
	unsigned int max;
	u32 first_id;
	int nr, ret = 0;

	perr->msg[0] = '\0';
	max = ums_parse_count_lines(buf, n);
	cmds = kvmalloc_array(max ? max : 1, sizeof(*cmds), GFP_KERNEL);
	if (!cmds) {
		strscpy(perr->msg, "out of memory", sizeof(perr->msg));
		return -ENOMEM;
	}
	nr = ums_parse(buf, n, &lim, cmds, max, perr);
	if (nr < 0) {
		ret = nr;
		goto out;
	}

	mutex_lock(&ums_ctl_lock);
	first_id = ums_next_id;
	ret = ums_batch_prepare(&b, cmds, nr, perr);
	if (ret)
		ums_batch_abort(&b, first_id);
	else
		ums_batch_commit(&b);
	mutex_unlock(&ums_ctl_lock);
out:
	kvfree(cmds);
	return ret ? ret : nr;
}

/* Unlink the regions @pick selects (and the targets left empty), then free them. */
static void ums_sweep(bool (*pick)(struct ums_region *r))
{
	LIST_HEAD(dead_r);
	LIST_HEAD(dead_t);

	mutex_lock(&ums_ctl_lock);
	mutex_lock(&ums_lock);
	__ums_unlink(pick, &dead_r, &dead_t);
	mutex_unlock(&ums_lock);
	ums_free_dead(&dead_r, &dead_t);
	mutex_unlock(&ums_ctl_lock);
}

static bool ums_pick_gone(struct ums_region *r)
{
	return r->gone || r->target->gone;
}

/**
 * ums_reap() - free regions and targets the sampler marked gone
 *
 * The sampler emits umsampler:region op=gone and marks; this frees, because
 * removing debugfs files may wait for readers and the sampler must not.
 * Context: process context (the reaper work); takes both locks.
 */
void ums_reap(void)
{
	ums_sweep(ums_pick_gone);
}

static bool ums_pick_all(struct ums_region *r)
{
	return true;
}

/**
 * ums_destroy_all() - free every region and target (module exit)
 *
 * Context: the sampler is stopped and the debugfs files are gone.
 */
void ums_destroy_all(void)
{
	ums_sweep(ums_pick_all);
	WARN_ON_ONCE(!list_empty(&ums_targets));
	xa_destroy(&ums_ids);
}
