#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/pkgtest.sh - the CI packaging lane (.ci/run runs it as root after
# `make check`; it installs packages and runs dkms on the machine, so it is not
# part of `make check`):
#   1. builds the Debian packages (`dpkg-buildpackage -b -us -uc`) from a copy of
#      the tree (git's tracked and untracked, not ignored files) in a scratch
#      dir, so the checkout is not touched, and checks their contents;
#   2. lintian --fail-on error;
#   3. apt-get installs umsampler-dkms and umsampler-tools (the postinst's DKMS
#      build for the running kernel, whose headers are absent, must not fail);
#   4. for each test kernel K: `dkms build` against K's headers
#      (scripts/kernels.sh kdir K), then boots K (scripts/vmrun) with the
#      DKMS-built module (decompressed if DKMS compressed it) and runs
#      tests/guest/00-load.t and 10-values.t with it, plus this script's own
#      guest part: the installed tools (/usr/bin/umsampler, the plugin found by
#      trace-cmd in its system plugin dir, the perf script through
#      `umsampler csv perf.data`);
#   5. apt-get purges both packages and checks that the DKMS tree, the module
#      source, the installed modules and the udev rule are gone.
# Prints a summary with each phase's time; exits non-zero on any failure.
#
# Usage: scripts/pkgtest.sh [KVER...]       (default: 6.1 6.12 rt)
# Environment: UMS_PKG_DIR   scratch dir (default build/pkg; emptied first)
#              UMS_PKG_KEEP=1 leave the packages installed at the end
#              UMS_VM_TIMEOUT guest timeout per kernel (default 600 s)
# Inside the guest (run by vmrun, not by hand):
#   scripts/pkgtest.sh --guest-tools KO PROGS PLUGIN   the tools check, TAP
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2

# ---- in the guest: the installed tools, as TAP -------------------------------------

guest_tools() {
	local ko=$1 progs=$2 plugin=$3 n=0 fail=0 tmp tpid="" out
	local D=/sys/kernel/debug/umsampler
	tmp=$(mktemp -d)
	ok() { n=$((n + 1)); echo "ok $n - $*"; }
	nok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }
	t() { local d=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$d"; else nok "$d"; sed 's/^/# /' "$tmp/out" | head -20; fi; }
	# trace-cmd and perf must find nothing but the system-wide plugin dir
	unset TRACEEVENT_PLUGIN_DIR
	export HOME=$tmp/home
	trap 'kill $tpid 2>/dev/null; wait 2>/dev/null; rmmod umsampler 2>/dev/null; rm -rf "$tmp"' EXIT
	echo "1..11"
	t '/usr/bin/umsampler --help' sh -c '/usr/bin/umsampler --help | grep -q "^usage: umsampler COMMAND"'
	t "insmod the DKMS-built module ($ko)" insmod "$ko"
	mkfifo "$tmp/cmd"
	"$progs/umstarget" --tick-us 20000 --cmd "$tmp/cmd" >"$tmp/target" &
	tpid=$!
	for _ in $(seq 100); do grep -q '^ready' "$tmp/target" && break; sleep 0.1; done
	t 'umsampler add PID counter (by symbol, ELF + DWARF)' \
		/usr/bin/umsampler add "$tpid" counter --period 10ms
	t 'umsampler list shows counter' sh -c "/usr/bin/umsampler list | grep -q ' counter '"
	t 'umsampler record (trace-cmd)' /usr/bin/umsampler record -o "$tmp/t.dat" --duration 1s
	# The kernel's own format of a batch names no region: name=... comes from the plugin.
	out=$(trace-cmd report -i "$tmp/t.dat" 2>&1)
	if grep -qE 'name=counter seq=[0-9]+ value=[0-9]+' <<<"$out"; then
		ok "trace-cmd report decodes values with $plugin (system plugin dir)"
	else
		nok "trace-cmd report decodes values with $plugin (system plugin dir)"
		head -20 <<<"$out" | sed 's/^/# /'
	fi
	t 'umsampler csv trace.dat' sh -c "/usr/bin/umsampler csv '$tmp/t.dat' | grep -qE '^[0-9]+,[0-9]+,counter,'"
	if command -v perf >/dev/null 2>&1; then
		t 'perf record -e umsampler:batch -e umsampler:region' \
			perf record -q -e umsampler:batch -e umsampler:region -a -o "$tmp/p.data" -- \
			sh -c "sleep 0.5; echo sync > $D/control; sleep 1"
		# /usr/bin/umsampler finds /usr/share/umsampler/umsampler-perf.py
		t 'umsampler csv perf.data (perf script -s /usr/share/umsampler/umsampler-perf.py)' \
			sh -c "/usr/bin/umsampler csv '$tmp/p.data' | grep -qE '^[0-9]+,[0-9]+,counter,'"
		t "perf script with TRACEEVENT_PLUGIN_DIR=${plugin%/*}" sh -c \
			"TRACEEVENT_PLUGIN_DIR='${plugin%/*}' perf script -i '$tmp/p.data' | grep -qE 'name=counter seq=[0-9]+ value='"
	else
		for _ in 1 2 3; do n=$((n + 1)); echo "ok $n # skip perf not installed"; done
	fi
	t 'umsampler del counter' /usr/bin/umsampler del counter
	kill "$tpid"
	wait "$tpid" 2>/dev/null
	tpid=""
	exit $fail
}

if [ "${1:-}" = --guest-tools ]; then
	[ $# -eq 4 ] || { echo "usage: $0 --guest-tools KO PROGS PLUGIN" >&2; exit 2; }
	guest_tools "$2" "$3" "$4"
fi

# ---- on the host ----------------------------------------------------------------------

KVERS=("$@")
[ ${#KVERS[@]} -gt 0 ] || KVERS=(6.1 6.12 rt)
PKG=${UMS_PKG_DIR:-$REPO/build/pkg}
start=$(date +%s)
phase_start=$start
declare -a summary
fail=0
installed=0
export DEBIAN_FRONTEND=noninteractive

say() { printf '\n=== pkgtest: %s ===\n' "$*"; }
die() { echo "pkgtest: FAILED: $*" >&2; fail=1; exit 1; }
# end of a phase: its time in the summary
phase() {
	local now
	now=$(date +%s)
	summary+=("$(printf '%-44s %4ds' "$1" $((now - phase_start)))")
	phase_start=$now
}
purge() {
	apt-get -o DPkg::Lock::Timeout=600 purge -y -q umsampler-dkms umsampler-tools >"$PKG/purge.log" 2>&1
}
on_exit() {
	local rc=$?
	if [ "$installed" = 1 ] && [ "${UMS_PKG_KEEP:-0}" != 1 ]; then
		echo "pkgtest: purging the packages after a failure" >&2
		purge || tail -20 "$PKG/purge.log" >&2
	fi
	[ "$rc" -eq 0 ] || echo "pkgtest: FAILED after $(($(date +%s) - start))s (logs in $PKG)" >&2
}
trap on_exit EXIT

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and runs dkms)"
for c in dpkg-buildpackage lintian dkms apt-get fakeroot; do
	command -v "$c" >/dev/null || die "$c not installed (bash .ci/run installs it)"
done

# A previous run that died may have left them installed.
if dpkg -s umsampler-dkms >/dev/null 2>&1 || dpkg -s umsampler-tools >/dev/null 2>&1; then
	echo "pkgtest: purging umsampler packages left installed"
	mkdir -p "$PKG"
	purge || die "apt-get purge of the old packages failed (see $PKG/purge.log)"
fi

# ---- 1. build -------------------------------------------------------------------------
say "build the packages"
rm -rf "$PKG"
mkdir -p "$PKG/src"
VER=$(dpkg-parsechangelog -l debian/changelog -SVersion) || die "cannot read debian/changelog"
SRC=$PKG/src/umsampler-$VER
mkdir -p "$SRC"
# The tree as a clean clone would have it: tracked and untracked (not ignored) files.
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$REPO" ls-files -z -c -o --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$SRC" || die "copying the tree failed"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$SRC" || die "copying the tree failed"
fi
(cd "$SRC" && find . -print | sort) >"$PKG/tree.before"
if ! (cd "$SRC" && dpkg-buildpackage -b -us -uc) >"$PKG/build.log" 2>&1; then
	tail -40 "$PKG/build.log"
	die "dpkg-buildpackage failed (log: $PKG/build.log)"
fi
DKMS_DEB=$PKG/src/umsampler-dkms_${VER}_all.deb
TOOLS_DEB=$(find "$PKG/src" -maxdepth 1 -name "umsampler-tools_${VER}_*.deb" | head -n 1)
CHANGES=$(find "$PKG/src" -maxdepth 1 -name "umsampler_${VER}_*.changes" | head -n 1)
[ -f "$DKMS_DEB" ] && [ -f "$TOOLS_DEB" ] && [ -f "$CHANGES" ] ||
	die "dpkg-buildpackage made no umsampler-dkms/umsampler-tools .deb or .changes"
ls -l "$PKG"/src/*.deb
# debian/rules clean leaves the tree as it was (and the build wrote nothing else there).
(cd "$SRC" && debian/rules clean) >>"$PKG/build.log" 2>&1 || die "debian/rules clean failed"
(cd "$SRC" && find . -print | sort) >"$PKG/tree.after"
diff "$PKG/tree.before" "$PKG/tree.after" ||
	die "the build and debian/rules clean left files in the source tree (above)"
# What each package must hold.
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
PLUGIN=/usr/lib/$MULTIARCH/traceevent/plugins/plugin_umsampler.so
check_deb() {
	local deb=$1 list p
	shift
	list=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's,^\./,/,')
	for p in "$@"; do
		grep -qxF "$p" <<<"$list" || die "$(basename "$deb") lacks $p"
	done
}
check_deb "$DKMS_DEB" "/usr/src/umsampler-$VER/dkms.conf" "/usr/src/umsampler-$VER/Kbuild" \
	"/usr/src/umsampler-$VER/module/Kbuild" "/usr/src/umsampler-$VER/module/main.c" \
	"/usr/src/umsampler-$VER/common/parse.c" /usr/lib/udev/rules.d/70-umsampler.rules \
	/usr/share/man/man4/umsampler.4.gz
check_deb "$TOOLS_DEB" /usr/bin/umsampler "$PLUGIN" /usr/share/umsampler/umsampler-perf.py \
	/usr/share/man/man1/umsampler.1.gz
# The man pages render without warnings.
for m in doc/umsampler.1 doc/umsampler.4; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$SRC/$m" 2>&1 >/dev/null)
	[ -z "$w" ] || { echo "$w"; die "man -l $m: warnings"; }
done
echo "umsampler-dkms: $(dpkg-deb -c "$DKMS_DEB" | grep -c '^-') files, umsampler-tools: $(dpkg-deb -c "$TOOLS_DEB" | grep -c '^-') files"
phase "build (dpkg-buildpackage -b -us -uc)"

# ---- 2. lintian -----------------------------------------------------------------------
say "lintian"
# (lintian warns that it runs as root: CI does.)
lintian --fail-on error --display-info "$CHANGES" 2>&1 | grep -v 'running with root privileges' |
	tee "$PKG/lintian.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || die "lintian reports errors"
echo "lintian: no errors ($(grep -c '^W:' "$PKG/lintian.log") warnings, $(grep -c '^I:' "$PKG/lintian.log") infos)"
phase "lintian --fail-on error"

# ---- 3. install -----------------------------------------------------------------------
say "install the packages"
installed=1
mods_before=$(ls /lib/modules 2>/dev/null)
if ! apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$DKMS_DEB" "$TOOLS_DEB" >"$PKG/install.log" 2>&1; then
	tail -40 "$PKG/install.log"
	die "apt-get install failed (log: $PKG/install.log)"
fi
grep -E '^(Loading|Building|Module build|It is likely|Done|Setting up)' "$PKG/install.log" | sed 's/^/  /'
st=$(dkms status -m umsampler -v "$VER" 2>/dev/null)
grep -q "^umsampler/$VER" <<<"$st" || die "dkms status does not list umsampler/$VER"
getent group umsampler >/dev/null || die "the postinst did not create the group umsampler"
[ -f /usr/lib/udev/rules.d/70-umsampler.rules ] || die "no udev rule installed"
/usr/bin/umsampler --help >/dev/null || die "/usr/bin/umsampler --help failed"
sed 's/^/  /' <<<"$st"
phase "apt-get install (with the postinst's dkms)"

# ---- 4. dkms build for each test kernel ---------------------------------------------
say "dkms build: ${KVERS[*]}"
scripts/kernels.sh fetch "${KVERS[@]}" >"$PKG/fetch.log" 2>&1 ||
	{ tail -20 "$PKG/fetch.log"; die "scripts/kernels.sh fetch ${KVERS[*]} failed"; }
declare -A KO
for k in "${KVERS[@]}"; do
	rel=$(scripts/kernels.sh release "$k") || die "no release for $k"
	kdir=$(scripts/kernels.sh kdir "$k") || die "no headers for $k"
	if ! dkms build -m umsampler -v "$VER" -k "$rel" --kernelsourcedir "$kdir" >"$PKG/dkms-$k.log" 2>&1; then
		cat "$PKG/dkms-$k.log"
		tail -40 "/var/lib/dkms/umsampler/$VER/build/make.log" 2>/dev/null
		die "dkms build for $k ($rel, headers $kdir) failed"
	fi
	# (already built by the postinst if the headers are in /lib/modules/<rel>/build)
	grep -q 'already built' "$PKG/dkms-$k.log" && echo "  $k: built by the postinst already"
	m=$(find "/var/lib/dkms/umsampler/$VER/$rel/x86_64/module" -name 'umsampler.ko*' 2>/dev/null | head -n 1)
	[ -n "$m" ] || die "dkms built no umsampler.ko* for $rel"
	mkdir -p "$PKG/ko/$k"
	case "$m" in
	*.ko) cp "$m" "$PKG/ko/$k/umsampler.ko" ;;
	*.ko.xz) xz -dc "$m" >"$PKG/ko/$k/umsampler.ko" ;;
	*.ko.zst) zstd -dcq "$m" >"$PKG/ko/$k/umsampler.ko" ;;
	*.ko.gz) gzip -dc "$m" >"$PKG/ko/$k/umsampler.ko" ;;
	*) die "unknown module file $m" ;;
	esac || die "cannot decompress $m"
	KO[$k]=$PKG/ko/$k/umsampler.ko
	vm=$(modinfo -F vermagic "${KO[$k]}") || die "modinfo ${KO[$k]} failed"
	[ "${vm%% *}" = "$rel" ] || die "$m: vermagic '$vm' is not $rel"
	signer=$(modinfo -F signer "${KO[$k]}")
	echo "  $k: $m (vermagic $rel, signer: ${signer:-none})"
done
phase "dkms build (${KVERS[*]})"

# ---- 5. the guests ---------------------------------------------------------------------
say "test programs"
make --no-print-directory BUILD="$PKG/b" progs >"$PKG/progs.log" 2>&1 ||
	{ tail -20 "$PKG/progs.log"; die "make progs failed"; }
phase "make progs"
declare -A result
for k in "${KVERS[@]}"; do
	say "kernel $k: the DKMS-built module in the guest"
	log=$PKG/$k-console.log
	scripts/vmrun --kernel "$k" --quiet --timeout "${UMS_VM_TIMEOUT:-600}" --log "$log" \
		--results "$PKG/results-$k" -- bash -c "env UMS_KO='${KO[$k]}' UMS_PROGS='$PKG/b/progs' \
		prove -f --nocolor tests/guest/00-load.t tests/guest/10-values.t; r=\$?; \
		prove -v -f --nocolor --exec bash scripts/pkgtest.sh :: --guest-tools '${KO[$k]}' \
		'$PKG/b/progs' '$PLUGIN' || r=1; exit \$r"
	rc=$?
	sed -n '/UMS-INIT: running/,/UMS-INIT: command finished/p' "$log" | grep -vE '^UMS-INIT' | tr -d '\r'
	if [ "$rc" -eq 0 ]; then
		result[$k]=PASS
	else
		result[$k]="FAIL (exit $rc, console log $log)"
		fail=1
	fi
	phase "kernel $k: boot, 00-load, 10-values, tools"
done

# ---- 6. purge -------------------------------------------------------------------------
if [ "${UMS_PKG_KEEP:-0}" = 1 ]; then
	say "UMS_PKG_KEEP=1: the packages stay installed"
else
	say "purge"
	purge || { tail -20 "$PKG/purge.log"; die "apt-get purge failed (log: $PKG/purge.log)"; }
	installed=0
	left=$(ls -d /usr/src/umsampler-* /var/lib/dkms/umsampler /usr/lib/udev/rules.d/70-umsampler.rules \
		/usr/bin/umsampler "$PLUGIN" /usr/share/umsampler /lib/modules/*/updates/dkms/umsampler.ko* 2>/dev/null)
	[ -z "$left" ] || die "left after the purge: $left"
	# dkms ran depmod for the kernels it installed into: a /lib/modules/<release> that
	# only that made (nothing but depmod's modules.* files) goes too.
	for d in /lib/modules/*; do
		[ -d "$d" ] || continue
		grep -qxF "${d##*/}" <<<"$mods_before" && continue
		[ -z "$(find "$d" -mindepth 1 ! -name 'modules.*' -print -quit)" ] && rm -rf "$d"
	done
	echo "purged: no /usr/src/umsampler-*, /var/lib/dkms/umsampler, udev rule, tools or installed module left"
	phase "apt-get purge + checks"
fi

say "summary"
for k in "${KVERS[@]}"; do
	printf '  %-8s %s\n' "$k" "${result[$k]:-not run}"
done
printf '  %s\n' "${summary[@]}"
if [ "$fail" -eq 0 ]; then
	echo "pkgtest: ALL PASSED (${KVERS[*]}) in $(($(date +%s) - start))s"
else
	echo "pkgtest: FAILED in $(($(date +%s) - start))s"
fi
exit "$fail"
