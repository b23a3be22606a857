#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/host/vmrun-selftest.sh - TAP self-test of the QEMU test bed (scripts/vmrun).
#
# Owns: proving on one kernel that the runner passes exit codes through, that
# a kernel WARNING in the guest console fails the run, that the command
# runs in a real root, not a chroot (user namespaces work), that a run
# that hangs times out (exit 124) naming where each vCPU is, that host
# directories below the guest's tmpfs /tmp (--bind, as vmrun does for the cwd,
# repo and cache) are shown there and reachable by a non-root user, and that
# a cwd the guest cannot show is refused (exit 2, no boot). Boots the guest
# six times (the hang run has a 45 s timeout). Not run by `prove tests/host/`
# (no .t suffix) because it is slow; run it explicitly:
#   tests/host/vmrun-selftest.sh [KVER]      (KVER: 6.1 (default), 6.12, rt)
set -euo pipefail

case "${1:-}" in -h | --help) sed -n '3,10p' "$0"; exit 0 ;; esac
KVER=${1:-6.1}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMRUN=$ROOT/scripts/vmrun
OUT=$ROOT/build/vm/selftest-$KVER
mkdir -p "$OUT"
cd "$ROOT"

run() { # name, vmrun args... ; sets RC, output in $OUT/name.out
	local name=$1
	shift
	set +e
	"$VMRUN" --kernel "$KVER" --quiet --timeout 300 --log "$OUT/$name.log" \
		--results "$OUT/results-$name" "$@" >"$OUT/$name.out" 2>&1
	RC=$?
	set -e
}
diag() { sed 's/^/# /' "$1"; }

echo "1..7"

run true -- true
if [ "$RC" = 0 ]; then
	echo "ok 1 - $KVER: vmrun -- true exits 0"
else
	echo "not ok 1 - $KVER: vmrun -- true exited $RC"
	diag "$OUT/true.out"
fi

run false -- false
if [ "$RC" = 1 ]; then
	echo "ok 2 - $KVER: vmrun -- false exits 1"
else
	echo "not ok 2 - $KVER: vmrun -- false exited $RC, want 1"
	diag "$OUT/false.out"
fi

# A line in the kernel log (via /dev/kmsg, so it gets a printk timestamp on
# the guest console) must fail the run even though the command exits 0.
MARK="WARNING: CPU: 0 PID: 1 at vmrun-selftest/fake.c:1 selftest+0x0/0x1"
run kmsg-warn -- sh -c "echo '$MARK' >/dev/kmsg"
if [ "$RC" = 3 ] && grep -qF ">> " "$OUT/kmsg-warn.out" && grep -qF "$MARK" "$OUT/kmsg-warn.out" &&
	grep -q '^UMS-EXIT: 0' <(tr -d '\r' <"$OUT/kmsg-warn.log"); then
	echo "ok 3 - $KVER: kernel WARNING in the console fails the run (exit 3, excerpt shown)"
else
	echo "not ok 3 - $KVER: kernel WARNING run exited $RC, want 3 with excerpt"
	diag "$OUT/kmsg-warn.out"
fi

# The command must run in a real root: in a chroot the kernel refuses
# unshare(CLONE_NEWUSER) with EPERM (65-security.t needs user namespaces).
run userns -- unshare --user --map-root-user sh -c 'test "$(id -u)" = 0 && echo userns-ok'
if [ "$RC" = 0 ] && grep -q '^userns-ok' <(tr -d '\r' <"$OUT/userns.log"); then
	echo "ok 4 - $KVER: the command runs in a real root (unshare --user works)"
else
	echo "not ok 4 - $KVER: unshare --user in the guest exited $RC, want 0"
	diag "$OUT/userns.out"
fi

# A hang: the run is killed at its timeout with exit 124, and shows where each
# vCPU was (QEMU monitor registers, RIP named from the guest's kallsyms).
# Two vCPUs whatever the kernel (rt gets one by default).
run hang --timeout 45 --smp 2 -- sleep 600
if [ "$RC" = 124 ] && grep -q 'vmrun: TIMEOUT' "$OUT/hang.out" &&
	grep -Eq '^vmrun: hang: vCPU 0 RIP [0-9a-f]+ [A-Za-z_][A-Za-z0-9_.]*\+0x' "$OUT/hang.out" &&
	grep -Eq '^vmrun: hang: vCPU 1 RIP ' "$OUT/hang.out"; then
	echo "ok 5 - $KVER: a hung run times out (exit 124) naming each vCPU's RIP"
else
	echo "not ok 5 - $KVER: hung run exited $RC, want 124 with vCPU RIPs named"
	diag "$OUT/hang.out"
fi

# A host directory below /tmp (tmpfs in the guest): bound from the host root,
# the directory on the way (mktemp's 0700) made with the host's mode plus
# search for all, so a non-root user reaches the files below, as the tests'
# setpriv/su users must reach a repo cloned under /root or /tmp.
B=$(mktemp -d /tmp/vmrun-selftest.XXXXXX)
mkdir "$B/sub"
echo bind-ok >"$B/sub/f"
chmod 755 "$B/sub"
chmod 644 "$B/sub/f"
run bind --bind "$B/sub" -- sh -c "cat '$B/sub/f' && stat -c %a '$B' &&
	setpriv --reuid=65534 --regid=65534 --clear-groups cat '$B/sub/f'"
if [ "$RC" = 0 ] && [ "$(tr -d '\r' <"$OUT/bind.log" | grep -c '^bind-ok$')" = 2 ] &&
	grep -q '^711$' <(tr -d '\r' <"$OUT/bind.log"); then
	echo "ok 6 - $KVER: a host dir below /tmp is shown in the guest (--bind), also to a non-root user"
else
	echo "not ok 6 - $KVER: --bind $B/sub run exited $RC, want 0, the file read twice and mode 711 on the way"
	diag "$OUT/bind.out"
fi
rm -rf "$B"

# A cwd the guest cannot show: a usage error before any boot.
set +e
(cd /proc && "$VMRUN" --kernel "$KVER" -- true) >"$OUT/cwd.out" 2>&1
RC=$?
set -e
if [ "$RC" = 2 ] && grep -q 'cwd /proc' "$OUT/cwd.out"; then
	echo "ok 7 - $KVER: a cwd under /proc is refused (exit 2)"
else
	echo "not ok 7 - $KVER: vmrun from /proc exited $RC, want 2"
	diag "$OUT/cwd.out"
fi
