// SPDX-License-Identifier: GPL-2.0
/*
 * decode_test.c - host tests of the recording consumers' shared code (run by tests/host/decode.t,
 * which builds this file, with tracing/plugin_umsampler.c included for its static internals,
 * and tracing/decode.c, common/render.c and common/parse.c into build/host/decode_test).
 *
 * Owns: checks of the value text of every type as the plugin and the CSV writer produce it, the
 * chunk reassembler (complete, unnamed, lost chunk, seq change, end of stream order), CSV
 * quoting and flags, the plugin's sample and batch text; and two helper modes for decode.t's cross-checks with umsampler-perf.py:
 *   decode_test                   unit checks, one "ok - ..." / "not ok - ..." line each
 *   decode_test floats N SEED     "f32|f64 BITS TEXT" lines (specials + N random of each)
 *   decode_test stream FILE       CSV of a canned event stream (see decode.t for the format)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "parse.h"
#include "render.h"

/* The plugin's internals are static: test them from inside its translation unit. */
#include "plugin_umsampler.c"

static int failures;

static void check_str(const char *got, const char *want, const char *what)
{
	bool ok = got && !strcmp(got, want);

	printf("%sok - %s", ok ? "" : "not ", what);
	if (!ok)
		printf(" (got '%s', want '%s')", got ? got : "(null)", want);
	printf("\n");
	failures += !ok;
}

static void check(bool ok, const char *what)
{
	printf("%sok - %s\n", ok ? "" : "not ", what);
	failures += !ok;
}

/* ---- collecting samples as CSV text ---- */

struct collect {
	char *buf;
	size_t len;
	FILE *f;
	int n;
};

static int collect_fn(const struct ums_sample *s, void *arg)
{
	struct collect *c = arg;

	c->n++;
	return ums_csv_row(c->f, s);
}

static void collect_open(struct collect *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	if (!c->f) {
		perror("open_memstream");
		exit(2);
	}
}

static void collect_close(struct collect *c)
{
	fclose(c->f);
	free(c->buf);
}

/* ---- value text of every type ---- */

struct vcase {
	unsigned int vtype;
	u8 bytes[16];
	size_t len;
	unsigned int flags;
	const char *plugin;	/* text after value= */
	const char *csv;	/* value column */
};

static const struct vcase vcases[] = {
	{ UMS_VT_U8, { 200 }, 1, 0, "200", "200" },
	{ UMS_VT_U16, { 0xe8, 0xfd }, 2, 0, "65000", "65000" },
	{ UMS_VT_U32, { 0xff, 0xff, 0xff, 0xff }, 4, 0, "4294967295", "4294967295" },
	{ UMS_VT_U64, { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe }, 8, 0,
	  "18364758544493064720", "18364758544493064720" },
	{ UMS_VT_S8, { 0xfb }, 1, 0, "-5", "-5" },
	{ UMS_VT_S16, { 0xd0, 0x8a }, 2, 0, "-30000", "-30000" },
	{ UMS_VT_S32, { 0x00, 0x6c, 0xca, 0x88 }, 4, 0, "-2000000000", "-2000000000" },
	{ UMS_VT_S64, { 0xec, 0xe5, 0x66, 0x41, 0xe3, 0xff, 0xff, 0xff }, 8, 0, "-123456789012",
	  "-123456789012" },
	{ UMS_VT_F32, { 0x00, 0x00, 0xc0, 0xbf }, 4, 0, "-1.5", "-1.5" },
	{ UMS_VT_F32, { 0xcd, 0xcc, 0xcc, 0x3d }, 4, 0, "0.1", "0.1" },
	{ UMS_VT_F64, { 0, 0, 0, 0, 0, 0x18, 0x7f, 0x40 }, 8, 0, "497.5", "497.5" },
	{ UMS_VT_F64, { 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f }, 8, 0, "0.1", "0.1" },
	{ UMS_VT_F64, { 0, 0, 0, 0, 0, 0, 0, 0x80 }, 8, 0, "-0", "-0" },
	{ UMS_VT_F64, { 0, 0, 0, 0, 0, 0, 0xf0, 0x7f }, 8, 0, "inf", "inf" },
	{ UMS_VT_F64, { 0, 0x80, 0xe0, 0x37, 0x79, 0xc3, 0x41, 0x43 }, 8, 0, "1e+16", "1e+16" },
	{ UMS_VT_U32, { 1, 2, 3, 4 }, 4, UMS_F_PARTIAL | UMS_F_CHANGED, "?", "?" },
	{ UMS_VT_U32, { 1, 2 }, 2, 0, "?", "?" },
	{ UMS_VT_HEX, { 0x01, 0xff, 0x0a, 0x00 }, 4, 0, "01ff0a00", "01ff0a00" },
	{ UMS_VT_STR, "hi", 3, 0, "\"hi\"", "\"hi\"" },
	{ UMS_VT_STR, "a\"b,c\n\x01", 8, 0, "\"a\\\"b,c\\n\\x01\"", "\"a\\\"\"b,c\\n\\x01\"" },
	{ UMS_VT_STR, "", 1, 0, "\"\"", "\"\"" },
	{ UMS_VT_STR, "abcd", 4, UMS_F_TRUNCATED, "\"abcd\"", "\"abcd\"" },
};

static void test_values(void)
{
	struct collect c;
	char what[128], *v, *row, *comma;
	size_t i;
	int k;

	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *vc = &vcases[i];
		struct ums_reassembler *a;
		struct ums_chunk ch = { .sample = {
			.time_ns = 1000 + i, .id = 7, .pid = 42, .addr = 0x1000, .seq = i + 1,
			.late_ns = 5, .vtype = (u8)vc->vtype, .flags = (u8)vc->flags,
			.data = vc->bytes, .len = vc->len,
		}, .offset = 0 };

		v = plugin_value(vc->vtype, vc->bytes, vc->len, vc->flags);
		snprintf(what, sizeof(what), "plugin value %s #%zu", ums_vtype_name(vc->vtype), i);
		check_str(v, vc->plugin, what);
		free(v);

		collect_open(&c);
		a = ums_reassembler_new(collect_fn, &c);
		if (!a)
			exit(2);
		k = ums_reassembler_chunk(a, &ch);
		if (!k)
			k = ums_reassembler_finish(a);
		ums_reassembler_free(a);
		fflush(c.f);
		snprintf(what, sizeof(what), "csv value %s #%zu", ums_vtype_name(vc->vtype), i);
		/* value = everything after the 8th comma */
		row = c.buf;
		for (k = 0; row && k < 8; k++) {
			comma = strchr(row, ',');
			row = comma ? comma + 1 : NULL;
		}
		if (row && strchr(row, '\n'))
			*strchr(row, '\n') = '\0';
		check_str(row, vc->csv, what);
		collect_close(&c);
	}
}

/* ---- reassembly ---- */

static u8 big[10000];

static void feed_big(struct ums_reassembler *a, u32 id, u64 seq, u64 t, bool skip_third)
{
	struct ums_chunk ch = { .sample = {
		.id = id, .pid = 9, .addr = 0x5000, .seq = seq, .late_ns = 1, .vtype = UMS_VT_HEX,
		.flags = UMS_F_CHANGED,
	} };
	u32 off;

	for (off = 0; off < sizeof(big); off += UMS_EVENT_CHUNK) {
		if (skip_third && off == 2 * UMS_EVENT_CHUNK)
			continue;
		ch.sample.time_ns = t + off;
		ch.offset = off;
		ch.sample.data = big + off;
		ch.sample.len = sizeof(big) - off < UMS_EVENT_CHUNK ? sizeof(big) - off :
				UMS_EVENT_CHUNK;
		if (ums_reassembler_chunk(a, &ch))
			exit(2);
	}
}

static char *hexof(const u8 *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	if (!s)
		exit(2);
	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	return s;
}

static void test_reassembly(void)
{
	struct ums_region_meta m = { .id = 3, .length = sizeof(big), .vtype = UMS_VT_HEX,
				     .op = UMS_REG_ADD };
	char *hex, *want;
	struct collect c;
	struct ums_reassembler *a;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (u8)(i % 251);
	hex = hexof(big, sizeof(big));
	want = malloc(strlen(hex) + 256);
	if (!want)
		exit(2);

	/* named region, complete: emitted as soon as the last chunk arrives */
	strcpy(m.name, "big");
	collect_open(&c);
	a = ums_reassembler_new(collect_fn, &c);
	check(a && !ums_reassembler_region(a, &m), "region event learned");
	feed_big(a, 3, 1, 100, false);
	fflush(c.f);
	check(c.n == 1, "10000-byte sample complete after its 4th chunk");
	sprintf(want, "100,3,big,9,0x5000,1,1,changed,%s\n", hex);
	check(c.buf && !strcmp(c.buf, want), "10000-byte sample reassembled exactly");
	check(ums_reassembler_lookup(a, 3) && !strcmp(ums_reassembler_lookup(a, 3)->name, "big"),
	      "lookup");

	/* lost chunk: emitted at seq change, missing bytes zero, partial */
	feed_big(a, 3, 2, 200000, true);
	fflush(c.f);
	check(c.n == 1, "incomplete sample pending");
	feed_big(a, 3, 3, 300000, false);
	fflush(c.f);
	check(c.n == 3, "incomplete sample emitted when seq changes, then the next one");
	memset(big + 2 * UMS_EVENT_CHUNK, 0, UMS_EVENT_CHUNK);
	free(hex);
	hex = hexof(big, sizeof(big));
	sprintf(want, "200000,3,big,9,0x5000,2,1,partial|changed,%s\n", hex);
	check(c.buf && strstr(c.buf, want), "lost chunk: zeroes and flag partial");
	ums_reassembler_free(a);
	collect_close(&c);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (u8)(i % 251);
	free(hex);
	hex = hexof(big, sizeof(big));

	/* unnamed: complete on the short last chunk; name empty */
	collect_open(&c);
	a = ums_reassembler_new(collect_fn, &c);
	feed_big(a, 5, 1, 100, false);
	fflush(c.f);
	sprintf(want, "100,5,,9,0x5000,1,1,changed,%s\n", hex);
	check(c.n == 1 && c.buf && !strcmp(c.buf, want), "unnamed long sample complete");
	ums_reassembler_free(a);
	collect_close(&c);

	/* unnamed 3072 * 2 bytes: pending until seq change / end; end order by first time */
	collect_open(&c);
	a = ums_reassembler_new(collect_fn, &c);
	{
		struct ums_chunk ch = { .sample = { .id = 8, .seq = 1, .vtype = UMS_VT_HEX,
						    .data = big, .len = UMS_EVENT_CHUNK,
						    .time_ns = 50 } };
		struct ums_chunk s2 = { .sample = { .id = 2, .seq = 4, .vtype = UMS_VT_U8,
						    .data = big, .len = UMS_EVENT_CHUNK,
						    .time_ns = 60 } };

		check(!ums_reassembler_chunk(a, &ch), "chunk 1 of 6144");
		ch.offset = UMS_EVENT_CHUNK;
		ch.sample.time_ns = 70;
		check(!ums_reassembler_chunk(a, &ch), "chunk 2 of 6144");
		check(!ums_reassembler_chunk(a, &s2), "full-size chunk of another id");
		fflush(c.f);
		check(c.n == 0, "full-size last chunks stay pending");
		check(!ums_reassembler_finish(a), "finish");
		fflush(c.f);
		check(c.n == 2 && c.buf && !strncmp(c.buf, "50,8,", 5) &&
		      strstr(c.buf, "\n60,2,"), "end of stream: pending emitted in time order");
	}
	ums_reassembler_free(a);
	collect_close(&c);
	free(hex);
	free(want);
}

/* ---- plugin name table, flags, CSV quoting ---- */

static void test_misc(void)
{
	char fl[32], q[64];

	check_str(ums_flags_names(fl, sizeof(fl), 0, false), "", "flags none");
	check_str(ums_flags_names(fl, sizeof(fl), 7, false), "partial|changed|truncated",
		  "flags all");
	check_str(ums_flags_names(fl, sizeof(fl), 2, false), "changed", "flags changed");
	check_str(ums_csv_quote(q, UMS_VT_STR, "a\\\"b"), "\"a\\\"\"b\"", "csv quote str");
	check_str(ums_csv_quote(q, UMS_VT_F64, "1e+16"), "1e+16", "csv no quote f64");
	plugin_learn(12, "counter", 32, UMS_VT_U32, 4);
	plugin_forget_all();
	check(true, "plugin table learn/forget");
}

/*
 * The plugin's handlers through libtraceevent: a sample event with the current fields is
 * rendered by the plugin; one whose format lacks a field (another module version) makes the
 * handler return -1, and libtraceevent prints it with the kernel's own format instead.
 */
static void plugin_print(const char *format, const u8 *data, int size, const char *want,
			 const char *what)
{
	struct tep_handle *tep = tep_alloc();
	struct tep_record rec = { .data = (void *)data, .size = size };
	struct trace_seq s;

	if (!tep || tep_parse_event(tep, format, strlen(format), "umsampler") ||
	    TEP_PLUGIN_LOADER(tep)) {
		check(false, what);
		tep_free(tep);
		return;
	}
	trace_seq_init(&s);
	tep_print_event(tep, &s, &rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&s);
	check_str(s.buffer, want, what);
	trace_seq_destroy(&s);
	TEP_PLUGIN_UNLOADER(tep);
	tep_free(tep);
}

#define FMT_HEAD "name: sample\nID: 777\nformat:\n" \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n" \
	"\tfield:u32 id;\toffset:8;\tsize:4;\tsigned:0;\n" \
	"\tfield:s32 pid;\toffset:12;\tsize:4;\tsigned:1;\n" \
	"\tfield:u64 seq;\toffset:16;\tsize:8;\tsigned:0;\n"

/* A batch of two entries (u32 id 5 named by a region event, str id 6 not) rendered. */
static void test_plugin_batch(void)
{
	static const char fmt[] = "name: batch\nID: 778\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
		"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		"\tfield:u64 addr;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:s32 pid;\toffset:16;\tsize:4;\tsigned:1;\n"
		"\tfield:u32 count;\toffset:20;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u8[] data;\toffset:24;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u32[] id;\toffset:28;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u64[] seq;\toffset:32;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u64[] late_ns;\toffset:36;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u32[] offset;\toffset:40;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u16[] start;\toffset:44;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u16[] size;\toffset:48;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u8[] vtype;\toffset:52;\tsize:4;\tsigned:0;\n"
		"\tfield:__data_loc u8[] flags;\toffset:56;\tsize:4;\tsigned:0;\n\n"
		"print fmt: \"kernel pid=%d\", REC->pid\n";
	/* data: u32 42 at 0, 4 zero bytes (gap), "hi\0" at 8 */
	static const u8 bytes[11] = { 42, 0, 0, 0, 0, 0, 0, 0, 'h', 'i', 0 };
	const u32 ids[2] = { 5, 6 }, offs[2] = { 0, 0 };
	const u64 seqs[2] = { 9, 1 }, lates[2] = { 3, 4 };
	const u16 starts[2] = { 0, 8 }, sizes[2] = { 4, 3 };
	const u8 vts[2] = { UMS_VT_U32, UMS_VT_STR }, fls[2] = { 0, UMS_F_CHANGED };
	const void *src[UMS_BA_NR] = { bytes, ids, seqs, lates, offs, starts, sizes, vts, fls };
	const size_t len[UMS_BA_NR] = { 11, 8, 16, 16, 8, 4, 4, 2, 2 };
	u8 d[256] = { 0 };
	u16 type = 778;
	u32 pos = 60, count = 2, loc;
	u64 addr = 0x7f0000;
	s32 pid = 1234;

	memcpy(d, &type, 2);
	memcpy(d + 8, &addr, 8);
	memcpy(d + 16, &pid, 4);
	memcpy(d + 20, &count, 4);
	for (int a = 0; a < UMS_BA_NR; a++) {
		loc = pos | (u32)len[a] << 16;
		memcpy(d + 24 + 4 * a, &loc, 4);
		memcpy(d + pos, src[a], len[a]);
		pos += len[a];
	}
	plugin_learn(5, "counter", 8, UMS_VT_U32, 4);
	plugin_print(fmt, d, (int)pos, "pid=1234 addr=0x7f0000 count=2\n"
		     "  name=counter seq=9 value=42 late_ns=3\n"
		     "  id=6 seq=1 value=\"hi\" flags=changed late_ns=4",
		     "plugin renders a batch, one line per entry");
	plugin_forget_all();
}

static void test_plugin_handlers(void)
{
	static const char full[] = FMT_HEAD
		"\tfield:u64 late_ns;\toffset:24;\tsize:8;\tsigned:0;\n"
		"\tfield:u32 offset;\toffset:32;\tsize:4;\tsigned:0;\n"
		"\tfield:u8 vtype;\toffset:36;\tsize:1;\tsigned:0;\n"
		"\tfield:u8 flags;\toffset:37;\tsize:1;\tsigned:0;\n"
		"\tfield:__data_loc u8[] data;\toffset:38;\tsize:4;\tsigned:0;\n\n"
		"print fmt: \"kernel id=%u seq=%llu\", REC->id, REC->seq\n";
	static const char old[] = FMT_HEAD "\n"
		"print fmt: \"kernel id=%u seq=%llu\", REC->id, REC->seq\n";
	u8 d[48] = { 0 };
	u16 type = 777;
	u32 v32 = 5, loc = (4u << 16) | 42;
	u64 seq = 9, late = 3;
	s32 pid = 1234;

	memcpy(d, &type, 2);
	memcpy(d + 8, &v32, 4);
	memcpy(d + 12, &pid, 4);
	memcpy(d + 16, &seq, 8);
	memcpy(d + 24, &late, 8);
	d[36] = UMS_VT_U32;
	memcpy(d + 38, &loc, 4);
	v32 = 42;
	memcpy(d + 42, &v32, 4);
	plugin_print(full, d, 46, "id=5 pid=1234 seq=9 value=42 late_ns=3",
		     "plugin renders a sample");
	plugin_print(old, d, 24, "kernel id=5 seq=9",
		     "plugin: a missing field falls back to the kernel's format");
	test_plugin_batch();
}

/* ---- helper modes ---- */

static u64 rnd_state;

static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void floats(long n, unsigned long seed)
{
	static const u64 sp64[] = { 0, 1ULL << 63, 0x7ff0000000000000ULL, 0xfff0000000000000ULL,
		0x7ff8000000000000ULL, 1, 0x000fffffffffffffULL, 0x0010000000000000ULL,
		0x7fefffffffffffffULL, 0x3ff0000000000000ULL, 0x4340000000000000ULL,
		0x3f1a36e2eb1c432dULL, 0x3eb0c6f7a0b5ed8dULL, 0x4415af1d78b58c40ULL };
	static const u32 sp32[] = { 0, 1U << 31, 0x7f800000, 0xff800000, 0x7fc00000, 1, 0x007fffff,
		0x00800000, 0x7f7fffff, 0x3f800000, 0x4b800000, 0x3dcccccd, 0x38d1b717,
		0x4e6e6b28, 0x4cbebc20, 0x4d000000, 0x358637bd };
	char buf[64];
	u64 b64;
	u32 b32;
	long i;

	rnd_state = seed * 2654435761ULL + 88172645463325252ULL;
	for (i = 0; i < (long)(sizeof(sp64) / sizeof(sp64[0])) + n; i++) {
		b64 = i < (long)(sizeof(sp64) / sizeof(sp64[0])) ? sp64[i] : rnd();
		if (i % 3 == 1)
			b64 = (b64 & 0x800fffffffffffffULL) | ((u64)(1023 + rnd() % 80 - 40) << 52);
		ums_render_f64(buf, sizeof(buf), b64);
		printf("f64 %" PRIu64 " %s\n", b64, buf);
	}
	for (i = 0; i < (long)(sizeof(sp32) / sizeof(sp32[0])) + n; i++) {
		b32 = i < (long)(sizeof(sp32) / sizeof(sp32[0])) ? sp32[i] : (u32)rnd();
		if (i % 3 == 1)
			b32 = (b32 & 0x807fffffU) | ((u32)(127 + rnd() % 40 - 20) << 23);
		if (i % 7 == 3)
			b32 &= 0xff800000U;	/* powers of two: asymmetric interval */
		ums_render_f32(buf, sizeof(buf), b32);
		printf("f32 %" PRIu32 " %s\n", b32, buf);
	}
}

/*
 * A batch line "B TIME PID ADDR HEXDATA|- ENTRY..." (ENTRY: ID,SEQ,LATE,OFFSET,START,SIZE,
 * VTYPE,FLAGS) fed as the chunks of its entries, through the arrays a record holds.
 */
static int stream_batch(struct ums_reassembler *a, const char *line)
{
	static u8 data[65536], arrs[UMS_BA_NR][UMS_BATCH_MAX_ENTS * 8 * 4];
	unsigned long long e[8];
	struct ums_batch_view b;
	struct ums_chunk ch;
	char hex[2 * sizeof(data) + 1];
	u64 t, addr;
	int pos = 0, ret;
	size_t n, i;
	u32 k;

	memset(&b, 0, sizeof(b));
	if (sscanf(line, "B %" SCNu64 " %" SCNd32 " %" SCNx64 " %131072s %n", &t, &b.pid, &addr,
		   hex, &pos) != 4)
		return 2;
	b.addr = addr;
	n = strcmp(hex, "-") ? strlen(hex) / 2 : 0;
	for (i = 0; i < n; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &data[i]) != 1)
			return 2;
	line += pos;
	while (sscanf(line, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu %n", &e[0], &e[1], &e[2],
		      &e[3], &e[4], &e[5], &e[6], &e[7], &pos) == 8) {
		static const int order[8] = { UMS_BA_ID, UMS_BA_SEQ, UMS_BA_LATE, UMS_BA_OFFSET,
					      UMS_BA_START, UMS_BA_SIZE, UMS_BA_VTYPE,
					      UMS_BA_FLAGS };

		for (k = 0; k < 8; k++) {
			int ar = order[k];
			size_t sz = ums_batch_array_sizes[ar];

			memcpy(arrs[ar] + b.count * sz, &e[k], sz);	/* little-endian host */
			b.alen[ar] += sz;
		}
		b.count++;
		line += pos;
	}
	b.arr[UMS_BA_DATA] = data;
	b.alen[UMS_BA_DATA] = n;
	for (k = UMS_BA_ID; k < UMS_BA_NR; k++)
		b.arr[k] = arrs[k];
	if (!ums_batch_valid(&b))
		return 2;
	for (k = 0; k < b.count; k++) {
		if (ums_batch_chunk(&b, k, t, &ch))
			return 2;
		ret = ums_reassembler_chunk(a, &ch);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Canned stream, one event per line:
 *   R ID OP LENGTH VTYPE NAME
 *   S TIME ID PID ADDR SEQ LATE OFFSET VTYPE FLAGS HEXDATA|-
 *   B TIME PID ADDR HEXDATA|- ENTRY...		(see stream_batch())
 */
static int stream(const char *path)
{
	char line[70000], name[64], hex[65600];
	struct ums_reassembler *a;
	struct collect c;
	FILE *f = fopen(path, "r");
	u8 *data;
	int ret = 0;

	if (!f) {
		perror(path);
		return 2;
	}
	data = malloc(sizeof(hex) / 2);
	if (!data)
		return 2;
	c.f = stdout;
	a = ums_reassembler_new(collect_fn, &c);
	if (!a)
		return 2;
	printf("%s\n", UMS_CSV_HEADER);
	/* pre-pass over the region events, as ums_decode_file() does for a trace.dat */
	while (!ret && fgets(line, sizeof(line), f)) {
		struct ums_region_meta m;
		unsigned int op, vt;
		unsigned long long len;

		memset(&m, 0, sizeof(m));
		if (sscanf(line, "R %" SCNu32 " %u %llu %u %31s", &m.id, &op, &len, &vt, name) != 5)
			continue;
		m.op = (u8)op;
		m.length = len;
		m.vtype = (u8)vt;
		memcpy(m.name, name, sizeof(m.name) - 1);
		ret = ums_reassembler_region_hint(a, &m);
	}
	rewind(f);
	while (!ret && fgets(line, sizeof(line), f)) {
		struct ums_region_meta m;
		struct ums_chunk ch;
		unsigned int op, vt, fl;
		unsigned long long len;
		size_t i, n;

		memset(&m, 0, sizeof(m));
		memset(&ch, 0, sizeof(ch));
		if (sscanf(line, "R %" SCNu32 " %u %llu %u %31s", &m.id, &op, &len, &vt,
			   name) == 5) {
			m.op = (u8)op;
			m.length = len;
			m.vtype = (u8)vt;
			memcpy(m.name, name, sizeof(m.name) - 1);
			ret = ums_reassembler_region(a, &m);
		} else if (sscanf(line, "S %" SCNu64 " %" SCNu32 " %" SCNd32 " %" SCNx64 " %" SCNu64
				  " %" SCNu64 " %" SCNu32 " %u %u %65599s", &ch.sample.time_ns,
				  &ch.sample.id, &ch.sample.pid, &ch.sample.addr, &ch.sample.seq,
				  &ch.sample.late_ns, &ch.offset, &vt, &fl,
				  hex) == 10) {
			n = strcmp(hex, "-") ? strlen(hex) / 2 : 0;
			for (i = 0; i < n; i++)
				if (sscanf(hex + 2 * i, "%2hhx", &data[i]) != 1)
					return 2;
			ch.sample.vtype = (u8)vt;
			ch.sample.flags = (u8)fl;
			ch.sample.data = data;
			ch.sample.len = n;
			ret = ums_reassembler_chunk(a, &ch);
		} else if (line[0] == 'B') {
			ret = stream_batch(a, line);
		}
	}
	if (!ret)
		ret = ums_reassembler_finish(a);
	ums_reassembler_free(a);
	free(data);
	fclose(f);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "floats")) {
		floats(atol(argv[2]), strtoul(argv[3], NULL, 0));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "stream"))
		return stream(argv[2]);
	test_values();
	test_reassembly();
	test_misc();
	test_plugin_handlers();
	return failures ? 1 : 0;
}
