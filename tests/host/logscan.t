#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/host/logscan.t - TAP self-test of scripts/logscan on canned console logs.
#
# Owns: the expectations for tests/host/data/*.log (real guest logs from
# scripts/vmrun runs on 6.1/6.12/rt, and synthetic ones in the same format).
# Host only, no guest. Run with: prove tests/host/logscan.t
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOGSCAN=$HERE/../../scripts/logscan
DATA=$HERE/data

# file | expected exit | text that must appear in the output ("" = none)
CASES=(
	"clean-rt.log|0|"
	"taint-oe-ok.log|0|"
	"taint-o-ok.log|0|"
	"taint-flag-oe-612.log|0|"
	"userspace-noise-ok.log|0|"
	"warn-6.1.log|1|WARNING: CPU: 1 PID: 175 at /work/main/build/splatmod/6.1/splat.c:10"
	"warn-6.1.log|1|UMS-TAINT: 12800"
	"null-6.12.log|1|BUG: kernel NULL pointer dereference, address: 0000000000000000"
	"rcu-stall-6.1.log|1|rcu: INFO: rcu_preempt self-detected stall on CPU"
	"softlockup.log|1|watchdog: BUG: soft lockup - CPU#0 stuck for 22s!"
	"softlockup.log|1|Tainted: G           OEL"
	"gpf-synthetic.log|1|general protection fault, probably for non-canonical address"
	"taint-4608-ow.log|1|UMS-TAINT: 4608"
	"taint-4609-p.log|1|UMS-TAINT: 4609"
	"taint-flag-d.log|1|Tainted: G      D     OE"
	"taint-flag-w-612.log|1|Tainted: [W]=WARN"
	"ansi-interleaved.log|1|WARNING: CPU: 0 PID: 1 at fake/vmrun-selftest.c:1"
	"list-corruption.log|1|list_add corruption"
	"list-corruption.log|1|kernel BUG at lib/list_debug.c:30!"
	"hung-task.log|1|INFO: task umstarget:201 blocked for more than 120 seconds."
	"lockdep.log|1|WARNING: possible circular locking dependency detected"
	"sleeping-atomic.log|1|BUG: sleeping function called from invalid context"
	# debug kernel (config/debug.config): KASAN, lockdep, kmemleak, ODEBUG
	"kasan-uaf-debug.log|1|BUG: KASAN: use-after-free in ums_region_put+0x3c/0x1a0 [umsampler]"
	"kasan-uaf-debug.log|1|UMS-TAINT: 4128"
	"kasan-frame-only.log|1|] =================================================================="
	"kasan-frame-only.log|1|Write of size 4 at addr ffff888104a2c3c8"
	"lockdep-recursive.log|1|WARNING: possible recursive locking detected"
	"lockdep-recursive.log|1|*** DEADLOCK ***"
	"lockdep-inconsistent.log|1|WARNING: inconsistent lock state"
	"lockdep-interleaved.log|1|inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage."
	"rcu-suspicious.log|1|WARNING: suspicious RCU usage"
	"odebug.log|1|ODEBUG: free active (active state 0) object type: hrtimer"
	"kmemleak-printk.log|1|kmemleak: 2 new suspected memory leaks"
	"kmemleak-report.log|1|UMS-KMEMLEAK: unreferenced object 0xffff888103c4a100 (size 64):"
	"kmemleak-report.log|1|UMS-KMEMLEAK: unreferenced object 0xffff888103c4a180 (size 64):"
	"kmemleak-clean-debug.log|0|"
)
for f in "$DATA"/gpf-6.12.log "$DATA"/softlockup-rt.log; do
	[ -f "$f" ] || continue
	case "$f" in
	*gpf*) CASES+=("gpf-6.12.log|1|general protection fault") ;;
	*softlockup*) CASES+=("softlockup-rt.log|1|BUG: soft lockup") ;;
	esac
done

echo "1..$(( ${#CASES[@]} + 3 ))"
n=0
for c in "${CASES[@]}"; do
	IFS='|' read -r file want text <<<"$c"
	n=$((n + 1))
	set +e
	out=$("$LOGSCAN" "$DATA/$file" 2>&1)
	rc=$?
	set -e
	if [ "$rc" != "$want" ]; then
		echo "not ok $n - $file: exit $rc, want $want"
		printf '%s\n' "$out" | sed 's/^/# /'
	elif [ -n "$text" ] && ! printf '%s\n' "$out" | grep -F -- '>>' | grep -qF -- "$text"; then
		echo "not ok $n - $file: excerpt lacks a marked line with '$text'"
		printf '%s\n' "$out" | sed 's/^/# /'
	elif [ "$want" = 0 ] && [ -n "$out" ]; then
		echo "not ok $n - $file: clean log but output printed"
		printf '%s\n' "$out" | sed 's/^/# /'
	else
		echo "ok $n - $file: exit $rc${text:+, shows: $text}"
	fi
done

# excerpt context: 3 lines before, up to 20 after, no \r or escapes
n=$((n + 1))
out=$("$LOGSCAN" "$DATA/warn-6.1.log" || true)
if printf '%s\n' "$out" | grep -q 'splat: deliberate warning' &&
	printf '%s\n' "$out" | grep -q 'Modules linked in: splat(OE+)' &&
	! printf '%s' "$out" | grep -q $'[\r\033]'; then
	echo "ok $n - excerpt has context and is cleaned of CR/ANSI"
else
	echo "not ok $n - excerpt context/cleaning"
fi
n=$((n + 1))
set +e
"$LOGSCAN" "$DATA/does-not-exist.log" >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" = 2 ]; then echo "ok $n - missing file: exit 2"; else echo "not ok $n - missing file: exit $rc, want 2"; fi
n=$((n + 1))
set +e
"$LOGSCAN" --any "$DATA/userspace-noise-ok.log" >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" = 1 ]; then echo "ok $n - --any scans lines without timestamps"; else echo "not ok $n - --any: exit $rc, want 1"; fi
