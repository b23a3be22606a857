/* SPDX-License-Identifier: GPL-2.0 */
/*
 * umsampler_abi.h - every fact that crosses the kernel/user boundary, once.
 *
 * Owns: the value types (enum, grammar name, size), the sample flags (bit,
 * name), the umsampler:region ops and gone reasons, the emission modes, the
 * sample paths and mirror states, the event chunk size, the umsampler:batch
 * budget and the control language's limits. The module, the CLI, the
 * libtraceevent plugin and the host tests include this header; the perf
 * script (tracing/umsampler-perf.py), the tracepoint header's symbol lists and
 * the guest tests' Ums.pm restate a few of these facts and are checked against
 * this file by tests/host/abi.t.
 *
 * Each list is an X-macro, X(SUFFIX, name, ...), so that an enum and its name
 * table are made from the same line. Pure: no includes (see pure.h).
 */
#ifndef _UMSAMPLER_ABI_H
#define _UMSAMPLER_ABI_H

/* Value types: X(SUFFIX, name, size in bytes; 0: any length (hex, str)). */
#define UMS_VTYPES(X)							\
	X(HEX, hex, 0) X(U8, u8, 1) X(U16, u16, 2) X(U32, u32, 4)	\
	X(U64, u64, 8) X(S8, s8, 1) X(S16, s16, 2) X(S32, s32, 4)	\
	X(S64, s64, 8) X(F32, f32, 4) X(F64, f64, 8) X(STR, str, 0)

#define UMS_VT_ENUM_(sfx, name, size)	UMS_VT_##sfx,
enum ums_vtype { UMS_VTYPES(UMS_VT_ENUM_) UMS_VT_NR };

/* Sample flags (umsampler:sample `flags`, snapshot, CSV): X(SUFFIX, name, bit). */
#define UMS_FLAGS(X)							\
	X(PARTIAL, partial, 0x1)	/* some bytes not read (zeroed) */	\
	X(CHANGED, changed, 0x2)	/* differs from the previous sample */ \
	X(TRUNCATED, truncated, 0x4)	/* str: no NUL within len */	\
	X(UNRESOLVED, unresolved, 0x8)	/* deref: a NULL or unreadable pointer */ \
	X(TORN, torn, 0x10)		/* seq: no stable copy within the retries */

#define UMS_F_ENUM_(sfx, name, bit)	UMS_F_##sfx = bit,
enum ums_flag { UMS_FLAGS(UMS_F_ENUM_) };
#define UMS_F_COUNT_(sfx, name, bit)	+ 1
/* Number of defined flags. */
#define UMS_F_NR			(0 UMS_FLAGS(UMS_F_COUNT_))

/* umsampler:region `op`: X(SUFFIX, name). */
#define UMS_REGION_OPS(X)	X(ADD, add) X(DEL, del) X(GONE, gone) X(SYNC, sync)

#define UMS_REG_ENUM_(sfx, name)	UMS_REG_##sfx,
enum ums_region_op { UMS_REGION_OPS(UMS_REG_ENUM_) UMS_REG_NR };

/*
 * umsampler:region `reason` (op=gone; none otherwise): X(SUFFIX, name). cred:
 * the target's credentials changed after the add; nondumpable: it became
 * non-dumpable. Both withdraw the consent the add's access check found.
 */
#define UMS_GONE_REASONS(X)						\
	X(NONE, none) X(EXIT, exit) X(EXEC, exec) X(UNMAPPED, unmapped)	\
	X(CRED, cred) X(NONDUMPABLE, nondumpable)

#define UMS_WHY_ENUM_(sfx, name)	UMS_WHY_##sfx,
enum ums_gone_why { UMS_GONE_REASONS(UMS_WHY_ENUM_) UMS_WHY_NR };

/* When samples become umsampler:sample events (`mode=`): X(SUFFIX, name). */
#define UMS_MODES(X)		X(ALWAYS, always) X(CHANGE, change) X(NONE, none)

#define UMS_MODE_ENUM_(sfx, name)	UMS_MODE_##sfx,
enum ums_mode { UMS_MODES(UMS_MODE_ENUM_) UMS_MODE_NR };

/*
 * Which path took a region's latest sample (`regions` PATH, snapshot `path=`):
 * X(SUFFIX, name). none: not sampled yet; thread: the sampler thread read the
 * target's page frames; mirror: the mirror's hrtimer copied them in hard irq.
 */
#define UMS_PATHS(X)		X(NONE, none) X(THREAD, thread) X(MIRROR, mirror)

#define UMS_PATH_ENUM_(sfx, name)	UMS_PATH_##sfx,
enum ums_path { UMS_PATHS(UMS_PATH_ENUM_) UMS_PATH_NR };

/*
 * State of a region's mirror (`regions` MIRROR, snapshot `mirror=`): X(SUFFIX,
 * name). off: no `mirror` key; on: the hrtimer samples it; stale: asked for,
 * but the thread samples it until the mirror is (re)built (an invalidation,
 * a page not present, sampling paused).
 */
#define UMS_MIRROR_STATES(X)	X(OFF, off) X(ON, on) X(STALE, stale)

#define UMS_MIRROR_ENUM_(sfx, name)	UMS_MIRROR_##sfx,
enum ums_mirror_state { UMS_MIRROR_STATES(UMS_MIRROR_ENUM_) UMS_MIRROR_NR };

/*
 * Largest `data` payload of one umsampler:sample event; longer regions are
 * chunked. Binary events could carry ~3 KiB, but the text rendering (3
 * characters per byte via __print_hex) must fit the kernel's trace_seq
 * (PAGE_SIZE on 6.1), or /sys/kernel/tracing/trace shows "[LINE TOO BIG]".
 */
#define UMS_EVENT_CHUNK		1024

/*
 * umsampler:batch: the samples of the regions one copy read (a span of the sampler
 * thread, see module/sampler.c) in one event. `data` holds the target's bytes from `addr`
 * on: those of the batch's regions; every other byte (gaps between regions, regions that
 * emit nothing this time) is zero. Entry i of the arrays id, seq, late_ns, offset, start,
 * size, vtype, flags is what one umsampler:sample event would carry: size bytes at
 * data[start] are the region's bytes from `offset` on. A region longer than
 * UMS_EVENT_CHUNK is emitted in pieces of that size, one event each (offset > 0 but for
 * the first), like sample chunks. The kernel's text rendering (3 characters per data
 * byte, at most UMS_BATCH_ENT_TEXT per entry) must fit the trace_seq page like a
 * sample's: a batch holds D data bytes and N entries with
 * 3 * D + UMS_BATCH_ENT_TEXT * N <= UMS_BATCH_TEXT; a span that does not fit is split
 * into several batches.
 */
#define UMS_BATCH_TEXT		3584
#define UMS_BATCH_ENT_TEXT	84
/* Most entries (of one byte each) and data bytes one batch can hold. */
#define UMS_BATCH_MAX_ENTS	(UMS_BATCH_TEXT / UMS_BATCH_ENT_TEXT)
#define UMS_BATCH_MAX_DATA	(UMS_BATCH_TEXT / 3)

/* Control language limits. */
#define UMS_NAME_LEN		32		/* name buffer: up to 31 characters + NUL */
#define UMS_LINE_MAX		512		/* longest line in bytes (without its '\n') */
#define UMS_PERIOD_MIN_US	100
#define UMS_PERIOD_MAX_US	3600000000U	/* 1 h */
#define UMS_DEREF_MAX		8		/* `deref=` offsets (pointer hops) */

/*
 * `seq=`: a u32 sequence counter in the target (even: stable; odd: a writer
 * is inside; the writer bumps it before and after each update). A sample is
 * copied up to UMS_SEQ_TRIES times until the counter read before and after
 * the copy is the same even value; otherwise it is published flagged torn.
 */
#define UMS_SEQ_TRIES		4

#endif /* _UMSAMPLER_ABI_H */
