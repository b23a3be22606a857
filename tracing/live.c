// SPDX-License-Identifier: GPL-2.0
/*
 * live.c - the live system as the subcommands add, list, del, stats and watch see it: the
 * module's debugfs directory (where it is, whether it is usable), reading its files, parsing
 * `regions`, and writing `control` with the kernel's error message (cli.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

const char *cli_debugfs_dir(void)
{
	const char *d = getenv("UMSAMPLER_DEBUGFS");

	return d && *d ? d : UMS_DEBUGFS;
}

int cli_check_debugfs(void)
{
	const char *d = cli_debugfs_dir();
	struct stat st;

	if (!stat(d, &st) && S_ISDIR(st.st_mode)) {
		if (access(d, R_OK | X_OK)) {
			cli_err("permission denied: %s (umsampler needs root)", d);
			return -1;
		}
		return 0;
	}
	if (errno == EACCES || errno == EPERM) {
		cli_err("permission denied: %s (debugfs is root-only: run umsampler as root)", d);
		return -1;
	}
	if (errno == ENOENT || errno == ENOTDIR || !errno) {
		cli_err("umsampler module not loaded: sudo modprobe umsampler / insmod "
			"module/umsampler.ko (%s missing%s)", d,
			strcmp(d, UMS_DEBUGFS) ? "" :
			"; is debugfs mounted? mount -t debugfs none /sys/kernel/debug");
		return -1;
	}
	cli_err("%s: %s", d, strerror(errno));
	return -1;
}

char *cli_read_file(const char *rel, size_t *lenp)
{
	char *path, *buf = NULL, *t;
	size_t len = 0, cap = 0;
	int fd, e;

	if (asprintf(&path, "%s/%s", cli_debugfs_dir(), rel) < 0)
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

char *cli_read_value(const char *name)
{
	char rel[64], *v;

	snprintf(rel, sizeof(rel), "values/%s", name);
	v = cli_read_file(rel, NULL);
	if (v)
		v[strcspn(v, "\n")] = '\0';
	return v;
}

#define FIELD_SIZE(f)	sizeof(((struct cli_region *)NULL)->f)

/* The columns of `regions` the CLI reads, by header name; the others are skipped. */
static const struct {
	const char *col;
	size_t off;
	size_t size;	/* text column of that size; 0: a number (a 64-bit field) */
} region_cols[] = {
	{ "ID", offsetof(struct cli_region, id), 0 },
	{ "PID", offsetof(struct cli_region, pid), 0 },
	{ "ADDR", offsetof(struct cli_region, addr), 0 },
	{ "LEN", offsetof(struct cli_region, len), 0 },
	{ "PERIOD_US", offsetof(struct cli_region, period_us), 0 },
	{ "TYPE", offsetof(struct cli_region, type), FIELD_SIZE(type) },
	{ "MODE", offsetof(struct cli_region, mode), FIELD_SIZE(mode) },
	{ "NAME", offsetof(struct cli_region, name), FIELD_SIZE(name) },
	{ "SAMPLES", offsetof(struct cli_region, samples), 0 },
	{ "PARTIAL", offsetof(struct cli_region, partial), 0 },
	{ "EMITTED", offsetof(struct cli_region, emitted), 0 },
	{ "DEREF", offsetof(struct cli_region, deref), FIELD_SIZE(deref) },
	{ "SEQ", offsetof(struct cli_region, seq), FIELD_SIZE(seq) },
};

static const char *cli_state_dir(void)
{
	const char *d = getenv("UMSAMPLER_STATE_DIR");

	return d && *d ? d : "/run/umsampler";
}

void cli_expr_save(uint64_t id, uint64_t pid, const char *name, const char *expr)
{
	char path[PATH_MAX], line[512];
	struct stat st;
	int fd, n;

	if (strpbrk(expr, " \t\n"))
		return;
	mkdir(cli_state_dir(), 0700);
	snprintf(path, sizeof(path), "%s/targets", cli_state_dir());
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	/* bounded: past 256 KiB start afresh (older entries only name regions long gone) */
	if (fstat(fd, &st) == 0 && st.st_size > 256 * 1024 && ftruncate(fd, 0))
		n = -1;
	n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 " %s %s\n", id, pid, name, expr);
	if (n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) != n)
		n = -1;	/* best effort */
	close(fd);
}

bool cli_region_chained(const struct cli_region *r)
{
	return (r->deref[0] && strcmp(r->deref, "-")) || (r->seq[0] && strcmp(r->seq, "-"));
}

/* Fill the expr of the regions the state file names (the last line for a region wins). */
static void cli_expr_load(struct cli_region *v, size_t n)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/targets", cli_state_dir());
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[64], expr[sizeof(v->expr)];
		uint64_t id, pid;

		if (sscanf(line, "%" SCNu64 " %" SCNu64 " %63s %127s", &id, &pid, name, expr) != 4)
			continue;
		for (size_t i = 0; i < n; i++)
			if (v[i].id == id && (uint64_t)v[i].pid == pid && !strcmp(v[i].name, name))
				memcpy(v[i].expr, expr, sizeof(expr));
	}
	fclose(f);
}

/* Store field text f of column c into r; -1 if a number column does not hold a number. */
static int region_set(struct cli_region *r, int c, const char *f)
{
	char *p = (char *)r + region_cols[c].off;
	uint64_t x;

	if (region_cols[c].size) {
		snprintf(p, region_cols[c].size, "%s", f);
		return 0;
	}
	if (cli_parse_u64(f, &x))
		return -1;
	memcpy(p, &x, sizeof(x));
	return 0;
}

bool cli_read_file_ok(const char *rel)
{
	char *path;
	bool ok;

	if (asprintf(&path, "%s/%s", cli_debugfs_dir(), rel) < 0)
		return false;
	ok = !access(path, R_OK);
	free(path);
	return ok;
}

int cli_dev_regions(struct cli_region **out, size_t *np)
{
	char *buf = cli_dev_read(), *line, *save = NULL;
	struct cli_region *v = NULL, *t;
	size_t n = 0;

	*out = NULL;
	*np = 0;
	if (!buf) {
		cli_err("cannot read %s: %s", cli_dev_path(), strerror(errno));
		return -1;
	}
	/* "ID NAME PID TYPE SEQ TIME_NS FLAGS VALUE" after an optional "error: " line. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t id;
		int64_t pid;
		char name[32];

		if (sscanf(line, "%" SCNu64 " %31s %" SCNd64, &id, name, &pid) != 3)
			continue;
		t = realloc(v, (n + 1) * sizeof(*v));
		if (!t) {
			free(v);
			free(buf);
			cli_err("out of memory");
			return -1;
		}
		v = t;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].id = id;
		v[n].pid = pid;
		snprintf(v[n].name, sizeof(v[n].name), "%s", name);
		n++;
	}
	free(buf);
	*out = v;
	*np = n;
	return 0;
}

int cli_read_regions(struct cli_region **out, size_t *np)
{
	char *buf = cli_read_file("regions", NULL), *line, *save = NULL;
	int cols[16];	/* index into region_cols of each column, -1: not read */
	int ncols = 0;
	struct cli_region *v = NULL;
	size_t n = 0;
	int ret = 0;

	*out = NULL;
	*np = 0;
	if (!buf) {
		cli_err("cannot read %s/regions: %s", cli_debugfs_dir(), strerror(errno));
		return -1;
	}
	line = strtok_r(buf, "\n", &save);
	if (!line || strncmp(line, "ID ", 3)) {
		cli_err("%s/regions: unexpected header", cli_debugfs_dir());
		free(buf);
		return -1;
	}
	for (char *s2 = NULL, *c = strtok_r(line, " ", &s2); c && ncols < 16;
	     c = strtok_r(NULL, " ", &s2)) {
		cols[ncols] = -1;
		for (size_t k = 0; k < sizeof(region_cols) / sizeof(region_cols[0]); k++)
			if (!strcmp(c, region_cols[k].col))
				cols[ncols] = (int)k;
		ncols++;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct cli_region r = { 0 }, *t;
		char *s2 = NULL, *f = strtok_r(line, " ", &s2);
		int bad = 0;

		for (int i = 0; i < ncols && f && !bad; i++, f = strtok_r(NULL, " ", &s2))
			bad = cols[i] >= 0 && region_set(&r, cols[i], f);
		if (bad || !r.id || !r.name[0]) {
			cli_err("%s/regions: cannot parse a line", cli_debugfs_dir());
			ret = -1;
			break;
		}
		t = realloc(v, (n + 1) * sizeof(*v));
		if (!t) {
			cli_err("out of memory");
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
	cli_expr_load(v, n);
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

const char *cli_dev_path(void)
{
	const char *d = getenv("UMSAMPLER_DEV");

	return d && *d ? d : UMS_DEV;
}

/*
 * Which control path a write takes: $UMSAMPLER_DEV set -> the device; else debugfs `control`
 * if it opens for writing; else the device if it opens (lockdown refuses writable debugfs
 * files; users who are not root reach only the device).  Returns the open fd, *dev says
 * which; -1 with errno (of the debugfs open when both failed) and *path set.
 */
static int cli_open_control(bool *dev, char **path)
{
	int fd, e;

	*dev = false;
	if (asprintf(path, "%s/control", cli_debugfs_dir()) < 0) {
		*path = NULL;
		errno = ENOMEM;
		return -1;
	}
	if (!getenv("UMSAMPLER_DEV") || !*getenv("UMSAMPLER_DEV")) {
		fd = open(*path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 || (errno != EACCES && errno != EPERM && errno != ENOENT))
			return fd;
	}
	e = errno;
	fd = open(cli_dev_path(), O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		*dev = true;
		free(*path);
		*path = strdup(cli_dev_path());
		return fd;
	}
	if (getenv("UMSAMPLER_DEV") && *getenv("UMSAMPLER_DEV")) {
		e = errno;
		free(*path);
		*path = strdup(cli_dev_path());
	}
	errno = e;
	return -1;
}

bool cli_control_usable(void)
{
	char *path;
	bool dev;
	int fd = cli_open_control(&dev, &path);

	free(path);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

char *cli_dev_read(void)
{
	char *buf = NULL, *t;
	size_t len = 0, cap = 0;
	int fd = open(cli_dev_path(), O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return NULL;
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
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			goto fail;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}

/* The device's report on the write just done on fd: its "error: " line, or NULL. */
static char *cli_dev_error(int fd)
{
	char buf[512];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (strncmp(buf, "error: ", 7))
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf + 7);
}

int cli_write_control(const char *what, const char *buf)
{
	char *path, *msg = NULL;
	size_t len = strlen(buf);
	bool dev;
	ssize_t n;
	int fd, e;

	fd = cli_open_control(&dev, &path);
	if (fd < 0) {
		e = errno;
		if (e == EACCES || e == EPERM)
			fprintf(stderr, "umsampler %s: permission denied opening %s and %s: run as "
				"root, or as a member of the device's group (README: /dev/umsampler)\n",
				what, path ? path : "control", cli_dev_path());
		else
			fprintf(stderr, "umsampler %s: cannot open %s: %s\n", what,
				path ? path : "control", strerror(e));
		free(path);
		errno = e;
		return -1;
	}
	n = write(fd, buf, len);
	e = errno;
	if (n < 0 && dev)
		msg = cli_dev_error(fd);
	if (close(fd) && n >= 0) {
		e = errno;
		n = -1;
	}
	if (n == (ssize_t)len) {
		free(path);
		return 0;
	}
	if (n >= 0)
		e = EIO;	/* short write: the module takes whole writes */
	if (e == EPERM && !dev) {
		fprintf(stderr, "umsampler %s: permission denied: writing control needs "
			"CAP_SYS_PTRACE (run as root)\n", what);
		free(path);
		errno = e;
		return -1;
	}
	if (!dev)
		msg = cli_read_file("control", NULL);
	if (msg && *msg) {
		msg[strcspn(msg, "\n")] = '\0';
		fprintf(stderr, "umsampler %s: the module refused it: %s\n", what, msg);
	} else {
		fprintf(stderr, "umsampler %s: the module refused it: %s (%s)\n", what,
			errno_name(e), strerror(e));
	}
	free(msg);
	free(path);
	errno = e;
	return -1;
}
