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
static char dbgfs_last_err[UMS_ERR_TEXT];

/*
 * The errno's name without its sign: "%pe" gives it when the kernel has
 * CONFIG_SYMBOLIC_ERRNAME (Debian's do); otherwise only the number, so the
 * errnos a control write can fail with are named here.
 */
static const char *dbgfs_errname(int err, char *buf, size_t size)
{
	if (IS_ENABLED(CONFIG_SYMBOLIC_ERRNAME)) {
		snprintf(buf, size, "%pe", ERR_PTR(err));
		return buf + 1;
	}
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
	case -EINTR: return "EINTR";
	case -EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "error";
	}
}

/**
 * ums_err_text() - a failed control write's report, as the control file and
 * the device give it back
 * @buf:	receives "ENAME: reason (errno)"
 * @size:	its size
 * @err:	the negative errno
 * @msg:	the reason (struct ums_perr's message)
 * @who:	the interface written to, for the log: "control" or "device"
 *
 * Also logs it, rate-limited.
 */
void ums_err_text(char *buf, size_t size, int err, const char *msg, const char *who)
{
	char nbuf[24];
	const char *name = dbgfs_errname(err, nbuf, sizeof(nbuf));

	snprintf(buf, size, "%s: %s (%d)", name, msg, err);
	pr_info_ratelimited("%s: %s: %s\n", who, name, msg);
}

/*
 * Record why a control write failed, as "ENAME: reason (errno)": kept for
 * reads of the control file and logged (rate-limited).
 */
static __printf(2, 3) void dbgfs_fail(int err, const char *fmt, ...)
{
	char msg[UMS_PERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mutex_lock(&dbgfs_err_lock);
	ums_err_text(dbgfs_last_err, sizeof(dbgfs_last_err), err, msg, "control");
	mutex_unlock(&dbgfs_err_lock);
}

static ssize_t dbgfs_control_write(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	struct ums_writer w;
	struct ums_perr perr;
	char *buf;
	int ret;

	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_PTRACE)) {
		dbgfs_fail(-EPERM, "opener lacks CAP_SYS_PTRACE");
		return -EPERM;
	}
	/* Each write(2) is a complete batch; offsets other than 0 are refused. */
	if (*ppos) {
		dbgfs_fail(-EINVAL, "write at offset %lld: each write must be whole lines", *ppos);
		return -EINVAL;
	}
	if (count > DBGFS_CTL_MAX) {
		dbgfs_fail(-E2BIG, "write of %zu bytes exceeds %u", count, DBGFS_CTL_MAX);
		return -E2BIG;
	}
	if (!count)
		return 0;
	buf = vmemdup_user(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	/* Only CAP_SYS_PTRACE openers get here (above). */
	w.cred = file->f_cred;
	w.priv = true;
	ret = ums_control(buf, count, &w, &perr);
	kvfree(buf);
	if (ret < 0) {
		dbgfs_fail(ret, "%s", perr.msg);
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

/*
 * DEREF and SEQ of `regions`: the deref offsets ("8,-16") and the seq counter
 * (an address, or "+OFF"/"-OFF" from the data), each "-" if not given.
 */
static void dbgfs_chain(struct seq_file *m, const struct ums_region *r)
{
	unsigned int i;

	if (!r->nr_deref)
		seq_putc(m, '-');
	for (i = 0; i < r->nr_deref; i++)
		seq_printf(m, "%s%lld", i ? "," : "", r->deref[i]);
	if (r->seq_mode == UMS_SEQ_ABS)
		seq_printf(m, " 0x%llx", (u64)r->seq);
	else if (r->seq_mode == UMS_SEQ_REL)
		seq_printf(m, " %+lld", r->seq);
	else
		seq_puts(m, " -");
}

static int dbgfs_regions_show(struct seq_file *m, void *v)
{
	struct ums_region *r;

	if (v == &ums_regions) {
		seq_puts(m, "ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ\n");
		return 0;
	}
	r = list_entry(v, struct ums_region, node);
	if (!ums_region_visible(r))
		return 0;
	seq_printf(m, "%u %d 0x%llx %llu %u %s %s %s %llu %llu %llu %s %s ", r->id, dbgfs_pid(r),
		   r->addr, r->len, r->period_us, ums_vtype_name(r->vtype),
		   ums_mode_name(r->mode), r->name,
		   READ_ONCE(r->nr_samples), READ_ONCE(r->nr_partial), READ_ONCE(r->nr_emitted),
		   dbgfs_mirror(r), dbgfs_path(r));
	dbgfs_chain(m, r);
	seq_putc(m, '\n');
	return 0;
}

/* A seq_file over ums_regions (header line at the list head) shown by dbgfs_<name>_show(). */
#define DEFINE_DBGFS_LIST_ATTRIBUTE(__name)				\
static const struct seq_operations dbgfs_##__name##_sops = {		\
	.start = dbgfs_list_start,					\
	.next = dbgfs_list_next,					\
	.stop = dbgfs_list_stop,					\
	.show = dbgfs_##__name##_show,					\
};									\
DEFINE_SEQ_ATTRIBUTE(dbgfs_##__name)

DEFINE_DBGFS_LIST_ATTRIBUTE(regions);

/**
 * ums_value_text_size() - room ums_render_value() needs for a region's value
 * @r:	the region (its len and vtype)
 *
 * Return: bytes of the text buffer, with the NUL.
 */
size_t ums_value_text_size(const struct ums_region *r)
{
	if (r->vtype == UMS_VT_HEX)
		return r->len * 2 + 1;
	if (r->vtype == UMS_VT_STR)
		return r->len * 4 + 1;
	return 64;
}

static int dbgfs_snapshot_show(struct seq_file *m, void *v)
{
	char flags[64];
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
	vsize = ums_value_text_size(r);
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
	seq_printf(m, " mirror=%s path=%s raddr=0x%llx", dbgfs_mirror(r), dbgfs_path(r), s.addr);
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

DEFINE_DBGFS_LIST_ATTRIBUTE(snapshot);

/*
 * The counters of struct ums_stats and struct ums_mirror_stats, in the order
 * stats shows them (around the derived ones): @off in ums_stats, @moff in
 * ums_mirror_stats (atomic64_t), -1 for none; a line shows their sum.
 */
struct dbgfs_stat {
	const char *name;
	int off;
	int moff;
};

#define DBGFS_STAT(f)	{ #f, offsetof(struct ums_stats, f), -1 }
/* Both paths: thread + mirror. */
#define DBGFS_STAT2(f)	{ #f, offsetof(struct ums_stats, f), offsetof(struct ums_mirror_stats, f) }
/* The mirror's part alone. */
#define DBGFS_MSTAT(f)	{ "mirror_" #f, -1, offsetof(struct ums_mirror_stats, f) }

static const struct dbgfs_stat dbgfs_stats_head[] = {
	DBGFS_STAT(ticks), DBGFS_STAT2(samples), DBGFS_STAT2(bytes), DBGFS_STAT(partial),
	DBGFS_STAT2(emitted), DBGFS_STAT2(missed), DBGFS_STAT(late_max_ns),
};

static const struct dbgfs_stat dbgfs_stats_tail[] = {
	DBGFS_STAT(targets_gone), DBGFS_STAT(cpu_ns), DBGFS_STAT(attach_ns), DBGFS_STAT(spans),
	DBGFS_STAT(busy), DBGFS_STAT(poisoned), DBGFS_STAT(unresolved), DBGFS_STAT(seq_retries),
	DBGFS_STAT(torn),
	DBGFS_MSTAT(samples), DBGFS_MSTAT(bytes), DBGFS_MSTAT(emitted), DBGFS_MSTAT(missed),
	DBGFS_MSTAT(expiries), DBGFS_MSTAT(cpu_ns), DBGFS_MSTAT(builds), DBGFS_MSTAT(handbacks),
	DBGFS_MSTAT(late_max_ns),
};

static void dbgfs_stats_print(struct seq_file *m, const struct dbgfs_stat *st, size_t n)
{
	size_t i;
	u64 v;

	for (i = 0; i < n; i++) {
		v = st[i].off < 0 ? 0 : READ_ONCE(*(u64 *)((char *)&ums_stats + st[i].off));
		if (st[i].moff >= 0)
			v += atomic64_read((atomic64_t *)((char *)&ums_mirror_stats + st[i].moff));
		seq_printf(m, "%s %llu\n", st[i].name, v);
	}
}

static int dbgfs_stats_show(struct seq_file *m, void *v)
{
	unsigned int regions, targets;

	mutex_lock(&ums_ctl_lock);
	regions = ums_nr_regions;
	targets = ums_nr_targets;
	mutex_unlock(&ums_ctl_lock);
	dbgfs_stats_print(m, dbgfs_stats_head, ARRAY_SIZE(dbgfs_stats_head));
	seq_printf(m, "late_p99_ns %llu\n", umsd_late_p99());
	seq_printf(m, "regions %u\ntargets %u\n", regions, targets);
	dbgfs_stats_print(m, dbgfs_stats_tail, ARRAY_SIZE(dbgfs_stats_tail));
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
	size_t vsize = ums_value_text_size(r);
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

/*
 * The file_operations of a per-region data file whose contents are
 * dbgfs_<name>_show() (DEFINE_SHOW_ATTRIBUTE, with the region reference).
 */
#define DEFINE_DBGFS_DATA_FOPS(__name)						\
static int dbgfs_##__name##_open(struct inode *inode, struct file *file)	\
{										\
	return dbgfs_data_open(inode, file, dbgfs_##__name##_show);		\
}										\
										\
static const struct file_operations dbgfs_##__name##_fops = {			\
	.owner = THIS_MODULE,							\
	.open = dbgfs_##__name##_open,						\
	.read = seq_read,							\
	.llseek = seq_lseek,							\
	.release = dbgfs_data_release,						\
}

DEFINE_DBGFS_DATA_FOPS(value);

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

DEFINE_DBGFS_DATA_FOPS(raw);

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
