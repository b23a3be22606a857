#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench.sh - what `make bench` runs on the host: builds the module for
# one test kernel and bench/umsbench, boots the kernel in QEMU, runs the
# benchmark suite inside it (bench/guest.sh), then turns the raw results into
# the Markdown report and PNG plots (bench/report.pl, gnuplot) and prints the
# headline table. Exits non-zero only if the harness broke (build, guest,
# a contender crashing or taking no samples), never because of timings.
#
# Usage: scripts/bench.sh [KVER] [quick|medium|full]   (default 6.12 full)
# Environment: BENCH_OUT (report directory, default bench/results),
#              BENCH_SMP (guest CPUs, default 2), BENCH_TIMEOUT (seconds).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
k=${1:-6.12}
mode=${2:-full}
out=${BENCH_OUT:-bench/results}
smp=${BENCH_SMP:-2}
case "$mode" in
quick) tmo=${BENCH_TIMEOUT:-420} ;;
medium) tmo=${BENCH_TIMEOUT:-2400} ;;
full) tmo=${BENCH_TIMEOUT:-3600} ;;
*) echo "bench.sh: mode must be quick, medium or full" >&2; exit 2 ;;
esac
start=$(date +%s)

scripts/kernels.sh fetch "$k" >/dev/null
make --no-print-directory module KVER="$k" >/dev/null
make --no-print-directory -f bench/Makefile.inc bench-progs >/dev/null

res=build/bench/res-$k-$mode
log=build/bench/$k-$mode-console.log
rm -rf "$res"
mkdir -p "$res" "$out"
hostload=$(uptime | sed 's/.*load average: */load average /')
echo "bench: $mode mode on kernel $k, $smp guest CPUs; host $(nproc) CPUs, $hostload"
rc=0
# One host thread per vCPU (make check runs single-threaded TCG, see vmrun):
# the sampler, the pollers and the targets must run in parallel as on a real
# machine, or the figures measure QEMU's round-robin of the vCPUs.
tcg=${UMS_TCG_THREAD:-multi}
scripts/vmrun --kernel "$k" --smp "$smp" --tcg-thread "$tcg" --quiet --timeout "$tmo" \
	--log "$log" --results "$res" -- \
	env UMS_KO="$REPO/build/kmod/$k/module/umsampler.ko" UMSBENCH="$REPO/build/bench/umsbench" \
	BENCH_HOSTLOAD="$hostload" BENCH_TCG_THREAD="$tcg" bash bench/guest.sh "$mode" || rc=$?
# The guest's progress lines, without the kernel's boot messages.
sed -n '/^UMS-INIT: running/,/^UMS-INIT: command finished/p' "$log" | grep -v '^UMS-INIT' |
	grep -v '^\[ *[0-9.]*\]' || true
[ -s "$res/raw.txt" ] || { echo "bench: no results from the guest (exit $rc, log $log)" >&2; exit 1; }
echo "hostload_end $(uptime | sed 's/.*load average: */load average /')" >>"$res/meta.txt"

# Raw data next to the report (committed with it), then the report and plots.
cp "$res/raw.txt" "$out/raw-$mode.txt"
cp "$res/meta.txt" "$out/meta-$mode.txt"
for f in "$res"/profile-*.txt; do [ -e "$f" ] && cp "$f" "$out/"; done
perl bench/report.pl --mode "$mode" --raw "$out/raw-$mode.txt" --meta "$out/meta-$mode.txt" \
	--out "$out" || { echo "bench: report generation failed" >&2; exit 1; }
echo "bench: report $out/$( [ "$mode" = quick ] && echo QUICK.md || echo REPORT.md ), $(($(date +%s) - start))s wall"
exit "$rc"
