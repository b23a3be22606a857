// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_daemon.c - `umsampler daemon`: watches services, not pids.  Reads watch files
 * (daemon_watch.c), finds the processes each watch matches (daemon_proc.c: /proc, and the
 * proc connector's exec and exit events), registers the watch's variables in every match the
 * way `umsampler add` does (ums_resolve() + an `add` line checked by the kernel's parser +
 * cli_write_control()), drops them when the process exits or execs, re-registers after a
 * restart of the process, of the daemon (it adopts its regions) or of the module, reloads on
 * SIGHUP, and serves the latest values as Prometheus metrics (daemon_http.c).
 *
 * Owns: the daemon's state (one attachment per process and watch, one state per variable),
 * region names (WATCH.VAR.PID, shortened with a hash to 31 characters), the log lines and the
 * metrics.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "parse.h"
#include "resolve.h"

static const char daemon_usage[] =
"usage: umsampler daemon [-c|--config PATH]... [-l|--listen ADDR:PORT|none] [--no-connector]\n"
"                        [--rescan D] [--resolve-timeout D] [--keep] [--check]\n"
"  Watches processes by what they are, not by pid: reads watch files, registers the\n"
"  variables of every process a watch matches (at start, within a period of an exec,\n"
"  after a restart of the process, of the daemon or of the module), drops them at exit,\n"
"  reloads on SIGHUP, and serves the latest values as Prometheus metrics.\n"
"  -c, --config PATH   a watch file, or a directory of *.conf files (repeatable;\n"
"                      default /etc/umsampler)\n"
"  -l, --listen A:P    metrics address (default 127.0.0.1:9464; [::1]:9464; port 0:\n"
"                      any free port, logged; none: no server).  GET /metrics: the\n"
"                      Prometheus text format, OpenMetrics if Accept asks for it\n"
"  --no-connector      do not use the proc connector (exec/exit events over netlink;\n"
"                      used only if the kernel accepts the listen: initial namespaces,\n"
"                      CAP_NET_ADMIN before Linux 6.6): rescan /proc instead\n"
"  --rescan D          rescan /proc every D (default 1s without the connector, 10s with\n"
"                      it: catches processes that forked without exec)\n"
"  --resolve-timeout D retry a variable that does not resolve or register for D after\n"
"                      the process appeared (default 1s: libraries load after exec)\n"
"  --keep              leave the regions registered at exit (a restarted daemon adopts\n"
"                      them); default: remove them\n"
"  --check             read the watch files, print the watches, exit 1 if any error\n"
"  Watch file (one directive a line, '#' comments; errors: FILE:LINE: reason, the\n"
"  watch is dropped, the others run):\n"
"    [watch NAME]                 NAME: 1..20 of [A-Za-z0-9_-]\n"
"    match comm=NAME | exe=PATH | cmdline=~REGEX | cgroup=PATH | unit=NAME.service\n"
"                                 (several match lines: all must hold; KEY=~REGEX for\n"
"                                 every key but unit)\n"
"    var EXPR [name=N] [type=T] [len=N] [period=D] [mode=always|change|none] [fault]\n"
"        [mirror]                 EXPR as for umsampler add (SYMBOL, a.b, arr[3], p->x)\n"
"  Regions are named WATCH.VAR.PID (VAR: name= or EXPR with [^A-Za-z0-9_.:-] as _;\n"
"  shortened to 31 characters with a hash).  Log: one line on stderr per attach,\n"
"  detach and error.  Metrics: umsampler_value{watch,variable,pid,comm},\n"
"  umsampler_region_samples_total, umsampler_region_partial_total (same labels),\n"
"  umsampler_samples_total, umsampler_missed_total, umsampler_partial_total,\n"
"  umsampler_late_p99_seconds, umsampler_regions, umsampler_up,\n"
"  umsampler_daemon_processes, umsampler_daemon_regions, umsampler_daemon_errors_total.\n";

CLI_COMMAND(daemon, "c:l:h", "daemon [opts]          follow services by watch files, serve metrics",
	CLI_ARG("config", 'c'), CLI_ARG("listen", 'l'), CLI_FLAG("no-connector", 'N'),
	CLI_ARG("rescan", 'r'), CLI_ARG("resolve-timeout", 'T'), CLI_FLAG("keep", 'k'),
	CLI_FLAG("check", 'C'));

/* ---- log and captured messages ---- */

void dmn_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "umsampler daemon: %s\n", buf);
	fflush(stderr);
}

static FILE *cap_saved, *cap_mem;
static char *cap_buf;
static size_t cap_len;

void dmn_capture_begin(void)
{
	cap_buf = NULL;
	cap_len = 0;
	cap_mem = open_memstream(&cap_buf, &cap_len);
	if (cap_mem) {
		cap_saved = stderr;
		stderr = cap_mem;
	}
}

char *dmn_capture_end(void)
{
	char *out, *o, *save = NULL;

	if (!cap_mem)
		return strdup("");
	fflush(cap_mem);
	stderr = cap_saved;
	fclose(cap_mem);
	cap_mem = NULL;
	out = calloc(1, cap_len + 8);
	if (!out) {
		free(cap_buf);
		return NULL;
	}
	o = out;
	for (char *l = strtok_r(cap_buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		while (isspace((unsigned char)*l))
			l++;
		if (!strncmp(l, "umsampler add: ", 15))
			l += 15;
		if (!*l)
			continue;
		o += sprintf(o, "%s%s", o == out ? "" : "; ", l);
	}
	free(cap_buf);
	cap_buf = NULL;
	return out;
}

/* ---- state ---- */

enum { VS_PENDING, VS_ACTIVE, VS_FAILED };

struct avar {
	int state;
	uint64_t id;
	char rname[UMS_NAME_LEN];
	char type[8];
};

/* One process matched by one watch. */
struct att {
	pid_t pid;
	unsigned long long start;
	char comm[17];
	char watch[DMN_WATCH_NAME_MAX + 1];
	size_t w;		/* index in cfg */
	long long t0;		/* ms: since when its pending variables are tried */
	long long next;		/* ms: next try */
	struct avar *v;
	size_t nv;
	bool logged;		/* its attach line was printed */
};

static struct {
	char **paths;
	size_t npaths;
	struct dmn_config cfg;
	struct att **a;
	size_t na;
	bool module_up;
	bool keep;
	long long resolve_ms;
	uint64_t errors;
	struct cli_region *regs;	/* the last `regions` read */
	size_t nregs;
} D;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* FNV-1a, for shortened names */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* The region name of variable VAR of watch W in process pid: W.VAR.PID, at most 31 chars. */
static void region_name(const char *w, const char *var, pid_t pid, char *out)
{
	char base[128], suf[16];
	size_t bl, sl;

	snprintf(base, sizeof(base), "%s.%s", w, var);
	snprintf(suf, sizeof(suf), ".%d", (int)pid);
	bl = strlen(base);
	sl = strlen(suf);
	if (bl + sl <= UMS_NAME_LEN - 1) {
		memcpy(out, base, bl);
		memcpy(out + bl, suf, sl + 1);
		return;
	}
	/* deterministic: the first characters, '-', 4 hex digits of the hash of the whole */
	snprintf(out, UMS_NAME_LEN, "%.*s-%04x%s", (int)(UMS_NAME_LEN - 1 - sl - 5), base,
		 fnv1a(base) & 0xffff, suf);
}

static int read_regions_quiet(void)
{
	struct cli_region *r = NULL;
	size_t n = 0;
	char *msg;
	int ret;

	if (!cli_read_file_ok("regions"))
		return -1;
	dmn_capture_begin();
	ret = cli_read_regions(&r, &n);
	msg = dmn_capture_end();
	free(msg);
	if (ret)
		return -1;
	free(D.regs);
	D.regs = r;
	D.nregs = n;
	return 0;
}

static const struct cli_region *region_find(const char *name)
{
	for (size_t i = 0; i < D.nregs; i++)
		if (!strcmp(D.regs[i].name, name))
			return &D.regs[i];
	return NULL;
}

static struct att *att_find(pid_t pid, const char *watch)
{
	for (size_t i = 0; i < D.na; i++)
		if (D.a[i]->pid == pid && !strcmp(D.a[i]->watch, watch))
			return D.a[i];
	return NULL;
}

static struct att *att_new(const struct dmn_proc *p, size_t w)
{
	struct dmn_watch *wt = &D.cfg.w[w];
	struct att *a = calloc(1, sizeof(*a)), **t;

	if (!a)
		return NULL;
	a->v = calloc(wt->nv, sizeof(*a->v));
	t = realloc(D.a, (D.na + 1) * sizeof(*t));
	if (!a->v || !t) {
		free(a->v);
		free(a);
		return NULL;
	}
	D.a = t;
	a->pid = p->pid;
	a->start = p->start;
	snprintf(a->comm, sizeof(a->comm), "%s", p->comm);
	snprintf(a->watch, sizeof(a->watch), "%s", wt->name);
	a->w = w;
	a->nv = wt->nv;
	for (size_t i = 0; i < wt->nv; i++)
		region_name(wt->name, wt->v[i].name, p->pid, a->v[i].rname);
	a->t0 = a->next = now_ms();
	D.a[D.na++] = a;
	return a;
}

/* Delete region NAME if it exists; quiet (it may have gone with its process). */
static bool region_del(const char *name)
{
	char line[64], *msg;
	int r;

	snprintf(line, sizeof(line), "del name=%s\n", name);
	dmn_capture_begin();
	r = cli_write_control("del", line);
	msg = dmn_capture_end();
	free(msg);
	return r == 0;
}

/* Drop attachment a (its regions deleted unless keep) and free it. */
static void att_drop(struct att *a, const char *why, bool del)
{
	int n = 0;

	for (size_t i = 0; i < a->nv; i++)
		if (a->v[i].state == VS_ACTIVE && del && D.module_up && region_del(a->v[i].rname))
			n++;
	if (a->logged)
		dmn_log("detach watch=%s pid=%d comm=%s (%s): %d region%s removed", a->watch,
			(int)a->pid, a->comm, why, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < D.na; i++)
		if (D.a[i] == a) {
			D.a[i] = D.a[--D.na];
			break;
		}
	free(a->v);
	free(a);
}

/* The add line of variable v in process pid under region name; 0, or -1 with *why set. */
static int add_line(pid_t pid, const struct dmn_var *v, const char *rname, char *line,
		    size_t ln, char *type, char **why)
{
	struct ums_resolved res;
	struct ums_limits lim = {
		.max_len = UINT64_MAX, .addr_limit = UINT64_MAX, .default_period_us = 10000,
		.min_period_us = UMS_PERIOD_MIN_US, .max_period_us = UMS_PERIOD_MAX_US,
		.max_pid = CLI_PID_MAX,
	};
	struct ums_cmd cmd;
	struct ums_perr perr;
	uint64_t len = v->len, scalar;
	int vtype = v->vtype, r;

	dmn_capture_begin();
	r = ums_resolve(pid, v->expr, &res);
	*why = dmn_capture_end();
	if (r)
		return -1;
	free(*why);
	*why = NULL;
	if (vtype < 0) {
		vtype = res.vtype >= 0 ? res.vtype : UMS_VT_HEX;
		scalar = ums_vtype_size((unsigned int)vtype);
		if (len && scalar && scalar != len)
			vtype = UMS_VT_HEX;
	}
	scalar = ums_vtype_size((unsigned int)vtype);
	if (!len)
		len = scalar ? scalar : res.len;
	if (!len) {
		ums_resolved_free(&res);
		*why = strdup("the length is unknown: give len= or a scalar type=");
		return -1;
	}
	r = snprintf(line, ln, "add pid=%d addr=0x%" PRIx64 " len=%" PRIu64 " type=%s name=%s",
		     (int)pid, res.addr, len, ums_vtype_name((unsigned int)vtype), rname);
	if (v->period_us)
		r += snprintf(line + r, ln - (size_t)r, " period_us=%" PRIu64, v->period_us);
	if (v->mode >= 0)
		r += snprintf(line + r, ln - (size_t)r, " mode=%s",
			      ums_mode_name((unsigned int)v->mode));
	if (v->fault)
		r += snprintf(line + r, ln - (size_t)r, " fault");
	if (v->mirror)
		r += snprintf(line + r, ln - (size_t)r, " mirror");
	for (int i = 0; i < res.nderef; i++)
		r += snprintf(line + r, ln - (size_t)r, "%s%" PRId64, i ? "," : " deref=",
			      res.deref[i]);
	ums_resolved_free(&res);
	if ((size_t)r >= ln - 1 || ums_parse_line(line, (size_t)r, 1, &lim, &cmd, &perr)) {
		if (asprintf(why, "invalid command '%s': %s", line,
			     (size_t)r >= ln - 1 ? "too long" : perr.msg) < 0)
			*why = NULL;
		return -1;
	}
	line[r++] = '\n';
	line[r] = '\0';
	snprintf(type, 8, "%s", ums_vtype_name((unsigned int)vtype));
	return 0;
}

/* Try to register a's pending variables.  Returns false if a was dropped. */
static bool att_try(struct att *a)
{
	struct dmn_watch *w = &D.cfg.w[a->w];
	long long now = now_ms();
	bool late = now - a->t0 >= D.resolve_ms, pending = false, dead = false;
	char added[1024] = "";
	size_t al = 0;
	int nadd = 0;

	if (!D.module_up)
		return true;
	if (dmn_proc_start(a->pid) != a->start) {
		att_drop(a, "exited", true);
		return false;
	}
	for (size_t i = 0; i < a->nv && !dead; i++) {
		struct avar *av = &a->v[i];
		char line[UMS_LINE_MAX + 2], *why = NULL, *msg;
		const struct cli_region *r;
		int rc, e;

		if (av->state != VS_PENDING)
			continue;
		rc = add_line(a->pid, &w->v[i], av->rname, line, sizeof(line), av->type, &why);
		if (!rc) {
			dmn_capture_begin();
			rc = cli_write_control("add", line);
			e = errno;
			msg = dmn_capture_end();
			if (rc && e == EEXIST && !read_regions_quiet() &&
			    (r = region_find(av->rname)) && r->pid == a->pid) {
				rc = 0;	/* ours already (a race with a rescan or a restart) */
			}
			if (rc && e == ESRCH)
				dead = true;
			if (rc) {
				free(why);
				why = msg;
			} else {
				free(msg);
			}
		}
		if (!rc) {
			av->state = VS_ACTIVE;
			av->id = 0;
			nadd++;
			al += (size_t)snprintf(added + al, al < sizeof(added) ? sizeof(added) - al : 0,
					       "%s%s", nadd > 1 ? "," : "", av->rname);
			if (al >= sizeof(added))
				al = sizeof(added);
		} else if (late && !dead) {
			av->state = VS_FAILED;
			D.errors++;
			dmn_log("error watch=%s pid=%d comm=%s var=%s: %s", a->watch, (int)a->pid,
				a->comm, w->v[i].expr, why && *why ? why : "failed");
		} else {
			pending = true;
		}
		free(why);
	}
	if (dead) {
		att_drop(a, "exited", true);
		return false;
	}
	if (nadd) {
		/* the ids, to notice a region that goes while the process lives */
		if (!read_regions_quiet())
			for (size_t i = 0; i < a->nv; i++) {
				const struct cli_region *r = region_find(a->v[i].rname);

				if (a->v[i].state == VS_ACTIVE && !a->v[i].id && r)
					a->v[i].id = r->id;
			}
		dmn_log("attach watch=%s pid=%d comm=%s: %d region%s %s", a->watch, (int)a->pid,
			a->comm, nadd, nadd == 1 ? "" : "s", added);
		a->logged = true;
	}
	a->next = now + (pending ? 50 : 0);
	return true;
}

/* ---- matching ---- */

/* Look at process pid: attach the watches it matches, drop those it no longer matches. */
static void check_pid(pid_t pid, bool exec)
{
	struct dmn_proc p;

	if (dmn_proc_read(pid, &p)) {
		for (size_t i = 0; i < D.na;)
			if (D.a[i]->pid == pid)
				att_drop(D.a[i], "exited", true);
			else
				i++;
		return;
	}
	for (size_t w = 0; w < D.cfg.n; w++) {
		struct att *a = att_find(pid, D.cfg.w[w].name);
		bool m = dmn_watch_matches(&D.cfg.w[w], &p);

		if (a && (exec || a->start != p.start || !m)) {
			att_drop(a, a->start != p.start ? "exited" : exec ? "exec" : "no match",
				 true);
			a = NULL;
		}
		if (m && !a)
			att_new(&p, w);
	}
	dmn_proc_free(&p);
}

static void check_pid_cb(void *arg, pid_t pid)
{
	(void)arg;
	check_pid(pid, false);
}

static void rescan(void)
{
	/* processes gone since */
	for (size_t i = 0; i < D.na;)
		if (dmn_proc_start(D.a[i]->pid) != D.a[i]->start)
			att_drop(D.a[i], "exited", true);
		else
			i++;
	dmn_proc_each(check_pid_cb, NULL);
}

static void cn_event(void *arg, int ev, pid_t pid)
{
	(void)arg;
	if (ev == DMN_EV_EXEC) {
		check_pid(pid, true);
		return;
	}
	for (size_t i = 0; i < D.na;)
		if (D.a[i]->pid == pid)
			att_drop(D.a[i], "exited", true);
		else
			i++;
}

/* ---- the module: regions that went, the module reloaded, adoption ---- */

static void reconcile(void)
{
	if (read_regions_quiet()) {
		if (D.module_up) {
			int n = 0;

			for (size_t i = 0; i < D.na; i++)
				for (size_t k = 0; k < D.a[i]->nv; k++)
					if (D.a[i]->v[k].state != VS_PENDING) {
						D.a[i]->v[k].state = VS_PENDING;
						n++;
					}
			dmn_log("module gone (%s/regions unreadable): %d region%s to register "
				"again when it is back", cli_debugfs_dir(), n, n == 1 ? "" : "s");
			D.module_up = false;
		}
		return;
	}
	if (!D.module_up) {
		dmn_log("module back: registering");
		D.module_up = true;
		for (size_t i = 0; i < D.na; i++)
			D.a[i]->t0 = D.a[i]->next = now_ms();
	}
	for (size_t i = 0; i < D.na; i++) {
		struct att *a = D.a[i];
		int gone = 0;

		for (size_t k = 0; k < a->nv; k++) {
			const struct cli_region *r;

			if (a->v[k].state != VS_ACTIVE)
				continue;
			r = region_find(a->v[k].rname);
			if (r && (!a->v[k].id || r->id == a->v[k].id) && r->pid == a->pid) {
				a->v[k].id = r->id;
				continue;
			}
			a->v[k].state = VS_PENDING;
			gone++;
		}
		if (!gone)
			continue;
		if (dmn_proc_start(a->pid) != a->start) {
			att_drop(a, "exited", false);
			i--;
			continue;
		}
		dmn_log("watch=%s pid=%d comm=%s: %d region%s went away while the process lives: "
			"registering again", a->watch, (int)a->pid, a->comm, gone,
			gone == 1 ? "" : "s");
		a->t0 = a->next = now_ms();
		/* an exec without the connector: does it still match? */
		check_pid(a->pid, false);
		i = (size_t)-1;	/* the array may have changed: start over (bounded: gone regions
				 * are pending now) */
	}
}

/* Adopt the regions a previous daemon left (same names), remove stale ones of our watches. */
static void adopt(void)
{
	int adopted = 0, removed = 0;

	if (read_regions_quiet())
		return;
	for (size_t i = 0; i < D.nregs; i++) {
		const struct cli_region *r = &D.regs[i];
		struct dmn_proc p;
		bool ours = false, done = false;
		char nm[UMS_NAME_LEN], pre[DMN_WATCH_NAME_MAX + 3], suf[16];

		for (size_t w = 0; w < D.cfg.n && !done; w++) {
			struct dmn_watch *wt = &D.cfg.w[w];

			snprintf(pre, sizeof(pre), "%s.", wt->name);
			snprintf(suf, sizeof(suf), ".%" PRId64, r->pid);
			if (!strncmp(r->name, pre, strlen(pre)) && strlen(r->name) > strlen(suf) &&
			    !strcmp(r->name + strlen(r->name) - strlen(suf), suf))
				ours = true;
			for (size_t k = 0; k < wt->nv && !done; k++) {
				struct att *a;

				region_name(wt->name, wt->v[k].name, (pid_t)r->pid, nm);
				if (strcmp(nm, r->name))
					continue;
				ours = true;
				if (dmn_proc_read((pid_t)r->pid, &p))
					break;
				if (dmn_watch_matches(wt, &p)) {
					a = att_find(p.pid, wt->name);
					if (!a)
						a = att_new(&p, w);
					if (a) {
						a->v[k].state = VS_ACTIVE;
						a->v[k].id = r->id;
						snprintf(a->v[k].type, sizeof(a->v[k].type), "%s",
							 r->type);
						a->logged = true;
						adopted++;
						done = true;
					}
				}
				dmn_proc_free(&p);
			}
		}
		if (ours && !done && region_del(r->name))
			removed++;
	}
	if (adopted || removed)
		dmn_log("adopted %d region%s of a previous run, removed %d stale", adopted,
			adopted == 1 ? "" : "s", removed);
}

static void reload(void)
{
	struct dmn_config nc;

	dmn_log("SIGHUP: reloading the watch files");
	dmn_config_load(D.paths, D.npaths, &nc);
	for (size_t i = 0; i < D.na;) {
		struct att *a = D.a[i];
		size_t w;

		for (w = 0; w < nc.n; w++)
			if (!strcmp(nc.w[w].name, a->watch))
				break;
		if (w < nc.n && nc.w[w].canon && D.cfg.w[a->w].canon &&
		    !strcmp(nc.w[w].canon, D.cfg.w[a->w].canon)) {
			a->w = w;
			i++;
			continue;
		}
		att_drop(a, w < nc.n ? "watch changed" : "watch removed", true);
	}
	dmn_config_free(&D.cfg);
	D.cfg = nc;
	dmn_log("%zu watch%s", D.cfg.n, D.cfg.n == 1 ? "" : "es");
	rescan();
}

/* ---- metrics ---- */

struct mbuf {
	char *p;
	size_t len, cap;
};

static void mb_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap ? b->cap * 2 : 16384) + (size_t)n;
			char *t = realloc(b->p, cap);

			if (!t)
				return;
			b->p = t;
			b->cap = cap;
		}
	}
}

/* A label value escaped per the exposition formats: \ " and newline. */
static void esc(char *out, size_t n, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < n; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* A family header: HELP and TYPE (OpenMetrics: a counter's family drops "_total"). */
static void family(struct mbuf *b, bool om, const char *name, const char *type,
		   const char *help)
{
	size_t n = strlen(name);

	if (om && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	mb_printf(b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name, help, (int)n, name, type);
}

static bool numeric_type(const char *t)
{
	return t[0] == 'u' || t[0] == 's' || t[0] == 'f';
}

/* The number text of a values/ file for the exposition formats, or NULL. */
static const char *number(const char *v, char *buf, size_t n)
{
	char *end;

	if (!v || !*v)
		return NULL;
	if (!strcasecmp(v, "nan"))
		return "NaN";
	if (!strcasecmp(v, "inf") || !strcasecmp(v, "+inf"))
		return "+Inf";
	if (!strcasecmp(v, "-inf"))
		return "-Inf";
	errno = 0;
	(void)strtod(v, &end);
	if (end == v || *end)
		return NULL;
	snprintf(buf, n, "%s", v);
	return buf;
}

static uint64_t stat_of(const char *stats, const char *key)
{
	size_t kl = strlen(key);

	for (const char *l = stats; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ' ')
			return strtoull(l + kl + 1, NULL, 10);
	return 0;
}

static void render(void *arg, bool om, char **body, size_t *len)
{
	struct mbuf b = { 0 };
	char *stats = cli_read_file("stats", NULL);
	bool up = !read_regions_quiet() && stats;
	size_t procs = 0, regs = 0;
	static const struct {
		const char *name, *help;
	} per[] = {
		{ "umsampler_value", "latest sampled value of a watched variable" },
		{ "umsampler_region_samples_total", "samples taken of a watched variable's region" },
		{ "umsampler_region_partial_total", "samples of it with bytes not resident (partial)" },
	};

	(void)arg;
	for (int f = 0; f < 3; f++) {
		family(&b, om, per[f].name, f ? "counter" : "gauge", per[f].help);
		for (size_t i = 0; up && i < D.na; i++) {
			struct att *a = D.a[i];
			struct dmn_watch *w = &D.cfg.w[a->w];
			char lw[64], lv[64], lc[64];

			esc(lw, sizeof(lw), a->watch);
			esc(lc, sizeof(lc), a->comm);
			for (size_t k = 0; k < a->nv; k++) {
				const struct cli_region *r;
				char nb[64], *v;
				const char *num;

				if (a->v[k].state != VS_ACTIVE)
					continue;
				r = region_find(a->v[k].rname);
				if (!r || r->pid != a->pid)
					continue;
				esc(lv, sizeof(lv), w->v[k].name);
				if (f == 0) {
					if (!numeric_type(r->type))
						continue;
					v = cli_read_value(r->name);
					num = number(v, nb, sizeof(nb));
					if (num)
						mb_printf(&b, "umsampler_value{watch=\"%s\",variable="
							  "\"%s\",pid=\"%d\",comm=\"%s\"} %s\n", lw,
							  lv, (int)a->pid, lc, num);
					free(v);
					continue;
				}
				mb_printf(&b, "%s{watch=\"%s\",variable=\"%s\",pid=\"%d\",comm=\"%s\"} "
					  "%" PRIu64 "\n", per[f].name, lw, lv, (int)a->pid, lc,
					  f == 1 ? r->samples : r->partial);
			}
		}
	}
	for (size_t i = 0; i < D.na; i++) {
		size_t n = 0;

		for (size_t k = 0; k < D.a[i]->nv; k++)
			n += D.a[i]->v[k].state == VS_ACTIVE;
		procs += n > 0;
		regs += n;
	}
	family(&b, om, "umsampler_up", "gauge", "1 if the umsampler module's debugfs files are "
	       "readable");
	mb_printf(&b, "umsampler_up %d\n", up ? 1 : 0);
	if (up) {
		family(&b, om, "umsampler_samples_total", "counter", "samples the sampler took "
		       "(all regions)");
		mb_printf(&b, "umsampler_samples_total %" PRIu64 "\n", stat_of(stats, "samples"));
		family(&b, om, "umsampler_missed_total", "counter", "periods skipped because the "
		       "sampler was late");
		mb_printf(&b, "umsampler_missed_total %" PRIu64 "\n", stat_of(stats, "missed"));
		family(&b, om, "umsampler_partial_total", "counter", "samples with bytes not "
		       "resident");
		mb_printf(&b, "umsampler_partial_total %" PRIu64 "\n", stat_of(stats, "partial"));
		family(&b, om, "umsampler_late_p99_seconds", "gauge", "99th percentile of the "
		       "sampler's lateness");
		mb_printf(&b, "umsampler_late_p99_seconds %.9f\n",
			  stat_of(stats, "late_p99_ns") / 1e9);
		family(&b, om, "umsampler_regions", "gauge", "regions registered (all users)");
		mb_printf(&b, "umsampler_regions %" PRIu64 "\n", stat_of(stats, "regions"));
	}
	family(&b, om, "umsampler_daemon_processes", "gauge", "processes with regions of the "
	       "daemon");
	mb_printf(&b, "umsampler_daemon_processes %zu\n", procs);
	family(&b, om, "umsampler_daemon_regions", "gauge", "regions the daemon registered");
	mb_printf(&b, "umsampler_daemon_regions %zu\n", regs);
	family(&b, om, "umsampler_daemon_errors_total", "counter", "variables that could not be "
	       "registered");
	mb_printf(&b, "umsampler_daemon_errors_total %" PRIu64 "\n", D.errors);
	if (om)
		mb_printf(&b, "# EOF\n");
	free(stats);
	*body = b.p;
	*len = b.p ? b.len : 0;
}

/* ---- main ---- */

static void print_config(void)
{
	for (size_t i = 0; i < D.cfg.n; i++) {
		struct dmn_watch *w = &D.cfg.w[i];

		printf("watch %s (%s:%d): %zu match%s, %zu variable%s:", w->name, w->file, w->line,
		       w->nm, w->nm == 1 ? "" : "es", w->nv, w->nv == 1 ? "" : "s");
		for (size_t k = 0; k < w->nv; k++)
			printf(" %s", w->v[k].name);
		putchar('\n');
	}
}

static int cmd_daemon(int argc, char **argv)
{
	const char *listen = "127.0.0.1:9464";
	char *def[] = { "/etc/umsampler" }, bound[128] = "";
	uint64_t rescan_us = 0, rt_us = CLI_SEC;
	bool no_cn = false, check = false, stop = false;
	struct dmn_http *http = NULL;
	long long last_scan, last_rec;
	int o, cn = -1, sfd;
	sigset_t ss;

	D.module_up = false;
	while ((o = cli_getopt(&cli_daemon, argc, argv)) != -1) {
		switch (o) {
		case 'c': {
			char **t = realloc(D.paths, (D.npaths + 1) * sizeof(*t));

			if (!t)
				return CLI_EXIT_ERR;
			D.paths = t;
			D.paths[D.npaths++] = optarg;
			break;
		}
		case 'l':
			listen = optarg;
			break;
		case 'N':
			no_cn = true;
			break;
		case 'r':
			if (cli_parse_duration(optarg, CLI_SEC, &rescan_us) || rescan_us < 10000)
				return cli_usage_err(&cli_daemon, "bad --rescan '%s' (at least 10ms)",
						     optarg);
			break;
		case 'T':
			if (cli_parse_duration(optarg, CLI_SEC, &rt_us))
				return cli_usage_err(&cli_daemon, "bad --resolve-timeout '%s'",
						     optarg);
			break;
		case 'k':
			D.keep = true;
			break;
		case 'C':
			check = true;
			break;
		default:
			return cli_usage_err(&cli_daemon, NULL);
		}
	}
	if (optind < argc)
		return cli_usage_err(&cli_daemon, "unexpected argument '%s'", argv[optind]);
	if (!D.npaths) {
		D.paths = def;
		D.npaths = 1;
	}
	D.resolve_ms = (long long)(rt_us / 1000);
	dmn_config_load(D.paths, D.npaths, &D.cfg);
	if (check) {
		print_config();
		return D.cfg.errors ? CLI_EXIT_ERR : CLI_EXIT_OK;
	}
	dmn_log("%zu watch%s, %d error%s in the watch files", D.cfg.n, D.cfg.n == 1 ? "" : "es",
		D.cfg.errors, D.cfg.errors == 1 ? "" : "s");

	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		dmn_log("signalfd: %s", strerror(errno));
		return CLI_EXIT_ERR;
	}
	if (strcmp(listen, "none")) {
		http = dmn_http_open(listen, render, NULL, bound, sizeof(bound));
		if (!http)
			return CLI_EXIT_ERR;
		dmn_log("metrics at http://%s/metrics", bound);
	}
	if (no_cn) {
		dmn_log("proc connector not used (--no-connector): rescanning /proc");
	} else {
		cn = dmn_cn_open();
		if (cn < 0)
			dmn_log("proc connector unavailable (%s): rescanning /proc", strerror(errno));
		else
			dmn_log("proc connector: following exec and exit events");
	}
	if (!rescan_us)
		rescan_us = cn < 0 ? CLI_SEC : 10 * CLI_SEC;
	D.module_up = !read_regions_quiet();
	if (!D.module_up)
		dmn_log("module not loaded (%s/regions unreadable): waiting for it",
			cli_debugfs_dir());
	else
		adopt();
	/* events from now on are queued on cn: the scan cannot miss a process */
	rescan();
	last_scan = last_rec = now_ms();
	while (!stop) {
		struct pollfd fds[80];
		int nf = 0, nh = 0, timeout = 100, budget = 16;
		long long now;

		fds[nf++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (cn >= 0)
			fds[nf++] = (struct pollfd){ .fd = cn, .events = POLLIN };
		if (http)
			nh = dmn_http_fds(http, fds + nf, 80 - nf, &timeout);
		if (timeout > 100 || timeout < 0)
			timeout = 100;
		for (size_t i = 0; i < D.na; i++)
			if (D.module_up && D.a[i]->next && D.a[i]->next - now_ms() < timeout) {
				long long t = D.a[i]->next - now_ms();

				timeout = t < 0 ? 0 : (int)t;
			}
		if (poll(fds, (nfds_t)(nf + nh), timeout) < 0 && errno != EINTR) {
			dmn_log("poll: %s", strerror(errno));
			break;
		}
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					reload();
				else
					stop = true;
			}
		}
		if (cn >= 0 && (fds[1].revents & POLLIN) && dmn_cn_read(cn, cn_event, NULL)) {
			dmn_log("proc connector: events lost: rescanning /proc");
			rescan();
		}
		if (http)
			dmn_http_serve(http, fds + nf, nh);
		now = now_ms();
		if (now - last_rec >= 250) {
			reconcile();
			last_rec = now;
		}
		if (now - last_scan >= (long long)(rescan_us / 1000)) {
			rescan();
			last_scan = now;
		}
		for (size_t i = 0; i < D.na && budget > 0; i++) {
			struct att *a = D.a[i];
			bool pending = false;

			for (size_t k = 0; k < a->nv; k++)
				pending |= a->v[k].state == VS_PENDING;
			if (!pending) {
				a->next = 0;
				continue;
			}
			if (!D.module_up || a->next > now_ms())
				continue;
			budget--;
			if (!att_try(a))
				i--;	/* dropped: another is at i now */
		}
	}
	{
		int n = 0;

		for (size_t i = 0; i < D.na; i++)
			for (size_t k = 0; k < D.a[i]->nv; k++)
				if (D.a[i]->v[k].state == VS_ACTIVE && !D.keep && D.module_up &&
				    region_del(D.a[i]->v[k].rname))
					n++;
		dmn_log("stopping: %d region%s removed%s", n, n == 1 ? "" : "s",
			D.keep ? " (--keep: regions left registered)" : "");
	}
	dmn_http_close(http);
	if (cn >= 0)
		dmn_cn_close(cn);
	return CLI_EXIT_OK;
}
