// SPDX-License-Identifier: GPL-2.0
/*
 * resolve_target.c - the TARGET syntax of `umsampler add` after the optional OBJECT: prefix:
 * NAME{.field|[N]|->field}[+OFF] and (*NAME...){...} into a struct target (name, member,
 * index and pointer accessors, offset).
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

void target_free(struct target *t)
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
 * The accessors at p ({.field|[N]|->field}), up to the end, a '+' or a ')' (the caller
 * decides which may follow); *endp receives where they stop.  s is the whole target, for
 * messages.
 */
static int parse_accessors(const char *s, const char *p, struct target *t, const char **endp)
{
	char *end;

	while (*p && *p != '+' && *p != ')') {
		struct access *a;
		size_t m = 0, skip;

		if (t->nacc == MAX_ACCESS) {
			resolve_err("bad target: more than %d members/indexes/pointers", MAX_ACCESS);
			return -2;
		}
		a = &t->acc[t->nacc];
		if (*p == '.' || (p[0] == '-' && p[1] == '>')) {
			skip = *p == '.' ? 1 : 2;
			while (ident_char(p[skip + m]))
				m++;
			if (!m) {
				resolve_err("bad target '%s': missing field name after '%s'", s,
					    skip == 1 ? "." : "->");
				return -2;
			}
			a->kind = skip == 1 ? '.' : '>';
			a->field = strndup(p + skip, m);
			if (!a->field)
				return -1;
			t->nacc++;
			p += skip + m;
		} else if (*p == '[') {
			if (!isdigit((unsigned char)p[1])) {
				resolve_err("bad target '%s': expected a number after '['", s);
				return -2;
			}
			errno = 0;
			a->index = strtoull(p + 1, &end, 0);
			if (errno || *end != ']') {
				resolve_err("bad target '%s': expected [NUMBER]", s);
				return -2;
			}
			a->kind = '[';
			t->nacc++;
			p = end + 1;
		} else {
			resolve_err("bad target '%s': unexpected '%c'", s, *p);
			return -2;
		}
	}
	*endp = p;
	return 0;
}

/* NAME at p, ending at the first '.' (unless name_dots), '[', '-', '+' or ')'. */
static int parse_name(const char *s, const char *p, bool name_dots, struct target *t,
		      const char **endp)
{
	size_t n = strcspn(p, name_dots ? "[+-)" : ".[+-)");

	if (n == 0) {
		resolve_err("bad target '%s': missing symbol name", s);
		return -2;
	}
	t->name = strndup(p, n);
	if (!t->name)
		return -1;
	*endp = p + n;
	return 0;
}

/*
 * Parse the part after OBJECT: as NAME{.field|[N]|->field}[+OFF], or with a dereference in
 * front, (*NAME{...}){...}[+OFF] (any number of '*' inside the parentheses).
 */
int target_parse(const char *s, bool name_dots, struct target *t)
{
	const char *p = s;
	int stars = 0, ret;
	char *end;

	if (p[0] == '(' && p[1] == '*') {
		for (p++; *p == '*'; p++)
			stars++;
	}
	ret = parse_name(s, p, name_dots, t, &p);
	if (!ret)
		ret = parse_accessors(s, p, t, &p);
	if (ret)
		return ret;
	if (stars) {
		if (*p != ')') {
			resolve_err("bad target '%s': expected ')' after '(*%s...'", s, t->name);
			return -2;
		}
		for (; stars; stars--) {
			if (t->nacc == MAX_ACCESS) {
				resolve_err("bad target: more than %d members/indexes/pointers",
					    MAX_ACCESS);
				return -2;
			}
			t->acc[t->nacc++].kind = '*';
		}
		ret = parse_accessors(s, p + 1, t, &p);
		if (ret)
			return ret;
	}
	if (*p == ')') {
		resolve_err("bad target '%s': unexpected ')'", s);
		return -2;
	}
	if (*p == '+') {
		if (!isdigit((unsigned char)p[1])) {
			resolve_err("bad target '%s': expected a number after '+'", s);
			return -2;
		}
		errno = 0;
		t->plus = strtoull(p + 1, &end, 0);
		if (errno || *end) {
			resolve_err("bad target '%s': bad offset after '+'", s);
			return -2;
		}
		t->has_plus = true;
	}
	return 0;
}
