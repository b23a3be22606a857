#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 10-values.t - sampled values are exact: values/ text and raw/ bytes for every
# type (and after the target changes them), the snapshot entries with their
# hexdumps, the 10000-byte `big` region, the regions and stats files (counters
# consistent with each other while paused), `enabled` pause/resume, the
# shorthand add, multi-line batches, every form of `del`, `clear` and `sync`.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;

my @targets;


# Canonical hexdump of the module (render.c), for exact comparison.
sub hexdump {
	my ($d) = @_;
	my $len = length $d;
	my $w = 4;
	$w++ while $w < 16 && ($len >> (4 * $w));
	my $out = '';
	for (my $off = 0; $off < $len; $off += 16) {
		my $l = sprintf("  %0${w}x: ", $off);
		for my $i (0 .. 15) {
			$l .= ' ' if $i == 8;
			$l .= $off + $i < $len ? sprintf('%02x ', ord(substr($d, $off + $i, 1))) : '   ';
		}
		(my $asc = substr($d, $off, 16)) =~ s/[^\x20-\x7e]/./g;
		$out .= "$l |$asc|\n";
	}
	return $out;
}

ok(ums_load(), 'insmod');
my $t = Ums::target();
push @targets, $t;
my $pid = $t->pid;

# name => [type, expected text, expected raw bytes]
my @vars = (
	[counter => 'u32', '0', pack('V', 0)],
	[u8 => 'u8', '200', pack('C', 200)],
	[u16 => 'u16', '65000', pack('v', 65000)],
	[u64 => 'u64', '18364758544493064720', pack('V2', 0x76543210, 0xfedcba98)],
	[s8 => 's8', '-5', pack('c', -5)],
	[s16 => 's16', '-30000', pack('s<', -30000)],
	[s32 => 's32', '-2000000000', pack('l<', -2000000000)],
	[s64 => 's64', '-123456789012', pack('q<', -123456789012)],
	[f32 => 'f32', '-1.5', pack('f<', -1.5)],
	[f64 => 'f64', '497.5', pack('d<', 497.5)],
	[str => 'str', 'kernel can read!', "kernel can read!" . ("\0" x 16)],
	[shape => 'hex', '44332211665561626364656667686900',
	 pack('H*', '44332211665561626364656667686900')],
);

my $id = 0;	# the last region id
my %id;		# name => id
my $pattern = join('', map { chr($_ % 251) } 0 .. 9999);	# the bytes of `big`
my $snap;

# Names of the listed regions; the listed names but the given ones, as of @all.
my @all;
sub names { return join(' ', sort map { $_->{name} } regions()) }
sub without { my %x = map { $_ => 1 } @_; return join(' ', grep { !$x{$_} } @all) }

# --- one region per type ---------------------------------------------------
subtest 'one region per type' => sub {
	for my $v (@vars) {
		my ($n, $type) = @$v;
		my $line = $t->add_line($n, type => $type, name => $n, period_us => 10000);
		is(ctl_errno("$line\n"), 0, "add $n as $type");
		$id{$n} = ++$id;
	}
	my $big = $t->add_line('big', name => 'big', period_us => 50000);
	is(ctl_errno("$big\n"), 0, 'add big (10000 bytes hex)');
	$id{big} = ++$id;
	ok(wait_for(sub { !grep { $_->{samples} < 2 } regions() }, 20), 'every region sampled twice');

	for my $v (@vars) {
		my ($n, $type, $text, $raw) = @$v;
		is(rd("values/$n"), "$text\n", "values/$n = $text");
		is(rd("raw/$n"), $raw, "raw/$n bytes");
		is(length(rd("raw/$n")), $t->len($n), "raw/$n has LEN bytes");
	}
	is(length(rd('raw/big')), 10000, 'raw/big is 10000 bytes');
	ok(rd('raw/big') eq $pattern, 'raw/big is the i % 251 pattern');
	ok(rd('values/big') eq unpack('H*', $pattern) . "\n", 'values/big is the pattern in lowercase hex');
};

# --- snapshot -----------------------------------------------------------------
subtest 'snapshot' => sub {
	$snap = snapshot();
	ok(!exists $snap->{'!bad'}, 'snapshot: every line parses') or diag($snap->{'!bad'});
	is(scalar(grep { !/^!/ } keys %$snap), scalar(@vars) + 1, 'snapshot: one entry per region');
	for my $v (@vars, [big => 'hex', undef, $pattern]) {
		my ($n, $type, $text, $raw) = @$v;
		my $e = $snap->{$n};
		ok($e, "snapshot: entry $n") or next;
		is($e->{id}, $id{$n}, "snapshot $n: id=$id{$n}");
		is($e->{pid}, $pid, "snapshot $n: pid");
		cmp_ok($e->{seq}, '>=', 2, "snapshot $n: seq >= 2");
		is($e->{type}, $type, "snapshot $n: type=$type");
		is($e->{flags}, 'none', "snapshot $n: flags=none (constant value)");
		if ($type eq 'hex') {
			ok(!defined $e->{value}, "snapshot $n: hex region has no value= (the hexdump is the value)");
		} else {
			is($e->{value}, $text, "snapshot $n: value=$text");
		}
		ok($e->{dump} eq hexdump($raw), "snapshot $n: hexdump") or diag("got:\n$e->{dump}want:\n" . hexdump($raw));
	}
};

# --- regions ------------------------------------------------------------------
subtest 'regions and stats' => sub {
	my @hdr = rd_lines('regions');
	is($hdr[0], 'ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ', 'regions header');
	my @r1 = regions();
	is(scalar @r1, scalar(@vars) + 1, 'regions: one line per region');
	for my $v (@vars, [big => 'hex']) {
		my ($n, $type) = @$v;
		my $r = region_by_name($n);
		ok($r, "regions: line for $n") or next;
		is(join(' ', @$r{qw(id pid addr len period_us type mode name)}),
		   join(' ', $id{$n}, $pid, $t->addr($n), $t->len($n), $n eq 'big' ? 50000 : 10000, $type,
			'always', $n), "regions: $n fields");
		is($r->{partial}, 0, "regions: $n PARTIAL 0");
		cmp_ok($r->{samples} - $r->{emitted}, '<=', 1, "regions: $n EMITTED follows SAMPLES (mode always)");
		cmp_ok($r->{emitted}, '<=', $r->{samples}, "regions: $n EMITTED <= SAMPLES");
	}
	my $st1 = stats();
	is($st1->{regions}, scalar(@vars) + 1, 'stats: regions count');
	is($st1->{targets}, 1, 'stats: one target');
	sleep 0.3;
	my $st2 = stats();
	my %r2 = map { $_->{name} => $_ } regions();
	cmp_ok($r2{u8}{samples}, '>', (grep { $_->{name} eq 'u8' } @r1)[0]{samples}, 'regions: u8 SAMPLES increases');
	cmp_ok($r2{u8}{emitted}, '>', (grep { $_->{name} eq 'u8' } @r1)[0]{emitted}, 'regions: u8 EMITTED increases');
	cmp_ok($st2->{samples}, '>', $st1->{samples}, 'stats: samples increases');
	cmp_ok($st2->{bytes}, '>', $st1->{bytes}, 'stats: bytes increases');
	cmp_ok($st2->{ticks}, '>', $st1->{ticks}, 'stats: ticks increases');
};

# --- enabled: pause, counters consistent and frozen, resume -------------------
subtest 'enabled: pause and resume' => sub {
	is(set_enabled(0), 0, 'enabled <- 0');
	is(rd('enabled'), "0\n", 'enabled reads 0');
	ok(wait_quiet(), 'sampling stops');
	my $p1 = stats();
	my @rp = regions();
	sleep 0.3;
	my $p2 = stats();
	is($p2->{samples}, $p1->{samples}, 'paused: stats samples constant over 300 ms');
	is($p2->{ticks}, $p1->{ticks}, 'paused: stats ticks constant');
	is(join(',', map { $_->{samples} } regions()), join(',', map { $_->{samples} } @rp),
	   'paused: every region SAMPLES constant');
	my ($sum_s, $sum_b, $sum_e, $sum_p) = (0, 0, 0, 0);
	for my $r (@rp) {
		$sum_s += $r->{samples};
		$sum_b += $r->{samples} * $r->{len};
		$sum_e += $r->{emitted};
		$sum_p += $r->{partial};
		is($r->{emitted}, $r->{samples}, "paused: $r->{name} EMITTED == SAMPLES");
	}
	is($p2->{samples}, $sum_s, 'stats samples == sum of SAMPLES');
	is($p2->{bytes}, $sum_b, 'stats bytes == sum of LEN * SAMPLES');
	is($p2->{emitted}, $sum_e, 'stats emitted == sum of EMITTED');
	is($p2->{partial}, $sum_p, 'stats partial == sum of PARTIAL');
	is($p2->{partial}, 0, 'stats partial 0');
	is(set_enabled(1), 0, 'enabled <- 1');
	is(rd('enabled'), "1\n", 'enabled reads 1');
	ok(wait_for(sub { stats()->{samples} > $p2->{samples} + 20 }, 10), 'sampling resumes');
	my ($u8p) = grep { $_->{name} eq 'u8' } @rp;
	ok(wait_for(sub { region_by_name('u8')->{samples} > $u8p->{samples} + 2 }, 10), 'u8 SAMPLES grows again');
};

# --- values follow changes in the target --------------------------------------
subtest 'values follow changes in the target' => sub {
	my @changes = (
		['f64', '0.1', '0.1', pack('d<', 0.1)],
		['f64', '1e16', '1e+16', pack('d<', 1e16)],
		['f64', '-0', '-0', pack('V2', 0, 0x80000000)],
		['f64', 'inf', 'inf', pack('V2', 0, 0x7ff00000)],
		['f32', '0.1', '0.1', pack('V', 0x3dcccccd)],
		['f32', '-inf', '-inf', pack('V', 0xff800000)],
		['f32', '3e38', '3e+38', pack('f<', 3e38)],
		['s64', '-1', '-1', "\xff" x 8],
		['s64', '9223372036854775807', '9223372036854775807', pack('V2', 0xffffffff, 0x7fffffff)],
		['u64', '0', '0', "\0" x 8],
		['u64', '18446744073709551615', '18446744073709551615', "\xff" x 8],
		['s8', '-128', '-128', "\x80"],
		['u8', '0', '0', "\0"],
		['s16', '32767', '32767', pack('v', 32767)],
		['u16', '65535', '65535', "\xff\xff"],
		['s32', '-1', '-1', "\xff" x 4],
		['counter', '4294967295', '4294967295', "\xff" x 4],
		['str', "a\"b\\c\td\x01\x7f\xe9 z\r", q{a\"b\\\\c\td\x01\x7f\xe9 z\r},
		 "a\"b\\c\td\x01\x7f\xe9 z\r" . ("\0" x 19)],
		['str', 'x' x 31, 'x' x 31, ('x' x 31) . "\0"],
		['str', '', undef, "\0" x 32],
	);
	for my $c (@changes) {
		my ($n, $set, $text, $raw) = @$c;
		$text //= '';
		(my $show = $set) =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
		is($t->cmd($set eq '' ? "fill str 0" : "set $n $set"), $set eq '' ? 'ok fill' : 'ok set',
		   "target: set $n $show");
		ok(wait_for(sub { (rd("values/$n") // '') eq "$text\n" }, 10), "values/$n becomes '$text'")
			or diag('got ' . (rd("values/$n") // 'undef'));
		is(rd("raw/$n"), $raw, "raw/$n bytes for $show");
	}
	$t->cmd('set f64 nan');
	ok(wait_for(sub { rd('values/f64') eq "nan\n" }, 10), 'values/f64 nan');
	my ($lo, $hi) = unpack('V2', rd('raw/f64'));
	ok(($hi & 0x7ff00000) == 0x7ff00000 && (($hi & 0xfffff) || $lo), 'raw/f64 is a NaN encoding');
	$snap = snapshot();
	is($snap->{f64}{value}, 'nan', 'snapshot f64 value=nan');
	is($snap->{s64}{value}, '9223372036854775807', 'snapshot s64 value follows');
	is($snap->{str}{value}, '', 'snapshot str value= empty for an empty string');
	like($snap->{str}{line}, qr/ value=$/, 'snapshot str line ends with "value="');
};


# --- shorthand, multi-line batch ---------------------------------------------
subtest 'shorthand and multi-line batch' => sub {
	my $nid = $id + 1;
	is(ctl_errno(sprintf("%d %s %d\n", $pid, $t->addr('shape'), 16)), 0, 'shorthand PID ADDR LEN');
	my $rs = region_by_name("r$nid");
	ok($rs, "shorthand region is named r$nid") and
		is(join(' ', @$rs{qw(id pid addr len period_us type mode)}),
		   "$nid $pid " . $t->addr('shape') . ' 16 10000 hex always', 'shorthand region fields (hex, default period)');
	ok(wait_for(sub { (rd("values/r$nid") // '') ne '' }, 10), "values/r$nid sampled");
	is(rd("values/r$nid"), "44332211665561626364656667686900\n", "values/r$nid is the shape");
	is(rd("raw/r$nid"), pack('H*', '44332211665561626364656667686900'), "raw/r$nid");
	$id = $nid;

	my $batch = $t->add_line('u16', name => 'm1', period_us => 20000) . "\n" .
		"# a comment\n\n" . $t->add_line('s32', name => 'm2', type => 's32', period_us => 30000) . "\n";
	is(ctl_errno($batch), 0, 'multi-line write with two adds');
	my $m1 = region_by_name('m1');
	my $m2 = region_by_name('m2');
	ok($m1 && $m2, 'both regions of the batch exist');
	is($m1 && $m1->{id}, $id + 1, 'm1 id');
	is($m2 && $m2->{id}, $id + 2, 'm2 id');
	is($m1 && "$m1->{period_us} $m1->{type}", '20000 u16', 'm1 period/type');
	is($m2 && "$m2->{period_us} $m2->{type}", '30000 s32', 'm2 period/type');
	ok(wait_for(sub { (rd('values/m1') // '') eq "65535\n" && (rd('values/m2') // '') eq "-1\n" }, 10),
	   'm1/m2 values (65535, -1)');
	$id += 2;
	is(stats()->{regions}, $id, "stats: $id regions");
};

# --- sync ---------------------------------------------------------------------
subtest 'sync' => sub {
	is(ctl_errno("sync\n"), 0, 'sync');
	is(scalar(regions()), $id, 'sync keeps all regions');
	is(rd('control'), '', 'control: no failure recorded');
};

# --- del ID / del name= / del pid= / clear ------------------------------------
subtest 'del ID, del name=, del pid=, clear' => sub {
	@all = sort map { $_->{name} } regions();

	is(ctl_errno("del $id{u8}\n"), 0, "del $id{u8} (u8)");
	is(names(), without('u8'), 'del ID removed exactly u8');
	ok(!-e dbg('values/u8') && !-e dbg('raw/u8'), 'values/u8 and raw/u8 removed');
	ok(-e dbg('values/u16') && -e dbg('raw/u16'), 'values/u16 and raw/u16 still there');
	is(ctl_errno("del $id{u8}\n"), Errno::ENOENT(), 'del of a deleted id: ENOENT');

	is(ctl_errno("del name=m1\n"), 0, 'del name=m1');
	is(names(), without('u8', 'm1'), 'del name= removed exactly m1');
	ok(!-e dbg('values/m1') && !-e dbg('raw/m1'), 'values/m1 and raw/m1 removed');

	my $t2 = Ums::target();
	push @targets, $t2;
	is(ctl_errno(join('', map { $t2->add_line($_, name => "t2$_", type => $_) . "\n" } qw(u8 s8))), 0,
	   'second target: two regions');
	is(stats()->{targets}, 2, 'stats: two targets');
	ok(wait_for(sub { (rd('values/t2u8') // '') eq "200\n" && (rd('values/t2s8') // '') eq "-5\n" }, 10),
	   'second target values');
	is(ctl_errno("del pid=" . $t2->pid . "\n"), 0, 'del pid=');
	is(names(), without('u8', 'm1'), 'del pid= removed exactly the second target\'s regions');
	ok(!-e dbg('values/t2u8') && !-e dbg('raw/t2s8'), 'their files removed');
	is(stats()->{targets}, 1, 'stats: one target left');
	is(ctl_errno("del pid=" . $t2->pid . "\n"), Errno::ENOENT(), 'del pid= again: ENOENT');

	is(ctl_errno("clear\n"), 0, 'clear');
	is(scalar(regions()), 0, 'clear removed every region');
	is(rd('regions'), "ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ\n", 'regions: header only');
	is(rd('snapshot'), '', 'snapshot empty');
	my @left = (glob(dbg('values') . '/*'), glob(dbg('raw') . '/*'));
	is(scalar @left, 0, 'values/ and raw/ empty') or diag("@left");
	my $sc = stats();
	is("$sc->{regions} $sc->{targets}", '0 0', 'stats: 0 regions, 0 targets');
	is(ctl_errno("sync\n"), 0, 'sync with no regions');
};

$_->kill for @targets;
ok(ums_unload(), 'rmmod');
ok(!ums_loaded(), 'module unloaded');
done_testing();

END { ums_cleanup(@targets) }
