/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - what the subcommands of the `umsampler` CLI share (trace-cmd style: one file per
 * subcommand, cmd_NAME.c, plus these helpers).
 *
 * Owns: the subcommand descriptor (struct cli_command: name, summary, usage text, options) and
 * the exit-status convention (CLI_EXIT_*); option, number and duration parsing and error
 * reporting (opts.c); the live system's debugfs files: where they are, reading them, parsing
 * `regions`, writing `control` with the kernel's error message (live.c).  umsampler.c owns
 * main() and dispatch.
 *
 * Names here are the CLI's own (cli_*): none reuses a kernel name for a different thing.
 */
#ifndef _UMS_CLI_H
#define _UMS_CLI_H

#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit status of every subcommand (record: trace-cmd's own status once it ran). */
#define CLI_EXIT_OK	0	/* done */
#define CLI_EXIT_ERR	1	/* runtime failure: module, process, file, kernel refusal */
#define CLI_EXIT_USAGE	2	/* bad command line: message and usage on stderr */

/* The largest pid of any kernel (PID_MAX_LIMIT): a bigger PID argument is a usage error. */
#define CLI_PID_MAX	4194304

/* Default debugfs directory; $UMSAMPLER_DEBUGFS overrides (tests). */
#define UMS_DEBUGFS "/sys/kernel/debug/umsampler"
/* The module's control device; $UMSAMPLER_DEV overrides it and makes writes use it. */
#define UMS_DEV "/dev/umsampler"

/*
 * A subcommand: `umsampler NAME ...` runs run(argc, argv) with argv[0] = NAME and returns the
 * process exit status.  usage starts with "usage: umsampler NAME"; shortopts and longopts are
 * for cli_getopt() (both include h/--help).  Defined with CLI_COMMAND().
 */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;	/* one line of `umsampler --help` */
	const char *usage;
	const char *shortopts;
	const struct option *longopts;
};

/* Long options of a subcommand: --NAME VALUE and --NAME, returned by cli_getopt() as c. */
#define CLI_ARG(name, c)	{ name, required_argument, NULL, c }
#define CLI_FLAG(name, c)	{ name, no_argument, NULL, c }

/*
 * Define subcommand NAME in its cmd_NAME.c: the descriptor cli_NAME, run by the file's static
 * cmd_NAME() (declared here), with the usage text NAME_usage defined before, SHORTOPTS, the
 * SUMMARY line and the long options after it (CLI_ARG/CLI_FLAG; --help is added).
 */
#define CLI_COMMAND(nm, shorts, summ, ...)						\
	static int cmd_##nm(int argc, char **argv);					\
	static const struct option nm##_opts[] = {					\
		CLI_FLAG("help", 'h'), ##__VA_ARGS__, { 0 }				\
	};										\
	const struct cli_command cli_##nm = {						\
		.name = #nm, .run = cmd_##nm, .summary = summ, .usage = nm##_usage,	\
		.shortopts = shorts, .longopts = nm##_opts,				\
	}

extern const struct cli_command cli_add, cli_list, cli_del, cli_stats, cli_watch;
extern const struct cli_command cli_record, cli_csv, cli_plot;
extern const struct cli_command cli_daemon;

/* ---- opts.c: command line and messages ---- */

/*
 * getopt_long() over a subcommand's arguments (argv[0] is its name; one subcommand per
 * process, so getopt starts fresh): returns the next option character, or -1 after the last
 * option (optind: first operand).  -h/--help prints the usage to stdout and exits 0; an
 * unknown option or a missing argument (getopt's message) prints the usage to stderr and
 * exits CLI_EXIT_USAGE.
 */
int cli_getopt(const struct cli_command *cmd, int argc, char **argv);

/*
 * A usage error: "umsampler NAME: MESSAGE" (printf-like; none if fmt is NULL) and the usage on
 * stderr.  Returns CLI_EXIT_USAGE.
 */
int cli_usage_err(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A runtime error of a subcommand: "umsampler NAME: MESSAGE" on stderr (printf-like). */
void cli_cmd_err(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A runtime error outside any one subcommand: "umsampler: MESSAGE" on stderr (printf-like). */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Unsigned number in C notation (0x.., decimal), whole string.  Returns 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *v);

/* Units of durations, in microseconds: the default unit of a bare number. */
#define CLI_US		1ULL
#define CLI_SEC		1000000ULL

/*
 * The one duration grammar (--period, --interval, --duration): a decimal number (fraction
 * allowed) with a unit us, ms, s, m or h, or without one in bare_unit (CLI_US or CLI_SEC) -
 * "500us", "1.5ms", "2s", "1m", "1h", "3".  *us gets it rounded to microseconds.  Returns 0,
 * or -1 if malformed or above 10^15 us; the caller checks its own range.
 */
int cli_parse_duration(const char *s, uint64_t bare_unit, uint64_t *us);

/* us as the largest unit that shows it whole: "2s", "500ms", "250us". */
void cli_fmt_duration(char *buf, size_t n, uint64_t us);

/* ---- live.c: the module's debugfs files ---- */

/* One line of `regions` (every number 64 bits wide). */
struct cli_region {
	uint64_t id;
	int64_t pid;
	uint64_t addr;
	uint64_t len;
	uint64_t period_us;
	char type[8];
	char mode[8];
	char name[32];
	uint64_t samples;
	uint64_t partial;
	uint64_t emitted;
	char deref[112];	/* DEREF: "8,16", or "-" (or "" from an older module) */
	char seq[24];		/* SEQ: "0xADDR", "+8", "-8", or "-" */
	char expr[128];		/* the TARGET `umsampler add` resolved it from, or "" */
};

/* The debugfs directory: $UMSAMPLER_DEBUGFS or UMS_DEBUGFS. */
const char *cli_debugfs_dir(void);

/* Check that the directory exists and is readable; prints the reason and returns -1 if not. */
int cli_check_debugfs(void);

/*
 * Read a whole file of the debugfs directory (relative name) into a NUL-terminated malloc'ed
 * buffer; *len (if not NULL) gets its length.  NULL with errno set on failure.
 */
char *cli_read_file(const char *rel, size_t *len);

/* values/NAME without its newline ("" before the first sample; NULL if gone), malloc'ed. */
char *cli_read_value(const char *name);

/*
 * Parse `regions` into a malloc'ed array (*n entries; NULL and *n = 0 when empty).
 * Returns 0, or -1 after printing the reason.
 */
int cli_read_regions(struct cli_region **out, size_t *n);

/*
 * Remember the TARGET expression a region was added from (`umsampler add`), for list and
 * watch: one line in $UMSAMPLER_STATE_DIR/targets (default /run/umsampler/targets), matched
 * later by id, pid and name.  Best effort: nothing happens if it cannot be written.
 */
void cli_expr_save(uint64_t id, uint64_t pid, const char *name, const char *expr);

/* Is r a pointer chain or seq-guarded region (DEREF or SEQ set)? */
bool cli_region_chained(const struct cli_region *r);

/*
 * Write buf to `control` with one write(2), or to /dev/umsampler when $UMSAMPLER_DEV is set or
 * debugfs `control` cannot be opened for writing (lockdown, not root).  On failure prints
 * "umsampler WHAT: ..." with the errno meaning and the kernel's message (read back from
 * `control`, or from the device's "error: " line) and returns -1 with errno set.
 */
int cli_write_control(const char *what, const char *buf);

/* The device path: $UMSAMPLER_DEV or UMS_DEV. */
const char *cli_dev_path(void);

/* Could cli_write_control() open a control path (debugfs control or the device)? */
bool cli_control_usable(void);

/* The device's whole read (NUL-terminated, malloc'd; the caller frees), or NULL with errno. */
char *cli_dev_read(void);

/* Can debugfs file REL be read (root, module loaded)? */
bool cli_read_file_ok(const char *rel);

/* The regions the device shows this user (id, name, pid only), like cli_read_regions(). */
int cli_dev_regions(struct cli_region **out, size_t *n);

/* ---- daemon_*.c: the parts of `umsampler daemon` (cmd_daemon.c) ---- */

/* One line of the daemon's log on stderr: "umsampler daemon: MESSAGE" (cmd_daemon.c). */
void dmn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Capture what the CLI's helpers print on stderr (resolution, control writes) while a daemon
 * step runs: dmn_capture_begin() swaps stderr for a memory stream, dmn_capture_end() restores
 * it and returns the text as one line ("; " between lines, "umsampler add: " prefixes
 * dropped; malloc'ed, "" when nothing was printed).
 */
void dmn_capture_begin(void);
char *dmn_capture_end(void);

/* daemon_watch.c: watch files. */
enum dmn_match_key { DMN_COMM, DMN_EXE, DMN_CMDLINE, DMN_CGROUP, DMN_UNIT };

#define DMN_WATCH_NAME_MAX	20	/* characters of a watch name ([A-Za-z0-9_-]) */
#define DMN_VAR_NAME_MAX	24	/* characters of a variable's name in region names */

struct dmn_match {
	int key;		/* enum dmn_match_key */
	bool regex;		/* KEY=~REGEX (else KEY=VALUE, exact; cgroup: also beneath) */
	char *value;
	void *re;		/* compiled regex_t when regex */
};

struct dmn_var {
	char *expr;		/* TARGET, as `umsampler add` takes it */
	char name[DMN_VAR_NAME_MAX + 1];	/* name= or expr with [^A-Za-z0-9_.:-] as _ */
	int vtype;		/* -1: from DWARF */
	uint64_t len;		/* 0: from DWARF/type */
	uint64_t period_us;	/* 0: the module's default */
	int mode;		/* -1: always (the module's default) */
	bool fault, mirror;
};

struct dmn_watch {
	char name[DMN_WATCH_NAME_MAX + 1];
	char *file;
	int line;
	struct dmn_match *m;
	size_t nm;
	struct dmn_var *v;
	size_t nv;
	char *canon;		/* the definition as text: a reload keeps a watch whose text is equal */
};

struct dmn_config {
	struct dmn_watch *w;
	size_t n;
	int errors;		/* FILE:LINE: messages printed */
};

/*
 * Read the watch files of paths[0..npaths) (a directory: its *.conf in name order; a file:
 * itself) into c.  Every error is logged as "FILE:LINE: reason" and drops the watch it is in
 * (the others stay); returns the number of errors.
 */
int dmn_config_load(char *const *paths, size_t npaths, struct dmn_config *c);
void dmn_config_free(struct dmn_config *c);

/* daemon_proc.c: processes, matching, the proc connector. */
struct dmn_proc {
	pid_t pid;
	unsigned long long start;	/* starttime (clock ticks after boot): pid reuse */
	char comm[17];
	char *exe, *cmdline, *cgroup;	/* read on demand (malloc'ed) */
	bool got_exe, got_cmdline, got_cgroup;
};

/* Read /proc/PID/stat into p (a process, not a thread).  Returns 0, or -1 if gone/a thread. */
int dmn_proc_read(pid_t pid, struct dmn_proc *p);
void dmn_proc_free(struct dmn_proc *p);
/* Does p satisfy every match of w? */
bool dmn_watch_matches(const struct dmn_watch *w, struct dmn_proc *p);
/* starttime of process pid, 0 if it does not exist (or is a thread). */
unsigned long long dmn_proc_start(pid_t pid);
/* Call fn(arg, pid) for every process in /proc. */
void dmn_proc_each(void (*fn)(void *arg, pid_t pid), void *arg);

#define DMN_EV_EXEC	1
#define DMN_EV_EXIT	2
/*
 * Open the proc connector and check the kernel accepted our listen (it needs CAP_NET_ADMIN
 * in the initial namespaces): a non-blocking fd, or -1 with errno (EPERM, ETIMEDOUT...).
 */
int dmn_cn_open(void);
/* Stop listening (the kernel counts listeners: each exec and exit costs while it counts). */
void dmn_cn_close(int fd);
/*
 * Read what is queued on the connector fd: fn(arg, DMN_EV_*, pid) for each exec and exit of a
 * process (not a thread).  Returns 0, or 1 when events were lost (ENOBUFS: rescan /proc).
 */
int dmn_cn_read(int fd, void (*fn)(void *arg, int ev, pid_t pid), void *arg);

/* daemon_http.c: the metrics server. */
struct dmn_http;
/*
 * Render the metrics: *body gets a malloc'ed text (OpenMetrics if om, else the Prometheus
 * text format 0.0.4).
 */
typedef void (*dmn_render_fn)(void *arg, bool om, char **body, size_t *len);
/*
 * Listen on ADDR:PORT ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", port 0: any); *bound
 * gets the address as bound.  NULL after logging why.
 */
struct dmn_http *dmn_http_open(const char *addr, dmn_render_fn render, void *arg, char *bound,
			       size_t n);
/* The fds to poll (at most max), and the poll timeout it needs (ms, -1: none). */
int dmn_http_fds(struct dmn_http *h, struct pollfd *fds, int max, int *timeout_ms);
/* Serve what poll() reported on the fds dmn_http_fds() gave. */
void dmn_http_serve(struct dmn_http *h, const struct pollfd *fds, int n);
void dmn_http_close(struct dmn_http *h);

#endif /* _UMS_CLI_H */
