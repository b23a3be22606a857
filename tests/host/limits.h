/* SPDX-License-Identifier: GPL-2.0 */
/*
 * limits.h - the limits the host parser tests and the fuzzer parse against:
 * the module's defaults (max_len 65536, period 100 us..3600 s, default 10 ms)
 * on x86-64 (user addresses below 0x7ffffffff000, PID_MAX_LIMIT 4194304).
 * tests/data/bad-lines.txt is written against these values.
 */
#ifndef _UMS_HOST_LIMITS_H
#define _UMS_HOST_LIMITS_H

#include "parse.h"

static const struct ums_limits lim = {
	.max_len = 65536,
	.addr_limit = 0x00007ffffffff000ULL,
	.default_period_us = 10000,
	.min_period_us = 100,
	.max_period_us = 3600000000U,
	.max_pid = 4194304,
};

#endif /* _UMS_HOST_LIMITS_H */
