// SPDX-License-Identifier: GPL-2.0
/*
 * plugin_umsampler.c - libtraceevent plugin for the umsampler:sample and umsampler:region
 * events, for `trace-cmd report` and `perf script`.
 *
 * Owns: the one-line rendering of both events
 *   sample:  name=NAME pid=PID seq=SEQ value=VALUE [offset=O] [flags=F] late_ns=L
 *   region:  op=OP id=ID name=NAME pid=PID addr=0xA length=N period_us=P vtype=T mode=M
 *            [reason=R]
 * with VALUE decoded from the exact data bytes by ums_render_value() (common/render.c, the
 * renderer of the debugfs files and of `umsampler csv`); str values in double quotes (the
 * renderer escapes '"'), a chunk of a long region with its offset.  Region names come from
 * region events (add/sync) seen earlier in the stream: a table id -> name/type/length kept
 * here; a sample of an unknown region shows `id=N`.
 *
 * Only tep_* / trace_seq_* symbols that both libtraceevent 1.7 (trace-cmd) and perf 6.1's
 * built-in copy export are used: tep_register_event_handler, tep_unregister_event_handler,
 * tep_get_field_val, tep_get_field_raw, trace_seq_printf, trace_seq_puts.  The plugin is
 * linked against nothing: those resolve in the loading program.
 */
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>
#include <traceevent/trace-seq.h>

#include "decode.h"
#include "parse.h"
#include "render.h"

#define UMS_PLUGIN_MAX_ID	(1U << 22)

struct ums_plugin_region {
	bool known;
	u8 vtype;
	u64 length;
	char name[32];
};

static struct ums_plugin_region *ums_regions;
static u32 ums_nregions;

static struct ums_plugin_region *ums_plugin_slot(u32 id, bool create)
{
	struct ums_plugin_region *n;
	u32 cap;

	if (id < ums_nregions)
		return &ums_regions[id];
	if (!create || id >= UMS_PLUGIN_MAX_ID)
		return NULL;
	cap = ums_nregions ? ums_nregions : 64;
	while (cap <= id)
		cap *= 2;
	n = realloc(ums_regions, cap * sizeof(*n));
	if (!n)
		return NULL;
	memset(n + ums_nregions, 0, (cap - ums_nregions) * sizeof(*n));
	ums_regions = n;
	ums_nregions = cap;
	return &ums_regions[id];
}

/* Learn a region (also used by the host test). */
void ums_plugin_learn(u32 id, const char *name, size_t namelen, u8 vtype, u64 length)
{
	struct ums_plugin_region *r = ums_plugin_slot(id, true);
	size_t n = strnlen(name, namelen);

	if (!r)
		return;
	if (n >= sizeof(r->name))
		n = sizeof(r->name) - 1;
	memcpy(r->name, name, n);
	r->name[n] = '\0';
	r->vtype = vtype;
	r->length = length;
	r->known = true;
}

void ums_plugin_forget_all(void)
{
	free(ums_regions);
	ums_regions = NULL;
	ums_nregions = 0;
}

/*
 * The text after "value=" of a sample: the rendering of the bytes, str in double quotes.
 * Returns a malloc'ed string or NULL (also used by the host test).
 */
char *ums_plugin_value(unsigned int vtype, const u8 *data, size_t len, unsigned int flags)
{
	size_t size = ums_value_bufsize(len);
	char *buf = malloc(size + 2);

	if (!buf)
		return NULL;
	if (vtype == UMS_VT_STR) {
		buf[0] = '"';
		ums_render_value(buf + 1, size, vtype, data, len, flags & UMS_F_PARTIAL);
		strcat(buf, "\"");
	} else {
		ums_render_value(buf, size, vtype, data, len, flags & UMS_F_PARTIAL);
	}
	return buf;
}

static int ums_field(struct trace_seq *s, struct tep_event *ev, struct tep_record *rec,
		     const char *name, unsigned long long *v)
{
	return tep_get_field_val(s, ev, name, rec, v, 1);
}

static int ums_sample_handler(struct trace_seq *s, struct tep_record *rec, struct tep_event *ev,
			      void *context)
{
	unsigned long long id, pid, seq, late, off, vtype, flags;
	struct ums_plugin_region *r;
	char fl[32], *val;
	const u8 *data;
	int len = 0;

	(void)context;
	if (ums_field(s, ev, rec, "id", &id) || ums_field(s, ev, rec, "pid", &pid) ||
	    ums_field(s, ev, rec, "seq", &seq) || ums_field(s, ev, rec, "late_ns", &late) ||
	    ums_field(s, ev, rec, "offset", &off) || ums_field(s, ev, rec, "vtype", &vtype) ||
	    ums_field(s, ev, rec, "flags", &flags))
		return 0;
	data = tep_get_field_raw(s, ev, "data", rec, &len, 1);
	if (!data || len < 0)
		return 0;
	r = ums_plugin_slot((u32)id, false);
	if (r && r->known)
		trace_seq_printf(s, "name=%s", r->name);
	else
		trace_seq_printf(s, "id=%u", (unsigned int)id);
	val = ums_plugin_value((unsigned int)vtype, data, (size_t)len, (unsigned int)flags);
	trace_seq_printf(s, " pid=%d seq=%llu value=%s", (int)pid, seq, val ? val : "?");
	free(val);
	if (off || (r && r->known && r->length > (u64)len))
		trace_seq_printf(s, " offset=%llu", off);
	if (flags)
		trace_seq_printf(s, " flags=%s", ums_flags_names(fl, sizeof(fl), (unsigned int)flags, false));
	trace_seq_printf(s, " late_ns=%llu", late);
	return 0;
}

static int ums_region_handler(struct trace_seq *s, struct tep_record *rec, struct tep_event *ev,
			      void *context)
{
	unsigned long long id, pid, addr, length, period, vtype, mode, op, reason;
	const char *name;
	int len = 0;

	(void)context;
	if (ums_field(s, ev, rec, "id", &id) || ums_field(s, ev, rec, "pid", &pid) ||
	    ums_field(s, ev, rec, "addr", &addr) || ums_field(s, ev, rec, "length", &length) ||
	    ums_field(s, ev, rec, "period_us", &period) || ums_field(s, ev, rec, "vtype", &vtype) ||
	    ums_field(s, ev, rec, "mode", &mode) || ums_field(s, ev, rec, "op", &op) ||
	    ums_field(s, ev, rec, "reason", &reason))
		return 0;
	name = tep_get_field_raw(s, ev, "name", rec, &len, 1);
	if (!name || len < 0)
		return 0;
	if (op == UMS_REG_ADD || op == UMS_REG_SYNC ||
	    !(ums_plugin_slot((u32)id, false) && ums_plugin_slot((u32)id, false)->known))
		ums_plugin_learn((u32)id, name, (size_t)len, (u8)vtype, length);
	trace_seq_printf(s, "op=%s id=%u name=%.*s pid=%d addr=0x%llx length=%llu period_us=%llu"
			 " vtype=%s mode=%s", ums_region_op_name((unsigned int)op), (unsigned int)id,
			 (int)strnlen(name, (size_t)len), name, (int)pid, addr, length, period,
			 ums_vtype_name((unsigned int)vtype), ums_mode_name((unsigned int)mode));
	if (reason)
		trace_seq_printf(s, " reason=%s", ums_reason_name((unsigned int)reason));
	return 0;
}

int TEP_PLUGIN_LOADER(struct tep_handle *tep)
{
	int ret;

	ret = tep_register_event_handler(tep, -1, "umsampler", "sample", ums_sample_handler,
					 NULL);
	if (ret < 0)
		return ret;
	return tep_register_event_handler(tep, -1, "umsampler", "region", ums_region_handler,
					  NULL);
}

int TEP_PLUGIN_UNLOADER(struct tep_handle *tep)
{
	tep_unregister_event_handler(tep, -1, "umsampler", "sample", ums_sample_handler, NULL);
	tep_unregister_event_handler(tep, -1, "umsampler", "region", ums_region_handler, NULL);
	ums_plugin_forget_all();
	return 0;
}
