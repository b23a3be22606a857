#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check.sh - what `make check` runs: builds everything warning-free,
# runs the host unit tests, then runs every guest lane, several at a time
# (one QEMU TCG guest per host CPU, UMS_JOBS), and prints each lane's output
# and a summary; exits non-zero if anything failed (a test, a build warning,
# or a kernel problem found in a guest console log by scripts/logscan).
#
# Guest lanes, per kernel K (each its own boot, log build/vm/<lane>-console.log,
# results build/vm/results-<lane>, output build/check/<lane>.out):
#   K          the in-guest suite, tests/guest/*.t under prove (but 63-mirror.t)
#   K/numa     63-mirror.t in a guest with two NUMA nodes (vmrun --numa)
#   K/lockdown tests/lockdown/lockdown.t: debug boots with lockdown=integrity
#              and loads a copy of the module signed with its own key
#              (scripts/sign-module.sh); the Debian kernels load the unsigned
#              module and then raise lockdown to integrity at run time
# and, once per run: the test-bed self-test (tests/host/vmrun-selftest.sh, on
# the first Debian kernel) and the 686-pae lane (scripts/lane686.sh: Debian's
# 32-bit PAE kernel, watched pages in highmem) when no KVER is given or KVER
# includes 686.
#
# Usage: scripts/check.sh [KVER...]   (default: 6.1 6.12 rt 686, and debug if built)
# Environment: UMS_TESTS="tests/guest/10-values.t ..." runs a subset in the guest
#              (no numa, lockdown, self-test or 686 lane then; UMS_LOCKDOWN=1
#              still adds the lockdown boots);
#              UMS_VM_TIMEOUT (default 1500, debug 3600) bounds each guest run;
#              UMS_LOCKDOWN=1|0 forces the lockdown boots on or off;
#              UMS_JOBS guests at once (default: the number of CPUs, at most 4).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2
KVERS=() WANT686=0
if [ $# -eq 0 ]; then
	KVERS=(6.1 6.12 rt)
	WANT686=1
	# The debug kernel (scripts/debugkernel.sh, ~25-40 min to build) joins when it is cached.
	if scripts/kernels.sh vmlinuz debug >/dev/null 2>&1; then
		KVERS+=(debug)
	fi
else
	for k in "$@"; do
		if [ "$k" = 686 ]; then WANT686=1; else KVERS+=("$k"); fi
	done
fi
start=$(date +%s)
declare -A result
fail=0
JD=build/check
rm -rf "$JD"
mkdir -p "$JD" build/kmod build/vm

say() { printf '\n=== %s ===\n' "$*"; }

if [ ${#KVERS[@]} -gt 0 ]; then
	say "fetch kernels: ${KVERS[*]}"
	scripts/kernels.sh fetch "${KVERS[@]}" || { echo "check: kernel fetch failed" >&2; exit 2; }
fi

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

# --- modules: built first, one kernel after the other (seconds each) ----------
built=()
for k in "${KVERS[@]}"; do
	say "kernel $k: build module (W=1, sparse, -Werror)"
	log=build/kmod/$k.build.log
	if ! make --no-print-directory module KVER="$k" W=1 C=1 UMS_WERROR=y >"$log" 2>&1 ||
	   grep -E 'warning:|error:|sparse:' "$log"; then
		cat "$log" >&2
		echo "check: module build for $k failed or warned" >&2
		result[$k]="FAIL (build)"
		fail=1
		continue
	fi
	echo "built build/kmod/$k/module/umsampler.ko, no warnings"
	# kernel-doc of every documented function and struct (the kernel's own checker)
	kdoc="$(make --no-print-directory -s -C "$REPO" KVER="$k" print-kdir 2>/dev/null)/scripts/kernel-doc"
	if [ -f "$kdoc" ] && perl "$kdoc" -none module/*.c module/*.h common/*.c common/*.h 2>&1 | grep .; then
		echo "check: kernel-doc warnings in module/ or common/" >&2
		result[$k]="FAIL (kernel-doc)"
		fail=1
		continue
	fi
	built+=("$k")
done
if [ "$WANT686" = 1 ] && [ -z "${UMS_TESTS:-}" ]; then
	say "kernel 686: fetch and build (scripts/lane686.sh build)"
	if ! scripts/lane686.sh build; then
		result[686]="FAIL (build)"
		fail=1
		WANT686=0
	fi
fi

# --- guest lanes -----------------------------------------------------------------
# The prove output of a guest run: its console log between the markers.
guest_out() {
	sed -n '/UMS-INIT: running/,/UMS-INIT: command finished/p' "$1" | grep -vE '^UMS-INIT' | tr -d '\r'
}

# lane_suite K [numa]: the in-guest suite (or its NUMA part) on K.
lane_suite() {
	local k=$1 numa=${2:-} to tests="" t n=$1 args=() rc
	to=${UMS_VM_TIMEOUT:-1500}
	# KASAN under TCG: ~20-30 s to userspace, kmemleak scans ~1.5 min, the suite ~25 min.
	[ "$k" = debug ] && to=${UMS_VM_TIMEOUT:-3600}
	if [ -n "$numa" ]; then
		n=$k-numa args=(--numa) tests=tests/guest/63-mirror.t
	elif [ -n "${UMS_TESTS:-}" ]; then
		tests=$UMS_TESTS
	else
		for t in tests/guest/*.t; do
			[ "$t" = tests/guest/63-mirror.t ] || tests+="$t "
		done
	fi
	# shellcheck disable=SC2086
	scripts/vmrun --kernel "$k" "${args[@]}" --timeout "$to" --quiet \
		--log "build/vm/$n-console.log" --results "build/vm/results-$n" -- \
		env UMS_KO="$REPO/build/kmod/$k/module/umsampler.ko" UMS_PROGS="$REPO/build/progs" \
		prove -f --nocolor $tests
	rc=$?
	guest_out "build/vm/$n-console.log"
	return $rc
}

# lane_lockdown K: a boot of its own (lockdown cannot be lowered until reboot).
lane_lockdown() {
	local k=$1 ko signed lto largs=() rc
	ko=$REPO/build/kmod/$k/module/umsampler.ko
	if [ "$k" = debug ]; then
		# booted locked down; the module signed with the kernel's key
		signed=$(scripts/sign-module.sh debug "$ko" "$REPO/build/kmod/debug/signed/umsampler.ko") ||
			return 1
		largs=(--append lockdown=integrity --env UMS_LOCKDOWN=boot --env "UMS_KO_SIGNED=$signed")
		lto=${UMS_VM_TIMEOUT:-1200}
	else
		# Debian's signing key is not ours: raise lockdown after insmod
		largs=(--env UMS_LOCKDOWN=runtime)
		lto=${UMS_VM_TIMEOUT:-600}
	fi
	scripts/vmrun --kernel "$k" --timeout "$lto" --quiet --log "build/vm/$k-lockdown-console.log" \
		--results "build/vm/results-$k-lockdown" "${largs[@]}" -- \
		env UMS_KO="$ko" UMS_PROGS="$REPO/build/progs" prove -f --nocolor tests/lockdown/lockdown.t
	rc=$?
	guest_out "build/vm/$k-lockdown-console.log"
	return $rc
}

# The self-test proves the runner, not the kernel: on a Debian kernel (its
# five boots take ~10 min on the debug kernel).
lane_testbed() {
	prove -f --exec bash tests/host/vmrun-selftest.sh :: "$1"
}

lane_686() {
	scripts/lane686.sh run
}

lockdown=${UMS_LOCKDOWN:-1}
[ -z "${UMS_TESTS:-}" ] || lockdown=${UMS_LOCKDOWN:-0}
# Longest first: the suites (debug's ~25 min, the others ~10), then the short boots.
lanes=()
for k in debug 6.1 6.12 rt; do
	for b in "${built[@]}"; do
		[ "$b" != "$k" ] || lanes+=("suite:$k")
	done
done
if [ -z "${UMS_TESTS:-}" ]; then
	for k in "${built[@]}"; do lanes+=("numa:$k"); done
fi
if [ "$lockdown" = 1 ]; then
	for k in "${built[@]}"; do lanes+=("lockdown:$k"); done
fi
if [ "$WANT686" = 1 ] && [ -z "${UMS_TESTS:-}" ]; then
	lanes+=("686:")
fi
if [ -z "${UMS_TESTS:-}" ]; then
	for k in "${built[@]}" 6.1 6.12 rt; do
		if [ "$k" != debug ] && scripts/kernels.sh vmlinuz "$k" >/dev/null 2>&1; then
			lanes+=("testbed:$k")
			break
		fi
	done
fi

# suite:6.1 -> 6.1, numa:6.1 -> 6.1/numa, 686: -> 686, testbed:6.1 -> testbed
lane_name() {
	local kind=${1%%:*} k=${1#*:}
	case "$kind" in
	suite) echo "$k" ;;
	686) echo 686 ;;
	testbed) echo testbed ;;
	*) echo "$k/$kind" ;;
	esac
}

jobs_max=${UMS_JOBS:-$(nproc)}
[ "$jobs_max" -ge 1 ] 2>/dev/null || jobs_max=1
[ -n "${UMS_JOBS:-}" ] || [ "$jobs_max" -le 4 ] || jobs_max=4
say "guest lanes, $jobs_max at a time: ${lanes[*]}"
for l in "${lanes[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
	f=$JD/$(lane_name "$l" | tr / -)
	(
		s=$(date +%s)
		kind=${l%%:*} k=${l#*:}
		case "$kind" in
		suite) lane_suite "$k" ;;
		numa) lane_suite "$k" numa ;;
		lockdown) lane_lockdown "$k" ;;
		686) lane_686 ;;
		testbed) lane_testbed "$k" ;;
		esac
		rc=$?
		echo "$rc $(($(date +%s) - s))" >"$f.rc"
	) >"$f.out" 2>&1 </dev/null &
	echo "check: $(lane_name "$l") started at +$(($(date +%s) - start))s"
done
wait

for l in "${lanes[@]}"; do
	n=$(lane_name "$l")
	f=$JD/$(echo "$n" | tr / -)
	rc=125 secs=?
	[ -f "$f.rc" ] && read -r rc secs <"$f.rc"
	say "$n (exit $rc, ${secs}s)"
	cat "$f.out"
	if [ "$rc" = 0 ]; then
		result[$n]="PASS (${secs}s)"
	else
		result[$n]="FAIL (exit $rc, ${secs}s)"
		fail=1
	fi
done

elapsed=$(($(date +%s) - start))
say "summary"
printf '  %-12s %s\n' host "${result[host]}"
for l in "${lanes[@]}"; do
	n=$(lane_name "$l")
	printf '  %-12s %s\n' "$n" "${result[$n]}"
done
for k in "${KVERS[@]}" 686; do
	case "${result[$k]:-}" in "FAIL ("[bk]*) printf '  %-12s %s\n' "$k" "${result[$k]}" ;; esac
done
names="${KVERS[*]}"
[ "$WANT686" = 1 ] && names+=" 686"
if [ "$fail" -eq 0 ]; then
	echo "check: ALL PASSED (${names# }) in ${elapsed}s"
else
	echo "check: FAILED in ${elapsed}s"
fi
exit "$fail"
