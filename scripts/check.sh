#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check.sh - what `make check` runs: builds everything warning-free,
# runs the host unit tests, then boots each requested kernel once in QEMU and
# runs the whole in-guest suite (tests/guest/*.t) under prove (63-mirror.t in a
# second boot with two NUMA nodes, vmrun --numa). Prints prove's
# summary per kernel, an overall line and the elapsed time; exits non-zero if
# anything failed (a test, a build warning, or a kernel problem found in the
# guest console log by scripts/logscan).
#
# Usage: scripts/check.sh [KVER...]        (default: 6.1 6.12 rt, and debug if built)
# Environment: UMS_TESTS="tests/guest/10-values.t ..." runs a subset in the guest;
#              UMS_VM_TIMEOUT (default 1500) bounds each guest run.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2
KVERS=("$@")
if [ ${#KVERS[@]} -eq 0 ]; then
	KVERS=(6.1 6.12 rt)
	# The debug kernel (scripts/debugkernel.sh, ~25-40 min to build) joins when it is cached.
	if scripts/kernels.sh vmlinuz debug >/dev/null 2>&1; then
		KVERS+=(debug)
	fi
fi
start=$(date +%s)
declare -A result
fail=0

say() { printf '\n=== %s ===\n' "$*"; }

say "fetch kernels: ${KVERS[*]}"
scripts/kernels.sh fetch "${KVERS[@]}" || { echo "check: kernel fetch failed" >&2; exit 2; }

say "build userspace and host tests"
if ! make --no-print-directory progs host-tests tools; then
	echo "check: userspace build failed" >&2
	exit 1
fi

say "host tests"
if prove -f tests/host/*.t build/host/*.t; then
	result[host]=PASS
else
	result[host]=FAIL
	fail=1
fi

# The self-test proves the runner, not the kernel: on the debug kernel its five
# boots (KASAN under TCG, kmemleak scans) take ~10 min, so a cached Debian
# kernel does it when debug comes first (make check KVER=debug).
selftest_k=${KVERS[0]}
if [ "$selftest_k" = debug ]; then
	for k in "${KVERS[@]}" 6.1 6.12 rt; do
		if [ "$k" != debug ] && scripts/kernels.sh vmlinuz "$k" >/dev/null 2>&1; then
			selftest_k=$k
			break
		fi
	done
fi
say "test-bed self-test on $selftest_k: the runner fails on a non-zero exit and a kernel WARNING"
if prove -f --exec bash tests/host/vmrun-selftest.sh :: "$selftest_k"; then
	result[testbed]=PASS
else
	result[testbed]=FAIL
	fail=1
fi

for k in "${KVERS[@]}"; do
	say "kernel $k: build module (W=1, sparse, -Werror)"
	log=build/kmod/$k.build.log
	mkdir -p build/kmod
	if ! make --no-print-directory module KVER="$k" W=1 C=1 UMS_WERROR=y >"$log" 2>&1 ||
	   grep -E 'warning:|error:|sparse:' "$log"; then
		cat "$log" >&2
		echo "check: module build for $k failed or warned" >&2
		result[$k]=FAIL
		fail=1
		continue
	fi
	echo "built build/kmod/$k/module/umsampler.ko, no warnings"
	# kernel-doc of every documented function and struct (the kernel's own checker)
	kdoc="$(make --no-print-directory -s -C "$REPO" KVER="$k" print-kdir 2>/dev/null)/scripts/kernel-doc"
	if [ -f "$kdoc" ] && perl "$kdoc" -none module/*.c module/*.h common/*.c common/*.h 2>&1 | grep .; then
		echo "check: kernel-doc warnings in module/ or common/" >&2
		result[$k]=FAIL
		fail=1
		continue
	fi

	say "kernel $k: in-guest suite"
	to=${UMS_VM_TIMEOUT:-1500}
	# KASAN under TCG: ~20-30 s to userspace, kmemleak scans ~1.5 min, the suite ~25 min.
	[ "$k" = debug ] && to=${UMS_VM_TIMEOUT:-3600}
	# The NUMA tests (63-mirror.t: move_pages between two nodes) get a boot of
	# their own with two nodes (vmrun --numa); the rest keeps the usual guest.
	if [ -n "${UMS_TESTS:-}" ]; then
		tests=$UMS_TESTS numa_tests=""
	else
		tests="" numa_tests=tests/guest/63-mirror.t
		for t in tests/guest/*.t; do
			[ "$t" = "$numa_tests" ] || tests+="$t "
		done
	fi
	# shellcheck disable=SC2086
	scripts/vmrun --kernel "$k" --timeout "$to" --quiet -- \
		env UMS_KO="$REPO/build/kmod/$k/module/umsampler.ko" UMS_PROGS="$REPO/build/progs" \
		prove -f --nocolor $tests
	rc=$?
	# prove's output is in the console log; show its summary.
	vmlog=build/vm/$k-console.log
	sed -n '/UMS-INIT: running/,/UMS-INIT: command finished/p' "$vmlog" |
		grep -vE '^UMS-INIT' | tr -d '\r'
	if [ -n "$numa_tests" ]; then
		say "kernel $k: in-guest NUMA tests (two nodes)"
		vmlog=build/vm/$k-numa-console.log
		# shellcheck disable=SC2086
		scripts/vmrun --kernel "$k" --numa --timeout "$to" --quiet --log "$vmlog" -- \
			env UMS_KO="$REPO/build/kmod/$k/module/umsampler.ko" UMS_PROGS="$REPO/build/progs" \
			prove -f --nocolor $numa_tests
		nrc=$?
		sed -n '/UMS-INIT: running/,/UMS-INIT: command finished/p' "$vmlog" |
			grep -vE '^UMS-INIT' | tr -d '\r'
		[ "$rc" -ne 0 ] || rc=$nrc
	fi
	if [ "$rc" -eq 0 ]; then
		result[$k]=PASS
	else
		result[$k]="FAIL (exit $rc)"
		fail=1
	fi
done

elapsed=$(($(date +%s) - start))
say "summary"
printf '  %-8s %s\n' host "${result[host]}"
printf '  %-8s %s\n' testbed "${result[testbed]}"
for k in "${KVERS[@]}"; do
	printf '  %-8s %s\n' "$k" "${result[$k]:-not run}"
done
if [ "$fail" -eq 0 ]; then
	echo "check: ALL PASSED (${KVERS[*]}) in ${elapsed}s"
else
	echo "check: FAILED in ${elapsed}s"
fi
exit "$fail"
