// SPDX-License-Identifier: GPL-2.0
/*
 * batch.c - umsampler:batch events: the samples of the regions one span copy read, in as
 * few events as the size budget of common/umsampler_abi.h (UMS_BATCH_*) allows.
 *
 * Owns: the sampler thread's batch accumulator (ums_batch_ev_add() / ums_batch_ev_flush():
 * regions of one span, in the order they are sampled, join the open batch while its bytes
 * and entries fit the budget and each starts at or after the batch's first byte; else the
 * batch is emitted and a new one starts; the sampler flushes after every span), and the
 * one-region batches of samples read on their own or longer than UMS_EVENT_CHUNK
 * (ums_batch_ev_one(): pieces of UMS_EVENT_CHUNK bytes, one event each, like the chunks
 * of umsampler:sample; it keeps no state, so any context may call it).
 *
 * Bytes of the batch's range that belong to none of its entries (the gaps a span copy
 * reads between regions, regions that emit nothing this time) are zeroed: an event never
 * shows a byte that no emitted region asked for.
 */
#include <linux/minmax.h>
#include <linux/string.h>

#include "umsampler.h"
#include "umsampler_trace.h"

/* The open batch: used by the sampler thread only, under ums_lock. */
static struct {
	s32 pid;
	u32 count;
	u64 addr;
	u32 size;
	u8 data[UMS_BATCH_MAX_DATA];
	u32 id[UMS_BATCH_MAX_ENTS];
	u64 seq[UMS_BATCH_MAX_ENTS];
	u64 late_ns[UMS_BATCH_MAX_ENTS];
	u32 offset[UMS_BATCH_MAX_ENTS];
	u16 start[UMS_BATCH_MAX_ENTS];
	u16 len[UMS_BATCH_MAX_ENTS];
	u8 vtype[UMS_BATCH_MAX_ENTS];
	u8 flags[UMS_BATCH_MAX_ENTS];
} ub;

/* Does a batch of @bytes data bytes and @count entries fit one event? */
static bool ums_batch_ev_fits(u64 bytes, u32 count)
{
	return 3 * bytes + (u64)UMS_BATCH_ENT_TEXT * count <= UMS_BATCH_TEXT;
}

/**
 * ums_batch_ev_flush() - emit the open batch, if any
 *
 * Context: the sampler thread, under ums_lock.
 */
void ums_batch_ev_flush(void)
{
	struct ums_batch_ev b = {
		.pid = ub.pid, .count = ub.count, .addr = ub.addr, .size = ub.size,
		.data = ub.data, .id = ub.id, .seq = ub.seq, .late_ns = ub.late_ns,
		.offset = ub.offset, .start = ub.start, .len = ub.len, .vtype = ub.vtype,
		.flags = ub.flags,
	};

	if (!ub.count)
		return;
	trace_batch(&b);
	ub.count = 0;
}

/**
 * ums_batch_ev_add() - add the sample just published in @s to the open batch
 * @r:	the region, sampled from a span copy
 * @s:	its new slot
 *
 * Emits the open batch first if @r does not fit in it.
 *
 * Context: the sampler thread, under ums_lock; ums_batch_ev_flush() after the span.
 * Return: false if @r is longer than UMS_EVENT_CHUNK (nothing done: the caller emits it
 * with ums_batch_ev_one()).
 */
bool ums_batch_ev_add(const struct ums_region *r, const struct ums_slot *s)
{
	u64 end;
	u32 i, start;

	if (r->len > UMS_EVENT_CHUNK)
		return false;
	/* s->addr: where the bytes were read (a chain's field: in the object it reached) */
	if (ub.count) {
		end = max(ub.addr + ub.size, s->addr + r->len);
		if (s->addr < ub.addr || r->target->pid_nr != ub.pid ||
		    !ums_batch_ev_fits(end - ub.addr, ub.count + 1))
			ums_batch_ev_flush();
	}
	if (!ub.count) {
		ub.pid = r->target->pid_nr;
		ub.addr = s->addr;
		ub.size = 0;
	}
	start = s->addr - ub.addr;
	if (start > ub.size)
		memset(ub.data + ub.size, 0, start - ub.size);
	memcpy(ub.data + start, s->data, r->len);
	ub.size = max_t(u32, ub.size, start + r->len);
	i = ub.count++;
	ub.id[i] = r->id;
	ub.seq[i] = s->seq;
	ub.late_ns[i] = s->late_ns;
	ub.offset[i] = 0;
	ub.start[i] = start;
	ub.len[i] = r->len;
	ub.vtype[i] = r->vtype;
	ub.flags[i] = s->flags;
	return true;
}

/**
 * ums_batch_ev_one() - emit the sample in @s as batches of one entry
 * @r:	the region
 * @s:	its new slot
 *
 * One event, or one per UMS_EVENT_CHUNK piece if @r is longer.
 *
 * Context: any; keeps no state.
 */
void ums_batch_ev_one(const struct ums_region *r, const struct ums_slot *s)
{
	u8 vtype = r->vtype, flags = s->flags;
	u32 id = r->id, off = 0;
	u16 start = 0, len;
	struct ums_batch_ev b = {
		.pid = r->target->pid_nr, .count = 1, .id = &id, .seq = &s->seq,
		.late_ns = &s->late_ns, .offset = &off, .start = &start, .len = &len,
		.vtype = &vtype, .flags = &flags,
	};

	do {
		len = min_t(u64, r->len - off, UMS_EVENT_CHUNK);
		b.addr = s->addr + off;
		b.data = s->data + off;
		b.size = len;
		trace_batch(&b);
		off += len;
	} while (off < r->len);
}
