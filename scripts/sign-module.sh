#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/sign-module.sh - sign a copy of umsampler.ko with a kernel's own
# module signing key, for the lockdown lane (tests/lockdown/lockdown.t).
#
# Only the debug kernel (scripts/debugkernel.sh, CONFIG_MODULE_SIG) has its key
# at hand: its build generated certs/signing_key.pem + certs/signing_key.x509
# and scripts/sign-file in its build tree (= `scripts/kernels.sh kdir debug`),
# and the certificate is built into its system keyring. Debian's keys are not
# public, so the Debian kernels raise lockdown at runtime instead.
#
# Usage: scripts/sign-module.sh [KVER [IN [OUT]]]
#   KVER  default debug
#   IN    default build/kmod/KVER/module/umsampler.ko
#   OUT   default build/kmod/KVER/signed/umsampler.ko (IN is left unsigned)
# Prints OUT. Fails if the kernel has no signing key, sign-file or
# CONFIG_MODULE_SIG, or if OUT does not end in the signature marker.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "sign-module: $*" >&2; exit 1; }

k=${1:-debug}
in=${2:-$REPO/build/kmod/$k/module/umsampler.ko}
out=${3:-$REPO/build/kmod/$k/signed/umsampler.ko}
[ -f "$in" ] || die "no module $in (make module KVER=$k)"
kdir=$("$REPO/scripts/kernels.sh" kdir "$k") || die "no kdir for kernel $k"
grep -qx 'CONFIG_MODULE_SIG=y' "$kdir/.config" 2>/dev/null ||
	die "kernel $k ($kdir) is not built with CONFIG_MODULE_SIG=y"
hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$kdir/.config")
[ -n "$hash" ] || hash=sha256
for f in scripts/sign-file certs/signing_key.pem certs/signing_key.x509; do
	[ -e "$kdir/$f" ] || die "kernel $k has no $f in its build tree $kdir (private key kept only by a local build)"
done
mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
cp "$in" "$tmp"
# A signed module ends in "~Module signature appended~\n" (28 bytes).
# sign-file would append a second signature to a signed input: refuse it.
signed() { tail -c 28 "$1" | cmp -s - <(printf '~Module signature appended~\n'); }
if signed "$tmp"; then
	die "$in is already signed"
fi
"$kdir/scripts/sign-file" "$hash" "$kdir/certs/signing_key.pem" "$kdir/certs/signing_key.x509" "$tmp" ||
	die "sign-file failed"
signed "$tmp" ||
	die "sign-file left no signature on $tmp"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
