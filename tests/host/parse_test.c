// SPDX-License-Identifier: GPL-2.0
/*
 * parse_test.c - host unit test (TAP) for common/parse.c.
 *
 * Owns: checks that every accepted command form parses to the expected struct ums_cmd, that each
 * entry of tests/data/bad-lines.txt fails with exactly its errno (and reported line), and the
 * error-message, name, table and line-count helpers.
 *
 * The table is found via $UMS_BAD_LINES, else the compile-time BAD_LINES_FILE, else
 * tests/data/bad-lines.txt relative to the current directory.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "parse.h"
#include "tap.h"
#include "limits.h"

#ifndef BAD_LINES_FILE
#define BAD_LINES_FILE "tests/data/bad-lines.txt"
#endif

/* Text printable in a TAP line: non-printables shown as '?', at most 60 chars. */
static const char *show(const char *s, size_t n)
{
	static char buf[80];
	size_t i, j = 0;

	for (i = 0; i < n && j < 60; i++)
		buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = 0;
	return buf;
}

/* A well-formed message: NUL-terminated within msg, printable, starts with "line N: ". */
static int msg_ok(const struct ums_perr *pe)
{
	char prefix[32];
	size_t n = strnlen(pe->msg, sizeof(pe->msg)), i;

	if (n >= sizeof(pe->msg))
		return 0;
	for (i = 0; i < n; i++)
		if (pe->msg[i] < 0x20 || pe->msg[i] > 0x7e)
			return 0;
	snprintf(prefix, sizeof(prefix), "line %u: ", pe->line);
	return !strncmp(pe->msg, prefix, strlen(prefix)) && n > strlen(prefix);
}

/* ---- good lines ---- */

struct want {
	const char *in;
	int count;		/* number of commands expected */
	enum ums_op op;		/* of the last command */
	unsigned int line;
	s32 pid;
	u32 id;
	u64 addr, len;
	u32 period;
	u8 vtype, mode;
	bool fault;
	const char *name;
};

static void test_good(void)
{
	static const struct want w[] = {
		{ "1234 0x1000 16", 1, UMS_OP_ADD, 1, 1234, 0, 0x1000, 16, 10000, UMS_VT_HEX, 0,
		  false, "" },
		{ "add pid=1 addr=4096 len=8", 1, UMS_OP_ADD, 1, 1, 0, 4096, 8, 10000, UMS_VT_HEX,
		  0, false, "" },
		{ "add len=010 addr=0X1f pid=07", 1, UMS_OP_ADD, 1, 7, 0, 0x1f, 8, 10000,
		  UMS_VT_HEX, 0, false, "" },
		{ "add pid=42 addr=0x7fff0000 type=u32", 1, UMS_OP_ADD, 1, 42, 0, 0x7fff0000, 4,
		  10000, UMS_VT_U32, 0, false, "" },
		{ "add pid=42 addr=0x7fff0000 type=f64 len=8 period_us=100 mode=change fault "
		  "name=my.var:1-x_Y", 1, UMS_OP_ADD, 1, 42, 0, 0x7fff0000, 8, 100, UMS_VT_F64,
		  UMS_MODE_CHANGE, true, "my.var:1-x_Y" },
		{ "add pid=3 addr=0x1000 type=u8 mode=none name=.x.", 1, UMS_OP_ADD, 1, 3, 0, 0x1000,
		  1, 10000, UMS_VT_U8, UMS_MODE_NONE, false, ".x." },
		{ "add fault name=r mode=always period_us=3600000000 type=str len=65536 addr=0 "
		  "pid=4194304", 1, UMS_OP_ADD, 1, 4194304, 0, 0, 65536, 3600000000U, UMS_VT_STR,
		  UMS_MODE_ALWAYS, true, "r" },
		{ "add pid=1 addr=0x7fffffffeff8 type=s64", 1, UMS_OP_ADD, 1, 1, 0,
		  0x7fffffffeff8ULL, 8, 10000, UMS_VT_S64, 0, false, "" },
		{ "1 0x7ffffffff000 0", -EINVAL, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, NULL },
		{ "1 0x7fffffffe000 4096", 1, UMS_OP_ADD, 1, 1, 0, 0x7fffffffe000ULL, 4096, 10000,
		  UMS_VT_HEX, 0, false, "" },
		{ "add pid=1 addr=1 len=1 name=abcdefghijklmnopqrstuvwxyz01234", 1, UMS_OP_ADD, 1,
		  1, 0, 1, 1, 10000, UMS_VT_HEX, 0, false, "abcdefghijklmnopqrstuvwxyz01234" },
		{ "add pid=1 addr=1 len=1 name=r1x", 1, UMS_OP_ADD, 1, 1, 0, 1, 1, 10000,
		  UMS_VT_HEX, 0, false, "r1x" },
		{ "add pid=1 addr=1 len=1 name=R12", 1, UMS_OP_ADD, 1, 1, 0, 1, 1, 10000,
		  UMS_VT_HEX, 0, false, "R12" },
		{ "  \t add\t pid=5   addr=0x10\tlen=2 \t ", 1, UMS_OP_ADD, 1, 5, 0, 0x10, 2, 10000,
		  UMS_VT_HEX, 0, false, "" },
		{ "1 0x1000 4\r", 1, UMS_OP_ADD, 1, 1, 0, 0x1000, 4, 10000, UMS_VT_HEX, 0, false,
		  "" },
		{ "del 7", 1, UMS_OP_DEL_ID, 1, 0, 7, 0, 0, 0, 0, 0, false, "" },
		{ "del 0xffffffff", 1, UMS_OP_DEL_ID, 1, 0, 0xffffffff, 0, 0, 0, 0, 0, false, "" },
		{ "del 0", 1, UMS_OP_DEL_ID, 1, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ "del pid=99", 1, UMS_OP_DEL_PID, 1, 99, 0, 0, 0, 0, 0, 0, false, "" },
		{ "del name=foo", 1, UMS_OP_DEL_NAME, 1, 0, 0, 0, 0, 0, 0, 0, false, "foo" },
		{ "del name=r12", 1, UMS_OP_DEL_NAME, 1, 0, 0, 0, 0, 0, 0, 0, false, "r12" },
		{ "clear", 1, UMS_OP_CLEAR, 1, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ "  sync  ", 1, UMS_OP_SYNC, 1, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ "sync\r\n", 1, UMS_OP_SYNC, 1, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ "# comment\n\n   \n\t# indented comment\nclear\n", 1, UMS_OP_CLEAR, 5, 0, 0, 0, 0,
		  0, 0, 0, false, "" },
		{ "clear\r\nsync\r\n1 0x1000 4\r\n", 3, UMS_OP_ADD, 3, 1, 0, 0x1000, 4, 10000,
		  UMS_VT_HEX, 0, false, "" },
		{ "sync\nsync", 2, UMS_OP_SYNC, 2, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ "enable", 1, UMS_OP_ENABLE, 1, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ " disable\r\n", 1, UMS_OP_DISABLE, 1, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ "disable\n1 0x1000 4\nenable", 3, UMS_OP_ENABLE, 3, 0, 0, 0, 0, 0, 0, 0, false, "" },
		{ "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, NULL },
		{ "\n\n\n", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, NULL },
		{ "#only a comment", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, NULL },
		{ "\r\n", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, NULL },
	};
	struct ums_cmd cmds[8];
	struct ums_perr pe;
	const struct ums_cmd *c;
	size_t i;
	int r;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		memset(cmds, 0xa5, sizeof(cmds));
		memset(&pe, 0xa5, sizeof(pe));
		r = ums_parse(w[i].in, strlen(w[i].in), &lim, cmds, 8, &pe);
		if (w[i].count <= 0) {
			ok(r == w[i].count, "\"%s\" -> %d (got %d: %s)",
			   show(w[i].in, strlen(w[i].in)), w[i].count, r, r < 0 ? pe.msg : "");
			continue;
		}
		c = &cmds[w[i].count - 1];
		ok(r == w[i].count && pe.err == 0 && c->op == w[i].op && c->line == w[i].line &&
		   c->pid == w[i].pid && c->id == w[i].id && c->addr == w[i].addr &&
		   c->len == w[i].len && c->period_us == w[i].period && c->vtype == w[i].vtype &&
		   c->mode == w[i].mode && c->fault == w[i].fault && !strcmp(c->name, w[i].name),
		   "\"%s\" parses (r=%d %s)", show(w[i].in, strlen(w[i].in)), r,
		   r < 0 ? pe.msg : "");
	}
}

/* 512-byte lines are fine, 513 are not. */
/* The bare `mirror` key, alone and with `fault`, in any order. */
static void test_mirror(void)
{
	static const char *const in[] = { "add pid=1 addr=4096 len=8 mirror",
					   "add mirror fault pid=1 addr=4096 len=8",
					   "add pid=1 addr=4096 len=8" };
	static const bool want_mirror[] = { true, true, false }, want_fault[] = { false, true, false };
	struct ums_cmd c;
	struct ums_perr pe;
	size_t i;
	int r;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		memset(&c, 0, sizeof(c));
		r = ums_parse(in[i], strlen(in[i]), &lim, &c, 1, &pe);
		ok(r == 1 && c.mirror == want_mirror[i] && c.fault == want_fault[i],
		   "\"%s\": mirror=%d fault=%d", in[i], c.mirror, c.fault);
	}
}

/* deref= offsets (signed C numbers, 1..8 of them) and seq= (absolute or relative). */
static void test_deref_seq(void)
{
	static const struct {
		const char *in;
		unsigned int nr;
		long long off[UMS_DEREF_MAX];
		unsigned int seq_mode;
		long long seq;
	} t[] = {
		{ "add pid=1 addr=4096 len=8 deref=8", 1, { 8 }, UMS_SEQ_NONE, 0 },
		{ "add pid=1 addr=4096 len=8 deref=8,8", 2, { 8, 8 }, UMS_SEQ_NONE, 0 },
		{ "add pid=1 addr=4096 len=8 deref=0,-16,+0x10,010", 4, { 0, -16, 16, 8 },
		  UMS_SEQ_NONE, 0 },
		{ "add pid=1 addr=4096 len=8 deref=1,2,3,4,5,6,7,-8", 8, { 1, 2, 3, 4, 5, 6, 7, -8 },
		  UMS_SEQ_NONE, 0 },
		{ "add pid=1 addr=4096 len=8 deref=0x7fffffffffffffff", 1, { 0x7fffffffffffffffLL },
		  UMS_SEQ_NONE, 0 },
		{ "add pid=1 addr=4096 len=8 seq=0x2000", 0, { 0 }, UMS_SEQ_ABS, 0x2000 },
		{ "add pid=1 addr=4096 len=8 seq=-8 deref=0", 1, { 0 }, UMS_SEQ_REL, -8 },
		{ "add pid=1 addr=4096 len=8 seq=+4096", 0, { 0 }, UMS_SEQ_REL, 4096 },
		{ "add pid=1 addr=4096 len=8 seq=+0", 0, { 0 }, UMS_SEQ_REL, 0 },
	};
	struct ums_cmd c;
	struct ums_perr pe;
	size_t i;
	unsigned int j;
	int r, same;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		r = ums_parse(t[i].in, strlen(t[i].in), &lim, &c, 1, &pe);
		same = r == 1 && c.nr_deref == t[i].nr && c.seq_mode == t[i].seq_mode &&
		       (t[i].seq_mode == UMS_SEQ_NONE || c.seq == t[i].seq);
		for (j = 0; same && j < t[i].nr; j++)
			same = c.deref[j] == t[i].off[j];
		ok(same, "\"%s\": %u offsets, seq mode %u (got r=%d nr=%u mode=%u)", t[i].in, t[i].nr,
		   t[i].seq_mode, r, c.nr_deref, c.seq_mode);
	}
}

static void test_line_cap(void)
{
	char buf[600];
	struct ums_cmd cmd;
	struct ums_perr pe;
	int n;

	n = snprintf(buf, sizeof(buf), "add pid=1 addr=0x1000 len=4");
	memset(buf + n, ' ', sizeof(buf) - n);
	ok(ums_parse(buf, 512, &lim, &cmd, 1, &pe) == 1, "512-byte line accepted");
	ok(ums_parse(buf, 513, &lim, &cmd, 1, &pe) == -EINVAL && msg_ok(&pe),
	   "513-byte line rejected: %s", pe.msg);
	buf[512] = '\r';
	ok(ums_parse(buf, 513, &lim, &cmd, 1, &pe) == 1, "512 bytes + trailing CR accepted");
	buf[0] = '#';
	ok(ums_parse_line(buf, 512, 1, &lim, &cmd, &pe) == 1, "512-byte comment is a comment");
}

static void test_messages(void)
{
	static const struct {
		const char *in, *msg;
	} t[] = {
		{ "sync\nsync\nadd pid=1 addr=1 len=1 foo=1", "line 3: unknown key 'foo'" },
		{ "add pid=1 addr=0x1000 len=70000", "line 1: len 70000 exceeds max_len 65536" },
		{ "\nadd pid=1 pid=2", "line 2: duplicate key 'pid'" },
		{ "add pid=1 addr=abc len=1", "line 1: 'abc' is not a number (addr)" },
		{ "add pid=1 addr=1 len=0", "line 1: len 0 out of range" },
		{ "add pid=0 addr=1 len=1", "line 1: pid 0 out of range (1..4194304)" },
		{ "add pid=1 addr=1", "line 1: missing key 'len' (required for type hex)" },
		{ "add addr=1 len=1", "line 1: missing key 'pid'" },
		{ "clear now", "line 1: 'clear' takes no arguments, got 'now'" },
		{ "add pid=1 addr=1 len=1 name=a/b", "line 1: name 'a/b' has a bad character "
		  "(allowed: A-Z a-z 0-9 _ . : -)" },
		{ "x\x01", "line 1: invalid byte 0x1 at column 2" },
		{ "add pid=1 addr=1 len=1 name=..", "line 1: name '..' is only dots (not a file name)" },
		{ "add pid=1 addr=1 len=1 mode=never", "line 1: unknown mode 'never' (always change none)" },
		{ "add pid=1 addr=1 len=1 name=r5", "line 1: name 'r5' is reserved for auto names "
		  "(r<ID>)" },
		{ "add pid=1 addr=1 len=1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "line 1: unexpected word 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
		  "(expected key=value, 'fault' or 'mirror')" },
		{ "add pid=1 addr=1 len=1 deref=1,2,3,4,5,6,7,8,9", "line 1: deref: more than 8 offsets" },
		{ "add pid=1 addr=1 len=1 deref=8,", "line 1: deref: offset 2 is empty" },
		{ "add pid=1 addr=1 len=1 deref=8,q", "line 1: deref: offset 'q' is not a number" },
		{ "add pid=1 addr=1 len=1 seq=+6",
		  "line 1: seq '+6' is not aligned to 4 bytes (a u32 counter)" },
		{ "add pid=1 addr=1 len=1 deref=0 mirror",
		  "line 1: mirror: a region with deref is sampled by the thread only" },
		{ "add pid=1 addr=0xffffffff81000000 len=4",
		  "line 1: addr 0xffffffff81000000 len 4 beyond user address limit 0x7ffffffff000" },
	};
	struct ums_cmd cmds[4];
	struct ums_perr pe;
	size_t i;
	int r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = ums_parse(t[i].in, strlen(t[i].in), &lim, cmds, 4, &pe);
		ok(r < 0 && r == pe.err && msg_ok(&pe) && !strcmp(pe.msg, t[i].msg),
		   "message \"%s\" (got \"%s\")", t[i].msg, pe.msg);
	}
}

static void test_misc(void)
{
	struct ums_cmd cmds[3];
	struct ums_perr pe;
	const char *s;
	char nul[] = "sync\nsy\0nc\n";
	int r;

	s = "sync\nsync\nsync\n";
	r = ums_parse(s, strlen(s), &lim, cmds, 2, &pe);
	ok(r == -E2BIG && pe.line == 3 && msg_ok(&pe), "more commands than max -> E2BIG on line 3 "
	   "(%s)", pe.msg);
	r = ums_parse(s, strlen(s), &lim, cmds, 3, &pe);
	ok(r == 3 && pe.err == 0 && pe.msg[0] == 0, "exactly max commands");
	r = ums_parse(s, strlen(s), &lim, NULL, 0, &pe);
	ok(r == -E2BIG && pe.line == 1, "max 0 with a command -> E2BIG");
	s = "#x\n\n";
	ok(ums_parse(s, strlen(s), &lim, NULL, 0, &pe) == 0, "max 0 with comments only -> 0");
	ok(ums_parse(s, strlen(s), &lim, NULL, 0, NULL) == 0, "NULL perr allowed");
	r = ums_parse(nul, sizeof(nul) - 1, &lim, cmds, 3, &pe);
	ok(r == -EINVAL && pe.line == 2 && msg_ok(&pe), "NUL in line 2 (%s)", pe.msg);
	ok(ums_parse_line("", 0, 9, &lim, cmds, &pe) == 1 && cmds[0].line == 9, "empty line -> 1");
	ok(ums_parse_line("clear", 5, 9, &lim, cmds, NULL) == 0 && cmds[0].line == 9 &&
	   cmds[0].op == UMS_OP_CLEAR, "parse_line clear, NULL perr");
	ok(ums_parse_line("clear x", 7, 9, &lim, cmds, NULL) == -EINVAL,
	   "parse_line error, NULL perr");

	ok(ums_parse_count_lines("", 0) == 0, "count_lines empty");
	ok(ums_parse_count_lines("a", 1) == 1, "count_lines no newline");
	ok(ums_parse_count_lines("a\n", 2) == 1, "count_lines one line");
	ok(ums_parse_count_lines("a\nb", 3) == 2, "count_lines final line without newline");
	ok(ums_parse_count_lines("\n\n\n", 3) == 3, "count_lines blank lines");

	ok(!strcmp(ums_vtype_name(UMS_VT_HEX), "hex") && !strcmp(ums_vtype_name(UMS_VT_U8), "u8") &&
	   !strcmp(ums_vtype_name(UMS_VT_S64), "s64") &&
	   !strcmp(ums_vtype_name(UMS_VT_F32), "f32") &&
	   !strcmp(ums_vtype_name(UMS_VT_STR), "str") && !strcmp(ums_vtype_name(UMS_VT_NR), "?") &&
	   !strcmp(ums_vtype_name(~0U), "?"), "vtype names");
	ok(ums_vtype_size(UMS_VT_HEX) == 0 && ums_vtype_size(UMS_VT_STR) == 0 &&
	   ums_vtype_size(UMS_VT_U8) == 1 && ums_vtype_size(UMS_VT_S16) == 2 &&
	   ums_vtype_size(UMS_VT_U32) == 4 && ums_vtype_size(UMS_VT_F32) == 4 &&
	   ums_vtype_size(UMS_VT_S64) == 8 && ums_vtype_size(UMS_VT_F64) == 8 &&
	   ums_vtype_size(UMS_VT_NR) == 0, "vtype sizes");
	ok(!strcmp(ums_op_name(UMS_OP_ADD), "add") && !strcmp(ums_op_name(UMS_OP_SYNC), "sync") &&
	   !strcmp(ums_op_name(UMS_OP_DEL_NAME), "del_name") &&
	   !strcmp(ums_op_name(UMS_OP_ENABLE), "enable") &&
	   !strcmp(ums_op_name(UMS_OP_DISABLE), "disable") &&
	   !strcmp(ums_op_name(UMS_OP_NR), "?"), "op names");
	ok(ums_name_valid("a") && ums_name_valid("A-z_0.9:x") && ums_name_valid("r") &&
	   ums_name_valid("r1a") && ums_name_valid("abcdefghijklmnopqrstuvwxyz01234"),
	   "valid names");
	ok(!ums_name_valid(".") && !ums_name_valid("..") && !ums_name_valid("...") &&
	   ums_name_valid(".a") && ums_name_valid("a.."), "dot-only names invalid");
	ok(!strcmp(ums_mode_name(UMS_MODE_ALWAYS), "always") &&
	   !strcmp(ums_mode_name(UMS_MODE_CHANGE), "change") &&
	   !strcmp(ums_mode_name(UMS_MODE_NONE), "none") && !strcmp(ums_mode_name(UMS_MODE_NR), "?"),
	   "mode names");
	ok(!ums_name_valid("") && !ums_name_valid(NULL) && !ums_name_valid("r1") &&
	   !ums_name_valid("r0123") && !ums_name_valid("a b") && !ums_name_valid("a/b") &&
	   !ums_name_valid("abcdefghijklmnopqrstuvwxyz012345") && !ums_name_valid("\xc3\xa9"),
	   "invalid names");
}

/* ---- bad-lines.txt ---- */

static int errno_of(const char *name)
{
	static const struct {
		const char *n;
		int e;
	} t[] = {
		{ "EINVAL", EINVAL }, { "EFAULT", EFAULT }, { "E2BIG", E2BIG },
		{ "ENOENT", ENOENT },
		{ "ESRCH", ESRCH }, { "EPERM", EPERM }, { "ENOSPC", ENOSPC }, { "EEXIST", EEXIST },
		{ "ERANGE", ERANGE }, { "EBUSY", EBUSY }, { "ENOMEM", ENOMEM },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(name, t[i].n))
			return t[i].e;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the table's escapes; returns the byte count or -1. */
static int unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in; in++) {
		char c = *in;

		if (c == '\\') {
			in++;
			switch (*in) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'v': c = '\v'; break;
			case 'f': c = '\f'; break;
			case '0': c = '\0'; break;
			case '\\': c = '\\'; break;
			case 'x':
				if (hexval(in[1]) < 0 || hexval(in[2]) < 0)
					return -1;
				c = (char)(hexval(in[1]) * 16 + hexval(in[2]));
				in += 2;
				break;
			default:
				return -1;
			}
		}
		if (n >= cap)
			return -1;
		out[n++] = c;
	}
	return (int)n;
}

static void test_bad_lines(void)
{
	const char *path = getenv("UMS_BAD_LINES");
	char line[4096], buf[4096];
	struct ums_cmd *cmds;
	struct ums_perr pe;
	unsigned int maxc;
	int entries = 0, checked = 0, lineno = 0, n, want, r, want_line;
	FILE *f;

	if (!path)
		path = BAD_LINES_FILE;
	f = fopen(path, "r");
	ok(f != NULL, "open %s", path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *e = line, *w, *comment, *at;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		entries++;
		w = strchr(e, '\t');
		comment = w ? strchr(w + 1, '\t') : NULL;
		if (!w || !comment) {
			ok(0, "bad-lines.txt:%d: malformed entry", lineno);
			continue;
		}
		*w++ = 0;
		*comment++ = 0;
		want = errno_of(e);
		n = unescape(w, buf, sizeof(buf));
		if (!want || n < 0) {
			ok(0, "bad-lines.txt:%d: bad errno '%s' or escape", lineno, e);
			continue;
		}
		if (!strncmp(comment, "kernel:", 7)) {
			skip("bad-lines.txt:%d: %s (kernel-only errno %s)", lineno, comment, e);
			continue;
		}
		at = strstr(comment, "@line=");
		want_line = at ? atoi(at + 6) : 0;
		maxc = ums_parse_count_lines(buf, (size_t)n);
		cmds = calloc(maxc + 1, sizeof(*cmds));
		memset(&pe, 0x5a, sizeof(pe));
		r = ums_parse(buf, (size_t)n, &lim, cmds, maxc, &pe);
		free(cmds);
		checked++;
		ok(r == -want && pe.err == r && msg_ok(&pe) && (!want_line || pe.line ==
		   (unsigned int)want_line) && (want_line || pe.line == 1),
		   "bad-lines.txt:%d: %s -> %s (got %d, line %u: %s)", lineno, comment, e, r,
		   pe.line, msg_ok(&pe) ? pe.msg : "<malformed message>");
	}
	fclose(f);
	ok(entries >= 110, "bad-lines.txt has %d entries (>= 110), %d checked on the host",
	   entries, checked);
}

int main(void)
{
	test_good();
	test_mirror();
	test_deref_seq();
	test_line_cap();
	test_messages();
	test_misc();
	test_bad_lines();
	return tap_done();
}
