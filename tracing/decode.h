/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decode.h - reading umsampler recordings (trace-cmd trace.dat, perf.data).
 *
 * Owns: the sample stream handed to `umsampler csv` and `umsampler plot` (struct ums_sample),
 * the chunk reassembler (struct ums_reassembler: chunks of regions longer than
 * UMS_EVENT_CHUNK joined by (id, seq) in offset order), the view of a umsampler:batch event
 * as the chunks it carries (struct ums_batch_view), the region table learned from
 * umsampler:region events, the CSV row format, and the few text helpers that the
 * libtraceevent plugin shares with the CSV writer (static inline here, because the plugin is
 * built from plugin_umsampler.c and common/render.c only).
 *
 * A recording holding umsampler:batch events is decoded from them alone: its umsampler:sample
 * events are the same samples again (both events were enabled) and are ignored.
 *
 * CSV (identical from trace.dat and, through tracing/umsampler-perf.py, from perf.data):
 *   time_ns,id,name,pid,addr,seq,late_ns,flags,value
 * time_ns: trace timestamp of the sample's first chunk; name: "" when no region event named
 * the id; addr: 0x hex; flags: "partial|changed|truncated" subset, "" if none; value: the
 * renderer's text (common/render.c), str values always in double quotes with '"' doubled.
 */
#ifndef _UMS_DECODE_H
#define _UMS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "pure.h"

#define UMS_CSV_HEADER		"time_ns,id,name,pid,addr,seq,late_ns,flags,value"

/* One umsampler:region event, or what is known of a region id. */
struct ums_region_meta {
	u32 id;
	s32 pid;
	u64 addr;
	u64 length;
	u32 period_us;
	u8 vtype;
	u8 mode;
	u8 op;
	u8 reason;
	char name[32];
};

/* A complete sample as handed to consumers. */
struct ums_sample {
	u64 time_ns;
	u32 id;
	s32 pid;
	u64 addr;
	u64 seq;
	u64 late_ns;
	u8 vtype;		/* 0xff: unknown (never from the decoders here) */
	u8 flags;
	const char *name;	/* "" if unknown */
	const u8 *data;		/* the exact bytes; NULL when decoded from perf's CSV */
	size_t len;
	const char *value;	/* ums_render_value() text, unquoted */
};

/*
 * One umsampler:sample event, or one entry of a umsampler:batch event: a whole sample or the
 * chunk of it at offset (sample: the event's fields and its bytes; name and value unused).
 */
struct ums_chunk {
	struct ums_sample sample;
	u32 offset;
};

/*
 * One umsampler:batch event (layout: common/umsampler_abi.h): its scalars and the raw bytes
 * of its arrays, in the order of enum ums_batch_array, each alen[] bytes long.
 */
enum ums_batch_array { UMS_BA_DATA, UMS_BA_ID, UMS_BA_SEQ, UMS_BA_LATE, UMS_BA_OFFSET,
		       UMS_BA_START, UMS_BA_SIZE, UMS_BA_VTYPE, UMS_BA_FLAGS, UMS_BA_NR };

struct ums_batch_view {
	s32 pid;
	u32 count;
	u64 addr;
	const void *arr[UMS_BA_NR];
	size_t alen[UMS_BA_NR];
};

/* The batch event's array fields and their element sizes, in enum ums_batch_array order. */
static const char *const ums_batch_array_names[UMS_BA_NR] = {
	"data", "id", "seq", "late_ns", "offset", "start", "size", "vtype", "flags",
};
static const unsigned char ums_batch_array_sizes[UMS_BA_NR] = { 1, 4, 8, 8, 4, 2, 2, 1, 1 };

/* Element i of array a (native byte order, like the data bytes). */
static inline u64 ums_batch_get(const struct ums_batch_view *b, enum ums_batch_array a, u32 i)
{
	const unsigned char *p = (const unsigned char *)b->arr[a] + (size_t)i *
				 ums_batch_array_sizes[a];
	u64 v64;
	u32 v32;
	u16 v16;

	switch (ums_batch_array_sizes[a]) {
	case 8:
		memcpy(&v64, p, 8);
		return v64;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	default:
		return *p;
	}
}

/* Does every array hold count entries? */
static inline bool ums_batch_valid(const struct ums_batch_view *b)
{
	for (int a = UMS_BA_ID; a < UMS_BA_NR; a++)
		if (!b->arr[a] || b->alen[a] < (size_t)b->count * ums_batch_array_sizes[a])
			return false;
	return b->arr[UMS_BA_DATA] != NULL;
}

/*
 * Entry i of a valid batch as the sample chunk it stands for (time_ns from the event); the
 * data point into the batch.  Returns 0, or -1 if its bytes lie outside the data.
 */
static inline int ums_batch_chunk(const struct ums_batch_view *b, u32 i, u64 time_ns,
				  struct ums_chunk *c)
{
	u64 start = ums_batch_get(b, UMS_BA_START, i), size = ums_batch_get(b, UMS_BA_SIZE, i);

	if (start + size > b->alen[UMS_BA_DATA])
		return -1;
	memset(c, 0, sizeof(*c));
	c->offset = (u32)ums_batch_get(b, UMS_BA_OFFSET, i);
	c->sample.time_ns = time_ns;
	c->sample.id = (u32)ums_batch_get(b, UMS_BA_ID, i);
	c->sample.pid = b->pid;
	c->sample.addr = b->addr + start - c->offset;
	c->sample.seq = ums_batch_get(b, UMS_BA_SEQ, i);
	c->sample.late_ns = ums_batch_get(b, UMS_BA_LATE, i);
	c->sample.vtype = (u8)ums_batch_get(b, UMS_BA_VTYPE, i);
	c->sample.flags = (u8)ums_batch_get(b, UMS_BA_FLAGS, i);
	c->sample.data = (const u8 *)b->arr[UMS_BA_DATA] + start;
	c->sample.len = (size_t)size;
	return 0;
}

/* Returns 0 to go on, anything else stops decoding and is returned by the decoder. */
typedef int (*ums_sample_fn)(const struct ums_sample *s, void *arg);

/* ---- reassembly ---- */

struct ums_reassembler;

struct ums_reassembler *ums_reassembler_new(ums_sample_fn fn, void *arg);
/* Learn a region event (add/sync name a region; del/gone keep the name for later chunks). */
int ums_reassembler_region(struct ums_reassembler *r, const struct ums_region_meta *m);
/*
 * Pre-pass: learn a region event only if nothing (or only a del/gone) is known of the id yet,
 * so that the first add/sync of each id names it from the start of the stream.
 */
int ums_reassembler_region_hint(struct ums_reassembler *r, const struct ums_region_meta *m);
/* Feed one sample event; complete samples are passed to fn (maybe several, older first). */
int ums_reassembler_chunk(struct ums_reassembler *r, const struct ums_chunk *c);
/* End of stream: emit every pending (incomplete) sample in first-chunk time order. */
int ums_reassembler_finish(struct ums_reassembler *r);
void ums_reassembler_free(struct ums_reassembler *r);
/* Region metadata known for id, or NULL. */
const struct ums_region_meta *ums_reassembler_lookup(const struct ums_reassembler *r, u32 id);

/* ---- files ---- */

enum ums_file_kind { UMS_FILE_ERROR = -1, UMS_FILE_UNKNOWN, UMS_FILE_TRACECMD, UMS_FILE_PERF };

/* By magic bytes; UMS_FILE_ERROR (errno set) if it cannot be read. */
enum ums_file_kind ums_file_kind(const char *path);

/*
 * Decode a trace.dat or perf.data file into complete samples, in stream order.  Returns 0,
 * fn's non-zero return, or -1 with a message on stderr.
 */
int ums_decode_file(const char *path, ums_sample_fn fn, void *arg);

/*
 * perf.data: run `perf script -i path -s umsampler-perf.py` and copy its CSV to out unchanged.
 * Returns 0 or -1 (message on stderr).
 */
int ums_perf_csv(const char *path, FILE *out);

/* Path of umsampler-perf.py: $UMSAMPLER_PERF_SCRIPT, else next to the binary (installed
 * PREFIX/share/umsampler/ or the source tree's tracing/); NULL if not found. */
const char *ums_perf_script(void);

/* ---- CSV ---- */

/* Write one CSV row (with '\n').  Returns 0 or -1 (errno from stdio). */
int ums_csv_row(FILE *f, const struct ums_sample *s);

/* Size of a buffer that holds the rendering of any value of len bytes (with NUL). */
static inline size_t ums_value_bufsize(size_t len)
{
	return 4 * len + 64;
}

/* Numeric (plottable) value type: the integers and floats. */
static inline bool ums_vt_numeric(unsigned int vtype)
{
	return vtype != UMS_VT_HEX && vtype != UMS_VT_STR && vtype < UMS_VT_NR;
}

/*
 * The CSV form of a rendered value: str values in double quotes with every '"' doubled
 * (RFC 4180), everything else as is (numbers, "?", hex digits never need quoting).
 * out must hold 2 * strlen(val) + 3 bytes.  Returns out.
 */
static inline char *ums_csv_quote(char *out, unsigned int vtype, const char *val)
{
	char *p = out;

	if (vtype != UMS_VT_STR) {
		strcpy(out, val);
		return out;
	}
	*p++ = '"';
	for (; *val; val++) {
		if (*val == '"')
			*p++ = '"';
		*p++ = *val;
	}
	*p++ = '"';
	*p = '\0';
	return out;
}

#endif /* _UMS_DECODE_H */
