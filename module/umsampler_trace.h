/* SPDX-License-Identifier: GPL-2.0 */
/*
 * umsampler_trace.h - the tracepoints of system `umsampler`:
 *
 *   umsampler:sample  one sample (or one <= 3 KiB chunk of it) of a region
 *   umsampler:region  region lifecycle: add, del, gone (with reason), sync
 *   umsampler:batch   the samples of regions read by one copy (a span), in one
 *                     event: the bytes plus, per region, what a sample carries
 *
 * Each is emitted only while enabled: with both sample and batch enabled,
 * every sample is emitted twice (see README, Tracepoints).
 *
 * Field names avoid Python builtins (len, type, ...) so perf's Python
 * scripting can use them as attributes. `value` is a plain s64 so ftrace
 * filters and hist triggers work on it ('value > 100', 'hist:keys=id:vals=value').
 * The TP_printk formats use only what libtraceevent 1.7 parses.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM umsampler

#if !defined(_UMSAMPLER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _UMSAMPLER_TRACE_H

#include <linux/tracepoint.h>

#include "compat.h"
#include "umsampler.h"

/*
 * Make the enum values numeric in the format files, for libtraceevent: one
 * TRACE_DEFINE_ENUM per entry of the ABI lists (common/umsampler_abi.h), the
 * flag bits included (an enum, not a macro: without it the format file says
 * UMS_F_PARTIAL and readers print the raw number). The __print_symbolic()
 * and __print_flags() lists below stay written out (what libtraceevent parses
 * in the format file is their text); tests/host/abi.t checks them against the
 * ABI lists.
 */
#define UMS_TDE_VT_(sfx, name, size)	TRACE_DEFINE_ENUM(UMS_VT_##sfx);
#define UMS_TDE_REG_(sfx, name)		TRACE_DEFINE_ENUM(UMS_REG_##sfx);
#define UMS_TDE_MODE_(sfx, name)	TRACE_DEFINE_ENUM(UMS_MODE_##sfx);
#define UMS_TDE_WHY_(sfx, name)		TRACE_DEFINE_ENUM(UMS_WHY_##sfx);
#define UMS_TDE_F_(sfx, name, bit)	TRACE_DEFINE_ENUM(UMS_F_##sfx);
UMS_VTYPES(UMS_TDE_VT_)
UMS_REGION_OPS(UMS_TDE_REG_)
UMS_MODES(UMS_TDE_MODE_)
UMS_GONE_REASONS(UMS_TDE_WHY_)
UMS_FLAGS(UMS_TDE_F_)

#define UMS_SHOW_VTYPE(t)						\
	__print_symbolic(t, { UMS_VT_HEX, "hex" }, { UMS_VT_U8, "u8" },	\
			 { UMS_VT_U16, "u16" }, { UMS_VT_U32, "u32" },	\
			 { UMS_VT_U64, "u64" }, { UMS_VT_S8, "s8" },	\
			 { UMS_VT_S16, "s16" }, { UMS_VT_S32, "s32" },	\
			 { UMS_VT_S64, "s64" }, { UMS_VT_F32, "f32" },	\
			 { UMS_VT_F64, "f64" }, { UMS_VT_STR, "str" })

/* What every event of a region starts with: which region, whose, where. */
#define UMS_TP_REGION_FIELDS						\
		__field(u32, id)					\
		__field(s32, pid)					\
		__field(u64, addr)

#define UMS_TP_REGION_ASSIGN(r)						\
	do {								\
		__entry->id = (r)->id;					\
		__entry->pid = (r)->target->pid_nr;			\
		__entry->addr = (r)->addr;				\
	} while (0)

TRACE_EVENT(sample,

	TP_PROTO(const struct ums_region *r, const struct ums_slot *s, s64 value, u32 offset,
		 const u8 *data, u32 size),

	TP_ARGS(r, s, value, offset, data, size),

	TP_STRUCT__entry(
		UMS_TP_REGION_FIELDS
		__field(u64, seq)
		__field(u64, late_ns)
		__field(s64, value)
		__field(u32, offset)
		__field(u8, vtype)
		__field(u8, flags)
		__dynamic_array(u8, data, size)
	),

	TP_fast_assign(
		UMS_TP_REGION_ASSIGN(r);
		/* where the bytes were read: r->addr, or where a deref chain led */
		__entry->addr = s->addr;
		__entry->seq = s->seq;
		__entry->late_ns = s->late_ns;
		__entry->value = value;
		__entry->offset = offset;
		__entry->vtype = r->vtype;
		__entry->flags = s->flags;
		memcpy(__get_dynamic_array(data), data, size);
	),

	TP_printk("id=%u pid=%d addr=0x%llx seq=%llu late_ns=%llu vtype=%s flags=%s value=%lld offset=%u data=%s",
		  __entry->id, __entry->pid, __entry->addr, __entry->seq, __entry->late_ns,
		  UMS_SHOW_VTYPE(__entry->vtype),
		  __print_flags(__entry->flags, "|", { UMS_F_PARTIAL, "partial" },
				{ UMS_F_CHANGED, "changed" }, { UMS_F_TRUNCATED, "truncated" },
				{ UMS_F_UNRESOLVED, "unresolved" }, { UMS_F_TORN, "torn" }),
		  __entry->value, __entry->offset,
		  __print_hex(__get_dynamic_array(data), __get_dynamic_array_len(data)))
);

/*
 * The per-entry arrays of a batch (struct ums_batch_ev; layout and size budget in
 * common/umsampler_abi.h). The text shows them as {0x..,...} lists in entry
 * order, their length is `count`. addr comes first so that pid, count and the
 * array locations follow it without padding whatever the common header's size
 * (umsampler-perf.py finds them in the raw record).
 */
TRACE_EVENT(batch,

	TP_PROTO(const struct ums_batch_ev *b),

	TP_ARGS(b),

	TP_STRUCT__entry(
		__field(u64, addr)
		__field(s32, pid)
		__field(u32, count)
		__dynamic_array(u8, data, b->size)
		__dynamic_array(u32, id, b->count)
		__dynamic_array(u64, seq, b->count)
		__dynamic_array(u64, late_ns, b->count)
		__dynamic_array(u32, offset, b->count)
		__dynamic_array(u16, start, b->count)
		__dynamic_array(u16, size, b->count)
		__dynamic_array(u8, vtype, b->count)
		__dynamic_array(u8, flags, b->count)
	),

	TP_fast_assign(
		__entry->addr = b->addr;
		__entry->pid = b->pid;
		__entry->count = b->count;
		memcpy(__get_dynamic_array(data), b->data, b->size);
		memcpy(__get_dynamic_array(id), b->id, b->count * sizeof(*b->id));
		memcpy(__get_dynamic_array(seq), b->seq, b->count * sizeof(*b->seq));
		memcpy(__get_dynamic_array(late_ns), b->late_ns, b->count * sizeof(*b->late_ns));
		memcpy(__get_dynamic_array(offset), b->offset, b->count * sizeof(*b->offset));
		memcpy(__get_dynamic_array(start), b->start, b->count * sizeof(*b->start));
		memcpy(__get_dynamic_array(size), b->len, b->count * sizeof(*b->len));
		memcpy(__get_dynamic_array(vtype), b->vtype, b->count);
		memcpy(__get_dynamic_array(flags), b->flags, b->count);
	),

	TP_printk("pid=%d addr=0x%llx count=%u id=%s seq=%s late_ns=%s offset=%s start=%s size=%s vtype=%s flags=%s data=%s",
		  __entry->pid, __entry->addr, __entry->count,
		  __print_array(__get_dynamic_array(id), __entry->count, 4),
		  __print_array(__get_dynamic_array(seq), __entry->count, 8),
		  __print_array(__get_dynamic_array(late_ns), __entry->count, 8),
		  __print_array(__get_dynamic_array(offset), __entry->count, 4),
		  __print_array(__get_dynamic_array(start), __entry->count, 2),
		  __print_array(__get_dynamic_array(size), __entry->count, 2),
		  __print_array(__get_dynamic_array(vtype), __entry->count, 1),
		  __print_array(__get_dynamic_array(flags), __entry->count, 1),
		  __print_hex(__get_dynamic_array(data), __get_dynamic_array_len(data)))
);

TRACE_EVENT(region,

	TP_PROTO(const struct ums_region *r, u8 op, u8 reason),

	TP_ARGS(r, op, reason),

	TP_STRUCT__entry(
		UMS_TP_REGION_FIELDS
		__field(u64, length)
		__field(u32, period_us)
		__field(u8, vtype)
		__field(u8, mode)
		__field(u8, op)
		__field(u8, reason)
		__string(name, r->name)
	),

	TP_fast_assign(
		UMS_TP_REGION_ASSIGN(r);
		__entry->length = r->len;
		__entry->period_us = r->period_us;
		__entry->vtype = r->vtype;
		__entry->mode = r->mode;
		__entry->op = op;
		__entry->reason = reason;
		ums_assign_str(name, r->name);
	),

	TP_printk("op=%s id=%u name=%s pid=%d addr=0x%llx length=%llu period_us=%u vtype=%s mode=%s reason=%s",
		  __print_symbolic(__entry->op, { UMS_REG_ADD, "add" }, { UMS_REG_DEL, "del" },
				   { UMS_REG_GONE, "gone" }, { UMS_REG_SYNC, "sync" }),
		  __entry->id, __get_str(name), __entry->pid, __entry->addr, __entry->length,
		  __entry->period_us, UMS_SHOW_VTYPE(__entry->vtype),
		  __print_symbolic(__entry->mode, { UMS_MODE_ALWAYS, "always" },
				   { UMS_MODE_CHANGE, "change" }, { UMS_MODE_NONE, "none" }),
		  __print_symbolic(__entry->reason, { UMS_WHY_NONE, "none" },
				   { UMS_WHY_EXIT, "exit" }, { UMS_WHY_EXEC, "exec" },
				   { UMS_WHY_UNMAPPED, "unmapped" }, { UMS_WHY_CRED, "cred" },
				   { UMS_WHY_NONDUMPABLE, "nondumpable" }))
);

#endif /* _UMSAMPLER_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE umsampler_trace
#include <trace/define_trace.h>
