#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo-guest.sh - the demonstration (and the README tutorial), run
# inside the guest by scripts/demo.sh, or by hand as root on a machine where
# `make` built the module and tools: load the module, start a target process,
# add its variables by symbol name, watch them, record with trace-cmd, convert
# the recording to CSV, plot it, and show the debugfs view.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KO=${UMS_KO:-$REPO/module/umsampler.ko}
PROGS=${UMS_PROGS:-$REPO/build/progs}
export PATH=$REPO/build/tracing:$PATH
export TRACEEVENT_PLUGIN_DIR=$REPO/build/tracing
OUT=${UMS_RESULTS:-$(pwd)}
D=/sys/kernel/debug/umsampler
tmp=$(mktemp -d)
step() { printf '\n### %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

cleanup() {
	if [ -n "${tpid:-}" ]; then kill "$tpid" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rmmod umsampler 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

step "1. load the module"
run insmod "$KO"
run ls $D

step "2. start a target: umstarget increments 'counter' every 100 ms"
mkfifo "$tmp/cmd"
"$PROGS/umstarget" --tick-us 100000 --cmd "$tmp/cmd" >"$tmp/out" &
tpid=$!
exec 3>"$tmp/cmd"
until grep -q '^ready' "$tmp/out"; do sleep 0.05; done
echo "target pid $tpid"

step "3. add its variables by name (address, length and type come from ELF + DWARF)"
run umsampler add "$tpid" counter --period 20ms
run umsampler add "$tpid" v_str --change
run umsampler add "$tpid" v_f64
run umsampler add "$tpid" v_shape.b
run umsampler list

step "4. watch the live values"
run umsampler watch --count 3 --interval 500ms

step "5. record 3 seconds (the target changes its string meanwhile)"
(
	# once trace-cmd has enabled the events, change two values
	# (umsampler record records umsampler:batch by default, --sample: sample)
	until [ "$(cat /sys/kernel/tracing/events/umsampler/batch/enable)" = 1 ]; do sleep 0.1; done
	sleep 1
	echo "set str hello from the demo" >&3
	echo "set f64 0.1" >&3
) &
run umsampler record -o "$tmp/demo.dat" --duration 3s
wait $!

step "6. the recording as CSV"
run umsampler csv "$tmp/demo.dat" -o "$tmp/demo.csv"
echo "--- v_str (mode=change: a row per change):"
grep -E '^time_ns|,v_str,' "$tmp/demo.csv" || true
echo "--- v_f64 around its change to 0.1:"
grep ',v_f64,' "$tmp/demo.csv" | grep -m1 -B2 -A1 ',0.1$' || true
echo "--- counter (first rows):"
grep ',counter,' "$tmp/demo.csv" | sed -n 1,4p
echo "($(($(wc -l <"$tmp/demo.csv") - 1)) samples)"

step "7. plot it"
run umsampler plot "$tmp/demo.dat" -o "$OUT/demo.png" counter v_f64
ls -l "$OUT/demo.png"

step "8. trace-cmd report, decoded by the plugin (TRACEEVENT_PLUGIN_DIR=build/tracing)"
trace-cmd report -i "$tmp/demo.dat" 2>/dev/null | grep -E 'region:|name=v_str' | cut -c1-160
trace-cmd report -i "$tmp/demo.dat" 2>/dev/null | grep -E '(sample|batch):|name=counter' | grep -m 4 -E 'batch:|name=counter' | cut -c1-160 || true

step "9. the debugfs view: grep . $D/values/*; cat $D/snapshot; cat $D/stats"
grep . $D/values/*
cat $D/snapshot
cat $D/stats

step "10. the target exits: its regions go away"
echo exit >&3
sleep 0.5
run umsampler list
rmmod umsampler
echo "demo done; plot: $OUT/demo.png"
