#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/guest.sh - the in-guest part of `make bench`: runs the sweep of
# measurement points (bench/umsbench, one process per point and repetition),
# the maximum-rate search and, in full mode, a perf profile of the sampler.
# Writes raw RESULT lines to $OUT/raw.txt, the run's metadata to $OUT/meta.txt
# and profiles to $OUT/profile-*.txt. Timings are recorded, never asserted:
# the exit status is non-zero only if the harness broke (a contender crashed,
# took no samples, or a point could not be set up).
#
# Usage (in the guest): bench/guest.sh quick|medium|full|extra
# (extra: only the SCHED_FIFO points, the max-rate search and the profile,
# with full-mode windows: to complete an interrupted full run)
# Environment: UMS_KO (module), UMSBENCH (binary), UMS_RESULTS (output dir),
#              BENCH_HOSTLOAD (host uptime line, recorded in meta.txt).
set -euo pipefail

MODE=${1:-quick}
OUT=${UMS_RESULTS:-/results}
KO=${UMS_KO:?UMS_KO not set}
BIN=${UMSBENCH:?UMSBENCH not set}
RAW=$OUT/raw.txt
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: >"$RAW"
FAILS=0
ALL="ums-trace ums-snap ums-mirror-trace ums-mirror-snap ums-batch floor pvr procmem ptrace"

case "$MODE" in
quick)  REPS=3; D=300;  B=150; W=100 ;;
medium) REPS=3; D=500;  B=250; W=150 ;;
full | extra) REPS=3; D=1000; B=500; W=300 ;;
*) echo "guest.sh: mode must be quick, medium, full or extra" >&2; exit 2 ;;
esac

accel=kvm
grep -q 'TCG' /proc/cpuinfo && accel="tcg ${BENCH_TCG_THREAD:-multi}-threaded"
{
	echo "mode $MODE"
	echo "kernel $(uname -r)"
	echo "ncpu $(nproc)"
	echo "accel $accel"
	echo "cpu $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
	echo "reps $REPS"
	echo "window_ms $D"
	echo "baseline_ms $B"
	echo "warmup_ms $W"
	echo "hostload_start ${BENCH_HOSTLOAD:-unknown}"
	echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$OUT/meta.txt"

# point SET CONTENDER[+fifo] T R L P [REP] [window_ms]: one measurement, appended to raw.txt
point() {
	local set=$1 c=$2 t=$3 r=$4 l=$5 p=$6 rep=${7:-1} d=${8:-$D} line f=()
	case "$c" in *+fifo) c=${c%+fifo}; f+=(-F) ;; esac
	# the targets sweep uses paced targets (modify, sleep 1 ms): 1000 busy
	# loops on one vCPU would starve the trace reader and the set-up itself
	[ "$set" = T ] && f+=(-S 1000)
	if line=$("$BIN" "${f[@]}" -c "$c" -T "$t" -R "$r" -L "$l" -P "$p" -d "$d" -b "$B" -w "$W" \
		-k "$KO" -x "set=$set rep=$rep" 2>"$OUT/.err"); then
		echo "$line" >>"$RAW"
		echo "$line" | awk '{ printf "  %-9s %-6s %s %s %s %s %s %s %s %s\n", $2, $NF, $3, $4, $5, $6, $9, $10, $14, $22 }' | sed 's/contender=//'
		return 0
	fi
	FAILS=$((FAILS + 1))
	echo "FAIL set=$set contender=$c T=$t R=$r L=$l P=$p rep=$rep: $(tr '\n' ' ' <"$OUT/.err")" | tee -a "$RAW"
	# leave a clean state for the next point
	rmmod umsampler 2>/dev/null || true
	return 1
}

# sweep SET "contenders" "T list" "R list" "L list" "P list"; repetitions are the
# outer loop so that slow drifts of the host load spread over every contender.
sweep() {
	local set=$1 cs=$2 ts=$3 rs=$4 ls=$5 ps=$6 rep c t r l p
	echo "== $set (T=[$ts] R=[$rs] L=[$ls] P=[$ps] us, $REPS reps)"
	for rep in $(seq 1 "$REPS"); do
		for t in $ts; do for r in $rs; do for l in $ls; do for p in $ps; do
			for c in $cs; do
				skip "$c" "$t" "$r" "$l" "$p" && continue
				point "$set" "$c" "$t" "$r" "$l" "$p" "$rep" || true
			done
		done; done; done; done
	done
}

# Combinations dropped as meaningless or unbounded (listed in the report).
skip() {
	local c=$1 t=$2 r=$3 l=$4 p=$5
	if [ "$c" = ptrace ]; then
		[ "$t" -ge 100 ] && return 0              # stop 100+ processes per period
		[ $((t * r * l / 8)) -gt 200000 ] && return 0 # > 200k PEEKDATA per period
	fi
	if [ "$c" = procmem ] && [ "$t" -ge 1000 ]; then
		return 0                                  # 10,000 preads per period
	fi
	case $c in ums-mirror-*)                          # refused at the add: over mirror_budget
		[ $((t * r * l)) -gt 4096 ] && return 0 ;;
	esac
	return 1
}

# maxrate C R0 RMAX WINDOW_MS [FACTOR [P [SET]]]: multiply R (by 2) at P
# (default 1 ms), T=1, L=8 until misses exceed 1 %
maxrate() {
	local c=$1 r=$2 rmax=$3 d=$4 mult=${5:-2} p=${6:-1000} set=${7:-maxrate} line got req
	echo "== $set $c (P=$p us)"
	while [ "$r" -le "$rmax" ]; do
		skip "$c" 1 "$r" 8 "$p" && return 0
		point "$set" "$c" 1 "$r" 8 "$p" 1 "$d" || return 0
		line=$(tail -n 1 "$RAW")
		got=$(echo "$line" | sed -n 's/.* got=\([0-9]*\).*/\1/p')
		req=$(echo "$line" | sed -n 's/.* req=\([0-9]*\).*/\1/p')
		[ -n "$got" ] && [ $((got * 100)) -ge $((req * 99)) ] || return 0
		r=$((r * mult))
	done
}

start=$(date +%s)
case "$MODE" in
quick)
	# A few representative points, < 3 minutes with boot on a quiet host:
	# every contender at R=1 and R=64 (P=1 ms, L=8); P=100 us for umsampler
	# (events off) and pvr. No max-rate search, no sweeps (medium/full).
	sweep quick "$ALL" 1 "1 64" 8 1000
	sweep quick "ums-trace+fifo pvr+fifo" 1 64 8 1000
	sweep quick "ums-snap ums-mirror-snap pvr" 1 64 8 100
	sweep quick "ums-chain pvr-chain" 1 64 8 1000
	;;
medium | full | extra)
	[ "$MODE" = extra ] || sweep R "$ALL" 1 "1 16 64 1024" 8 1000
	if [ "$MODE" != extra ]; then
		sweep P "$ALL" 1 64 8 "100 10000"
		sweep L "$ALL" 1 16 "8 256 4096 65536" 10000
	fi
	if [ "$MODE" = full ]; then
		sweep T "$ALL" "1 10 100 1000" 10 8 10000
	elif [ "$MODE" = medium ]; then
		sweep T "$ALL" "1 10 100" 10 8 10000
	fi
	# The sampler at SCHED_FIFO 1: umsampler's sched_fifo parameter, the
	# poller likewise (sched_setscheduler).
	sweep fifo "ums-trace+fifo ums-snap+fifo pvr+fifo" 1 "1 64" 8 1000
	# Heap data behind two pointers: deref=0,0 against three dependent process_vm_readv calls.
	sweep chain "ums-chain pvr-chain" 1 "1 64" 8 1000
	# Bounded search: R x4 per step for the kernel contenders and pvr, x2 for
	# the slow pollers (which miss early).
	for c in $ALL ums-snap+fifo ums-trace+fifo pvr+fifo; do
		case $c in ptrace) r0=4; m=2 ;; procmem) r0=16; m=2 ;; *) r0=16; m=4 ;; esac
		maxrate "$c" "$r0" 16384 "$D" "$m"
	done
	# Throughput rather than wake-up punctuality: at P=10 ms a late wake-up
	# of a few ms (host scheduling of the vCPU threads under TCG) is not a
	# missed period. Kernel contenders and pvr only.
	for c in ums-snap ums-trace ums-mirror-snap ums-snap+fifo pvr; do
		maxrate "$c" 64 16384 "$D" 4 10000 maxrate10
	done
	# Where the sampler's time goes: perf over the whole guest, ums-snap at R=1024.
	if command -v perf >/dev/null; then
		for c in ${BENCH_PROFILE:-ums-snap}; do
			echo "== profile $c R=1024 P=1ms"
			perf record -a -g -o "/tmp/perf-$c.data" -- \
				"$BIN" -c "$c" -T 1 -R 1024 -L 8 -P 1000 -d 3000 -b 200 -w 300 -k "$KO" \
				-x "set=profile rep=1" >>"$RAW" 2>"$OUT/.err" || {
				echo "profile $c failed: $(cat "$OUT/.err")"; continue; }
			perf report -i "/tmp/perf-$c.data" --stdio --no-children --comm umsampler,kthreadd --kallsyms /proc/kallsyms \
				--percentage relative --percent-limit 0.7 -g none --sort sym 2>/dev/null |
				grep -v '^$' | head -n 45 >"$OUT/profile-$c.txt" || true
			perf report -i "/tmp/perf-$c.data" --stdio --no-children --comm umsampler,kthreadd --kallsyms /proc/kallsyms \
				--percentage relative -g caller,0.5,callee --percent-limit 5 --sort sym 2>/dev/null |
				grep -v '^$' | head -n 120 >"$OUT/profile-$c-callers.txt" || true
		done
	fi
	# The mirror clock runs in hard irq with interrupts off, where perf's
	# cpu-clock cannot sample: ftrace's function_graph times its callees.
	if [ -w /sys/kernel/tracing/set_graph_function ]; then
		echo "== profile ums-mirror-snap R=64 P=100us (function_graph of the mirror clock)"
		PROFILE_OUT="$OUT/profile-ums-mirror.txt" "$BIN" -c ums-mirror-snap -T 1 -R 64 -L 8 -P 100 \
			-d 2000 -b 200 -w 300 -k "$KO" -H "$HERE/mirror-profile.sh" \
			-x "set=profile rep=1" >>"$RAW" 2>"$OUT/.err" ||
			echo "profile ums-mirror failed: $(cat "$OUT/.err")"
	fi
	;;
esac
echo "elapsed_s $(($(date +%s) - start))" >>"$OUT/meta.txt"
echo "failures $FAILS" >>"$OUT/meta.txt"
echo "guest.sh: $MODE done in $(($(date +%s) - start))s, $FAILS failure(s)"
[ "$FAILS" -eq 0 ]
