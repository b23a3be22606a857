#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/mirror-profile.sh - umsbench's -H hook for the profile of the mirror
# clock (bench/guest.sh, full mode). The clock's callback runs in hard irq
# with interrupts off, where perf's cpu-clock cannot sample (and TCG has no
# PMU), so ftrace's function_graph times the callback and its direct callees.
#
# Usage: mirror-profile.sh start|stop (start after the module is loaded and
# the regions are mirrored; stop writes the per-function table to $OUT).
# Environment: PROFILE_OUT (default /tmp/profile-ums-mirror.txt).
set -euo pipefail
T=/sys/kernel/tracing
out=${PROFILE_OUT:-/tmp/profile-ums-mirror.txt}
case "$1" in
start)
	echo 0 >"$T/tracing_on"
	echo nop >"$T/current_tracer"
	echo >"$T/trace"
	echo 8192 >"$T/buffer_size_kb"
	echo ums_mirror_tick >"$T/set_graph_function"
	echo 2 >"$T/max_graph_depth"
	echo 1 >"$T/options/funcgraph-tail"
	echo function_graph >"$T/current_tracer"
	echo 1 >"$T/tracing_on"
	;;
stop)
	echo 0 >"$T/tracing_on"
	# Lines: " 1)   0.845 us    |    ums_region_publish();" (depth 2, leaf)
	# and " 1) + 12.345 us   |  }" closing ums_mirror_tick (depth 1).
	perl -ne '
		if (/^\s*\d+\)\s+[-+!#*@$ ]*\s*([\d.]+) us\s+\|(\s*)(\w+)\(\);/) {
			$t{$3} += $1; $n{$3}++;
		} elsif (/^\s*\d+\)\s+[-+!#*@$ ]*\s*([\d.]+) us\s+\|(\s*)\} \/\* ums_mirror_tick/) {
			$t{"(ums_mirror_tick total)"} += $1; $n{"(ums_mirror_tick total)"}++;
		}
		END {
			my $tot = $t{"(ums_mirror_tick total)"} || 1;
			printf "%-34s %10s %12s %10s %7s\n", "function (callee of ums_mirror_tick)", "calls", "total_us", "avg_us", "share";
			for my $f (sort { $t{$b} <=> $t{$a} } keys %t) {
				printf "%-34s %10d %12.1f %10.3f %6.1f%%\n", $f, $n{$f}, $t{$f}, $t{$f} / $n{$f}, 100 * $t{$f} / $tot;
			}
		}' "$T/trace" >"$out"
	echo nop >"$T/current_tracer"
	echo >"$T/set_graph_function"
	;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
