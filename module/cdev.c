// SPDX-License-Identifier: GPL-2.0
/*
 * cdev.c - /dev/umsampler, the control path that works under lockdown and
 * can be delegated (misc character device, dynamic minor, mode 0600; a udev
 * rule may give it a group, see README):
 *
 *   write  one batch of the control language (parse.c), exactly as the
 *          debugfs control file takes it (ums_control(): all or nothing,
 *          same errnos), `enable` and `disable` included; the read offset
 *          goes back to 0, so the next read reports on this write
 *   read   if the last write on this open file failed, "error: " and its
 *          reason first; then "ID NAME PID TYPE SEQ TIME_NS FLAGS VALUE" and
 *          a line per region the opener reaches, with its latest sample
 *
 * Under lockdown=integrity debugfs refuses every file with a write bit;
 * a character device is not debugfs, and this one gives nothing lockdown
 * protects (no kernel memory, only what /proc/PID/mem would give the opener).
 *
 * Who may do what follows the opener's credentials (file->f_cred, as the
 * kernel checks /proc/PID/mem), struct ums_writer: CAP_SYS_PTRACE in the
 * initial user namespace reaches everything, as the debugfs control file;
 * anyone else who could open the device (its mode and group) adds regions
 * only in processes it may read under the kernel's ptrace access rules (the
 * check every add passes, registry.c: Yama and LSMs apply), reaches and reads
 * back only its own regions, and may not enable/disable. Its regions end
 * when the target execs, changes credentials or becomes non-dumpable
 * (sampler.c), so reading a new program always takes a new add and check.
 *
 * Reads walk the registry under ums_ctl_lock (never ums_lock) and copy
 * sample bytes with ums_region_read() (latched, never torn), like debugfs
 * `snapshot`; seq_file copies to the reader after dropping the lock.
 * An open file holds a module reference (fops.owner), so rmmod fails with
 * EBUSY while the device is open.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid_namespace.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "render.h"
#include "umsampler.h"

/* Largest accepted write, as the debugfs control file's. */
#define CDEV_WRITE_MAX	(256 << 10)

/**
 * struct cdev_file - one open /dev/umsampler
 * @lock:	protects @err (writers and readers of the same file may race)
 * @err:	report of the last failed write on this file, "" if it succeeded
 */
struct cdev_file {
	struct mutex lock;
	char err[UMS_ERR_TEXT];
};

static struct cdev_file *cdev_priv(struct file *file)
{
	return ((struct seq_file *)file->private_data)->private;
}

static void cdev_writer(const struct file *file, struct ums_writer *w)
{
	w->cred = file->f_cred;
	w->priv = file_ns_capable(file, &init_user_ns, CAP_SYS_PTRACE);
}

static void cdev_set_err(struct cdev_file *cf, int err, const char *msg)
{
	mutex_lock(&cf->lock);
	if (err)
		ums_err_text(cf->err, sizeof(cf->err), err, msg, "device");
	else
		cf->err[0] = '\0';
	mutex_unlock(&cf->lock);
}

static ssize_t cdev_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	struct cdev_file *cf = cdev_priv(file);
	struct ums_writer w;
	struct ums_perr perr;
	char *buf;
	int ret;

	/* The next read starts over and reports on this write. */
	*ppos = 0;
	if (count > CDEV_WRITE_MAX) {
		snprintf(perr.msg, sizeof(perr.msg), "write of %zu bytes exceeds %u", count,
			 CDEV_WRITE_MAX);
		cdev_set_err(cf, -E2BIG, perr.msg);
		return -E2BIG;
	}
	if (!count)
		return 0;
	buf = vmemdup_user(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	cdev_writer(file, &w);
	ret = ums_control(buf, count, &w, &perr);
	kvfree(buf);
	cdev_set_err(cf, ret < 0 ? ret : 0, perr.msg);
	return ret < 0 ? ret : count;
}

static void *cdev_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&ums_ctl_lock);
	return seq_list_start_head(&ums_regions, *pos);
}

static void *cdev_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &ums_regions, pos);
}

static void cdev_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&ums_ctl_lock);
}

/* One region's line: its latest sample decoded, "-" fields before the first one. */
static int cdev_show_region(struct seq_file *m, struct ums_region *r)
{
	size_t vsize = ums_value_text_size(r);
	struct ums_slot s;
	char flags[64];
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
	seq_printf(m, "%u %s %d %s %llu ", r->id, r->name,
		   pid_nr_ns(r->target->pid, task_active_pid_ns(current)), ums_vtype_name(r->vtype),
		   s.seq);
	if (s.seq) {
		ums_render_value(text, vsize, r->vtype, data, r->len, s.flags & UMS_F_PARTIAL);
		seq_printf(m, "%llu %s %s\n", s.time_ns,
			   ums_flags_names(flags, sizeof(flags), s.flags, false)[0] ?
			   flags : "-", text);
	} else {
		seq_puts(m, "- - -\n");
	}
	kvfree(data);
	kvfree(text);
	return 0;
}

static int cdev_show(struct seq_file *m, void *v)
{
	const struct file *file = m->file;
	struct cdev_file *cf = m->private;
	struct ums_writer w;

	if (v == &ums_regions) {
		mutex_lock(&cf->lock);
		if (cf->err[0])
			seq_printf(m, "error: %s\n", cf->err);
		mutex_unlock(&cf->lock);
		seq_puts(m, "ID NAME PID TYPE SEQ TIME_NS FLAGS VALUE\n");
		return 0;
	}
	cdev_writer(file, &w);
	if (!ums_region_reach(list_entry(v, struct ums_region, node), &w))
		return 0;
	return cdev_show_region(m, list_entry(v, struct ums_region, node));
}

static const struct seq_operations cdev_sops = {
	.start = cdev_start,
	.next = cdev_next,
	.stop = cdev_stop,
	.show = cdev_show,
};

static int cdev_open(struct inode *inode, struct file *file)
{
	struct cdev_file *cf;
	int ret;

	/* misc_open() left the struct miscdevice here; seq_file wants it empty. */
	file->private_data = NULL;
	ret = seq_open_private(file, &cdev_sops, sizeof(*cf));
	if (ret)
		return ret;
	cf = cdev_priv(file);
	mutex_init(&cf->lock);
	return 0;
}

static const struct file_operations cdev_fops = {
	.owner = THIS_MODULE,
	.open = cdev_open,
	.read = seq_read,
	.write = cdev_write,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

static struct miscdevice cdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "umsampler",
	.fops = &cdev_fops,
	.mode = 0600,
};

/**
 * ums_cdev_init() - create /dev/umsampler
 *
 * Return: 0, or the errno of misc_register().
 */
int ums_cdev_init(void)
{
	return misc_register(&cdev_misc);
}

/**
 * ums_cdev_exit() - remove /dev/umsampler (none is open: module reference)
 */
void ums_cdev_exit(void)
{
	misc_deregister(&cdev_misc);
}
