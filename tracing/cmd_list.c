// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_list.c - `umsampler list [--wide]`: the regions (the `regions` file) as a table with
 * the latest decoded value of each (values/NAME).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char list_usage[] =
"usage: umsampler list [--wide]\n"
"  Regions as a table with the latest decoded value (values/NAME); values longer than\n"
"  40 characters are cut unless --wide.  A pointer chain (deref=) or seq-guarded region\n"
"  gets a second line: the TARGET it was added from, its base address and offsets.\n"
"  Without access to debugfs (not root), the regions /dev/umsampler shows this user.\n";

CLI_COMMAND(list, "wh", "list                   regions and their latest values",
	CLI_FLAG("wide", 'w'));

static int cmd_list(int argc, char **argv)
{
	struct cli_region *r;
	size_t n, wname = 4, wpid = 3;
	bool wide = false;
	int o;

	while ((o = cli_getopt(&cli_list, argc, argv)) != -1) {
		if (o != 'w')
			return cli_usage_err(&cli_list, NULL);
		wide = true;
	}
	if (optind != argc)
		return cli_usage_err(&cli_list, "unexpected argument '%s'", argv[optind]);
	if (!cli_read_file_ok("regions")) {
		/* Not root (or no debugfs): the regions the device shows this user. */
		char *d = cli_dev_read();

		if (d) {
			const char *p = strncmp(d, "error: ", 7) ? d : strchr(d, '\n');

			fputs(p ? p + (p != d) : "", stdout);
			free(d);
			return CLI_EXIT_OK;
		}
	}
	if (cli_check_debugfs() || cli_read_regions(&r, &n))
		return CLI_EXIT_ERR;
	if (!n) {
		printf("no regions\n");
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++) {
		char p[24];
		size_t l = strlen(r[i].name);

		if (l > wname)
			wname = l;
		l = (size_t)snprintf(p, sizeof(p), "%" PRId64, r[i].pid);
		if (l > wpid)
			wpid = l;
	}
	printf("%4s %-*s %*s %-18s %6s %-4s %6s %-6s %9s %7s  %s\n", "ID", (int)wname, "NAME",
	       (int)wpid, "PID", "ADDR", "LEN", "TYPE", "PERIOD", "MODE", "SAMPLES", "PARTIAL",
	       "VALUE");
	for (size_t i = 0; i < n; i++) {
		char per[24], addr[24], *v = cli_read_value(r[i].name);
		const char *shown = !v ? "(gone)" : !*v ? "-" : v;
		int w = !wide && strlen(shown) > 40 ? 37 : (int)strlen(shown);

		cli_fmt_duration(per, sizeof(per), r[i].period_us);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, r[i].addr);
		printf("%4" PRIu64 " %-*s %*" PRId64 " %-18s %6" PRIu64 " %-4s %6s %-6s %9" PRIu64
		       " %7" PRIu64 "  %.*s%s\n", r[i].id, (int)wname, r[i].name, (int)wpid,
		       r[i].pid, addr, r[i].len, r[i].type, per, r[i].mode, r[i].samples,
		       r[i].partial, w, shown, w < (int)strlen(shown) ? "..." : "");
		/* a chain: what it follows, on a line of its own */
		if (cli_region_chained(&r[i]))
			printf("%4s %s%s0x%" PRIx64 "%s%s%s%s\n", "", r[i].expr, r[i].expr[0] ? " = " : "",
			       r[i].addr, strcmp(r[i].deref, "-") ? " deref=" : "",
			       strcmp(r[i].deref, "-") ? r[i].deref : "",
			       strcmp(r[i].seq, "-") ? " seq=" : "", strcmp(r[i].seq, "-") ? r[i].seq : "");
		free(v);
	}
	free(r);
	return CLI_EXIT_OK;
}
