/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decode.h - reading umsampler recordings (trace-cmd trace.dat, perf.data).
 *
 * Owns: the sample stream handed to `umsampler csv` and `umsampler plot` (struct ums_sample),
 * the chunk reassembler (struct ums_reassembler: chunks of regions longer than
 * UMS_EVENT_CHUNK joined by (id, seq) in offset order), the region table learned from
 * umsampler:region events, the CSV row format, and the few text helpers that the
 * libtraceevent plugin shares with the CSV writer (static inline here, because the plugin is
 * built from plugin_umsampler.c and common/render.c only).
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
 * One umsampler:sample event: a whole sample or the chunk of it at offset (sample: the event's
 * fields and its bytes; name and value unused).
 */
struct ums_chunk {
	struct ums_sample sample;
	u32 offset;
};

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
