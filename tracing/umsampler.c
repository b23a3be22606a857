// SPDX-License-Identifier: GPL-2.0
/*
 * umsampler.c - main() of the `umsampler` CLI: the command table, top-level usage and
 * dispatch to the subcommands, one file each (cmd_add.c, cmd_list.c, cmd_del.c,
 * cmd_stats.c, cmd_watch.c: live system; cmd_record.c, cmd_csv.c, cmd_plot.c: recordings).
 * Exit status (cli.h): 0 ok, 1 runtime error, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command *const commands[] = {
	&cli_add, &cli_list, &cli_del, &cli_stats, &cli_watch, &cli_record, &cli_csv, &cli_plot,
	&cli_daemon,
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: umsampler COMMAND [ARGS...]   (umsampler COMMAND --help for details)\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i]->summary);
	fputs("\nenvironment: UMSAMPLER_DEBUGFS  debugfs directory (default " UMS_DEBUGFS ")\n"
	      "             UMSAMPLER_DEV      control device; set: add/del always use it\n"
	      "                                (default " UMS_DEV ", used when debugfs control\n"
	      "                                cannot be written: lockdown, not root)\n"
	      "             UMSAMPLER_DEBUG_DIR  extra debug file root (.build-id/xx/y.debug)\n"
	      "exit status: 0 ok, 1 error, 2 usage error\n", f);
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i]->name))
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || (!strcmp(name, "help") && argc < 3)) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(name, "help")) {
		name = argv[2];
		c = find_command(name);
		if (c) {
			fputs(c->usage, stdout);
			return CLI_EXIT_OK;
		}
	} else {
		c = find_command(name);
		if (c)
			return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "umsampler: unknown command '%s'\n", name);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
