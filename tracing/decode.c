// SPDX-License-Identifier: GPL-2.0
/*
 * decode.c - reading umsampler recordings into a stream of complete samples.
 *
 * Owns: the chunk reassembler (by (id, seq), in offset order; umsampler:batch entries are chunks
 * too, and a recording with batch events is read from them alone; a sample is complete when its
 * chunks cover the region length from the umsampler:region event, or, without one, when a short
 * (< UMS_EVENT_CHUNK) chunk ends a gap-free run; pending samples are emitted when the region's seq
 * changes and at the end of the stream), the trace.dat reader (libtracecmd), the perf.data path
 * (perf script + tracing/umsampler-perf.py, whose CSV is the same format) and the CSV row writer.
 * An incomplete sample (chunks lost) is emitted with the missing bytes zeroed and the `partial`
 * flag set, by both this code and umsampler-perf.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trace-cmd/trace-cmd.h>
#include <traceevent/event-parse.h>

#include "decode.h"
#include "grow.h"
#include "render.h"

#define UMS_MAX_SAMPLE	(16U << 20)	/* sanity bound for offset + len of a chunk */

/* ---- reassembler ---- */

/* What the reassembler knows of one region id, and its pending sample. */
struct region_state {
	u32 id;
	bool known;		/* meta valid (a region event was seen) */
	bool weak;		/* meta from a del/gone event only */
	bool pending;		/* a sample is being assembled */
	struct ums_region_meta meta;
	struct ums_sample first;	/* the pending sample: fields of its first chunk */
	u8 *buf;
	size_t cap, end, covered;
};

struct ums_reassembler {
	struct region_state *st;	/* sorted by id */
	size_t n, cap;
	ums_sample_fn fn;
	void *arg;
	char *vbuf;		/* value text */
	size_t vcap;
};

struct ums_reassembler *ums_reassembler_new(ums_sample_fn fn, void *arg)
{
	struct ums_reassembler *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fn = fn;
	r->arg = arg;
	return r;
}

void ums_reassembler_free(struct ums_reassembler *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->st[i].buf);
	free(r->st);
	free(r->vbuf);
	free(r);
}

static struct region_state *state_find(const struct ums_reassembler *r, u32 id, size_t *pos)
{
	size_t lo = 0, hi = r->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->st[mid].id == id)
			return &r->st[mid];
		if (r->st[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

static struct region_state *state_get(struct ums_reassembler *r, u32 id)
{
	struct region_state *st, *nst;
	size_t pos = 0;

	st = state_find(r, id, &pos);
	if (st)
		return st;
	nst = ums_grow(r->st, r->n, &r->cap, sizeof(*nst), 16);
	if (!nst)
		return NULL;
	r->st = nst;
	memmove(&r->st[pos + 1], &r->st[pos], (r->n - pos) * sizeof(*r->st));
	r->n++;
	st = &r->st[pos];
	memset(st, 0, sizeof(*st));
	st->id = id;
	return st;
}

const struct ums_region_meta *ums_reassembler_lookup(const struct ums_reassembler *r, u32 id)
{
	const struct region_state *st = state_find(r, id, NULL);

	return st && st->known ? &st->meta : NULL;
}

int ums_reassembler_region(struct ums_reassembler *r, const struct ums_region_meta *m)
{
	struct region_state *st = state_get(r, m->id);

	if (!st)
		return -ENOMEM;
	/* del/gone of a region never named before still tell its name and length */
	if (m->op == UMS_REG_ADD || m->op == UMS_REG_SYNC || !st->known) {
		st->meta = *m;
		st->meta.name[sizeof(st->meta.name) - 1] = '\0';
		st->known = true;
		st->weak = m->op != UMS_REG_ADD && m->op != UMS_REG_SYNC;
	}
	return 0;
}

int ums_reassembler_region_hint(struct ums_reassembler *r, const struct ums_region_meta *m)
{
	const struct region_state *st = state_find(r, m->id, NULL);
	bool strong = m->op == UMS_REG_ADD || m->op == UMS_REG_SYNC;

	if (st && st->known && !(st->weak && strong))
		return 0;
	return ums_reassembler_region(r, m);
}

/* Make st->buf hold at least size bytes, new bytes zeroed. */
static int state_reserve(struct region_state *st, size_t size)
{
	size_t ncap = st->cap ? st->cap : 64;
	u8 *nb;

	if (size <= st->cap)
		return 0;
	while (ncap < size)
		ncap *= 2;
	nb = realloc(st->buf, ncap);
	if (!nb)
		return -ENOMEM;
	memset(nb + st->cap, 0, ncap - st->cap);
	st->buf = nb;
	st->cap = ncap;
	return 0;
}

static int emit_sample(struct ums_reassembler *r, struct region_state *st)
{
	size_t size = st->end, need;
	struct ums_sample s;
	int ret;

	if (st->known && st->meta.length > size && st->meta.length <= UMS_MAX_SAMPLE)
		size = st->meta.length;
	if (state_reserve(st, size))
		return -ENOMEM;
	need = ums_value_bufsize(size);
	if (need > r->vcap) {
		char *nb = realloc(r->vbuf, need);

		if (!nb)
			return -ENOMEM;
		r->vbuf = nb;
		r->vcap = need;
	}
	s = st->first;
	s.flags |= st->covered < size ? UMS_F_PARTIAL : 0;
	s.name = st->known ? st->meta.name : "";
	s.data = st->buf;
	s.len = size;
	ums_render_value(r->vbuf, r->vcap, s.vtype, s.data, s.len, s.flags & UMS_F_PARTIAL);
	s.value = r->vbuf;
	st->pending = false;
	ret = r->fn(&s, r->arg);
	/* keep the buffer for the next sample of the region, zeroed */
	memset(st->buf, 0, st->cap);
	return ret;
}

int ums_reassembler_chunk(struct ums_reassembler *r, const struct ums_chunk *c)
{
	const struct ums_sample *cs = &c->sample;
	struct region_state *st = state_get(r, cs->id);
	size_t stop = (size_t)c->offset + cs->len;
	bool complete;
	int ret;

	if (!st)
		return -ENOMEM;
	if (stop > UMS_MAX_SAMPLE)
		return -EFBIG;
	if (st->pending && st->first.seq != cs->seq) {
		ret = emit_sample(r, st);
		if (ret)
			return ret;
	}
	if (!st->pending) {
		st->pending = true;
		st->first = *cs;
		st->first.flags = 0;
		st->end = 0;
		st->covered = 0;
	}
	if (state_reserve(st, stop))
		return -ENOMEM;
	if (cs->len)
		memcpy(st->buf + c->offset, cs->data, cs->len);
	if (stop > st->end)
		st->end = stop;
	st->covered += cs->len;
	st->first.flags |= cs->flags;
	if (st->known && st->meta.length)
		complete = st->covered >= st->meta.length;
	else
		complete = cs->len < UMS_EVENT_CHUNK && st->covered == stop;
	return complete ? emit_sample(r, st) : 0;
}

static int ums_pending_cmp(const void *x, const void *y)
{
	const struct region_state *a = *(struct region_state * const *)x;
	const struct region_state *b = *(struct region_state * const *)y;

	if (a->first.time_ns != b->first.time_ns)
		return a->first.time_ns < b->first.time_ns ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

int ums_reassembler_finish(struct ums_reassembler *r)
{
	struct region_state **p;
	size_t i, n = 0;
	int ret = 0;

	p = calloc(r->n ? r->n : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < r->n; i++)
		if (r->st[i].pending)
			p[n++] = &r->st[i];
	qsort(p, n, sizeof(*p), ums_pending_cmp);
	for (i = 0; i < n && !ret; i++)
		ret = emit_sample(r, p[i]);
	free(p);
	return ret;
}

/* ---- CSV ---- */

int ums_csv_row(FILE *f, const struct ums_sample *s)
{
	size_t vlen = strlen(s->value);
	char flags[64], *q;
	int ret;

	q = malloc(2 * vlen + 3);
	if (!q)
		return -1;
	ums_csv_quote(q, s->vtype, s->value);
	ret = fprintf(f, "%" PRIu64 ",%" PRIu32 ",%s,%" PRId32 ",0x%" PRIx64 ",%" PRIu64 ",%" PRIu64
		      ",%s,%s\n", s->time_ns, s->id, s->name, s->pid, s->addr, s->seq, s->late_ns,
		      ums_flags_names(flags, sizeof(flags), s->flags, false), q);
	free(q);
	return ret < 0 ? -1 : 0;
}

/* ---- files ---- */

enum ums_file_kind ums_file_kind(const char *path)
{
	static const char tmagic[] = "\x17\x08\x44tracing";
	char buf[16];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return UMS_FILE_ERROR;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return UMS_FILE_ERROR;
	if (n >= 10 && !memcmp(buf, tmagic, 10))
		return UMS_FILE_TRACECMD;
	if (n >= 8 && !memcmp(buf, "PERFILE2", 8))
		return UMS_FILE_PERF;
	return UMS_FILE_UNKNOWN;
}

/* -- trace.dat -- */

enum { SF_ID, SF_PID, SF_ADDR, SF_SEQ, SF_LATE, SF_OFFSET, SF_VTYPE, SF_FLAGS, SF_NR };
enum { RF_ID, RF_PID, RF_ADDR, RF_LENGTH, RF_PERIOD, RF_VTYPE, RF_MODE, RF_OP, RF_REASON,
	RF_NR };

static const char * const ums_sfields[SF_NR] = {
	"id", "pid", "addr", "seq", "late_ns", "offset", "vtype", "flags",
};
static const char * const ums_rfields[RF_NR] = {
	"id", "pid", "addr", "length", "period_us", "vtype", "mode", "op", "reason",
};

enum { BF_PID, BF_COUNT, BF_ADDR, BF_NR };

static const char * const ums_bfields[BF_NR] = { "pid", "count", "addr" };

struct ums_tdat {
	struct tep_handle *tep;
	struct tep_event *sample_ev, *region_ev, *batch_ev;
	struct tep_format_field *sf[SF_NR], *rf[RF_NR], *bf[BF_NR];
	struct tep_format_field *ba[UMS_BA_NR];
	struct ums_reassembler *reasm;
	const char *path;
	bool prepass;
	bool *has_batch;	/* the pre-pass saw a batch record */
	int ret;
};

static int ums_tdat_fields(struct tep_event *ev, struct tep_format_field **f,
			   const char * const *names, int n, const char *path)
{
	int i;

	for (i = 0; i < n; i++) {
		f[i] = tep_find_field(ev, names[i]);
		if (!f[i]) {
			fprintf(stderr, "umsampler: %s: event umsampler:%s has no field '%s'\n",
				path, ev->name, names[i]);
			return -1;
		}
	}
	return 0;
}

static int ums_tdat_read(struct tep_format_field **f, int n, struct tep_record *rec, u64 *v)
{
	unsigned long long x;
	int i;

	for (i = 0; i < n; i++) {
		if (tep_read_number_field(f[i], rec->data, &x))
			return -1;
		v[i] = x;
	}
	return 0;
}

/* Every entry of a umsampler:batch record, as sample chunks. */
static int ums_tdat_batch(struct ums_tdat *t, struct tep_record *rec)
{
	struct ums_batch_view b;
	struct ums_chunk c;
	u64 v[BF_NR];
	int a, len, ret;
	u32 i;

	memset(&b, 0, sizeof(b));
	if (ums_tdat_read(t->bf, BF_NR, rec, v))
		return 0;	/* malformed record: skip */
	b.pid = (s32)v[BF_PID];
	b.count = (u32)v[BF_COUNT];
	b.addr = v[BF_ADDR];
	for (a = 0; a < UMS_BA_NR; a++) {
		len = 0;
		b.arr[a] = tep_get_field_raw(NULL, t->batch_ev, ums_batch_array_names[a], rec,
					     &len, 0);
		b.alen[a] = len > 0 ? (size_t)len : 0;
	}
	if (!ums_batch_valid(&b))
		return 0;
	for (i = 0; i < b.count; i++) {
		if (ums_batch_chunk(&b, i, rec->ts, &c))
			continue;
		ret = ums_reassembler_chunk(t->reasm, &c);
		if (ret)
			return ret;
	}
	return 0;
}

static int ums_tdat_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *arg)
{
	struct ums_tdat *t = arg;
	u64 v[RF_NR + SF_NR];
	int type, len = 0;
	void *raw;

	(void)h;
	(void)cpu;
	type = tep_data_type(t->tep, rec);
	if (t->batch_ev && type == t->batch_ev->id) {
		if (t->prepass)
			*t->has_batch = true;
		else
			t->ret = ums_tdat_batch(t, rec);
	} else if (t->sample_ev && type == t->sample_ev->id) {
		struct ums_chunk c = { 0 };

		raw = tep_get_field_raw(NULL, t->sample_ev, "data", rec, &len, 0);
		if (ums_tdat_read(t->sf, SF_NR, rec, v) || !raw || len < 0)
			return 0;	/* malformed record: skip */
		c.sample.time_ns = rec->ts;
		c.sample.id = (u32)v[SF_ID];
		c.sample.pid = (s32)v[SF_PID];
		c.sample.addr = v[SF_ADDR];
		c.sample.seq = v[SF_SEQ];
		c.sample.late_ns = v[SF_LATE];
		c.offset = (u32)v[SF_OFFSET];
		c.sample.vtype = (u8)v[SF_VTYPE];
		c.sample.flags = (u8)v[SF_FLAGS];
		c.sample.data = raw;
		c.sample.len = (size_t)len;
		t->ret = ums_reassembler_chunk(t->reasm, &c);
	} else if (t->region_ev && type == t->region_ev->id) {
		struct ums_region_meta m;
		const char *name;
		size_t n;

		name = tep_get_field_raw(NULL, t->region_ev, "name", rec, &len, 0);
		if (ums_tdat_read(t->rf, RF_NR, rec, v) || !name || len < 0)
			return 0;
		memset(&m, 0, sizeof(m));
		m.id = (u32)v[RF_ID];
		m.pid = (s32)v[RF_PID];
		m.addr = v[RF_ADDR];
		m.length = v[RF_LENGTH];
		m.period_us = (u32)v[RF_PERIOD];
		m.vtype = (u8)v[RF_VTYPE];
		m.mode = (u8)v[RF_MODE];
		m.op = (u8)v[RF_OP];
		m.reason = (u8)v[RF_REASON];
		n = strnlen(name, (size_t)len);
		if (n >= sizeof(m.name))
			n = sizeof(m.name) - 1;
		memcpy(m.name, name, n);
		t->ret = t->prepass ? ums_reassembler_region_hint(t->reasm, &m) :
				      ums_reassembler_region(t->reasm, &m);
	}
	return t->ret ? 1 : 0;
}

/*
 * One pass over a trace.dat; the pre-pass only learns region events
 * (ums_reassembler_region_hint()) and whether batch events were recorded (*has_batch: then
 * the second pass ignores sample events, which repeat the same samples).
 */
static int ums_tdat_pass(const char *path, struct ums_reassembler *r, bool prepass,
			 bool *has_batch)
{
	struct tracecmd_input *h;
	struct ums_tdat t;
	int ret = -1;

	memset(&t, 0, sizeof(t));
	t.path = path;
	t.reasm = r;
	t.prepass = prepass;
	t.has_batch = has_batch;
	h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS | TRACECMD_FL_LOAD_NO_SYSTEM_PLUGINS);
	if (!h) {
		fprintf(stderr, "umsampler: %s: cannot open as a trace-cmd file\n", path);
		return -1;
	}
	t.tep = tracecmd_get_tep(h);
	t.sample_ev = tep_find_event_by_name(t.tep, "umsampler", "sample");
	t.region_ev = tep_find_event_by_name(t.tep, "umsampler", "region");
	t.batch_ev = tep_find_event_by_name(t.tep, "umsampler", "batch");
	if (!t.sample_ev && !t.region_ev && !t.batch_ev) {
		fprintf(stderr, "umsampler: %s: no umsampler events recorded\n", path);
		goto out;
	}
	if (prepass || *has_batch)
		t.sample_ev = NULL;
	if ((t.sample_ev && ums_tdat_fields(t.sample_ev, t.sf, ums_sfields, SF_NR, path)) ||
	    (t.region_ev && ums_tdat_fields(t.region_ev, t.rf, ums_rfields, RF_NR, path)) ||
	    (t.batch_ev && ums_tdat_fields(t.batch_ev, t.bf, ums_bfields, BF_NR, path)) ||
	    (t.batch_ev && ums_tdat_fields(t.batch_ev, t.ba, ums_batch_array_names, UMS_BA_NR,
					   path)))
		goto out;
	if (tracecmd_iterate_events(h, NULL, 0, ums_tdat_record, &t) < 0 && !t.ret) {
		fprintf(stderr, "umsampler: %s: error reading events\n", path);
		goto out;
	}
	ret = t.ret;
out:
	tracecmd_close(h);
	return ret;
}

/*
 * Two passes: the first learns every region event, so that samples recorded before the
 * region's add/sync event (e.g. before `sync` in a recording started after the add) get its
 * name and length too, and whether batch events were recorded; the second reassembles and
 * emits (batch entries are sample chunks, see ums_batch_chunk()).
 */
static int ums_decode_tracedat(const char *path, ums_sample_fn fn, void *arg)
{
	struct ums_reassembler *r = ums_reassembler_new(fn, arg);
	bool has_batch = false;
	int ret;

	if (!r)
		return -ENOMEM;
	ret = ums_tdat_pass(path, r, true, &has_batch);
	if (!ret)
		ret = ums_tdat_pass(path, r, false, &has_batch);
	if (!ret)
		ret = ums_reassembler_finish(r);
	if (ret < 0 && ret != -1)
		fprintf(stderr, "umsampler: %s: %s\n", path, strerror(-ret));
	ums_reassembler_free(r);
	return ret;
}

/* -- perf.data -- */

const char *ums_perf_script(void)
{
	static const char * const rel[] = {
		"/../share/umsampler/umsampler-perf.py",	/* PREFIX/bin/umsampler */
		"/../../tracing/umsampler-perf.py",		/* build/tracing/umsampler */
		"/umsampler-perf.py",
	};
	static char path[PATH_MAX + 64];
	char exe[PATH_MAX], *slash;
	const char *env = getenv("UMSAMPLER_PERF_SCRIPT");
	ssize_t n;
	size_t i;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", exe, rel[i]);
		if (!access(path, R_OK))
			return path;
	}
	return NULL;
}

/* Start `perf script -i path -s script`; returns its stdout or NULL.  *pid set. */
static FILE *ums_perf_start(const char *path, bool with_vtype, pid_t *pid)
{
	const char *script = ums_perf_script();
	const char *perf = getenv("UMSAMPLER_PERF");
	int fds[2];
	FILE *f;

	if (!script) {
		fprintf(stderr,
			"umsampler: umsampler-perf.py not found (set UMSAMPLER_PERF_SCRIPT)\n");
		return NULL;
	}
	if (!perf || !*perf)
		perf = "perf";
	if (pipe2(fds, O_CLOEXEC)) {
		perror("umsampler: pipe");
		return NULL;
	}
	*pid = fork();
	if (*pid < 0) {
		perror("umsampler: fork");
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (!*pid) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (with_vtype)
			setenv("UMS_CSV_VTYPE", "1", 1);
		else
			unsetenv("UMS_CSV_VTYPE");
		execlp(perf, perf, "script", "-i", path, "-s", script, (char *)NULL);
		fprintf(stderr, "umsampler: exec %s: %s\n", perf, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f) {
		perror("umsampler: fdopen");
		close(fds[0]);
	}
	return f;
}

static int ums_perf_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	fprintf(stderr, "umsampler: perf script failed (status 0x%x)\n", status);
	return -1;
}

int ums_perf_csv(const char *path, FILE *out)
{
	char buf[65536];
	pid_t pid;
	size_t n;
	FILE *f;
	int ret = 0;

	f = ums_perf_start(path, false, &pid);
	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			perror("umsampler: write");
			ret = -1;
			break;
		}
	if (ferror(f))
		ret = -1;
	fclose(f);
	if (ums_perf_wait(pid))
		ret = -1;
	return ret;
}

static int ums_vt_parse(const char *s)
{
	unsigned int i;

	for (i = 0; i < UMS_VT_NR; i++)
		if (!strcmp(s, ums_vtype_name(i)))
			return (int)i;
	return -1;
}

/*
 * Parse one row of the perf script CSV with the vtype column
 * (time_ns,id,name,pid,addr,seq,late_ns,flags,vtype,value) into s; the strings point into
 * line, which is modified.  Returns 0, or -1 for a malformed row.
 */
static int ums_perf_parse_row(char *line, struct ums_sample *s)
{
	char *f[10], *p = line, *end, *src, *dst, fname[64];
	unsigned int bit;
	int i, vt;

	for (i = 0; i < 9; i++) {
		f[i] = p;
		p = strchr(p, ',');
		if (!p)
			return -1;
		*p++ = '\0';
	}
	f[9] = p;
	end = p + strlen(p);
	if (end > p && end[-1] == '\n')
		*--end = '\0';
	memset(s, 0, sizeof(*s));
	s->time_ns = strtoull(f[0], NULL, 10);
	s->id = (u32)strtoul(f[1], NULL, 10);
	s->name = f[2];
	s->pid = (s32)strtol(f[3], NULL, 10);
	s->addr = strtoull(f[4], NULL, 16);
	s->seq = strtoull(f[5], NULL, 10);
	s->late_ns = strtoull(f[6], NULL, 10);
	for (bit = 1; bit < 1U << UMS_F_NR; bit <<= 1)
		if (strstr(f[7], ums_flags_names(fname, sizeof(fname), bit, false)))
			s->flags |= bit;
	vt = ums_vt_parse(f[8]);
	if (vt < 0)
		return -1;
	s->vtype = (u8)vt;
	if (f[9][0] == '"') {		/* unquote: "" -> " */
		src = f[9] + 1;
		dst = f[9];
		while (*src) {
			if (*src == '"') {
				if (src[1] != '"')
					break;
				src++;
			}
			*dst++ = *src++;
		}
		*dst = '\0';
	}
	s->value = f[9];
	return 0;
}

static int ums_decode_perf(const char *path, ums_sample_fn fn, void *arg)
{
	struct ums_sample s;
	size_t cap = 0;
	char *line = NULL;
	int ret = 0, n = 0;
	pid_t pid;
	FILE *f;

	f = ums_perf_start(path, true, &pid);
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (!n++)
			continue;	/* header */
		if (ret)
			continue;	/* drain */
		if (ums_perf_parse_row(line, &s)) {
			fprintf(stderr, "umsampler: %s: bad row from perf script: %s", path, line);
			ret = -1;
			continue;
		}
		ret = fn(&s, arg);
	}
	free(line);
	fclose(f);
	if (ums_perf_wait(pid) && !ret)
		ret = -1;
	return ret;
}

int ums_decode_file(const char *path, ums_sample_fn fn, void *arg)
{
	switch (ums_file_kind(path)) {
	case UMS_FILE_TRACECMD:
		return ums_decode_tracedat(path, fn, arg);
	case UMS_FILE_PERF:
		return ums_decode_perf(path, fn, arg);
	case UMS_FILE_UNKNOWN:
		fprintf(stderr, "umsampler: %s: neither a trace-cmd nor a perf.data file\n", path);
		return -1;
	default:
		fprintf(stderr, "umsampler: %s: %s\n", path, strerror(errno));
		return -1;
	}
}
