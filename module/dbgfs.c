// SPDX-License-Identifier: GPL-2.0
/*
 * dbgfs.c - the debugfs interface, /sys/kernel/debug/umsampler/:
 *
 *   control   (w) commands, see parse.h; (r) reason of the last failed write
 *   regions   (r) one line per region
 *   snapshot  (r) latest sample of every region, decoded and hexdumped
 *   stats     (r) sampler statistics, `key value` lines
 *   enabled   (rw) 1/0: resume/pause all sampling
 *   values/<NAME>  (r) decoded latest value, one line
 *   raw/<NAME>     (r) latest raw bytes
 *
 * All files are root-only (0600/0400); writes also need CAP_SYS_PTRACE in
 * the initial user namespace, checked against the opener of the file (its
 * f_cred, as the kernel checks /proc/PID/mem), whose credentials also make
 * the access check of every add (registry.c).
 * `regions` and `snapshot` walk the registry under ums_ctl_lock, never
 * ums_lock, so readers never delay the sampler; sample bytes are copied with
 * ums_region_read() (latched, never torn); seq_file copies to the reader's
 * buffer after dropping the lock. They list only regions whose target is
 * visible in the reader's pid namespace.
 * values/ and raw/ files are created without the debugfs proxy: their open
 * takes a reference on the region inside debugfs_file_get()/put() (the only
 * window debugfs_remove() waits for), and reads use that reference, so a
 * reader stuck in copy_to_user() (its buffer on a never-resolved
 * userfaultfd page) never holds up del, the reaper or rmmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "render.h"
#include "umsampler.h"

/* Largest accepted control write. */
#define DBGFS_CTL_MAX	(256 << 10)

static struct dentry *dbgfs_root;
static struct dentry *dbgfs_values;
static struct dentry *dbgfs_raw;

/* Protects dbgfs_last_err: the reason of the most recent failed control write. */
static DEFINE_MUTEX(dbgfs_err_lock);
static char dbgfs_last_err[192];

static const char *dbgfs_errname(int err)
{
	switch (err) {
	case -EINVAL: return "EINVAL";
	case -ESRCH: return "ESRCH";
	case -EFAULT: return "EFAULT";
	case -E2BIG: return "E2BIG";
	case -ENOSPC: return "ENOSPC";
	case -EEXIST: return "EEXIST";
	case -ENOENT: return "ENOENT";
	case -EPERM: return "EPERM";
	case -ENOMEM: return "ENOMEM";
	default: return "error";
	}
}

static void dbgfs_fail(int err, const char *msg)
{
	mutex_lock(&dbgfs_err_lock);
	snprintf(dbgfs_last_err, sizeof(dbgfs_last_err), "%s: %s (%d)", dbgfs_errname(err), msg,
		 err);
	mutex_unlock(&dbgfs_err_lock);
	pr_info_ratelimited("control: %s: %s\n", dbgfs_errname(err), msg);
}

static ssize_t dbgfs_control_write(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	char err[160];
	char *buf;
	int ret;

	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_PTRACE)) {
		dbgfs_fail(-EPERM, "opener lacks CAP_SYS_PTRACE");
		return -EPERM;
	}
	/* Each write(2) is a complete batch; offsets other than 0 are refused. */
	if (*ppos) {
		snprintf(err, sizeof(err), "write at offset %lld: each write must be whole lines",
			 *ppos);
		dbgfs_fail(-EINVAL, err);
		return -EINVAL;
	}
	if (count > DBGFS_CTL_MAX) {
		snprintf(err, sizeof(err), "write of %zu bytes exceeds %u", count, DBGFS_CTL_MAX);
		dbgfs_fail(-E2BIG, err);
		return -E2BIG;
	}
	if (!count)
		return 0;
	buf = vmemdup_user(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = ums_control(buf, count, file->f_cred, err, sizeof(err));
	kvfree(buf);
	if (ret < 0) {
		dbgfs_fail(ret, err);
		return ret;
	}
	/* *ppos stays 0 so that the next write on this fd is a new batch. */
	return count;
}

static ssize_t dbgfs_control_read(struct file *file, char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	char msg[sizeof(dbgfs_last_err) + 1];
	size_t n;

	mutex_lock(&dbgfs_err_lock);
	n = strscpy(msg, dbgfs_last_err, sizeof(msg) - 1);
	mutex_unlock(&dbgfs_err_lock);
	if (n > 0)
		msg[n++] = '\n';
	else
		n = 0;
	return simple_read_from_buffer(ubuf, count, ppos, msg, n);
}

static const struct file_operations dbgfs_control_fops = {
	.owner = THIS_MODULE,
	.write = dbgfs_control_write,
	.read = dbgfs_control_read,
	.llseek = default_llseek,
};

/* regions, snapshot: seq_files over ums_regions under ums_ctl_lock. */
static void *dbgfs_list_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&ums_ctl_lock);
	return seq_list_start_head(&ums_regions, *pos);
}

static void *dbgfs_list_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &ums_regions, pos);
}

static void dbgfs_list_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&ums_ctl_lock);
}

static pid_t dbgfs_pid(const struct ums_region *r)
{
	/* In the reader's pid namespace, as control writes are; 0 if not visible. */
	return pid_nr_ns(r->target->pid, task_active_pid_ns(current));
}

#define DBGFS_PATH_NAME_(sfx, name)	[UMS_PATH_##sfx] = #name,
static const char * const dbgfs_path_names[UMS_PATH_NR] = { UMS_PATHS(DBGFS_PATH_NAME_) };
#define DBGFS_MIRROR_NAME_(sfx, name)	[UMS_MIRROR_##sfx] = #name,
static const char * const dbgfs_mirror_names[UMS_MIRROR_NR] = {
	UMS_MIRROR_STATES(DBGFS_MIRROR_NAME_)
};

/* The mirror state and the path of the latest sample, as `regions` and `snapshot` show them. */
static const char *dbgfs_path(struct ums_region *r)
{
	return dbgfs_path_names[READ_ONCE(r->path) % UMS_PATH_NR];
}

static const char *dbgfs_mirror(struct ums_region *r)
{
	return dbgfs_mirror_names[ums_mirror_state(r)];
}

static int dbgfs_regions_show(struct seq_file *m, void *v)
{
	struct ums_region *r;

	if (v == &ums_regions) {
		seq_puts(m, "ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH\n");
		return 0;
	}
	r = list_entry(v, struct ums_region, node);
	if (!ums_region_visible(r))
		return 0;
	seq_printf(m, "%u %d 0x%llx %llu %u %s %s %s %llu %llu %llu %s %s\n", r->id, dbgfs_pid(r),
		   r->addr, r->len, r->period_us, ums_vtype_name(r->vtype),
		   ums_mode_name(r->mode), r->name,
		   READ_ONCE(r->nr_samples), READ_ONCE(r->nr_partial), READ_ONCE(r->nr_emitted),
		   dbgfs_mirror(r), dbgfs_path(r));
	return 0;
}

static const struct seq_operations dbgfs_regions_sops = {
	.start = dbgfs_list_start,
	.next = dbgfs_list_next,
	.stop = dbgfs_list_stop,
	.show = dbgfs_regions_show,
};
DEFINE_SEQ_ATTRIBUTE(dbgfs_regions);

/* Size of the text buffer ums_render_value() needs for @len bytes of @vtype. */
static size_t dbgfs_value_size(const struct ums_region *r)
{
	if (r->vtype == UMS_VT_HEX)
		return r->len * 2 + 1;
	if (r->vtype == UMS_VT_STR)
		return r->len * 4 + 1;
	return 64;
}

static int dbgfs_snapshot_show(struct seq_file *m, void *v)
{
	char flags[32];
	struct ums_region *r;
	struct ums_slot s;
	size_t vsize, hsize;
	char *text;
	u8 *data;

	if (v == &ums_regions)
		return 0;
	r = list_entry(v, struct ums_region, node);
	if (!ums_region_visible(r))
		return 0;
	vsize = dbgfs_value_size(r);
	hsize = (r->len / 16 + 1) * 80 + 1;
	data = kvmalloc(r->len, GFP_KERNEL);
	text = kvmalloc(max(vsize, hsize), GFP_KERNEL);
	if (!data || !text) {
		kvfree(data);
		kvfree(text);
		return -ENOMEM;
	}
	ums_region_read(r, &s, data);
	seq_printf(m, "id=%u name=%s pid=%d seq=%llu time_ns=%llu late_ns=%llu type=%s flags=",
		   r->id, r->name, dbgfs_pid(r), s.seq, s.time_ns, s.late_ns,
		   ums_vtype_name(r->vtype));
	seq_puts(m, ums_flags_names(flags, sizeof(flags), s.flags, true));
	seq_printf(m, " mirror=%s path=%s", dbgfs_mirror(r), dbgfs_path(r));
	/* hex regions: the hexdump is the value. */
	if (s.seq && r->vtype != UMS_VT_HEX) {
		ums_render_value(text, vsize, r->vtype, data, r->len, s.flags & UMS_F_PARTIAL);
		seq_printf(m, " value=%s", text);
	}
	seq_putc(m, '\n');
	if (s.seq) {
		ums_render_hexdump(text, hsize, data, r->len);
		seq_puts(m, text);
	}
	kvfree(data);
	kvfree(text);
	return 0;
}

static const struct seq_operations dbgfs_snapshot_sops = {
	.start = dbgfs_list_start,
	.next = dbgfs_list_next,
	.stop = dbgfs_list_stop,
	.show = dbgfs_snapshot_show,
};
DEFINE_SEQ_ATTRIBUTE(dbgfs_snapshot);

/* A reading of struct ums_mirror_stats. */
struct dbgfs_mirror_stats {
	s64 samples, bytes, emitted, missed, builds, handbacks, late_max_ns;
};

static void dbgfs_mirror_stats(struct dbgfs_mirror_stats *ms)
{
	ms->samples = atomic64_read(&ums_mirror_stats.samples);
	ms->bytes = atomic64_read(&ums_mirror_stats.bytes);
	ms->emitted = atomic64_read(&ums_mirror_stats.emitted);
	ms->missed = atomic64_read(&ums_mirror_stats.missed);
	ms->builds = atomic64_read(&ums_mirror_stats.builds);
	ms->handbacks = atomic64_read(&ums_mirror_stats.handbacks);
	ms->late_max_ns = atomic64_read(&ums_mirror_stats.late_max_ns);
}

static int dbgfs_stats_show(struct seq_file *m, void *v)
{
	struct dbgfs_mirror_stats mst, *ms = &mst;
	unsigned int regions, targets;

	dbgfs_mirror_stats(ms);
	mutex_lock(&ums_ctl_lock);
	regions = ums_nr_regions;
	targets = ums_nr_targets;
	mutex_unlock(&ums_ctl_lock);
	seq_printf(m, "ticks %llu\n", READ_ONCE(ums_stats.ticks));
	seq_printf(m, "samples %llu\n", READ_ONCE(ums_stats.samples) + (u64)ms->samples);
	seq_printf(m, "bytes %llu\n", READ_ONCE(ums_stats.bytes) + (u64)ms->bytes);
	seq_printf(m, "partial %llu\n", READ_ONCE(ums_stats.partial));
	seq_printf(m, "emitted %llu\n", READ_ONCE(ums_stats.emitted) + (u64)ms->emitted);
	seq_printf(m, "missed %llu\n", READ_ONCE(ums_stats.missed) + (u64)ms->missed);
	seq_printf(m, "late_max_ns %llu\n", READ_ONCE(ums_stats.late_max_ns));
	seq_printf(m, "late_p99_ns %llu\n", umsd_late_p99());
	seq_printf(m, "regions %u\n", regions);
	seq_printf(m, "targets %u\n", targets);
	seq_printf(m, "targets_gone %llu\n", READ_ONCE(ums_stats.targets_gone));
	seq_printf(m, "cpu_ns %llu\n", READ_ONCE(ums_stats.cpu_ns));
	seq_printf(m, "attach_ns %llu\n", READ_ONCE(ums_stats.attach_ns));
	seq_printf(m, "spans %llu\n", READ_ONCE(ums_stats.spans));
	seq_printf(m, "busy %llu\n", READ_ONCE(ums_stats.busy));
	seq_printf(m, "poisoned %llu\n", READ_ONCE(ums_stats.poisoned));
	seq_printf(m, "mirror_samples %lld\n", ms->samples);
	seq_printf(m, "mirror_bytes %lld\n", ms->bytes);
	seq_printf(m, "mirror_emitted %lld\n", ms->emitted);
	seq_printf(m, "mirror_missed %lld\n", ms->missed);
	seq_printf(m, "mirror_builds %lld\n", ms->builds);
	seq_printf(m, "mirror_handbacks %lld\n", ms->handbacks);
	seq_printf(m, "mirror_late_max_ns %lld\n", ms->late_max_ns);
	seq_printf(m, "mirror_late_p99_ns %llu\n", ums_mirror_late_p99());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dbgfs_stats);

static ssize_t dbgfs_enabled_read(struct file *file, char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	char buf[2] = { READ_ONCE(ums_enabled) ? '1' : '0', '\n' };

	return simple_read_from_buffer(ubuf, count, ppos, buf, sizeof(buf));
}

static ssize_t dbgfs_enabled_write(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	bool on;
	int ret;

	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_PTRACE))
		return -EPERM;
	ret = kstrtobool_from_user(ubuf, count, &on);
	if (ret)
		return ret;
	WRITE_ONCE(ums_enabled, on);
	umsd_kick();
	return count;
}

static const struct file_operations dbgfs_enabled_fops = {
	.owner = THIS_MODULE,
	.read = dbgfs_enabled_read,
	.write = dbgfs_enabled_write,
	.llseek = default_llseek,
};

/* values/<NAME>: the decoded latest value, one line. */
static int dbgfs_value_show(struct seq_file *m, void *v)
{
	struct ums_region *r = m->private;
	size_t vsize = dbgfs_value_size(r);
	struct ums_slot s;
	char *text;
	u8 *data;

	data = kvmalloc(r->len, GFP_KERNEL);
	text = kvmalloc(vsize, GFP_KERNEL);
	if (!data || !text) {
		kvfree(data);
		kvfree(text);
		return -ENOMEM;
	}
	ums_region_read(r, &s, data);
	if (s.seq) {
		ums_render_value(text, vsize, r->vtype, data, r->len, s.flags & UMS_F_PARTIAL);
		seq_printf(m, "%s\n", text);
	}
	kvfree(data);
	kvfree(text);
	return 0;
}

/*
 * Open of values/ and raw/ files: inside debugfs_file_get() the region is
 * alive and linked (dbgfs_region_del() waits for this window only); the
 * reference taken here keeps it for the reads, and release drops it.
 */
static int dbgfs_data_open(struct inode *inode, struct file *file,
			   int (*show)(struct seq_file *, void *))
{
	struct dentry *d = file->f_path.dentry;
	struct ums_region *r = inode->i_private;
	int ret;

	ret = debugfs_file_get(d);
	if (ret)
		return ret;
	if (!ums_region_visible(r)) {
		ret = -ENOENT;
		goto out;
	}
	ums_region_get(r);
	ret = single_open(file, show, r);
	if (ret)
		ums_region_put(r);
out:
	debugfs_file_put(d);
	return ret;
}

static int dbgfs_data_release(struct inode *inode, struct file *file)
{
	struct ums_region *r = ((struct seq_file *)file->private_data)->private;

	single_release(inode, file);
	ums_region_put(r);
	return 0;
}

static int dbgfs_value_open(struct inode *inode, struct file *file)
{
	return dbgfs_data_open(inode, file, dbgfs_value_show);
}

static const struct file_operations dbgfs_value_fops = {
	.owner = THIS_MODULE,
	.open = dbgfs_value_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = dbgfs_data_release,
};

/* raw/<NAME>: the latest raw bytes (empty before the first sample). */
static int dbgfs_raw_show(struct seq_file *m, void *v)
{
	struct ums_region *r = m->private;
	struct ums_slot s;
	u8 *data;

	data = kvmalloc(r->len, GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	ums_region_read(r, &s, data);
	if (s.seq)
		seq_write(m, data, r->len);
	kvfree(data);
	return 0;
}

static int dbgfs_raw_open(struct inode *inode, struct file *file)
{
	return dbgfs_data_open(inode, file, dbgfs_raw_show);
}

static const struct file_operations dbgfs_raw_fops = {
	.owner = THIS_MODULE,
	.open = dbgfs_raw_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = dbgfs_data_release,
};

/* region_add hook: create values/<NAME> and raw/<NAME> (failure is not fatal). */
static void dbgfs_region_add(struct ums_region *r)
{
	/* No proxy: see the top of the file and dbgfs_data_open(). */
	r->d_value = debugfs_create_file_unsafe(r->name, 0400, dbgfs_values, r,
						&dbgfs_value_fops);
	r->d_raw = debugfs_create_file_unsafe(r->name, 0400, dbgfs_raw, r, &dbgfs_raw_fops);
}

/* region_del hook: remove the files, waiting only for opens in progress. */
static void dbgfs_region_del(struct ums_region *r)
{
	debugfs_remove(r->d_value);
	debugfs_remove(r->d_raw);
	r->d_value = NULL;
	r->d_raw = NULL;
}

static struct ums_iface dbgfs_iface = {
	.region_add = dbgfs_region_add,
	.region_del = dbgfs_region_del,
};

/**
 * ums_dbgfs_init() - create /sys/kernel/debug/umsampler and plug it into the registry
 *
 * Return: 0, or -ENODEV if debugfs is unavailable.
 */
int ums_dbgfs_init(void)
{
	struct dentry *root = debugfs_create_dir("umsampler", NULL);

	if (IS_ERR(root))
		return -ENODEV;
	dbgfs_root = root;
	dbgfs_values = debugfs_create_dir("values", root);
	dbgfs_raw = debugfs_create_dir("raw", root);
	ums_iface_register(&dbgfs_iface);
	debugfs_create_file("control", 0600, root, NULL, &dbgfs_control_fops);
	debugfs_create_file("regions", 0400, root, NULL, &dbgfs_regions_fops);
	debugfs_create_file("snapshot", 0400, root, NULL, &dbgfs_snapshot_fops);
	debugfs_create_file("stats", 0400, root, NULL, &dbgfs_stats_fops);
	debugfs_create_file("enabled", 0600, root, NULL, &dbgfs_enabled_fops);
	return 0;
}

/**
 * ums_dbgfs_exit() - unplug from the registry and remove the debugfs tree
 *
 * Waits for control writes and opens in progress; no hook runs afterwards.
 */
void ums_dbgfs_exit(void)
{
	ums_iface_unregister(&dbgfs_iface);
	debugfs_remove(dbgfs_root);
	dbgfs_root = NULL;
}
