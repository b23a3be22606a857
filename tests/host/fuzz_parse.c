// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_parse.c - libFuzzer harness for common/parse.c.
 *
 * Owns: the invariants of ums_parse() on arbitrary bytes: the result is a command count <= max
 * or one of -EINVAL/-EFAULT/-E2BIG; the error message is NUL-terminated, printable and names
 * the line; every returned command has a valid op/vtype/mode, a valid NUL-terminated name and
 * add-command fields within the limits.  Also renders each parsed range header through the
 * renderer to exercise it.  Not part of the default test list.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon tests/host/fuzz_parse.c \
 *	  common/parse.c common/render.c -o build/host/fuzz_parse
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "parse.h"
#include "render.h"
#include "limits.h"

#define MAXC 16

static void check_cmd(const struct ums_cmd *c, unsigned int nlines)
{
	size_t n = strnlen(c->name, sizeof(c->name));

	if (c->op >= UMS_OP_NR || c->line < 1 || c->line > nlines || n >= sizeof(c->name))
		abort();
	if (c->op == UMS_OP_ADD) {
		unsigned int sz = ums_vtype_size(c->vtype);

		if (c->vtype >= UMS_VT_NR || c->mode >= UMS_MODE_NR || c->len == 0 ||
		    c->len > lim.max_len || c->addr + c->len < c->addr ||
		    c->addr + c->len > lim.addr_limit || (sz && c->len != sz) ||
		    c->pid < 1 || (u32)c->pid > lim.max_pid ||
		    c->period_us < lim.min_period_us || c->period_us > lim.max_period_us ||
		    (n && !ums_name_valid(c->name)))
			abort();
	}
	if (c->op == UMS_OP_DEL_PID && (c->pid < 1 || (u32)c->pid > lim.max_pid))
		abort();
	if (c->op == UMS_OP_DEL_NAME && (n == 0 || n > 31))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ums_cmd cmds[MAXC];
	struct ums_perr pe;
	unsigned int nlines = ums_parse_count_lines((const char *)data, size);
	char out[64];
	size_t i, n;
	int r;

	memset(&pe, 0x5a, sizeof(pe));
	r = ums_parse((const char *)data, size, &lim, cmds, MAXC, &pe);
	if (r >= 0) {
		if (r > MAXC || (unsigned int)r > nlines || pe.err || pe.msg[0])
			abort();
		for (i = 0; i < (size_t)r; i++)
			check_cmd(&cmds[i], nlines);
	} else {
		if (r != -EINVAL && r != -EFAULT && r != -E2BIG)
			abort();
		n = strnlen(pe.msg, sizeof(pe.msg));
		if (pe.err != r || n == 0 || n >= sizeof(pe.msg) || pe.line < 1 ||
		    pe.line > nlines || strncmp(pe.msg, "line ", 5))
			abort();
		for (i = 0; i < n; i++)
			if (pe.msg[i] < 0x20 || pe.msg[i] > 0x7e)
				abort();
	}
	/* exercise the renderer on the same bytes */
	for (i = 0; i < UMS_VT_NR; i++) {
		n = ums_render_value(out, sizeof(out) - (size % 40), (unsigned int)i, data, size,
				     size & 1);
		if (n != strlen(out))
			abort();
	}
	return 0;
}

#ifdef UMS_FUZZ_REPLAY
/*
 * Replay main (build/host/fuzz_regress.t, built with gcc and ASan/UBSan, no libFuzzer): runs
 * LLVMFuzzerTestOneInput() on every file saved under UMS_FUZZ_CRASH_DIR (tests/data/fuzz-crashes,
 * see scripts/fuzz.sh) and prints TAP, one test per file. A crash or failed invariant aborts the
 * program, which prove reports as a failure. An empty or missing directory passes (one test).
 */
#include <dirent.h>
#include <stdio.h>

static int replay_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : UMS_FUZZ_CRASH_DIR;
	char *names[4096], path[4096];
	size_t nr = 0, i;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d)) && nr < sizeof(names) / sizeof(names[0])) {
			/* README* documents the directory; dotfiles are not inputs */
			if (de->d_name[0] == '.' || !strncmp(de->d_name, "README", 6))
				continue;
			names[nr++] = strdup(de->d_name);
		}
		closedir(d);
	}
	qsort(names, nr, sizeof(names[0]), replay_cmp);
	printf("1..%zu\n", nr + 1);
	printf("ok 1 - saved fuzz inputs in %s: %zu%s\n", dir, nr, d ? "" : " (no such directory)");
	for (i = 0; i < nr; i++) {
		FILE *f;
		uint8_t *buf;
		long len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "rb");
		if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
			printf("not ok %zu - %s: cannot read\n", i + 2, names[i]);
			if (f)
				fclose(f);
			continue;
		}
		/* exact-size heap copy, so that ASan sees any overread */
		buf = malloc(len ? (size_t)len : 1);
		if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
			printf("not ok %zu - %s: cannot read\n", i + 2, names[i]);
		} else {
			fflush(stdout);
			LLVMFuzzerTestOneInput(buf, (size_t)len);
			printf("ok %zu - %s (%ld bytes) replayed\n", i + 2, names[i], len);
		}
		free(buf);
		fclose(f);
		free(names[i]);
	}
	return 0;
}
#endif
