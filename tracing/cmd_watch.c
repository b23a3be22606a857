// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_watch.c - `umsampler watch`: a live view of the latest value of each region (from regions and
 * values/NAME), with the rate of change per second for numeric types.  On a terminal it redraws
 * in place (ANSI), reads single keys with termios (q quits; Ctrl-C too) and restores the
 * terminal on exit; otherwise it prints one timestamped block per interval.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char watch_usage[] =
"usage: umsampler watch [NAME...] [--interval D] [--count N]\n"
"  Show the latest value of each region (or of the regions whose name matches a NAME\n"
"  glob), with the rate of change per second of numeric values, every interval\n"
"  D (default 1s; at least 10ms: 500ms, 2s, 1m, a bare number is us).  On a\n"
"  terminal the view refreshes in place (q or Ctrl-C quits); otherwise one\n"
"  timestamped block is printed per interval.  --count N stops after N refreshes.\n";

/* The last numeric value of a region, for its rate of change. */
struct last_value {
	uint64_t id;
	bool have;
	bool is_float;
	int64_t i;	/* integer value (u64 stored as its bits) */
	double f;
	double t;	/* seconds, CLOCK_MONOTONIC */
};

static volatile sig_atomic_t stop;
static struct termios saved_tio;
static bool tio_saved, screen;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void restore_terminal(void)
{
	if (screen) {
		fputs("\033[?25h", stdout);
		fflush(stdout);
		screen = false;
	}
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = false;
	}
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parse a value of type `type` into p; false if not numeric (hex, str, "?", empty). */
static bool parse_value(const char *type, const char *v, struct last_value *p)
{
	char *end;

	if (!*v || type[0] == 'h' || (type[0] == 's' && type[1] == 't'))
		return false;
	errno = 0;
	if (type[0] == 'f') {
		p->f = strtod(v, &end);
		p->is_float = true;
	} else if (type[0] == 'u') {
		p->i = (int64_t)strtoull(v, &end, 10);
		p->is_float = false;
	} else {
		p->i = strtoll(v, &end, 10);
		p->is_float = false;
	}
	return !errno && end != v && !*end;
}

static struct last_value *last_value_of(struct last_value **seen, size_t *nseen, uint64_t id)
{
	struct last_value *t;

	for (size_t i = 0; i < *nseen; i++)
		if ((*seen)[i].id == id)
			return &(*seen)[i];
	t = realloc(*seen, (*nseen + 1) * sizeof(**seen));
	if (!t)
		return NULL;
	*seen = t;
	t = &t[(*nseen)++];
	memset(t, 0, sizeof(*t));
	t->id = id;
	return t;
}

static bool selected(const char *name, int nsel, char **sel)
{
	if (!nsel)
		return true;
	for (int i = 0; i < nsel; i++)
		if (!fnmatch(sel[i], name, 0))
			return true;
	return false;
}

/* A region added from an expression ('g->n->value') is shown by it, else by its name. */
static const char *shown_name(const struct cli_region *r)
{
	return r->expr[0] && cli_region_chained(r) ? r->expr : r->name;
}

/* Render one refresh into out (a memstream).  Returns 0 or -1 (regions unreadable). */
static int refresh(FILE *out, int nsel, char **sel, struct last_value **seen, size_t *nseen,
		   int width)
{
	struct cli_region *r;
	size_t n, shown = 0, wname = 4;
	double t;

	if (cli_read_regions(&r, &n))
		return -1;
	t = now_mono();
	for (size_t i = 0; i < n; i++)
		if (selected(r[i].name, nsel, sel) && strlen(shown_name(&r[i])) > wname)
			wname = strlen(shown_name(&r[i]));
	fprintf(out, "%-*s %7s %-4s %-24s %14s %9s %7s\n", (int)wname, "NAME", "PID", "TYPE",
		"VALUE", "RATE/s", "SAMPLES", "PARTIAL");
	for (size_t i = 0; i < n; i++) {
		char *v, rate[32] = "-";
		struct last_value cur = { 0 }, *p;
		int vw, maxw;
		size_t vl;

		if (!selected(r[i].name, nsel, sel))
			continue;
		shown++;
		v = cli_read_value(r[i].name);
		p = last_value_of(seen, nseen, r[i].id);
		if (v && p && parse_value(r[i].type, v, &cur)) {
			if (p->have && t > p->t && p->is_float == cur.is_float) {
				double d = cur.is_float ? cur.f - p->f : (double)(cur.i - p->i);

				if (r[i].type[0] == 'u')
					d = (double)(int64_t)((uint64_t)cur.i - (uint64_t)p->i);
				snprintf(rate, sizeof(rate), "%.6g", d / (t - p->t));
			}
			cur.id = p->id;
			cur.have = true;
			cur.t = t;
			*p = cur;
		} else if (p) {
			p->have = false;
		}
		vl = v ? strlen(v) : 0;
		maxw = width - (int)wname - 62;
		if (maxw < 24)
			maxw = 24;
		vw = (int)vl > maxw ? maxw - 3 : (int)vl;
		fprintf(out, "%-*s %7" PRId64 " %-4s %-24.*s%s %14s %9" PRIu64 " %7" PRIu64 "\n",
			(int)wname, shown_name(&r[i]), r[i].pid, r[i].type, vw,
			!v ? "(gone)" : !*v ? "-" : v, vw < (int)vl ? "..." : "", rate,
			r[i].samples, r[i].partial);
		free(v);
	}
	if (!shown)
		fprintf(out, "(no %sregions)\n", nsel ? "matching " : "");
	free(r);
	return 0;
}

/* Wait until the deadline; on a tty also read keys.  Returns true to quit. */
static bool wait_until(const struct timespec *deadline, bool keys)
{
	for (;;) {
		struct timespec ts;
		long ms;
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int r;

		if (stop)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ms = (deadline->tv_sec - ts.tv_sec) * 1000 +
		     (deadline->tv_nsec - ts.tv_nsec) / 1000000;
		if (ms <= 0)
			return false;
		r = poll(keys ? &pfd : NULL, keys ? 1 : 0, (int)ms);
		if (r > 0 && (pfd.revents & POLLIN)) {
			char c;

			if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q' || c == 3))
				return true;
		} else if (r > 0) {
			keys = false;	/* stdin hung up */
		}
	}
}

CLI_COMMAND(watch, "h", "watch [NAME...]        live view of the latest values",
	CLI_ARG("interval", 'i'), CLI_ARG("count", 'c'));

static int cmd_watch(int argc, char **argv)
{
	uint64_t interval = 1000000, count = 0;
	struct last_value *seen = NULL;
	size_t nseen = 0;
	struct timespec next;
	struct sigaction sa = { .sa_handler = on_signal };
	bool tty = isatty(STDOUT_FILENO), keys = false;
	int o, ret = CLI_EXIT_OK;

	while ((o = cli_getopt(&cli_watch, argc, argv)) != -1) {
		switch (o) {
		case 'i':
			if (cli_parse_duration(optarg, CLI_US, &interval) || interval < 10000)
				return cli_usage_err(&cli_watch, "bad --interval '%s' (at least "
						     "10ms, e.g. 500ms, 2s)", optarg);
			break;
		case 'c':
			if (cli_parse_u64(optarg, &count) || !count)
				return cli_usage_err(&cli_watch, "bad --count '%s'", optarg);
			break;
		default:
			return cli_usage_err(&cli_watch, NULL);
		}
	}
	if (cli_check_debugfs())
		return CLI_EXIT_ERR;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL)) {
		cli_err("sigaction: %s", strerror(errno));
		return CLI_EXIT_ERR;
	}
	if (tty) {
		if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio)) {
			struct termios raw = saved_tio;

			raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			raw.c_cc[VMIN] = 0;
			raw.c_cc[VTIME] = 0;
			tio_saved = true;
			atexit(restore_terminal);
			if (tcsetattr(STDIN_FILENO, TCSANOW, &raw)) {
				cli_err("tcsetattr: %s", strerror(errno));
				tio_saved = false;
			} else {
				keys = true;
			}
		}
		screen = true;
		fputs("\033[?25l", stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t iter = 1; !stop; iter++) {
		char *buf = NULL, stamp[64];
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		struct timespec rt;
		struct tm tm;
		int width = 200;
		struct winsize ws;

		if (!m) {
			cli_err("out of memory");
			ret = CLI_EXIT_ERR;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &rt);
		localtime_r(&rt.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		if (tty && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 20)
			width = ws.ws_col;
		if (tty)
			fprintf(m, "\033[H\033[2Jumsampler watch  %s.%03ld  every %.3gs  "
				"(q to quit)\n\n", stamp, rt.tv_nsec / 1000000, interval / 1e6);
		else
			fprintf(m, "=== %s.%03ld ===\n", stamp, rt.tv_nsec / 1000000);
		if (refresh(m, argc - optind, argv + optind, &seen, &nseen, width)) {
			fclose(m);
			free(buf);
			ret = CLI_EXIT_ERR;
			break;
		}
		if (!tty)
			fputc('\n', m);
		if (fclose(m)) {
			free(buf);
			cli_err("out of memory");
			ret = CLI_EXIT_ERR;
			break;
		}
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
			free(buf);
			ret = CLI_EXIT_ERR;	/* e.g. EPIPE */
			break;
		}
		free(buf);
		if (count && iter >= count)
			break;
		next.tv_sec += (time_t)(interval / 1000000);
		next.tv_nsec += (long)(interval % 1000000) * 1000;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (wait_until(&next, keys))
			break;
	}
	free(seen);
	restore_terminal();
	return ret;
}
