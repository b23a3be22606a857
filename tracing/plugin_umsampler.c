// SPDX-License-Identifier: GPL-2.0
/*
 * plugin_umsampler.c - libtraceevent plugin for the umsampler:sample, umsampler:batch and
 * umsampler:region events, for `trace-cmd report` and `perf script`.
 *
 * Owns: the rendering of the three events
 *   sample:  name=NAME pid=PID seq=SEQ value=VALUE [offset=O] [flags=F] late_ns=L
 *   batch:   pid=PID addr=0xA count=N, then per entry a line
 *              name=NAME seq=SEQ value=VALUE [offset=O] [flags=F] late_ns=L
 *   region:  op=OP id=ID name=NAME pid=PID addr=0xA length=N period_us=P vtype=T mode=M
 *            [reason=R]
 * with VALUE decoded from the exact data bytes by ums_render_value() (common/render.c, the
 * renderer of the debugfs files and of `umsampler csv`); str values in double quotes (the
 * renderer escapes '"'), a chunk of a long region with its offset.  Region names come from
 * region events (add/sync) seen earlier in the stream: a table id -> name/type/length kept
 * here; a sample of an unknown region shows `id=N`.
 *
 * A record missing a field the handler needs (another module version's format) makes the
 * handler return -1: libtraceevent then prints the event with the kernel's own format.
 * Everything but the loader and unloader is static (tests/host/decode_test.c includes this
 * file to test the internals), and the .so is built with -fvisibility=hidden so that the
 * shared common/ code it links in is not exported either.
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

/* What the plugin knows of a region id, from its region events. */
struct plugin_region {
	bool known;
	u8 vtype;
	u64 length;
	char name[32];
};

static struct plugin_region *plugin_regions;	/* indexed by id */
static u32 plugin_nregions;

static struct plugin_region *plugin_slot(u32 id, bool create)
{
	struct plugin_region *n;
	u32 cap;

	if (id < plugin_nregions)
		return &plugin_regions[id];
	if (!create || id >= UMS_PLUGIN_MAX_ID)
		return NULL;
	cap = plugin_nregions ? plugin_nregions : 64;
	while (cap <= id)
		cap *= 2;
	n = realloc(plugin_regions, cap * sizeof(*n));
	if (!n)
		return NULL;
	memset(n + plugin_nregions, 0, (cap - plugin_nregions) * sizeof(*n));
	plugin_regions = n;
	plugin_nregions = cap;
	return &plugin_regions[id];
}

/* The region id if the plugin has learned it, else NULL. */
static const struct plugin_region *plugin_known(u32 id)
{
	const struct plugin_region *r = plugin_slot(id, false);

	return r && r->known ? r : NULL;
}

static void plugin_learn(u32 id, const char *name, size_t namelen, u8 vtype, u64 length)
{
	struct plugin_region *r = plugin_slot(id, true);
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

static void plugin_forget_all(void)
{
	free(plugin_regions);
	plugin_regions = NULL;
	plugin_nregions = 0;
}

/*
 * The text after "value=" of a sample: the rendering of the bytes, str in double quotes.
 * Returns a malloc'ed string or NULL.
 */
static char *plugin_value(unsigned int vtype, const u8 *data, size_t len, unsigned int flags)
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

/* What the text of one sample shows (a sample event, or an entry of a batch event). */
struct plugin_sample {
	u32 id;
	int pid;		/* shown unless with_pid is false */
	bool with_pid;
	u64 seq, late_ns, offset;
	unsigned int vtype, flags;
	const void *data;
	size_t len;
};

static void plugin_print_one(struct trace_seq *s, const struct plugin_sample *p)
{
	const struct plugin_region *r = plugin_known(p->id);
	char fl[64], *val;

	if (r)
		trace_seq_printf(s, "name=%s", r->name);
	else
		trace_seq_printf(s, "id=%u", (unsigned int)p->id);
	if (p->with_pid)
		trace_seq_printf(s, " pid=%d", p->pid);
	val = plugin_value(p->vtype, p->data, p->len, p->flags);
	trace_seq_printf(s, " seq=%llu value=%s", (unsigned long long)p->seq, val ? val : "?");
	free(val);
	if (p->offset || (r && r->length > (u64)p->len))
		trace_seq_printf(s, " offset=%llu", (unsigned long long)p->offset);
	if (p->flags)
		trace_seq_printf(s, " flags=%s", ums_flags_names(fl, sizeof(fl), p->flags, false));
	trace_seq_printf(s, " late_ns=%llu", (unsigned long long)p->late_ns);
}

/* The sample event's numeric fields, in the order of enum sample_field. */
static const char *const sample_fields[] = { "id", "pid", "seq", "late_ns", "offset", "vtype",
					     "flags" };
enum sample_field { S_ID, S_PID, S_SEQ, S_LATE, S_OFFSET, S_VTYPE, S_FLAGS, S_NR };
static const char *const sample_arrays[] = { "data" };

static void plugin_print_sample(struct trace_seq *s, const unsigned long long *f,
				const void *const *arr, const int *len)
{
	struct plugin_sample p = {
		.id = (u32)f[S_ID], .pid = (int)f[S_PID], .with_pid = true, .seq = f[S_SEQ],
		.late_ns = f[S_LATE], .offset = f[S_OFFSET], .vtype = (unsigned int)f[S_VTYPE],
		.flags = (unsigned int)f[S_FLAGS], .data = arr[0], .len = (size_t)len[0],
	};

	plugin_print_one(s, &p);
}

/* The batch event's numeric fields, in the order of enum batch_field; its arrays: decode.h. */
static const char *const batch_fields[] = { "pid", "count", "addr" };
enum batch_field { B_PID, B_COUNT, B_ADDR, B_NR };

/* A header line, then one line per entry, as a sample event shows it (without pid). */
static void plugin_print_batch(struct trace_seq *s, const unsigned long long *f,
			       const void *const *arr, const int *len)
{
	struct ums_batch_view b = { .pid = (s32)f[B_PID], .count = (u32)f[B_COUNT],
				    .addr = f[B_ADDR] };
	struct plugin_sample p;
	struct ums_chunk c;

	for (int a = 0; a < UMS_BA_NR; a++) {
		b.arr[a] = arr[a];
		b.alen[a] = (size_t)len[a];
	}
	trace_seq_printf(s, "pid=%d addr=0x%llx count=%u", (int)b.pid, (unsigned long long)b.addr,
			 (unsigned int)b.count);
	if (!ums_batch_valid(&b)) {
		trace_seq_puts(s, " (malformed)");
		return;
	}
	for (u32 i = 0; i < b.count; i++) {
		trace_seq_puts(s, "\n  ");
		if (ums_batch_chunk(&b, i, 0, &c)) {
			trace_seq_puts(s, "(malformed entry)");
			continue;
		}
		p = (struct plugin_sample){
			.id = c.sample.id, .seq = c.sample.seq, .late_ns = c.sample.late_ns,
			.offset = c.offset, .vtype = c.sample.vtype, .flags = c.sample.flags,
			.data = c.sample.data, .len = c.sample.len,
		};
		plugin_print_one(s, &p);
	}
}

/* The region event's numeric fields, in the order of enum region_field. */
static const char *const region_fields[] = { "id", "pid", "addr", "length", "period_us",
					     "vtype", "mode", "op", "reason" };
enum region_field { R_ID, R_PID, R_ADDR, R_LENGTH, R_PERIOD, R_VTYPE, R_MODE, R_OP, R_REASON,
		    R_NR };
static const char *const region_arrays[] = { "name" };

static void plugin_print_region(struct trace_seq *s, const unsigned long long *f,
				const void *const *arr, const int *alen)
{
	const char *name = arr[0];
	int len = alen[0];

	if (f[R_OP] == UMS_REG_ADD || f[R_OP] == UMS_REG_SYNC || !plugin_known((u32)f[R_ID]))
		plugin_learn((u32)f[R_ID], name, (size_t)len, (u8)f[R_VTYPE], f[R_LENGTH]);
	trace_seq_printf(s, "op=%s id=%u name=%.*s pid=%d addr=0x%llx length=%llu period_us=%llu"
			 " vtype=%s mode=%s", ums_region_op_name((unsigned int)f[R_OP]),
			 (unsigned int)f[R_ID], (int)strnlen(name, (size_t)len), name,
			 (int)f[R_PID], f[R_ADDR], f[R_LENGTH], f[R_PERIOD],
			 ums_vtype_name((unsigned int)f[R_VTYPE]),
			 ums_mode_name((unsigned int)f[R_MODE]));
	if (f[R_REASON])
		trace_seq_printf(s, " reason=%s", ums_reason_name((unsigned int)f[R_REASON]));
}

/* An event the plugin renders: its numeric fields, its array fields and its printer. */
struct plugin_event {
	const char *name;
	const char *const *fields;
	size_t nfields;
	const char *const *arrays;
	size_t narrays;
	void (*print)(struct trace_seq *s, const unsigned long long *f, const void *const *arr,
		      const int *len);
};

#define PLUGIN_MAX_FIELDS	16
#define PLUGIN_MAX_ARRAYS	UMS_BA_NR
_Static_assert(S_NR <= PLUGIN_MAX_FIELDS && R_NR <= PLUGIN_MAX_FIELDS && B_NR <= PLUGIN_MAX_FIELDS,
	       "plugin_handler's f[]");

#define PLUGIN_EVENT(n, arr)	{ #n, n##_fields, sizeof(n##_fields) / sizeof(n##_fields[0]), \
				  arr, sizeof(arr) / sizeof(arr[0]), plugin_print_##n }

static const struct plugin_event plugin_events[] = {
	PLUGIN_EVENT(sample, sample_arrays),
	PLUGIN_EVENT(region, region_arrays),
	PLUGIN_EVENT(batch, ums_batch_array_names),
};

#define PLUGIN_NEVENTS	(sizeof(plugin_events) / sizeof(plugin_events[0]))

/*
 * The handler of every event (context: its struct plugin_event).  A field missing from the
 * record's format makes it return -1 without writing to s, so that libtraceevent prints the
 * event with the kernel's own format instead.
 */
static int plugin_handler(struct trace_seq *s, struct tep_record *rec, struct tep_event *ev,
			  void *context)
{
	const struct plugin_event *pe = context;
	unsigned long long f[PLUGIN_MAX_FIELDS];
	const void *arr[PLUGIN_MAX_ARRAYS];
	int len[PLUGIN_MAX_ARRAYS];

	for (size_t i = 0; i < pe->nfields; i++)
		if (tep_get_field_val(s, ev, pe->fields[i], rec, &f[i], 0))
			return -1;
	for (size_t i = 0; i < pe->narrays; i++) {
		len[i] = 0;
		arr[i] = tep_get_field_raw(s, ev, pe->arrays[i], rec, &len[i], 0);
		if (!arr[i] || len[i] < 0)
			return -1;
	}
	pe->print(s, f, arr, len);
	return 0;
}

/* The entry points libtraceevent looks up with dlsym(). */
#define PLUGIN_EXPORT	__attribute__((visibility("default")))

PLUGIN_EXPORT int TEP_PLUGIN_LOADER(struct tep_handle *tep)
{
	for (size_t i = 0; i < PLUGIN_NEVENTS; i++) {
		int ret = tep_register_event_handler(tep, -1, "umsampler", plugin_events[i].name,
						     plugin_handler, (void *)&plugin_events[i]);

		if (ret < 0)
			return ret;
	}
	return 0;
}

PLUGIN_EXPORT int TEP_PLUGIN_UNLOADER(struct tep_handle *tep)
{
	for (size_t i = 0; i < PLUGIN_NEVENTS; i++)
		tep_unregister_event_handler(tep, -1, "umsampler", plugin_events[i].name,
					     plugin_handler, (void *)&plugin_events[i]);
	plugin_forget_all();
	return 0;
}
