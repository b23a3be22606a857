// SPDX-License-Identifier: GPL-2.0
/*
 * ums386 - the helper of the i386 (686-pae) suite, tests/i386/suite.sh, which
 * runs under busybox sh in a 32-bit guest with no perl: built -m32 -static.
 *
 *   ums386 w FILE TEXT        one write(2) of TEXT (escapes \n \t \r \\ \xNN)
 *                             to FILE; prints "OK" or the errno's name; exit 0
 *   ums386 pfn PID ADDR LEN   for each page of [ADDR, ADDR+LEN) of PID: the
 *                             /proc/PID/pagemap entry, one line
 *                             "page PID 0xADDR present P pfn 0xPFN"; exit 1 if
 *                             the file cannot be read
 *   ums386 mem PID ADDR LEN   the bytes at ADDR in PID (/proc/PID/mem) in
 *                             lowercase hex, or "unreadable"
 *   ums386 bad TABLE          every entry of tests/data/bad-lines.txt written
 *                             to debugfs control: one line per entry,
 *                             "match ERRNO" or "mismatch WANT GOT <source>"
 *   ums386 hex FILE           the bytes of FILE in lowercase hex (raw/NAME)
 *   ums386 kpf PFN            the page's /proc/kpageflags word, "0x..." (bit 24:
 *                             KPF_ZERO_PAGE)
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64	/* /proc/PID/mem offsets above 2 GiB */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONTROL "/sys/kernel/debug/umsampler/control"

static const struct {
	const char *name;
	int e;
} errs[] = {
	{ "EINVAL", EINVAL }, { "ESRCH", ESRCH }, { "EFAULT", EFAULT }, { "E2BIG", E2BIG },
	{ "ENOSPC", ENOSPC }, { "EEXIST", EEXIST }, { "ENOENT", ENOENT }, { "EPERM", EPERM },
	{ "ENOMEM", ENOMEM }, { "EBUSY", EBUSY }, { "EIO", EIO }, { "EACCES", EACCES },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENODEV", ENODEV },
};

static const char *ename(int e)
{
	static char buf[32];

	if (!e)
		return "OK";
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (errs[i].e == e)
			return errs[i].name;
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

/* Decode the escapes in place; returns the length. */
static size_t unescape(char *s)
{
	char *o = s;
	const char *i = s;

	while (*i) {
		if (*i != '\\' || !i[1]) {
			*o++ = *i++;
			continue;
		}
		i++;
		switch (*i) {
		case 'n': *o++ = '\n'; i++; break;
		case 't': *o++ = '\t'; i++; break;
		case 'r': *o++ = '\r'; i++; break;
		case 'v': *o++ = '\v'; i++; break;
		case 'f': *o++ = '\f'; i++; break;
		case '0': *o++ = '\0'; i++; break;
		case '\\': *o++ = '\\'; i++; break;
		case 'x': {
			char h[3] = { i[1], i[1] ? i[2] : 0, 0 };

			*o++ = (char)strtol(h, NULL, 16);
			i += 3;
			break;
		}
		default: *o++ = '\\'; break;
		}
	}
	return (size_t)(o - s);
}

static int write_once(const char *file, const char *buf, size_t len)
{
	int fd = open(file, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, buf, len) < 0)
		err = errno;
	close(fd);
	return err;
}

static int cmd_pfn(int pid, uint64_t addr, uint64_t len)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (uint64_t p = addr & ~4095ULL; p < addr + len; p += 4096) {
		uint64_t e;

		if (pread(fd, &e, 8, (off_t)(p / 4096 * 8)) != 8) {
			perror("pread pagemap");
			return 1;
		}
		printf("page %d 0x%" PRIx64 " present %u pfn 0x%" PRIx64 "\n", pid, p,
		       (unsigned)(e >> 63), e & ((1ULL << 55) - 1));
	}
	close(fd);
	return 0;
}

static int cmd_mem(int pid, uint64_t addr, size_t len)
{
	char path[64];
	unsigned char *b = malloc(len ? len : 1);
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY);
	if (!b || fd < 0 || pread(fd, b, len, (off_t)addr) != (ssize_t)len) {
		printf("unreadable\n");
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		printf("%02x", b[i]);
	printf("\n");
	close(fd);
	free(b);
	return 0;
}

static int cmd_hex(const char *file)
{
	FILE *f = fopen(file, "rb");
	int c;

	if (!f) {
		printf("unreadable\n");
		return 0;
	}
	while ((c = getc(f)) != EOF)
		printf("%02x", c);
	printf("\n");
	fclose(f);
	return 0;
}

static int cmd_bad(const char *table)
{
	FILE *f = fopen(table, "r");
	static char line[70000];

	if (!f) {
		perror(table);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *want, *w, *tab, *src;
		size_t n;
		int err;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[strspn(line, " \t")])
			continue;
		want = line;
		tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		w = tab + 1;
		tab = strchr(w, '\t');
		if (tab)
			*tab = '\0';
		src = strdup(w);
		n = unescape(w);
		err = write_once(CONTROL, w, n);
		if (!strcmp(ename(err), want))
			printf("match %s\n", want);
		else
			printf("mismatch %s %s %s\n", want, ename(err), src);
		free(src);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "w")) {
		size_t n = unescape(argv[3]);

		printf("%s\n", ename(write_once(argv[2], argv[3], n)));
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "pfn"))
		return cmd_pfn(atoi(argv[2]), strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "mem"))
		return cmd_mem(atoi(argv[2]), strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "bad"))
		return cmd_bad(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "hex"))
		return cmd_hex(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "kpf")) {
		uint64_t e;
		int fd = open("/proc/kpageflags", O_RDONLY);

		if (fd < 0 || pread(fd, &e, 8, (off_t)(strtoull(argv[2], NULL, 0) * 8)) != 8) {
			perror("/proc/kpageflags");
			return 1;
		}
		printf("0x%" PRIx64 "\n", e);
		return 0;
	}
	fprintf(stderr, "usage: ums386 w FILE TEXT | pfn PID ADDR LEN | mem PID ADDR LEN | "
		"bad TABLE | hex FILE | kpf PFN\n");
	return 2;
}
