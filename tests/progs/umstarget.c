// SPDX-License-Identifier: GPL-2.0
/*
 * umstarget - the target process of the in-guest tests: holds variables of
 * every sampled type at known addresses and changes them on command.
 *
 * On start it prints one line per variable, then "ready":
 *   var NAME ADDR LEN TYPE
 * and then reads commands, one per line, from stdin (or --cmd FIFO), answering
 * each with "ok ..." after it took effect:
 *   set NAME VALUE     set a scalar (decimal/0x; floats as decimal) or str
 *   inc NAME [N]       add N (default 1) to an integer variable
 *   fill NAME BYTE     memset a hex variable
 *   dontneed NAME [I]  madvise(MADV_DONTNEED) the variable's pages, or only its
 *                      I-th page (anon: dropped)
 *   touch NAME         write the variable's pages (fault them back in)
 *   unmap NAME         munmap the variable's pages (mmap'ed variables only)
 *   fork               fork a child that sleeps; prints "ok child PID"
 *   exec               exec /bin/sleep 1000 (same pid, new mm)
 *   exit [CODE]        exit
 *   sleep MS           sleep, then answer
 *   dumpable 0|1       prctl(PR_SET_DUMPABLE)
 *   setuid UID         setresuid(UID, UID, UID): new credentials
 *   secret NAME        map memfd_secret() memory over the variable's pages
 *                      (mapped variables), filled with 0x5e: "ok secret" or
 *                      "err secret ERRNO"
 *   pfnmap NAME        map /dev/mem's first page(s) over them (VM_IO|VM_PFNMAP)
 *   dontdump NAME      madvise(MADV_DONTDUMP) them
 *   hwpoison NAME      madvise(MADV_HWPOISON) the first page (a memory error;
 *                      the SIGBUS 6.12 sends for it is caught: "ok hwpoison sigbus")
 *   mapfile NAME PATH  map PATH (read-only, shared, MADV_RANDOM) over them
 *   pkey NAME          tag them with a new protection key that denies this
 *                      thread all access (pkey_alloc + pkey_mprotect)
 *   move NAME NODE     move_pages(2) the variable's pages to NUMA node NODE:
 *                      "ok move S1 S2 ..." with each page's status (its node
 *                      after the move, or a negative errno)
 *   node NAME          "ok node N1 N2 ...": the node each page is on (move_pages
 *                      without nodes), or a negative errno per page
 *   remap NAME BYTE    munmap the variable's pages and map fresh anonymous
 *                      memory at the same address, filled with BYTE
 *   mremap NAME        move the mapping elsewhere (mremap MAYMOVE|FIXED): the
 *                      old address is unmapped; "ok mremap 0xNEW"
 *   mprotect NAME P    mprotect them to P: none, r or rw
 *   pageout NAME       madvise(MADV_PAGEOUT) them: reclaimed (swapped out if
 *                      there is swap) now, unless something holds them
 *   mergeable NAME     madvise(MADV_MERGEABLE) them: KSM may merge them
 * With --tick-us N, `counter` is incremented every N microseconds by a thread
 * and `ticks` counts the increments. --nondumpable makes the process
 * non-dumpable (prctl PR_SET_DUMPABLE 0), as setuid programs are.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct shape {
	uint32_t a;
	uint16_t b;
	uint8_t c[10];
};

static volatile uint32_t counter;
static volatile uint8_t v_u8 = 200;
static volatile uint16_t v_u16 = 65000;
static volatile uint64_t v_u64 = 0xfedcba9876543210ULL;
static volatile int8_t v_s8 = -5;
static volatile int16_t v_s16 = -30000;
static volatile int32_t v_s32 = -2000000000;
static volatile int64_t v_s64 = -123456789012LL;
static volatile float v_f32 = -1.5f;
static volatile double v_f64 = 497.5;
static char v_str[32] = "kernel can read!";
static struct shape v_shape = { 0x11223344, 0x5566, "abcdefghi" };
static uint8_t v_big[10000];
/*
 * A file-backed global the program never reads: 1 MiB of .rodata (stored in
 * the file), so that the page in its middle is far from anything touched
 * (fault-around maps at most 64 KiB around a fault) and stays out of the
 * page tables; `rodata` is that page, starting with 0x42 0x43.
 */
static const uint8_t v_rodata[1 << 20] __attribute__((aligned(4096))) = {
	[1] = 1, [1 << 19] = 0x42, [(1 << 19) + 1] = 0x43,
};

struct var {
	const char *name;
	void *addr;
	size_t len;
	const char *type;
	int mapped;	/* 1: own mmap, may be unmapped */
};

static struct var vars[] = {
	{ "counter", (void *)&counter, 4, "u32", 0 },
	{ "u8", (void *)&v_u8, 1, "u8", 0 },
	{ "u16", (void *)&v_u16, 2, "u16", 0 },
	{ "u64", (void *)&v_u64, 8, "u64", 0 },
	{ "s8", (void *)&v_s8, 1, "s8", 0 },
	{ "s16", (void *)&v_s16, 2, "s16", 0 },
	{ "s32", (void *)&v_s32, 4, "s32", 0 },
	{ "s64", (void *)&v_s64, 8, "s64", 0 },
	{ "f32", (void *)&v_f32, 4, "f32", 0 },
	{ "f64", (void *)&v_f64, 8, "f64", 0 },
	{ "str", v_str, sizeof(v_str), "str", 0 },
	{ "shape", &v_shape, sizeof(v_shape), "hex", 0 },
	{ "big", v_big, sizeof(v_big), "hex", 0 },
	{ "page", NULL, 4096, "hex", 1 },	/* touched anon page, pattern */
	{ "fresh", NULL, 4096, "hex", 1 },	/* never-touched anon page */
	{ "two", NULL, 8192, "hex", 1 },	/* two touched pages */
	{ "rodata", (void *)&v_rodata[1 << 19], 4096, "hex", 0 },	/* untouched .rodata page */
	{ "lone", NULL, 4096, "hex", 1 },	/* never-touched page, a mapping of its own */
	{ "filepg", NULL, 4096, "hex", 1 },	/* a page to map a file over (mapfile) */
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

static volatile uint64_t ticks;
static volatile sig_atomic_t sigbus_seen;

static void on_sigbus(int sig)
{
	(void)sig;
	sigbus_seen = 1;
}
static long tick_us;

static struct var *find(const char *name)
{
	for (size_t i = 0; i < NVARS; i++)
		if (!strcmp(vars[i].name, name))
			return &vars[i];
	return NULL;
}

static void *ticker(void *arg)
{
	struct timespec next;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += tick_us * 1000;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		counter++;
		ticks++;
	}
	return NULL;
}

/*
 * An untouched anonymous page in a mapping of its own (PROT_NONE guard pages
 * on both sides, so no neighbour merges with it): a mapping that never had a
 * page, whose bytes are known to be zeroes.
 */
static void *map_alone(void)
{
	uint8_t *p = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE)) {
		perror("mmap");
		exit(2);
	}
	return p + 4096;
}

static void *map_pages(size_t len, int touch)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	if (touch)
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)(i * 7 + 3);
	return p;
}

static int set_var(struct var *v, const char *val)
{
	char *end;

	errno = 0;
	if (!strcmp(v->type, "str")) {
		char buf[sizeof(v_str)] = { 0 };

		/*
		 * One copy of the whole new value: a sampler must not catch the
		 * variable cleared between a memset and a strncpy.
		 */
		memcpy(buf, val, strnlen(val, sizeof(buf) - 1));
		memcpy(v->addr, buf, v->len < sizeof(buf) ? v->len : sizeof(buf));
		return 0;
	}
	if (!strcmp(v->type, "f32")) {
		*(volatile float *)v->addr = strtof(val, &end);
	} else if (!strcmp(v->type, "f64")) {
		*(volatile double *)v->addr = strtod(val, &end);
	} else if (v->type[0] == 's') {
		long long x = strtoll(val, &end, 0);

		memcpy(v->addr, &x, v->len);	/* little-endian: low bytes */
	} else if (v->type[0] == 'u') {
		unsigned long long x = strtoull(val, &end, 0);

		memcpy(v->addr, &x, v->len);
	} else {
		return -1;
	}
	return (errno || *end) ? -1 : 0;
}

int main(int argc, char **argv)
{
	char line[512], name[64], arg[400];
	pthread_t thr;
	FILE *in = stdin;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tick-us") && i + 1 < argc) {
			tick_us = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--nondumpable")) {
			if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
				perror("prctl");
				return 2;
			}
		} else if (!strcmp(argv[i], "--cmd") && i + 1 < argc) {
			in = fopen(argv[++i], "r+");
			if (!in) {
				perror("fopen");
				return 2;
			}
		} else {
			fprintf(stderr, "usage: %s [--tick-us N] [--cmd FIFO] [--nondumpable]\n",
				argv[0]);
			return 2;
		}
	}
	for (size_t i = 0; i < sizeof(v_big); i++)
		v_big[i] = (uint8_t)(i % 251);
	find("page")->addr = map_pages(4096, 1);
	find("fresh")->addr = map_pages(4096, 0);
	find("two")->addr = map_pages(8192, 1);
	find("lone")->addr = map_alone();
	find("filepg")->addr = map_alone();

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < NVARS; i++)
		printf("var %s %p %zu %s\n", vars[i].name, vars[i].addr, vars[i].len, vars[i].type);
	if (tick_us > 0 && pthread_create(&thr, NULL, ticker, NULL)) {
		perror("pthread_create");
		return 2;
	}
	printf("ready %d\n", (int)getpid());

	while (fgets(line, sizeof(line), in)) {
		struct var *v;
		int n;

		arg[0] = '\0';
		n = sscanf(line, "%63s %399[^\n]", name, arg);
		if (n < 1)
			continue;
		if (!strcmp(name, "exit")) {
			printf("ok exit\n");
			exit(n > 1 ? atoi(arg) : 0);
		} else if (!strcmp(name, "exec")) {
			printf("ok exec\n");
			execl("/bin/sleep", "sleep", "1000", (char *)NULL);
			perror("exec");
			return 2;
		} else if (!strcmp(name, "fork")) {
			pid_t pid = fork();

			if (pid == 0) {
				sleep(1000);
				_exit(0);
			}
			printf("ok child %d\n", (int)pid);
			continue;
		} else if (!strcmp(name, "sleep")) {
			usleep(atoi(arg) * 1000);
			printf("ok sleep\n");
			continue;
		} else if (!strcmp(name, "dumpable")) {
			printf(prctl(PR_SET_DUMPABLE, atoi(arg), 0, 0, 0) ? "err dumpable\n" :
			       "ok dumpable\n");
			continue;
		} else if (!strcmp(name, "setuid")) {
			uid_t u = (uid_t)atoi(arg);

			printf(setresuid(u, u, u) ? "err setuid\n" : "ok setuid\n");
			continue;
		} else if (!strcmp(name, "ticks")) {
			printf("ok ticks %" PRIu64 "\n", ticks);
			continue;
		}
		/* Commands on a variable: "CMD NAME [VALUE]". */
		char vname[64], val[336];

		val[0] = '\0';
		if (sscanf(arg, "%63s %335[^\n]", vname, val) < 1 || !(v = find(vname))) {
			printf("err unknown variable\n");
			continue;
		}
		if (!strcmp(name, "set")) {
			printf(set_var(v, val) ? "err bad value\n" : "ok set\n");
		} else if (!strcmp(name, "inc")) {
			uint64_t x = 0, by = val[0] ? strtoull(val, NULL, 0) : 1;

			memcpy(&x, v->addr, v->len < 8 ? v->len : 8);
			x += by;
			memcpy(v->addr, &x, v->len < 8 ? v->len : 8);
			printf("ok inc\n");
		} else if (!strcmp(name, "fill")) {
			memset(v->addr, (int)strtol(val, NULL, 0), v->len);
			printf("ok fill\n");
		} else if (!strcmp(name, "dontneed")) {
			uint8_t *a = v->addr;
			size_t l = v->len;

			if (val[0]) {	/* one page of a page-aligned variable */
				a += strtoul(val, NULL, 0) * 4096;
				l = 4096;
			}
			printf(madvise(a, l, MADV_DONTNEED) ? "err madvise\n" : "ok dontneed\n");
		} else if (!strcmp(name, "touch")) {
			for (size_t i = 0; i < v->len; i += 4096)
				((volatile uint8_t *)v->addr)[i] = ((volatile uint8_t *)v->addr)[i];
			printf("ok touch\n");
		} else if (!strcmp(name, "secret") && v->mapped) {
#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif
			int fd = (int)syscall(SYS_memfd_secret, 0);
			void *p = MAP_FAILED;

			if (fd >= 0 && !ftruncate(fd, (off_t)v->len))
				p = mmap(v->addr, v->len, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_FIXED, fd, 0);
			if (p == MAP_FAILED) {
				printf("err secret %d\n", errno);
			} else {
				memset(p, 0x5e, v->len);
				printf("ok secret\n");
			}
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(name, "pfnmap") && v->mapped) {
			int fd = open("/dev/mem", O_RDONLY | O_SYNC);
			void *p = MAP_FAILED;

			if (fd >= 0)
				p = mmap(v->addr, v->len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
			printf(p == MAP_FAILED ? "err pfnmap %d\n" : "ok pfnmap\n", errno);
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(name, "mapfile") && v->mapped) {
			int fd = open(val, O_RDONLY);
			void *p = MAP_FAILED;

			if (fd >= 0)
				p = mmap(v->addr, v->len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
			if (p != MAP_FAILED)
				madvise(p, v->len, MADV_RANDOM);
			printf(p == MAP_FAILED ? "err mapfile %d\n" : "ok mapfile\n", errno);
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(name, "pkey") && v->mapped) {
			/* A protection key that denies this thread every access to the pages. */
			int key = (int)syscall(SYS_pkey_alloc, 0, 0x1 /* PKEY_DISABLE_ACCESS */);

			if (key < 0 || syscall(SYS_pkey_mprotect, v->addr, v->len,
					       PROT_READ | PROT_WRITE, key))
				printf("err pkey %d\n", errno);
			else
				printf("ok pkey %d\n", key);
		} else if (!strcmp(name, "dontdump")) {
			printf(madvise(v->addr, v->len, MADV_DONTDUMP) ? "err dontdump\n" :
			       "ok dontdump\n");
		} else if (!strcmp(name, "hwpoison") && v->mapped) {
			/*
			 * 6.12 reports a MADV_HWPOISON to the caller as an action-required
			 * memory error (SIGBUS, BUS_MCEERR_AR): catch it and live on, as
			 * long as we do not touch the page again.
			 */
			struct sigaction sa = { .sa_handler = on_sigbus }, old;
			int r;

			sigaction(SIGBUS, &sa, &old);
			r = madvise(v->addr, 4096, MADV_HWPOISON);
			sigaction(SIGBUS, &old, NULL);
			if (r)
				printf("err hwpoison %d\n", errno);
			else
				printf("ok hwpoison%s\n", sigbus_seen ? " sigbus" : "");
		} else if ((!strcmp(name, "move") || !strcmp(name, "node")) && v->mapped) {
			/* move_pages(2) without libnuma: one node for every page, or a query. */
			size_t np = (v->len + 4095) / 4096;
			void *pages[64];
			int nodes[64], status[64];

			for (size_t i = 0; i < np && i < 64; i++) {
				pages[i] = (uint8_t *)v->addr + i * 4096;
				nodes[i] = atoi(val);
				status[i] = -1;
			}
			if (np > 64 || syscall(SYS_move_pages, 0, np, pages,
					       name[0] == 'm' ? nodes : NULL, status, 2 /* MPOL_MF_MOVE */)) {
				printf("err %s %d\n", name, errno);
				continue;
			}
			printf("ok %s", name);
			for (size_t i = 0; i < np; i++)
				printf(" %d", status[i]);
			printf("\n");
		} else if (!strcmp(name, "remap") && v->mapped) {
			void *p;

			munmap(v->addr, v->len);
			p = mmap(v->addr, v->len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p != v->addr) {
				printf("err remap %d\n", errno);
				continue;
			}
			memset(p, (int)strtol(val, NULL, 0), v->len);
			printf("ok remap\n");
		} else if (!strcmp(name, "mremap") && v->mapped) {
			/* A fresh address to move to: reserve it, then move over it. */
			void *dst = mmap(NULL, v->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			void *p = dst == MAP_FAILED ? MAP_FAILED :
				  mremap(v->addr, v->len, v->len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);

			if (p == MAP_FAILED) {
				printf("err mremap %d\n", errno);
				continue;
			}
			v->addr = p;
			printf("ok mremap %p\n", p);
		} else if (!strcmp(name, "mprotect")) {
			int prot = !strcmp(val, "rw") ? PROT_READ | PROT_WRITE :
				   !strcmp(val, "r") ? PROT_READ : PROT_NONE;

			printf(mprotect(v->addr, v->len, prot) ? "err mprotect %d\n" : "ok mprotect\n",
			       errno);
		} else if (!strcmp(name, "pageout") || !strcmp(name, "mergeable")) {
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
			int advice = name[0] == 'p' ? MADV_PAGEOUT : MADV_MERGEABLE;

			if (madvise(v->addr, v->len, advice))
				printf("err %s %d\n", name, errno);
			else
				printf("ok %s\n", name);
		} else if (!strcmp(name, "unmap")) {
			printf(!v->mapped || munmap(v->addr, v->len) ? "err unmap\n" : "ok unmap\n");
		} else {
			printf("err unknown command\n");
		}
	}
	return 0;
}
