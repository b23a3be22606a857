// SPDX-License-Identifier: GPL-2.0
/*
 * resolve_maps.c - the target process's mapped objects: /proc/PID/maps parsed into one struct
 * obj per mapped file (path as the process sees it, opened through /proc/PID/root, its
 * mappings and whether it is the main executable).
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
#include <unistd.h>

#include "parse.h"
#include "resolve_int.h"

static struct obj *obj_find_or_add(struct ctx *c, const char *path, unsigned long ino)
{
	struct obj *o;

	for (size_t i = 0; i < c->nobjs; i++)
		if (c->objs[i].ino == ino && !strcmp(c->objs[i].path, path))
			return &c->objs[i];
	o = realloc(c->objs, (c->nobjs + 1) * sizeof(*o));
	if (!o)
		return NULL;
	c->objs = o;
	o = &c->objs[c->nobjs];
	memset(o, 0, sizeof(*o));
	o->fd = o->dfd = -1;
	o->ino = ino;
	o->path = strdup(path);
	if (!o->path || asprintf(&o->ppath, "%s%s", c->root, path) < 0) {
		free(o->path);
		return NULL;
	}
	c->nobjs++;
	return o;
}

int maps_read(struct ctx *c)
{
	char fn[64], exe[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t n, elen;
	FILE *f;
	int ret = 0;

	snprintf(fn, sizeof(fn), "/proc/%d/exe", (int)c->pid);
	elen = readlink(fn, exe, sizeof(exe) - 1);
	exe[elen > 0 ? elen : 0] = '\0';
	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)c->pid);
	f = fopen(fn, "re");
	if (!f) {
		if (errno == ENOENT)
			resolve_err("no such process %d", (int)c->pid);
		else if (errno == EACCES || errno == EPERM)
			resolve_err("permission denied reading %s: reading another process's "
				    "memory map needs root (CAP_SYS_PTRACE)", fn);
		else
			resolve_err("cannot read %s: %s", fn, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		unsigned long long start, end, off;
		unsigned long ino;
		char perms[8];
		int pos = 0;
		struct obj *o;
		struct mapping *m;
		char *path;

		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*x:%*x %lu %n", &start, &end, perms, &off,
			   &ino, &pos) < 5 || !pos)
			continue;
		path = line + pos;
		if (path[0] != '/' || !ino)
			continue;
		if (strstr(path, " (deleted)"))
			continue;
		o = obj_find_or_add(c, path, ino);
		if (!o) {
			ret = -1;
			break;
		}
		if (!strcmp(path, exe))
			o->is_main = true;
		m = realloc(o->maps, (o->nmaps + 1) * sizeof(*m));
		if (!m) {
			ret = -1;
			break;
		}
		o->maps = m;
		o->maps[o->nmaps].start = start;
		o->maps[o->nmaps].off = off;
		o->nmaps++;
	}
	if (ret)
		resolve_err("out of memory");
	else if (ferror(f)) {
		resolve_err("error reading %s", fn);
		ret = -1;
	} else if (!c->nobjs) {
		resolve_err("process %d has no mapped files (kernel thread or zombie?)",
			    (int)c->pid);
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}
