// SPDX-License-Identifier: GPL-2.0
/*
 * daemon_watch.c - the watch files of `umsampler daemon` (cli.h: dmn_config_load()).
 *
 * Owns: the watch-file syntax.  Line-oriented; '#' starts a comment line, blank lines are
 * ignored:
 *
 *   [watch NAME]                   a watch: NAME 1..20 of [A-Za-z0-9_-], unique over all files
 *   match comm=NAME                every match line of a watch must hold (AND):
 *   match exe=/usr/sbin/foo          comm (/proc/PID/comm), exe (/proc/PID/exe),
 *   match cmdline=~REGEX             cmdline (arguments joined by spaces), cgroup (the v2
 *   match cgroup=/system.slice/x     path: equal or beneath), unit (a component of the
 *   match unit=foo.service           cgroup path; ".service" added without a suffix);
 *                                    KEY=~REGEX (POSIX extended, unanchored) for all but unit
 *   var EXPR [name=N] [type=T] [len=N] [period=D|period_us=N] [mode=always|change|none]
 *       [fault] [mirror]             a variable: EXPR as `umsampler add` takes it
 *
 * An error is logged as FILE:LINE: reason and drops the watch it is in; the others stay.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "parse.h"
#include "resolve_int.h"

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':' || c == '-';
}

struct wparse {
	struct dmn_config *c;
	const char *file;
	struct dmn_watch *cur;	/* the watch being read (last of c->w), NULL outside */
	bool cur_bad;
};

static void werr(struct wparse *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void werr(struct wparse *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dmn_log("%s:%d: %s%s", p->file, line, msg,
		p->cur && !p->cur_bad ? " (watch dropped)" : "");
	p->c->errors++;
	if (p->cur)
		p->cur_bad = true;
}

static void watch_free(struct dmn_watch *w)
{
	for (size_t i = 0; i < w->nm; i++) {
		free(w->m[i].value);
		if (w->m[i].re) {
			regfree(w->m[i].re);
			free(w->m[i].re);
		}
	}
	for (size_t i = 0; i < w->nv; i++)
		free(w->v[i].expr);
	free(w->m);
	free(w->v);
	free(w->file);
	free(w->canon);
	memset(w, 0, sizeof(*w));
}

void dmn_config_free(struct dmn_config *c)
{
	for (size_t i = 0; i < c->n; i++)
		watch_free(&c->w[i]);
	free(c->w);
	memset(c, 0, sizeof(*c));
}

static void canon_add(struct dmn_watch *w, const char *s)
{
	size_t a = w->canon ? strlen(w->canon) : 0, b = strlen(s);
	char *t = realloc(w->canon, a + b + 2);

	if (!t)
		return;
	memcpy(t + a, s, b);
	t[a + b] = '\n';
	t[a + b + 1] = '\0';
	w->canon = t;
}

/* Close the current watch: keep it if it is complete and had no error. */
static void watch_end(struct wparse *p)
{
	struct dmn_watch *w = p->cur;

	if (!w)
		return;
	if (!p->cur_bad && !w->nm)
		werr(p, w->line, "watch '%s' has no match line", w->name);
	if (!p->cur_bad && !w->nv)
		werr(p, w->line, "watch '%s' has no var line", w->name);
	if (p->cur_bad) {
		watch_free(w);
		p->c->n--;
	}
	p->cur = NULL;
	p->cur_bad = false;
}

static bool watch_name_ok(const char *s, size_t n)
{
	if (!n || n > DMN_WATCH_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static void watch_begin(struct wparse *p, int line, const char *s)
{
	const char *end = strchr(s, ']');
	struct dmn_watch *t;
	const char *name;
	size_t n;

	watch_end(p);
	if (strncmp(s, "[watch", 6) || !isspace((unsigned char)s[6]) || !end || end[1]) {
		werr(p, line, "expected '[watch NAME]'");
		return;
	}
	name = s + 6;
	while (isspace((unsigned char)*name))
		name++;
	n = (size_t)(end - name);
	while (n && isspace((unsigned char)name[n - 1]))
		n--;
	t = realloc(p->c->w, (p->c->n + 1) * sizeof(*t));
	if (!t) {
		werr(p, line, "out of memory");
		return;
	}
	p->c->w = t;
	p->cur = &p->c->w[p->c->n++];
	memset(p->cur, 0, sizeof(*p->cur));
	p->cur->file = strdup(p->file);
	p->cur->line = line;
	p->cur_bad = false;
	if (!watch_name_ok(name, n)) {
		werr(p, line, "bad watch name '%.*s' (1..%d of [A-Za-z0-9_-])", (int)n, name,
		     DMN_WATCH_NAME_MAX);
		return;
	}
	memcpy(p->cur->name, name, n);
	p->cur->name[n] = '\0';
	for (size_t i = 0; i + 1 < p->c->n; i++)
		if (!strcmp(p->c->w[i].name, p->cur->name)) {
			werr(p, line, "watch '%s' is already defined in %s:%d", p->cur->name,
			     p->c->w[i].file, p->c->w[i].line);
			return;
		}
	canon_add(p->cur, s);
}

static const char *const match_keys[] = {
	[DMN_COMM] = "comm", [DMN_EXE] = "exe", [DMN_CMDLINE] = "cmdline",
	[DMN_CGROUP] = "cgroup", [DMN_UNIT] = "unit",
};

static void match_line(struct wparse *p, int line, const char *s)
{
	struct dmn_watch *w = p->cur;
	struct dmn_match m = { .key = -1 }, *t;
	const char *eq = strchr(s, '=');
	int rc;

	if (!eq) {
		werr(p, line, "expected 'match KEY=VALUE' or 'match KEY=~REGEX' (KEY: comm, exe, "
		     "cmdline, cgroup, unit)");
		return;
	}
	for (int k = 0; k <= DMN_UNIT; k++)
		if (strlen(match_keys[k]) == (size_t)(eq - s) && !strncmp(s, match_keys[k],
									    (size_t)(eq - s)))
			m.key = k;
	if (m.key < 0) {
		werr(p, line, "unknown match key '%.*s' (comm, exe, cmdline, cgroup, unit)",
		     (int)(eq - s), s);
		return;
	}
	eq++;
	if (*eq == '~') {
		m.regex = true;
		eq++;
	}
	if (!*eq) {
		werr(p, line, "empty %s value", match_keys[m.key]);
		return;
	}
	if (m.regex && m.key == DMN_UNIT) {
		werr(p, line, "unit takes a unit name, not a regex (use cgroup=~REGEX)");
		return;
	}
	if (m.key == DMN_UNIT && !strchr(eq, '.')) {
		if (asprintf(&m.value, "%s.service", eq) < 0)
			m.value = NULL;
	} else {
		m.value = strdup(eq);
	}
	if (!m.value) {
		werr(p, line, "out of memory");
		return;
	}
	if (m.key == DMN_COMM && !m.regex && strlen(m.value) > 15)
		m.value[15] = '\0';	/* the kernel keeps 15 characters of comm */
	if (m.regex) {
		m.re = calloc(1, sizeof(regex_t));
		rc = m.re ? regcomp(m.re, m.value, REG_EXTENDED | REG_NOSUB) : REG_ESPACE;
		if (rc) {
			char msg[128] = "out of memory";

			if (m.re)
				regerror(rc, m.re, msg, sizeof(msg));
			werr(p, line, "bad regex '%s': %s", m.value, msg);
			free(m.re);
			free(m.value);
			return;
		}
	}
	t = realloc(w->m, (w->nm + 1) * sizeof(*t));
	if (!t) {
		werr(p, line, "out of memory");
		if (m.re) {
			regfree(m.re);
			free(m.re);
		}
		free(m.value);
		return;
	}
	w->m = t;
	w->m[w->nm++] = m;
}

static int vtype_by_name(const char *s)
{
	for (unsigned int i = 0; i < UMS_VT_NR; i++)
		if (!strcmp(ums_vtype_name(i), s))
			return (int)i;
	return -1;
}

/* Is EXPR a TARGET `umsampler add` takes?  Prints why not into *why. */
static bool expr_ok(const char *expr, char **why)
{
	struct target tg = { 0 };
	const char *rest = expr, *colon;
	int r;

	if (!strncmp(expr, "0x", 2) || !strncmp(expr, "0X", 2)) {
		char *end;

		errno = 0;
		(void)strtoull(expr + 2, &end, 16);
		if (errno || end == expr + 2 || *end) {
			*why = strdup("bad address");
			return false;
		}
		return true;
	}
	colon = strchr(expr, ':');
	if (colon) {
		if (colon == expr) {
			*why = strdup("empty object name");
			return false;
		}
		rest = colon + 1;
	}
	dmn_capture_begin();
	r = target_parse(rest, false, &tg);
	*why = dmn_capture_end();
	target_free(&tg);
	return r == 0;
}

static void var_line(struct wparse *p, int line, char *s)
{
	struct dmn_watch *w = p->cur;
	struct dmn_var v = { .vtype = -1, .mode = -1 }, *t;
	char *save = NULL, *tok = strtok_r(s, " \t", &save), *why = NULL;
	bool named = false;

	if (!tok) {
		werr(p, line, "expected 'var EXPR [options]'");
		return;
	}
	if (!expr_ok(tok, &why)) {
		werr(p, line, "bad variable '%s': %s", tok, why && *why ? why : "malformed");
		free(why);
		return;
	}
	free(why);
	v.expr = strdup(tok);
	if (!v.expr) {
		werr(p, line, "out of memory");
		return;
	}
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *val = strchr(tok, '=');

		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "fault") && !val) {
			v.fault = true;
		} else if (!strcmp(tok, "mirror") && !val) {
			v.mirror = true;
		} else if (!val) {
			werr(p, line, "unknown option '%s' (name= type= len= period= period_us= "
			     "mode= fault mirror)", tok);
			goto bad;
		} else if (!strcmp(tok, "name")) {
			size_t n = strlen(val);
			bool ok = n && n <= DMN_VAR_NAME_MAX;

			for (size_t i = 0; ok && i < n; i++)
				ok = name_char(val[i]);
			if (!ok) {
				werr(p, line, "bad name '%s' (1..%d of [A-Za-z0-9_.:-])", val,
				     DMN_VAR_NAME_MAX);
				goto bad;
			}
			snprintf(v.name, sizeof(v.name), "%s", val);
			named = true;
		} else if (!strcmp(tok, "type")) {
			v.vtype = vtype_by_name(val);
			if (v.vtype < 0) {
				werr(p, line, "unknown type '%s' (hex u8 u16 u32 u64 s8 s16 s32 s64 "
				     "f32 f64 str)", val);
				goto bad;
			}
		} else if (!strcmp(tok, "len")) {
			if (cli_parse_u64(val, &v.len) || !v.len) {
				werr(p, line, "bad len '%s'", val);
				goto bad;
			}
		} else if (!strcmp(tok, "period") || !strcmp(tok, "period_us")) {
			if (cli_parse_duration(val, CLI_US, &v.period_us) ||
			    v.period_us < UMS_PERIOD_MIN_US || v.period_us > UMS_PERIOD_MAX_US) {
				werr(p, line, "bad %s '%s' (100us..1h)", tok, val);
				goto bad;
			}
		} else if (!strcmp(tok, "mode")) {
			v.mode = -1;
			for (unsigned int i = 0; i < UMS_MODE_NR; i++)
				if (!strcmp(ums_mode_name(i), val))
					v.mode = (int)i;
			if (v.mode < 0) {
				werr(p, line, "bad mode '%s' (always, change, none)", val);
				goto bad;
			}
		} else {
			werr(p, line, "unknown option '%s=' (name= type= len= period= period_us= "
			     "mode= fault mirror)", tok);
			goto bad;
		}
	}
	if (v.vtype >= 0 && v.len && ums_vtype_size((unsigned int)v.vtype) &&
	    ums_vtype_size((unsigned int)v.vtype) != v.len) {
		werr(p, line, "len=%" PRIu64 " does not match type=%s", v.len,
		     ums_vtype_name((unsigned int)v.vtype));
		goto bad;
	}
	if (!named) {
		size_t i;

		for (i = 0; v.expr[i] && i < DMN_VAR_NAME_MAX; i++)
			v.name[i] = name_char(v.expr[i]) ? v.expr[i] : '_';
		v.name[i] = '\0';
		if (v.expr[i]) {
			werr(p, line, "variable '%s': the name would be longer than %d characters: "
			     "give name=", v.expr, DMN_VAR_NAME_MAX);
			goto bad;
		}
	}
	for (size_t i = 0; i < w->nv; i++)
		if (!strcmp(w->v[i].name, v.name)) {
			werr(p, line, "variable name '%s' used twice in watch '%s' (give name=)",
			     v.name, w->name);
			goto bad;
		}
	t = realloc(w->v, (w->nv + 1) * sizeof(*t));
	if (!t) {
		werr(p, line, "out of memory");
		goto bad;
	}
	w->v = t;
	w->v[w->nv++] = v;
	return;
bad:
	free(v.expr);
}

static void config_file(struct dmn_config *c, const char *file)
{
	struct wparse p = { .c = c, .file = file };
	char *buf = NULL;
	size_t cap = 0;
	int line = 0;
	ssize_t n;
	FILE *f = fopen(file, "re");

	if (!f) {
		werr(&p, 0, "%s", strerror(errno));
		return;
	}
	while ((n = getline(&buf, &cap, f)) >= 0) {
		char *s = buf, *e;

		line++;
		if (memchr(buf, '\0', (size_t)n)) {
			werr(&p, line, "NUL byte in the line");
			continue;
		}
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			watch_begin(&p, line, s);
			continue;
		}
		if (!p.cur) {
			werr(&p, line, "'%.40s' outside a [watch NAME] section", s);
			continue;
		}
		if (p.cur_bad)
			continue;	/* one message per broken watch */
		canon_add(p.cur, s);
		if (!strncmp(s, "match", 5) && (!s[5] || isspace((unsigned char)s[5]))) {
			s += 5;
			while (isspace((unsigned char)*s))
				s++;
			match_line(&p, line, s);
		} else if (!strncmp(s, "var", 3) && (!s[3] || isspace((unsigned char)s[3]))) {
			s += 3;
			while (isspace((unsigned char)*s))
				s++;
			var_line(&p, line, s);
		} else {
			werr(&p, line, "unknown line '%.40s' (expected match, var or [watch NAME])",
			     s);
		}
	}
	watch_end(&p);
	free(buf);
	fclose(f);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dmn_config_load(char *const *paths, size_t npaths, struct dmn_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		struct dirent *de;
		char **names = NULL, **t;
		size_t nn = 0;
		DIR *d;

		if (stat(paths[i], &st)) {
			struct wparse p = { .c = c, .file = paths[i] };

			werr(&p, 0, "%s", strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			config_file(c, paths[i]);
			continue;
		}
		d = opendir(paths[i]);
		if (!d) {
			struct wparse p = { .c = c, .file = paths[i] };

			werr(&p, 0, "%s", strerror(errno));
			continue;
		}
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);

			if (l < 6 || strcmp(de->d_name + l - 5, ".conf") || de->d_name[0] == '.')
				continue;
			t = realloc(names, (nn + 1) * sizeof(*names));
			if (!t)
				break;
			names = t;
			if (asprintf(&names[nn], "%s/%s", paths[i], de->d_name) < 0)
				break;
			nn++;
		}
		closedir(d);
		qsort(names, nn, sizeof(*names), name_cmp);
		for (size_t k = 0; k < nn; k++) {
			config_file(c, names[k]);
			free(names[k]);
		}
		free(names);
	}
	return c->errors;
}
