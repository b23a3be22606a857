/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - the TAP output of the C host tests: ok(), skip() and tap_done(),
 * which prints the plan last ("1..N") and returns the exit status.
 */
#ifndef _UMS_TAP_H
#define _UMS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void skip(const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("ok %d - # SKIP ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Print the plan and a summary; returns the process exit status. */
static int __attribute__((unused)) tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d tests failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* _UMS_TAP_H */
