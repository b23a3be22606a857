// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_stats.c - `umsampler stats`: the module's stats file, with nanosecond counters also in
 * a readable unit, and the enabled switch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char stats_usage[] =
"usage: umsampler stats\n"
"  The sampler's counters (the module's stats file) and whether sampling is enabled.\n";

CLI_COMMAND(stats, "h", "stats                  sampler counters");

static int cmd_stats(int argc, char **argv)
{
	char *buf, *line, *save = NULL, *en;

	if (cli_getopt(&cli_stats, argc, argv) != -1)
		return cli_usage_err(&cli_stats, NULL);
	if (optind != argc)
		return cli_usage_err(&cli_stats, "unexpected argument '%s'", argv[optind]);
	if (cli_check_debugfs())
		return CLI_EXIT_ERR;
	buf = cli_read_file("stats", NULL);
	if (!buf) {
		cli_err("cannot read %s/stats: %s", cli_debugfs_dir(), strerror(errno));
		return CLI_EXIT_ERR;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		unsigned long long v;
		size_t kl;

		if (sscanf(line, "%63s %llu", key, &v) != 2) {
			printf("%s\n", line);
			continue;
		}
		kl = strlen(key);
		if (kl > 3 && !strcmp(key + kl - 3, "_ns") && v >= 1000)
			printf("%-14s %llu (%.3g %s)\n", key, v,
			       v >= 1000000000ULL ? v / 1e9 : v >= 1000000 ? v / 1e6 : v / 1e3,
			       v >= 1000000000ULL ? "s" : v >= 1000000 ? "ms" : "us");
		else
			printf("%-14s %llu\n", key, v);
	}
	free(buf);
	en = cli_read_file("enabled", NULL);
	if (en) {
		en[strcspn(en, "\n")] = '\0';
		printf("%-14s %s\n", "enabled", en);
		free(en);
	}
	return CLI_EXIT_OK;
}
