#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# scripts/guest686-init.sh - /init of the 686-pae lane's initramfs
# (scripts/lane686.sh): PID 1 in a 32-bit QEMU guest. Everything the suite
# needs is in the initramfs (i386 busybox, the module, the -m32 -static test
# programs, tests/i386/suite.sh, the bad-lines table under /ums), so no host
# filesystem is mounted. Runs the suite with its TAP in /tmp/tap (and live on
# the console), then prints the whole TAP again between UMS686-TAP-BEGIN and
# UMS686-TAP-END with the console loglevel lowered (no kernel line inside),
# the taint flags (UMS-TAINT, for scripts/logscan) and "UMS686-EXIT: N", and
# powers off. The host reads all of it from the serial console log.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/tmp TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /tmp /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777 tmp /tmp
say() { echo "UMS686-INIT: $*"; }
off() { sync; poweroff -f; echo o >/proc/sysrq-trigger; sleep 5; reboot -f; }
say "userspace up at $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r) $(uname -m)"
echo 1 >/proc/sys/kernel/sysrq
to=$(sed -n 's/.*ums686.timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
to=${to:-900}
say "running the suite at $(cut -d' ' -f1 /proc/uptime)s (guest timeout ${to}s)"
(
	timeout "$to" sh /ums/suite.sh
	echo $? >/tmp/rc
) 2>&1 | tee /tmp/tap
rc=$(cat /tmp/rc 2>/dev/null)
rc=${rc:-125}
if [ "$rc" -ge 124 ]; then
	say "suite timed out or died (rc $rc): blocked tasks, processes"
	echo w >/proc/sysrq-trigger
	ps
fi
say "suite finished at $(cut -d' ' -f1 /proc/uptime)s, exit $rc"
dmesg -n 1
echo UMS686-TAP-BEGIN
cat /tmp/tap
echo UMS686-TAP-END
echo "UMS-TAINT: $(cat /proc/sys/kernel/tainted)"
echo "UMS686-EXIT: $rc"
off
