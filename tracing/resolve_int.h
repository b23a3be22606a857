/* SPDX-License-Identifier: GPL-2.0 */
/*
 * resolve_int.h - what the parts of the TARGET resolver share (internal to resolve*.c; the
 * CLI sees resolve.h only): the parsed TARGET, the process's mapped objects with their symbols
 * and debug files, and the functions each part offers the others.
 *
 *   resolve.c            entry: 0xADDR, OBJECT:, symbol choice, load bias + DWARF offset
 *   resolve_target.c     TARGET syntax: NAME{.field|[N]}[+OFF]
 *   resolve_maps.c       /proc/PID/maps -> the mapped objects
 *   resolve_elf.c        ELF files: sections, data symbols, load bias; symbol lookup
 *   resolve_debuginfo.c  debug info lookup: in the object, by build-id, by .gnu_debuglink
 *   resolve_dwarf.c      DWARF types: a variable's, a member's or an element's length/type
 */
#ifndef _UMS_RESOLVE_INT_H
#define _UMS_RESOLVE_INT_H

#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <elfutils/libdw.h>

#define MAX_ACCESS	16

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
	char kind;		/* '.' member, '[' index, '>' ->member, '*' dereference */
	char *field;		/* '.', '>' */
	uint64_t index;		/* '[' */
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

/* One definition of a symbol: the object and its symbol table entry. */
struct cand {
	struct obj *o;
	struct sym *s;
};

/* "umsampler add: " + message on stderr (printf-like). */
void resolve_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The file name part of a path. */
static inline const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* ---- resolve_target.c ---- */

void target_free(struct target *t);
/*
 * Parse the part after OBJECT: as NAME{.field|[N]|->field}[+OFF] or
 * (*NAME{...}){.field|[N]|->field}[+OFF], with NAME ending at the first '.', '[', '-' or '+'
 * (or at the first '[', '-' or '+' when name_dots is set: symbols like "x.0").  Returns 0, or
 * -2 (malformed) / -1 (no memory) after printing why.
 */
int target_parse(const char *s, bool name_dots, struct target *t);

/* ---- resolve_maps.c ---- */

/* Fill c->objs from /proc/PID/maps (file-backed mappings).  Returns 0 or -1 after printing why. */
int maps_read(struct ctx *c);

/* ---- resolve_elf.c ---- */

/* Open an ELF file read-only: the Elf handle (*fdp its descriptor) or NULL. */
Elf *open_elf_file(const char *path, int *fdp);
/* The first section of the given type, or NULL. */
Elf_Scn *find_elf_section(Elf *e, Elf64_Word type);
/* Whether a section of that name exists (and is not SHT_NOBITS). */
bool has_elf_section(Elf *e, const char *name);
/* Open an object and read its symbols (once).  Unreadable objects are skipped silently. */
int obj_load_symbols(struct ctx *c, struct obj *o);
/*
 * Load bias from the first mapping whose file offset lies in a PT_LOAD segment:
 * bias = map_start - (p_vaddr + (map_off - p_offset)).  Returns 0 or -1.
 */
int obj_bias(struct obj *o, uint64_t *bias);
/* Whether want is the object's path or base name, maybe without trailing .digits groups. */
bool obj_matches(const struct obj *o, const char *want);
/*
 * Collect definitions of name (in objects matching object, if not NULL); with data=false,
 * functions instead.  *out is malloc'ed.  Returns the count or -1.
 */
int syms_collect(struct ctx *c, const char *object, const char *name, bool data,
		 struct cand **out);
/*
 * Several definitions: if one is in the main executable and all are exported (global/weak,
 * default visibility), the executable's wins (ELF interposition, e.g. a copy relocation of a
 * library variable).  Returns the index or -1.
 */
int syms_interposed(struct cand *v, int n);
/* Print "did you mean: ..." with the closest data symbol names, if any are close. */
void syms_suggest(struct ctx *c, const char *object, const char *name);

/* ---- resolve_debuginfo.c ---- */

/* Look for a separate debug file of o: build-id, then .gnu_debuglink (sets o->delf). */
void obj_find_debug_file(struct ctx *c, struct obj *o);
/* DWARF of the object: its own .debug_info, else its debug file's; NULL if none. */
Dwarf *obj_dwarf(struct obj *o, struct ctx *c);

/* ---- resolve_dwarf.c ---- */

/* Find the DIE of the variable name at addr (or, failing that, the only one with the name). */
bool var_find(Dwarf *dw, const char *name, uint64_t addr, Dwarf_Die *out);
/*
 * Apply the accessors to the variable's type: adds the offset of the accessors before the
 * first pointer to *off; each pointer followed ('->' or '*') ends an object: deref[i] is the
 * offset within the i-th object pointed to (*nderef of them, at most UMS_DEREF_MAX).  Sets
 * *len and *vtype.  Returns 0, or -1 after printing why.
 */
int var_apply_access(Dwarf_Die *var, const struct target *tg, uint64_t *off, int64_t *deref,
		     int *nderef, uint64_t *len, int *vtype);

#endif /* _UMS_RESOLVE_INT_H */
