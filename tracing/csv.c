// SPDX-License-Identifier: GPL-2.0
/*
 * csv.c - `umsampler csv FILE [-o OUT]`: one CSV row per (reassembled) sample of a recording.
 *
 * Owns: the csv subcommand.  The row format and the decoding live in decode.c (see decode.h);
 * a perf.data file goes through `perf script -s umsampler-perf.py`, whose output is copied
 * unchanged, so both paths give byte-identical rows for the same samples (time_ns is the
 * trace clock of the respective recorder: both use the kernel's local clock by default).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"

static void csv_usage(FILE *f)
{
	fprintf(f, "usage: umsampler csv FILE [-o OUT]\n"
		"  FILE: trace.dat (trace-cmd record -e umsampler) or perf.data\n"
		"  (perf record -e umsampler:sample -e umsampler:region -a)\n"
		"  columns: " UMS_CSV_HEADER "\n");
}

static int csv_row(const struct ums_sample *s, void *arg)
{
	return ums_csv_row(arg, s) ? -1 : 0;
}

int cmd_csv(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *in;
	enum ums_file_kind kind;
	FILE *f = stdout;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			csv_usage(stdout);
			return 0;
		default:
			csv_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		csv_usage(stderr);
		return 2;
	}
	in = argv[optind];
	kind = ums_file_kind(in);
	if (kind == UMS_FILE_ERROR) {
		perror(in);
		return 1;
	}
	if (kind == UMS_FILE_UNKNOWN) {
		fprintf(stderr, "umsampler: %s: neither a trace-cmd nor a perf.data file\n", in);
		return 1;
	}
	if (out && strcmp(out, "-")) {
		f = fopen(out, "w");
		if (!f) {
			perror(out);
			return 1;
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
	return ret ? 1 : 0;
}
