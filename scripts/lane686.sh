#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/lane686.sh - the 686-pae lane: Debian bookworm's 32-bit PAE kernel
# (linux-image-686-pae) with 3 GiB of RAM, so that user pages live in highmem
# (above the kernel's ~890 MiB direct map) and every sampled byte is read
# through kmap_local_page() of a page that has no permanent kernel mapping.
#
# Owns: resolving the i386 kernel ABI (apt-cache, meta-package
# linux-image-686-pae:i386), downloading (never installing) the image, its
# headers (-686-pae, -common) and linux-kbuild-6.1:i386 and busybox-static:i386
# into the cache and extracting them; making the extracted headers usable
# where they are (their Makefile includes the -common tree by absolute
# /usr/src path); cross-building the module there (ARCH=i386, W=1 C=1
# UMS_WERROR=y, zero warnings, objects in build/kmod/686); the i386 userspace
# (tests/progs/umstarget.c, umschain.c and tests/i386/ums386.c built
# -m32 -static into build/progs32); the initramfs (i386 busybox as /init =
# scripts/guest686-init.sh, the module, the programs, tests/i386/suite.sh,
# tests/data/bad-lines.txt); booting it in qemu-system-i386 under a hard
# timeout; taking the TAP and exit status from the serial console log; and
# scanning that log with scripts/logscan.
#
# Usage: scripts/lane686.sh [fetch|build|run|all]   (default: all)
#   fetch   resolve + download + extract (cached; works offline once cached)
#   build   fetch, then the module and the i386 programs
#   run     build, then boot and run the suite (exit 0 only if every TAP test
#           passed, the guest exited 0 and the log scan is clean)
# Environment: UMS_686_TIMEOUT (default 600 s; the run takes 20-60 s, 140 s
#   on a host with four busy loops on two cores) bounds the guest run;
#   UMS_686_MEM (default 3G) the guest memory; UMS_CACHE / XDG_CACHE_HOME
#   as scripts/kernels.sh (cache: <cache>/kernels/686).
# Host needs: dpkg --add-architecture i386 + apt-get update (for the
#   downloads), qemu-system-x86 (qemu-system-i386), gcc-multilib (-m32
#   -static, and libc6-i386, which runs the i386 kbuild tools), sparse.
# Outputs: build/vm/686-console.log (the whole console), build/vm/686.tap.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
CACHE=${UMS_CACHE:-${XDG_CACHE_HOME:-$REPO/build/cache}}/kernels/686
VMDIR=$REPO/build/vm
KMOD=$REPO/build/kmod/686
PROGS=$REPO/build/progs32
TIMEOUT=${UMS_686_TIMEOUT:-600}
MEM=${UMS_686_MEM:-3G}
APT_OPTS=(-q -o APT::Sandbox::User=root)

die() { echo "lane686: $*" >&2; exit 125; }
note() { echo "lane686: $*" >&2; }

# --- fetch ------------------------------------------------------------------
resolve_release() {
	local pkg
	pkg=$(apt-cache depends linux-image-686-pae:i386 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ :]*-686-pae\)\(:i386\)\?$/\1/p' |
		sort -V | tail -n 1)
	[ -n "$pkg" ] && echo "$pkg"
}

extraction_ok() {
	local t=$CACHE/$1
	[ -f "$t/.complete" ] && [ -f "$t/boot/vmlinuz-$1" ] && [ -x "$t/bin/busybox" ] &&
		[ -f "$t/usr/src/linux-headers-$1/Module.symvers" ] &&
		[ -x "$t/usr/lib/linux-kbuild-6.1/scripts/basic/fixdep" ]
}

fetch() {
	local rel cached="" ver abi tmp
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	[ -f "$CACHE/release" ] && cached=$(<"$CACHE/release")
	rel=$(resolve_release) || rel=""
	if [ -z "$rel" ]; then
		[ -n "$cached" ] || die "cannot resolve linux-image-686-pae:i386 (run: dpkg --add-architecture i386 && apt-get update) and nothing is cached"
		note "apt-cache resolution failed; using cached $cached"
		rel=$cached
	fi
	if [ "$rel" != "$cached" ] || ! extraction_ok "$rel"; then
		abi=${rel%-686-pae}
		tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
		if ! ls "$CACHE/debs/linux-image-${rel}_"*.deb >/dev/null 2>&1; then
			ver=$(apt-cache show "linux-image-$rel:i386" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n 1)
			[ -n "$ver" ] || die "no version for linux-image-$rel:i386"
			note "downloading linux-image-$rel ($ver) and its headers, kbuild, busybox (i386)"
			mkdir -p "$tmp/debs"
			(cd "$tmp/debs" && apt-get download "${APT_OPTS[@]}" "linux-image-$rel:i386=$ver" \
				"linux-headers-$rel:i386=$ver" "linux-headers-$abi-common=$ver" \
				"linux-kbuild-6.1:i386=$ver" busybox-static:i386 >&2) ||
				{ rm -rf "$tmp"; die "apt-get download failed"; }
			rm -rf "$CACHE/debs"
			mv "$tmp/debs" "$CACHE/debs"
		fi
		mkdir "$tmp/x"
		for d in "$CACHE"/debs/*.deb; do dpkg-deb -x "$d" "$tmp/x"; done
		[ -f "$tmp/x/boot/vmlinuz-$rel" ] || die "no boot/vmlinuz-$rel in the image"
		# The headers' Makefile includes the -common tree by its installed
		# path; point it at the extracted one (scripts/ and tools/ are
		# relative symlinks into usr/lib/linux-kbuild-6.1 already).
		echo "include $CACHE/$rel/usr/src/linux-headers-$abi-common/Makefile" \
			>"$tmp/x/usr/src/linux-headers-$rel/Makefile"
		touch "$tmp/x/.complete"
		rm -rf "${CACHE:?}/$rel"
		mv "$tmp/x" "$CACHE/$rel"
		rm -rf "$tmp"
		echo "$rel" >"$CACHE/release"
		[ -z "$cached" ] || [ "$cached" = "$rel" ] || rm -rf "${CACHE:?}/$cached"
	fi
	exec 9>&-
	REL=$rel
	KDIR=$CACHE/$rel/usr/src/linux-headers-$rel
	note "$rel ready"
}

# --- build --------------------------------------------------------------------
build() {
	local log=$REPO/build/kmod/686.build.log f
	mkdir -p "$KMOD/module" "$KMOD/common" "$PROGS"
	find "$KMOD" -xtype l -delete
	ln -sfn "$REPO/Kbuild" "$KMOD/Kbuild"
	for f in module/Kbuild module/*.c module/*.h common/*.c common/*.h; do
		ln -sfn "$REPO/$f" "$KMOD/$f"
	done
	if ! make --no-print-directory -C "$KDIR" ARCH=i386 M="$KMOD" W=1 C=1 UMS_WERROR=y \
		modules >"$log" 2>&1 || grep -E 'warning:|error:|sparse:' "$log"; then
		cat "$log" >&2
		die "module build for $REL failed or warned ($log)"
	fi
	note "built build/kmod/686/module/umsampler.ko ($REL, i386), no warnings"
	local cflags=(-std=gnu11 -O2 -g -Wall -Wextra -Werror -m32 -static)
	local out
	for f in tests/progs/umstarget.c tests/progs/umschain.c tests/i386/ums386.c; do
		out=$PROGS/$(basename "$f" .c)
		if [ ! -x "$out" ] || [ "$f" -nt "$out" ] || [ include/umsampler_seq.h -nt "$out" ]; then
			gcc "${cflags[@]}" -o "$out" "$f" -lpthread || die "building $f -m32 -static failed"
		fi
	done
	note "built build/progs32: umstarget umschain ums386 (-m32 -static)"
}

# --- run ----------------------------------------------------------------------
initramfs() {
	local out=$1 t
	t=$(mktemp -d "$VMDIR/.initramfs686.XXXXXX")
	mkdir -p "$t/bin" "$t/proc" "$t/sys" "$t/dev" "$t/tmp" "$t/ums/progs"
	cp "$CACHE/$REL/bin/busybox" "$t/bin/busybox"
	cp scripts/guest686-init.sh "$t/init"
	chmod 755 "$t/init"
	cp "$KMOD/module/umsampler.ko" tests/i386/suite.sh tests/data/bad-lines.txt "$t/ums/"
	cp "$PROGS/umstarget" "$PROGS/umschain" "$PROGS/ums386" "$t/ums/progs/"
	(cd "$t" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$out" ||
		die "cpio failed"
	rm -rf "$t"
}

run() {
	local log=$VMDIR/686-console.log tap=$VMDIR/686.tap initrd=$VMDIR/initramfs-686.cpio
	local start end qrc rc scan=0 gto
	mkdir -p "$VMDIR"
	exec 8>"$VMDIR/.lane686.lock"
	flock -w "$TIMEOUT" 8 || die "another lane686 run holds $VMDIR/.lane686.lock"
	initramfs "$initrd"
	gto=$((TIMEOUT - 60))
	local cmdline="console=ttyS0,115200 loglevel=5 printk.time=1 panic=-1 panic_on_warn=0"
	cmdline+=" softlockup_panic=0 rdinit=/init ums686.timeout=$gto"
	note "booting $REL in qemu-system-i386 (TCG, 2 vCPUs, $MEM), log $log, timeout ${TIMEOUT}s"
	start=$(date +%s)
	set +e
	timeout -k 10 "$TIMEOUT" qemu-system-i386 -accel tcg,thread=single -cpu max,vendor=GenuineIntel -smp 2 -m "$MEM" \
		-nographic -nodefaults -no-user-config -no-reboot \
		-kernel "$CACHE/$REL/boot/vmlinuz-$REL" -initrd "$initrd" -append "$cmdline" \
		-chardev stdio,id=ser0,signal=off -serial chardev:ser0 </dev/null >"$log" 2>&1
	qrc=$?
	set -e
	end=$(date +%s)
	tr -d '\r' <"$log" | sed -n '/^UMS686-TAP-BEGIN$/,/^UMS686-TAP-END$/p' | sed '1d;$d' >"$tap"
	rc=$(tr -d '\r' <"$log" | sed -n 's/^UMS686-EXIT: \([0-9]*\)$/\1/p' | tail -n 1)
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		tail -n 60 "$log" | tr -d '\r' >&2
		"$REPO/scripts/logscan" "$log" >&2 || true
		die "TIMEOUT: the 686 guest did not finish within ${TIMEOUT}s"
	fi
	if [ -z "$rc" ] || [ ! -s "$tap" ]; then
		tail -n 60 "$log" | tr -d '\r' >&2
		"$REPO/scripts/logscan" "$log" >&2 || true
		die "the guest died without reporting (qemu rc=$qrc)"
	fi
	# the TAP through prove (its summary is what CI reads)
	local prc=0
	prove -v --nocolor --exec cat "$tap" || prc=$?
	"$REPO/scripts/logscan" "$log" >&2 || scan=1
	grep '^# proof:' "$tap" | head -n 3 >&2 || true
	note "kernel $REL: suite exit $rc, prove $prc, log scan $([ $scan = 0 ] && echo clean || echo DIRTY), $((end - start))s"
	[ "$rc" = 0 ] && [ "$prc" = 0 ] && [ "$scan" = 0 ]
}

cmd=${1:-all}
case "$cmd" in
fetch) fetch ;;
build) fetch; build ;;
run | all) fetch; build; run ;;
-h | --help) sed -n '3,35p' "$0" | sed 's/^# \{0,1\}//' ;;
*) echo "usage: scripts/lane686.sh [fetch|build|run|all]" >&2; exit 2 ;;
esac
