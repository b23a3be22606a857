// SPDX-License-Identifier: GPL-2.0
/*
 * bench/umsbench.c - one measurement point of `make bench`, run in the guest.
 *
 * Owns: the benchmark workload (T target processes, each holding R regions of
 * L bytes that it keeps modifying in a busy loop and counting its iterations),
 * the userspace contenders (process_vm_readv, /proc/PID/mem and ptrace
 * pollers), driving umsampler for the kernel contenders (events recorded by a
 * tracefs ring-buffer reader, events off, debug_floor), and the metrics of one
 * point: sampler CPU per region-sample, achieved vs requested samples,
 * lateness p50/p99/max, target slowdown. Prints one `RESULT key=value...`
 * line; exits non-zero if the harness broke (a contender crashed, no samples).
 *
 * Usage: umsbench -c CONTENDER -T targets -R regions -L len -P period_us
 *                 [-d window_ms] [-b baseline_ms] [-w warmup_ms] [-k module.ko]
 *                 [-x extra text appended to the RESULT line] [-F]
 * CONTENDER: ums-trace ums-snap floor ums-mirror-trace ums-mirror-snap ums-batch pvr procmem
 *    ptrace ums-chain pvr-chain
 *    (ums-chain, pvr-chain: every region sits behind two pointers, root[r] ->
 *    mid[r] -> region r: umsampler with `deref=0,0` and events off, against a
 *    poller that needs three dependent process_vm_readv() calls per period)
 *    (ums-mirror-*: the regions are added with `mirror`: copied in the hrtimer, in
 *    hard irq, which the sampler's schedstat does not see: their cpu_ns adds
 *    the mirror clock's own account of its callbacks (stats mirror_cpu_ns,
 *    also printed as irq_ns); machine_ns sees the interrupts' entry and exit too)
 *    ums-batch: the thread path recorded through umsampler:batch (one event per span)
 * -H CMD: run "CMD start" after the warm-up and "CMD stop" after the window
 *    (bench/guest.sh: the function_graph profile of the mirror clock).
 * -S US: paced targets: sleep US microseconds after each iteration (used for
 *    many targets, where T busy loops on one CPU would starve everything).
 * -F: run the sampler SCHED_FIFO at priority 1: umsampler with its sched_fifo
 *    parameter (sched_set_fifo_low()), a poller with sched_setscheduler(); the
 *    contender is reported as NAME+fifo.
 *
 * Placement (guest with >= 2 CPUs): targets and the trace reader on CPU 0, the
 * sampler (umsampler kthread or poller) alone on CPU 1, so the sampler never
 * competes with the workload or the event consumer for a CPU; the reader's
 * CPU time is reported separately (and its interference shows as slowdown).
 *
 * Whole-machine cost: a SCHED_IDLE spinner on every CPU counts loops through
 * the baseline and the window; machine_ns is what they (and the targets' work
 * rate) lost, which includes hard-irq time schedstat never charges to the
 * sampler (see machine_lost_ns()).
 *
 * Lateness has one definition for every contender: time at which a region's
 * copy completed minus its scheduled (absolute, period-aligned) deadline -
 * what umsampler puts in the event's late_ns.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_T		10000
#define HN		1024
#define DBG		"/sys/kernel/debug/umsampler"
#define TRC		"/sys/kernel/tracing"
#define PARAMS		"/sys/module/umsampler/parameters"
#define RING_BYTES	(16u << 20)

struct tshm {
	volatile uint64_t iters;
	volatile uint64_t base;		/* region 0 address, set when ready */
	volatile int pid;
};

/* One SCHED_IDLE spinner per CPU counts its loops; its own cache line. */
struct spin {
	volatile uint64_t loops;
	char pad[56];
};

#define MAX_CPU		64

struct shm {
	struct spin spin[MAX_CPU];
	volatile int stop, measuring, ready, spin_stop;
	volatile int err;
	/* poller */
	volatile uint64_t samples, missed, periods;
	uint64_t hist[HN];
	volatile uint64_t late_max;
	/* trace reader */
	volatile uint64_t ev, ev_samples, pages, rlate_max;
	uint64_t rhist[HN];
	struct tshm t[MAX_T];
};

static struct shm *S;
static int T = 1, R = 1, L = 8, P = 1000;
static int win_ms = 1000, base_ms = 500, warm_ms = 300, pace_us;
static const char *cont = "pvr", *ko, *extra = "";
static int cpu_tgt, cpu_smp, ncpu;
static pid_t tpids[MAX_T];
static pid_t helper = -1, reader = -1, spinners[MAX_CPU];
static int fifo;
static const char *hook;	/* -H CMD: "CMD start" after the warm-up, "CMD stop" after the window */
static int chain;	/* ums-chain, pvr-chain: every region behind two pointers */
static int mirror;	/* ums-mirror-*: regions added with `mirror` (hard-irq copies) */
static const char *evname = "sample";	/* the event recorded: sample, or batch (ums-batch) */

static void set_fifo(pid_t pid)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (fifo && sched_setscheduler(pid, SCHED_FIFO, &sp))
		fprintf(stderr, "umsbench: SCHED_FIFO for %d: %s\n", pid, strerror(errno));
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "umsbench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void pin(pid_t pid, int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(pid, sizeof(s), &s))
		fprintf(stderr, "umsbench: pin %d to cpu %d: %s\n", pid, cpu, strerror(errno));
}

/* --- lateness histogram: log-linear, 16 sub-buckets per power of two (<= 6 %) --- */
static unsigned int hbucket(uint64_t ns)
{
	unsigned int lg;

	if (ns < 16)
		return ns;
	lg = 63 - __builtin_clzll(ns);
	return 16 + (lg - 4) * 16 + ((ns >> (lg - 4)) & 15);
}

static uint64_t hmid(unsigned int b)
{
	unsigned int lg, sub;
	uint64_t lo, w;

	if (b < 16)
		return b;
	lg = (b - 16) / 16 + 4;
	sub = (b - 16) % 16;
	w = 1ull << (lg - 4);
	lo = (1ull << lg) + sub * w;
	return lo + w / 2;
}

static uint64_t hpct(const uint64_t *h, double q)
{
	uint64_t tot = 0, acc = 0, want;
	unsigned int i;

	for (i = 0; i < HN; i++)
		tot += h[i];
	if (!tot)
		return 0;
	want = (uint64_t)(q * (double)tot);
	if (want < 1)
		want = 1;
	for (i = 0; i < HN; i++) {
		acc += h[i];
		if (acc >= want)
			return hmid(i);
	}
	return 0;
}

/* --- small file helpers --- */
static int wr_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static char *rd_file(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, off = 0;

	if (fd < 0)
		return NULL;
	while ((size_t)off < sz - 1 && (n = read(fd, buf + off, sz - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = 0;
	return buf;
}

/* CPU time of a task in ns (/proc/PID/schedstat: sum_exec_runtime), same source for everyone. */
static uint64_t task_cpu_ns(pid_t pid)
{
	char p[64], b[256];

	snprintf(p, sizeof(p), "/proc/%d/schedstat", pid);
	if (!rd_file(p, b, sizeof(b)))
		die("cannot read %s", p);
	return strtoull(b, NULL, 10);
}

/* utime+stime of a task in ns (/proc/PID/stat, tick based): cross-check. */
static uint64_t task_ticks_ns(pid_t pid)
{
	char p[64], b[1024], *s;
	unsigned long ut, st;

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	if (!rd_file(p, b, sizeof(b)) || !(s = strrchr(b, ')')))
		return 0;
	if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (uint64_t)(ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

static uint64_t stat_get(const char *stats, const char *key)
{
	size_t kl = strlen(key);
	const char *p = stats;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* --- the workload --- */
static void target_main(int k)
{
	size_t sz = (size_t)R * L;
	volatile uint8_t *m;
	uint64_t i = 0;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin(0, cpu_tgt);
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(2);
	memset((void *)m, 0x5a, sz);	/* resident */
	S->t[k].base = (uintptr_t)m;
	if (chain) {
		/* root[r] -> mid[r] (64 bytes apart, pointer first) -> region r */
		uintptr_t *root = calloc(R, sizeof(*root));
		uint8_t *mid = calloc(R, 64);

		if (!root || !mid)
			_exit(2);
		for (r = 0; r < R; r++) {
			*(uintptr_t *)(mid + (size_t)r * 64) = (uintptr_t)(m + (size_t)r * L);
			root[r] = (uintptr_t)(mid + (size_t)r * 64);
		}
		S->t[k].base = (uintptr_t)root;
	}
	__sync_fetch_and_add(&S->ready, 1);
	for (;;) {
		for (r = 0; r < R; r++) {
			volatile uint8_t *p = m + (size_t)r * L;

			*(volatile uint64_t *)p += 1;
			p[i % (unsigned int)L] = (uint8_t)i;
		}
		S->t[k].iters = ++i;
		if (pace_us) {
			struct timespec ts = { pace_us / 1000000, (long)(pace_us % 1000000) * 1000 };

			nanosleep(&ts, NULL);
		}
	}
}

/*
 * The whole-machine cost of a contender: a SCHED_IDLE task on every CPU spins
 * and counts; what a contender costs anyone (its own run time, hard-irq time
 * that schedstat does not see, mm switches, cache and TLB misses it causes)
 * is time these spinners do not get. Compared with the baseline window.
 */
static void spinner_main(int cpu)
{
	struct sched_param sp = { 0 };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin(0, cpu);
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		_exit(3);
	while (!S->spin_stop)
		S->spin[cpu].loops++;
	_exit(0);
}

static void spin_read(uint64_t *v)
{
	int c;

	for (c = 0; c < ncpu; c++)
		v[c] = S->spin[c].loops;
}

/*
 * CPU ns the machine lost in the window. On each CPU: the spinner's speed
 * (loops per ns of its own CPU time) is calibrated in the baseline; in the
 * window it should have had the CPU minus what the workload uses there (all
 * of the sampler's CPU; on the targets' CPU, what they left in the baseline),
 * and the loops it made say how much it got. Plus the work rate the targets
 * lost, times the CPU share they had in the baseline. A disturbed baseline
 * (a kworker) lowers the spinner's loops and its CPU time alike, so the
 * speed stays right. Signed: noise averages out over repetitions.
 */
static double machine_lost_ns(const uint64_t (*loops)[MAX_CPU], const double *spin_ns,
			      double win_s, double rate_b, double rate_s, double tgt_share)
{
	double lost = 0, speed, avail;
	int c;

	for (c = 0; c < ncpu; c++) {
		if (loops[1][c] <= loops[0][c] || spin_ns[c] <= 0)
			continue;	/* never ran in the baseline: the targets' busy CPU */
		speed = (double)(loops[1][c] - loops[0][c]) / spin_ns[c];
		avail = c == cpu_tgt ? 1 - tgt_share : 1;
		if (avail < 0)
			avail = 0;
		lost += avail * win_s * 1e9 - (double)(loops[3][c] - loops[2][c]) / speed;
	}
	if (rate_b > 0)
		lost += (1 - rate_s / rate_b) * win_s * 1e9 * tgt_share;
	return lost;
}

static uint64_t tgt_cpu_sum(void)
{
	uint64_t s = 0;
	int k;

	for (k = 0; k < T; k++)
		s += task_cpu_ns(tpids[k]);
	return s;
}

static uint64_t spin_cpu(int c)
{
	return spinners[c] > 0 ? task_cpu_ns(spinners[c]) : 0;
}

static uint64_t work_sum(void)
{
	uint64_t s = 0;
	int k;

	for (k = 0; k < T; k++)
		s += S->t[k].iters;
	return s;
}

/* --- userspace pollers --- */
static void poll_account(uint64_t deadline, uint64_t n)
{
	uint64_t late, now = now_ns();

	late = now > deadline ? now - deadline : 0;
	S->samples += n;
	if (S->measuring) {
		S->hist[hbucket(late)] += n;
		if (late > S->late_max)
			S->late_max = late;
	}
}

/*
 * pvr-chain: what a poller must do for regions behind two pointers: three
 * dependent process_vm_readv() calls per target and period (all roots, then
 * all middle pointers, then all regions), each iovec batch built from the
 * previous answer.
 */
static void pvr_chain(pid_t pid, uint64_t roots, uint8_t *dst, struct iovec *liov,
		      struct iovec *riov, uint64_t *ptr)
{
	struct iovec l = { ptr, (size_t)R * 8 }, rv = { (void *)(uintptr_t)roots, (size_t)R * 8 };
	int r;

	if (process_vm_readv(pid, &l, 1, &rv, 1, 0) != (ssize_t)(R * 8))
		_exit(6);
	for (r = 0; r < R; r++) {
		liov[r].iov_base = &ptr[R + r];
		liov[r].iov_len = 8;
		riov[r].iov_base = (void *)(uintptr_t)ptr[r];
		riov[r].iov_len = 8;
	}
	if (process_vm_readv(pid, liov, R, riov, R, 0) != (ssize_t)(R * 8))
		_exit(6);
	for (r = 0; r < R; r++) {
		liov[r].iov_base = dst + (size_t)r * L;
		liov[r].iov_len = L;
		riov[r].iov_base = (void *)(uintptr_t)ptr[R + r];
		riov[r].iov_len = L;
	}
	if (process_vm_readv(pid, liov, R, riov, R, 0) != (ssize_t)((size_t)R * L))
		_exit(6);
}

static void poller_main(void)
{
	uint64_t P_ns = (uint64_t)P * 1000, next, now, skipped, *ptr;
	struct iovec *liov, *riov;
	uint8_t *ring;
	size_t rpos = 0, per = (size_t)R * L;
	int *fds = NULL, k, r, kind;
	char path[64];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin(0, cpu_smp);
	kind = !strcmp(cont, "pvr") || chain ? 0 : !strcmp(cont, "procmem") ? 1 : 2;
	ring = malloc(RING_BYTES);
	liov = calloc(R, sizeof(*liov));
	riov = calloc(R, sizeof(*riov));
	ptr = calloc(2 * (size_t)R, sizeof(*ptr));
	if (!ring || !liov || !riov || !ptr)
		_exit(3);
	memset(ring, 0, RING_BYTES);
	if (per > RING_BYTES)
		_exit(4);
	if (kind == 1) {
		fds = calloc(T, sizeof(*fds));
		for (k = 0; k < T; k++) {
			snprintf(path, sizeof(path), "/proc/%d/mem", tpids[k]);
			fds[k] = open(path, O_RDONLY);
			if (fds[k] < 0)
				_exit(5);
		}
	}
	now = now_ns();
	next = (now / P_ns + 1) * P_ns;
	while (!S->stop) {
		struct timespec ts = { next / 1000000000ull, next % 1000000000ull };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		for (k = 0; k < T; k++) {
			uint64_t base = S->t[k].base;

			if (rpos + per > RING_BYTES)
				rpos = 0;
			if (chain) {
				pvr_chain(tpids[k], base, ring + rpos, liov, riov, ptr);
				poll_account(next, R);
			} else if (kind == 0) {
				for (r = 0; r < R; r++) {
					liov[r].iov_base = ring + rpos + (size_t)r * L;
					liov[r].iov_len = L;
					riov[r].iov_base = (void *)(uintptr_t)(base + (uint64_t)r * L);
					riov[r].iov_len = L;
				}
				/* at most IOV_MAX (1024) iovecs per call */
				for (r = 0; r < R; r += 1024) {
					int n = R - r < 1024 ? R - r : 1024;

					if (process_vm_readv(tpids[k], liov + r, n, riov + r, n, 0) !=
					    (ssize_t)n * L)
						_exit(6);
				}
				poll_account(next, R);
			} else if (kind == 1) {
				for (r = 0; r < R; r++) {
					if (pread(fds[k], ring + rpos + (size_t)r * L, L,
						  (off_t)(base + (uint64_t)r * L)) != L)
						_exit(7);
					poll_account(next, 1);
				}
			} else {
				int st;

				if (ptrace(PTRACE_SEIZE, tpids[k], 0, 0) ||
				    ptrace(PTRACE_INTERRUPT, tpids[k], 0, 0))
					_exit(8);
				if (waitpid(tpids[k], &st, __WALL) != tpids[k])
					_exit(9);
				for (r = 0; r < R; r++) {
					uint64_t a = base + (uint64_t)r * L, o;

					for (o = 0; o < (uint64_t)L; o += 8) {
						long w;

						errno = 0;
						w = ptrace(PTRACE_PEEKDATA, tpids[k], (void *)(uintptr_t)(a + o), 0);
						if (errno)
							_exit(10);
						memcpy(ring + rpos + (size_t)r * L + o, &w, 8);
					}
					poll_account(next, 1);
				}
				if (ptrace(PTRACE_DETACH, tpids[k], 0, 0))
					_exit(11);
			}
			rpos += per;
		}
		S->periods++;
		next += P_ns;
		now = now_ns();
		if (next <= now) {
			skipped = (now - next) / P_ns + 1;
			next += skipped * P_ns;
			S->missed += skipped * (uint64_t)T * R;
		}
	}
	_exit(0);
}

/* --- tracefs reader: drains per_cpu/cpu*\/trace_pipe_raw, keeps late_ns of umsampler:sample --- */
static int ev_id, off_late, off_offset;
/* ums-batch: umsampler:batch instead of umsampler:sample (count, and __data_loc arrays) */
static int batch, off_count;

/* One umsampler:batch event: its entries whose offset is 0 are region-samples. */
static void parse_batch(const uint8_t *d, uint32_t len)
{
	uint32_t count, dl_late, dl_off, i, o;
	uint64_t late;

	memcpy(&count, d + off_count, 4);
	memcpy(&dl_late, d + off_late, 4);
	memcpy(&dl_off, d + off_offset, 4);
	if ((dl_late & 0xffff) + (uint64_t)count * 8 > len ||
	    (dl_off & 0xffff) + (uint64_t)count * 4 > len)
		return;
	for (i = 0; i < count; i++) {
		memcpy(&o, d + (dl_off & 0xffff) + 4 * i, 4);
		if (o)
			continue;
		memcpy(&late, d + (dl_late & 0xffff) + 8 * i, 8);
		S->ev_samples++;
		S->rhist[hbucket(late)]++;
		if (late > S->rlate_max)
			S->rlate_max = late;
	}
}

static int fmt_field(const char *fmt, const char *name)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s;", name);
	p = strstr(fmt, pat);
	if (!p || !(p = strstr(p, "offset:")))
		die("event format: no field %s", name);
	return atoi(p + 7);
}

static void parse_page(const uint8_t *pg, size_t n)
{
	uint64_t commit;
	size_t pos = 16, end;

	if (n < 16)
		return;
	memcpy(&commit, pg + 8, 8);
	end = 16 + (commit & ((1ull << 30) - 1));
	if (end > n)
		end = n;
	S->pages++;
	while (pos + 4 <= end) {
		uint32_t h, tl, len;
		const uint8_t *d;

		memcpy(&h, pg + pos, 4);
		tl = h & 31;
		if (tl == 29) {			/* padding */
			if (!(h >> 5))
				break;
			memcpy(&len, pg + pos + 4, 4);
			pos += 4 + len;
			continue;
		}
		if (tl == 30 || tl == 31) {	/* time extend / stamp */
			pos += 8;
			continue;
		}
		if (tl == 0) {
			memcpy(&len, pg + pos + 4, 4);
			d = pg + pos + 8;
			pos += 4 + len;
		} else {
			len = tl * 4;
			d = pg + pos + 4;
			pos += 4 + len;
		}
		if (pos > end)
			break;
		{
			uint16_t type;
			uint32_t off;
			uint64_t late;

			memcpy(&type, d, 2);
			if (type != ev_id || !S->measuring)
				continue;
			S->ev++;
			if (batch) {
				parse_batch(d, len);
				continue;
			}
			memcpy(&off, d + off_offset, 4);
			if (off)
				continue;
			memcpy(&late, d + off_late, 8);
			S->ev_samples++;
			S->rhist[hbucket(late)]++;
			if (late > S->rlate_max)
				S->rlate_max = late;
		}
	}
}

static void reader_main(void)
{
	static uint8_t pg[1 << 16];
	int fds[64], n = 0, i, got, last = 0;
	char path[128];
	ssize_t r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin(0, cpu_tgt);
	/* 1000 paced targets share CPU 0: the reader must not starve behind them */
	setpriority(PRIO_PROCESS, 0, -20);
	for (i = 0; i < ncpu && i < 64; i++) {
		snprintf(path, sizeof(path), TRC "/per_cpu/cpu%d/trace_pipe_raw", i);
		fds[n] = open(path, O_RDONLY | O_NONBLOCK);
		if (fds[n] < 0)
			_exit(20);
		n++;
	}
	for (;;) {
		int stop = S->stop;

		got = 0;
		for (i = 0; i < n; i++) {
			while ((r = read(fds[i], pg, 4096)) > 0) {
				parse_page(pg, (size_t)r);
				got = 1;
			}
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				_exit(21);
		}
		if (stop && !got && last++ > 2)
			break;
		if (!got)
			sleep_ms(5);
	}
	_exit(0);
}

/* --- umsampler control --- */
static pid_t find_kthread(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char p[300], b[64];
	pid_t pid = -1;

	if (!d)
		die("opendir /proc");
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/comm", e->d_name);
		if (rd_file(p, b, sizeof(b)) && !strcmp(b, "umsampler\n")) {
			pid = atoi(e->d_name);
			break;
		}
	}
	closedir(d);
	if (pid < 0)
		die("umsampler kthread not found");
	return pid;
}

static void ums_add_all(void)
{
	size_t cap = 300000, len = 0;
	char *buf = malloc(cap);
	int k, r, lines = 0, fd;

	if (!buf)
		die("oom");
	fd = open(DBG "/control", O_WRONLY);
	if (fd < 0)
		die("open control: %s", strerror(errno));
	for (k = 0; k < T; k++) {
		for (r = 0; r < R; r++) {
			if (chain)	/* &root[r] -> mid[r] -> region r: deref=0,0 */
				len += snprintf(buf + len, cap - len,
						"add pid=%d addr=0x%" PRIx64 " len=%d period_us=%d"
						" deref=0,0\n", tpids[k], S->t[k].base + (uint64_t)r * 8,
						L, P);
			else
				len += snprintf(buf + len, cap - len,
						"add pid=%d addr=0x%" PRIx64 " len=%d period_us=%d%s\n",
						tpids[k], S->t[k].base + (uint64_t)r * L, L, P,
						mirror ? " mirror" : "");
			if (++lines == 2000 || (k == T - 1 && r == R - 1)) {
				if (write(fd, buf, len) != (ssize_t)len) {
					char why[256];

					die("control write failed: %s (%s)", strerror(errno),
					    rd_file(DBG "/control", why, sizeof(why)) ? why : "?");
				}
				len = 0;
				lines = 0;
			}
		}
	}
	close(fd);
	free(buf);
}

static void sh(const char *cmd)
{
	if (system(cmd))
		die("'%s' failed", cmd);
}

/* Run "CMD ARG" (-H: the profile hooks around the window). */
static void sh_arg(const char *cmd, const char *arg)
{
	char b[4096];

	snprintf(b, sizeof(b), "%s %s", cmd, arg);
	sh(b);
}

static void cleanup(void)
{
	int k;

	if (S)
		S->stop = 1;
	for (k = 0; k < T; k++)
		if (tpids[k] > 0)
			kill(tpids[k], SIGKILL);
	for (k = 0; k < T; k++)
		if (tpids[k] > 0)
			waitpid(tpids[k], NULL, 0);
	if (S)
		S->spin_stop = 1;
	for (k = 0; k < ncpu && k < MAX_CPU; k++)
		if (spinners[k] > 0) {
			waitpid(spinners[k], NULL, 0);
			spinners[k] = 0;
		}
}

/* A child running fn(k) (which never returns); the parent gets its pid. */
static pid_t fork_child(void (*fn)(int), int k)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid)
		fn(k);
	return pid;
}

static void usage(void)
{
	fprintf(stderr, "usage: umsbench -c CONTENDER (see the top of bench/umsbench.c) -T N -R N -L N -P us "
			"[-d win_ms] [-b base_ms] [-w warm_ms] [-k umsampler.ko] [-x text] [-F] [-S pace_us] [-H cmd]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int o, k, is_ums, trace, floor_, st;
	uint64_t w0, w1, cpu0 = 0, cpu1 = 0, tk0 = 0, tk1 = 0, t0, t1, wb0, wb1, tb0, tb1;
	uint64_t s0 = 0, s1 = 0, m0 = 0, m1 = 0, rc0 = 0, rc1 = 0, ucpu = 0, uatt = 0, uspan = 0,
		 uirq = 0;
	uint64_t lost0 = 0, lost1 = 0, p50 = 0, p99 = 0, pmax = 0, setup_ns;
	double win_s, req, rate_b, rate_s, share[MAX_CPU], spin_ns[MAX_CPU], base_s, tgt_share;
	double mach_ns;
	uint64_t loops[4][MAX_CPU], sc0[MAX_CPU], tc0;
	char stats0[2048], stats1[2048], cmd[512], b[512];
	pid_t smp_pid;
	struct rlimit rl = { 65536, 65536 };

	while ((o = getopt(argc, argv, "c:T:R:L:P:d:b:w:k:x:FS:H:")) != -1) {
		switch (o) {
		case 'c': cont = optarg; break;
		case 'T': T = atoi(optarg); break;
		case 'R': R = atoi(optarg); break;
		case 'L': L = atoi(optarg); break;
		case 'P': P = atoi(optarg); break;
		case 'd': win_ms = atoi(optarg); break;
		case 'b': base_ms = atoi(optarg); break;
		case 'w': warm_ms = atoi(optarg); break;
		case 'k': ko = optarg; break;
		case 'x': extra = optarg; break;
		case 'F': fifo = 1; break;
		case 'S': pace_us = atoi(optarg); break;
		case 'H': hook = optarg; break;
		default: usage();
		}
	}
	if (T < 1 || T > MAX_T || R < 1 || L < 8 || L % 8 || P < 100 || win_ms < 10)
		usage();
	mirror = !strcmp(cont, "ums-mirror-trace") || !strcmp(cont, "ums-mirror-snap");
	chain = !strcmp(cont, "ums-chain") || !strcmp(cont, "pvr-chain");
	batch = !strcmp(cont, "ums-batch");
	evname = batch ? "batch" : "sample";
	is_ums = !strcmp(cont, "ums-trace") || !strcmp(cont, "ums-snap") || !strcmp(cont, "floor") ||
		 mirror || batch || !strcmp(cont, "ums-chain");
	if (!is_ums && strcmp(cont, "pvr") && strcmp(cont, "procmem") && strcmp(cont, "ptrace") &&
	    strcmp(cont, "pvr-chain"))
		usage();
	if (is_ums && !ko)
		die("-k umsampler.ko required for %s", cont);
	trace = !strcmp(cont, "ums-trace") || !strcmp(cont, "floor") ||
		!strcmp(cont, "ums-mirror-trace") || batch;
	floor_ = !strcmp(cont, "floor");
	setrlimit(RLIMIT_NOFILE, &rl);
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > MAX_CPU)
		ncpu = MAX_CPU;
	cpu_tgt = 0;
	cpu_smp = ncpu > 1 ? 1 : 0;
	pin(0, cpu_smp);
	S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (S == MAP_FAILED)
		die("mmap shared");
	atexit(cleanup);
	setup_ns = now_ns();

	for (k = 0; k < T; k++) {
		tpids[k] = fork_child(target_main, k);
		S->t[k].pid = tpids[k];
	}
	for (k = 0; S->ready < T; k++) {
		if (k > 60000)
			die("targets not ready");
		sleep_ms(1);
	}

	for (k = 0; k < ncpu; k++)
		spinners[k] = fork_child(spinner_main, k);

	/* baseline work rate, no sampler */
	sleep_ms(warm_ms / 2);
	for (k = 0; k < ncpu; k++)
		sc0[k] = spin_cpu(k);
	tc0 = tgt_cpu_sum();
	spin_read(loops[0]);
	wb0 = work_sum();
	tb0 = now_ns();
	sleep_ms(base_ms);
	spin_read(loops[1]);
	wb1 = work_sum();
	tb1 = now_ns();
	base_s = (double)(tb1 - tb0) / 1e9;
	for (k = 0; k < ncpu; k++) {
		spin_ns[k] = (double)(spin_cpu(k) - sc0[k]);
		share[k] = spin_ns[k] / (base_s * 1e9);
	}
	tgt_share = (double)(tgt_cpu_sum() - tc0) / (base_s * 1e9);

	/* start the contender */
	if (is_ums) {
		snprintf(cmd, sizeof(cmd), "insmod %s max_regions=%d debug_floor=%d sched_fifo=%d",
			 ko, T * R + 100 > 4096 ? T * R + 100 : 4096, floor_, fifo);
		sh(cmd);
		smp_pid = find_kthread();
		pin(smp_pid, cpu_smp);
		if (trace) {
			char fmt[8192];

			snprintf(cmd, sizeof(cmd), TRC "/events/umsampler/%s/id", evname);
			if (!rd_file(cmd, b, sizeof(b)))
				die("no umsampler:%s event in tracefs", evname);
			ev_id = atoi(b);
			snprintf(cmd, sizeof(cmd), TRC "/events/umsampler/%s/format", evname);
			if (!rd_file(cmd, fmt, sizeof(fmt)))
				die("no event format");
			off_late = fmt_field(fmt, "late_ns");
			off_offset = fmt_field(fmt, "offset");
			if (batch)
				off_count = fmt_field(fmt, "count");
			wr_file(TRC "/tracing_on", "1");
			wr_file(TRC "/events/enable", "0");
			/* 16 MiB per CPU; left in place (resizing costs ~0.5 s per point under TCG) */
			if (!rd_file(TRC "/buffer_size_kb", b, sizeof(b)) || atoi(b) != 16384)
				if (wr_file(TRC "/buffer_size_kb", "16384"))
					wr_file(TRC "/buffer_size_kb", "4096");
			wr_file(TRC "/trace", "");
			reader = fork();
			if (!reader)
				reader_main();
			/*
			 * Enable before the first sample: patching the tracepoint in makes
			 * TCG drop its translated code, stalling the guest for tens of ms.
			 * The reader keeps only events it drains during the window.
			 */
			snprintf(cmd, sizeof(cmd), TRC "/events/umsampler/%s/enable", evname);
			if (wr_file(cmd, "1"))
				die("cannot enable umsampler:%s", evname);
		}
		ums_add_all();
	} else {
		helper = fork();
		if (helper < 0)
			die("fork");
		if (!helper)
			poller_main();
		smp_pid = helper;
		set_fifo(smp_pid);
	}
	setup_ns = now_ns() - setup_ns;
	sleep_ms(warm_ms);
	if (hook)
		sh_arg(hook, "start");

	/* window */
	if (trace) {
		for (k = 0; k < ncpu; k++) {
			char p[128], st_[1024];

			snprintf(p, sizeof(p), TRC "/per_cpu/cpu%d/stats", k);
			if (rd_file(p, st_, sizeof(st_)))
				lost0 += stat_get(st_, "overrun:") + stat_get(st_, "dropped events:");
		}
		rc0 = task_cpu_ns(reader);
	}
	if (is_ums && !rd_file(DBG "/stats", stats0, sizeof(stats0)))
		die("read stats");
	S->measuring = 1;
	spin_read(loops[2]);
	w0 = work_sum();
	cpu0 = task_cpu_ns(smp_pid);
	tk0 = task_ticks_ns(smp_pid);
	s0 = S->samples;
	m0 = S->missed;
	t0 = now_ns();
	sleep_ms(win_ms);
	t1 = now_ns();
	spin_read(loops[3]);
	cpu1 = task_cpu_ns(smp_pid);
	tk1 = task_ticks_ns(smp_pid);
	w1 = work_sum();
	s1 = S->samples;
	m1 = S->missed;
	S->measuring = 0;
	if (hook)
		sh_arg(hook, "stop");
	if (is_ums && !rd_file(DBG "/stats", stats1, sizeof(stats1)))
		die("read stats");
	if (trace) {
		rc1 = task_cpu_ns(reader);
		for (k = 0; k < ncpu; k++) {
			char p[128], st_[1024];

			snprintf(p, sizeof(p), TRC "/per_cpu/cpu%d/stats", k);
			if (rd_file(p, st_, sizeof(st_)))
				lost1 += stat_get(st_, "overrun:") + stat_get(st_, "dropped events:");
		}
	}

	/* stop (the event first: the reader exits once the buffer stays empty) */
	if (trace) {
		snprintf(cmd, sizeof(cmd), TRC "/events/umsampler/%s/enable", evname);
		wr_file(cmd, "0");
	}
	S->stop = 1;
	if (helper > 0) {
		if (waitpid(helper, &st, 0) != helper || !WIFEXITED(st) || WEXITSTATUS(st))
			die("%s poller failed (status 0x%x)", cont, st);
	}
	if (reader > 0) {
		if (waitpid(reader, &st, 0) != reader || !WIFEXITED(st) || WEXITSTATUS(st))
			die("trace reader failed (status 0x%x)", st);
	}
	if (is_ums) {
		s0 = stat_get(stats0, "samples");
		s1 = stat_get(stats1, "samples");
		m0 = stat_get(stats0, "missed");
		m1 = stat_get(stats1, "missed");
		ucpu = stat_get(stats1, "cpu_ns") - stat_get(stats0, "cpu_ns");
		uatt = stat_get(stats1, "attach_ns") - stat_get(stats0, "attach_ns");
		uspan = stat_get(stats1, "spans") - stat_get(stats0, "spans");
		/* the mirror clock's own account of its hard-irq time (schedstat misses it) */
		uirq = stat_get(stats1, "mirror_cpu_ns") - stat_get(stats0, "mirror_cpu_ns");
		wr_file(DBG "/control", "clear\n");
		sh("rmmod umsampler");
	}
	cleanup();

	win_s = (double)(t1 - t0) / 1e9;
	req = win_s * 1e6 / P * T * R;
	rate_b = (double)(wb1 - wb0) / ((double)(tb1 - tb0) / 1e9);
	rate_s = (double)(w1 - w0) / win_s;
	mach_ns = machine_lost_ns(loops, spin_ns, win_s, rate_b, rate_s, tgt_share);
	if (trace) {
		p50 = hpct(S->rhist, 0.50);
		p99 = hpct(S->rhist, 0.99);
		pmax = S->rlate_max;
	} else if (is_ums && mirror) {
		p99 = stat_get(stats1, "mirror_late_p99_ns");
		pmax = stat_get(stats1, "mirror_late_max_ns");
	} else if (is_ums) {
		p99 = stat_get(stats1, "late_p99_ns");
		pmax = stat_get(stats1, "late_max_ns");
	} else {
		p50 = hpct(S->hist, 0.50);
		p99 = hpct(S->hist, 0.99);
		pmax = S->late_max;
	}
	if (s1 <= s0)
		die("%s took no samples at all (T=%d R=%d L=%d P=%d)", cont, T, R, L, P);
	if (trace && !S->ev_samples)
		die("%s: trace reader saw no umsampler:sample events", cont);
	printf("RESULT contender=%s%s T=%d R=%d L=%d P=%d ncpu=%d win_s=%.4f req=%.0f got=%" PRIu64
	       " missed=%" PRIu64 " cpu_ns=%" PRIu64 " tick_ns=%" PRIu64
	       " cpu_per_sample_ns=%.1f late_p50_ns=%s late_p99_ns=%" PRIu64 " late_max_ns=%" PRIu64
	       " rate_base=%.0f rate_samp=%.0f slowdown_pct=%.3f ums_cpu_ns=%" PRIu64
	       " ums_attach_ns=%" PRIu64 " ums_spans=%" PRIu64 " rec_cpu_ns=%" PRIu64 " events=%" PRIu64
	       " ev_samples=%" PRIu64 " ev_lost=%" PRIu64 " setup_ms=%.0f pace_us=%d"
	       " machine_ns=%.0f machine_per_sample_ns=%.1f spin_share=%.3f,%.3f tgt_share=%.3f"
	       " irq_ns=%" PRIu64 " %s\n",
	       cont, fifo ? "+fifo" : "", T, R, L, P, ncpu, win_s, req, s1 - s0, m1 - m0,
	       cpu1 - cpu0 + uirq, tk1 - tk0, (double)(cpu1 - cpu0 + uirq) / (double)(s1 - s0),
	       (is_ums && !trace) ? "NA" : (snprintf(b, sizeof(b), "%" PRIu64, p50), b),
	       p99, pmax, rate_b, rate_s, rate_b > 0 ? (rate_b - rate_s) * 100.0 / rate_b : 0.0,
	       ucpu, uatt, uspan, rc1 - rc0, S->ev, S->ev_samples, lost1 - lost0,
	       (double)setup_ns / 1e6, pace_us, mach_ns, mach_ns / (double)(s1 - s0), share[0],
	       ncpu > 1 ? share[1] : 0.0, tgt_share, uirq, extra);
	return 0;
}
