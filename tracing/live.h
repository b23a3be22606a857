/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live.h - helpers shared by the live-system subcommands (add, list, del, stats, watch):
 * locating the debugfs directory, reading its files, parsing `regions`, writing `control`
 * and reporting its errors, and parsing durations.  Implemented in control.c.
 */
#ifndef _UMS_LIVE_H
#define _UMS_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UMS_EXIT_OK	0
#define UMS_EXIT_ERR	1
#define UMS_EXIT_USAGE	2

struct ums_region {
	unsigned long id;
	long pid;
	uint64_t addr;
	uint64_t len;
	uint64_t period_us;
	char type[8];
	char mode[8];
	char name[32];
	uint64_t samples;
	uint64_t partial;
	uint64_t emitted;
};

/* The debugfs directory: $UMSAMPLER_DEBUGFS or UMS_DEBUGFS. */
const char *ums_dir(void);

/* Check that the directory exists and is readable; prints the reason and returns -1 if not. */
int ums_check_dir(void);

/*
 * Read a whole file of the debugfs directory (relative name) into a NUL-terminated malloc'ed
 * buffer; *len (if not NULL) gets its length.  NULL with errno set on failure.
 */
char *ums_read(const char *rel, size_t *len);

/*
 * Parse `regions` into a malloc'ed array (*n entries; NULL and *n = 0 when empty).
 * Returns 0, or -1 after printing the reason.
 */
int ums_regions(struct ums_region **out, size_t *n);

/*
 * Write buf to `control` with one write(2).  On failure prints "umsampler WHAT: ..." with the
 * errno meaning and the kernel's message (read back from `control`) and returns -1 with errno
 * set.
 */
int ums_control(const char *what, const char *buf);

/* "500us", "1ms", "2s", "1.5s", plain number = microseconds.  Returns 0 or -1. */
int ums_parse_duration_us(const char *s, uint64_t *us);

/* Unsigned number in C notation (0x.., decimal), whole string.  Returns 0 or -1. */
int ums_parse_u64(const char *s, uint64_t *v);

/* Print "umsampler: " + message to stderr (printf-like). */
void ums_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* _UMS_LIVE_H */
