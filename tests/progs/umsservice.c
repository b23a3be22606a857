// SPDX-License-Identifier: GPL-2.0
/*
 * umsservice - a stand-in for a service, the target of 67-daemon.t (`umsampler daemon`):
 * `umsservice VALUE [ROLE...]` holds variables derived from VALUE constant for its whole
 * life, so a value read through Prometheus can be compared exactly with what debugfs shows:
 *   svc_const          u32 VALUE
 *   svc_stats.errors   u32 VALUE * 2        (a struct member)
 *   svc_stats.load     f64 VALUE + 0.25
 *   svc_hist[2]        u32 VALUE + 3        (an array element)
 *   svc_ptr->load      the same f64 through a pointer (a deref chain)
 *   svc_counter        u64 incremented every 100 ms
 * ROLE words only make the command line recognisable (cmdline=~ matches).  Prints
 * "ready PID" when the values are set, then sleeps until killed (SIGTERM: exit 0).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct svc_stats {
	uint64_t requests;
	uint32_t errors;
	double load;
};

volatile uint32_t svc_const;
volatile uint64_t svc_counter;
struct svc_stats svc_stats;
struct svc_stats *volatile svc_ptr;
volatile uint32_t svc_hist[4];

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	uint32_t v = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1;
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	signal(SIGTERM, on_term);
	svc_const = v;
	svc_stats.errors = v * 2;
	svc_stats.load = v + 0.25;
	svc_stats.requests = 1;
	svc_hist[0] = 1;
	svc_hist[2] = v + 3;
	svc_ptr = &svc_stats;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		nanosleep(&ts, NULL);
		svc_counter++;
	}
	return 0;
}
