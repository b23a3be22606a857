// SPDX-License-Identifier: GPL-2.0
/*
 * resolve.c - symbol and DWARF resolution for `umsampler add` (resolve.h): the entry point.
 *
 * Owns: 0xADDR targets, the OBJECT: prefix, choosing among a symbol's definitions (a global
 * over statics, ELF interposition, else "ambiguous"), TLS and function refusals, and adding
 * the load bias and the DWARF member/element offset; the parts it calls are listed in
 * resolve_int.h.  Error reports go to stderr as "umsampler add: ...".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <unistd.h>

#include "parse.h"
#include "resolve.h"
#include "resolve_int.h"

void resolve_err(const char *fmt, ...)
{
	va_list ap;

	fputs("umsampler add: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void ctx_free(struct ctx *c)
{
	for (size_t i = 0; i < c->nobjs; i++) {
		struct obj *o = &c->objs[i];

		if (o->delf)
			elf_end(o->delf);
		if (o->dfd >= 0)
			close(o->dfd);
		if (o->elf)
			elf_end(o->elf);
		if (o->fd >= 0)
			close(o->fd);
		free(o->syms);
		free(o->maps);
		free(o->path);
		free(o->ppath);
		free(o->dpath);
	}
	free(c->objs);
}

void ums_resolved_free(struct ums_resolved *res)
{
	free(res->object);
	free(res->symbol);
	memset(res, 0, sizeof(*res));
}

static int resolve_sym(struct ctx *c, struct target *tg, struct ums_resolved *res)
{
	struct cand *v = NULL;
	struct obj *o;
	struct sym *s;
	uint64_t bias, off = 0;
	int n, pick = 0, ret = -1;
	Dwarf *dw;

	n = syms_collect(c, tg->object, tg->name, true, &v);
	if (n < 0)
		goto oom;
	if (n == 0) {
		free(v);
		n = syms_collect(c, tg->object, tg->name, false, &v);
		if (n < 0)
			goto oom;
		if (n > 0) {
			resolve_err("'%s' is a function in %s, not a data object", tg->name,
				    v[0].o->path);
			goto out;
		}
		resolve_err("no data symbol '%s' in %s%s of process %d", tg->name,
			    tg->object ? "objects matching " : "any mapped object",
			    tg->object ? tg->object : "", (int)c->pid);
		syms_suggest(c, tg->object, tg->name);
		goto out;
	}
	if (n > 1) {
		/* a global definition wins over statics of the same name elsewhere */
		int g = 0;

		for (int i = 0; i < n; i++)
			if (v[i].s->bind != STB_LOCAL)
				g++;
		if (g && g < n) {
			fprintf(stderr, "umsampler add: note: ignoring %d static '%s' (use "
				"OBJECT:%s):", n - g, tg->name, tg->name);
			for (int i = 0; i < n; i++)
				if (v[i].s->bind == STB_LOCAL)
					fprintf(stderr, " %s", base_name(v[i].o->path));
			fputc('\n', stderr);
			g = 0;
			for (int i = 0; i < n; i++)
				if (v[i].s->bind != STB_LOCAL)
					v[g++] = v[i];
			n = g;
		}
		pick = syms_interposed(v, n);
		if (pick < 0) {
			resolve_err("ambiguous symbol '%s': defined %d times:", tg->name, n);
			for (int i = 0; i < n; i++)
				fprintf(stderr, "  %s:%s (%s, %s, 0x%" PRIx64 ")\n",
					base_name(v[i].o->path), tg->name, v[i].o->path,
					v[i].s->bind == STB_LOCAL ? "local" : "global",
					v[i].s->value);
			fprintf(stderr, "  use OBJECT:SYMBOL, e.g. %s:%s\n",
				base_name(v[0].o->path), tg->name);
			goto out;
		}
	}
	o = v[pick].o;
	s = v[pick].s;
	if (s->type == STT_TLS) {
		resolve_err("'%s' in %s is a thread-local (TLS) variable: not supported (every "
			    "thread has its own copy; use 0xADDR with an address the thread "
			    "printed)",
			    tg->name, o->path);
		goto out;
	}
	if (obj_bias(o, &bias)) {
		resolve_err("%s: cannot compute the load address (no mapping matches a PT_LOAD "
			    "segment)", o->path);
		goto out;
	}
	res->len = s->size;
	res->vtype = -1;
	/*
	 * The type is the same in every definition: an interposed copy (e.g. a copy relocation
	 * in the executable) has no DWARF of its own, the library's has.
	 */
	for (int i = -1; i < n && !res->dwarf; i++) {
		Dwarf_Die var;

		if (i == pick)
			continue;
		dw = obj_dwarf(v[i < 0 ? pick : i].o, c);
		if (!dw)
			continue;
		if (var_find(dw, tg->name, v[i < 0 ? pick : i].s->value, &var)) {
			if (var_apply_access(&var, tg, &off, res->deref, &res->nderef, &res->len,
					     &res->vtype)) {
				dwarf_end(dw);
				goto out;
			}
			res->dwarf = true;
		}
		dwarf_end(dw);
	}
	if (!res->dwarf && tg->nacc) {
		resolve_err("%s: members, indexes and pointers need DWARF debug info for '%s' in %s "
			    "(build with -g or install its debug symbols), or use SYMBOL+OFFSET with "
			    "--len/--type",
			    tg->name, tg->name, o->path);
		goto out;
	}
	if (tg->has_plus && res->nderef) {
		res->deref[res->nderef - 1] += (int64_t)tg->plus;
		res->len = res->len > tg->plus ? res->len - tg->plus : 0;
		res->vtype = -1;
	} else if (tg->has_plus) {
		off += tg->plus;
		res->len = res->len > tg->plus ? res->len - tg->plus : 0;
		res->vtype = -1;
	}
	res->addr = s->value + bias + off;
	res->object = strdup(o->path);
	res->symbol = strdup(tg->name);
	if (!res->object || !res->symbol)
		goto oom;
	ret = 0;
	goto out;
oom:
	resolve_err("out of memory");
out:
	free(v);
	return ret;
}

int ums_resolve(pid_t pid, const char *target, struct ums_resolved *res)
{
	struct ctx c = { .pid = pid };
	struct target tg = { 0 };
	const char *rest = target, *colon;
	int ret;

	memset(res, 0, sizeof(*res));
	res->vtype = -1;
	if (!strncmp(target, "0x", 2) || !strncmp(target, "0X", 2)) {
		char *end;

		errno = 0;
		res->addr = strtoull(target + 2, &end, 16);
		if (errno || end == target + 2 || *end) {
			resolve_err("bad address '%s'", target);
			return -2;
		}
		return 0;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		resolve_err("libelf: %s", elf_errmsg(-1));
		return -1;
	}
	colon = strchr(target, ':');
	if (colon) {
		if (colon == target) {
			resolve_err("bad target '%s': empty object name", target);
			return -2;
		}
		tg.object = strndup(target, (size_t)(colon - target));
		if (!tg.object) {
			resolve_err("out of memory");
			return -1;
		}
		rest = colon + 1;
	}
	snprintf(c.root, sizeof(c.root), "/proc/%d/root", (int)pid);
	ret = maps_read(&c);
	if (ret)
		goto out;
	for (size_t i = 0; i < c.nobjs; i++) {
		if (obj_load_symbols(&c, &c.objs[i])) {
			resolve_err("out of memory");
			ret = -1;
			goto out;
		}
	}
	if (tg.object) {
		bool any = false;

		for (size_t i = 0; i < c.nobjs; i++)
			any |= obj_matches(&c.objs[i], tg.object);
		if (!any) {
			resolve_err("no mapped object matches '%s' in process %d; mapped:",
				    tg.object, (int)pid);
			for (size_t i = 0; i < c.nobjs; i++)
				fprintf(stderr, "  %s\n", c.objs[i].path);
			ret = -1;
			goto out;
		}
	}
	/* A symbol whose name contains dots ("counter.0") wins over NAME.field. */
	ret = target_parse(rest, true, &tg);
	if (!ret && strchr(tg.name, '.')) {
		struct cand *v;
		int n = syms_collect(&c, tg.object, tg.name, true, &v);

		free(v);
		if (n <= 0) {
			char *obj = tg.object;

			tg.object = NULL;
			target_free(&tg);
			tg.object = obj;
			ret = target_parse(rest, false, &tg);
		}
	}
	if (!ret)
		ret = resolve_sym(&c, &tg, res);
	if (ret)
		ums_resolved_free(res);
out:
	target_free(&tg);
	ctx_free(&c);
	return ret;
}
