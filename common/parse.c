// SPDX-License-Identifier: GPL-2.0
/*
 * parse.c - umsampler control-line parser.
 *
 * Owns: tokenizing and validating the lines written to the control file and turning them into
 * struct ums_cmd, with specific error messages ("line N: ...").  Pure code: no allocation, no
 * libc beyond mem*()/str*(), compiled both into the module and on the host (see pure.h).
 *
 * Grammar (one command per line, tokens separated by spaces/tabs):
 *   PID ADDR LEN
 *   add pid=PID addr=ADDR [len=LEN] [period_us=N] [type=T] [name=NAME] [mode=M] [fault]
 *       [mirror]
 *   del ID | del pid=PID | del name=NAME
 *   clear | sync
 * Blank lines and '#' comments are ignored; a trailing '\r' is ignored.
 */
#include "parse.h"

#define UMS_TOK_SHOW	32		/* at most this many user bytes are quoted in messages */

#define UMS_VT_NAME_(sfx, name, size)	[UMS_VT_##sfx] = #name,
static const char * const ums_vtype_names[UMS_VT_NR] = { UMS_VTYPES(UMS_VT_NAME_) };

#define UMS_VT_SIZE_(sfx, name, size)	[UMS_VT_##sfx] = size,
static const u8 ums_vtype_sizes[UMS_VT_NR] = { UMS_VTYPES(UMS_VT_SIZE_) };

#define UMS_MODE_NAME_(sfx, name)	[UMS_MODE_##sfx] = #name,
static const char * const ums_mode_names[UMS_MODE_NR] = { UMS_MODES(UMS_MODE_NAME_) };

#define UMS_REG_NAME_(sfx, name)	[UMS_REG_##sfx] = #name,
static const char * const ums_region_op_names[UMS_REG_NR] = { UMS_REGION_OPS(UMS_REG_NAME_) };

#define UMS_WHY_NAME_(sfx, name)	[UMS_WHY_##sfx] = #name,
static const char * const ums_reason_names[UMS_WHY_NR] = { UMS_GONE_REASONS(UMS_WHY_NAME_) };

#define UMS_F_ENTRY_(sfx, name, bit)	{ bit, #name },
static const struct { unsigned int bit; const char *name; } ums_flag_names[UMS_F_NR] = {
	UMS_FLAGS(UMS_F_ENTRY_)
};

static const char * const ums_op_names[UMS_OP_NR] = {
	[UMS_OP_ADD] = "add", [UMS_OP_DEL_ID] = "del_id", [UMS_OP_DEL_PID] = "del_pid",
	[UMS_OP_DEL_NAME] = "del_name", [UMS_OP_CLEAR] = "clear", [UMS_OP_SYNC] = "sync",
};

/* Keys of the add command; also the bit numbers of the "seen" mask. */
enum { UMS_K_PID, UMS_K_ADDR, UMS_K_LEN, UMS_K_PERIOD, UMS_K_TYPE, UMS_K_NAME, UMS_K_MODE,
	UMS_K_FAULT, UMS_K_MIRROR, UMS_K_NR };

static const char * const ums_key_names[UMS_K_NR] = {
	[UMS_K_PID] = "pid", [UMS_K_ADDR] = "addr", [UMS_K_LEN] = "len",
	[UMS_K_PERIOD] = "period_us", [UMS_K_TYPE] = "type", [UMS_K_NAME] = "name",
	[UMS_K_MODE] = "mode", [UMS_K_FAULT] = "fault",
	[UMS_K_MIRROR] = "mirror",
};

/**
 * ums_vtype_name() - name of a value type as used in the grammar
 * @vtype: enum ums_vtype value
 *
 * Return: "hex", "u8", ..., "str", or "?" if @vtype is out of range.
 */
const char *ums_vtype_name(unsigned int vtype)
{
	return vtype < UMS_VT_NR ? ums_vtype_names[vtype] : "?";
}

/**
 * ums_vtype_size() - fixed byte size of a scalar value type
 * @vtype: enum ums_vtype value
 *
 * Return: 1, 2, 4 or 8 for the integer and float types, 0 for hex, str and out-of-range values.
 */
unsigned int ums_vtype_size(unsigned int vtype)
{
	return vtype < UMS_VT_NR ? ums_vtype_sizes[vtype] : 0;
}

/**
 * ums_mode_name() - name of an emission mode as used in the grammar
 * @mode: enum ums_mode value
 *
 * Return: "always", "change", "none", or "?" if @mode is out of range.
 */
const char *ums_mode_name(unsigned int mode)
{
	return mode < UMS_MODE_NR ? ums_mode_names[mode] : "?";
}

/**
 * ums_region_op_name() - name of a umsampler:region op
 * @op: enum ums_region_op value
 *
 * Return: "add", "del", "gone", "sync", or "?" if @op is out of range.
 */
const char *ums_region_op_name(unsigned int op)
{
	return op < UMS_REG_NR ? ums_region_op_names[op] : "?";
}

/**
 * ums_reason_name() - name of a umsampler:region gone reason
 * @why: enum ums_gone_why value
 *
 * Return: "none", "exit", "exec", "unmapped", "cred", "nondumpable", or "?" if out of range.
 */
const char *ums_reason_name(unsigned int why)
{
	return why < UMS_WHY_NR ? ums_reason_names[why] : "?";
}

/**
 * ums_flags_names() - names of the sample flags set in @flags, '|'-separated
 * @buf:	receives the text; 32 bytes hold every combination
 * @size:	size of @buf (> 0)
 * @flags:	UMS_F_* bits (undefined bits are ignored)
 * @none:	what no flag reads as: "none" if true, "" if false
 *
 * Return: @buf.
 */
char *ums_flags_names(char *buf, size_t size, unsigned int flags, bool none)
{
	size_t pos = 0, n, i;

	buf[0] = '\0';
	for (i = 0; i < UMS_F_NR; i++) {
		if (!(flags & ums_flag_names[i].bit))
			continue;
		n = strlen(ums_flag_names[i].name);
		if (pos + (pos ? 1 : 0) + n + 1 > size)
			break;
		if (pos)
			buf[pos++] = '|';
		memcpy(buf + pos, ums_flag_names[i].name, n + 1);
		pos += n;
	}
	if (!pos && none && size > 4)
		memcpy(buf, "none", 5);
	return buf;
}

/**
 * ums_op_name() - name of a parsed operation
 * @op: enum ums_op value
 *
 * Return: "add", "del_id", "del_pid", "del_name", "clear", "sync", or "?" if out of range.
 */
const char *ums_op_name(unsigned int op)
{
	return op < UMS_OP_NR ? ums_op_names[op] : "?";
}

static bool ums_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '-';
}

/* Only dots: "." and ".." are not file names debugfs can create (values/, raw/). */
static bool ums_name_dots(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != '.')
			return false;
	return n > 0;
}

/* "r" followed by one or more decimal digits: the auto-name pattern r<ID>. */
static bool ums_name_reserved(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[0] != 'r')
		return false;
	for (i = 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/**
 * ums_name_valid() - check a user-supplied region name
 * @name: NUL-terminated string (only the first UMS_NAME_LEN bytes are looked at)
 *
 * Return: true if @name has 1..31 characters from [A-Za-z0-9_.:-], is not made only of dots
 * and does not match the reserved auto-name pattern r[0-9]+.
 */
bool ums_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	for (n = 0; n < UMS_NAME_LEN && name[n]; n++)
		if (!ums_name_char(name[n]))
			return false;
	if (n == 0 || n >= UMS_NAME_LEN)
		return false;
	return !ums_name_dots(name, n) && !ums_name_reserved(name, n);
}

/* ---- error message builder: bounded, always NUL-terminated ---- */

struct ums_mb {
	char *buf;
	size_t size;
	size_t pos;
};

static void ums_mb_putc(struct ums_mb *mb, char c)
{
	if (mb->pos + 1 < mb->size) {
		mb->buf[mb->pos++] = c;
		mb->buf[mb->pos] = '\0';
	}
}

static void ums_mb_str(struct ums_mb *mb, const char *s)
{
	while (*s)
		ums_mb_putc(mb, *s++);
}

static void ums_mb_u64(struct ums_mb *mb, u64 v)
{
	char tmp[20];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + ums_div_u32(&v, 10));
	} while (v);
	while (i)
		ums_mb_putc(mb, tmp[--i]);
}

static void ums_mb_x64(struct ums_mb *mb, u64 v)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 60;

	ums_mb_str(mb, "0x");
	while (shift > 0 && !((v >> shift) & 0xf))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		ums_mb_putc(mb, hex[(v >> shift) & 0xf]);
}

/* Quote user text: at most UMS_TOK_SHOW bytes, non-printables replaced by '?'. */
static void ums_mb_tok(struct ums_mb *mb, const char *s, size_t n)
{
	size_t i;

	ums_mb_putc(mb, '\'');
	for (i = 0; i < n && i < UMS_TOK_SHOW; i++) {
		char c = s[i];

		ums_mb_putc(mb, (c >= 0x20 && c <= 0x7e) ? c : '?');
	}
	if (n > UMS_TOK_SHOW)
		ums_mb_str(mb, "...");
	ums_mb_putc(mb, '\'');
}

/* Start an error report: sets err/line and the "line N: " prefix. */
static struct ums_mb ums_err(struct ums_perr *perr, int err, unsigned int line)
{
	struct ums_mb mb = { .buf = perr->msg, .size = sizeof(perr->msg), .pos = 0 };

	perr->err = err;
	perr->line = line;
	perr->msg[0] = '\0';
	ums_mb_str(&mb, "line ");
	ums_mb_u64(&mb, line);
	ums_mb_str(&mb, ": ");
	return mb;
}

/* ---- tokens and numbers ---- */

struct ums_tok {
	const char *s;
	size_t n;
};

static bool ums_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Next whitespace-separated token of s[0..n) starting at *pos; false at end of line. */
static bool ums_next_tok(const char *s, size_t n, size_t *pos, struct ums_tok *t)
{
	size_t i = *pos;

	while (i < n && ums_is_space(s[i]))
		i++;
	if (i >= n) {
		*pos = n;
		return false;
	}
	t->s = s + i;
	while (i < n && !ums_is_space(s[i]))
		i++;
	t->n = (size_t)(s + i - t->s);
	*pos = i;
	return true;
}

static bool ums_tok_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

static unsigned int ums_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned int)(c - 'A' + 10);
	return 99;
}

/*
 * Unsigned number in C notation (like kstrtoull() base 0, without a sign): decimal, 0x/0X hex,
 * leading-0 octal.  Returns 0, -EINVAL for malformed text, -ERANGE if it does not fit in u64.
 */
static int ums_parse_u64(const char *s, size_t n, u64 *out)
{
	unsigned int base = 10, d;
	u64 v = 0, lim;
	size_t i = 0;

	if (!n)
		return -EINVAL;
	if (s[0] == '0' && n > 1 && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (i == n)
			return -EINVAL;
	} else if (s[0] == '0' && n > 1) {
		base = 8;
		i = 1;
	}
	lim = base == 16 ? U64_MAX >> 4 : base == 8 ? U64_MAX >> 3 : 1844674407370955161ULL;
	for (; i < n; i++) {
		d = ums_digit(s[i]);
		if (d >= base)
			return -EINVAL;
		if (v > lim)
			return -ERANGE;
		v *= base;
		if (v > U64_MAX - d)
			return -ERANGE;
		v += d;
	}
	*out = v;
	return 0;
}

/* Parse a number for @what, reporting malformed/overflowing input as -EINVAL. */
static int ums_num(const struct ums_tok *t, const char *what, u64 *out, struct ums_perr *perr,
		   unsigned int line)
{
	struct ums_mb mb;
	int ret = ums_parse_u64(t->s, t->n, out);

	if (!ret)
		return 0;
	mb = ums_err(perr, -EINVAL, line);
	if (ret == -ERANGE) {
		ums_mb_str(&mb, "number ");
		ums_mb_tok(&mb, t->s, t->n);
		ums_mb_str(&mb, " too large (");
	} else {
		ums_mb_tok(&mb, t->s, t->n);
		ums_mb_str(&mb, " is not a number (");
	}
	ums_mb_str(&mb, what);
	ums_mb_putc(&mb, ')');
	return -EINVAL;
}

static int ums_range_err(struct ums_perr *perr, unsigned int line, const char *what, u64 v,
			 u64 lo, u64 hi)
{
	struct ums_mb mb = ums_err(perr, -EINVAL, line);

	ums_mb_str(&mb, what);
	ums_mb_putc(&mb, ' ');
	ums_mb_u64(&mb, v);
	ums_mb_str(&mb, " out of range (");
	ums_mb_u64(&mb, lo);
	ums_mb_str(&mb, "..");
	ums_mb_u64(&mb, hi);
	ums_mb_putc(&mb, ')');
	return -EINVAL;
}

static int ums_pid(const struct ums_tok *t, const struct ums_limits *lim, s32 *pid,
		   struct ums_perr *perr, unsigned int line)
{
	u64 max = lim->max_pid;
	u64 v;
	int ret;

	ret = ums_num(t, "pid", &v, perr, line);
	if (ret)
		return ret;
	if (max > 0x7fffffff)
		max = 0x7fffffff;
	if (v < 1 || v > max)
		return ums_range_err(perr, line, "pid", v, 1, max);
	*pid = (s32)v;
	return 0;
}

/* Validate a name token and copy it to out[UMS_NAME_LEN]; @del allows the r<N> auto names. */
static int ums_name(const struct ums_tok *t, bool del, char *out, struct ums_perr *perr,
		    unsigned int line)
{
	struct ums_mb mb;
	size_t i;

	if (t->n >= UMS_NAME_LEN) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "name ");
		ums_mb_tok(&mb, t->s, t->n);
		ums_mb_str(&mb, " too long (max ");
		ums_mb_u64(&mb, UMS_NAME_LEN - 1);
		ums_mb_str(&mb, " chars)");
		return -EINVAL;
	}
	for (i = 0; i < t->n; i++) {
		if (!ums_name_char(t->s[i])) {
			mb = ums_err(perr, -EINVAL, line);
			ums_mb_str(&mb, "name ");
			ums_mb_tok(&mb, t->s, t->n);
			ums_mb_str(&mb, " has a bad character (allowed: A-Z a-z 0-9 _ . : -)");
			return -EINVAL;
		}
	}
	if (ums_name_dots(t->s, t->n)) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "name ");
		ums_mb_tok(&mb, t->s, t->n);
		ums_mb_str(&mb, " is only dots (not a file name)");
		return -EINVAL;
	}
	if (!del && ums_name_reserved(t->s, t->n)) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "name ");
		ums_mb_tok(&mb, t->s, t->n);
		ums_mb_str(&mb, " is reserved for auto names (r<ID>)");
		return -EINVAL;
	}
	memcpy(out, t->s, t->n);
	out[t->n] = '\0';
	return 0;
}

/* Split "key=value"; returns false for a bare word. */
static bool ums_split_kv(const struct ums_tok *t, struct ums_tok *k, struct ums_tok *v)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->s[i] == '=') {
			k->s = t->s;
			k->n = i;
			v->s = t->s + i + 1;
			v->n = t->n - i - 1;
			return true;
		}
	}
	return false;
}

static int ums_word_err(struct ums_perr *perr, unsigned int line, const char *what,
			const struct ums_tok *t, const char *tail)
{
	struct ums_mb mb = ums_err(perr, -EINVAL, line);

	ums_mb_str(&mb, what);
	ums_mb_tok(&mb, t->s, t->n);
	ums_mb_str(&mb, tail);
	return -EINVAL;
}

/* Checks of an add command once all tokens are parsed; seen is the mask of given keys. */
static int ums_add_check(struct ums_cmd *cmd, unsigned int seen, const struct ums_limits *lim,
			 struct ums_perr *perr, unsigned int line)
{
	unsigned int size = ums_vtype_size(cmd->vtype);
	struct ums_mb mb;
	u64 end;

	if (!(seen & (1U << UMS_K_PID)) || !(seen & (1U << UMS_K_ADDR)) ||
	    (!size && !(seen & (1U << UMS_K_LEN)))) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "missing key '");
		ums_mb_str(&mb, !(seen & (1U << UMS_K_PID)) ? "pid" :
				!(seen & (1U << UMS_K_ADDR)) ? "addr" : "len");
		ums_mb_putc(&mb, '\'');
		if (!size && (seen & (1U << UMS_K_PID)) && (seen & (1U << UMS_K_ADDR))) {
			ums_mb_str(&mb, " (required for type ");
			ums_mb_str(&mb, ums_vtype_name(cmd->vtype));
			ums_mb_putc(&mb, ')');
		}
		return -EINVAL;
	}
	if (size && !(seen & (1U << UMS_K_LEN)))
		cmd->len = size;
	if (size && cmd->len != size) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "len ");
		ums_mb_u64(&mb, cmd->len);
		ums_mb_str(&mb, " does not match type ");
		ums_mb_str(&mb, ums_vtype_name(cmd->vtype));
		ums_mb_str(&mb, " (size ");
		ums_mb_u64(&mb, size);
		ums_mb_putc(&mb, ')');
		return -EINVAL;
	}
	if (cmd->len == 0) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "len 0 out of range");
		return -EINVAL;
	}
	if (cmd->len > lim->max_len) {
		mb = ums_err(perr, -E2BIG, line);
		ums_mb_str(&mb, "len ");
		ums_mb_u64(&mb, cmd->len);
		ums_mb_str(&mb, " exceeds max_len ");
		ums_mb_u64(&mb, lim->max_len);
		return -E2BIG;
	}
	end = cmd->addr + cmd->len;
	if (end < cmd->addr || cmd->addr >= lim->addr_limit || end > lim->addr_limit) {
		mb = ums_err(perr, -EFAULT, line);
		ums_mb_str(&mb, "addr ");
		ums_mb_x64(&mb, cmd->addr);
		ums_mb_str(&mb, " len ");
		ums_mb_u64(&mb, cmd->len);
		ums_mb_str(&mb, end < cmd->addr ? " wraps around" : " beyond user address limit ");
		if (end >= cmd->addr)
			ums_mb_x64(&mb, lim->addr_limit);
		return -EFAULT;
	}
	return 0;
}

static int ums_find_key(const struct ums_tok *k)
{
	int i;

	for (i = 0; i < UMS_K_NR; i++)
		if (ums_tok_eq(k->s, k->n, ums_key_names[i]))
			return i;
	return -1;
}

/* Index of the token in a name table, or -1. */
static int ums_tok_index(const struct ums_tok *v, const char * const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ums_tok_eq(v->s, v->n, names[i]))
			return i;
	return -1;
}

/* "unknown WHAT 'TOKEN' (a b c)": the choices listed from their table. */
static int ums_choice_err(struct ums_perr *perr, unsigned int line, const char *what,
			  const struct ums_tok *t, const char * const *names, int n)
{
	struct ums_mb mb = ums_err(perr, -EINVAL, line);
	int i;

	ums_mb_str(&mb, "unknown ");
	ums_mb_str(&mb, what);
	ums_mb_putc(&mb, ' ');
	ums_mb_tok(&mb, t->s, t->n);
	for (i = 0; i < n; i++) {
		ums_mb_str(&mb, i ? " " : " (");
		ums_mb_str(&mb, names[i]);
	}
	ums_mb_putc(&mb, ')');
	return -EINVAL;
}

/* One key=value (or bare flag) token of an add command. */
static int ums_add_kv(const struct ums_tok *t, unsigned int *seen, const struct ums_limits *lim,
		      struct ums_cmd *cmd, struct ums_perr *perr, unsigned int line)
{
	struct ums_tok k, v;
	int key, ret, vt;
	u64 x;

	if (!ums_split_kv(t, &k, &v)) {
		/* Bare keys: `fault`, `mirror`. */
		key = ums_find_key(t);
		if (key == UMS_K_FAULT || key == UMS_K_MIRROR) {
			if (*seen & (1U << key))
				return ums_word_err(perr, line, "duplicate key ", t, "");
			*seen |= 1U << key;
			if (key == UMS_K_FAULT)
				cmd->fault = true;
			else
				cmd->mirror = true;
			return 0;
		}
		return ums_word_err(perr, line, "unexpected word ", t,
				    " (expected key=value, 'fault' or 'mirror')");
	}
	key = ums_find_key(&k);
	if (key < 0)
		return ums_word_err(perr, line, "unknown key ", &k, "");
	if (key == UMS_K_FAULT || key == UMS_K_MIRROR)
		return ums_word_err(perr, line, "key ", &k, " takes no value (use it bare)");
	if (*seen & (1U << key))
		return ums_word_err(perr, line, "duplicate key ", &k, "");
	*seen |= 1U << key;
	if (!v.n)
		return ums_word_err(perr, line, "empty value for key ", &k, "");

	switch (key) {
	case UMS_K_PID:
		return ums_pid(&v, lim, &cmd->pid, perr, line);
	case UMS_K_ADDR:
		return ums_num(&v, "addr", &cmd->addr, perr, line);
	case UMS_K_LEN:
		return ums_num(&v, "len", &cmd->len, perr, line);
	case UMS_K_PERIOD:
		ret = ums_num(&v, "period_us", &x, perr, line);
		if (ret)
			return ret;
		if (x < lim->min_period_us || x > lim->max_period_us)
			return ums_range_err(perr, line, "period_us", x, lim->min_period_us,
					     lim->max_period_us);
		cmd->period_us = (u32)x;
		return 0;
	case UMS_K_TYPE:
		vt = ums_tok_index(&v, ums_vtype_names, UMS_VT_NR);
		if (vt < 0)
			return ums_choice_err(perr, line, "type", &v, ums_vtype_names, UMS_VT_NR);
		cmd->vtype = (u8)vt;
		return 0;
	case UMS_K_NAME:
		return ums_name(&v, false, cmd->name, perr, line);
	default: /* UMS_K_MODE */
		vt = ums_tok_index(&v, ums_mode_names, UMS_MODE_NR);
		if (vt < 0)
			return ums_choice_err(perr, line, "mode", &v, ums_mode_names, UMS_MODE_NR);
		cmd->mode = (u8)vt;
		return 0;
	}
}

/* "PID ADDR LEN" shorthand; s[pos..n) is the rest after the first token t. */
static int ums_parse_short(const struct ums_tok *t, const char *s, size_t n, size_t pos,
			   const struct ums_limits *lim, struct ums_cmd *cmd,
			   struct ums_perr *perr, unsigned int line)
{
	struct ums_tok a, l, extra;
	struct ums_mb mb;
	int ret;

	if (!ums_next_tok(s, n, &pos, &a) || !ums_next_tok(s, n, &pos, &l) ||
	    ums_next_tok(s, n, &pos, &extra)) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "shorthand needs exactly three numbers 'PID ADDR LEN'");
		return -EINVAL;
	}
	ret = ums_pid(t, lim, &cmd->pid, perr, line);
	if (!ret)
		ret = ums_num(&a, "addr", &cmd->addr, perr, line);
	if (!ret)
		ret = ums_num(&l, "len", &cmd->len, perr, line);
	if (ret)
		return ret;
	return ums_add_check(cmd, (1U << UMS_K_PID) | (1U << UMS_K_ADDR) | (1U << UMS_K_LEN),
			     lim, perr, line);
}

static int ums_parse_del(const char *s, size_t n, size_t pos, const struct ums_limits *lim,
			 struct ums_cmd *cmd, struct ums_perr *perr, unsigned int line)
{
	struct ums_tok t, k, v, extra;
	struct ums_mb mb;
	u64 x;
	int ret;

	if (!ums_next_tok(s, n, &pos, &t) || ums_next_tok(s, n, &pos, &extra))
		goto usage;
	if (!ums_split_kv(&t, &k, &v)) {
		ret = ums_num(&t, "id", &x, perr, line);
		if (ret)
			return ret;
		if (x > U32_MAX)
			return ums_range_err(perr, line, "id", x, 0, U32_MAX);
		cmd->op = UMS_OP_DEL_ID;
		cmd->id = (u32)x;
		return 0;
	}
	if (ums_tok_eq(k.s, k.n, "pid")) {
		if (!v.n)
			return ums_word_err(perr, line, "empty value for key ", &k, "");
		cmd->op = UMS_OP_DEL_PID;
		return ums_pid(&v, lim, &cmd->pid, perr, line);
	}
	if (ums_tok_eq(k.s, k.n, "name")) {
		if (!v.n)
			return ums_word_err(perr, line, "empty value for key ", &k, "");
		cmd->op = UMS_OP_DEL_NAME;
		return ums_name(&v, true, cmd->name, perr, line);
	}
	return ums_word_err(perr, line, "unknown key ", &k,
			    " for del (usage: del ID | del pid=PID | del name=NAME)");
usage:
	mb = ums_err(perr, -EINVAL, line);
	ums_mb_str(&mb, "usage: del ID | del pid=PID | del name=NAME");
	return -EINVAL;
}

/* Byte-level checks of a whole line: length, NUL, control and non-ASCII bytes. */
static int ums_check_bytes(const char *s, size_t n, struct ums_perr *perr, unsigned int line)
{
	struct ums_mb mb;
	size_t i;

	if (n > UMS_LINE_MAX) {
		mb = ums_err(perr, -EINVAL, line);
		ums_mb_str(&mb, "line too long (");
		ums_mb_u64(&mb, n);
		ums_mb_str(&mb, " bytes, max 512)");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		u8 c = (u8)s[i];

		if ((c >= 0x20 && c <= 0x7e) || c == '\t')
			continue;
		mb = ums_err(perr, -EINVAL, line);
		if (c) {
			ums_mb_str(&mb, "invalid byte ");
			ums_mb_x64(&mb, c);
		} else {
			ums_mb_str(&mb, "NUL byte");
		}
		ums_mb_str(&mb, " at column ");
		ums_mb_u64(&mb, i + 1);
		return -EINVAL;
	}
	return 0;
}

/**
 * ums_parse_line() - parse one control line
 * @s: the line, without its terminating '\n' (need not be NUL-terminated)
 * @n: length of @s in bytes
 * @lineno: 1-based line number used in messages and stored in @cmd->line
 * @lim: caller-supplied limits
 * @cmd: output command; always fully (re)initialized
 * @perr: error report, filled on failure (may be NULL)
 *
 * Return: 0 with @cmd filled, 1 if the line is blank or a '#' comment, or a negative errno
 * (-EINVAL, -E2BIG or -EFAULT) with @perr filled.
 */
int ums_parse_line(const char *s, size_t n, unsigned int lineno, const struct ums_limits *lim,
		   struct ums_cmd *cmd, struct ums_perr *perr)
{
	struct ums_perr dummy;
	struct ums_tok t;
	struct ums_mb mb;
	unsigned int seen = 0;
	size_t pos = 0;
	int ret;

	if (!perr)
		perr = &dummy;
	memset(cmd, 0, sizeof(*cmd));
	cmd->line = lineno;
	if (n && s[n - 1] == '\r')
		n--;
	ret = ums_check_bytes(s, n, perr, lineno);
	if (ret)
		return ret;
	if (!ums_next_tok(s, n, &pos, &t) || t.s[0] == '#')
		return 1;

	cmd->period_us = lim->default_period_us;
	if (t.s[0] >= '0' && t.s[0] <= '9') {
		cmd->op = UMS_OP_ADD;
		return ums_parse_short(&t, s, n, pos, lim, cmd, perr, lineno);
	}
	if (ums_tok_eq(t.s, t.n, "add")) {
		cmd->op = UMS_OP_ADD;
		while (ums_next_tok(s, n, &pos, &t)) {
			ret = ums_add_kv(&t, &seen, lim, cmd, perr, lineno);
			if (ret)
				return ret;
		}
		return ums_add_check(cmd, seen, lim, perr, lineno);
	}
	cmd->period_us = 0;
	if (ums_tok_eq(t.s, t.n, "del"))
		return ums_parse_del(s, n, pos, lim, cmd, perr, lineno);
	if (ums_tok_eq(t.s, t.n, "clear") || ums_tok_eq(t.s, t.n, "sync")) {
		cmd->op = t.s[0] == 'c' ? UMS_OP_CLEAR : UMS_OP_SYNC;
		if (ums_next_tok(s, n, &pos, &t)) {
			mb = ums_err(perr, -EINVAL, lineno);
			ums_mb_putc(&mb, '\'');
			ums_mb_str(&mb, ums_op_name(cmd->op));
			ums_mb_str(&mb, "' takes no arguments, got ");
			ums_mb_tok(&mb, t.s, t.n);
			return -EINVAL;
		}
		return 0;
	}
	return ums_word_err(perr, lineno, "unknown command ", &t,
			    " (add, del, clear, sync or 'PID ADDR LEN')");
}

/**
 * ums_parse() - parse a whole write to the control file
 * @buf: the written bytes (need not be NUL-terminated)
 * @n: length of @buf
 * @lim: caller-supplied limits
 * @cmds: output array of at least @max commands (may be NULL if @max is 0)
 * @max: capacity of @cmds
 * @perr: error report for the first bad line (may be NULL); cleared on success
 *
 * Lines are separated by '\n'; a final line without '\n' is fine.  Blank and comment lines are
 * skipped.  Parsing stops at the first problem in line order, so either every command is
 * returned or none is.
 *
 * Return: number of commands stored (>= 0), or -EINVAL / -EFAULT / -E2BIG (also for more than
 * @max commands) with @perr describing the first bad line.
 */
int ums_parse(const char *buf, size_t n, const struct ums_limits *lim, struct ums_cmd *cmds,
	      unsigned int max, struct ums_perr *perr)
{
	struct ums_perr dummy;
	struct ums_cmd spare;
	struct ums_mb mb;
	unsigned int line = 0, count = 0;
	size_t start = 0, end;
	int ret;

	if (!perr)
		perr = &dummy;
	if (max > INT_MAX)
		max = INT_MAX;
	while (start < n) {
		for (end = start; end < n && buf[end] != '\n'; end++)
			;
		line++;
		ret = ums_parse_line(buf + start, end - start, line, lim,
				     count < max ? &cmds[count] : &spare, perr);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			if (count >= max) {
				mb = ums_err(perr, -E2BIG, line);
				ums_mb_str(&mb, "too many commands in one write (max ");
				ums_mb_u64(&mb, max);
				ums_mb_putc(&mb, ')');
				return -E2BIG;
			}
			count++;
		}
		start = end + 1;
	}
	perr->err = 0;
	perr->line = 0;
	perr->msg[0] = '\0';
	return (int)count;
}

/**
 * ums_parse_count_lines() - count the lines of a write
 * @buf: the written bytes
 * @n: length of @buf
 *
 * Return: the number of '\n'-separated lines (a final line without '\n' counts), which is an
 * upper bound of the number of commands ums_parse() can return.
 */
unsigned int ums_parse_count_lines(const char *buf, size_t n)
{
	unsigned int lines = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] == '\n')
			lines++;
	if (n && buf[n - 1] != '\n')
		lines++;
	return lines;
}
