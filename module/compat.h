/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel-version difference umsampler cares about, in one place.
 *
 * Supported: 6.1 (incl. PREEMPT_RT) and 6.12. Anything version-dependent in the
 * module goes through a ums_* wrapper defined here; no other file tests
 * LINUX_VERSION_CODE.
 */
#ifndef _UMS_COMPAT_H
#define _UMS_COMPAT_H

#include <linux/version.h>

/*
 * __assign_str() lost its second argument in 6.10: the source is the one given
 * to __string() in TP_STRUCT__entry.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define ums_assign_str(dst, src)	__assign_str(dst)
#else
#define ums_assign_str(dst, src)	__assign_str(dst, src)
#endif

/* get_user_pages_remote() lost its `vmas` argument in 6.5. One page, no lock dropping. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define ums_gup_remote(mm, addr, flags, pagep)	\
	get_user_pages_remote(mm, addr, 1, flags, pagep, NULL)
#else
#define ums_gup_remote(mm, addr, flags, pagep)	\
	get_user_pages_remote(mm, addr, 1, flags, pagep, NULL, NULL)
#endif

/* hrtimer_setup() (6.13) replaced hrtimer_init() + setting ->function. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define ums_hrtimer_setup(timer, fn, clock, mode)	hrtimer_setup(timer, fn, clock, mode)
#else
#define ums_hrtimer_setup(timer, fn, clock, mode)	\
	do {						\
		hrtimer_init(timer, clock, mode);	\
		(timer)->function = (fn);		\
	} while (0)
#endif

#endif /* _UMS_COMPAT_H */
