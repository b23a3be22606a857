// SPDX-License-Identifier: GPL-2.0
/*
 * resolve.c - symbol and DWARF resolution for `umsampler add`.
 *
 * Owns: parsing a TARGET (0xADDR | [OBJECT:]SYMBOL{.field|[N]}[+OFF]), walking the target's
 * mapped ELF objects (/proc/PID/maps, opened through /proc/PID/root), reading their data symbols
 * (.symtab, else a debug file's .symtab, else .dynsym), computing each object's load bias from
 * its PT_LOAD segments, finding debug info (in the object, by build-id, by .gnu_debuglink) and
 * deriving the length and value type of a variable, struct member or array element with libdw.
 * Also the error reports: no such symbol (with close matches), ambiguous symbol, TLS.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <dwarf.h>

#include "parse.h"
#include "resolve.h"

#define MAX_ACCESS	16
#define MAX_DIMS	8
#define MAX_SUGGEST	5

struct mapping {
	uint64_t start;
	uint64_t off;
};

struct sym {
	const char *name;	/* points into the object's string table */
	uint64_t value;
	uint64_t size;
	unsigned char type;	/* STT_* */
	unsigned char bind;	/* STB_* */
	unsigned char vis;	/* STV_* */
};

struct obj {
	char *path;		/* as in maps */
	char *ppath;		/* /proc/PID/root + path */
	unsigned long ino;
	bool is_main;
	struct mapping *maps;
	size_t nmaps;
	int fd, dfd;		/* object, debug file (-1 if none) */
	Elf *elf, *delf;
	char *dpath;		/* debug file path */
	bool symtab_loaded;
	const char *symsrc;	/* ".symtab", "debug .symtab", ".dynsym", NULL: none */
	struct sym *syms;
	size_t nsyms;
};

struct access {
	char kind;		/* '.' or '[' */
	char *field;
	uint64_t index;
};

struct target {
	char *object;		/* NULL: any */
	char *name;
	struct access acc[MAX_ACCESS];
	int nacc;
	uint64_t plus;
	bool has_plus;
};

struct ctx {
	pid_t pid;
	char root[64];		/* /proc/PID/root */
	struct obj *objs;
	size_t nobjs;
};

static void rerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void rerr(const char *fmt, ...)
{
	va_list ap;

	fputs("umsampler add: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* ---- TARGET syntax ---- */

static void target_free(struct target *t)
{
	free(t->object);
	free(t->name);
	for (int i = 0; i < t->nacc; i++)
		free(t->acc[i].field);
	memset(t, 0, sizeof(*t));
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || c == '@';
}

/*
 * Parse the part after OBJECT: as NAME{.field|[N]}[+OFF], with NAME ending at the first '.',
 * '[' or '+' (or at the first '[' or '+' when namelen_dots is set: symbols like "x.0").
 */
static int parse_path(const char *s, bool name_dots, struct target *t)
{
	size_t n = name_dots ? strcspn(s, "[+") : strcspn(s, ".[+");
	const char *p = s + n;
	char *end;

	if (n == 0) {
		rerr("bad target '%s': missing symbol name", s);
		return -2;
	}
	t->name = strndup(s, n);
	if (!t->name)
		return -1;
	while (*p && *p != '+') {
		struct access *a;

		if (t->nacc == MAX_ACCESS) {
			rerr("bad target: more than %d members/indexes", MAX_ACCESS);
			return -2;
		}
		a = &t->acc[t->nacc];
		if (*p == '.') {
			size_t m = 0;

			while (ident_char(p[1 + m]))
				m++;
			if (!m) {
				rerr("bad target '%s': missing field name after '.'", s);
				return -2;
			}
			a->kind = '.';
			a->field = strndup(p + 1, m);
			if (!a->field)
				return -1;
			t->nacc++;
			p += 1 + m;
		} else if (*p == '[') {
			if (!isdigit((unsigned char)p[1])) {
				rerr("bad target '%s': expected a number after '['", s);
				return -2;
			}
			errno = 0;
			a->index = strtoull(p + 1, &end, 0);
			if (errno || *end != ']') {
				rerr("bad target '%s': expected [NUMBER]", s);
				return -2;
			}
			a->kind = '[';
			t->nacc++;
			p = end + 1;
		} else {
			rerr("bad target '%s': unexpected '%c'", s, *p);
			return -2;
		}
	}
	if (*p == '+') {
		if (!isdigit((unsigned char)p[1])) {
			rerr("bad target '%s': expected a number after '+'", s);
			return -2;
		}
		errno = 0;
		t->plus = strtoull(p + 1, &end, 0);
		if (errno || *end) {
			rerr("bad target '%s': bad offset after '+'", s);
			return -2;
		}
		t->has_plus = true;
	}
	return 0;
}

/* ---- /proc/PID/maps ---- */

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

static int read_maps(struct ctx *c)
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
			rerr("no such process %d", (int)c->pid);
		else if (errno == EACCES || errno == EPERM)
			rerr("permission denied reading %s: reading another process's memory map "
			     "needs root (CAP_SYS_PTRACE)", fn);
		else
			rerr("cannot read %s: %s", fn, strerror(errno));
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
		rerr("out of memory");
	else if (ferror(f)) {
		rerr("error reading %s", fn);
		ret = -1;
	} else if (!c->nobjs) {
		rerr("process %d has no mapped files (kernel thread or zombie?)", (int)c->pid);
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

/* ---- ELF ---- */

static Elf *open_elf(const char *path, int *fdp)
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

static Elf_Scn *find_section(Elf *e, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	return NULL;
}

static bool has_section(Elf *e, const char *name)
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
	Elf *e = open_elf(path, &fd);

	if (!e)
		return false;
	if (!same_build_id(o->elf, e) || (!has_section(e, ".debug_info") &&
					   !find_section(e, SHT_SYMTAB))) {
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
static void find_debug_file(struct ctx *c, struct obj *o)
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
static int load_obj(struct ctx *c, struct obj *o)
{
	Elf_Scn *scn;

	if (o->symtab_loaded)
		return 0;
	o->symtab_loaded = true;
	o->elf = open_elf(o->ppath, &o->fd);
	if (!o->elf)
		return 0;
	if ((scn = find_section(o->elf, SHT_SYMTAB))) {
		o->symsrc = ".symtab";
		return load_syms_from(o, o->elf, scn);
	}
	find_debug_file(c, o);
	if (o->delf && (scn = find_section(o->delf, SHT_SYMTAB))) {
		o->symsrc = "debug file .symtab";
		return load_syms_from(o, o->delf, scn);
	}
	if ((scn = find_section(o->elf, SHT_DYNSYM))) {
		o->symsrc = ".dynsym";
		return load_syms_from(o, o->elf, scn);
	}
	return 0;
}

/*
 * Load bias from the first mapping whose file offset lies in a PT_LOAD segment:
 * bias = map_start - (p_vaddr + (map_off - p_offset)).
 */
static int obj_bias(struct obj *o, uint64_t *bias)
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

/* ---- symbol lookup ---- */

struct cand {
	struct obj *o;
	struct sym *s;
};

static bool obj_matches(const struct obj *o, const char *want)
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
static int collect(struct ctx *c, const char *object, const char *name, bool data,
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
static int interposed(struct cand *v, int n)
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

static void suggest(struct ctx *c, const char *object, const char *name)
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

/* ---- DWARF ---- */

static Dwarf *obj_dwarf(struct obj *o, struct ctx *c)
{
	Dwarf *dw;

	if (has_section(o->elf, ".debug_info")) {
		dw = dwarf_begin_elf(o->elf, DWARF_C_READ, NULL);
		if (dw)
			return dw;
	}
	if (!o->delf)
		find_debug_file(c, o);
	if (o->delf && has_section(o->delf, ".debug_info"))
		return dwarf_begin_elf(o->delf, DWARF_C_READ, NULL);
	return NULL;
}

static const char *die_name(Dwarf_Die *d)
{
	Dwarf_Attribute a;

	if (!dwarf_attr_integrate(d, DW_AT_name, &a))
		return NULL;
	return dwarf_formstring(&a);
}

static bool die_type(Dwarf_Die *d, Dwarf_Die *t)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(d, DW_AT_type, &a) && dwarf_formref_die(&a, t);
}

/* Address of a variable DIE with a DW_OP_addr location; false if none. */
static bool var_addr(Dwarf_Die *d, uint64_t *addr)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(d, DW_AT_location, &a) || dwarf_getlocation(&a, &ops, &nops) || !nops)
		return false;
	if (ops[0].atom != DW_OP_addr)
		return false;
	*addr = ops[0].number;
	return true;
}

/* Find the DIE of the variable name at addr (or, failing that, the only one with the name). */
static bool find_var(Dwarf *dw, const char *name, uint64_t addr, Dwarf_Die *out)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, d;
	uint8_t ut;
	int by_name = 0;

	while (dwarf_get_units(dw, cu, &cu, NULL, &ut, &cudie, NULL) == 0) {
		if (ut != DW_UT_compile && ut != DW_UT_partial)
			continue;
		if (dwarf_child(&cudie, &d))
			continue;
		do {
			const char *n;
			uint64_t a;

			if (dwarf_tag(&d) != DW_TAG_variable || !(n = die_name(&d)) ||
			    strcmp(n, name) || dwarf_hasattr(&d, DW_AT_declaration))
				continue;
			if (var_addr(&d, &a)) {
				if (a == addr) {
					*out = d;
					return true;
				}
				continue;
			}
			if (!by_name++)
				*out = d;
		} while (dwarf_siblingof(&d, &d) == 0);
	}
	return by_name == 1;
}

/* Strip typedefs (if strip_typedef) and qualifiers. */
static bool peel(Dwarf_Die *t, bool strip_typedef)
{
	for (int i = 0; i < 64; i++) {
		int tag = dwarf_tag(t);

		if (tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type &&
		    !(strip_typedef && tag == DW_TAG_typedef))
			return true;
		if (!die_type(t, t))
			return false;	/* e.g. const void */
	}
	return false;
}

static int64_t udata(Dwarf_Die *d, unsigned int at, bool *ok)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	*ok = dwarf_attr_integrate(d, at, &a) && !dwarf_formudata(&a, &w);
	return *ok ? (int64_t)w : 0;
}

/* Array dimensions (element counts, 0 = unknown) and element type. */
static int array_dims(Dwarf_Die *arr, uint64_t *cnt, Dwarf_Die *elem)
{
	Dwarf_Die ch;
	int n = 0;

	if (!die_type(arr, elem) || dwarf_child(arr, &ch))
		return 0;
	do {
		bool ok;
		int64_t v;

		if (dwarf_tag(&ch) != DW_TAG_subrange_type)
			continue;
		if (n == MAX_DIMS)
			return 0;
		v = udata(&ch, DW_AT_count, &ok);
		if (!ok) {
			bool lok;
			int64_t lo = udata(&ch, DW_AT_lower_bound, &lok);

			v = udata(&ch, DW_AT_upper_bound, &ok);
			v = ok ? v - lo + 1 : 0;
		}
		cnt[n++] = v > 0 ? (uint64_t)v : 0;
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return n;
}

static bool type_size(Dwarf_Die *t, uint64_t *size)
{
	Dwarf_Word w;
	Dwarf_Die p = *t;

	if (!peel(&p, true))
		return false;
	if (dwarf_tag(&p) == DW_TAG_pointer_type && dwarf_bytesize(&p) < 0) {
		*size = 8;
		return true;
	}
	if (dwarf_aggregate_size(&p, &w))
		return false;
	*size = w;
	return true;
}

static bool is_char_type(Dwarf_Die *t)
{
	Dwarf_Die p = *t;
	const char *n;

	if (!peel(&p, false) || dwarf_tag(&p) != DW_TAG_base_type || dwarf_bytesize(&p) != 1)
		return false;
	n = dwarf_diename(&p);
	return n && (!strcmp(n, "char") || !strcmp(n, "signed char") ||
		     !strcmp(n, "unsigned char"));
}

static int int_vtype(uint64_t size, bool sign)
{
	switch (size) {
	case 1: return sign ? UMS_VT_S8 : UMS_VT_U8;
	case 2: return sign ? UMS_VT_S16 : UMS_VT_U16;
	case 4: return sign ? UMS_VT_S32 : UMS_VT_U32;
	case 8: return sign ? UMS_VT_S64 : UMS_VT_U64;
	}
	return UMS_VT_HEX;
}

static bool enum_signed(Dwarf_Die *e)
{
	Dwarf_Die u, ch;
	bool ok;
	int64_t enc;

	if (die_type(e, &u) && peel(&u, true) && dwarf_tag(&u) == DW_TAG_base_type) {
		enc = udata(&u, DW_AT_encoding, &ok);
		return ok && (enc == DW_ATE_signed || enc == DW_ATE_signed_char);
	}
	if (dwarf_child(e, &ch))
		return false;
	do {
		Dwarf_Attribute a;
		Dwarf_Sword s;

		if (dwarf_tag(&ch) == DW_TAG_enumerator &&
		    dwarf_attr(&ch, DW_AT_const_value, &a) && !dwarf_formsdata(&a, &s) && s < 0)
			return true;
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

/* Length and vtype of a type (a sub-array of an array when dims_used > 0). */
static int classify(Dwarf_Die *type, int dims_used, uint64_t *len, int *vtype)
{
	Dwarf_Die t = *type, elem;
	uint64_t cnt[MAX_DIMS], esz;
	bool ok;
	int tag, nd;
	int64_t v;

	if (!peel(&t, true))
		return -1;
	tag = dwarf_tag(&t);
	*vtype = UMS_VT_HEX;
	switch (tag) {
	case DW_TAG_base_type:
		v = udata(&t, DW_AT_encoding, &ok);
		*len = (uint64_t)dwarf_bytesize(&t);
		if (!ok || (int64_t)*len <= 0)
			return -1;
		if (v == DW_ATE_float)
			*vtype = *len == 4 ? UMS_VT_F32 : *len == 8 ? UMS_VT_F64 : UMS_VT_HEX;
		else if (v == DW_ATE_signed || v == DW_ATE_signed_char)
			*vtype = int_vtype(*len, true);
		else if (v == DW_ATE_unsigned || v == DW_ATE_unsigned_char ||
			 v == DW_ATE_boolean || v == DW_ATE_UTF)
			*vtype = int_vtype(*len, false);
		return 0;
	case DW_TAG_enumeration_type:
		*len = (uint64_t)dwarf_bytesize(&t);
		if ((int64_t)*len <= 0)
			return -1;
		*vtype = int_vtype(*len, enum_signed(&t));
		return 0;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		v = dwarf_bytesize(&t);
		*len = v > 0 ? (uint64_t)v : 8;
		*vtype = int_vtype(*len, false);
		return 0;
	case DW_TAG_array_type:
		nd = array_dims(&t, cnt, &elem);
		if (nd <= dims_used || !type_size(&elem, &esz))
			return -1;
		*len = esz;
		for (int i = dims_used; i < nd; i++)
			*len *= cnt[i];
		if (!*len)
			return -1;
		if (dims_used == nd - 1 && is_char_type(&elem))
			*vtype = UMS_VT_STR;
		return 0;
	default:
		return type_size(&t, len) && *len ? 0 : -1;
	}
}

/* Find member name in struct/union t (recursing into anonymous members). */
static bool find_member(Dwarf_Die *t, const char *name, Dwarf_Die *mem, uint64_t *off)
{
	Dwarf_Die ch;

	if (dwarf_child(t, &ch))
		return false;
	do {
		const char *n;
		uint64_t moff = 0;
		Dwarf_Attribute a;
		Dwarf_Word w;

		if (dwarf_tag(&ch) != DW_TAG_member)
			continue;
		if (dwarf_attr(&ch, DW_AT_data_member_location, &a)) {
			Dwarf_Op *ops;
			size_t nops;

			if (!dwarf_formudata(&a, &w))
				moff = w;
			else if (!dwarf_getlocation(&a, &ops, &nops) && nops == 1 &&
				 ops[0].atom == DW_OP_plus_uconst)
				moff = ops[0].number;
			else
				continue;
		}
		n = dwarf_diename(&ch);
		if (n && !strcmp(n, name)) {
			*mem = ch;
			*off = moff;
			return true;
		}
		if (!n) {
			Dwarf_Die sub;

			if (die_type(&ch, &sub) && peel(&sub, true) &&
			    (dwarf_tag(&sub) == DW_TAG_structure_type ||
			     dwarf_tag(&sub) == DW_TAG_union_type) &&
			    find_member(&sub, name, mem, off)) {
				*off += moff;
				return true;
			}
		}
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

/*
 * Apply the accessors to the variable's type: adds their offset to *off, sets *len and *vtype.
 * Returns 0, or -1 after printing why.
 */
static int dwarf_apply(Dwarf_Die *var, const struct target *tg, uint64_t *off, uint64_t *len,
		       int *vtype)
{
	Dwarf_Die cur;
	int dims_used = 0;
	char path[256];
	size_t pl;

	if (!die_type(var, &cur)) {
		rerr("%s: no type in the debug info", tg->name);
		return -1;
	}
	pl = (size_t)snprintf(path, sizeof(path), "%s", tg->name);
	for (int i = 0; i < tg->nacc; i++) {
		const struct access *a = &tg->acc[i];
		Dwarf_Die t = cur;
		int tag;

		if (!peel(&t, true)) {
			rerr("%s: cannot follow the type", path);
			return -1;
		}
		tag = dwarf_tag(&t);
		if (a->kind == '.') {
			Dwarf_Die mem;
			uint64_t moff;

			if (dims_used || (tag != DW_TAG_structure_type &&
					  tag != DW_TAG_union_type && tag != DW_TAG_class_type)) {
				rerr("%s is not a struct or union (use [N] for arrays; pointers "
				     "are not followed)", path);
				return -1;
			}
			if (!find_member(&t, a->field, &mem, &moff)) {
				rerr("%s has no member '%s'", path, a->field);
				return -1;
			}
			if (dwarf_hasattr(&mem, DW_AT_bit_size)) {
				rerr("%s.%s is a bit-field: not supported", path, a->field);
				return -1;
			}
			*off += moff;
			if (!die_type(&mem, &cur))
				return -1;
			dims_used = 0;
			if (pl < sizeof(path))
				pl += (size_t)snprintf(path + pl, sizeof(path) - pl, ".%s",
						       a->field);
		} else {
			uint64_t cnt[MAX_DIMS], esz, stride;
			Dwarf_Die elem;
			int nd;

			if (tag != DW_TAG_array_type) {
				rerr("%s is not an array%s", path, tag == DW_TAG_pointer_type ?
				     " (pointers are not followed)" : "");
				return -1;
			}
			nd = array_dims(&t, cnt, &elem);
			if (nd <= dims_used || !type_size(&elem, &esz)) {
				rerr("%s: cannot get the array's dimensions", path);
				return -1;
			}
			if (cnt[dims_used] && a->index >= cnt[dims_used]) {
				rerr("%s[%" PRIu64 "]: index out of range (%" PRIu64 " elements)",
				     path, a->index, cnt[dims_used]);
				return -1;
			}
			stride = esz;
			for (int k = dims_used + 1; k < nd; k++)
				stride *= cnt[k];
			*off += a->index * stride;
			if (++dims_used == nd) {
				cur = elem;
				dims_used = 0;
			} else {
				cur = t;
			}
			if (pl < sizeof(path))
				pl += (size_t)snprintf(path + pl, sizeof(path) - pl,
						       "[%" PRIu64 "]", a->index);
		}
	}
	if (classify(&cur, dims_used, len, vtype)) {
		rerr("%s: cannot determine its size from the debug info", path);
		return -1;
	}
	return 0;
}

/* ---- main entry ---- */

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

	n = collect(c, tg->object, tg->name, true, &v);
	if (n < 0)
		goto oom;
	if (n == 0) {
		free(v);
		n = collect(c, tg->object, tg->name, false, &v);
		if (n < 0)
			goto oom;
		if (n > 0) {
			rerr("'%s' is a function in %s, not a data object", tg->name, v[0].o->path);
			goto out;
		}
		rerr("no data symbol '%s' in %s%s of process %d", tg->name,
		     tg->object ? "objects matching " : "any mapped object",
		     tg->object ? tg->object : "", (int)c->pid);
		suggest(c, tg->object, tg->name);
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
		pick = interposed(v, n);
		if (pick < 0) {
			rerr("ambiguous symbol '%s': defined %d times:", tg->name, n);
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
		rerr("'%s' in %s is a thread-local (TLS) variable: not supported (every thread "
		     "has its own copy; use 0xADDR with an address the thread printed)",
		     tg->name, o->path);
		goto out;
	}
	if (obj_bias(o, &bias)) {
		rerr("%s: cannot compute the load address (no mapping matches a PT_LOAD segment)",
		     o->path);
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
		if (find_var(dw, tg->name, v[i < 0 ? pick : i].s->value, &var)) {
			if (dwarf_apply(&var, tg, &off, &res->len, &res->vtype)) {
				dwarf_end(dw);
				goto out;
			}
			res->dwarf = true;
		}
		dwarf_end(dw);
	}
	if (!res->dwarf && tg->nacc) {
		rerr("%s: members and indexes need DWARF debug info for '%s' in %s (build with -g "
		     "or install its debug symbols), or use SYMBOL+OFFSET with --len/--type",
		     tg->name, tg->name, o->path);
		goto out;
	}
	if (tg->has_plus) {
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
	rerr("out of memory");
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
			rerr("bad address '%s'", target);
			return -2;
		}
		return 0;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		rerr("libelf: %s", elf_errmsg(-1));
		return -1;
	}
	colon = strchr(target, ':');
	if (colon) {
		if (colon == target) {
			rerr("bad target '%s': empty object name", target);
			return -2;
		}
		tg.object = strndup(target, (size_t)(colon - target));
		if (!tg.object) {
			rerr("out of memory");
			return -1;
		}
		rest = colon + 1;
	}
	snprintf(c.root, sizeof(c.root), "/proc/%d/root", (int)pid);
	ret = read_maps(&c);
	if (ret)
		goto out;
	for (size_t i = 0; i < c.nobjs; i++) {
		if (load_obj(&c, &c.objs[i])) {
			rerr("out of memory");
			ret = -1;
			goto out;
		}
	}
	if (tg.object) {
		bool any = false;

		for (size_t i = 0; i < c.nobjs; i++)
			any |= obj_matches(&c.objs[i], tg.object);
		if (!any) {
			rerr("no mapped object matches '%s' in process %d; mapped:", tg.object,
			     (int)pid);
			for (size_t i = 0; i < c.nobjs; i++)
				fprintf(stderr, "  %s\n", c.objs[i].path);
			ret = -1;
			goto out;
		}
	}
	/* A symbol whose name contains dots ("counter.0") wins over NAME.field. */
	ret = parse_path(rest, true, &tg);
	if (!ret && strchr(tg.name, '.')) {
		struct cand *v;
		int n = collect(&c, tg.object, tg.name, true, &v);

		free(v);
		if (n <= 0) {
			char *obj = tg.object;

			tg.object = NULL;
			target_free(&tg);
			tg.object = obj;
			ret = parse_path(rest, false, &tg);
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
