// SPDX-License-Identifier: GPL-2.0
/*
 * render_test.c - host unit test (TAP) for common/render.c.
 *
 * Owns: checks of integer/hex/str rendering, the value field, the hexdump layout, truncation
 * safety at every small buffer size, and the shortest round-trip float rendering against a
 * reference computed with the C library (printf %.*e + strtod/strtof) over special values and
 * hundreds of thousands of random bit patterns.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>
#include <float.h>
#include <math.h>

#include "render.h"
#include "parse.h"
#include "tap.h"

#define VF(vt, p, n) ums_value_field(vt, (const u8 *)(p), n)

/* ---- reference float formatting ---- */

static void layout(char *out, int neg, const char *dig, int exp10, int plain_max)
{
	int nd = (int)strlen(dig), i;
	char *p = out;

	if (neg)
		*p++ = '-';
	if (exp10 < -4 || exp10 >= plain_max) {
		*p++ = dig[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, dig + 1, nd - 1);
			p += nd - 1;
		}
		sprintf(p, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
		return;
	}
	if (exp10 < 0) {
		p += sprintf(p, "0.");
		for (i = exp10 + 1; i < 0; i++)
			*p++ = '0';
		strcpy(p, dig);
		return;
	}
	for (i = 0; i < nd || i <= exp10; i++) {
		if (i == exp10 + 1)
			*p++ = '.';
		*p++ = i < nd ? dig[i] : '0';
	}
	*p = 0;
}

/* Does the decimal text read back as exactly x (double or float)? */
static int roundtrips(const char *s, double x, int is_f32)
{
	if (is_f32) {
		float y = strtof(s, NULL), fx = (float)x;

		return memcmp(&y, &fx, sizeof(y)) == 0;
	} else {
		double y = strtod(s, NULL);

		return memcmp(&y, &x, sizeof(y)) == 0;
	}
}

static uint64_t dbits(double d)
{
	uint64_t b;

	memcpy(&b, &d, 8);
	return b;
}

static uint32_t fbits(float f)
{
	uint32_t b;

	memcpy(&b, &f, 4);
	return b;
}

/*
 * Candidate `which` (0: correctly rounded p-digit value M, 1: M - 1, 2: M + 1 in the last
 * digit) for x > 0 as *m * 10^*e; returns whether it reads back as x.
 */
static int ref_cand(double x, int p, int is_f32, int which, unsigned long long *m, int *e)
{
	char s[64], *q;

	snprintf(s, sizeof(s), "%.*e", p - 1, x);
	*m = 0;
	for (q = s; *q != 'e'; q++)
		if (*q >= '0' && *q <= '9')
			*m = *m * 10 + (unsigned long long)(*q - '0');
	*e = (int)strtol(q + 1, NULL, 10) - (p - 1);
	if (which == 1)
		--*m;
	else if (which == 2)
		++*m;
	if (!*m)
		return 0;
	snprintf(s, sizeof(s), "%llue%d", *m, *e);
	return roundtrips(s, x, is_f32);
}

/*
 * Shortest (then closest) round-trip decimal of x in the canonical layout: for p = 1..17 take
 * the correctly rounded p-digit value M; if it does not read back, its neighbours M-1 / M+1 may
 * (the rounding interval is asymmetric at powers of two).
 */
static void ref_fmt(char *out, double x, int is_f32)
{
	int plain_max = is_f32 ? 9 : 16, p, e, ndig, i, neg = signbit(x) != 0, asym, lo, hi;
	unsigned long long m;
	char dig[32];

	if (isnan(x)) {
		strcpy(out, "nan");
		return;
	}
	if (isinf(x)) {
		strcpy(out, neg ? "-inf" : "inf");
		return;
	}
	if (x == 0) {
		strcpy(out, neg ? "-0" : "0");
		return;
	}
	/*
	 * With a symmetric rounding interval (mantissa not a power of two) round-tripping of the
	 * correctly rounded p-digit value is monotonic in p: binary search.  Otherwise search
	 * linearly and also try the neighbours.
	 */
	asym = is_f32 ? !(fbits((float)x) & 0x7fffff) : !(dbits(x) & 0xfffffffffffffULL);
	lo = 1;
	hi = 17;
	while (!asym && lo < hi) {
		p = (lo + hi) / 2;
		if (ref_cand(fabs(x), p, is_f32, 0, &m, &e))
			hi = p;
		else
			lo = p + 1;
	}
	for (p = lo; p <= 17; p++) {
		for (i = 0; i < (asym ? 3 : 1); i++) {
			if (ref_cand(fabs(x), p, is_f32, i, &m, &e))
				goto found;
		}
	}
	strcpy(out, "REF-FAILED");
	return;
found:
	ndig = snprintf(dig, sizeof(dig), "%llu", m);
	e += ndig - 1;		/* scientific exponent of the first digit */
	while (ndig > 1 && dig[ndig - 1] == '0')
		dig[--ndig] = 0;
	layout(out, neg, dig, e, plain_max);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static int fails_shown;

/*
 * Render the float with these bits (f32: the low 32) and compare with the
 * reference: same text, and the text reads back to the same value.
 */
static int check_float_bits(uint64_t bits, int is_f32)
{
	char got[64], ref[64];
	uint32_t b32 = (uint32_t)bits;
	double x;
	float f;
	size_t n;

	if (is_f32) {
		memcpy(&f, &b32, 4);
		x = f;
		n = ums_render_f32(got, sizeof(got), b32);
	} else {
		memcpy(&x, &bits, 8);
		n = ums_render_f64(got, sizeof(got), bits);
	}
	ref_fmt(ref, x, is_f32);
	if (n != strlen(got) || strcmp(got, ref) || (!isnan(x) && !roundtrips(got, x, is_f32))) {
		if (fails_shown++ < 20)
			printf("# %s %0*" PRIx64 " (%.*g): got '%s' want '%s'\n",
			       is_f32 ? "f32" : "f64", is_f32 ? 8 : 16, bits, is_f32 ? 9 : 17, x,
			       got, ref);
		return 0;
	}
	return 1;
}

static int check_f64_bits(uint64_t bits) { return check_float_bits(bits, 0); }
static int check_f32_bits(uint32_t bits) { return check_float_bits(bits, 1); }

/* The powers of ten 1e<lo>..1e<hi> as strtod() (strtof() if f32) parses them: how many render
 * like the reference; *total counts them. */
static int check_powers_of_ten(int lo, int hi, int f32, int *total)
{
	int e, good = 0;

	for (e = lo; e <= hi; e++, (*total)++) {
		char s[32];

		snprintf(s, sizeof(s), "1e%d", e);
		good += f32 ? check_f32_bits(fbits(strtof(s, NULL))) :
			      check_f64_bits(dbits(strtod(s, NULL)));
	}
	return good;
}

static void test_float_exact(void)
{
	static const struct {
		double d;
		const char *s;
	} t64[] = {
		{ 0.0, "0" }, { -0.0, "-0" }, { 1.0, "1" }, { 42.0, "42" }, { 497.5, "497.5" },
		{ 0.1, "0.1" }, { -0.1, "-0.1" }, { 1.0 / 3, "0.3333333333333333" },
		{ 1e16, "1e+16" }, { 1e15, "1000000000000000" }, { 1e-5, "1e-05" },
		{ 1e-4, "0.0001" }, { 1.5e-7, "1.5e-07" }, { 123456789012345678.0,
		"1.2345678901234568e+17" }, { DBL_MAX, "1.7976931348623157e+308" },
		{ DBL_MIN, "2.2250738585072014e-308" }, { 4.9e-324, "5e-324" },
		{ -4.9e-324, "-5e-324" }, { INFINITY, "inf" }, { -INFINITY, "-inf" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 9007199254740994.0, "9007199254740994" },
		{ 5.684341886080802e-14, "5.684341886080802e-14" }, { 1e23, "1e+23" },
		{ 100.0, "100" }, { 1234.5678, "1234.5678" }, { 1e100, "1e+100" },
		{ 2.5, "2.5" }, { 0.3, "0.3" }, { 9.999999999999999e22, "1e+23" },
	};
	static const struct {
		float f;
		const char *s;
	} t32[] = {
		{ 0.0f, "0" }, { -0.0f, "-0" }, { 1.0f, "1" }, { 0.1f, "0.1" }, { 497.5f, "497.5" },
		{ 1e9f, "1e+09" }, { 123456792.0f, "123456790" }, { FLT_MAX, "3.4028235e+38" },
		{ FLT_MIN, "1.1754944e-38" }, { 1.4e-45f, "1e-45" }, { 16777216.0f, "16777216" },
		{ 3.14159265f, "3.1415927" }, { INFINITY, "inf" }, { -INFINITY, "-inf" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(t64) / sizeof(t64[0]); i++) {
		ums_render_f64(buf, sizeof(buf), dbits(t64[i].d));
		ok(!strcmp(buf, t64[i].s), "f64 %.17g -> '%s' (got '%s')", t64[i].d, t64[i].s, buf);
	}
	ums_render_f64(buf, sizeof(buf), 0x7ff8000000000001ULL);
	ok(!strcmp(buf, "nan"), "f64 nan");
	ums_render_f64(buf, sizeof(buf), 0xfff8000000000000ULL);
	ok(!strcmp(buf, "nan"), "f64 -nan renders as nan");
	for (i = 0; i < sizeof(t32) / sizeof(t32[0]); i++) {
		ums_render_f32(buf, sizeof(buf), fbits(t32[i].f));
		ok(!strcmp(buf, t32[i].s), "f32 %.9g -> '%s' (got '%s')", (double)t32[i].f,
		   t32[i].s, buf);
	}
	ums_render_f32(buf, sizeof(buf), 0xffc00000U);
	ok(!strcmp(buf, "nan"), "f32 -nan renders as nan");
}

static void test_float_ref(void)
{
	static const double special[] = {
		0.0, -0.0, 1.0, 0.1, 1.0 / 3, 497.5, 1e16, 1e15, 1e-5, 1e-4,
		123456789012345678.0, DBL_MAX, DBL_MIN, 4.9e-324, 9007199254740992.0,
		9007199254740994.0, DBL_EPSILON, -DBL_MAX, 2.2250738585072009e-308,
	};
	int good = 0, total = 0, i, e;
	uint64_t bits;
	uint32_t b32;

	for (i = 0; i < (int)(sizeof(special) / sizeof(special[0])); i++, total++)
		good += check_f64_bits(dbits(special[i]));
	good += check_f64_bits(0x7ff0000000000000ULL);
	good += check_f64_bits(0xfff0000000000000ULL);
	good += check_f64_bits(0x7ff8000000000000ULL);
	total += 3;
	for (e = -1074; e <= 1023; e++, total++)
		good += check_f64_bits(dbits(ldexp(1.0, e)));
	good += check_powers_of_ten(-323, 308, 0, &total);
	for (bits = 0; bits < 2048; bits++, total++)	/* every exponent, edge mantissas */
		good += check_f64_bits((bits << 52) | (bits & 1 ? 0xfffffffffffffULL : 1));
	ok(good == total, "f64 specials, powers of 2 and 10, exponent edges: %d/%d match reference",
	   good, total);

	good = total = 0;
	for (i = 0; i < 200000; i++, total++)
		good += check_f64_bits(rnd());
	ok(good == total, "f64 200000 random bit patterns: %d/%d match reference", good, total);

	good = total = 0;
	for (i = 0; i < 100000; i++, total++) {
		/* random exponent (all 256), random mantissa, random sign */
		b32 = (uint32_t)rnd();
		good += check_f32_bits(b32);
	}
	for (e = -149; e <= 127; e++, total++)
		good += check_f32_bits(fbits(ldexpf(1.0f, e)));
	good += check_powers_of_ten(-45, 38, 1, &total);
	ok(good == total, "f32 100000 random patterns + powers: %d/%d match reference", good,
	   total);
}

/* ---- integers, hex, str ---- */

static void test_value(unsigned int vt, const void *data, size_t len, bool partial,
		       const char *want)
{
	char buf[256];
	size_t n = ums_render_value(buf, sizeof(buf), vt, (const u8 *)data, len, partial);

	ok(n == strlen(want) && !strcmp(buf, want), "render %s len %zu%s -> \"%s\" (got \"%s\")",
	   ums_vtype_name(vt), len, partial ? " partial" : "", want, buf);
}

static void test_ints(void)
{
	uint8_t u8v = 255;
	int8_t s8v = -1;
	uint16_t u16v = 65535;
	int16_t s16v = -32768;
	uint32_t u32v = 4294967295U;
	int32_t s32v = INT32_MIN;
	uint64_t u64v = UINT64_MAX;
	int64_t s64v = INT64_MIN, s64max = INT64_MAX, zero = 0;
	double d = 0.1;
	float f = -2.5f;
	uint8_t unaligned[9] = { 0xaa, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

	test_value(UMS_VT_U8, &u8v, 1, false, "255");
	test_value(UMS_VT_S8, &u8v, 1, false, "-1");
	test_value(UMS_VT_S8, &s8v, 1, false, "-1");
	test_value(UMS_VT_U16, &u16v, 2, false, "65535");
	test_value(UMS_VT_S16, &s16v, 2, false, "-32768");
	test_value(UMS_VT_U32, &u32v, 4, false, "4294967295");
	test_value(UMS_VT_S32, &s32v, 4, false, "-2147483648");
	test_value(UMS_VT_S32, &u32v, 4, false, "-1");
	test_value(UMS_VT_U64, &u64v, 8, false, "18446744073709551615");
	test_value(UMS_VT_S64, &u64v, 8, false, "-1");
	test_value(UMS_VT_S64, &s64v, 8, false, "-9223372036854775808");
	test_value(UMS_VT_S64, &s64max, 8, false, "9223372036854775807");
	test_value(UMS_VT_U64, &zero, 8, false, "0");
	test_value(UMS_VT_S64, &zero, 8, false, "0");
	test_value(UMS_VT_U64, unaligned + 1, 8, false, "578437695752307201");
	test_value(UMS_VT_F64, &d, 8, false, "0.1");
	test_value(UMS_VT_F32, &f, 4, false, "-2.5");
	test_value(UMS_VT_U32, &u32v, 4, true, "?");
	test_value(UMS_VT_F64, &d, 8, true, "?");
	test_value(UMS_VT_U32, &u32v, 3, false, "?");
	test_value(UMS_VT_NR, &u32v, 4, false, "?");
	test_value(99, &u32v, 4, false, "?");

	ok(VF(UMS_VT_S8, &u8v, 1) == -1, "value field s8 sign-extends");
	ok(VF(UMS_VT_U8, &u8v, 1) == 255, "value field u8 zero-extends");
	ok(VF(UMS_VT_S16, &s16v, 2) == -32768, "value field s16");
	ok(VF(UMS_VT_U32, &u32v, 4) == 4294967295LL, "value field u32");
	ok(VF(UMS_VT_S32, &s32v, 4) == INT32_MIN, "value field s32");
	ok(VF(UMS_VT_U64, &u64v, 8) == -1, "value field u64 raw bits");
	ok(VF(UMS_VT_S64, &s64v, 8) == INT64_MIN, "value field s64");
	ok(VF(UMS_VT_F64, &d, 8) == (int64_t)dbits(0.1), "value field f64 = bits");
	ok(VF(UMS_VT_F32, &f, 4) == (int64_t)fbits(-2.5f),
	   "value field f32 = zero-extended bits");
	ok(VF(UMS_VT_U32, &u32v, 2) == 0, "value field short len -> 0");
	ok(VF(UMS_VT_HEX, &u32v, 4) == 0, "value field hex -> 0");
	ok(VF(UMS_VT_STR, &u32v, 4) == 0, "value field str -> 0");
	ok(VF(UMS_VT_NR, &u32v, 4) == 0, "value field bad type -> 0");
}

static void test_hex_str(void)
{
	static const uint8_t hx[] = { 0x01, 0xff, 0x0a, 0x00, 0xab };
	static const char s1[] = "hello";
	static const char s2[] = "a\\b\"c\nd\te\rf\x01g\x7fh\x80i\xff";
	static const char s3[] = "ab\0cd";

	test_value(UMS_VT_HEX, hx, 5, false, "01ff0a00ab");
	test_value(UMS_VT_HEX, hx, 5, true, "01ff0a00ab");
	test_value(UMS_VT_HEX, hx, 0, false, "");
	test_value(UMS_VT_STR, s1, 5, false, "hello");
	test_value(UMS_VT_STR, s1, 3, false, "hel");
	test_value(UMS_VT_STR, s1, 6, false, "hello");
	test_value(UMS_VT_STR, s2, sizeof(s2) - 1, false,
		   "a\\\\b\\\"c\\nd\\te\\rf\\x01g\\x7fh\\x80i\\xff");
	test_value(UMS_VT_STR, s3, 5, false, "ab");
	test_value(UMS_VT_STR, s3 + 2, 3, false, "");
	test_value(UMS_VT_STR, "'?", 2, false, "'?");
}

/* Every small size: NUL-terminated, return == strlen, output a prefix of the full rendering,
 * and never splitting a unit (checked by the caller-provided unit test function).
 */
static int check_trunc(const char *what, unsigned int vt, const void *data, size_t len,
		       int kind)
{
	char full[512], buf[64];
	size_t fn, n, sz;
	int bad = 0;

	if (kind == 1)
		fn = ums_render_hexdump(full, sizeof(full), (const u8 *)data, len);
	else if (kind == 2)
		fn = ums_render_f64(full, sizeof(full), *(const uint64_t *)data);
	else
		fn = ums_render_value(full, sizeof(full), vt, (const u8 *)data, len, false);
	for (sz = 0; sz <= 40; sz++) {
		memset(buf, 'Z', sizeof(buf));
		if (kind == 1)
			n = ums_render_hexdump(buf, sz, (const u8 *)data, len);
		else if (kind == 2)
			n = ums_render_f64(buf, sz, *(const uint64_t *)data);
		else
			n = ums_render_value(buf, sz, vt, (const u8 *)data, len, false);
		if (sz == 0) {
			bad |= n != 0 || buf[0] != 'Z';
			continue;
		}
		if (buf[sz] != 'Z' || n >= sz || strlen(buf) != n || memcmp(buf, full, n) ||
		    n > fn)
			bad = 1;
		if (fn < sz && n != fn)
			bad = 1;
		/* indivisible units: numbers whole or nothing; hex pairs; hexdump lines */
		if ((kind == 2 || (vt != UMS_VT_HEX && vt != UMS_VT_STR && kind == 0)) &&
		    n && n != fn)
			bad = 1;
		if (kind == 0 && vt == UMS_VT_HEX && (n & 1))
			bad = 1;
		if (kind == 1 && n && buf[n - 1] != '\n')
			bad = 1;
		if (kind == 0 && vt == UMS_VT_STR && n < fn) {
			/* must not end inside an escape: the cut must be at a unit boundary */
			size_t i = 0;

			while (i < n)
				i += full[i] != '\\' ? 1 : full[i + 1] == 'x' ? 4 : 2;
			bad |= i != n;
		}
	}
	ok(!bad, "truncation %s: sizes 0..40 safe, NUL-terminated, prefix, units kept", what);
	return !bad;
}

static void test_trunc(void)
{
	static const uint8_t hx[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
				      18, 19, 20 };
	static const char s[] = "x\x01y\\z\"\n\t\r\xff" "end of the string with more text here";
	int64_t v = INT64_MIN;
	uint64_t b = dbits(-2.2250738585072014e-308), b2 = dbits(1.0 / 3);
	uint32_t fb = fbits(3.14159265f);

	check_trunc("hex", UMS_VT_HEX, hx, sizeof(hx), 0);
	check_trunc("str", UMS_VT_STR, s, sizeof(s) - 1, 0);
	check_trunc("s64", UMS_VT_S64, &v, 8, 0);
	check_trunc("f32", UMS_VT_F32, &fb, 4, 0);
	check_trunc("f64 min normal", 0, &b, 8, 2);
	check_trunc("f64 1/3", 0, &b2, 8, 2);
	check_trunc("hexdump 20 bytes", 0, hx, sizeof(hx), 1);
}

/* Independent reference hexdump built with printf. */
static size_t ref_hexdump(char *out, const uint8_t *d, size_t len, size_t from)
{
	int w = 4;
	size_t off, i;
	char *p = out;

	while (w < 16 && (len >> (4 * w)))
		w++;
	for (off = from & ~(size_t)15; off < len; off += 16) {
		p += snprintf(p, 32, "  %0*zx: ", w, off);
		for (i = 0; i < 16; i++) {
			if (i == 8)
				*p++ = ' ';
			if (off + i < len)
				p += sprintf(p, "%02x ", d[off + i]);
			else
				p += sprintf(p, "   ");
		}
		p += sprintf(p, " |");
		for (i = 0; i < 16 && off + i < len; i++)
			*p++ = d[off + i] >= 0x20 && d[off + i] < 0x7f ? (char)d[off + i] : '.';
		p += sprintf(p, "|\n");
	}
	*p = 0;
	return (size_t)(p - out);
}

static void test_hexdump(void)
{
	static uint8_t big[0x10001];
	static char buf[0x10001 * 6], ref[0x10001 * 6];
	static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 19, 25, 31, 32, 33, 40, 255, 256,
				       1000, 0xffff, 0x10000, 0x10001 };
	size_t n, rn, i, from;
	int good = 0, total = 0;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	for (i = 0; i < 40; i++)
		big[i] = (uint8_t)(i + 1);
	big[16] = 'A';
	big[17] = 0x7f;
	big[18] = ' ';
	n = ums_render_hexdump(buf, sizeof(buf), big, 16);
	ok(!strcmp(buf,
		   "  0000: 01 02 03 04 05 06 07 08  09 0a 0b 0c 0d 0e 0f 10  |................|\n"),
	   "hexdump one full line");
	ok(n == strlen(buf) && n == ums_hexdump_size(16), "hexdump size 16 = %zu", n);
	n = ums_render_hexdump(buf, sizeof(buf), big, 19);
	ok(!strcmp(buf,
		   "  0000: 01 02 03 04 05 06 07 08  09 0a 0b 0c 0d 0e 0f 10  |................|\n"
		   "  0010: 41 7f 20" "                                          |A. |\n"),
	   "hexdump partial last line aligned");
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (from = 0; from <= lens[i] + 16; from += from < 64 ? 5 : lens[i] / 3 + 1) {
			total++;
			n = ums_render_hexdump_from(buf, sizeof(buf), big, lens[i], from);
			rn = ref_hexdump(ref, big, lens[i], from);
			if (n == rn && !strcmp(buf, ref) &&
			    (from || n == ums_hexdump_size(lens[i])))
				good++;
			else if (fails_shown++ < 20)
				printf("# hexdump len %zu from %zu: got %zu bytes, want %zu\n",
				       lens[i], from, n, rn);
		}
	}
	ok(good == total, "hexdump/hexdump_from vs reference for many lengths/offsets: %d/%d",
	   good, total);
	n = ums_render_hexdump_from(buf, sizeof(buf), big, 0x10001, 0x10000);
	ok(!strncmp(buf, "  10000: ", 9) && n == ums_hexdump_size(0x10001) % 78,
	   "hexdump len > 0xffff: offset width 5");
	n = ums_render_hexdump(buf, 100, big, 40);
	ok(n == ums_hexdump_size(16), "hexdump small buffer: whole lines only (%zu)", n);
	n = ums_render_hexdump(buf, 77, big, 40);
	ok(n == 0 && buf[0] == 0, "hexdump buffer one short of a line + NUL -> empty");
	n = ums_render_hexdump(buf, 78, big, 40);
	ok(n == 77, "hexdump buffer exactly a line + NUL -> one line");
}

int main(void)
{
	test_float_exact();
	test_float_ref();
	test_ints();
	test_hex_str();
	test_trunc();
	test_hexdump();
	return tap_done();
}
