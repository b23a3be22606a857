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
 *       [mirror] [deref=O1[,O2,...]] [seq=ADDR|seq=+OFF|seq=-OFF]
 *   del ID | del pid=PID | del name=NAME
 *   clear | sync | enable | disable
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
	[UMS_OP_ENABLE] = "enable", [UMS_OP_DISABLE] = "disable",
};

/* Keys of the add command; also the bit numbers of the "seen" mask. */
enum { UMS_K_PID, UMS_K_ADDR, UMS_K_LEN, UMS_K_PERIOD, UMS_K_TYPE, UMS_K_NAME, UMS_K_MODE,
	UMS_K_FAULT, UMS_K_MIRROR, UMS_K_DEREF, UMS_K_SEQ, UMS_K_NR };

static const char * const ums_key_names[UMS_K_NR] = {
	[UMS_K_PID] = "pid", [UMS_K_ADDR] = "addr", [UMS_K_LEN] = "len",
	[UMS_K_PERIOD] = "period_us", [UMS_K_TYPE] = "type", [UMS_K_NAME] = "name",
	[UMS_K_MODE] = "mode", [UMS_K_FAULT] = "fault",
	[UMS_K_MIRROR] = "mirror", [UMS_K_DEREF] = "deref", [UMS_K_SEQ] = "seq",
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
 * Return: "add", "del_id", "del_pid", "del_name", "clear", "sync", "enable", "disable", or "?"
 * if out of range.
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

/* ---- error reports: one formatted message per bad line ---- */

/**
 * ums_perr_set() - report why a control line is refused
 * @perr:	the report to fill
 * @err:	negative errno the write fails with
 * @line:	1-based line number within the write
 * @fmt:	printf format of the reason (after the "line N: " prefix)
 *
 * The one place a parse or apply error's text is made, for the parser and the module
 * (registry.c) alike.  The message is truncated to fit, never overflows.
 *
 * Return: @err, so that callers can write ``return ums_perr_set(...)``.
 */
int ums_perr_set(struct ums_perr *perr, int err, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	perr->err = err;
	perr->line = line;
	n = snprintf(perr->msg, sizeof(perr->msg), "line %u: ", line);
	va_start(ap, fmt);
	vsnprintf(perr->msg + n, sizeof(perr->msg) - n, fmt, ap);
	va_end(ap);
	return err;
}

/* u64 for "%llu"/"%llx": the host's u64 is uint64_t, which may be unsigned long. */
#define UMS_LL(v)	((unsigned long long)(v))

/* User text as messages show it: quoted, UMS_TOK_SHOW bytes at most, '?' for non-printables. */
struct ums_shown {
	char s[UMS_TOK_SHOW + sizeof("''...")];
};

static const char *ums_show(struct ums_shown *out, const char *s, size_t n)
{
	size_t i, pos = 0;

	out->s[pos++] = '\'';
	for (i = 0; i < n && i < UMS_TOK_SHOW; i++)
		out->s[pos++] = (s[i] >= 0x20 && s[i] <= 0x7e) ? s[i] : '?';
	if (n > UMS_TOK_SHOW) {
		memcpy(out->s + pos, "...", 3);
		pos += 3;
	}
	out->s[pos++] = '\'';
	out->s[pos] = '\0';
	return out->s;
}

/* A token quoted for "%s"; the buffer lives until the end of the enclosing block. */
#define UMS_Q(t)	ums_show(&(struct ums_shown){ .s = "" }, (t)->s, (t)->n)

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
	int ret = ums_parse_u64(t->s, t->n, out);

	if (ret == -ERANGE)
		return ums_perr_set(perr, -EINVAL, line, "number %s too large (%s)", UMS_Q(t), what);
	if (ret)
		return ums_perr_set(perr, -EINVAL, line, "%s is not a number (%s)", UMS_Q(t), what);
	return 0;
}

static int ums_range_err(struct ums_perr *perr, unsigned int line, const char *what, u64 v,
			 u64 lo, u64 hi)
{
	return ums_perr_set(perr, -EINVAL, line, "%s %llu out of range (%llu..%llu)", what, UMS_LL(v),
			    UMS_LL(lo), UMS_LL(hi));
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

/* Why a name token is refused, or NULL; @del allows the r<N> auto names. */
static const char *ums_name_refused(const struct ums_tok *t, bool del)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!ums_name_char(t->s[i]))
			return "has a bad character (allowed: A-Z a-z 0-9 _ . : -)";
	if (ums_name_dots(t->s, t->n))
		return "is only dots (not a file name)";
	if (!del && ums_name_reserved(t->s, t->n))
		return "is reserved for auto names (r<ID>)";
	return NULL;
}

/* Validate a name token and copy it to out[UMS_NAME_LEN]; @del allows the r<N> auto names. */
static int ums_name(const struct ums_tok *t, bool del, char *out, struct ums_perr *perr,
		    unsigned int line)
{
	const char *why;

	if (t->n >= UMS_NAME_LEN)
		return ums_perr_set(perr, -EINVAL, line, "name %s too long (max %u chars)", UMS_Q(t),
				    UMS_NAME_LEN - 1);
	why = ums_name_refused(t, del);
	if (why)
		return ums_perr_set(perr, -EINVAL, line, "name %s %s", UMS_Q(t), why);
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

#define UMS_SEEN(key)	(1U << UMS_K_##key)

/* The first key an add lacks: pid, addr, and len unless the type has a size. */
static int ums_add_missing(const struct ums_cmd *cmd, unsigned int seen, struct ums_perr *perr,
			   unsigned int line)
{
	if (!(seen & UMS_SEEN(PID)))
		return ums_perr_set(perr, -EINVAL, line, "missing key 'pid'");
	if (!(seen & UMS_SEEN(ADDR)))
		return ums_perr_set(perr, -EINVAL, line, "missing key 'addr'");
	if (!ums_vtype_size(cmd->vtype) && !(seen & UMS_SEEN(LEN)))
		return ums_perr_set(perr, -EINVAL, line, "missing key 'len' (required for type %s)",
				    ums_vtype_name(cmd->vtype));
	return 0;
}

/*
 * The range [addr, addr + len) must lie below the user address limit; for a
 * deref chain, the base pointer at addr (len applies to the resolved address).
 */
static int ums_add_range(const struct ums_cmd *cmd, const struct ums_limits *lim,
			 struct ums_perr *perr, unsigned int line)
{
	u64 end = cmd->addr + (cmd->nr_deref ? 8 : cmd->len);

	if (cmd->seq_mode == UMS_SEQ_ABS && (u64)cmd->seq + 4 > lim->addr_limit)
		return ums_perr_set(perr, -EFAULT, line, "seq 0x%llx beyond user address limit 0x%llx",
				    UMS_LL(cmd->seq), UMS_LL(lim->addr_limit));

	if (end < cmd->addr)
		return ums_perr_set(perr, -EFAULT, line, "addr 0x%llx len %llu wraps around",
				    UMS_LL(cmd->addr), UMS_LL(cmd->len));
	if (cmd->addr >= lim->addr_limit || end > lim->addr_limit)
		return ums_perr_set(perr, -EFAULT, line,
				    "addr 0x%llx len %llu beyond user address limit 0x%llx",
				    UMS_LL(cmd->addr), UMS_LL(cmd->len), UMS_LL(lim->addr_limit));
	return 0;
}

/* Checks of an add command once all tokens are parsed; seen is the mask of given keys. */
static int ums_add_check(struct ums_cmd *cmd, unsigned int seen, const struct ums_limits *lim,
			 struct ums_perr *perr, unsigned int line)
{
	unsigned int size = ums_vtype_size(cmd->vtype);
	int ret;

	ret = ums_add_missing(cmd, seen, perr, line);
	if (ret)
		return ret;
	if (size && !(seen & UMS_SEEN(LEN)))
		cmd->len = size;
	if (size && cmd->len != size)
		return ums_perr_set(perr, -EINVAL, line, "len %llu does not match type %s (size %u)",
				    UMS_LL(cmd->len), ums_vtype_name(cmd->vtype), size);
	if (cmd->len == 0)
		return ums_perr_set(perr, -EINVAL, line, "len 0 out of range");
	if (cmd->len > lim->max_len)
		return ums_perr_set(perr, -E2BIG, line, "len %llu exceeds max_len %llu",
				    UMS_LL(cmd->len), UMS_LL(lim->max_len));
	if (cmd->mirror && (cmd->nr_deref || cmd->seq_mode))
		return ums_perr_set(perr, -EINVAL, line,
				    "mirror: a region with %s is sampled by the thread only",
				    cmd->nr_deref ? "deref" : "seq");
	return ums_add_range(cmd, lim, perr, line);
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

/* The value of a choice key (type=, mode=): its index in @names, or "unknown WHAT 'T' (a b c)". */
static int ums_choice(const struct ums_tok *v, const char *what, const char * const *names,
		      int n, u8 *out, struct ums_perr *perr, unsigned int line)
{
	char list[UMS_PERR_MSG];
	int i, pos = 0;

	i = ums_tok_index(v, names, n);
	if (i >= 0) {
		*out = (u8)i;
		return 0;
	}
	list[0] = '\0';
	for (i = 0; i < n && pos < (int)sizeof(list); i++)
		pos += snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? " " : "", names[i]);
	return ums_perr_set(perr, -EINVAL, line, "unknown %s %s (%s)", what, UMS_Q(v), list);
}

/* A bare word of an add command: only the flag keys ('fault', 'mirror') have no value. */
static int ums_add_flag(const struct ums_tok *t, unsigned int *seen, struct ums_cmd *cmd,
			struct ums_perr *perr, unsigned int line)
{
	int key = ums_find_key(t);

	if (key != UMS_K_FAULT && key != UMS_K_MIRROR)
		return ums_perr_set(perr, -EINVAL, line,
				    "unexpected word %s (expected key=value, 'fault' or 'mirror')",
				    UMS_Q(t));
	if (*seen & (1U << key))
		return ums_perr_set(perr, -EINVAL, line, "duplicate key %s", UMS_Q(t));
	*seen |= 1U << key;
	if (key == UMS_K_FAULT)
		cmd->fault = true;
	else
		cmd->mirror = true;
	return 0;
}

/* A signed C number: [+-] then what ums_num() takes; |value| < 2^63. */
static int ums_snum(const struct ums_tok *t, const char *what, s64 *out, struct ums_perr *perr,
		    unsigned int line)
{
	struct ums_tok d = *t;
	bool neg = false;
	u64 x;
	int ret;

	if (d.n && (d.s[0] == '+' || d.s[0] == '-')) {
		neg = d.s[0] == '-';
		d.s++;
		d.n--;
	}
	if (!d.n)
		return ums_perr_set(perr, -EINVAL, line, "%s %s is not a number", what, UMS_Q(t));
	ret = ums_parse_u64(d.s, d.n, &x);
	if (ret == -ERANGE || (!ret && x > 0x7fffffffffffffffULL))
		return ums_perr_set(perr, -EINVAL, line, "%s %s too large", what, UMS_Q(t));
	if (ret)
		return ums_perr_set(perr, -EINVAL, line, "%s %s is not a number", what, UMS_Q(t));
	*out = neg ? -(s64)x : (s64)x;
	return 0;
}

/* deref=O1[,O2,...]: 1 to UMS_DEREF_MAX signed offsets, none empty. */
static int ums_deref(const struct ums_tok *v, struct ums_cmd *cmd, struct ums_perr *perr,
		     unsigned int line)
{
	struct ums_tok o;
	size_t i = 0, j;
	int ret;

	cmd->nr_deref = 0;
	while (i <= v->n) {
		for (j = i; j < v->n && v->s[j] != ','; j++)
			;
		o.s = v->s + i;
		o.n = j - i;
		if (cmd->nr_deref == UMS_DEREF_MAX)
			return ums_perr_set(perr, -EINVAL, line, "deref: more than %u offsets",
					    UMS_DEREF_MAX);
		if (!o.n)
			return ums_perr_set(perr, -EINVAL, line, "deref: offset %u is empty",
					    cmd->nr_deref + 1);
		ret = ums_snum(&o, "deref: offset", &cmd->deref[cmd->nr_deref], perr, line);
		if (ret)
			return ret;
		cmd->nr_deref++;
		i = j + 1;
	}
	return 0;
}

/* seq=ADDR (absolute) or seq=+OFF / seq=-OFF (from the data address); 4-byte aligned. */
static int ums_seq(const struct ums_tok *v, struct ums_cmd *cmd, struct ums_perr *perr,
		   unsigned int line)
{
	u64 x;
	int ret;

	if (v->s[0] == '+' || v->s[0] == '-') {
		ret = ums_snum(v, "seq: offset", &cmd->seq, perr, line);
		if (ret)
			return ret;
		cmd->seq_mode = UMS_SEQ_REL;
		x = (u64)cmd->seq;
	} else {
		ret = ums_num(v, "seq", &x, perr, line);
		if (ret)
			return ret;
		cmd->seq_mode = UMS_SEQ_ABS;
		cmd->seq = (s64)x;
	}
	if (x & 3)
		return ums_perr_set(perr, -EINVAL, line,
				    "seq %s is not aligned to 4 bytes (a u32 counter)", UMS_Q(v));
	return 0;
}

/* The value @v of key @key of an add command. */
static int ums_add_value(int key, const struct ums_tok *v, const struct ums_limits *lim,
			 struct ums_cmd *cmd, struct ums_perr *perr, unsigned int line)
{
	int ret;
	u64 x;

	switch (key) {
	case UMS_K_PID:
		return ums_pid(v, lim, &cmd->pid, perr, line);
	case UMS_K_ADDR:
		return ums_num(v, "addr", &cmd->addr, perr, line);
	case UMS_K_LEN:
		return ums_num(v, "len", &cmd->len, perr, line);
	case UMS_K_PERIOD:
		ret = ums_num(v, "period_us", &x, perr, line);
		if (ret)
			return ret;
		if (x < lim->min_period_us || x > lim->max_period_us)
			return ums_range_err(perr, line, "period_us", x, lim->min_period_us,
					     lim->max_period_us);
		cmd->period_us = (u32)x;
		return 0;
	case UMS_K_TYPE:
		return ums_choice(v, "type", ums_vtype_names, UMS_VT_NR, &cmd->vtype, perr, line);
	case UMS_K_NAME:
		return ums_name(v, false, cmd->name, perr, line);
	case UMS_K_DEREF:
		return ums_deref(v, cmd, perr, line);
	case UMS_K_SEQ:
		return ums_seq(v, cmd, perr, line);
	default: /* UMS_K_MODE */
		return ums_choice(v, "mode", ums_mode_names, UMS_MODE_NR, &cmd->mode, perr, line);
	}
}

/* One key=value (or bare flag) token of an add command. */
static int ums_add_kv(const struct ums_tok *t, unsigned int *seen, const struct ums_limits *lim,
		      struct ums_cmd *cmd, struct ums_perr *perr, unsigned int line)
{
	struct ums_tok k, v;
	int key;

	if (!ums_split_kv(t, &k, &v))
		return ums_add_flag(t, seen, cmd, perr, line);
	key = ums_find_key(&k);
	if (key < 0)
		return ums_perr_set(perr, -EINVAL, line, "unknown key %s", UMS_Q(&k));
	if (key == UMS_K_FAULT || key == UMS_K_MIRROR)
		return ums_perr_set(perr, -EINVAL, line, "key %s takes no value (use it bare)",
				    UMS_Q(&k));
	if (*seen & (1U << key))
		return ums_perr_set(perr, -EINVAL, line, "duplicate key %s", UMS_Q(&k));
	*seen |= 1U << key;
	if (!v.n)
		return ums_perr_set(perr, -EINVAL, line, "empty value for key %s", UMS_Q(&k));
	return ums_add_value(key, &v, lim, cmd, perr, line);
}

/* "PID ADDR LEN" shorthand; s[pos..n) is the rest after the first token t. */
static int ums_parse_short(const struct ums_tok *t, const char *s, size_t n, size_t pos,
			   const struct ums_limits *lim, struct ums_cmd *cmd,
			   struct ums_perr *perr, unsigned int line)
{
	struct ums_tok a, l, extra;
	int ret;

	if (!ums_next_tok(s, n, &pos, &a) || !ums_next_tok(s, n, &pos, &l) ||
	    ums_next_tok(s, n, &pos, &extra))
		return ums_perr_set(perr, -EINVAL, line,
				    "shorthand needs exactly three numbers 'PID ADDR LEN'");
	ret = ums_pid(t, lim, &cmd->pid, perr, line);
	if (!ret)
		ret = ums_num(&a, "addr", &cmd->addr, perr, line);
	if (!ret)
		ret = ums_num(&l, "len", &cmd->len, perr, line);
	if (ret)
		return ret;
	return ums_add_check(cmd, UMS_SEEN(PID) | UMS_SEEN(ADDR) | UMS_SEEN(LEN), lim, perr, line);
}

#define UMS_DEL_USAGE	"del ID | del pid=PID | del name=NAME"

static int ums_parse_del(const char *s, size_t n, size_t pos, const struct ums_limits *lim,
			 struct ums_cmd *cmd, struct ums_perr *perr, unsigned int line)
{
	struct ums_tok t, k, v, extra;
	u64 x;
	int ret;

	if (!ums_next_tok(s, n, &pos, &t) || ums_next_tok(s, n, &pos, &extra))
		return ums_perr_set(perr, -EINVAL, line, "usage: " UMS_DEL_USAGE);
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
	if (!ums_tok_eq(k.s, k.n, "pid") && !ums_tok_eq(k.s, k.n, "name"))
		return ums_perr_set(perr, -EINVAL, line, "unknown key %s for del (usage: %s)",
				    UMS_Q(&k), UMS_DEL_USAGE);
	if (!v.n)
		return ums_perr_set(perr, -EINVAL, line, "empty value for key %s", UMS_Q(&k));
	if (k.s[0] == 'p') {
		cmd->op = UMS_OP_DEL_PID;
		return ums_pid(&v, lim, &cmd->pid, perr, line);
	}
	cmd->op = UMS_OP_DEL_NAME;
	return ums_name(&v, true, cmd->name, perr, line);
}

/* Byte-level checks of a whole line: length, NUL, control and non-ASCII bytes. */
static int ums_check_bytes(const char *s, size_t n, struct ums_perr *perr, unsigned int line)
{
	size_t i;

	if (n > UMS_LINE_MAX)
		return ums_perr_set(perr, -EINVAL, line, "line too long (%zu bytes, max %u)", n,
				    UMS_LINE_MAX);
	for (i = 0; i < n; i++) {
		u8 c = (u8)s[i];

		if ((c >= 0x20 && c <= 0x7e) || c == '\t')
			continue;
		if (!c)
			return ums_perr_set(perr, -EINVAL, line, "NUL byte at column %zu", i + 1);
		return ums_perr_set(perr, -EINVAL, line, "invalid byte 0x%x at column %zu", c,
				    i + 1);
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
	if (ums_tok_eq(t.s, t.n, "clear"))
		cmd->op = UMS_OP_CLEAR;
	else if (ums_tok_eq(t.s, t.n, "sync"))
		cmd->op = UMS_OP_SYNC;
	else if (ums_tok_eq(t.s, t.n, "enable"))
		cmd->op = UMS_OP_ENABLE;
	else if (ums_tok_eq(t.s, t.n, "disable"))
		cmd->op = UMS_OP_DISABLE;
	else
		return ums_perr_set(perr, -EINVAL, lineno,
				    "unknown command %s (add, del, clear, sync, enable, disable or 'PID ADDR LEN')",
				    UMS_Q(&t));
	if (ums_next_tok(s, n, &pos, &t))
		return ums_perr_set(perr, -EINVAL, lineno, "'%s' takes no arguments, got %s",
				    ums_op_name(cmd->op), UMS_Q(&t));
	return 0;
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
			if (count >= max)
				return ums_perr_set(perr, -E2BIG, line,
						    "too many commands in one write (max %u)", max);
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
