/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - the subcommands of the `umsampler` CLI and what they share.
 *
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand name), returning the process exit status. umsampler.c owns main()
 * and dispatch.
 */
#ifndef _UMS_CLI_H
#define _UMS_CLI_H

/* umsampler.c / control.c: live system (debugfs) */
int cmd_add(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_del(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* record.c, csv.c, plot.c: recordings */
int cmd_record(int argc, char **argv);
int cmd_csv(int argc, char **argv);
int cmd_plot(int argc, char **argv);

/* Default debugfs directory; $UMSAMPLER_DEBUGFS overrides (tests). */
#define UMS_DEBUGFS "/sys/kernel/debug/umsampler"

#endif /* _UMS_CLI_H */
