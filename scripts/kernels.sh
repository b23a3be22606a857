#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/kernels.sh - kernel fetcher for the umsampler QEMU test bed.
#
# Owns: resolving the Debian kernel ABI for the three test kernels, downloading
# (never installing) their linux-image .deb into a cache, extracting it, running
# depmod on the extracted tree, and downloading + extracting the matching
# linux-headers packages into the same cache (never installed either: on 6.12
# installing linux-headers-<rel> pulls a linux-image and changes the host's
# boot), fixed up so out-of-tree modules build against that tree alone.
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
# back to the cached release; damaged extractions are redone from the kept
# .debs).
#
# Cache layout: $CACHE/kernels/<KVER>/release           resolved release
#               $CACHE/kernels/<KVER>/*.deb              kept for offline re-extraction:
#                   linux-image-<rel>[-unsigned], linux-headers-<rel>, the
#                   linux-headers-<ver>-common[-rt] and linux-kbuild-<x> it depends on
#               $CACHE/kernels/<KVER>/<release>/boot/vmlinuz-<release>
#               $CACHE/kernels/<KVER>/<release>/lib/modules/<release>/
#                   build -> <kdir> (absolute: the guest sees the cache at the same path)
#               $CACHE/kernels/<KVER>/<release>/headers/   the three header .debs
#                   extracted together (.complete, .debs):
#                   usr/src/linux-headers-<release>/     = kdir (`kernels.sh kdir`)
#                   usr/src/linux-headers-<ver>-common[-rt]/
#                   usr/lib/linux-kbuild-<x>/            (scripts/, tools/)
#                   lib/modules/<release>/{build,source}  (made relative)
# with CACHE=${UMS_CACHE:-${XDG_CACHE_HOME:-<repo>/build/cache}}
#
# Headers fix-ups (fix_tree): Debian's per-flavour Makefile is one line,
# "include /usr/src/linux-headers-<ver>-common/Makefile"; it becomes an include
# relative to the Makefile's own real location, so the tree works wherever the
# cache is (and when the cache moves). Absolute symlinks (lib/modules/<rel>/
# build, source) are made relative; the scripts/ and tools/ symlinks
# (../../lib/linux-kbuild-<x>/...) are relative already and resolve inside
# the tree. Any other absolute include, absolute /usr/src or /usr/lib/linux-*
# reference in a Makefile, or a symlink leaving the tree fails the extraction.
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
                  (if not cached or a newer ABI is available) and its
                  linux-headers (+ -common, linux-kbuild) .debs next to it;
                  installs nothing; redoes a damaged extraction offline
  release KVER    print the release string (e.g. 6.1.0-56-amd64)
  kdir KVER       print the kbuild tree to build modules against: the
                  extracted headers in the cache (extracted first if needed;
                  the kernel must have been fetched); debug: its build tree
  vmlinuz KVER    print the cached vmlinuz path
  vmlinux KVER    print the cached uncompressed vmlinux (extracted on demand;
                  bootable by QEMU through PVH)
  moddir KVER     print the cached /lib/modules/<release> path
  resolve KVER    print the release apt-cache currently resolves (no cache)
  list            print the known KVER names
  fix-tree DIR    make an extracted headers tree self-contained (what fetch
                  does after dpkg-deb -x; for tests/host/headers.t)

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

# --- headers ----------------------------------------------------------------
headers_root() { echo "$(cache_dir "$1")/$2/headers"; }
kdir_of() { echo "$(headers_root "$1" "$2")/usr/src/linux-headers-$2"; }

# Is the extracted headers tree complete and intact? (A Kbuild clean on a dir
# containing the cache would not touch it: it ships no *.o/*.ko/.*.cmd.)
headers_ok() { headers_ok_in "$(headers_root "$1" "$2")" "$2"; }
headers_ok_in() { # HEADERS_ROOT REL
	local h=$1 k s
	k=$h/usr/src/linux-headers-$2
	s=$h/lib/modules/$2/source # the -common tree (relative symlink)
	[ -f "$h/.complete" ] && [ -f "$k/Makefile" ] && [ -f "$k/.config" ] &&
		[ -f "$k/Module.symvers" ] && [ -f "$k/include/generated/autoconf.h" ] &&
		[ -f "$k/include/config/auto.conf" ] && [ -x "$k/scripts/basic/fixdep" ] &&
		[ -x "$k/scripts/mod/modpost" ] && [ -f "$k/scripts/Kbuild.include" ] &&
		[ -f "$s/Makefile" ] && [ -f "$s/include/linux/module.h" ] &&
		[ -f "$s/scripts/Makefile.build" ] &&
		! grep -q '^include /' "$k/Makefile"
}

# Does a .deb's Version satisfy "OP VER" (OP "-": anything)?
version_ok() {
	case "$2" in
	-) return 0 ;;
	=) [ "$1" = "$3" ] ;;
	'>=') dpkg --compare-versions "$1" ge "$3" ;;
	'<=') dpkg --compare-versions "$1" le "$3" ;;
	'>>') dpkg --compare-versions "$1" gt "$3" ;;
	'<<') dpkg --compare-versions "$1" lt "$3" ;;
	*) return 1 ;;
	esac
}

# Print the cached .deb of PKG satisfying "OP VER" (newest first), after
# downloading it into the cache dir D if none is there (via TMP).
get_deb() {
	local d=$1 tmp=$2 pkg=$3 op=$4 ver=$5 c v spec
	while read -r c; do
		[ -n "$c" ] || continue
		v=$(dpkg-deb -f "$c" Version 2>/dev/null) || continue
		version_ok "$v" "$op" "$ver" || continue
		# the whole archive decompresses (a truncated download does not)
		if dpkg-deb --fsys-tarfile "$c" >/dev/null 2>&1; then
			echo "$c"
			return 0
		fi
		note "$(basename "$c") is damaged; downloading it again"
		rm -f "$c"
	done < <(find "$d" -maxdepth 1 -name "${pkg}_*.deb" | sort -V -r)
	spec=$pkg
	[ "$op" != = ] || spec="$pkg=$ver"
	note "downloading $spec"
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$spec" >&2) ||
		{ note "apt-get download $spec failed"; return 1; }
	c=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
	[ -n "$c" ] || { note "downloaded .deb for $pkg not found"; return 1; }
	v=$(dpkg-deb -f "$c" Version) || return 1
	version_ok "$v" "$op" "$ver" ||
		{ note "apt-get download $spec gave version $v, want $op $ver"; return 1; }
	mv "$c" "$d/"
	echo "$d/$(basename "$c")"
}

# The header packages a headers .deb depends on: "PKG OP VER" lines for each
# linux-headers-* / linux-kbuild-* in its Depends (the first such alternative).
# Compilers (gcc-12, linux-compiler-gcc-12-x86), linux-base, pahole and the
# linux-image alternative of 6.12 are not extracted: see check_toolchain.
header_deps() {
	dpkg-deb -f "$1" Depends | perl -ne '
		for my $dep (split /\s*,\s*/) {
			for my $alt (split /\s*\|\s*/, $dep) {
				next unless $alt =~ /^\s*(linux-(?:headers|kbuild)-\S+)\s*(?:\(\s*(=|>=|<=|>>|<<)\s*([^)\s]+)\s*\))?/;
				print "$1 ", $2 // "-", " ", $3 // "-", "\n";
				last;
			}
		}'
}

# Make the extracted tree ROOT self-contained (see the header comment): make
# absolute symlinks relative, turn Debian's absolute "include /usr/src/..." in
# the per-flavour Makefile into one relative to that Makefile's real path,
# then fail on anything left that points outside ROOT.
fix_tree() {
	perl -MFile::Find -MFile::Spec -MFile::Basename -MCwd=realpath -e '
		use strict; use warnings;
		my $root = realpath(shift) or die "no root\n";
		my (@links, @mk, $bad);
		find({ no_chdir => 1, wanted => sub {
			if (-l $_) { push @links, $_ }
			elsif (-f _ && m{/(?:Makefile[^/]*|Kbuild[^/]*|[^/]*\.include|\.kernelvariables)$}) { push @mk, $_ }
		} }, $root);
		for my $l (@links) {
			my $t = readlink $l;
			next unless $t =~ m{^/};
			my $in = "$root$t";
			-e $in or -l $in or die "absolute symlink $l -> $t: no $t in the extracted tree\n";
			my $rel = File::Spec->abs2rel($in, dirname($l));
			unlink $l or die "$l: $!\n";
			symlink $rel, $l or die "$l: $!\n";
			print STDERR "kernels.sh: symlink ", substr($l, length $root), " -> $rel (was $t)\n";
		}
		for my $f (@mk) {
			open my $fh, "<", $f or die "$f: $!\n";
			my @lines = <$fh>; close $fh;
			my ($changed, $seen_include) = (0, 0);
			for (@lines) {
				next if /^\s*#/;
				if (/^(\s*-?include\s+)(\/\S+)\s*$/) {
					my ($kw, $p) = ($1, $2);
					my $in = "$root$p";
					-e $in or die "$f: include $p: no $p in the extracted tree\n";
					# $(lastword $(MAKEFILE_LIST)) is this file only until it includes another
					die "$f: absolute include $p after another include\n" if $seen_include;
					my $rel = File::Spec->abs2rel($in, dirname($f));
					$_ = "${kw}\$(abspath \$(dir \$(realpath \$(lastword \$(MAKEFILE_LIST))))$rel)\n";
					$changed = 1;
					print STDERR "kernels.sh: ", substr($f, length $root), ": include $p -> <this dir>/$rel\n";
				}
				$seen_include = 1 if /^\s*-?include\s/;
			}
			if ($changed) {
				my $tmp = "$f.ums-tmp";
				open my $o, ">", $tmp or die "$tmp: $!\n";
				print $o @lines; close $o or die "$tmp: $!\n";
				chmod((stat $f)[2] & 07777, $tmp);
				rename $tmp, $f or die "$f: $!\n";
			}
			for (@lines) {
				next if /^\s*#/;
				if (/^\s*-?include\s+\// || m{(?<![\w.-])/usr/(?:src|lib)/linux-}) {
					chomp; warn "$f: still refers to an absolute path: $_\n"; $bad = 1;
				}
			}
		}
		# every symlink must now resolve, and inside the tree
		for my $l (@links) {
			my $r = realpath($l);
			if (!defined $r || !-e $r) { warn "dangling symlink $l -> ", readlink($l), "\n"; $bad = 1 }
			elsif (index("$r/", "$root/") != 0) { warn "symlink $l -> ", readlink($l), " leaves the tree ($r)\n"; $bad = 1 }
		}
		exit($bad ? 1 : 0);
	' "$1"
}

# Say so (without failing) when the compiler or tools these headers want are
# missing: the module build would fail later with a less obvious message.
check_toolchain() {
	local k cc miss
	k=$(kdir_of "$1" "$2")
	# Debian's .kernelvariables sets CC (gcc-12 for all three bookworm kernels,
	# 6.12 with CROSS_COMPILE=x86_64-linux-gnu-); let make evaluate it.
	# shellcheck disable=SC2016
	cc=$(printf 'include .kernelvariables\nums-print-cc:\n\t@echo $(CC)\n' |
		make -s --no-print-directory -C "$k" -f - ums-print-cc 2>/dev/null) || cc=""
	cc=${cc##* }
	if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
		note "WARNING: the $2 headers build modules with $cc, which is not installed" \
			"(Debian package: ${cc##*-linux-gnu-}); \`make module KVER=$1\` will fail"
	fi
	# 6.12 ships vmlinux: modules get BTF, made by pahole (linux-kbuild-6.12 Depends on it).
	if [ -f "$k/vmlinux" ] && grep -qx 'CONFIG_DEBUG_INFO_BTF_MODULES=y' "$k/.config" &&
		! command -v pahole >/dev/null; then
		note "WARNING: the $2 headers make BTF for modules with pahole, which is not" \
			"installed (Debian package: pahole); \`make module KVER=$1\` will fail"
	fi
	miss=$(ldd "$k/scripts/basic/fixdep" "$k/scripts/mod/modpost" "$k/tools/objtool/objtool" \
		"$k/scripts/sign-file" 2>/dev/null | sed -n 's/^[[:space:]]*\(\S*\) => not found.*/\1/p' |
		sort -u | tr '\n' ' ')
	[ -z "$miss" ] || note "WARNING: the $2 kbuild tools need missing libraries: $miss"
}

# lib/modules/<rel>/build in the cached image tree -> kdir (absolute: a guest
# bind-mounting the moddir over /lib/modules/<rel> sees the same path).
link_build() {
	local m l k
	m="$(cache_dir "$1")/$2/lib/modules/$2"
	[ -d "$m" ] || return 0
	l=$m/build
	k=$(kdir_of "$1" "$2")
	[ "$(readlink "$l" 2>/dev/null)" != "$k" ] || return 0
	ln -sfn "$k" "$l.tmp"
	mv -T "$l.tmp" "$l"
}

# Download (once; the .debs stay in the cache) and extract linux-headers-<rel>,
# its -common tree and linux-kbuild into <rel>/headers, atomically: the tree
# appears only complete (.complete). Caller holds the cache dir's lock.
extract_headers() {
	local kver=$1 rel=$2 d tmp hp deb pkg op ver h n=0
	local -a queue debs
	local -A seen
	d=$(cache_dir "$kver")
	mkdir -p "$d/$rel"
	tmp=$(mktemp -d "$d/.headers.XXXXXX")
	hp=linux-headers-$rel
	deb=$(get_deb "$d" "$tmp" "$hp" - -) || { rm -rf "$tmp"; die "cannot get $hp"; }
	debs=("$deb") queue=("$deb") seen[$hp]=1
	while [ "$n" -lt "${#queue[@]}" ]; do
		while read -r pkg op ver; do
			[ -z "${seen[$pkg]:-}" ] || continue
			seen[$pkg]=1
			deb=$(get_deb "$d" "$tmp" "$pkg" "$op" "$ver") ||
				{ rm -rf "$tmp"; die "cannot get $pkg ($op $ver), needed by the $rel headers"; }
			debs+=("$deb") queue+=("$deb")
		done < <(header_deps "${queue[$n]}")
		n=$((n + 1))
	done
	local common="" kbuild=""
	for pkg in "${!seen[@]}"; do
		case "$pkg" in
		linux-headers-*-common | linux-headers-*-common-*) common=$pkg ;;
		linux-kbuild-*) kbuild=$pkg ;;
		esac
	done
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		rm -rf "$tmp"
		die "$hp: no -common or linux-kbuild dependency found (Depends: $(dpkg-deb -f "${debs[0]}" Depends))"
	fi
	note "extracting $(for deb in "${debs[@]}"; do basename "$deb"; done | tr '\n' ' ')"
	mkdir "$tmp/x"
	for deb in "${debs[@]}"; do
		dpkg-deb -x "$deb" "$tmp/x" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
	done
	fix_tree "$tmp/x" || { rm -rf "$tmp"; die "the $rel headers still refer to paths outside the cache (see above)"; }
	for deb in "${debs[@]}"; do basename "$deb"; done >"$tmp/x/.debs"
	touch "$tmp/x/.complete"
	h=$(headers_root "$kver" "$rel")
	headers_ok_in "$tmp/x" "$rel" || { rm -rf "$tmp"; die "the extracted $rel headers are incomplete"; }
	[ ! -e "$h" ] || mv "$h" "$tmp/old"
	mv "$tmp/x" "$h"
	rm -rf "$tmp"
	# Only the .debs of the current headers are kept.
	while read -r deb; do
		grep -qxF "$(basename "$deb")" "$h/.debs" || rm -f "$deb"
	done < <(find "$d" -maxdepth 1 \( -name 'linux-headers-*.deb' -o -name 'linux-kbuild-*.deb' \))
}

# The headers tree of a cached kernel, extracted if missing or damaged (offline
# from the kept .debs), with the image tree's build symlink. Caller holds the lock.
ensure_headers() {
	local kver=$1 rel=$2
	if ! headers_ok "$kver" "$rel"; then
		if [ -e "$(headers_root "$kver" "$rel")" ]; then
			note "$kver: the extracted $rel headers are damaged; extracting them again"
		fi
		extract_headers "$kver" "$rel"
	fi
	link_build "$kver" "$rel"
	check_toolchain "$kver" "$rel"
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
	# Like the headers package's symlink, but to the headers extracted in the
	# cache (ensure_headers); absolute, so a guest bind-mounting this moddir
	# over /lib/modules/<rel> still sees the build dir.
	ln -sfn "$(kdir_of "$kver" "$rel")" "$tmp/x/lib/modules/$rel/build"
	extract_vmlinux "$tmp/x/boot/vmlinuz-$rel" "$tmp/x/boot/vmlinux-$rel" ||
		note "could not extract an uncompressed vmlinux (vmrun will boot the bzImage)"
	basename "$deb" >"$tmp/x/.deb"
	touch "$tmp/x/.complete"
	# The headers tree survives a re-extraction of the image (ensure_headers
	# checks it on its own).
	[ ! -d "$d/$rel/headers" ] || mv "$d/$rel/headers" "$tmp/x/headers"
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
	ensure_headers "$kver" "$resolved"
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
	fix-tree)
		{ [ $# -eq 1 ] && [ -d "$1" ]; } || die "fix-tree: need one directory"
		fix_tree "$1"
		;;
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
			rel=$(recorded_release "$1") ||
				die "kernel '$1' is not fetched; run: scripts/kernels.sh fetch $1"
			if headers_ok "$1" "$rel" &&
				[ "$(readlink "$(cache_dir "$1")/$rel/lib/modules/$rel/build" 2>/dev/null)" = "$(kdir_of "$1" "$rel")" ]; then
				check_toolchain "$1" "$rel"
			else
				exec 9>"$(cache_dir "$1")/.lock"
				flock 9
				ensure_headers "$1" "$rel"
				exec 9>&-
			fi
			kdir_of "$1" "$rel"
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
