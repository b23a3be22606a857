// SPDX-License-Identifier: GPL-2.0
/*
 * opts.c - the command line and message conventions of every `umsampler` subcommand (cli.h):
 * option parsing with -h/--help and usage errors, error messages, numbers, and the one
 * duration grammar shared by --period, --interval and --duration.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_getopt(const struct cli_command *cmd, int argc, char **argv)
{
	int o = getopt_long(argc, argv, cmd->shortopts, cmd->longopts, NULL);
	if (o == 'h') {
		fputs(cmd->usage, stdout);
		exit(CLI_EXIT_OK);
	}
	if (o == '?' || o == ':')
		exit(cli_usage_err(cmd, NULL));
	return o;
}

static void vmsg(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, cmd ? "umsampler %s: " : "umsampler: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage_err(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vmsg(cmd->name, fmt, ap);
		va_end(ap);
	}
	fputs(cmd->usage, stderr);
	return CLI_EXIT_USAGE;
}

void cli_cmd_err(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd->name, fmt, ap);
	va_end(ap);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
}

int cli_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static const struct {
	const char *suffix;
	double us;
} duration_units[] = {
	{ "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 }, { "h", 3600e6 },
};

int cli_parse_duration(const char *s, uint64_t bare_unit, uint64_t *us)
{
	double v, mul = -1;
	char *end;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (!*end)
		mul = (double)bare_unit;
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
		if (!strcmp(end, duration_units[i].suffix))
			mul = duration_units[i].us;
	if (mul < 0)
		return -1;
	v *= mul;
	if (!(v >= 0 && v <= 1e15))
		return -1;
	*us = (uint64_t)(v + 0.5);
	return 0;
}

void cli_fmt_duration(char *buf, size_t n, uint64_t us)
{
	if (us && us % 1000000 == 0)
		snprintf(buf, n, "%" PRIu64 "s", us / 1000000);
	else if (us && us % 1000 == 0)
		snprintf(buf, n, "%" PRIu64 "ms", us / 1000);
	else
		snprintf(buf, n, "%" PRIu64 "us", us);
}
