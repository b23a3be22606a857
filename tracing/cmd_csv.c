// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_csv.c - `umsampler csv FILE [-o OUT]`: one CSV row per (reassembled) sample of a recording.
 *
 * Owns: the csv subcommand.  The row format and the decoding live in decode.c (see decode.h);
 * a perf.data file goes through `perf script -s umsampler-perf.py`, whose output is copied
 * unchanged, so both paths give byte-identical rows for the same samples (time_ns is the
 * trace clock of the respective recorder: both use the kernel's local clock by default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"

static const char csv_usage[] =
"usage: umsampler csv FILE [-o OUT]\n"
"  FILE: trace.dat (trace-cmd record -e umsampler) or perf.data\n"
"  (perf record -e umsampler:sample -e umsampler:region -a); OUT (default stdout)\n"
"  columns: " UMS_CSV_HEADER "\n";

CLI_COMMAND(csv, "o:h", "csv ...                convert a recording to CSV",
	CLI_ARG("output", 'o'));

static int csv_row(const struct ums_sample *s, void *arg)
{
	return ums_csv_row(arg, s) ? -1 : 0;
}

static int cmd_csv(int argc, char **argv)
{
	const char *out = NULL, *in;
	enum ums_file_kind kind;
	FILE *f = stdout;
	int c, ret;

	while ((c = cli_getopt(&cli_csv, argc, argv)) != -1) {
		if (c != 'o')
			return cli_usage_err(&cli_csv, NULL);
		out = optarg;
	}
	if (optind != argc - 1)
		return cli_usage_err(&cli_csv, "expected one FILE");
	in = argv[optind];
	kind = ums_file_kind(in);
	if (kind == UMS_FILE_ERROR) {
		perror(in);
		return CLI_EXIT_ERR;
	}
	if (kind == UMS_FILE_UNKNOWN) {
		cli_err("%s: neither a trace-cmd nor a perf.data file", in);
		return CLI_EXIT_ERR;
	}
	if (out && strcmp(out, "-")) {
		f = fopen(out, "w");
		if (!f) {
			perror(out);
			return CLI_EXIT_ERR;
		}
	}
	if (kind == UMS_FILE_PERF) {
		fflush(f);
		ret = ums_perf_csv(in, f);
	} else {
		ret = fprintf(f, "%s\n", UMS_CSV_HEADER) < 0 ? -1 : 0;
		if (!ret)
			ret = ums_decode_file(in, csv_row, f);
	}
	if (fflush(f) || ferror(f)) {
		perror(out ? out : "stdout");
		ret = -1;
	}
	if (f != stdout && fclose(f)) {
		perror(out);
		ret = -1;
	}
	return ret ? CLI_EXIT_ERR : CLI_EXIT_OK;
}
