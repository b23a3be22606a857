/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - umsampler control-line parser interface.
 *
 * Owns: the control-file grammar (one command per line: add / PID ADDR LEN shorthand / del /
 * clear / sync / enable / disable), the parsed command representation (struct ums_cmd), parse error reporting
 * (struct ums_perr) and the value-type / op name tables.  Pure code: compiled into the module
 * and on the host (see pure.h).
 */
#ifndef UMS_PARSE_H
#define UMS_PARSE_H

#include "pure.h"
#include "umsampler_abi.h"

enum ums_op { UMS_OP_ADD = 0, UMS_OP_DEL_ID, UMS_OP_DEL_PID, UMS_OP_DEL_NAME, UMS_OP_CLEAR,
	UMS_OP_SYNC, UMS_OP_ENABLE, UMS_OP_DISABLE, UMS_OP_NR };

/* `seq=`: none, an absolute address, or an offset from the (resolved) data address. */
enum ums_seq_mode { UMS_SEQ_NONE = 0, UMS_SEQ_ABS, UMS_SEQ_REL };

struct ums_limits {			/* supplied by the caller (module params / host test) */
	u64 max_len;			/* len > max_len -> -E2BIG */
	u64 addr_limit;			/* addr + len > addr_limit -> -EFAULT (TASK_SIZE) */
	u32 default_period_us;		/* when period_us= is omitted */
	u32 min_period_us;		/* 100 */
	u32 max_period_us;		/* e.g. 3600000000 (1 h) ; larger -> -EINVAL */
	u32 max_pid;			/* PID_MAX_LIMIT; pid <= 0 or > max_pid -> -EINVAL */
};

struct ums_cmd {
	enum ums_op op;
	unsigned int line;		/* 1-based line number within the write */
	s32 pid;			/* ADD, DEL_PID */
	u32 id;				/* DEL_ID */
	u64 addr, len;			/* ADD */
	u32 period_us;			/* ADD (default filled in) */
	u8 vtype;			/* enum ums_vtype */
	u8 mode;			/* enum ums_mode */
	bool fault;			/* ADD: `fault` flag given */
	bool mirror;			/* ADD: `mirror` flag given */
	u8 nr_deref;			/* ADD: `deref=` offsets given (0: a plain region) */
	u8 seq_mode;			/* ADD: enum ums_seq_mode */
	s64 deref[UMS_DEREF_MAX];	/* ADD: the offsets, in order */
	s64 seq;			/* ADD: seq address (ABS) or offset from the data (REL) */
	char name[UMS_NAME_LEN];	/* ADD (empty = auto name r<ID>), DEL_NAME */
};

/* Room for one error report ("line N: " and the reason); longer reasons are truncated. */
#define UMS_PERR_MSG	160

struct ums_perr {
	int err;			/* negative errno */
	unsigned int line;		/* 1-based line */
	char msg[UMS_PERR_MSG];		/* e.g. "line 2: len 0 out of range" */
};

/*
 * Parse one line (without its '\n').  Returns 0 and fills *cmd, 1 if the line is blank or a
 * '#' comment (nothing to do), or a negative errno with *perr filled.
 */
int ums_parse_line(const char *s, size_t n, unsigned int lineno, const struct ums_limits *lim,
		   struct ums_cmd *cmd, struct ums_perr *perr);

/*
 * Parse a whole write: splits on '\n' (a final line without '\n' is fine), skips blank/comment
 * lines, stores up to max commands in cmds[].  Returns the number of commands (>= 0), or a
 * negative errno with *perr describing the FIRST bad line (nothing is half-parsed: the caller
 * applies nothing).  More commands than max -> -E2BIG.  Any NUL byte in the buffer -> -EINVAL.
 */
int ums_parse(const char *buf, size_t n, const struct ums_limits *lim, struct ums_cmd *cmds,
	      unsigned int max, struct ums_perr *perr);

/* Fill *perr ("line N: " + the formatted reason) and return @err. */
__printf(4, 5) int ums_perr_set(struct ums_perr *perr, int err, unsigned int line,
				const char *fmt, ...);

/* Count the '\n'-separated lines (upper bound of commands) so the caller can size cmds[]. */
unsigned int ums_parse_count_lines(const char *buf, size_t n);

const char *ums_vtype_name(unsigned int vtype);	/* "hex", "u8", ..., "str"; "?" if out of range */
unsigned int ums_vtype_size(unsigned int vtype);	/* 1,2,4,8 for scalars; 0 for hex/str */
const char *ums_op_name(unsigned int op);
const char *ums_mode_name(unsigned int mode);	/* "always", "change", "none"; "?" if out of range */
const char *ums_region_op_name(unsigned int op);	/* "add", "del", "gone", "sync"; "?" */
const char *ums_reason_name(unsigned int why);	/* "none", "exit", ...; "?" if out of range */
/* "partial|changed|truncated" subset of @flags into buf; "" if none; "none" with @none. */
char *ums_flags_names(char *buf, size_t size, unsigned int flags, bool none);
bool ums_name_valid(const char *name);	/* 1..31 chars of [A-Za-z0-9_.:-], not reserved */

#endif /* UMS_PARSE_H */
