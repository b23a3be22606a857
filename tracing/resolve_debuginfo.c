// SPDX-License-Identifier: GPL-2.0
/*
 * resolve_debuginfo.c - debug info lookup: DWARF in the object itself, else a separate debug
 * file found by build-id (under $UMSAMPLER_DEBUG_DIR, /proc/PID/root/usr/lib/debug,
 * /usr/lib/debug) or by .gnu_debuglink (next to the object, in its .debug/, under the debug
 * roots), checked to have the object's build-id.
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
#include <elfutils/libdwelf.h>

#include "parse.h"
#include "resolve_int.h"

static bool same_build_id(Elf *a, Elf *b)
{
	const void *ia, *ib;
	ssize_t na = dwelf_elf_gnu_build_id(a, &ia);
	ssize_t nb = dwelf_elf_gnu_build_id(b, &ib);

	if (na <= 0 || nb <= 0)
		return true;	/* cannot tell: accept */
	return na == nb && !memcmp(ia, ib, (size_t)na);
}

static bool try_debug_file(struct obj *o, const char *path)
{
	int fd;
	Elf *e = open_elf_file(path, &fd);

	if (!e)
		return false;
	if (!same_build_id(o->elf, e) || (!has_elf_section(e, ".debug_info") &&
					   !find_elf_section(e, SHT_SYMTAB))) {
		elf_end(e);
		close(fd);
		return false;
	}
	o->delf = e;
	o->dfd = fd;
	o->dpath = strdup(path);
	return true;
}

/* Look for a separate debug file: build-id, then .gnu_debuglink. */
void obj_find_debug_file(struct ctx *c, struct obj *o)
{
	const char *roots[3];
	char sysroot[96], *p = NULL, *dir;
	const unsigned char *id;
	ssize_t nid = dwelf_elf_gnu_build_id(o->elf, (const void **)&id);
	const char *link;
	GElf_Word crc;
	int nroots = 0;

	snprintf(sysroot, sizeof(sysroot), "%s/usr/lib/debug", c->root);
	if (getenv("UMSAMPLER_DEBUG_DIR"))
		roots[nroots++] = getenv("UMSAMPLER_DEBUG_DIR");
	roots[nroots++] = sysroot;
	roots[nroots++] = "/usr/lib/debug";

	if (nid > 1) {
		char hex[2 * 64 + 1];
		ssize_t n = nid > 64 ? 64 : nid;

		for (ssize_t i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", id[i]);
		for (int r = 0; r < nroots; r++) {
			if (asprintf(&p, "%s/.build-id/%.2s/%s.debug", roots[r], hex, hex + 2) < 0)
				return;
			if (try_debug_file(o, p)) {
				free(p);
				return;
			}
			free(p);
		}
	}
	link = dwelf_elf_gnu_debuglink(o->elf, &crc);
	if (!link || strchr(link, '/'))
		return;
	dir = strdup(o->path);
	if (!dir)
		return;
	*strrchr(dir, '/') = '\0';	/* maps paths are absolute */
	for (int i = 0; i < 2 + nroots; i++) {
		int r;

		if (i == 0)
			r = asprintf(&p, "%s%s/%s", c->root, dir, link);
		else if (i == 1)
			r = asprintf(&p, "%s%s/.debug/%s", c->root, dir, link);
		else
			r = asprintf(&p, "%s%s/%s", roots[i - 2], dir, link);
		if (r < 0)
			break;
		if (strcmp(p, o->ppath) && try_debug_file(o, p)) {
			free(p);
			break;
		}
		free(p);
	}
	free(dir);
}


Dwarf *obj_dwarf(struct obj *o, struct ctx *c)
{
	Dwarf *dw;

	if (has_elf_section(o->elf, ".debug_info")) {
		dw = dwarf_begin_elf(o->elf, DWARF_C_READ, NULL);
		if (dw)
			return dw;
	}
	if (!o->delf)
		obj_find_debug_file(c, o);
	if (o->delf && has_elf_section(o->delf, ".debug_info"))
		return dwarf_begin_elf(o->delf, DWARF_C_READ, NULL);
	return NULL;
}
