#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/kernels.sh - kernel fetcher for the umsampler QEMU test bed.
#
# Owns: resolving the Debian kernel ABI for the three test kernels, downloading
# (never installing) their linux-image .deb into a cache, extracting it, running
# depmod on the extracted tree, and making sure the matching linux-headers
# package is installed so out-of-tree modules can be built against it.
#
# Kernel names (KVER):
#   6.1   bookworm's current kernel: ABI from meta-package linux-image-amd64
#   6.12  newest linux-image-6.12.*+deb12-amd64-unsigned (bookworm-security)
#   rt    PREEMPT_RT: ABI from meta-package linux-image-rt-amd64
#   debug NOT a Debian image: built locally from Debian's linux-source-6.1 with
#         config/debug.config (KASAN, lockdep, kmemleak, ...) by
#         scripts/debugkernel.sh, which `fetch debug` runs (~25-40 min the first
#         time, then cached). Everything the guest needs is built in; its
#         kdir is the build tree itself (no linux-headers package).
#
# No ABI number is hard-coded; everything is resolved via apt-cache. Once a
# kernel is cached, every subcommand works offline (resolution failures fall
# back to the cached release).
#
# Cache layout: $CACHE/kernels/<KVER>/release           resolved release
#               $CACHE/kernels/<KVER>/linux-image-*.deb  kept for offline re-extraction
#               $CACHE/kernels/<KVER>/<release>/boot/vmlinuz-<release>
#               $CACHE/kernels/<KVER>/<release>/lib/modules/<release>/
# with CACHE=${UMS_CACHE:-${XDG_CACHE_HOME:-<repo>/build/cache}}
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${UMS_CACHE:-${XDG_CACHE_HOME:-$REPO/build/cache}}/kernels
KVERS=(6.1 6.12 rt)
# Known but not Debian images (not in KVERS: nothing fetches it implicitly).
LOCAL_KVERS=(debug)

usage() {
	cat <<EOF
Usage: scripts/kernels.sh COMMAND [KVER...]

Commands:
  fetch KVER...   download + extract the kernel image .deb into the cache
                  (if not cached or a newer ABI is available) and install
                  linux-headers-<release> if missing
  release KVER    print the release string (e.g. 6.1.0-56-amd64)
  kdir KVER       print the headers build dir (/lib/modules/<rel>/build)
  vmlinuz KVER    print the cached vmlinuz path
  vmlinux KVER    print the cached uncompressed vmlinux (extracted on demand;
                  bootable by QEMU through PVH)
  moddir KVER     print the cached /lib/modules/<release> path
  resolve KVER    print the release apt-cache currently resolves (no cache)
  list            print the known KVER names

KVER is one of: ${KVERS[*]} ${LOCAL_KVERS[*]}
Cache: \$UMS_CACHE or \$XDG_CACHE_HOME or <repo>/build/cache, + /kernels/<KVER>
       (currently $CACHE_ROOT)
EOF
}

die() { echo "kernels.sh: $*" >&2; exit 1; }
note() { echo "kernels.sh: $*" >&2; }

check_kver() {
	case "$1" in
	6.1 | 6.12 | rt | debug) ;;
	*) die "unknown kernel '$1' (known: ${KVERS[*]} ${LOCAL_KVERS[*]})" ;;
	esac
}

# Highest "linux-image-<ABI>" dependency of a meta-package.
meta_dep() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' |
		sort -V | tail -n 1
}

# Print the image package name apt currently resolves for KVER ("" if none).
resolve_pkg() {
	local pkg=""
	case "$1" in
	6.1) pkg=$(meta_dep linux-image-amd64) ;;
	rt) pkg=$(meta_dep linux-image-rt-amd64) ;;
	6.12)
		pkg=$( { apt-cache pkgnames linux-image-6.12. 2>/dev/null || true; } |
			grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
			sort -V | tail -n 1) || true
		;;
	esac
	echo "$pkg"
}

pkg_to_release() {
	local r=${1#linux-image-}
	echo "${r%-unsigned}"
}

release_to_pkg() {
	case "$1" in
	6.12) echo "linux-image-$2-unsigned" ;;
	*) echo "linux-image-$2" ;;
	esac
}

resolve_release() {
	local pkg
	pkg=$(resolve_pkg "$1")
	[ -n "$pkg" ] || return 1
	pkg_to_release "$pkg"
}

cache_dir() { echo "$CACHE_ROOT/$1"; }

# Release recorded in the cache (extraction may be damaged, see below).
recorded_release() {
	local d rel
	d=$(cache_dir "$1")
	[ -f "$d/release" ] || return 1
	rel=$(<"$d/release")
	[ -n "$rel" ] || return 1
	echo "$rel"
}

# Is the extracted tree intact? A Kbuild "make M=<dir containing the cache>
# clean" deletes every *.ko* below it, so check a module file exists too.
extraction_ok() {
	local t m
	t="$(cache_dir "$1")/$2"
	if [ "$1" = debug ]; then # built by scripts/debugkernel.sh; all built in
		[ -f "$t/.complete" ] && [ -f "$t/boot/vmlinuz-$2" ] &&
			[ -f "$t/boot/vmlinux-$2" ] && [ -f "$t/.kdir" ] &&
			[ -f "$t/lib/modules/$2/modules.builtin" ] &&
			[ -f "$(<"$t/.kdir")/Module.symvers" ]
		return
	fi
	[ -f "$t/.complete" ] && [ -f "$t/boot/vmlinuz-$2" ] &&
		[ -f "$t/lib/modules/$2/modules.dep" ] || return 1
	m=$(grep -m 1 -E '^[^:]*/9p\.ko[^:]*:' "$t/lib/modules/$2/modules.dep") || return 1
	[ -f "$t/lib/modules/$2/${m%%:*}" ]
}

# Cached release, only if its extraction is complete and intact.
cached_release() {
	local rel
	rel=$(recorded_release "$1") || return 1
	extraction_ok "$1" "$rel" || return 1
	echo "$rel"
}

release_of() {
	cached_release "$1" || resolve_release "$1" ||
		die "cannot resolve a release for '$1' (apt-cache found nothing and nothing cached)"
}

ensure_headers() {
	local rel=$1
	if dpkg -s "linux-headers-$rel" >/dev/null 2>&1; then
		return 0
	fi
	note "installing linux-headers-$rel"
	if [ "$(id -u)" -ne 0 ]; then
		die "linux-headers-$rel is not installed and we are not root; run: sudo apt-get install -y linux-headers-$rel"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"linux-headers-$rel" >&2 ||
		die "apt-get install linux-headers-$rel failed"
}

# Uncompressed ELF vmlinux from a bzImage (like scripts/extract-vmlinux).
# QEMU boots it directly through its PVH entry point (CONFIG_PVH=y), which
# skips firmware + in-guest decompression: ~5 s less per boot under TCG.
extract_vmlinux() {
	local in=$1 out=$2 magic tool off m
	for magic in xz zstd gzip; do
		case $magic in
		xz) tool="xz -dc" m='\xfd7zXZ\x00' ;;
		zstd) tool="zstd -dcq" m='\x28\xb5\x2f\xfd' ;;
		gzip) tool="gzip -dc" m='\x1f\x8b\x08' ;;
		esac
		command -v "${tool%% *}" >/dev/null || continue
		off=$(M=$m perl -0777 -ne '$m = eval qq{"$ENV{M}"}; my $i = index($_, $m); print $i' "$in")
		[ "$off" -ge 0 ] || continue
		tail -c +$((off + 1)) "$in" | $tool >"$out.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$out.tmp" "$out"
			return 0
		fi
	done
	rm -f "$out.tmp"
	return 1
}

# Download + extract + depmod one release into the cache (atomic).
download_extract() {
	local kver=$1 rel=$2 d pkg tmp deb
	d=$(cache_dir "$kver")
	pkg=$(release_to_pkg "$kver" "$rel")
	tmp=$(mktemp -d "$d/.fetch.XXXXXX")
	# The .deb is kept in the cache so a damaged extraction can be redone
	# offline; only the newest one is kept.
	deb=$(find "$d" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -n 1)
	if [ -n "$deb" ] && dpkg-deb --info "$deb" >/dev/null 2>&1; then
		note "re-extracting $(basename "$deb")"
	else
		note "downloading $pkg"
		(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
			{ rm -rf "$tmp"; die "apt-get download $pkg failed"; }
		deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
		[ -n "$deb" ] || { rm -rf "$tmp"; die "downloaded .deb for $pkg not found"; }
		find "$d" -maxdepth 1 -name 'linux-image-*.deb' -delete
		mv "$deb" "$d/"
		deb=$d/$(basename "$deb")
	fi
	mkdir "$tmp/x"
	dpkg-deb -x "$deb" "$tmp/x"
	[ -f "$tmp/x/boot/vmlinuz-$rel" ] || die "$pkg has no boot/vmlinuz-$rel"
	[ -d "$tmp/x/lib/modules/$rel" ] || die "$pkg has no lib/modules/$rel"
	# The .deb does not ship modules.dep & co (postinst runs depmod).
	note "depmod $rel"
	depmod -b "$tmp/x" -F "$tmp/x/boot/System.map-$rel" "$rel" ||
		die "depmod failed for $rel"
	# Like the headers package's symlink, so a guest bind-mounting this
	# moddir over /lib/modules/<rel> still sees the build dir.
	ln -sfn "/usr/src/linux-headers-$rel" "$tmp/x/lib/modules/$rel/build"
	extract_vmlinux "$tmp/x/boot/vmlinuz-$rel" "$tmp/x/boot/vmlinux-$rel" ||
		note "could not extract an uncompressed vmlinux (vmrun will boot the bzImage)"
	basename "$deb" >"$tmp/x/.deb"
	touch "$tmp/x/.complete"
	rm -rf "${d:?}/$rel"
	mv "$tmp/x" "$d/$rel"
	rm -rf "$tmp"
}

fetch_one() {
	local kver=$1 d cached="" resolved=""
	check_kver "$kver"
	if [ "$kver" = debug ]; then
		"$REPO/scripts/debugkernel.sh" || die "debug kernel build failed"
		note "debug: $(cached_release debug) ready"
		return 0
	fi
	d=$(cache_dir "$kver")
	mkdir -p "$d"
	exec 9>"$d/.lock"
	flock 9
	cached=$(recorded_release "$kver") || cached=""
	resolved=$(resolve_release "$kver") || resolved=""
	if [ -z "$resolved" ]; then
		[ -n "$cached" ] || die "cannot resolve '$kver' via apt-cache and nothing is cached"
		note "$kver: apt-cache resolution failed; using cached $cached"
		resolved=$cached
	fi
	if [ "$resolved" != "$cached" ] || ! extraction_ok "$kver" "$resolved"; then
		if [ -n "$cached" ] && [ "$resolved" != "$cached" ]; then
			note "$kver: cached $cached, apt resolves $resolved; fetching the new one"
		elif [ -n "$cached" ]; then
			note "$kver: cached extraction of $cached is damaged (make clean?); redoing it"
		fi
		download_extract "$kver" "$resolved"
		echo "$resolved" >"$d/release.tmp"
		mv "$d/release.tmp" "$d/release"
		# drop the old extraction
		[ -z "$cached" ] || [ "$cached" = "$resolved" ] || rm -rf "${d:?}/$cached"
	fi
	ensure_headers "$resolved"
	exec 9>&-
	note "$kver: $resolved ready"
}

need_cached() {
	cached_release "$1" || die "kernel '$1' is not fetched; run: scripts/kernels.sh fetch $1"
}

main() {
	[ $# -ge 1 ] || { usage >&2; exit 2; }
	local cmd=$1 rel
	shift
	case "$cmd" in
	-h | --help | help) usage ;;
	list) printf '%s\n' "${KVERS[@]}" ;;
	fetch)
		[ $# -ge 1 ] || die "fetch: need at least one KVER"
		for k in "$@"; do check_kver "$k"; done
		for k in "$@"; do fetch_one "$k"; done
		;;
	release | kdir | vmlinuz | vmlinux | moddir | resolve)
		[ $# -eq 1 ] || die "$cmd: need exactly one KVER"
		check_kver "$1"
		case "$cmd" in
		release)
			if [ "$1" = debug ]; then need_cached debug; else release_of "$1"; fi ;;
		resolve)
			if [ "$1" = debug ]; then need_cached debug; else
				resolve_release "$1" || die "cannot resolve '$1' via apt-cache"
			fi ;;
		kdir)
			if [ "$1" = debug ]; then
				rel=$(need_cached debug)
				cat "$(cache_dir debug)/$rel/.kdir"
				return 0
			fi
			rel=$(release_of "$1")
			if [ -d "/lib/modules/$rel/build" ]; then
				echo "/lib/modules/$rel/build"
			else
				echo "/usr/src/linux-headers-$rel"
				[ -d "/usr/src/linux-headers-$rel" ] ||
					die "headers for $rel not installed; run: scripts/kernels.sh fetch $1"
			fi
			;;
		vmlinuz)
			rel=$(need_cached "$1")
			echo "$(cache_dir "$1")/$rel/boot/vmlinuz-$rel"
			;;
		vmlinux)
			rel=$(need_cached "$1")
			local v
			v="$(cache_dir "$1")/$rel/boot/vmlinux-$rel"
			if [ ! -f "$v" ]; then
				extract_vmlinux "$(cache_dir "$1")/$rel/boot/vmlinuz-$rel" "$v" ||
					die "cannot extract vmlinux for $rel"
			fi
			echo "$v"
			;;
		moddir)
			rel=$(need_cached "$1")
			echo "$(cache_dir "$1")/$rel/lib/modules/$rel"
			;;
		esac
		;;
	*) usage >&2; exit 2 ;;
	esac
}

main "$@"
