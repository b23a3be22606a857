// SPDX-License-Identifier: GPL-2.0
/*
 * resolve_dwarf.c - DWARF types with libdw: the DIE of a variable, and the length and value
 * type of the variable, a struct/union member, an array element or what a chain of pointers
 * leads to (typedefs, qualifiers, enums, char arrays as str, multi-dimensional arrays; the
 * offsets of a `deref=` chain).
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
#include <dwarf.h>

#include "parse.h"
#include "resolve_int.h"

#define MAX_DIMS	8

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
bool var_find(Dwarf *dw, const char *name, uint64_t addr, Dwarf_Die *out)
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

/* Append to the path shown in messages (truncated silently). */
static void path_add(char *path, size_t size, size_t *pl, const char *a, const char *b)
{
	if (*pl < size)
		*pl += (size_t)snprintf(path + *pl, size - *pl, "%s%s", a, b);
	if (*pl > size)
		*pl = size;
}

/*
 * A pointer followed: t (peeled) must be a pointer to a complete, non-void type, which
 * becomes *cur.  Returns 0, or -1 after printing why.
 */
static int follow_pointer(Dwarf_Die *t, const char *path, bool arrow, Dwarf_Die *cur)
{
	Dwarf_Die pt;

	if (dwarf_tag(t) != DW_TAG_pointer_type) {
		resolve_err("%s is not a pointer%s", path,
			    arrow ? " (use '.' for a member of a struct)" : "");
		return -1;
	}
	if (!die_type(t, &pt)) {
		resolve_err("%s is a void pointer: nothing to follow (cast it in the program, or "
			    "use deref= with --len/--type)", path);
		return -1;
	}
	*cur = pt;
	if (!peel(&pt, true)) {
		resolve_err("%s points to void: nothing to follow", path);
		return -1;
	}
	if (dwarf_hasattr(&pt, DW_AT_declaration)) {
		resolve_err("%s points to an incomplete type (%s %s has no definition in the debug "
			    "info)", path, dwarf_tag(&pt) == DW_TAG_union_type ? "union" : "struct",
			    dwarf_diename(&pt) ? dwarf_diename(&pt) : "?");
		return -1;
	}
	return 0;
}

/*
 * Apply the accessors to the variable's type: see resolve_int.h.  The offset within the
 * current object accumulates in cur_off; each pointer followed hands it to *off (the first)
 * or to the previous hop's deref[] entry.
 */
int var_apply_access(Dwarf_Die *var, const struct target *tg, uint64_t *off, int64_t *deref,
		     int *nderef, uint64_t *len, int *vtype)
{
	int64_t cur_off = 0;
	Dwarf_Die cur;
	int dims_used = 0;
	char path[256];
	size_t pl = 0;

	*nderef = 0;
	if (!die_type(var, &cur)) {
		resolve_err("%s: no type in the debug info", tg->name);
		return -1;
	}
	path_add(path, sizeof(path), &pl, tg->name, "");
	for (int i = 0; i < tg->nacc; i++) {
		const struct access *a = &tg->acc[i];
		Dwarf_Die t = cur;
		int tag;

		if (!peel(&t, true)) {
			resolve_err("%s: cannot follow the type", path);
			return -1;
		}
		if (a->kind == '>' || a->kind == '*') {
			if (dims_used) {
				resolve_err("%s is an array, not a pointer", path);
				return -1;
			}
			if (follow_pointer(&t, path, a->kind == '>', &cur))
				return -1;
			if (*nderef == UMS_DEREF_MAX) {
				resolve_err("%s: more than %d pointers to follow", path,
					    UMS_DEREF_MAX);
				return -1;
			}
			if (*nderef)
				deref[*nderef - 1] = cur_off;
			else
				*off += (uint64_t)cur_off;
			(*nderef)++;
			cur_off = 0;
			if (a->kind == '*') {
				/* (*p): the path so far, dereferenced */
				char tmp[sizeof(path) + 4];

				snprintf(tmp, sizeof(tmp), "(*%s)", path);
				pl = 0;
				path_add(path, sizeof(path), &pl, tmp, "");
				continue;
			}
			t = cur;
			peel(&t, true);
		}
		tag = dwarf_tag(&t);
		if (a->kind == '.' || a->kind == '>') {
			Dwarf_Die mem;
			uint64_t moff;

			if (dims_used || (tag != DW_TAG_structure_type &&
					  tag != DW_TAG_union_type && tag != DW_TAG_class_type)) {
				resolve_err("%s is not a struct or union%s", path,
					    a->kind == '>' ? " (it is what the pointer points to)" :
					    tag == DW_TAG_pointer_type ? " but a pointer (use ->)" :
					    " (use [N] for arrays)");
				return -1;
			}
			if (!find_member(&t, a->field, &mem, &moff)) {
				resolve_err("%s has no member '%s'", path, a->field);
				return -1;
			}
			if (dwarf_hasattr(&mem, DW_AT_bit_size)) {
				resolve_err("%s.%s is a bit-field: not supported", path, a->field);
				return -1;
			}
			cur_off += (int64_t)moff;
			if (!die_type(&mem, &cur))
				return -1;
			dims_used = 0;
			path_add(path, sizeof(path), &pl, a->kind == '.' ? "." : "->", a->field);
		} else {
			uint64_t cnt[MAX_DIMS], esz, stride;
			Dwarf_Die elem;
			int nd;

			if (tag != DW_TAG_array_type) {
				resolve_err("%s is not an array%s", path,
					    tag == DW_TAG_pointer_type ?
					    " (a pointer: use ->member, or (*p) for what it points to)" :
					    "");
				return -1;
			}
			nd = array_dims(&t, cnt, &elem);
			if (nd <= dims_used || !type_size(&elem, &esz)) {
				resolve_err("%s: cannot get the array's dimensions", path);
				return -1;
			}
			if (cnt[dims_used] && a->index >= cnt[dims_used]) {
				resolve_err("%s[%" PRIu64 "]: index out of range (%" PRIu64
					    " elements)", path, a->index, cnt[dims_used]);
				return -1;
			}
			stride = esz;
			for (int k = dims_used + 1; k < nd; k++)
				stride *= cnt[k];
			cur_off += (int64_t)(a->index * stride);
			if (++dims_used == nd) {
				cur = elem;
				dims_used = 0;
			} else {
				cur = t;
			}
			{
				char ix[32];

				snprintf(ix, sizeof(ix), "[%" PRIu64 "]", a->index);
				path_add(path, sizeof(path), &pl, ix, "");
			}
		}
	}
	if (*nderef)
		deref[*nderef - 1] = cur_off;
	else
		*off += (uint64_t)cur_off;
	if (classify(&cur, dims_used, len, vtype)) {
		resolve_err("%s: cannot determine its size from the debug info", path);
		return -1;
	}
	return 0;
}
