#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/fuzz.sh - host fuzzing of the control-line parser (common/parse.c, with the
# renderer) under libFuzzer + ASan + UBSan, for a fixed number of executions.
#
# Usage: scripts/fuzz.sh [EXECS]          (default 2000000; UMS_FUZZ_EXECS also works)
# Environment:
#   UMS_FUZZ_JOBS=N      run N fuzzer processes in parallel, EXECS each (default 1)
#   UMS_FUZZ_SEED=N      libFuzzer -seed (default: random; printed, so a run can be repeated)
#   UMS_FUZZ_MAX_LEN=N   largest input (default 2048 bytes)
#   FUZZ_CC=clang-14     compiler (see tests/host/Makefile.inc)
#
# Seed corpus (build/host/fuzz-seed/, regenerated each run): every WRITE of
# tests/data/bad-lines.txt with its escapes decoded, plus valid lines of every
# command and type. The corpus libFuzzer grows is kept in build/host/fuzz-corpus/
# across runs. A dictionary of the grammar's keywords is passed with -dict.
#
# Crashes, leaks, timeouts and OOMs are written to tests/data/fuzz-crashes/ (as
# crash-<sha1> etc.): commit them with the fix; build/host/fuzz_regress.t (host
# tests) replays every file there. Exit status: 0 no crash, 1 crash (the new
# artifacts are listed), 2 build/usage error.
#
# Needs clang and the compiler-rt runtimes: on Debian 12
#   apt-get install --no-install-recommends clang libclang-rt-14-dev
# (libclang_rt.fuzzer/asan/ubsan come from libclang-rt-14-dev, which clang only
# recommends).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2
EXECS=${1:-${UMS_FUZZ_EXECS:-2000000}}
JOBS=${UMS_FUZZ_JOBS:-1}
MAXLEN=${UMS_FUZZ_MAX_LEN:-2048}
SEED=${UMS_FUZZ_SEED:-$(( (RANDOM << 15 | RANDOM) + 1 ))}
[[ "$EXECS" =~ ^[0-9]+$ && "$JOBS" =~ ^[1-9][0-9]*$ && "$SEED" =~ ^[0-9]+$ ]] ||
	{ echo "usage: $0 [EXECS]  (UMS_FUZZ_JOBS, UMS_FUZZ_SEED numeric)" >&2; exit 2; }

BIN=build/host/fuzz_parse
SEEDDIR=build/host/fuzz-seed
CORPUS=build/host/fuzz-corpus
CRASHES=tests/data/fuzz-crashes
DICT=build/host/fuzz-parse.dict

if ! make --no-print-directory "$BIN" >/dev/null; then
	make --no-print-directory "$BIN"
	echo "fuzz: cannot build $BIN: needs clang and libclang-rt-14-dev (see $0)" >&2
	exit 2
fi
mkdir -p "$SEEDDIR" "$CORPUS" "$CRASHES"
rm -f "$SEEDDIR"/*

# Seeds: the bad-lines table's writes (escapes \n \t \r \v \f \0 \\ \xNN decoded) and good lines.
perl -e '
	my ($table, $dir) = @ARGV;
	my %e = (n => "\n", t => "\t", r => "\r", v => "\x0b", f => "\x0c", 0 => "\0", "\\" => "\\");
	my $n = 0;
	sub put { open(my $f, ">:raw", sprintf("%s/seed-%04d", $dir, $n++)) or die; print $f $_[0]; close $f }
	open(my $fh, "<", $table) or die "$table: $!";
	while (<$fh>) {
		chomp;
		next if /^#/ || !/\S/;
		my (undef, $w) = split /\t/, $_, 3;
		next unless defined $w;
		$w =~ s/\\(x[0-9a-fA-F]{2}|[ntrvf0\\])/length($1) == 3 ? chr(hex(substr($1, 1))) : $e{$1}/ge;
		put($w);
	}
	my @good = (
		"add pid=1 addr=0x1000 len=4\n", "1 0x1000 4\n", "4194304 0x7fffffffe000 4096\n",
		"add pid=123 addr=0x55d0c0de1b90 type=u32 name=counter period_us=1000\n",
		"add type=str len=32 addr=0x7ffc0000 pid=7 mode=change fault name=a.b:c-d_9\n",
		"add pid=2 addr=0x1000 len=65536 period_us=3600000000\n",
		"add pid=2 addr=0x1000 len=1 period_us=100 mode=always\n",
		(map { "add pid=9 addr=0x2000 type=$_ name=v_$_\n" } qw(u8 u16 u32 u64 s8 s16 s32 s64 f32 f64)),
		"add pid=9 addr=0x2000 len=8 type=hex\n", "add pid=9 addr=010000 len=0x10 type=str\n",
		"del 1\n", "del 4294967295\n", "del pid=1\n", "del name=counter\n", "clear\n", "sync\n",
		"enable\n", "disable\nenable\n",
		"# comment\n\n   \nsync\n", "clear\nadd pid=1 addr=0x1000 len=4 name=x\ndel name=x\nsync\n",
		"add pid=1 addr=0x1000 len=4\r\n", "\tadd\tpid=1\taddr=0x1000\tlen=4\t\n",
		"add pid=1 addr=0x1000 len=8 mirror\n", "add pid=1 addr=0x1000 len=8 deref=8\n",
		"add pid=1 addr=0x1000 type=u64 deref=8,-16,0x10,0,0,0,0,8 seq=-8 name=chain\n",
		"add pid=1 addr=0x1000 len=4096 seq=0x2000\n", "add pid=1 addr=0x1000 len=4 seq=+4096\n",
	);
	put($_) for @good;
	put(join("", @good));
	print "$n\n";
' tests/data/bad-lines.txt "$SEEDDIR" >"$SEEDDIR.count" || { echo "fuzz: seed corpus failed" >&2; exit 2; }

cat >"$DICT" <<'EOF'
"add"
"del"
"clear"
"sync"
"enable"
"disable"
"pid="
"addr="
"len="
"type="
"name="
"period_us="
"mode="
"fault"
"mirror"
"deref="
"seq="
","
"+0x"
"-8"
"always"
"change"
"hex"
"u8"
"u16"
"u32"
"u64"
"s8"
"s16"
"s32"
"s64"
"f32"
"f64"
"str"
"0x"
"0x7ffffffff000"
"0xffffffffffffffff"
"18446744073709551615"
"4294967295"
"4194304"
"3600000000"
"65536"
"\x0a"
"#"
EOF

echo "fuzz: $(cat "$SEEDDIR.count") seeds, corpus $(find "$CORPUS" -type f | wc -l) files," \
	"$EXECS executions x $JOBS job(s), -seed=$SEED, max_len $MAXLEN"
before=$(find "$CRASHES" -type f ! -name 'README*' | sort)
start=$(date +%s.%N)
pids=()
for j in $(seq 1 "$JOBS"); do
	log=build/host/fuzz-$j.log
	build/host/fuzz_parse -runs="$EXECS" -max_len="$MAXLEN" -seed=$((SEED + j - 1)) \
		-dict="$DICT" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$CRASHES/" "$CORPUS" "$SEEDDIR" >"$log" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
end=$(date +%s.%N)
after=$(find "$CRASHES" -type f ! -name 'README*' | sort)
new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')

for j in $(seq 1 "$JOBS"); do
	grep -E '^stat::number_of_executed_units|^Done|ERROR|SUMMARY|runtime error|==[0-9]+==' \
		"build/host/fuzz-$j.log" | head -20 | sed "s/^/  [job $j] /"
done
awk -v e="$EXECS" -v j="$JOBS" -v s="$start" -v t="$end" 'BEGIN {
	d = t - s; printf "fuzz: %d executions in %.1f s (%.0f exec/s over %d job(s))\n", e * j, d, e * j / d, j }'
if [ -n "$new" ] || [ "$rc" -ne 0 ]; then
	echo "fuzz: FAILED; logs build/host/fuzz-*.log; new inputs in $CRASHES/:" >&2
	# shellcheck disable=SC2001
	echo "$new" | sed 's/^/  /' >&2
	echo "reproduce: $BIN $CRASHES/<file>; replay all: make build/host/fuzz_regress.t && build/host/fuzz_regress.t" >&2
	exit 1
fi
echo "fuzz: no crash"
exit 0
