#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo-guest.sh - the demonstration itself, run inside the guest by
# scripts/demo.sh (or by hand on a machine with the module built): load the
# module, start a target whose counter ticks every 100 ms, register regions,
# record a few seconds with trace-cmd, print the report, snapshot and stats.
set -euo pipefail

KO=${UMS_KO:-module/umsampler.ko}
PROGS=${UMS_PROGS:-build/progs}
D=/sys/kernel/debug/umsampler
tmp=$(mktemp -d)
step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }

cleanup() {
	if [ -n "${tpid:-}" ]; then kill "$tpid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rmmod umsampler 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

step "insmod $KO"
insmod "$KO"
ls -l $D

step "start a target: a counter incremented every 100 ms, a string, a double"
mkfifo "$tmp/cmd"
"$PROGS/umstarget" --tick-us 100000 --cmd "$tmp/cmd" >"$tmp/out" &
tpid=$!
exec 3>"$tmp/cmd"
until grep -q '^ready' "$tmp/out"; do sleep 0.05; done
grep -E '^var (counter|str|f64) ' "$tmp/out"
addr() { awk -v n="$1" '$1 == "var" && $2 == n { print $3 }' "$tmp/out"; }

step "register regions"
set -x
echo "add pid=$tpid addr=$(addr counter) type=u32 name=counter period_us=20000" >$D/control
echo "add pid=$tpid addr=$(addr str) len=32 type=str name=greeting mode=change" >$D/control
echo "$tpid $(addr f64) 8" >$D/control
set +x
cat $D/regions

step "record 3 seconds: trace-cmd record -e umsampler; 'sync' names the regions in the trace"
(cd "$tmp" && trace-cmd record -q -e umsampler -o "$tmp/trace.dat" sleep 3) &
rec=$!
# trace-cmd enables the events once it is set up; then name the regions.
until [ "$(cat /sys/kernel/tracing/events/umsampler/sample/enable)" = 1 ]; do sleep 0.1; done
sleep 0.5
echo sync >$D/control
echo "set str hello from the demo" >&3
wait $rec
trace-cmd report -i "$tmp/trace.dat" 2>/dev/null >"$tmp/report"
echo "--- the region events:"
grep 'region:' "$tmp/report" | cut -c1-200 || true
echo "--- the first samples of 'counter' (id=1):"
grep 'sample:.* id=1 ' "$tmp/report" | sed -n 1,5p | cut -c1-200
echo "--- every sample of 'greeting' (mode=change: only when it changed):"
grep 'sample:.* id=2 ' "$tmp/report" | cut -c1-250 || true
echo "--- $(grep -c 'sample:' "$tmp/report") sample events in $(stat -c %s "$tmp/trace.dat") bytes"

step "latest values: grep . $D/values/*"
grep . $D/values/*

step "cat $D/snapshot"
cat $D/snapshot

step "cat $D/stats"
cat $D/stats

step "the target exits: its regions go away"
echo exit >&3
sleep 0.5
cat $D/regions
rmmod umsampler
echo "demo done"
