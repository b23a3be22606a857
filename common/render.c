// SPDX-License-Identifier: GPL-2.0
/*
 * render.c - umsampler value renderer.
 *
 * Owns: text rendering of sampled bytes (integers, shortest round-trip floats, hex strings,
 * escaped strings, the snapshot hexdump) and the s64 `value` event field.  Pure code: no
 * allocation, no FPU, no printf, no recursion, every stack frame well under 512 bytes; compiled
 * into the module and on the host (see pure.h).
 *
 * Floats use the free-format algorithm of Steele & White / Burger & Dybvig on exact big
 * integers (u32 limbs): it yields the shortest digit string that reads back to the same value,
 * and of those the closest (ties to even digit).  The big integers never exceed ~1090 bits
 * (the worst cases are DBL_MAX and the smallest subnormal), so three of them fit in ~450 bytes.
 */
#include "render.h"
#include "parse.h"

static const char ums_hexdig[] = "0123456789abcdef";

/* ---- bounded output writer ---- */

struct ums_wb {
	char *buf;
	size_t size;
	size_t pos;
	bool full;
};

static void ums_wb_init(struct ums_wb *wb, char *buf, size_t size)
{
	wb->buf = buf;
	wb->size = size;
	wb->pos = 0;
	wb->full = !size;
	if (size)
		buf[0] = '\0';
}

/* Append an indivisible unit of n bytes, or nothing (and nothing more after that). */
static void ums_wb_put(struct ums_wb *wb, const char *s, size_t n)
{
	if (wb->full || n >= wb->size - wb->pos) {
		wb->full = true;
		return;
	}
	memcpy(wb->buf + wb->pos, s, n);
	wb->pos += n;
	wb->buf[wb->pos] = '\0';
}

/* ---- integers ---- */

/* Decimal digits of v (with a leading '-' if neg) into out[24]; returns the length. */
static size_t ums_fmt_dec(char *out, u64 v, bool neg)
{
	char tmp[20];
	size_t i = 0, n = 0;

	do {
		tmp[i++] = (char)('0' + ums_div_u32(&v, 10));
	} while (v);
	if (neg)
		out[n++] = '-';
	while (i)
		out[n++] = tmp[--i];
	return n;
}

/* Load a scalar of vtype from (possibly unaligned) target memory, in host byte order. */
static u64 ums_load(unsigned int vtype, const u8 *data)
{
	u8 v8;
	u16 v16;
	u32 v32;
	u64 v64;

	switch (ums_vtype_size(vtype)) {
	case 1:
		memcpy(&v8, data, 1);
		return vtype == UMS_VT_S8 ? (u64)(s64)(s8)v8 : v8;
	case 2:
		memcpy(&v16, data, 2);
		return vtype == UMS_VT_S16 ? (u64)(s64)(s16)v16 : v16;
	case 4:
		memcpy(&v32, data, 4);
		return vtype == UMS_VT_S32 ? (u64)(s64)(s32)v32 : v32;
	case 8:
		memcpy(&v64, data, 8);
		return v64;
	default:
		return 0;
	}
}

/**
 * ums_value_field() - decode a scalar sample into the s64 `value` event field
 * @vtype: enum ums_vtype of the region
 * @data: sampled bytes (target memory, host byte order)
 * @len: number of valid bytes at @data
 *
 * Return: the integer value sign- or zero-extended, the raw IEEE-754 bits for f32 (zero-extended)
 * and f64, or 0 for hex/str, out-of-range types and @len shorter than the type.
 */
s64 ums_value_field(unsigned int vtype, const u8 *data, size_t len)
{
	unsigned int size = ums_vtype_size(vtype);

	if (!size || len < size || !data)
		return 0;
	return (s64)ums_load(vtype, data);
}

/* ---- exact big integers for the float conversion ---- */

#define UMS_BIG_LIMBS	36		/* 1152 bits; the conversion needs at most ~1090 */
#define UMS_FP_MAXDIG	20		/* f64 needs at most 17 digits, f32 at most 9 */

struct ums_big {
	u32 n;				/* limbs in use; d[n - 1] != 0 unless n == 0 */
	u32 d[UMS_BIG_LIMBS];		/* little-endian base 2^32 limbs */
};

static void ums_big_set(struct ums_big *b, u64 v)
{
	b->n = 0;
	while (v) {
		b->d[b->n++] = (u32)v;
		v >>= 32;
	}
}

static void ums_big_norm(struct ums_big *b)
{
	while (b->n && !b->d[b->n - 1])
		b->n--;
}

/* b <<= k.  Overflow of the fixed size cannot happen for IEEE inputs; it is clamped anyway. */
static void ums_big_shl(struct ums_big *b, unsigned int k)
{
	unsigned int w = k / 32, sh = k % 32, n = b->n, i;

	if (!n)
		return;
	if (n + w + 1 > UMS_BIG_LIMBS) {
		b->n = 0;
		return;
	}
	b->d[n + w] = sh ? b->d[n - 1] >> (32 - sh) : 0;
	for (i = n - 1; i > 0; i--)
		b->d[i + w] = (b->d[i] << sh) | (sh ? b->d[i - 1] >> (32 - sh) : 0);
	b->d[w] = b->d[0] << sh;
	for (i = 0; i < w; i++)
		b->d[i] = 0;
	b->n = n + w + 1;
	ums_big_norm(b);
}

static void ums_big_mul(struct ums_big *b, u32 m)
{
	u64 carry = 0;
	u32 i;

	for (i = 0; i < b->n; i++) {
		carry += (u64)b->d[i] * m;
		b->d[i] = (u32)carry;
		carry >>= 32;
	}
	if (carry && b->n < UMS_BIG_LIMBS)
		b->d[b->n++] = (u32)carry;
}

static void ums_big_mul_pow10(struct ums_big *b, unsigned int k)
{
	static const u32 pow10[10] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
				       100000000, 1000000000 };

	for (; k >= 9; k -= 9)
		ums_big_mul(b, pow10[9]);
	if (k)
		ums_big_mul(b, pow10[k]);
}

static int ums_big_cmp(const struct ums_big *a, const struct ums_big *b)
{
	u32 i;

	if (a->n != b->n)
		return a->n > b->n ? 1 : -1;
	for (i = a->n; i-- > 0; )
		if (a->d[i] != b->d[i])
			return a->d[i] > b->d[i] ? 1 : -1;
	return 0;
}

/* a -= b; requires a >= b. */
static void ums_big_sub(struct ums_big *a, const struct ums_big *b)
{
	s64 t, borrow = 0;
	u32 i;

	for (i = 0; i < a->n; i++) {
		t = (s64)a->d[i] - (i < b->n ? b->d[i] : 0) - borrow;
		borrow = t < 0;
		a->d[i] = (u32)t;
	}
	ums_big_norm(a);
}

static u32 ums_big_limb(const struct ums_big *b, u32 i, unsigned int shift)
{
	u32 lo = i < b->n ? b->d[i] : 0;

	if (!shift)
		return lo;
	return (lo << 1) | (i && i - 1 < b->n ? b->d[i - 1] >> 31 : 0);
}

/* Sign of a + (b << bshift) - c, bshift 0 or 1, without a temporary. */
static int ums_big_cmp_sum(const struct ums_big *a, const struct ums_big *b, unsigned int bshift,
			   const struct ums_big *c)
{
	u32 n = a->n, i, nz = 0;
	s64 t, carry = 0;

	if (b->n + bshift > n)
		n = b->n + bshift;
	if (c->n > n)
		n = c->n;
	for (i = 0; i < n; i++) {
		t = (s64)ums_big_limb(a, i, 0) + ums_big_limb(b, i, bshift) -
		    ums_big_limb(c, i, 0) + carry;
		nz |= (u32)t;
		carry = t >> 32;	/* arithmetic shift: floor division by 2^32 */
	}
	if (carry)
		return carry < 0 ? -1 : 1;
	return nz ? 1 : 0;
}

/*
 * Shortest digits of v = f * 2^e (f > 0).  lower_closer: the next smaller float is half as far
 * away as the next larger one (f is a power of two with exponent above the minimum).  Digits go
 * to dig[] as ASCII, *kout receives k with v ~= 0.DIGITS * 10^k.  Returns the digit count.
 * The scale big integer lives in the caller's frame to keep each frame small.
 */
static noinline int ums_fp_digits(u64 f, int e, bool lower_closer, char *dig, int *kout,
				  struct ums_big *scale)
{
	struct {
		struct ums_big r, m;	/* value, low margin; high margin = m << mshift */
	} w;
	unsigned int mshift = lower_closer ? 1 : 0;
	bool even = !(f & 1);		/* round-half-even readers accept the interval ends */
	int x, k, nd = 0, c, i;
	bool low, high;
	unsigned int d;
	u64 t;

	if (e >= 0) {
		ums_big_set(&w.r, f);
		ums_big_shl(&w.r, (unsigned int)e + 1 + mshift);
		ums_big_set(scale, 2ULL << mshift);
		ums_big_set(&w.m, 1);
		ums_big_shl(&w.m, (unsigned int)e);
	} else {
		ums_big_set(&w.r, f);
		ums_big_shl(&w.r, 1 + mshift);
		ums_big_set(scale, 1);
		ums_big_shl(scale, (unsigned int)(1 - e) + mshift);
		ums_big_set(&w.m, 1);
	}

	/* k estimate from the binary exponent: never too large, at most ~3 too small. */
	for (x = e - 1, t = f; t; t >>= 1)
		x++;
	if (x >= 0)
		k = (x * 78913) >> 18;
	else
		k = -(((-x) * 78913 + 262143) >> 18);
	if (k >= 0) {
		ums_big_mul_pow10(scale, (unsigned int)k);
	} else {
		ums_big_mul_pow10(&w.r, (unsigned int)-k);
		ums_big_mul_pow10(&w.m, (unsigned int)-k);
	}
	for (i = 0; i < 8; i++) {
		c = ums_big_cmp_sum(&w.r, &w.m, mshift, scale);
		if (even ? c < 0 : c <= 0)
			break;
		ums_big_mul(scale, 10);
		k++;
	}

	while (nd < UMS_FP_MAXDIG) {
		ums_big_mul(&w.r, 10);
		ums_big_mul(&w.m, 10);
		for (d = 0; d < 9 && ums_big_cmp(&w.r, scale) >= 0; d++)
			ums_big_sub(&w.r, scale);
		c = ums_big_cmp(&w.r, &w.m);
		low = even ? c <= 0 : c < 0;
		c = ums_big_cmp_sum(&w.r, &w.m, mshift, scale);
		high = even ? c >= 0 : c > 0;
		if (!low && !high) {
			dig[nd++] = (char)('0' + d);
			continue;
		}
		if (low && high) {
			c = ums_big_cmp_sum(&w.r, &w.r, 0, scale);	/* 2r vs s */
			if (c > 0 || (c == 0 && (d & 1)))
				d++;
		} else if (high) {
			d++;
		}
		dig[nd++] = (char)('0' + (d > 9 ? 9 : d));
		break;
	}
	*kout = k;
	return nd;
}

/* Lay out digits with scientific exponent exp10 into out[32]; returns the length. */
static size_t ums_fp_layout(char *out, bool neg, const char *dig, int nd, int exp10,
			    int plain_max)
{
	size_t p = 0;
	int i, ae;

	if (neg)
		out[p++] = '-';
	if (exp10 < -4 || exp10 >= plain_max) {
		out[p++] = dig[0];
		if (nd > 1) {
			out[p++] = '.';
			for (i = 1; i < nd; i++)
				out[p++] = dig[i];
		}
		out[p++] = 'e';
		out[p++] = exp10 < 0 ? '-' : '+';
		ae = exp10 < 0 ? -exp10 : exp10;
		if (ae >= 100)
			out[p++] = (char)('0' + ae / 100);
		out[p++] = (char)('0' + ae / 10 % 10);
		out[p++] = (char)('0' + ae % 10);
	} else if (exp10 < 0) {
		out[p++] = '0';
		out[p++] = '.';
		for (i = exp10 + 1; i < 0; i++)
			out[p++] = '0';
		for (i = 0; i < nd; i++)
			out[p++] = dig[i];
	} else {
		for (i = 0; i < nd || i <= exp10; i++) {
			if (i == exp10 + 1)
				out[p++] = '.';
			out[p++] = i < nd ? dig[i] : '0';
		}
	}
	return p;
}

/* Common float path: f * 2^e with sign, or the special encodings. */
static size_t ums_render_fp(char *buf, size_t size, bool neg, bool special, u64 f, int e,
			    bool lower_closer, int plain_max)
{
	char dig[UMS_FP_MAXDIG];
	struct ums_big scale;
	struct ums_wb wb;
	char out[32];
	size_t n;
	int nd, k;

	ums_wb_init(&wb, buf, size);
	if (special) {
		if (f)
			ums_wb_put(&wb, "nan", 3);
		else if (neg)
			ums_wb_put(&wb, "-inf", 4);
		else
			ums_wb_put(&wb, "inf", 3);
	} else if (!f) {
		ums_wb_put(&wb, neg ? "-0" : "0", neg ? 2 : 1);
	} else {
		nd = ums_fp_digits(f, e, lower_closer, dig, &k, &scale);
		n = ums_fp_layout(out, neg, dig, nd, k - 1, plain_max);
		ums_wb_put(&wb, out, n);
	}
	return wb.pos;
}

/**
 * ums_render_f64() - shortest round-trip decimal text of an IEEE-754 double
 * @buf: output buffer, NUL-terminated when @size > 0
 * @size: size of @buf
 * @bits: the raw 64-bit encoding
 *
 * Plain layout when the decimal exponent is in [-4, 16), else d.ddde+XX; "-0", "inf", "-inf",
 * "nan".  The number is written whole or not at all.
 *
 * Return: number of characters written (excluding the NUL).
 */
size_t ums_render_f64(char *buf, size_t size, u64 bits)
{
	u32 bexp = (u32)(bits >> 52) & 0x7ff;
	u64 mant = bits & ((1ULL << 52) - 1);

	if (bexp == 0x7ff || (!bexp && !mant))
		return ums_render_fp(buf, size, bits >> 63, bexp == 0x7ff, mant, 0, false, 16);
	return ums_render_fp(buf, size, bits >> 63, false, bexp ? mant | (1ULL << 52) : mant,
			     bexp ? (int)bexp - 1075 : -1074, !mant && bexp > 1, 16);
}

/**
 * ums_render_f32() - shortest round-trip decimal text of an IEEE-754 float
 * @buf: output buffer, NUL-terminated when @size > 0
 * @size: size of @buf
 * @bits: the raw 32-bit encoding
 *
 * Plain layout when the decimal exponent is in [-4, 9), else d.ddde+XX; "-0", "inf", "-inf",
 * "nan".  The number is written whole or not at all.
 *
 * Return: number of characters written (excluding the NUL).
 */
size_t ums_render_f32(char *buf, size_t size, u32 bits)
{
	u32 bexp = (bits >> 23) & 0xff;
	u32 mant = bits & ((1U << 23) - 1);

	if (bexp == 0xff || (!bexp && !mant))
		return ums_render_fp(buf, size, bits >> 31, bexp == 0xff, mant, 0, false, 9);
	return ums_render_fp(buf, size, bits >> 31, false, bexp ? mant | (1U << 23) : mant,
			     bexp ? (int)bexp - 150 : -149, !mant && bexp > 1, 9);
}

/* ---- hex, str ---- */

static void ums_render_hex(struct ums_wb *wb, const u8 *data, size_t len)
{
	char pair[2];
	size_t i;

	for (i = 0; i < len && !wb->full; i++) {
		pair[0] = ums_hexdig[data[i] >> 4];
		pair[1] = ums_hexdig[data[i] & 0xf];
		ums_wb_put(wb, pair, 2);
	}
}

/* C escapes of str values: the byte in ums_esc_from[i] is written as '\\' ums_esc_to[i]. */
static const char ums_esc_from[] = "\\\"\n\t\r";
static const char ums_esc_to[] = "\\\"ntr";

static void ums_render_str(struct ums_wb *wb, const u8 *data, size_t len)
{
	const char *e;
	char esc[4];
	size_t i, n;
	u8 c;

	for (i = 0; i < len && data[i] && !wb->full; i++) {
		c = data[i];
		e = memchr(ums_esc_from, c, sizeof(ums_esc_from) - 1);
		esc[0] = '\\';
		if (e) {
			esc[1] = ums_esc_to[e - ums_esc_from];
			n = 2;
		} else if (c >= 0x20 && c <= 0x7e) {
			esc[0] = (char)c;
			n = 1;
		} else {
			esc[1] = 'x';
			esc[2] = ums_hexdig[c >> 4];
			esc[3] = ums_hexdig[c & 0xf];
			n = 4;
		}
		ums_wb_put(wb, esc, n);
	}
}

/**
 * ums_render_value() - render a sample's value as one line of text
 * @buf: output buffer, NUL-terminated when @size > 0
 * @size: size of @buf
 * @vtype: enum ums_vtype of the region
 * @data: sampled bytes (target memory, host byte order)
 * @len: number of valid bytes at @data
 * @partial: the sample is incomplete; scalars then render as "?"
 *
 * Integers in decimal, floats in shortest round-trip form, hex as lowercase byte pairs, str up to
 * the first NUL with C escapes (\\ \" \n \t \r \xNN), unquoted.  A scalar with @partial set or
 * @len below its size, and an unknown @vtype, render as "?".  Truncation never splits a number,
 * a hex pair or an escape.
 *
 * Return: number of characters written (excluding the NUL).
 */
size_t ums_render_value(char *buf, size_t size, unsigned int vtype, const u8 *data, size_t len,
			bool partial)
{
	unsigned int vsize = ums_vtype_size(vtype);
	struct ums_wb wb;
	char out[24];
	u64 v;

	if (!data)
		len = 0;
	if (vtype == UMS_VT_HEX || vtype == UMS_VT_STR) {
		ums_wb_init(&wb, buf, size);
		if (vtype == UMS_VT_HEX)
			ums_render_hex(&wb, data, len);
		else
			ums_render_str(&wb, data, len);
		return wb.pos;
	}
	if (vtype >= UMS_VT_NR || partial || len < vsize) {
		ums_wb_init(&wb, buf, size);
		ums_wb_put(&wb, "?", 1);
		return wb.pos;
	}
	v = ums_load(vtype, data);
	if (vtype == UMS_VT_F64)
		return ums_render_f64(buf, size, v);
	if (vtype == UMS_VT_F32)
		return ums_render_f32(buf, size, (u32)v);
	ums_wb_init(&wb, buf, size);
	if (vtype >= UMS_VT_S8 && (s64)v < 0)
		ums_wb_put(&wb, out, ums_fmt_dec(out, 0 - v, true));
	else
		ums_wb_put(&wb, out, ums_fmt_dec(out, v, false));
	return wb.pos;
}

/* ---- hexdump ---- */

static unsigned int ums_hd_width(size_t len)
{
	unsigned int w = 4;

	while (w < 2 * sizeof(size_t) && (len >> (4 * w)))
		w++;
	return w;
}

/* One hexdump line for the 16-byte block at off into out[96]; returns its length. */
static size_t ums_hd_line(char *out, const u8 *data, size_t len, size_t off, unsigned int width)
{
	size_t p = 0, i;
	unsigned int sh;

	out[p++] = ' ';
	out[p++] = ' ';
	for (sh = width * 4; sh; sh -= 4)
		out[p++] = ums_hexdig[(off >> (sh - 4)) & 0xf];
	out[p++] = ':';
	out[p++] = ' ';
	for (i = 0; i < 16; i++) {
		if (i == 8)
			out[p++] = ' ';
		if (off + i < len) {
			out[p++] = ums_hexdig[data[off + i] >> 4];
			out[p++] = ums_hexdig[data[off + i] & 0xf];
		} else {
			out[p++] = ' ';
			out[p++] = ' ';
		}
		out[p++] = ' ';
	}
	out[p++] = ' ';
	out[p++] = '|';
	for (i = 0; i < 16 && off + i < len; i++)
		out[p++] = (data[off + i] >= 0x20 && data[off + i] <= 0x7e) ? (char)data[off + i]
									    : '.';
	out[p++] = '|';
	out[p++] = '\n';
	return p;
}

/**
 * ums_hexdump_size() - length of the full hexdump of a region
 * @len: region length in bytes
 *
 * Return: number of characters ums_render_hexdump() produces for @len bytes (excluding NUL).
 */
size_t ums_hexdump_size(size_t len)
{
	size_t line = ums_hd_width(len) + 57;	/* everything but the ASCII column */

	return (len / 16) * (line + 16) + ((len % 16) ? line + len % 16 : 0);
}

/**
 * ums_render_hexdump_from() - canonical hexdump of a region, starting at a given offset
 * @buf: output buffer, NUL-terminated when @size > 0
 * @size: size of @buf
 * @data: the region's bytes
 * @len: region length
 * @from: byte offset to start at; rendering starts at the 16-byte line containing it
 *
 * Writes whole lines only ("  0000: 01 02 ... 10  |................|\n"), as many as fit.
 *
 * Return: number of characters written (excluding the NUL).
 */
size_t ums_render_hexdump_from(char *buf, size_t size, const u8 *data, size_t len, size_t from)
{
	unsigned int width = ums_hd_width(len);
	struct ums_wb wb;
	char line[96];
	size_t off;

	ums_wb_init(&wb, buf, size);
	if (!data)
		return 0;
	for (off = from & ~(size_t)15; off < len && !wb.full; off += 16)
		ums_wb_put(&wb, line, ums_hd_line(line, data, len, off, width));
	return wb.pos;
}

/**
 * ums_render_hexdump() - canonical hexdump of a region from its start
 * @buf: output buffer, NUL-terminated when @size > 0
 * @size: size of @buf
 * @data: the region's bytes
 * @len: region length
 *
 * Same as ums_render_hexdump_from() with @from 0.
 *
 * Return: number of characters written (excluding the NUL).
 */
size_t ums_render_hexdump(char *buf, size_t size, const u8 *data, size_t len)
{
	return ums_render_hexdump_from(buf, size, data, len, 0);
}
