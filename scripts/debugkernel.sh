#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debugkernel.sh - build (or reuse) the umsampler DEBUG test kernel.
#
# Owns: building the `debug` kernel of the QEMU test bed from Debian's
# linux-source-6.1 package: `make tinyconfig` + config/debug.config (merged
# with scripts/kconfig/merge_config.sh, then `make olddefconfig`), checking
# that every option of the fragment survived, building vmlinux/bzImage (+
# Module.symvers, so out-of-tree modules build against the tree), and
# publishing it in the kernel cache in the same layout scripts/kernels.sh uses
# for the Debian images. Normally called as `scripts/kernels.sh fetch debug`.
#
# With CONFIG_MODULE_SIG (the lockdown lane), the build generates its module
# signing key, certs/signing_key.pem + certs/signing_key.x509, and builds
# scripts/sign-file; both stay in the build tree, which scripts/sign-module.sh
# signs umsampler.ko with (they need openssl and libssl-dev).
#
# config/debug-patches/*.patch are applied to the tree (small backports the
# debug options need, e.g. exporting dump_mm() for DEBUG_VM's inline asserts).
#
# Cache key: sha256 of (the fragment, the patches, the linux-source-6.1 package version,
# the compiler version, RECIPE below). A cached kernel with the same key is
# reused without touching the network or the source package (works offline);
# a different key rebuilds incrementally in the same source tree.
#
# Layout under $CACHE/kernels/debug/ (CACHE as in kernels.sh):
#   release                       kernel release, e.g. 6.1.192-umsdebug
#   src-<pkgver>/linux-source-6.1 the build tree (= `kernels.sh kdir debug`)
#   <release>/boot/{vmlinuz,vmlinux,System.map,config}-<release>
#   <release>/lib/modules/<release>/  modules_install output (all built in)
#   <release>/.key .complete .kdir .build-seconds
#
# Usage: scripts/debugkernel.sh [--force] [--check]
#   --check  exit 0 if the cached kernel is up to date, 1 if not (no build)
#   --force  rebuild even if up to date
# Environment: UMS_DEBUG_JOBS (default nproc) make -j.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${UMS_CACHE:-${XDG_CACHE_HOME:-$REPO/build/cache}}/kernels
D=$CACHE_ROOT/debug
FRAG=$REPO/config/debug.config
PATCHES=$REPO/config/debug-patches # *.patch, applied in order with patch -p1
SRCPKG=linux-source-6.1
TARBALL=/usr/src/linux-source-6.1.tar.xz
RECIPE=3 # bump when the build steps below change what gets built
JOBS=${UMS_DEBUG_JOBS:-$(nproc)}

die() { echo "debugkernel: $*" >&2; exit 1; }
note() { echo "debugkernel: $*" >&2; }

FORCE=0 CHECK=0
for a in "$@"; do
	case "$a" in
	--force) FORCE=1 ;;
	--check) CHECK=1 ;;
	-h | --help) sed -n '3,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$a'" ;;
	esac
done
[ -f "$FRAG" ] || die "no config fragment $FRAG"

# Empty when the package is not installed (dpkg-query fails on a machine that
# never knew it: under pipefail that must not end the script).
pkg_version() { { dpkg-query -W -f='${Status} ${Version}\n' "$SRCPKG" 2>/dev/null || true; } |
	sed -n 's/^install ok installed //p'; }

cache_key() { # $1 = source package version
	{
		cat "$FRAG"
		cat "$PATCHES"/*.patch 2>/dev/null || true
		echo "srcpkg=$SRCPKG $1"
		echo "cc=$(gcc --version | head -n 1)"
		echo "recipe=$RECIPE"
	} | sha256sum | cut -d' ' -f1
}

# Up to date? The source version of the cached build is recorded in .key's
# second line, so this check needs neither the package nor the network.
up_to_date() {
	local rel t ver
	[ -f "$D/release" ] || return 1
	rel=$(<"$D/release")
	t=$D/$rel
	[ -f "$t/.complete" ] && [ -f "$t/boot/vmlinux-$rel" ] &&
		[ -f "$t/boot/vmlinuz-$rel" ] && [ -f "$t/.key" ] || return 1
	[ -f "$(<"$t/.kdir")/Module.symvers" ] || return 1
	# the lockdown lane signs the module with the tree's key and sign-file
	if grep -qx 'CONFIG_MODULE_SIG=y' "$FRAG"; then
		[ -f "$(<"$t/.kdir")/certs/signing_key.pem" ] && [ -f "$(<"$t/.kdir")/certs/signing_key.x509" ] &&
			[ -x "$(<"$t/.kdir")/scripts/sign-file" ] || return 1
	fi
	ver=$(sed -n 2p "$t/.key")
	# Prefer the installed package's version: a newer linux-source rebuilds.
	local inst
	inst=$(pkg_version)
	[ -z "$inst" ] || ver=$inst
	[ "$(sed -n 1p "$t/.key")" = "$(cache_key "$ver")" ]
}

if [ "$CHECK" = 1 ]; then # no lock: must not wait for a running build
	up_to_date
	exit
fi
mkdir -p "$D"
exec 9>"$D/.lock"
if ! flock -n 9; then
	note "waiting for another debug kernel build (lock $D/.lock)"
	flock 9
fi

if [ "$FORCE" = 0 ] && up_to_date; then
	note "debug kernel $(<"$D/release") is up to date"
	exit 0
fi

# --- source -----------------------------------------------------------------
ver=$(pkg_version)
if [ -z "$ver" ] || [ ! -f "$TARBALL" ]; then
	[ "$(id -u)" -eq 0 ] || die "$SRCPKG is not installed and we are not root; run: sudo apt-get install -y $SRCPKG"
	note "installing $SRCPKG"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$SRCPKG" >&2 ||
		die "apt-get install $SRCPKG failed"
	ver=$(pkg_version)
	# shellcheck disable=SC2015
	[ -n "$ver" ] && [ -f "$TARBALL" ] || die "$SRCPKG installed but $TARBALL is missing"
fi
for t in flex bison bc gcc make perl; do
	command -v "$t" >/dev/null || die "'$t' is needed to build the kernel (apt-get install -y flex bison bc build-essential)"
done
[ -f /usr/include/libelf.h ] || die "libelf-dev is needed to build the kernel (objtool)"
if grep -qx 'CONFIG_MODULE_SIG=y' "$FRAG"; then
	[ -f /usr/include/openssl/evp.h ] || die "libssl-dev is needed to build the kernel (CONFIG_MODULE_SIG: sign-file, extract-cert)"
	command -v openssl >/dev/null || die "'openssl' is needed to build the kernel (CONFIG_MODULE_SIG: signing key generation)"
fi
key=$(cache_key "$ver")
SRCTOP=$D/src-$ver
KSRC=$SRCTOP/linux-source-6.1
if [ ! -f "$SRCTOP/.extracted" ]; then
	note "extracting $TARBALL into $SRCTOP"
	rm -rf "$SRCTOP"
	mkdir -p "$SRCTOP"
	tar -xJf "$TARBALL" -C "$SRCTOP"
	[ -f "$KSRC/Makefile" ] || die "$TARBALL has no linux-source-6.1/Makefile"
	touch "$SRCTOP/.extracted"
fi
# Patches: applied once each (a reverse dry run tells if already applied).
for p in "$PATCHES"/*.patch; do
	[ -f "$p" ] || continue
	if patch -d "$KSRC" -p1 -R --dry-run -s -f <"$p" >/dev/null 2>&1; then
		continue
	fi
	note "applying $(basename "$p")"
	patch -d "$KSRC" -p1 -s -f <"$p" || die "patch $(basename "$p") does not apply to $SRCPKG $ver"
done
# Older source trees are dropped (a tree is ~1.5 GB once built).
for old in "$D"/src-*; do
	[ "$old" = "$SRCTOP" ] || [ ! -d "$old" ] || { note "removing old tree $old"; rm -rf "$old"; }
done

# --- config -----------------------------------------------------------------
cd "$KSRC"
start=$(date +%s)
note "configuring: tinyconfig + $(basename "$FRAG") ($SRCPKG $ver)"
# ARCH=x86_64: with the default ARCH=x86, allnoconfig answers 64BIT=n and the
# 32-bit defaults of visible options (e.g. FRAME_WARN) would stick.
make -s ARCH=x86_64 tinyconfig >/dev/null
scripts/kconfig/merge_config.sh -m -O . .config "$FRAG" >"$D/merge_config.log" 2>&1 ||
	{ cat "$D/merge_config.log" >&2; die "merge_config.sh failed"; }
make -s olddefconfig
# Every line of the fragment must be in the final .config.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" .config || {
			note "fragment line '$line' not in final .config (have: $(grep -E "^(# )?${line%%=*}[= ]" .config || echo nothing))"
			missing=1
		} ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -qE "^$opt=" .config; then
			note "fragment says '$line' but .config has $(grep -E "^$opt=" .config)"
			missing=1
		fi ;;
	esac
done <"$FRAG"
[ "$missing" = 0 ] || die "config/debug.config does not apply cleanly (dependency missing?); see above"
note "config OK; building with -j$JOBS (log $D/build.log)"

# --- build ------------------------------------------------------------------
if ! make -j"$JOBS" all >"$D/build.log" 2>&1; then
	tail -n 40 "$D/build.log" >&2
	die "kernel build failed (full log: $D/build.log)"
fi
# shellcheck disable=SC2015
[ -f vmlinux ] && [ -f arch/x86/boot/bzImage ] && [ -f Module.symvers ] ||
	die "build finished without vmlinux/bzImage/Module.symvers"
if grep -qx 'CONFIG_MODULE_SIG=y' .config; then
	# shellcheck disable=SC2015
	[ -f certs/signing_key.pem ] && [ -f certs/signing_key.x509 ] && [ -x scripts/sign-file ] ||
		die "CONFIG_MODULE_SIG build left no certs/signing_key.{pem,x509} or scripts/sign-file"
fi
make -s modules_prepare >>"$D/build.log" 2>&1 || die "make modules_prepare failed"
rel=$(make -s kernelrelease) # after the build: needs include/config/auto.conf
[ -n "$rel" ] || die "make kernelrelease printed nothing"

# --- publish ----------------------------------------------------------------
tmp=$(mktemp -d "$D/.publish.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/boot"
cp arch/x86/boot/bzImage "$tmp/boot/vmlinuz-$rel"
cp vmlinux "$tmp/boot/vmlinux-$rel"
cp System.map "$tmp/boot/System.map-$rel"
cp .config "$tmp/boot/config-$rel"
make -s INSTALL_MOD_PATH="$tmp" DEPMOD=/sbin/depmod modules_install >>"$D/build.log" 2>&1 ||
	die "make modules_install failed"
[ -f "$tmp/lib/modules/$rel/modules.builtin" ] || die "modules_install made no modules.builtin"
[ -f "$tmp/lib/modules/$rel/modules.dep" ] ||
	depmod -b "$tmp" -F System.map "$rel" || die "depmod failed"
rm -rf "$tmp/lib/modules/$rel/build" "$tmp/lib/modules/$rel/source"
ln -sfn "$KSRC" "$tmp/lib/modules/$rel/build"
echo "$KSRC" >"$tmp/.kdir"
printf '%s\n%s\n' "$key" "$ver" >"$tmp/.key"
echo $(($(date +%s) - start)) >"$tmp/.build-seconds"
touch "$tmp/.complete"
oldrel=""
[ -f "$D/release" ] && oldrel=$(<"$D/release")
rm -rf "${D:?}/$rel"
mv "$tmp" "$D/$rel"
trap - EXIT
echo "$rel" >"$D/release.tmp"
mv "$D/release.tmp" "$D/release"
[ -z "$oldrel" ] || [ "$oldrel" = "$rel" ] || rm -rf "${D:?}/$oldrel"
note "debug kernel $rel ready in $(($(date +%s) - start))s"
