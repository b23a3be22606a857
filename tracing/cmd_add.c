// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_add.c - `umsampler add PID TARGET [opts]`: resolve TARGET in the process (resolve.c),
 * build an `add` line, check it with the kernel's own parser (common/parse.c), write it to
 * control and print the new region as `regions` shows it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse.h"
#include "resolve.h"

static const char add_usage[] =
"usage: umsampler add PID TARGET [--len N] [--type T] [--period D] [--name NAME]\n"
"                     [--change|--no-events] [--fault] [--mirror]\n"
"  TARGET: 0xADDR | SYMBOL | OBJECT:SYMBOL | SYMBOL+OFF | SYMBOL.field | SYMBOL[3]\n"
"          | SYMBOL->field | (*SYMBOL)->field, and combinations (SYMBOL.arr[2],\n"
"          SYMBOL[1].field, 'g->n->value', 'table[3]->name', 'srv.stats->hits[2]');\n"
"          OBJECT is the base name of a mapped file (libfoo.so matches libfoo.so.1.2).\n"
"          Pointers (->, (*p)) are followed on every sample (the control key deref=)\n"
"  Symbols come from the process's mapped ELF objects (.symtab, else .dynsym); with\n"
"  DWARF (in the object, or a debug file found by build-id or .gnu_debuglink) the\n"
"  length and type follow the variable's type, else the length is the symbol's size\n"
"  and the type hex.\n"
"  --len N        bytes to sample (overrides)\n"
"  --type T       hex u8 u16 u32 u64 s8 s16 s32 s64 f32 f64 str (overrides)\n"
"  --period D     sampling period, 100us..1h: 500us, 1.5ms, 2s, 1m, a bare number\n"
"                 is us (default: the module's period_us parameter)\n"
"  --name NAME    region name (default: TARGET with other characters than\n"
"                 [A-Za-z0-9_.:-] replaced by '_')\n"
"  --change       emit events only when the value changes (mode=change)\n"
"  --no-events    never emit sample events: the bytes stay in debugfs (mode=none)\n"
"  --fault        let the sampler fault pages in (default: resident pages only)\n"
"  --mirror       copy samples in the hrtimer (hard irq) from notifier-guarded page\n"
"                 frames (the control key `mirror`; len <= mirror_budget)\n";

static int vtype_from_name(const char *s)
{
	for (unsigned int i = 0; i < UMS_VT_NR; i++)
		if (!strcmp(ums_vtype_name(i), s))
			return (int)i;
	return -1;
}

static void default_name(const char *target, char *name)
{
	size_t n = 0, i;
	bool reserved;

	for (; target[n] && n < UMS_NAME_LEN - 1; n++) {
		char c = target[n];

		name[n] = (isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':' ||
			   c == '-') ? c : '_';
	}
	name[n] = '\0';
	reserved = n >= 2 && name[0] == 'r';
	for (i = 1; reserved && i < n; i++)
		reserved = isdigit((unsigned char)name[i]);
	if (reserved) {
		memmove(name + 1, name, n < UMS_NAME_LEN - 2 ? n + 1 : UMS_NAME_LEN - 2);
		name[0] = '_';
		name[UMS_NAME_LEN - 1] = '\0';
	}
}

CLI_COMMAND(add, "h", "add PID TARGET [opts]  sample a variable (symbol, member, 0xADDR)",
	CLI_ARG("len", 'l'), CLI_ARG("type", 't'), CLI_ARG("period", 'p'), CLI_ARG("name", 'n'),
	CLI_FLAG("change", 'c'), CLI_FLAG("no-events", 'E'), CLI_FLAG("fault", 'f'),
	CLI_FLAG("mirror", 'm'));

static int cmd_add(int argc, char **argv)
{
	uint64_t len = 0, period = 0, pid, scalar;
	int vtype = -1, o, ret = CLI_EXIT_ERR;
	bool change = false, quiet = false, fault = false, mirror = false, have_len = false;
	const char *target;
	char name[UMS_NAME_LEN] = "", line[UMS_LINE_MAX], src[256] = "";
	struct ums_resolved res;
	struct cli_region *regs;
	size_t nregs;
	struct ums_limits lim = {
		.max_len = UINT64_MAX, .addr_limit = UINT64_MAX, .default_period_us = 10000,
		.min_period_us = UMS_PERIOD_MIN_US, .max_period_us = UMS_PERIOD_MAX_US,
		.max_pid = CLI_PID_MAX,
	};
	struct ums_cmd cmd;
	struct ums_perr perr;
	int r;

	while ((o = cli_getopt(&cli_add, argc, argv)) != -1) {
		switch (o) {
		case 'l':
			if (cli_parse_u64(optarg, &len) || !len)
				return cli_usage_err(&cli_add, "bad --len '%s'", optarg);
			have_len = true;
			break;
		case 't':
			vtype = vtype_from_name(optarg);
			if (vtype < 0)
				return cli_usage_err(&cli_add, "unknown type '%s' (hex u8 u16 "
						 "u32 u64 s8 s16 s32 s64 f32 f64 str)", optarg);
			break;
		case 'p':
			if (cli_parse_duration(optarg, CLI_US, &period) ||
			    period < UMS_PERIOD_MIN_US || period > UMS_PERIOD_MAX_US)
				return cli_usage_err(&cli_add, "bad --period '%s' (100us..1h, "
						 "e.g. 500us, 1ms, 2s)", optarg);
			break;
		case 'n':
			if (!ums_name_valid(optarg))
				return cli_usage_err(&cli_add, "bad --name '%s' (1..31 of "
						 "[A-Za-z0-9_.:-], not r<digits>)", optarg);
			snprintf(name, sizeof(name), "%s", optarg);
			break;
		case 'c':
			change = true;
			break;
		case 'E':
			quiet = true;
			break;
		case 'f':
			fault = true;
			break;
		case 'm':
			mirror = true;
			break;
		default:
			return cli_usage_err(&cli_add, NULL);
		}
	}
	if (change && quiet)
		return cli_usage_err(&cli_add, "--change and --no-events exclude each other");
	if (argc - optind != 2)
		return cli_usage_err(&cli_add, "expected PID and TARGET");
	if (cli_parse_u64(argv[optind], &pid) || !pid || pid > CLI_PID_MAX)
		return cli_usage_err(&cli_add, "bad PID '%s'", argv[optind]);
	target = argv[optind + 1];
	scalar = vtype >= 0 ? ums_vtype_size((unsigned int)vtype) : 0;
	if (have_len && scalar && len != scalar)
		return cli_usage_err(&cli_add, "--len %" PRIu64 " does not match --type %s "
				 "(%" PRIu64 " bytes)", len, ums_vtype_name((unsigned int)vtype),
				 scalar);
	if (!name[0])
		default_name(target, name);
	if (!ums_name_valid(name))
		return cli_usage_err(&cli_add, "cannot make a region name from '%s': use "
				 "--name", target);
	if (!cli_control_usable() && cli_check_debugfs())
		return CLI_EXIT_ERR;

	r = ums_resolve((pid_t)pid, target, &res);
	if (r)
		return r == -2 ? CLI_EXIT_USAGE : CLI_EXIT_ERR;
	/* --type/--len override; a resolved scalar type that no longer fits becomes hex */
	if (vtype < 0) {
		vtype = res.vtype >= 0 ? res.vtype : UMS_VT_HEX;
		scalar = ums_vtype_size((unsigned int)vtype);
		if (have_len && scalar && scalar != len) {
			vtype = UMS_VT_HEX;
			scalar = 0;
		}
	}
	if (!have_len)
		len = scalar ? scalar : res.len;
	if (!len) {
		cli_cmd_err(&cli_add, "the length of '%s' is unknown: pass --len N (or "
			"a scalar --type)", target);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	r = snprintf(line, sizeof(line), "add pid=%" PRIu64 " addr=0x%" PRIx64 " len=%" PRIu64
		     " type=%s name=%s", pid, res.addr, len, ums_vtype_name((unsigned int)vtype),
		     name);
	if (period)
		r += snprintf(line + r, sizeof(line) - (size_t)r, " period_us=%" PRIu64, period);
	if (change || quiet)
		r += snprintf(line + r, sizeof(line) - (size_t)r, " mode=%s",
			      ums_mode_name(quiet ? UMS_MODE_NONE : UMS_MODE_CHANGE));
	if (fault)
		r += snprintf(line + r, sizeof(line) - (size_t)r, " fault");
	if (mirror)
		r += snprintf(line + r, sizeof(line) - (size_t)r, " mirror");
	for (int i = 0; i < res.nderef; i++)
		r += snprintf(line + r, sizeof(line) - (size_t)r, "%s%" PRId64, i ? "," : " deref=",
			      res.deref[i]);
	if (ums_parse_line(line, (size_t)r, 1, &lim, &cmd, &perr)) {
		cli_cmd_err(&cli_add, "invalid command '%s': %s", line, perr.msg);
		goto out;
	}
	line[r++] = '\n';
	line[r] = '\0';
	if (cli_write_control("add", line)) {
		if (errno == EEXIST)
			fprintf(stderr, "  a region named '%s' exists: choose another --name or "
				"`umsampler del %s`\n", name, name);
		else if (errno == E2BIG && mirror)
			fprintf(stderr, "  %" PRIu64 " bytes is more than max_len or mirror_budget "
				"(/sys/module/umsampler/parameters/): use --len or drop --mirror\n",
				len);
		else if (errno == E2BIG)
			fprintf(stderr, "  %" PRIu64 " bytes is more than max_len: use --len or "
				"raise /sys/module/umsampler/parameters/max_len\n", len);
		else if (errno == ENOSPC && mirror)
			fprintf(stderr, "  the mirrored regions together would exceed "
				"mirror_budget, or max_regions is reached\n");
		else if (errno == ESRCH)
			fprintf(stderr, "  no process %" PRIu64 " (did it exit?)\n", pid);
		goto out;
	}
	{
		size_t sl = 0;

		for (int i = 0; i < res.nderef && sl < sizeof(src); i++)
			sl += (size_t)snprintf(src + sl, sizeof(src) - sl, "%s%" PRId64,
					       i ? "," : " deref=", res.deref[i]);
		if (res.object && sl < sizeof(src))
			snprintf(src + sl, sizeof(src) - sl, " source=%s:%s(%s)", res.object,
				 res.symbol, res.dwarf ? "dwarf" : "symtab");
	}
	if (cli_read_file_ok("regions")) {
		if (cli_read_regions(&regs, &nregs))
			goto out;
	} else if (cli_dev_regions(&regs, &nregs)) {
		goto out;
	}
	ret = CLI_EXIT_OK;
	for (size_t i = 0; i < nregs; i++) {
		if (strcmp(regs[i].name, name))
			continue;
		printf("added id=%" PRIu64 " name=%s pid=%" PRIu64 " addr=0x%" PRIx64
		       " len=%" PRIu64 " type=%s%s\n", regs[i].id, name, pid, res.addr, len,
		       ums_vtype_name((unsigned int)vtype), src);
		if (res.nderef)
			cli_expr_save(regs[i].id, pid, name, target);
		free(regs);
		goto out;
	}
	free(regs);
	printf("added id=? name=%s pid=%" PRIu64 " addr=0x%" PRIx64 " len=%" PRIu64
	       " type=%s%s\n", name, pid, res.addr, len, ums_vtype_name((unsigned int)vtype), src);
	cli_cmd_err(&cli_add, "warning: region '%s' is not in regions any more (the "
		"process exited?)", name);
out:
	ums_resolved_free(&res);
	return ret;
}
