// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_record.c - `umsampler record [-o FILE | -N HOST:PORT] [--duration D] [--sample]
 * [-- COMMAND...]`: record the umsampler events with trace-cmd.
 *
 * Owns: the record subcommand: runs `trace-cmd record -q -e umsampler:batch -e umsampler:region
 * -o FILE` (with --sample: umsampler:sample instead of umsampler:batch; with -N HOST:PORT,
 * `-N HOST:PORT` instead of -o: trace-cmd's network mode, to a `trace-cmd listen`) with `sleep D`
 * (default 10s) or COMMAND as trace-cmd's command, writes `sync` to the control file as soon as
 * trace-cmd has enabled the events and tracing (so that the recording names every region
 * registered before it started), shows a progress line (events, bytes) on a terminal, and
 * returns trace-cmd's exit status.  $UMSAMPLER_TRACE_CMD overrides the trace-cmd binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tracefs.h>

#include "cli.h"

static const char record_usage[] =
"usage: umsampler record [-o FILE | -N HOST:PORT] [-d|--duration D] [-s|--sample]\n"
"                        [-- COMMAND...]\n"
"  records umsampler:batch and umsampler:region with trace-cmd into FILE\n"
"  (default trace.dat) for D (default 10s; 500ms, 2s, 1.5m, 1h, a bare number is\n"
"  seconds) or while COMMAND runs; then: umsampler csv FILE, umsampler plot FILE -o\n"
"  FILE.png.  --sample records umsampler:sample events (one per sample) instead of\n"
"  umsampler:batch (one per span of close regions): same CSV, more events.\n"
"  -N HOST:PORT (--net) sends the recording to `trace-cmd listen -p PORT` on HOST\n"
"  (trace-cmd record -N: the listener writes trace.HOST:PORT.dat) instead of a file.\n"
"  The exit status is trace-cmd's.\n";

CLI_COMMAND(record, "+o:d:N:sh", "record ...             record umsampler events to a file",
	CLI_ARG("output", 'o'), CLI_ARG("duration", 'd'), CLI_FLAG("sample", 's'),
	CLI_ARG("net", 'N'));

/* First character of a small file, or 0. */
static char record_peek(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c;
}

static int record_sync(void)
{
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/control", cli_debugfs_dir());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_cmd_err(&cli_record, "%s: %s (regions stay unnamed)", path, strerror(errno));
		return -1;
	}
	n = write(fd, "sync\n", 5);
	if (n != 5)
		cli_cmd_err(&cli_record, "sync: %s (regions stay unnamed)",
			    n < 0 ? strerror(errno) : "short write");
	close(fd);
	return n == 5 ? 0 : -1;
}

/* Events so far: entries in the buffers plus events already read (spliced), over all cpus. */
static unsigned long long record_events(const char *tdir)
{
	unsigned long long sum = 0, v;
	char pat[4096], line[128];
	glob_t g;
	size_t i;
	FILE *f;

	snprintf(pat, sizeof(pat), "%s/per_cpu/cpu*/stats", tdir);
	if (glob(pat, 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc; i++) {
		f = fopen(g.gl_pathv[i], "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "entries: %llu", &v) == 1 ||
			    sscanf(line, "read events: %llu", &v) == 1)
				sum += v;
		fclose(f);
	}
	globfree(&g);
	return sum;
}

/* Bytes written so far: trace-cmd's per-cpu files FILE.cpuN, or FILE once merged. */
static unsigned long long record_bytes(const char *out)
{
	unsigned long long sum = 0;
	char pat[4096];
	struct stat st;
	glob_t g;
	size_t i;

	if (!*out)
		return 0;	/* -N: the file is the listener's */
	snprintf(pat, sizeof(pat), "%s.cpu*", out);
	if (!glob(pat, 0, NULL, &g)) {
		for (i = 0; i < g.gl_pathc; i++)
			if (!stat(g.gl_pathv[i], &st))
				sum += (unsigned long long)st.st_size;
		globfree(&g);
	}
	if (!sum && !stat(out, &st))
		sum = (unsigned long long)st.st_size;
	return sum;
}

static double record_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void record_progress(const char *tdir, const char *out, double t0, bool synced)
{
	unsigned long long b = record_bytes(out);

	fprintf(stderr, "\rumsampler record: %6.1fs  %llu events  %.1f KiB%s\033[K",
		record_now() - t0, record_events(tdir), b / 1024.0,
		synced ? "" : "  (starting)");
	fflush(stderr);
}

static int cmd_record(int argc, char **argv)
{
	const char *out = "trace.dat", *dur = NULL, *tdir, *tc, *ev = "batch", *net = NULL;
	bool have_out = false;
	char secs[32], epath[4096], opath[4096], evarg[32];
	bool tty = isatty(STDERR_FILENO), synced = false;
	int c, i, n, status, ret;
	uint64_t d = 10 * CLI_SEC;
	double t0, last = 0;
	char **av;
	pid_t pid, w;

	while ((c = cli_getopt(&cli_record, argc, argv)) != -1) {
		if (c == 'd')
			dur = optarg;
		else if (c == 's')
			ev = "sample";
		else if (c == 'N')
			net = optarg;
		else {
			out = optarg;
			have_out = true;
		}
	}
	if (net && have_out)
		return cli_usage_err(&cli_record, "-o and -N exclude each other (the listener "
				     "names the file)");
	if (net && (!strchr(net, ':') || net[0] == ':' || !strchr(net, ':')[1]))
		return cli_usage_err(&cli_record, "bad -N '%s' (HOST:PORT)", net);
	if (dur && cli_parse_duration(dur, CLI_SEC, &d))
		return cli_usage_err(&cli_record, "bad duration '%s'", dur);
	if (optind < argc && dur)
		return cli_usage_err(&cli_record, "give a duration or a command, not both");
	tdir = tracefs_tracing_dir();
	if (!tdir)
		tdir = "/sys/kernel/tracing";
	snprintf(epath, sizeof(epath), "%s/events/umsampler/%s/enable", tdir, ev);
	snprintf(evarg, sizeof(evarg), "umsampler:%s", ev);
	snprintf(opath, sizeof(opath), "%s/tracing_on", tdir);
	if (access(epath, F_OK)) {
		cli_cmd_err(&cli_record, "%s: %s (is the umsampler module loaded?)", epath,
			    strerror(errno));
		return CLI_EXIT_ERR;
	}

	tc = getenv("UMSAMPLER_TRACE_CMD");
	if (!tc || !*tc)
		tc = "trace-cmd";
	av = calloc((size_t)(argc - optind) + 12, sizeof(*av));
	if (!av) {
		perror("umsampler record");
		return CLI_EXIT_ERR;
	}
	n = 0;
	av[n++] = (char *)tc;
	av[n++] = "record";
	av[n++] = "-q";
	av[n++] = "-e";
	av[n++] = evarg;
	av[n++] = "-e";
	av[n++] = "umsampler:region";
	if (net) {
		av[n++] = "-N";
		av[n++] = (char *)net;
		out = "";	/* no local file: no byte count */
	} else {
		av[n++] = "-o";
		av[n++] = (char *)out;
	}
	if (optind < argc) {
		for (i = optind; i < argc; i++)
			av[n++] = argv[i];
	} else {
		snprintf(secs, sizeof(secs), "%.3f", d / 1e6);
		av[n++] = "sleep";
		av[n++] = secs;
	}
	av[n] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("umsampler record: fork");
		free(av);
		return CLI_EXIT_ERR;
	}
	if (!pid) {
		execvp(tc, av);
		cli_cmd_err(&cli_record, "exec %s: %s", tc, strerror(errno));
		_exit(127);
	}
	free(av);
	/* Ctrl-C reaches trace-cmd too (same process group); it stops and writes the file. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	t0 = record_now();
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			perror("umsampler record: waitpid");
			return CLI_EXIT_ERR;
		}
		if (!synced && record_peek(epath) == '1' && record_peek(opath) == '1') {
			usleep(200000);
			record_sync();
			synced = true;
		}
		if (tty && record_now() - last >= 0.5) {
			last = record_now();
			record_progress(tdir, out, t0, synced);
		}
		usleep(synced ? 100000 : 20000);
	}
	if (tty) {
		record_progress(tdir, out, t0, true);
		fputc('\n', stderr);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else
		ret = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (!synced && !ret)
		cli_cmd_err(&cli_record, "the events were never seen enabled: regions may be "
			    "unnamed in %s", net ? net : out);
	return ret;
}
