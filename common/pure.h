/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pure.h - environment shim for the "pure" umsampler sources (parse.c, render.c).
 *
 * Owns: the small set of types, errno values and string helpers that the pure C code may use,
 * taken from the kernel headers when built as part of the module (__KERNEL__) and from the C
 * library headers when built on the host for unit tests and fuzzers.  Nothing else may be used
 * by the pure files: no allocation, no floating point, and of the printf family only
 * snprintf()/vsnprintf() (for error messages; both exist in the kernel with the same meaning).
 */
#ifndef UMS_PURE_H
#define UMS_PURE_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/stdarg.h>

/* u64 / u32 with remainder; do_div() keeps 32-bit architectures free of libgcc calls. */
static inline u32 ums_div_u32(u64 *n, u32 base)
{
	return do_div(*n, base);
}

#else /* !__KERNEL__: host build (unit tests, fuzzers) */

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef U8_MAX
#define U8_MAX		((u8)~0U)
#endif
#ifndef U32_MAX
#define U32_MAX		((u32)~0U)
#endif
#ifndef U64_MAX
#define U64_MAX		((u64)~0ULL)
#endif
#ifndef INT_MAX
#define INT_MAX		((int)(~0U >> 1))
#endif
#ifndef __printf
#define __printf(a, b)	__attribute__((__format__(printf, a, b)))
#endif
#ifndef noinline
#define noinline	__attribute__((__noinline__))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static inline u32 ums_div_u32(u64 *n, u32 base)
{
	u32 rem = (u32)(*n % base);

	*n /= base;
	return rem;
}

#endif /* __KERNEL__ */

#endif /* UMS_PURE_H */
