#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/i386/suite.sh - the in-guest TAP suite of the 686-pae lane
# (scripts/lane686.sh): Debian's 32-bit PAE kernel with 3 GiB of RAM, so that
# the watched user pages sit in highmem, above the kernel's direct map, and
# every copy goes through kmap_local_page() for real. Runs under the guest's
# i386 busybox sh (no perl), with tests/i386/ums386.c for the parts sh cannot
# do (one write(2) with its errno, /proc/PID/pagemap, /proc/PID/mem).
#
# Asserts:
#  - highmem: the HighMem zone exists and holds most of the memory; every
#    page of every region of the values test, of the pointer chain's heap
#    nodes and of the mirrored counter has its PFN (pagemap bits 0-54) at or
#    above the HighMem zone's start_pfn (= max_low_pfn), printed as "# proof"
#    lines (pid, addr, pfn, boundary);
#  - values: every type (u8..u64, s8..s64, f32, f64, str, hex) through
#    values/ and raw/ (raw/ equals /proc/PID/mem), and again after the target
#    changes them; the 10000-byte `big` region (3 pages);
#  - trace: umsampler:sample and umsampler:region events read from tracefs
#    (exact value and bytes of a u16, op=add and op=del);
#  - mode=change: one event for an unchanged value, one more per change;
#  - fault: a dropped (MADV_DONTNEED) page stays not present and the sample
#    partial without `fault`, and is faulted in (present, not partial) with it;
#  - mirror: a counter sampled by the mirror clock (MIRROR on, PATH mirror,
#    stats mirror_samples) follows the target; after MADV_DONTNEED of a mirrored
#    page the values are the new (zero) bytes;
#  - pointer chains: umschain (-m32 -static) 1..8 hops, a moved node followed,
#    NULL hop unresolved;
#  - lifecycle: op=gone with reason exit, exec and unmapped;
#  - bad input: every line of tests/data/bad-lines.txt gives its errno (the
#    entries whose errno differs on a 32-bit kernel, listed below, with theirs);
#  - rmmod while 40 regions are sampled at 100 us, five times;
#  - /dev/umsampler: an add and the read-back, when the device exists.
# The host (scripts/lane686.sh) scans the console log with scripts/logscan.
# Environment: UMS_DIR (default /ums): umsampler.ko, progs/, bad-lines.txt.
U=${UMS_DIR:-/ums}
P=$U/progs
H=$P/ums386
D=/sys/kernel/debug/umsampler
TR=/sys/kernel/tracing
KO=$U/umsampler.ko
n=0
nfail=0

# --- TAP -------------------------------------------------------------------
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $*"; }
diag() { echo "# $*"; }
# ok DESC CMD...: the command's status
ok() { d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3"; diag "got '$1'"; diag "want '$2'"; fi
}
# ge A B DESC: A >= B (numbers)
ge() {
	if [ "$1" -ge "$2" ] 2>/dev/null; then pass "$3"; else fail "$3"; diag "got $1, want >= $2"; fi
}

# wait_for SECS CMD...: poll CMD every 20 ms until it succeeds
wait_for() {
	_end=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	while ! "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -le "$_end" ] || return 1
		usleep 20000
	done
	return 0
}

w() { "$H" w "$1" "$2"; }		# one write; prints OK or the errno
ctl() { w $D/control "$1"; }
val() { cat "$D/values/$1" 2>/dev/null; }
# the region line's field, by header name: rfield NAME FIELD
rfield() {
	awk -v n="$1" -v f="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["NAME"] == n { print $c[f] }' $D/regions 2>/dev/null
}
samples() { s=$(rfield "$1" SAMPLES); echo "${s:-0}"; }
# snapshot field of region NAME: sfield NAME KEY
sfield() {
	sed -n "s/^id=[0-9]* name=$1 .* $2=\\([^ ]*\\).*/\\1/p" $D/snapshot 2>/dev/null
}
has_samples() { [ "$(samples "$1")" -ge "$2" ]; }
more_samples() { _s0=$(samples "$1"); wait_for 60 has_samples "$1" $((_s0 + $2)); }
stat_of() { awk -v k="$1" '$1 == k { print $2 }' $D/stats; }

# --- target processes ----------------------------------------------------------
# tstart T ARGS: umstarget ARGS reading commands from /tmp/T.in, answers in /tmp/T.out
tstart() {
	_t=$1
	shift
	rm -f "/tmp/$_t.in" "/tmp/$_t.out"
	mkfifo "/tmp/$_t.in"
	"$P/umstarget" --cmd "/tmp/$_t.in" "$@" >"/tmp/$_t.out" 2>&1 &
	eval "${_t}_pid=$!"
	wait_for 30 grep -q '^ready' "/tmp/$_t.out"
}
# the address of variable V of target T: taddr T V
taddr() { awk -v v="$2" '$1 == "var" && $2 == v { print $3 }' "/tmp/$1.out"; }
tlen() { awk -v v="$2" '$1 == "var" && $2 == v { print $4 }' "/tmp/$1.out"; }
answers() { grep -c -E '^(ok|err)' "/tmp/$1.out"; }
# tcmd T CMD: send CMD, wait for its answer, print it
tcmd() {
	_a0=$(answers "$1")
	echo "$2" >"/tmp/$1.in"
	_tw() { [ "$(answers "$1")" -gt "$_a0" ]; }
	wait_for 60 _tw "$1"
	grep -E '^(ok|err)' "/tmp/$1.out" | tail -n 1
}
pid_of() { eval "echo \$${1}_pid"; }
tkill() { _p=$(pid_of "$1"); [ -z "$_p" ] || { kill -9 "$_p" 2>/dev/null; wait "$_p" 2>/dev/null; }; }

# --- highmem proof ---------------------------------------------------------------
# proof PID ADDR LEN WHAT: every page of the range present and in highmem
nproof=0
proof() {
	_lines=$("$H" pfn "$1" "$2" "$3") || return 1
	[ -n "$_lines" ] || return 1
	_bad=0
	while read -r _ pid addr _ present _ pfn; do
		if [ "$present" = 1 ] && [ $((pfn)) -ge $((HM)) ]; then
			_tag=HIGHMEM
			nproof=$((nproof + 1))
		else
			_tag="NOT HIGHMEM (present=$present)"
			_bad=1
		fi
		echo "# proof: pid=$pid addr=$addr pfn=$pfn highmem_start_pfn=$HM ($4) $_tag"
	done <<EOF
$_lines
EOF
	return $_bad
}

# =================================================================================
diag "kernel $(uname -r), $(grep MemTotal /proc/meminfo)"
ok 'insmod umsampler.ko unmapped_limit=4' insmod $KO unmapped_limit=4
ok 'debugfs directory present' test -d $D

# --- the lowmem boundary -----------------------------------------------------------
HM=$(awk '/^Node 0, zone/ { z = $4 } z == "HighMem" && $1 == "start_pfn:" { print $2; exit }' /proc/zoneinfo)
HMP=$(awk '/^Node 0, zone/ { z = $4 } z == "HighMem" && $1 == "present" { print $2; exit }' /proc/zoneinfo)
LOWP=$(awk '/^Node 0, zone/ { z = $4 } z != "HighMem" && $1 == "present" { s += $2 } END { print s + 0 }' /proc/zoneinfo)
ok 'HighMem zone in /proc/zoneinfo' test -n "$HM"
HM=$(printf '0x%x' "${HM:-0}")
diag "lowmem boundary: HighMem start_pfn $HM ($(($(printf '%d' $HM) / 256)) MiB), highmem $((HMP / 256)) MiB, lowmem zones $((LOWP / 256)) MiB"
dmesg | grep -E 'HighMem|LowMem|max_low_pfn' | sed 's/^/# dmesg: /' | head -n 5
ge "$HMP" $((LOWP + 1)) 'most memory is highmem (HighMem present > lowmem present)'
ge $((HM)) $((0x20000)) 'highmem starts above 512 MiB'

# --- values of every type -----------------------------------------------------------
tstart ta
PA=$ta_pid
ok 'umstarget (i386, static) started' test -n "$PA"
TYPES="counter:u32:0 u8:u8:200 u16:u16:65000 u64:u64:18364758544493064720 s8:s8:-5
s16:s16:-30000 s32:s32:-2000000000 s64:s64:-123456789012 f32:f32:-1.5 f64:f64:497.5
str:str:kernel_can_read! shape:hex:44332211665561626364656667686900"
lines=""
for e in $TYPES; do
	v=${e%%:*} r=${e#*:} ty=${r%%:*}
	lines="${lines}add pid=$PA addr=$(taddr ta "$v") len=$(tlen ta "$v") type=$ty name=$v period_us=10000\\n"
done
lines="${lines}add pid=$PA addr=$(taddr ta big) len=10000 name=big period_us=50000\\n"
lines="${lines}add pid=$PA addr=$(taddr ta two) len=8192 name=two period_us=50000\\n"
is "$(ctl "$lines")" OK 'one write adds a region of every type, big and two'
_all2() { awk 'NR > 1 && $9 < 2 { bad = 1 } END { exit bad }' $D/regions; }
ok 'every region sampled twice' wait_for 30 _all2
for e in $TYPES; do
	v=${e%%:*} r=${e#*:} ty=${r%%:*} want=${r#*:}
	[ "$v" = str ] && want='kernel can read!'
	is "$(val "$v")" "$want" "values/$v ($ty) = $want"
	is "$("$H" hex "$D/raw/$v")" "$("$H" mem "$PA" "$(taddr ta "$v")" "$(tlen ta "$v")")" \
		"raw/$v equals /proc/PID/mem"
done
is "$("$H" hex $D/raw/big)" "$("$H" mem "$PA" "$(taddr ta big)" 10000)" 'raw/big (10000 bytes, 3 pages) equals /proc/PID/mem'
is "$(rfield big PARTIAL)" 0 'big: never partial'
is "$("$H" hex $D/raw/two)" "$("$H" mem "$PA" "$(taddr ta two)" 8192)" 'raw/two (2 pages) equals /proc/PID/mem'

# the proof: every page of every region above is a highmem page
pbad=0
for e in $TYPES; do
	v=${e%%:*}
	proof "$PA" "$(taddr ta "$v")" "$(tlen ta "$v")" "$v" || pbad=1
done
proof "$PA" "$(taddr ta big)" 10000 big || pbad=1
proof "$PA" "$(taddr ta two)" 8192 two || pbad=1
is "$pbad" 0 "every sampled page of the values test is in highmem (pfn >= $HM)"

# changed by the target
for c in 'u8 7:7' 'u16 1:1' 's32 -7:-7' 'u64 0x123456789abcdef0:1311768467463790320' \
	 's64 -1:-1' 'f32 0.1:0.1' 'f64 1e16:1e+16' 'str hello:hello'; do
	set -- ${c%%:*}
	is "$(tcmd ta "set $1 $2")" 'ok set' "target sets $1 = $2"
	want=${c#*:}
	_vw() { [ "$(val "$1")" = "$2" ]; }
	ok "values/$1 follows: $want" wait_for 30 _vw "$1" "$want"
done
is "$(tcmd ta 'fill shape 0xab')" 'ok fill' 'target fills shape with 0xab'
_sh() { [ "$(val shape)" = abababababababababababababababab ]; }
ok 'values/shape follows the fill' wait_for 30 _sh
is "$(ctl 'clear\n')" OK 'clear'

# --- trace events from tracefs ---------------------------------------------------------
echo 0 >$TR/tracing_on
echo 1 >$TR/events/umsampler/sample/enable
echo 1 >$TR/events/umsampler/region/enable
echo >$TR/trace
echo 1 >$TR/tracing_on
is "$(ctl "add pid=$PA addr=$(taddr ta u16) type=u16 name=tu16 period_us=10000\\n")" OK 'add tu16'
more_samples tu16 5
is "$(ctl 'del name=tu16\n')" OK 'del tu16'
echo 0 >$TR/tracing_on
grep -v '^#' $TR/trace >/tmp/trace.txt
ns=$(grep -c ' sample: id=[0-9]* .* vtype=u16 .*value=1 .*data=01 *00' /tmp/trace.txt)
ge "$ns" 5 "trace: >= 5 sample events of tu16 with value=1 data=01 00 (got $ns)"
is "$(grep -c 'region: op=add .*name=tu16 ' /tmp/trace.txt)" 1 'trace: one region op=add for tu16'
is "$(grep -c 'region: op=del .*name=tu16 ' /tmp/trace.txt)" 1 'trace: one region op=del for tu16'
is "$(grep -c "sample: .*pid=$PA " /tmp/trace.txt)" "$ns" 'trace: the sample events carry the target pid'
grep ' sample: ' /tmp/trace.txt | head -n 1 | sed 's/^/# event: /'
echo 0 >$TR/events/umsampler/sample/enable
echo 0 >$TR/events/umsampler/region/enable
echo >$TR/trace
echo 1 >$TR/tracing_on

# --- mode=change -----------------------------------------------------------------------------
is "$(ctl "add pid=$PA addr=$(taddr ta u8) type=u8 name=ch period_us=10000 mode=change\\n")" OK 'add ch mode=change'
more_samples ch 10
is "$(rfield ch EMITTED)" 1 'mode=change: 10 samples of an unchanged value, one event'
tcmd ta 'set u8 99' >/dev/null
_em() { [ "$(rfield ch EMITTED)" = "$1" ]; }
ok 'mode=change: one more event after a change' wait_for 30 _em 2
more_samples ch 5
is "$(rfield ch EMITTED)" 2 'mode=change: still two events after 5 more unchanged samples'
is "$(val ch)" 99 'values/ch = 99'
is "$(ctl 'clear\n')" OK 'clear'

# --- fault: resident-only vs fault on a dropped page -------------------------------------------
PG=$(taddr ta page)
is "$(tcmd ta 'dontneed page')" 'ok dontneed' 'MADV_DONTNEED page'
is "$("$H" pfn "$PA" "$PG" 1 | awk '{ print $5 }')" 0 'page not present'
is "$(ctl "add pid=$PA addr=$PG len=4096 name=pro period_us=10000\\n")" OK 'add pro (resident-only)'
more_samples pro 3
is "$(sfield pro flags)" partial 'pro: partial'
is "$("$H" pfn "$PA" "$PG" 1 | awk '{ print $5 }')" 0 'page still not present: resident-only never faults'
is "$(ctl "add pid=$PA addr=$PG len=4096 name=pf period_us=10000 fault\\n")" OK 'add pf (fault)'
more_samples pf 3
is "$(sfield pf flags)" none 'pf: not partial'
is "$(rfield pf PARTIAL)" 0 'pf: PARTIAL 0'
is "$("$H" pfn "$PA" "$PG" 1 | awk '{ print $5 }')" 1 'page present after a fault sample'
# A read fault of a dropped anonymous page maps the shared zero page (in
# the kernel image, so lowmem): anything else faulted in is a highmem page.
FPFN=$("$H" pfn "$PA" "$PG" 1 | awk '{ print $7 }')
FKPF=$("$H" kpf "$FPFN")
diag "faulted in: pid=$PA addr=$PG pfn=$FPFN kpageflags=$FKPF"
if [ $((FPFN)) -ge $((HM)) ] || [ $(((FKPF >> 24) & 1)) = 1 ]; then
	pass 'the faulted-in page is a highmem page or the shared zero page'
else
	fail 'the faulted-in page is a highmem page or the shared zero page'
fi
_np() { [ "$(sfield pro flags)" = none ]; }
ok 'pro: not partial once the page is present' wait_for 30 _np
is "$(ctl 'clear\n')" OK 'clear'

# --- mirror mode ---------------------------------------------------------------------------------
tstart tm --tick-us 2000
PM=$tm_pid
CM=$(taddr tm counter)
is "$(ctl "add pid=$PM addr=$CM type=u32 name=mc period_us=1000 mirror\\n")" OK 'add mc (mirror, 1 ms)'
_mon() { [ "$(rfield mc PATH)" = mirror ] && [ "$(rfield mc MIRROR)" = on ]; }
ok 'mc: MIRROR on, PATH mirror' wait_for 60 _mon
ms0=$(stat_of mirror_samples)
more_samples mc 50
ge "$(($(stat_of mirror_samples) - ms0))" 40 'stats: the mirror clock took the samples'
v1=$(val mc)
_mv() { [ "$(val mc)" -gt $((v1 + 10)) ]; }
ok "mc follows the ticking counter (was $v1)" wait_for 60 _mv
if proof "$PM" "$CM" 4 'mirrored counter'; then pass 'the mirrored counter page is in highmem'; else fail 'the mirrored counter page is in highmem'; fi
# a mirrored page dropped: the notifier hands it back; the next bytes are the new ones
MP=$(taddr tm page)
is "$(ctl "add pid=$PM addr=$MP len=64 name=mp period_us=1000 mirror\\n")" OK 'add mp (mirror, page)'
_mp() { [ "$(rfield mp PATH)" = mirror ] && [ "$(rfield mp MIRROR)" = on ]; }
ok 'mp: mirrored' wait_for 60 _mp
is "$("$H" hex $D/raw/mp)" "$("$H" mem "$PM" "$MP" 64)" 'mp: raw equals /proc/PID/mem (the pattern)'
if proof "$PM" "$MP" 64 'mirrored page'; then pass 'the mirrored page is in highmem'; else fail 'the mirrored page is in highmem'; fi
is "$(tcmd tm 'dontneed page')" 'ok dontneed' 'MADV_DONTNEED the mirrored page'
is "$(tcmd tm 'touch page')" 'ok touch' 'touch it (a new zero-filled page)'
Z64=$(head -c 64 /dev/zero >/tmp/z64 && "$H" hex /tmp/z64)
_z() { [ "$(val mp)" = "$Z64" ]; }
ok 'mp: zeroes after MADV_DONTNEED + touch (no stale frame)' wait_for 60 _z
_z || {
	diag "values/mp: $(val mp)"
	diag "mem: $("$H" mem "$PM" "$MP" 64)"
	diag "$(grep -E 'mp|NAME' $D/regions)"
	diag "$(sed -n '/name=mp /p' $D/snapshot)"
	"$H" pfn "$PM" "$MP" 1 | sed 's/^/# /'
}
ok 'mp: mirrored again' wait_for 60 _mp
if proof "$PM" "$MP" 64 'mirrored page, rebuilt'; then pass 'the new mirrored page is in highmem'; else fail 'the new mirrored page is in highmem'; fi
ge "$(stat_of mirror_handbacks)" 1 'stats: mirror_handbacks'
is "$(ctl 'clear\n')" OK 'clear'
tkill tm

# --- pointer chains in the 32-bit target ------------------------------------------------------
rm -f /tmp/c.in
mkfifo /tmp/c.in
exec 7<>/tmp/c.in
"$P/umschain" </tmp/c.in >/tmp/c.out 2>&1 &
PC=$!
wait_for 30 grep -q '^ready' /tmp/c.out
is "$(awk '$1 == "ptr" { print $2 }' /tmp/c.out)" 4 'umschain: 4-byte pointers'
HEAD=$(awk '$1 == "var" && $2 == "head" { print $3 }' /tmp/c.out)
ONEXT=$(awk '$1 == "off" && $2 == "next" { print $3 }' /tmp/c.out)
OVAL=$(awk '$1 == "off" && $2 == "value" { print $3 }' /tmp/c.out)
lines=""
for k in 1 2 3 4 5 6 7 8; do
	offs=""
	i=1
	while [ $i -lt $k ]; do offs="$offs$ONEXT,"; i=$((i + 1)); done
	lines="${lines}add pid=$PC addr=$HEAD type=u64 period_us=10000 name=c$k deref=$offs$OVAL\\n"
done
is "$(ctl "$lines")" OK 'add chains of 1 to 8 hops'
more_samples c8 2
for k in 1 2 3 4 5 6 7 8; do
	is "$(val c$k)" $((k * 4369)) "c$k: node $k's value ($k * 0x1111)"
done
is "$(rfield c3 DEREF)" "$ONEXT,$ONEXT,$OVAL" 'regions: c3 DEREF'
pbad=0
for k in 1 2 3 4 5 6 7 8; do
	na=$(awk -v k=$k '$1 == "node" && $2 == k { print $3 }' /tmp/c.out)
	proof "$PC" "$na" 32 "heap node $k" || pbad=1
done
proof "$PC" "$HEAD" 4 'head pointer' || pbad=1
is "$pbad" 0 'every page of the chain (head and 8 heap nodes) is in highmem'
echo 'set 3 777' >&7
_c3() { [ "$(val c3)" = "$1" ]; }
ok 'c3 follows a changed value' wait_for 30 _c3 777
echo 'move 3 4242' >&7
ok 'c3 follows the moved node' wait_for 30 _c3 4242
_c8() { [ "$(val c8)" = 34952 ]; }
ok 'c8 still reached through the moved node' wait_for 30 _c8
echo 'null 2' >&7
_un() { sfield c5 flags | grep -q unresolved; }
ok 'NULL hop: c5 unresolved' wait_for 30 _un
is "$(val c5)" '?' 'NULL hop: values/c5 = ?'
is "$(val c1)" 4369 'c1 (before the NULL hop) still resolves'
echo 'restore 2' >&7
_c5() { [ "$(val c5)" = 21845 ]; }
ok 'c5 resolves again' wait_for 30 _c5
is "$(ctl 'clear\n')" OK 'clear'
echo exit >&7
wait $PC 2>/dev/null
exec 7>&-

# --- lifecycle: exit, exec, munmap -----------------------------------------------------------------
echo >$TR/trace
echo 1 >$TR/events/umsampler/region/enable
tstart tx
tstart te
is "$(ctl "add pid=$tx_pid addr=$(taddr tx counter) type=u32 name=gx period_us=1000\\nadd pid=$te_pid addr=$(taddr te counter) type=u32 name=ge period_us=1000\\nadd pid=$PA addr=$(taddr ta two) len=8192 name=gu period_us=1000\\n")" OK 'add gx (exits), ge (execs), gu (unmapped)'
more_samples gx 2
tcmd tx exit >/dev/null
wait "$tx_pid" 2>/dev/null
tcmd te exec >/dev/null
tcmd ta 'unmap two' >/dev/null
_gone() { [ -z "$(rfield gx ID)$(rfield ge ID)$(rfield gu ID)" ]; }
ok 'gx, ge and gu removed' wait_for 30 _gone
grep -v '^#' $TR/trace >/tmp/trace.txt
is "$(grep -c 'region: op=gone .*name=gx .*reason=exit' /tmp/trace.txt)" 1 'exit: op=gone reason=exit'
is "$(grep -c 'region: op=gone .*name=ge .*reason=exec' /tmp/trace.txt)" 1 'exec: op=gone reason=exec'
is "$(grep -c 'region: op=gone .*name=gu .*reason=unmapped' /tmp/trace.txt)" 1 'munmap: op=gone reason=unmapped'
echo 0 >$TR/events/umsampler/region/enable
echo >$TR/trace
tkill te

# --- bad input ---------------------------------------------------------------------------------------
# On a 32-bit kernel PID_MAX_LIMIT is 32768 (64-bit: 4194304): a pid above it
# is malformed (EINVAL), where the table, written for 64-bit, expects ESRCH.
"$H" bad $U/bad-lines.txt >/tmp/bad.txt
nm=$(grep -c '^match' /tmp/bad.txt)
grep '^mismatch' /tmp/bad.txt | grep -v '^mismatch ESRCH EINVAL add pid=4194303 ' >/tmp/badx.txt
ge "$nm" 200 "bad-lines.txt: $nm entries give their errno"
if [ -s /tmp/badx.txt ]; then
	fail 'bad-lines.txt: no other mismatch'
	sed 's/^/# /' /tmp/badx.txt
else
	pass 'bad-lines.txt: no other mismatch'
fi
grep '^mismatch' /tmp/bad.txt | sed 's/^/# 32-bit: /'
is "$(ctl 'add pid=32769 addr=0x1000 len=4\n')" EINVAL 'pid 32769 > PID_MAX_LIMIT (32-bit): EINVAL'
is "$(ctl "add pid=$PA addr=0xc0000000 len=4\\n")" EFAULT 'addr 0xc0000000 (kernel on 3G/1G split): EFAULT'
is "$(ctl "add pid=$PA addr=0xbffffffc len=8\\n")" EFAULT 'range crossing TASK_SIZE: EFAULT'
is "$(ctl "add pid=$PA addr=$(taddr ta u8) type=u8 name=ok1\\nadd pid=$PA addr=0x10 len=4\\n")" EFAULT 'batch with an unmapped line: EFAULT'
is "$(rfield ok1 ID)" '' 'nothing applied'
is "$(awk 'NR > 1' $D/regions | wc -l)" 0 'no region left'

# --- /dev/umsampler ------------------------------------------------------------------------------------
if [ -c /dev/umsampler ]; then
	is "$(w /dev/umsampler "add pid=$PA addr=$(taddr ta u16) type=u16 name=dv period_us=10000\\n")" OK '/dev/umsampler: add'
	more_samples dv 2
	ok '/dev/umsampler: read back the region and its value' sh -c "grep -q '^[0-9]* dv $PA u16 [0-9]* [0-9]* [^ ]* 1\$' /dev/umsampler"
	grep dv /dev/umsampler | sed 's/^/# dev: /'
	is "$(w /dev/umsampler 'del name=dv\n')" OK '/dev/umsampler: del'
else
	pass '# SKIP no /dev/umsampler in this module'
fi

# --- rmmod under load ---------------------------------------------------------------------------------
i=1
rbad=0
while [ $i -le 5 ]; do
	lines=""
	j=0
	for v in counter u8 u16 u64 s8 s16 s32 s64; do
		for p in 100 200 500 1000 2000; do
			lines="${lines}add pid=$PA addr=$(taddr ta $v) type=hex len=$(tlen ta $v) name=l$j period_us=$p\\n"
			j=$((j + 1))
		done
	done
	[ "$(ctl "$lines")" = OK ] || rbad=1
	more_samples l0 20 || rbad=1
	rmmod umsampler || rbad=1
	[ ! -d /sys/module/umsampler ] || rbad=1
	if [ $i -lt 5 ]; then insmod $KO || rbad=1; fi
	i=$((i + 1))
done
is "$rbad" 0 'rmmod while 40 regions are sampled at 100 us..2 ms, 5 times'
ok 'target still alive' kill -0 "$PA"
tkill ta

diag "highmem proof: $nproof pages checked, every one at or above pfn $HM"
ge "$nproof" 29 "highmem proof: all $nproof sampled pages checked were highmem pages"
echo "1..$n"
[ "$nfail" = 0 ]
