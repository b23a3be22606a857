// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_del.c - `umsampler del ID|NAME... | --pid PID | --all`: one all-or-nothing write of
 * `del`/`clear` lines to control.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "parse.h"

static const char del_usage[] =
"usage: umsampler del ID|NAME... | --pid PID | --all\n"
"  Delete regions by id or name, every region of a process, or all of them, in one\n"
"  all-or-nothing batch.\n";

CLI_COMMAND(del, "h", "del ID|NAME...|--pid PID|--all   delete regions",
	CLI_ARG("pid", 'p'), CLI_FLAG("all", 'a'));

static int cmd_del(int argc, char **argv)
{
	char *buf = NULL;
	size_t cap = 0;
	FILE *m;
	uint64_t pid = 0, x;
	bool all = false;
	int o, ret;

	while ((o = cli_getopt(&cli_del, argc, argv)) != -1) {
		switch (o) {
		case 'p':
			if (cli_parse_u64(optarg, &pid) || !pid || pid > CLI_PID_MAX)
				return cli_usage_err(&cli_del, "bad --pid '%s'", optarg);
			break;
		case 'a':
			all = true;
			break;
		default:
			return cli_usage_err(&cli_del, NULL);
		}
	}
	if ((optind < argc) + !!pid + all != 1)
		return cli_usage_err(&cli_del, "give regions, --pid PID or --all");
	for (int i = optind; i < argc; i++)
		if (cli_parse_u64(argv[i], &x) && !ums_name_valid(argv[i]))
			return cli_usage_err(&cli_del, "bad region id or name '%s'", argv[i]);
	if (!cli_control_usable() && cli_check_debugfs())
		return CLI_EXIT_ERR;
	m = open_memstream(&buf, &cap);
	if (!m) {
		cli_err("out of memory");
		return CLI_EXIT_ERR;
	}
	if (all)
		fprintf(m, "clear\n");
	else if (pid)
		fprintf(m, "del pid=%" PRIu64 "\n", pid);
	for (int i = optind; i < argc; i++) {
		if (!cli_parse_u64(argv[i], &x))
			fprintf(m, "del %" PRIu64 "\n", x);
		else
			fprintf(m, "del name=%s\n", argv[i]);
	}
	if (fclose(m)) {
		cli_err("out of memory");
		free(buf);
		return CLI_EXIT_ERR;
	}
	ret = cli_write_control("del", buf) ? CLI_EXIT_ERR : CLI_EXIT_OK;
	free(buf);
	if (ret)
		return ret;
	if (all)
		printf("deleted all regions\n");
	else if (pid)
		printf("deleted the regions of pid %" PRIu64 "\n", pid);
	else
		for (int i = optind; i < argc; i++)
			printf("deleted %s\n", argv[i]);
	return CLI_EXIT_OK;
}
