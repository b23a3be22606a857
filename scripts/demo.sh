#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/demo.sh - what `make demo` runs: builds the module for one test
# kernel, boots it in QEMU and shows umsampler at work (scripts/demo-guest.sh).
# Runs from any directory (the repo may be under /root or /tmp: scripts/vmrun
# shows it in the guest) and installs nothing: the kernel and its headers are
# downloaded and extracted into the cache (scripts/kernels.sh).
#
# Usage: scripts/demo.sh [KVER]   (default 6.12)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
k=${1:-6.12}
scripts/kernels.sh fetch "$k"
make --no-print-directory progs tools
make --no-print-directory module KVER="$k" >/dev/null
log=build/vm/demo-$k.log
rc=0
scripts/vmrun --kernel "$k" --quiet --timeout 300 --log "$log" -- \
	env UMS_KO="$REPO/build/kmod/$k/module/umsampler.ko" UMS_PROGS="$REPO/build/progs" \
	bash scripts/demo-guest.sh || rc=$?
# The guest's output, without the kernel's boot messages.
sed -n '/^UMS-INIT: running/,/^UMS-INIT: command finished/p' "$log" | grep -v '^UMS-INIT'
echo "plot on the host: $REPO/build/vm/results-$k/demo.png"
exit "$rc"
