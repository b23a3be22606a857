// SPDX-License-Identifier: GPL-2.0
/*
 * resolve_elf.c - ELF symbols: opening a mapped object, its sections, its data symbols (.symtab,
 * else a debug file's .symtab, else .dynsym), its load bias from the PT_LOAD segments; and
 * symbol lookup over all objects: definitions of a name, ELF interposition among them, and
 * close matches for "did you mean".
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

#define MAX_SUGGEST	5

Elf *open_elf_file(const char *path, int *fdp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;

	*fdp = -1;
	if (fd < 0)
		return NULL;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return e;
}

Elf_Scn *find_elf_section(Elf *e, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	return NULL;
}

bool has_elf_section(Elf *e, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e, &shstrndx))
		return false;
	while ((scn = elf_nextscn(e, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(e, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}


static int load_syms_from(struct obj *o, Elf *e, Elf_Scn *scn)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t n;

	if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	d = elf_getdata(scn, NULL);
	if (!d)
		return 0;
	n = sh.sh_size / sh.sh_entsize;
	o->syms = calloc(n ? n : 1, sizeof(*o->syms));
	if (!o->syms)
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		const char *name;
		struct sym *y;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		switch (GELF_ST_TYPE(s.st_info)) {
		case STT_OBJECT: case STT_TLS: case STT_COMMON: case STT_FUNC: case STT_GNU_IFUNC:
			break;
		default:
			continue;
		}
		name = elf_strptr(e, sh.sh_link, s.st_name);
		if (!name || !*name)
			continue;
		y = &o->syms[o->nsyms++];
		y->name = name;
		y->value = s.st_value;
		y->size = s.st_size;
		y->type = GELF_ST_TYPE(s.st_info);
		y->bind = GELF_ST_BIND(s.st_info);
		y->vis = GELF_ST_VISIBILITY(s.st_other);
	}
	return 0;
}

/* Open an object and read its symbols (once).  Unreadable objects are skipped silently. */
int obj_load_symbols(struct ctx *c, struct obj *o)
{
	Elf_Scn *scn;

	if (o->symtab_loaded)
		return 0;
	o->symtab_loaded = true;
	o->elf = open_elf_file(o->ppath, &o->fd);
	if (!o->elf)
		return 0;
	if ((scn = find_elf_section(o->elf, SHT_SYMTAB))) {
		o->symsrc = ".symtab";
		return load_syms_from(o, o->elf, scn);
	}
	obj_find_debug_file(c, o);
	if (o->delf && (scn = find_elf_section(o->delf, SHT_SYMTAB))) {
		o->symsrc = "debug file .symtab";
		return load_syms_from(o, o->delf, scn);
	}
	if ((scn = find_elf_section(o->elf, SHT_DYNSYM))) {
		o->symsrc = ".dynsym";
		return load_syms_from(o, o->elf, scn);
	}
	return 0;
}

/*
 * Load bias from the first mapping whose file offset lies in a PT_LOAD segment:
 * bias = map_start - (p_vaddr + (map_off - p_offset)).
 */
int obj_bias(struct obj *o, uint64_t *bias)
{
	size_t nph;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	if (elf_getphdrnum(o->elf, &nph))
		return -1;
	for (size_t m = 0; m < o->nmaps; m++) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(o->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
			    !ph.p_filesz)
				continue;
			if (o->maps[m].off >= (ph.p_offset & ~(pg - 1)) &&
			    o->maps[m].off < ph.p_offset + ph.p_filesz) {
				*bias = o->maps[m].start - ph.p_vaddr - o->maps[m].off +
					ph.p_offset;
				return 0;
			}
		}
	}
	return -1;
}


bool obj_matches(const struct obj *o, const char *want)
{
	const char *b = base_name(o->path);
	size_t n = strlen(b);

	if (!strcmp(o->path, want) || !strcmp(b, want))
		return true;
	/* strip trailing ".digits" groups: libfoo.so.1.2 -> libfoo.so, python3.11 -> python3 */
	for (;;) {
		size_t k = n;

		while (k > 0 && isdigit((unsigned char)b[k - 1]))
			k--;
		if (k == n || k == 0 || b[k - 1] != '.')
			break;
		n = k - 1;
		if (strlen(want) == n && !strncmp(b, want, n))
			return true;
	}
	return false;
}

static bool is_data(const struct sym *s)
{
	return s->type == STT_OBJECT || s->type == STT_TLS || s->type == STT_COMMON;
}

/* Collect definitions of name; with data=false, functions instead.  Returns count or -1. */
int syms_collect(struct ctx *c, const char *object, const char *name, bool data,
		 struct cand **out)
{
	struct cand *v = NULL;
	int n = 0;

	*out = NULL;
	for (size_t i = 0; i < c->nobjs; i++) {
		struct obj *o = &c->objs[i];

		if (object && !obj_matches(o, object))
			continue;
		for (size_t k = 0; k < o->nsyms; k++) {
			struct cand *t;

			if (strcmp(o->syms[k].name, name) || is_data(&o->syms[k]) != data)
				continue;
			/* .symtab of a PIE repeats a symbol sometimes: skip exact duplicates */
			bool dup = false;

			for (int j = 0; j < n; j++)
				if (v[j].o == o && v[j].s->value == o->syms[k].value)
					dup = true;
			if (dup)
				continue;
			t = realloc(v, (n + 1) * sizeof(*v));
			if (!t) {
				free(v);
				return -1;
			}
			v = t;
			v[n].o = o;
			v[n].s = &o->syms[k];
			n++;
		}
	}
	*out = v;
	return n;
}

/*
 * Several definitions: if one is in the main executable and all are exported (global/weak,
 * default visibility), the executable's wins (ELF interposition, e.g. a copy relocation of a
 * library variable).  Returns the index or -1.
 */
int syms_interposed(struct cand *v, int n)
{
	int main_idx = -1;

	for (int i = 0; i < n; i++) {
		if (v[i].s->bind == STB_LOCAL || v[i].s->vis != STV_DEFAULT)
			return -1;
		if (v[i].o->is_main) {
			if (main_idx >= 0)
				return -1;
			main_idx = i;
		}
	}
	return main_idx;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[129], prev, tmp;

	if (lb > 128)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

struct sugg {
	const char *name;
	const char *obj;
	size_t dist;
};

void syms_suggest(struct ctx *c, const char *object, const char *name)
{
	struct sugg best[MAX_SUGGEST];
	size_t nb = 0, lim = strlen(name) / 2 + 2;

	if (strlen(name) > 128)
		return;
	for (size_t i = 0; i < c->nobjs; i++) {
		struct obj *o = &c->objs[i];

		if (object && !obj_matches(o, object))
			continue;
		for (size_t k = 0; k < o->nsyms; k++) {
			const char *s = o->syms[k].name;
			size_t d, j;
			bool seen = false;

			if (!is_data(&o->syms[k]))
				continue;
			d = strstr(s, name) ? 1 : edit_distance(name, s);
			if (d > lim)
				continue;
			for (j = 0; j < nb; j++)
				if (!strcmp(best[j].name, s))
					seen = true;
			if (seen)
				continue;
			if (nb < MAX_SUGGEST) {
				j = nb++;
			} else {
				j = 0;
				for (size_t m = 1; m < nb; m++)
					if (best[m].dist > best[j].dist)
						j = m;
				if (best[j].dist <= d)
					continue;
			}
			best[j].name = s;
			best[j].obj = base_name(o->path);
			best[j].dist = d;
		}
	}
	if (!nb)
		return;
	/* sort by distance, then name */
	for (size_t i = 1; i < nb; i++)
		for (size_t j = i; j > 0 && (best[j].dist < best[j - 1].dist ||
		     (best[j].dist == best[j - 1].dist &&
		      strcmp(best[j].name, best[j - 1].name) < 0)); j--) {
			struct sugg t = best[j];

			best[j] = best[j - 1];
			best[j - 1] = t;
		}
	fputs("  did you mean:", stderr);
	for (size_t i = 0; i < nb; i++)
		fprintf(stderr, "%s %s (%s)", i ? "," : "", best[i].name, best[i].obj);
	fputc('\n', stderr);
}
