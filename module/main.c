// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init/exit and module parameters.
 *
 * Load order: the sampler thread, then the debugfs files, then /dev/umsampler
 * (nothing can be opened before the module is complete). Unload in reverse:
 * the device (an open one holds a module reference, so none is open at
 * exit), the debugfs files (waiting for writers in progress), the sampler
 * thread and its
 * reaper, then every region and target is destroyed (dropping all pid, mm
 * and cred references, see umsampler.h; op=del for every region left; the
 * mirrors' hrtimers and notifiers are stopped and removed with their
 * regions), then the sampler's task reference is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "umsampler.h"

unsigned int ums_param_period_us = 10000;
unsigned int ums_param_max_len = 65536;
unsigned int ums_param_max_regions = 4096;
unsigned int ums_param_unmapped_limit = 16;
bool ums_param_debug_floor;
bool ums_param_allow_nondumpable;
bool ums_param_sched_fifo;
unsigned int ums_param_mirror_budget = 4096;
unsigned int ums_param_user_max_regions = 128;

static int param_set_period(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, UMS_PERIOD_MIN_US, UMS_PERIOD_MAX_US);
}

static int param_set_max_len(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 16U << 20);
}

static int param_set_max_regions(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 1U << 20);
}

static int param_set_unmapped(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 1U << 30);
}

static int param_set_mirror_budget(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 1U << 20);
}

static int param_set_user_max_regions(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 1U << 20);
}

/* The kernel_param_ops of an unsigned parameter checked by param_set_<name>(). */
#define UMS_UINT_PARAM_OPS(__name)				\
static const struct kernel_param_ops __name##_ops = {		\
	.set = param_set_##__name,				\
	.get = param_get_uint,					\
}

UMS_UINT_PARAM_OPS(period);
UMS_UINT_PARAM_OPS(max_len);
UMS_UINT_PARAM_OPS(max_regions);
UMS_UINT_PARAM_OPS(unmapped);
UMS_UINT_PARAM_OPS(mirror_budget);
UMS_UINT_PARAM_OPS(user_max_regions);

module_param_cb(period_us, &period_ops, &ums_param_period_us, 0644);
MODULE_PARM_DESC(period_us, "Default sampling period in microseconds (100..3600000000, default 10000)");
module_param_cb(max_len, &max_len_ops, &ums_param_max_len, 0644);
MODULE_PARM_DESC(max_len, "Largest region length in bytes (default 65536)");
module_param_cb(max_regions, &max_regions_ops, &ums_param_max_regions, 0644);
MODULE_PARM_DESC(max_regions, "Most regions registered at once (default 4096)");
module_param_cb(unmapped_limit, &unmapped_ops, &ums_param_unmapped_limit, 0644);
MODULE_PARM_DESC(unmapped_limit,
		 "Consecutive samples over unmapped memory before a region is removed (default 16)");

module_param_named(debug_floor, ums_param_debug_floor, bool, 0644);
MODULE_PARM_DESC(debug_floor,
		 "Debug/benchmark only: sample a kernel buffer instead of target memory (default 0)");

module_param_named(allow_nondumpable, ums_param_allow_nondumpable, bool, 0644);
MODULE_PARM_DESC(allow_nondumpable,
		 "Allow regions in non-dumpable (setuid, PR_SET_DUMPABLE 0) processes (default 0)");

module_param_named(sched_fifo, ums_param_sched_fifo, bool, 0644);
MODULE_PARM_DESC(sched_fifo,
		 "Run the sampler thread SCHED_FIFO at the lowest RT priority, from its next wake-up (default 0)");

module_param_cb(mirror_budget, &mirror_budget_ops, &ums_param_mirror_budget, 0644);
MODULE_PARM_DESC(mirror_budget,
		 "Bytes mirror regions may copy per hrtimer expiry, each and all together (0..1048576, default 4096; 0: no mirror)");

module_param_cb(user_max_regions, &user_max_regions_ops, &ums_param_user_max_regions, 0644);
MODULE_PARM_DESC(user_max_regions,
		 "Most regions one delegated user (no CAP_SYS_PTRACE) may have through /dev/umsampler (0..1048576, default 128; 0: none)");

static int __init ums_init(void)
{
	int err;

	ums_mirror_init();
	err = umsd_start();
	if (err)
		return err;
	err = ums_dbgfs_init();
	if (err)
		goto out_sampler;
	err = ums_cdev_init();
	if (err)
		goto out_dbgfs;
	return 0;

out_dbgfs:
	ums_dbgfs_exit();
out_sampler:
	umsd_stop();
	umsd_release();
	return err;
}

static void __exit ums_exit(void)
{
	/*
	 * Remove the device and the debugfs tree first (each waits for control
	 * writes and opens in progress), so nothing can add or kick any more;
	 * then stop the
	 * sampler and its reaper; then nothing reaches the registry and it is
	 * torn down.
	 */
	ums_cdev_exit();
	ums_dbgfs_exit();
	umsd_stop();
	/* Mirrors kick the (stopped) thread until ums_destroy_all() removed them. */
	ums_destroy_all();
	ums_mirror_exit();
	umsd_release();
}

module_init(ums_init);
module_exit(ums_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Sample user memory of running processes into tracepoints and debugfs");
MODULE_AUTHOR("umsampler developers");
