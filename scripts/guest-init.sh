#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# scripts/guest-init.sh - the guest's /init (busybox sh), installed into the
# initramfs by scripts/vmrun (which rebuilds the initramfs when this file
# changes). Runs as PID 1 in the QEMU guest.
#
# Owns: loading the virtio/9p modules listed in /etc/ums-modules, mounting the
# host root (9p, read-only) and building the prepared root (bind mounts of the
# host's directories, tmpfs on /tmp /run /root /scratch /var/tmp /dev/shm,
# proc/sys/dev/debugfs/tracefs/cgroup2, the /results share, the host
# directories below those tmpfs that the command needs (results/.vmrun/binds:
# cwd, repo, kernel cache) bound back from the host root, then the cached kernel
# modules bound over /lib/modules/$(uname -r)), moving it onto / and running
# /results/.vmrun/cmd.sh in it (not as a chroot: user namespaces work); the
# hang probe 45 s before the host's timeout; then recording the exit status
# (results/.exitcode, "UMS-EXIT: N"), the debug kernel's kmemleak report,
# the taint flags and dmesg, and powering off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "UMS-INIT: $*"; }
off() { sync; poweroff -f; echo o >/proc/sysrq-trigger; sleep 5; reboot -f; }
die() { say "FATAL: $*"; off; }
say "userspace up at $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
while read -r m; do
	[ -n "$m" ] || continue
	insmod "/lib/modules/ums/$m" || die "insmod $m failed"
done </etc/ums-modules
say "modules loaded at $(cut -d' ' -f1 /proc/uptime)s"
O9P="trans=virtio,version=9p2000.L,msize=512000"
mkdir -p /host /newroot
mount -t 9p -o "$O9P,cache=loose,ro" hostroot /host || die "cannot mount host root (9p)"
mount -t tmpfs -o mode=0755 newroot /newroot
cd /host
for e in * .[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	case "$e" in proc|sys|dev|run|tmp|root|results|scratch|lost+found) continue ;; esac
	if [ -L "$e" ]; then
		ln -s "$(readlink "$e")" "/newroot/$e"
	elif [ -d "$e" ]; then
		mkdir "/newroot/$e" && mount --bind "/host/$e" "/newroot/$e" || die "bind /$e"
	fi
done
cd /newroot
mkdir proc sys dev run tmp root results scratch
mount -t proc proc proc
mount -t sysfs sysfs sys
mount -t devtmpfs devtmpfs dev
mkdir -p dev/pts dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts dev/pts
mount -t tmpfs -o mode=1777 shm dev/shm
[ -e dev/fd ] || ln -s /proc/self/fd dev/fd
[ -e dev/stdin ] || ln -s /proc/self/fd/0 dev/stdin
[ -e dev/stdout ] || ln -s /proc/self/fd/1 dev/stdout
[ -e dev/stderr ] || ln -s /proc/self/fd/2 dev/stderr
mount -t debugfs debugfs sys/kernel/debug || say "no debugfs"
mount -t tracefs tracefs sys/kernel/tracing || say "no tracefs"
# QEMU 7.2's multi-threaded TCG can livelock when kernel text that another
# vCPU keeps executing is patched (text_poke_bp): seen in 6.1 guests as a vCPU
# looping on a stale int3 in __schedule while the patching CPU waits for its
# IPI (soft lockup, then the guest timeout) right after a test enabled an
# event. Every event enable/disable starts/stops the cmdline recorder, which
# (un)registers probes on sched_switch/sched_wakeup and so re-patches
# __schedule and try_to_wake_up. An idle instance (tracing_on 0) with those
# events on keeps two probes on each for the whole run, so those hot call
# sites are patched once, before the command, and never again.
pin=sys/kernel/tracing/instances/vmrun-pin
if mkdir "$pin" 2>/dev/null; then
	echo 0 >"$pin/tracing_on"
	for e in sched_switch sched_wakeup sched_wakeup_new; do
		echo 1 >"$pin/events/sched/$e/enable" 2>/dev/null || say "cannot pin sched/$e"
	done
fi
mount -t cgroup2 cgroup2 sys/fs/cgroup 2>/dev/null || true
# Fresh tmpfs with the usual modes (as on Debian hosts: /tmp and /var/tmp
# 1777, /run 0755); /root gets the host /root's mode (0700 on Debian).
rootmode=$(stat -c %a /host/root 2>/dev/null) || rootmode=700
mount -t tmpfs -o mode=1777 tmp tmp
mount -t tmpfs -o mode=0755 run run
mount -t tmpfs -o "mode=0$rootmode" root root
mount -t tmpfs -o mode=1777 scratch scratch
[ -d var/tmp ] && mount -t tmpfs -o mode=1777 vartmp var/tmp
mount -t 9p -o "$O9P,cache=none" results results || die "cannot mount results share (9p)"
[ -f results/.vmrun/cmd.sh ] || die "no /results/.vmrun/cmd.sh"
# Host directories the command needs that those tmpfs hide (scripts/vmrun
# lists them: the cwd, the repo, the kernel cache; outermost first), bound
# from the host root onto the same paths (read-only, like the rest). The
# directories leading to them are made on the tmpfs with the host's owner and
# mode plus search permission for everyone, and /root gets that search
# permission too (0700 -> 0711) when something is bound below it: the tests
# run the repo's programs as non-root users (setpriv, su nobody), who must
# reach them as they do on the host outside /root; they still cannot list
# /root or the directories on the way.
mkdir_host_like() { # /PATH: make its missing directories in the new root
	(
		set -f
		IFS=/
		p=""
		for c in ${1#/}; do
			p="$p/$c"
			[ ! -d "/newroot$p" ] || continue
			mkdir "/newroot$p" || exit 1
			chown "$(stat -c %u:%g "/host$p")" "/newroot$p"
			chmod "$(stat -c %a "/host$p")" "/newroot$p"
			chmod a+x "/newroot$p"
		done
	)
}
if [ -s results/.vmrun/binds ]; then
	while IFS= read -r p; do
		[ -n "$p" ] || continue
		[ -d "/host$p" ] || die "bind $p: no such directory on the host"
		case "$p" in /root/*) chmod a+x root ;; esac
		mkdir_host_like "$p" && mount --bind "/host$p" "/newroot$p" || die "cannot bind $p"
		say "bound host $p"
	done <results/.vmrun/binds
fi
rel=$(uname -r)
moddir=$(cat results/.vmrun/moddir 2>/dev/null)
if [ -n "$moddir" ] && [ -d "/newroot$moddir" ] && [ -d "/newroot/lib/modules/$rel" ]; then
	mount --bind "/newroot$moddir" "/newroot/lib/modules/$rel" || say "cannot bind $moddir"
fi
echo 1 >/proc/sys/kernel/printk_devkmsg 2>/dev/null
# Debug kernel: forget what kmemleak would report from boot (not ours).
if [ -w /newroot/sys/kernel/debug/kmemleak ]; then
	echo scan >/newroot/sys/kernel/debug/kmemleak
	echo clear >/newroot/sys/kernel/debug/kmemleak
	say "kmemleak baseline cleared at $(cut -d' ' -f1 /proc/uptime)s"
fi
# Make the prepared root the real root: move its mount (with every mount below
# it) onto /, on top of the initramfs. This shell keeps the initramfs as its
# root (a path walk starts at the root dentry and does not follow the mount now
# stacked on it), so it still runs its busybox; its cwd stays the moved mount,
# so from here on that root is "." (relative paths). The command is started
# with chroot ".", i.e. at the mount on top of the namespace root: for the
# kernel that is not a chroot (current_chrooted() is false), so user
# namespaces work in tests. A plain `chroot /newroot` would make
# unshare(CLONE_NEWUSER) fail with EPERM.
cd /newroot || die "cd /newroot"
mount -o move /newroot / || die "cannot move the prepared root onto /"
[ -f results/.vmrun/cmd.sh ] || die "prepared root not visible after the move"
# Hang probe (see "hang diagnosis" in scripts/vmrun): 45 s before the host
# kills the guest, show blocked tasks, every CPU's backtrace and the process
# list on the console. `kill -TERM -1` below ends it when the command is done.
to=$(cat results/.vmrun/timeout 2>/dev/null)
up=$(cut -d. -f1 /proc/uptime)
grep ' [tTwW] ' /proc/kallsyms >results/.vmrun/kallsyms 2>/dev/null &
if [ -n "$to" ] && [ "$to" -gt $((up + 90)) ]; then
	(
		sleep $((to - up - 45))
		grep ' [tTwW] ' /proc/kallsyms >results/.vmrun/kallsyms 2>/dev/null
		echo 8 >/proc/sys/kernel/printk
		say "watchdog: command still running at $(cut -d' ' -f1 /proc/uptime)s," \
			"45 s before the ${to}s timeout: blocked tasks, CPU backtraces, processes"
		echo w >/proc/sysrq-trigger
		echo l >/proc/sysrq-trigger
		ps -o pid,ppid,stat,time,args 2>/dev/null || ps
		say "watchdog: end"
	) &
fi
say "running command at $(cut -d' ' -f1 /proc/uptime)s"
chroot . /usr/bin/env -i /bin/bash --noprofile --norc /results/.vmrun/cmd.sh </dev/null
rc=$?
echo "$rc" >results/.exitcode
sync
say "command finished at $(cut -d' ' -f1 /proc/uptime)s"
echo "UMS-EXIT: $rc"
kill -TERM -1 2>/dev/null; sleep 0.2; kill -KILL -1 2>/dev/null
# Debug kernel (CONFIG_DEBUG_KMEMLEAK, no auto scan): two scans a few seconds
# apart (kmemleak reports objects only once they are >5 s old and stayed
# unreferenced), then every suspected leak goes to the console as
# "UMS-KMEMLEAK: ..." lines, which scripts/logscan fails on. Leaks already
# present before the command were cleared (scan + clear) before it ran.
kml=sys/kernel/debug/kmemleak
# Under lockdown debugfs refuses kmemleak (a file with a write bit): say so.
if [ -w "$kml" ] && ! { echo scan >"$kml"; } 2>/dev/null; then
	say "kmemleak: not usable (lockdown refuses debugfs files with a write bit); no leak scan"
elif [ -w "$kml" ]; then
	say "kmemleak scan at $(cut -d' ' -f1 /proc/uptime)s"
	sleep 6; echo scan >"$kml"
	sed 's/^/UMS-KMEMLEAK: /' "$kml"
	say "kmemleak scan done at $(cut -d' ' -f1 /proc/uptime)s"
fi
echo "UMS-TAINT: $(cat /proc/sys/kernel/tainted)"
dmesg -s 8388608 >results/dmesg.log 2>/dev/null
sync
umount results 2>/dev/null
off
