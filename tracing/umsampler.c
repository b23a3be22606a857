// SPDX-License-Identifier: GPL-2.0
/*
 * umsampler.c - main() of the `umsampler` CLI: the command table, top-level usage and
 * dispatch to the subcommands (control.c, watch.c: live system; record.c, csv.c, plot.c:
 * recordings).  Exit status: 0 ok, 1 runtime error, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "add", cmd_add, "add PID TARGET [opts]  sample a variable (symbol, member, 0xADDR)" },
	{ "list", cmd_list, "list                   regions and their latest values" },
	{ "del", cmd_del, "del ID|NAME...|--pid PID|--all   delete regions" },
	{ "stats", cmd_stats, "stats                  sampler counters" },
	{ "watch", cmd_watch, "watch [NAME...]        live view of the latest values" },
	{ "record", cmd_record, "record ...             record umsampler events to a file" },
	{ "csv", cmd_csv, "csv ...                convert a recording to CSV" },
	{ "plot", cmd_plot, "plot ...               plot a recording" },
};

static void usage(FILE *f)
{
	fputs("usage: umsampler COMMAND [ARGS...]   (umsampler COMMAND --help for details)\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fputs("\nenvironment: UMSAMPLER_DEBUGFS  debugfs directory (default " UMS_DEBUGFS ")\n"
	      "             UMSAMPLER_DEBUG_DIR  extra debug file root (.build-id/xx/y.debug)\n"
	      "exit status: 0 ok, 1 error, 2 usage error\n", f);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (!strcmp(argv[2], commands[i].name)) {
				char *av[] = { argv[2], "--help", NULL };

				return commands[i].fn(2, av);
			}
		}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "umsampler: unknown command '%s'\n", strcmp(cmd, "help") ? cmd : argv[2]);
	usage(stderr);
	return 2;
}
