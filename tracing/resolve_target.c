// SPDX-License-Identifier: GPL-2.0
/*
 * resolve_target.c - the TARGET syntax of `umsampler add` after the optional OBJECT: prefix:
 * NAME{.field|[N]}[+OFF] into a struct target (name, member/index accessors, offset).
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
 * Parse the part after OBJECT: as NAME{.field|[N]}[+OFF], with NAME ending at the first '.',
 * '[' or '+' (or at the first '[' or '+' when namelen_dots is set: symbols like "x.0").
 */
int target_parse(const char *s, bool name_dots, struct target *t)
{
	size_t n = name_dots ? strcspn(s, "[+") : strcspn(s, ".[+");
	const char *p = s + n;
	char *end;

	if (n == 0) {
		resolve_err("bad target '%s': missing symbol name", s);
		return -2;
	}
	t->name = strndup(s, n);
	if (!t->name)
		return -1;
	while (*p && *p != '+') {
		struct access *a;

		if (t->nacc == MAX_ACCESS) {
			resolve_err("bad target: more than %d members/indexes", MAX_ACCESS);
			return -2;
		}
		a = &t->acc[t->nacc];
		if (*p == '.') {
			size_t m = 0;

			while (ident_char(p[1 + m]))
				m++;
			if (!m) {
				resolve_err("bad target '%s': missing field name after '.'", s);
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
