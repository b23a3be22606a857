// SPDX-License-Identifier: GPL-2.0
/*
 * control.c - the live-system subcommands that talk to the module's debugfs files: add (resolve
 * a TARGET and write an `add` line to control), list (regions with their latest values), del,
 * stats; and the helpers in live.h (debugfs location, file reading, `regions` parsing, control
 * writes with the kernel's error message, duration parsing).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "live.h"
#include "parse.h"
#include "resolve.h"

/* ---- helpers (live.h) ---- */

void ums_err(const char *fmt, ...)
{
	va_list ap;

	fputs("umsampler: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *ums_dir(void)
{
	const char *d = getenv("UMSAMPLER_DEBUGFS");

	return d && *d ? d : UMS_DEBUGFS;
}

int ums_check_dir(void)
{
	const char *d = ums_dir();
	struct stat st;

	if (!stat(d, &st) && S_ISDIR(st.st_mode)) {
		if (access(d, R_OK | X_OK)) {
			ums_err("permission denied: %s (umsampler needs root)", d);
			return -1;
		}
		return 0;
	}
	if (errno == EACCES || errno == EPERM) {
		ums_err("permission denied: %s (debugfs is root-only: run umsampler as root)", d);
		return -1;
	}
	if (errno == ENOENT || errno == ENOTDIR || !errno) {
		ums_err("umsampler module not loaded: sudo modprobe umsampler / insmod "
			"module/umsampler.ko (%s missing%s)", d,
			strcmp(d, UMS_DEBUGFS) ? "" :
			"; is debugfs mounted? mount -t debugfs none /sys/kernel/debug");
		return -1;
	}
	ums_err("%s: %s", d, strerror(errno));
	return -1;
}

char *ums_read(const char *rel, size_t *lenp)
{
	char *path, *buf = NULL, *t;
	size_t len = 0, cap = 0;
	int fd, e;

	if (asprintf(&path, "%s/%s", ums_dir(), rel) < 0)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	e = errno;
	free(path);
	if (fd < 0) {
		errno = e;
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			t = realloc(buf, cap);
			if (!t) {
				e = ENOMEM;
				goto fail;
			}
			buf = t;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
fail:
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

static int parse_u64_field(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

int ums_parse_u64(const char *s, uint64_t *v)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	return parse_u64_field(s, v);
}

int ums_regions(struct ums_region **out, size_t *np)
{
	char *buf = ums_read("regions", NULL), *line, *save = NULL;
	char *cols[16];
	int ncols = 0;
	struct ums_region *v = NULL;
	size_t n = 0;
	int ret = 0;

	*out = NULL;
	*np = 0;
	if (!buf) {
		ums_err("cannot read %s/regions: %s", ums_dir(), strerror(errno));
		return -1;
	}
	line = strtok_r(buf, "\n", &save);
	if (!line || strncmp(line, "ID ", 3)) {
		ums_err("%s/regions: unexpected header", ums_dir());
		free(buf);
		return -1;
	}
	for (char *s2 = NULL, *c = strtok_r(line, " ", &s2); c && ncols < 16;
	     c = strtok_r(NULL, " ", &s2))
		cols[ncols++] = c;
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct ums_region r = { 0 }, *t;
		char *s2 = NULL, *f = strtok_r(line, " ", &s2);
		int bad = 0;

		for (int i = 0; i < ncols && f; i++, f = strtok_r(NULL, " ", &s2)) {
			uint64_t x = 0;
			const char *k = cols[i];
			/* Text columns, and columns this CLI does not know (MIRROR, PATH): not numbers. */
			bool num = !strcmp(k, "ID") || !strcmp(k, "PID") || !strcmp(k, "ADDR") ||
				   !strcmp(k, "LEN") || !strcmp(k, "PERIOD_US") ||
				   !strcmp(k, "SAMPLES") || !strcmp(k, "PARTIAL") ||
				   !strcmp(k, "EMITTED");

			if (num && parse_u64_field(f, &x)) {
				bad = 1;
				break;
			}
			if (!strcmp(k, "ID"))
				r.id = x;
			else if (!strcmp(k, "PID"))
				r.pid = (long)x;
			else if (!strcmp(k, "ADDR"))
				r.addr = x;
			else if (!strcmp(k, "LEN"))
				r.len = x;
			else if (!strcmp(k, "PERIOD_US"))
				r.period_us = x;
			else if (!strcmp(k, "TYPE"))
				snprintf(r.type, sizeof(r.type), "%s", f);
			else if (!strcmp(k, "MODE"))
				snprintf(r.mode, sizeof(r.mode), "%s", f);
			else if (!strcmp(k, "NAME"))
				snprintf(r.name, sizeof(r.name), "%s", f);
			else if (!strcmp(k, "SAMPLES"))
				r.samples = x;
			else if (!strcmp(k, "PARTIAL"))
				r.partial = x;
			else if (!strcmp(k, "EMITTED"))
				r.emitted = x;
		}
		if (bad || !r.id || !r.name[0]) {
			ums_err("%s/regions: cannot parse a line", ums_dir());
			ret = -1;
			break;
		}
		t = realloc(v, (n + 1) * sizeof(*v));
		if (!t) {
			ums_err("out of memory");
			ret = -1;
			break;
		}
		v = t;
		v[n++] = r;
	}
	free(buf);
	if (ret) {
		free(v);
		return -1;
	}
	*out = v;
	*np = n;
	return 0;
}

static const char *errno_name(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EFAULT: return "EFAULT";
	case E2BIG: return "E2BIG";
	case ENOSPC: return "ENOSPC";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	}
	return "error";
}

int ums_control(const char *what, const char *buf)
{
	char *path, *msg;
	size_t len = strlen(buf);
	ssize_t n;
	int fd, e;

	if (asprintf(&path, "%s/control", ums_dir()) < 0) {
		ums_err("out of memory");
		errno = ENOMEM;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == EACCES || e == EPERM)
			fprintf(stderr, "umsampler %s: permission denied opening %s: run as root\n",
				what, path);
		else
			fprintf(stderr, "umsampler %s: cannot open %s: %s\n", what, path,
				strerror(e));
		free(path);
		errno = e;
		return -1;
	}
	free(path);
	n = write(fd, buf, len);
	e = errno;
	if (close(fd) && n >= 0) {
		e = errno;
		n = -1;
	}
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		e = EIO;	/* short write: the module takes whole writes */
	if (e == EPERM) {
		fprintf(stderr, "umsampler %s: permission denied: writing control needs "
			"CAP_SYS_PTRACE (run as root)\n", what);
		errno = e;
		return -1;
	}
	msg = ums_read("control", NULL);
	if (msg && *msg) {
		msg[strcspn(msg, "\n")] = '\0';
		fprintf(stderr, "umsampler %s: the module refused it: %s\n", what, msg);
	} else {
		fprintf(stderr, "umsampler %s: the module refused it: %s (%s)\n", what,
			errno_name(e), strerror(e));
	}
	free(msg);
	errno = e;
	return -1;
}

int ums_parse_duration_us(const char *s, uint64_t *us)
{
	char *end;
	double v, mul;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (!*end || !strcmp(end, "us"))
		mul = 1;
	else if (!strcmp(end, "ms"))
		mul = 1e3;
	else if (!strcmp(end, "s"))
		mul = 1e6;
	else
		return -1;
	v *= mul;
	if (v < 1 || v > 1e15 || v != v)
		return -1;
	*us = (uint64_t)(v + 0.5);
	return 0;
}

static void fmt_duration(char *buf, size_t n, uint64_t us)
{
	if (us && us % 1000000 == 0)
		snprintf(buf, n, "%" PRIu64 "s", us / 1000000);
	else if (us && us % 1000 == 0)
		snprintf(buf, n, "%" PRIu64 "ms", us / 1000);
	else
		snprintf(buf, n, "%" PRIu64 "us", us);
}

static int usage_err(const char *cmd, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int usage_err(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "umsampler %s: ", cmd);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs(usage, stderr);
	return UMS_EXIT_USAGE;
}

/* ---- add ---- */

static const char add_usage[] =
"usage: umsampler add PID TARGET [--len N] [--type T] [--period 1ms|500us|2s]\n"
"                     [--name NAME] [--change] [--fault]\n"
"  TARGET: 0xADDR | SYMBOL | OBJECT:SYMBOL | SYMBOL+OFF | SYMBOL.field | SYMBOL[3]\n"
"          and combinations (SYMBOL.arr[2], SYMBOL[1].field); OBJECT is the base name\n"
"          of a mapped file (libfoo.so matches libfoo.so.1.2)\n"
"  Symbols come from the process's mapped ELF objects (.symtab, else .dynsym); with\n"
"  DWARF (in the object, or a debug file found by build-id or .gnu_debuglink) the\n"
"  length and type follow the variable's type, else the length is the symbol's size\n"
"  and the type hex.\n"
"  --len N        bytes to sample (overrides)\n"
"  --type T       hex u8 u16 u32 u64 s8 s16 s32 s64 f32 f64 str (overrides)\n"
"  --period D     sampling period (default: the module's period_us parameter)\n"
"  --name NAME    region name (default: TARGET with other characters than\n"
"                 [A-Za-z0-9_.:-] replaced by '_')\n"
"  --change       emit events only when the value changes (mode=change)\n"
"  --no-events    never emit sample events: the bytes stay in debugfs (mode=none)\n"
"  --fault        let the sampler fault pages in (default: resident pages only)\n";

static int vtype_from_name(const char *s)
{
	for (unsigned int i = 0; i < UMS_VT_NR; i++)
		if (!strcmp(ums_vtype_name(i), s))
			return (int)i;
	return -1;
}

static void default_name(const char *target, char *name)
{
	size_t n = 0, i;
	bool reserved;

	for (; target[n] && n < UMS_NAME_LEN - 1; n++) {
		char c = target[n];

		name[n] = (isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':' ||
			   c == '-') ? c : '_';
	}
	name[n] = '\0';
	reserved = n >= 2 && name[0] == 'r';
	for (i = 1; reserved && i < n; i++)
		reserved = isdigit((unsigned char)name[i]);
	if (reserved) {
		memmove(name + 1, name, n < UMS_NAME_LEN - 2 ? n + 1 : UMS_NAME_LEN - 2);
		name[0] = '_';
		name[UMS_NAME_LEN - 1] = '\0';
	}
}

int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "len", required_argument, NULL, 'l' },
		{ "type", required_argument, NULL, 't' },
		{ "period", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "change", no_argument, NULL, 'c' },
		{ "no-events", no_argument, NULL, 'E' },
		{ "fault", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t len = 0, period = 0, pid, scalar;
	int vtype = -1, o, ret = UMS_EXIT_ERR;
	bool change = false, quiet = false, fault = false, have_len = false;
	const char *target;
	char name[UMS_NAME_LEN] = "", line[UMS_LINE_MAX], src[256] = "";
	struct ums_resolved res;
	struct ums_region *regs;
	size_t nregs;
	struct ums_limits lim = {
		.max_len = UINT64_MAX, .addr_limit = UINT64_MAX, .default_period_us = 10000,
		.min_period_us = 100, .max_period_us = 3600000000U, .max_pid = 4194304,
	};
	struct ums_cmd cmd;
	struct ums_perr perr;
	int r;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			if (ums_parse_u64(optarg, &len) || !len)
				return usage_err("add", add_usage, "bad --len '%s'", optarg);
			have_len = true;
			break;
		case 't':
			vtype = vtype_from_name(optarg);
			if (vtype < 0)
				return usage_err("add", add_usage, "unknown type '%s' (hex u8 u16 "
						 "u32 u64 s8 s16 s32 s64 f32 f64 str)", optarg);
			break;
		case 'p':
			if (ums_parse_duration_us(optarg, &period) || period < 100 ||
			    period > 3600000000ULL)
				return usage_err("add", add_usage, "bad --period '%s' (100us..1h, "
						 "e.g. 500us, 1ms, 2s)", optarg);
			break;
		case 'n':
			if (!ums_name_valid(optarg))
				return usage_err("add", add_usage, "bad --name '%s' (1..31 of "
						 "[A-Za-z0-9_.:-], not r<digits>)", optarg);
			snprintf(name, sizeof(name), "%s", optarg);
			break;
		case 'c':
			change = true;
			break;
		case 'E':
			quiet = true;
			break;
		case 'f':
			fault = true;
			break;
		case 'h':
			fputs(add_usage, stdout);
			return UMS_EXIT_OK;
		default:
			return usage_err("add", add_usage, NULL);
		}
	}
	if (change && quiet)
		return usage_err("add", add_usage, "--change and --no-events exclude each other");
	if (argc - optind != 2)
		return usage_err("add", add_usage, "expected PID and TARGET");
	if (ums_parse_u64(argv[optind], &pid) || !pid || pid > 4194304)
		return usage_err("add", add_usage, "bad PID '%s'", argv[optind]);
	target = argv[optind + 1];
	scalar = vtype >= 0 ? ums_vtype_size((unsigned int)vtype) : 0;
	if (have_len && scalar && len != scalar)
		return usage_err("add", add_usage, "--len %" PRIu64 " does not match --type %s "
				 "(%" PRIu64 " bytes)", len, ums_vtype_name((unsigned int)vtype),
				 scalar);
	if (!name[0])
		default_name(target, name);
	if (!ums_name_valid(name))
		return usage_err("add", add_usage, "cannot make a region name from '%s': use "
				 "--name", target);
	if (ums_check_dir())
		return UMS_EXIT_ERR;

	r = ums_resolve((pid_t)pid, target, &res);
	if (r)
		return r == -2 ? UMS_EXIT_USAGE : UMS_EXIT_ERR;
	/* --type/--len override; a resolved scalar type that no longer fits becomes hex */
	if (vtype < 0) {
		vtype = res.vtype >= 0 ? res.vtype : UMS_VT_HEX;
		scalar = ums_vtype_size((unsigned int)vtype);
		if (have_len && scalar && scalar != len) {
			vtype = UMS_VT_HEX;
			scalar = 0;
		}
	}
	if (!have_len)
		len = scalar ? scalar : res.len;
	if (!len) {
		fprintf(stderr, "umsampler add: the length of '%s' is unknown: pass --len N (or "
			"a scalar --type)\n", target);
		ret = UMS_EXIT_USAGE;
		goto out;
	}
	r = snprintf(line, sizeof(line), "add pid=%" PRIu64 " addr=0x%" PRIx64 " len=%" PRIu64
		     " type=%s name=%s", pid, res.addr, len, ums_vtype_name((unsigned int)vtype),
		     name);
	if (period)
		r += snprintf(line + r, sizeof(line) - (size_t)r, " period_us=%" PRIu64, period);
	if (change || quiet)
		r += snprintf(line + r, sizeof(line) - (size_t)r, " mode=%s",
			      ums_mode_name(quiet ? UMS_MODE_NONE : UMS_MODE_CHANGE));
	if (fault)
		r += snprintf(line + r, sizeof(line) - (size_t)r, " fault");
	if (ums_parse_line(line, (size_t)r, 1, &lim, &cmd, &perr)) {
		fprintf(stderr, "umsampler add: invalid command '%s': %s\n", line, perr.msg);
		goto out;
	}
	line[r++] = '\n';
	line[r] = '\0';
	if (ums_control("add", line)) {
		if (errno == EEXIST)
			fprintf(stderr, "  a region named '%s' exists: choose another --name or "
				"`umsampler del %s`\n", name, name);
		else if (errno == E2BIG)
			fprintf(stderr, "  %" PRIu64 " bytes is more than max_len: use --len or "
				"raise /sys/module/umsampler/parameters/max_len\n", len);
		else if (errno == ESRCH)
			fprintf(stderr, "  no process %" PRIu64 " (did it exit?)\n", pid);
		goto out;
	}
	if (res.object)
		snprintf(src, sizeof(src), " source=%s:%s(%s)", res.object, res.symbol,
			 res.dwarf ? "dwarf" : "symtab");
	if (ums_regions(&regs, &nregs))
		goto out;
	ret = UMS_EXIT_OK;
	for (size_t i = 0; i < nregs; i++) {
		if (strcmp(regs[i].name, name))
			continue;
		printf("added id=%lu name=%s pid=%" PRIu64 " addr=0x%" PRIx64 " len=%" PRIu64
		       " type=%s%s\n", regs[i].id, name, pid, res.addr, len,
		       ums_vtype_name((unsigned int)vtype), src);
		free(regs);
		goto out;
	}
	free(regs);
	printf("added id=? name=%s pid=%" PRIu64 " addr=0x%" PRIx64 " len=%" PRIu64
	       " type=%s%s\n", name, pid, res.addr, len, ums_vtype_name((unsigned int)vtype), src);
	fprintf(stderr, "umsampler add: warning: region '%s' is not in regions any more (the "
		"process exited?)\n", name);
out:
	ums_resolved_free(&res);
	return ret;
}

/* ---- list ---- */

static const char list_usage[] =
"usage: umsampler list [--wide]\n"
"  Regions as a table with the latest decoded value (values/NAME); values longer than\n"
"  40 characters are cut unless --wide.\n";

/* Latest value of a region, without its newline ("" before the first sample; NULL if gone). */
static char *region_value(const char *name)
{
	char rel[64], *v;

	snprintf(rel, sizeof(rel), "values/%s", name);
	v = ums_read(rel, NULL);
	if (v)
		v[strcspn(v, "\n")] = '\0';
	return v;
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wide", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ums_region *r;
	size_t n, wname = 4, wpid = 3;
	bool wide = false;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "wh", opts, NULL)) != -1) {
		switch (o) {
		case 'w':
			wide = true;
			break;
		case 'h':
			fputs(list_usage, stdout);
			return UMS_EXIT_OK;
		default:
			return usage_err("list", list_usage, NULL);
		}
	}
	if (optind != argc)
		return usage_err("list", list_usage, "unexpected argument '%s'", argv[optind]);
	if (ums_check_dir() || ums_regions(&r, &n))
		return UMS_EXIT_ERR;
	if (!n) {
		printf("no regions\n");
		return UMS_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++) {
		char p[24];
		size_t l = strlen(r[i].name);

		if (l > wname)
			wname = l;
		l = (size_t)snprintf(p, sizeof(p), "%ld", r[i].pid);
		if (l > wpid)
			wpid = l;
	}
	printf("%4s %-*s %*s %-18s %6s %-4s %6s %-6s %9s %7s  %s\n", "ID", (int)wname, "NAME",
	       (int)wpid, "PID", "ADDR", "LEN", "TYPE", "PERIOD", "MODE", "SAMPLES", "PARTIAL",
	       "VALUE");
	for (size_t i = 0; i < n; i++) {
		char per[24], addr[24], *v = region_value(r[i].name);
		const char *shown = !v ? "(gone)" : !*v ? "-" : v;
		int w = !wide && strlen(shown) > 40 ? 37 : (int)strlen(shown);

		fmt_duration(per, sizeof(per), r[i].period_us);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, r[i].addr);
		printf("%4lu %-*s %*ld %-18s %6" PRIu64 " %-4s %6s %-6s %9" PRIu64 " %7" PRIu64
		       "  %.*s%s\n", r[i].id, (int)wname, r[i].name, (int)wpid, r[i].pid, addr,
		       r[i].len, r[i].type, per, r[i].mode, r[i].samples, r[i].partial, w, shown,
		       w < (int)strlen(shown) ? "..." : "");
		free(v);
	}
	free(r);
	return UMS_EXIT_OK;
}

/* ---- del ---- */

static const char del_usage[] =
"usage: umsampler del ID|NAME... | --pid PID | --all\n"
"  Delete regions by id or name, every region of a process, or all of them, in one\n"
"  all-or-nothing batch.\n";

int cmd_del(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *buf = NULL;
	size_t cap = 0;
	FILE *m;
	uint64_t pid = 0, x;
	bool all = false;
	int o, ret;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (ums_parse_u64(optarg, &pid) || !pid || pid > 4194304)
				return usage_err("del", del_usage, "bad --pid '%s'", optarg);
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			fputs(del_usage, stdout);
			return UMS_EXIT_OK;
		default:
			return usage_err("del", del_usage, NULL);
		}
	}
	if ((optind < argc) + !!pid + all != 1)
		return usage_err("del", del_usage, "give regions, --pid PID or --all");
	for (int i = optind; i < argc; i++)
		if (ums_parse_u64(argv[i], &x) && !ums_name_valid(argv[i]))
			return usage_err("del", del_usage, "bad region id or name '%s'", argv[i]);
	if (ums_check_dir())
		return UMS_EXIT_ERR;
	m = open_memstream(&buf, &cap);
	if (!m) {
		ums_err("out of memory");
		return UMS_EXIT_ERR;
	}
	if (all)
		fprintf(m, "clear\n");
	else if (pid)
		fprintf(m, "del pid=%" PRIu64 "\n", pid);
	for (int i = optind; i < argc; i++) {
		if (!ums_parse_u64(argv[i], &x))
			fprintf(m, "del %" PRIu64 "\n", x);
		else
			fprintf(m, "del name=%s\n", argv[i]);
	}
	if (fclose(m)) {
		ums_err("out of memory");
		free(buf);
		return UMS_EXIT_ERR;
	}
	ret = ums_control("del", buf) ? UMS_EXIT_ERR : UMS_EXIT_OK;
	free(buf);
	if (ret)
		return ret;
	if (all)
		printf("deleted all regions\n");
	else if (pid)
		printf("deleted the regions of pid %" PRIu64 "\n", pid);
	else
		for (int i = optind; i < argc; i++)
			printf("deleted %s\n", argv[i]);
	return UMS_EXIT_OK;
}

/* ---- stats ---- */

static const char stats_usage[] =
"usage: umsampler stats\n"
"  The sampler's counters (the module's stats file) and whether sampling is enabled.\n";

int cmd_stats(int argc, char **argv)
{
	char *buf, *line, *save = NULL, *en;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h",
				(const struct option[]){ { "help", no_argument, NULL, 'h' },
							 { 0 } }, NULL)) != -1) {
		if (o == 'h') {
			fputs(stats_usage, stdout);
			return UMS_EXIT_OK;
		}
		return usage_err("stats", stats_usage, NULL);
	}
	if (optind != argc)
		return usage_err("stats", stats_usage, "unexpected argument '%s'", argv[optind]);
	if (ums_check_dir())
		return UMS_EXIT_ERR;
	buf = ums_read("stats", NULL);
	if (!buf) {
		ums_err("cannot read %s/stats: %s", ums_dir(), strerror(errno));
		return UMS_EXIT_ERR;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		unsigned long long v;
		size_t kl;

		if (sscanf(line, "%63s %llu", key, &v) != 2) {
			printf("%s\n", line);
			continue;
		}
		kl = strlen(key);
		if (kl > 3 && !strcmp(key + kl - 3, "_ns") && v >= 1000)
			printf("%-14s %llu (%.3g %s)\n", key, v,
			       v >= 1000000000ULL ? v / 1e9 : v >= 1000000 ? v / 1e6 : v / 1e3,
			       v >= 1000000000ULL ? "s" : v >= 1000000 ? "ms" : "us");
		else
			printf("%-14s %llu\n", key, v);
	}
	free(buf);
	en = ums_read("enabled", NULL);
	if (en) {
		en[strcspn(en, "\n")] = '\0';
		printf("%-14s %s\n", "enabled", en);
		free(en);
	}
	return UMS_EXIT_OK;
}
