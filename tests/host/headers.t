#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/host/headers.t - TAP test of the kernel headers scripts/kernels.sh
# extracts into the cache (never installed as packages).
#
# Owns: proving that `kernels.sh fix-tree` makes a tree with Debian's absolute
# "include /usr/src/..." and absolute symlinks self-contained (and refuses one
# pointing outside), and, for each test kernel already fetched (6.1 6.12 rt;
# others are skipped), that `kernels.sh kdir K` is the headers tree in the
# cache, self-contained (no absolute symlink or include, every symlink inside
# the tree), the cached moddir's build symlink points to it, and a trivial
# module builds against it with no /usr/src or /usr/lib/linux-* path of the
# host in its build commands. Host only, no guest (~15 s: three tiny builds).
# Run with: prove tests/host/headers.t
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KERNELS=$HERE/../../scripts/kernels.sh
W=$(mktemp -d "${TMPDIR:-/tmp}/ums-headers-t.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { # description, command...
	local d=$1
	shift
	if "$@" >"$W/out" 2>&1; then ok "$d"; else nok "$d"; sed 's/^/# /' "$W/out"; fi
}

# Absolute symlinks and include (outside the tree), as in Debian's headers.
selfcontained() { # DIR: nothing in it points outside it
	local root l r
	root=$(cd "$1" && pwd -P)
	[ -z "$(find "$root" -lname '/*' -print -quit)" ] || { echo "absolute symlinks:"; find "$root" -lname '/*'; return 1; }
	while IFS= read -r l; do
		r=$(readlink -e "$l") || { echo "dangling: $l"; return 1; }
		case "$r/" in "$root"/*) ;; *) echo "$l -> $r leaves $root"; return 1 ;; esac
	done < <(find "$root" -type l)
	! grep -rsn --include='Makefile*' '^[[:space:]]*-\?include[[:space:]]\+/' "$root/usr/src" || return 1
}

t=$W/tree
mkdir -p "$t/usr/src/hdr-flavour" "$t/usr/src/hdr-common" "$t/usr/lib/kbuild/scripts" "$t/lib/modules/r"
echo 'include /usr/src/hdr-common/Makefile' >"$t/usr/src/hdr-flavour/Makefile"
# shellcheck disable=SC2016
printf 'srctree := $(realpath $(dir $(lastword $(MAKEFILE_LIST))))\ninclude $(srctree)/scripts/x.include\nall:\n\t@echo src=$(notdir $(srctree)) obj=$(notdir $(CURDIR)) $(X)\n' \
	>"$t/usr/src/hdr-common/Makefile"
echo 'X = kbuild-ok' >"$t/usr/lib/kbuild/scripts/x.include"
ln -s ../../lib/kbuild/scripts "$t/usr/src/hdr-common/scripts"
ln -s /usr/src/hdr-flavour "$t/lib/modules/r/build"
check "fix-tree accepts a Debian-like tree" "$KERNELS" fix-tree "$t"
check "fix-tree: no absolute symlink or include is left" selfcontained "$t"
mv "$t" "$W/moved" # the tree works wherever it is
t=$W/moved
if out=$(make -s -C "$t/lib/modules/r/build" 2>&1) && [ "$out" = "src=hdr-common obj=hdr-flavour kbuild-ok" ]; then
	ok "fix-tree: the flavour Makefile includes the -common one after the tree moved"
else
	nok "fix-tree: make in the moved tree printed: $out"
fi
ln -s /etc "$t/usr/src/hdr-common/outside"
if "$KERNELS" fix-tree "$t" >"$W/out" 2>&1; then
	nok "fix-tree refuses a symlink to a path that is not in the tree"
else
	ok "fix-tree refuses a symlink to a path that is not in the tree"
fi
rm "$t/usr/src/hdr-common/outside"

# The kernels in the cache.
mkdir -p "$W/mod"
printf '#include <linux/module.h>\nstatic int __init t_init(void) { return 0; }\nmodule_init(t_init);\nMODULE_LICENSE("GPL");\n' >"$W/mod/t.c"
echo 'obj-m := t.o' >"$W/mod/Kbuild"
for k in 6.1 6.12 rt; do
	if ! moddir=$("$KERNELS" moddir "$k" 2>/dev/null); then
		for _ in 1 2 3 4; do n=$((n + 1)); echo "ok $n # skip $k is not fetched"; done
		continue
	fi
	rel=$(basename "$moddir")
	kcache=$(cd "$moddir/../../.." && pwd -P)
	if kdir=$("$KERNELS" kdir "$k" 2>"$W/err") && [ "$kdir" = "$kcache/headers/usr/src/linux-headers-$rel" ] &&
		[ -f "$kdir/Makefile" ]; then
		ok "$k: kdir is the headers tree in the cache ($kdir)"
	else
		nok "$k: kdir printed '${kdir:-}', want $kcache/headers/usr/src/linux-headers-$rel"
		sed 's/^/# /' "$W/err"
		for _ in 1 2 3; do n=$((n + 1)); echo "ok $n # skip $k: no kdir"; done
		continue
	fi
	check "$k: the headers tree is self-contained" selfcontained "$kcache/headers"
	if [ "$(readlink "$moddir/build")" = "$kdir" ]; then
		ok "$k: lib/modules/$rel/build in the cache points to kdir"
	else
		nok "$k: lib/modules/$rel/build -> $(readlink "$moddir/build"), want $kdir"
	fi
	rm -rf "$W/mod/"*.ko "$W/mod/"*.o "$W/mod/".*.cmd
	if make -C "$kdir" M="$W/mod" modules >"$W/out" 2>&1 &&
		[ "$(modinfo -F vermagic "$W/mod/t.ko" | cut -d' ' -f1)" = "$rel" ] &&
		! grep -hoE '(^|[ =I])/usr/(src|lib)/linux-[^ ]*' "$W/mod/".*.cmd >"$W/host-paths"; then
		ok "$k: a module builds against kdir, from the cache only"
	else
		nok "$k: module build against $kdir"
		sed 's/^/# /' "$W/out" "$W/host-paths" 2>/dev/null | tail -n 20
	fi
done
echo "1..$n"
