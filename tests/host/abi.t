#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# abi.t - the facts of common/umsampler_abi.h that other files restate agree
# with it: the perf script's value types, sizes, flag bits and chunk size; the
# tracepoint header's __print_symbolic() lists (value types, ops, modes,
# reasons: names in enum order); the umsampler:batch layout that the perf script and
# decode.h restate; Ums.pm's chunk size; 70-fuzz.t's types.
# Every list is read from the ABI header's X-macros, so a new type, flag,
# reason or mode that one of them misses fails here.
use strict;
use warnings;
use FindBin;
use Test::More;

my $ROOT = "$FindBin::Bin/../..";
sub slurp { my ($f) = @_; open(my $h, '<', "$ROOT/$f") or die "$f: $!"; local $/; return <$h> }

my $abi = slurp('common/umsampler_abi.h');
# The body of "#define NAME(X) ...": continuation lines joined, comments dropped.
sub xmacro {
	my ($name) = @_;
	my ($body) = $abi =~ /^#define \Q$name\E\(X\)((?:[^\n]*\\\n)*[^\n]*)/m or die "no $name";
	$body =~ s{/\*.*?\*/}{}gs;
	$body =~ s/\\\n/ /g;
	return [ map { [ split /\s*,\s*/ ] } $body =~ /X\(([^)]*)\)/g ];
}
my @vt = @{ xmacro('UMS_VTYPES') };
my @fl = @{ xmacro('UMS_FLAGS') };
my @ops = @{ xmacro('UMS_REGION_OPS') };
my @why = @{ xmacro('UMS_GONE_REASONS') };
my @modes = @{ xmacro('UMS_MODES') };
my ($chunk) = $abi =~ /^#define UMS_EVENT_CHUNK\s+(\d+)/m;
cmp_ok(scalar(@vt), '==', 12, 'ABI: 12 value types');
ok(@fl && @ops && @why && @modes && $chunk, 'ABI: flags, ops, reasons, modes, chunk size found');

# --- tracing/umsampler-perf.py -------------------------------------------------------
my $py = slurp('tracing/umsampler-perf.py');
my ($pvt) = $py =~ /^VTYPES = \[([^\]]*)\]/m;
is_deeply([ $pvt =~ /'(\w+)'/g ], [ map { $_->[1] } @vt ], 'perf script: VTYPES in enum order');
my ($psz) = $py =~ /^SIZES = \[([^\]]*)\]/m;
is_deeply([ split /\s*,\s*/, $psz ], [ map { $_->[2] } @vt ], 'perf script: SIZES');
my ($pch) = $py =~ /^CHUNK = (\d+)/m;
is($pch, $chunk, 'perf script: CHUNK');
my ($fnames, $fvals) = $py =~ /^((?:F_\w+, )*F_\w+) = ([\d, ]+)$/m;
my %pf;
@pf{ split /, /, $fnames } = split /, /, $fvals;
is_deeply(\%pf, { map { ('F_' . $_->[0], hex($_->[2])) } @fl }, 'perf script: flag bits');
for my $f (@fl) {
	like($py, qr/\(F_$f->[0], '$f->[1]'\)/, "perf script: flag $f->[1] named");
}

# --- module/umsampler_trace.h ----------------------------------------------------------
my $tr = slurp('module/umsampler_trace.h');
sub symbols {
	my ($field, $prefix) = @_;
	my ($list) = $tr =~ /__print_symbolic\(\Q$field\E,([^)]*)\)/s or return [];
	my @pairs;
	push @pairs, [ $1, $2 ] while $list =~ /\{\s*$prefix(\w+),\s*"(\w+)"\s*\}/g;
	return \@pairs;
}
for ([ 't', 'UMS_VT_', \@vt, 'value types' ], [ '__entry->op', 'UMS_REG_', \@ops, 'ops' ],
     [ '__entry->mode', 'UMS_MODE_', \@modes, 'modes' ], [ '__entry->reason', 'UMS_WHY_', \@why, 'reasons' ]) {
	my ($field, $prefix, $want, $what) = @$_;
	my $got = [ map { "$_->[0]=$_->[1]" } @{ symbols($field, $prefix) } ];
	is_deeply($got, [ map { "$_->[0]=$_->[1]" } @$want ], "trace header: $what printed as the ABI names them");
}

{
	my ($list) = $tr =~ /__print_flags\(__entry->flags, "\|",([^)]*)\)/s;
	my @got;
	push @got, "$1=$2" while ($list // '') =~ /\{\s*UMS_F_(\w+),\s*"(\w+)"\s*\}/g;
	is_deeply(\@got, [ map { "$_->[0]=$_->[1]" } @fl ], 'trace header: flags printed as the ABI names them');
	my @tde = $tr =~ /^(UMS_\w+)\(UMS_TDE_\w+\)$/mg;
	is_deeply([ sort @tde ], [ sort qw(UMS_VTYPES UMS_REGION_OPS UMS_MODES UMS_GONE_REASONS UMS_FLAGS) ],
		  'trace header: TRACE_DEFINE_ENUM for every enum list printed (flags included)');
}

# umsampler:batch: its fields in the order the perf script reads the raw record (addr, pid,
# count, then the arrays), the arrays' names and element sizes in umsampler-perf.py and
# tracing/decode.h
{
	my ($ev) = $tr =~ /TRACE_EVENT\(batch,(.*?)\n\);/s;
	my ($ent) = ($ev // '') =~ /TP_STRUCT__entry\((.*?)\n\t\),/s;
	my @f = ($ent // '') =~ /__(?:field|dynamic_array)\((\w+), (\w+)/g;
	my (@scal, @arr);
	while (my ($ty, $nm) = splice(@f, 0, 2)) {
		push @{ $ent =~ /__dynamic_array\(\Q$ty\E, \Q$nm\E\b/ ? \@arr : \@scal }, "$nm:$ty";
	}
	is("@scal", 'addr:u64 pid:s32 count:u32', 'batch event: addr, pid, count first (no padding)');
	my %fmt = (u8 => 'B', u16 => 'H', u32 => 'I', u64 => 'Q');
	my ($pba) = $py =~ /^BATCH_ARRAYS = \((.*?)\)\n\n/ms;
	my @pa;
	push @pa, "$1:$2" while ($pba // '') =~ /\('(\w+)', '(\w)'\)/g;
	is("@pa", join(' ', map { my ($n, $t) = split /:/; "$n:$fmt{$t}" } @arr),
	   'perf script: BATCH_ARRAYS as the trace header declares them');
	my $dh = slurp('tracing/decode.h');
	my ($dn) = $dh =~ /ums_batch_array_names\[UMS_BA_NR\] = \{(.*?)\}/s;
	my ($ds) = $dh =~ /ums_batch_array_sizes\[UMS_BA_NR\] = \{(.*?)\}/s;
	my %sz = (u8 => 1, u16 => 2, u32 => 4, u64 => 8);
	is(join(' ', ($dn // '') =~ /"(\w+)"/g), join(' ', map { (split /:/)[0] } @arr),
	   'decode.h: batch array names in the trace header\'s order');
	is(join(' ', ($ds // '') =~ /(\d+)/g), join(' ', map { $sz{ (split /:/)[1] } } @arr),
	   'decode.h: batch array element sizes');
}

# --- guest tests -------------------------------------------------------------------------
my ($pm) = slurp('tests/lib/Ums.pm') =~ /^our \$CHUNK = (\d+);/m;
is($pm, $chunk, 'Ums.pm: $CHUNK');
my ($ft) = slurp('tests/guest/70-fuzz.t') =~ /^my \@TYPES = qw\(([^)]*)\);/m;
is_deeply([ split ' ', $ft ], [ map { $_->[1] } @vt ], '70-fuzz.t: @TYPES');

done_testing();
