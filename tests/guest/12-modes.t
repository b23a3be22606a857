#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 12-modes.t - mode=change emits exactly the first sample and one per change;
# resident-only sampling never faults pages in (partial samples, zeroes, "?"
# for scalars, pages stay non-present in /proc/PID/pagemap) while `fault`
# regions do; MADV_DONTNEED turns a resident-only region partial and touching
# the page makes it whole again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;


my $TR = '/sys/kernel/tracing';
my $EV = 'events/umsampler/sample';
my @targets;
my %cleanup;


sub snap { return snapshot()->{$_[0]} // {} }

sub ft_on {
	my ($filter) = @_;
	$cleanup{on} //= slurp("$TR/tracing_on");
	$cleanup{trace} = 1;
	return trace_write("$EV/enable", "0\n") && trace_write('trace', '') && trace_write("$EV/filter", "$filter\n") &&
		trace_write("$EV/enable", "1\n") && trace_write('tracing_on', "1\n");
}
sub ft_off { return trace_write("$EV/enable", "0\n") }

ok(ums_load(), 'insmod');
my $t = Ums::target();
push @targets, $t;
my $pid = $t->pid;
my $two = $t->{var}{two}{addr};

# --- mode=change ------------------------------------------------------------
subtest 'mode=change' => sub {
	my $K = 5;
	ok(ft_on('id == 1'), "ftrace: umsampler:sample with filter 'id == 1'");
	is(slurp("$TR/$EV/filter"), "id == 1\n", 'filter reads back');
	is(ctl_errno($t->add_line('counter', name => 'chg', mode => 'change', period_us => 10000) . "\n"), 0,
	   'add chg (id 1): counter, mode=change, 10 ms');
	my $chg = region_by_name('chg');
	is($chg && "$chg->{id} $chg->{mode} $chg->{period_us}", '1 change 10000', 'regions: id 1, mode change');
	ok(wait_for(sub { (rd('values/chg') // '') eq "0\n" }, 10), 'values/chg = 0');
	sleep 0.2;
	for my $i (1 .. $K) {
		is($t->cmd('inc counter'), 'ok inc', "inc counter ($i)");
		ok(wait_for(sub { (rd('values/chg') // '') eq "$i\n" }, 10), "values/chg = $i");
		sleep 0.2;
	}
	my $r1 = region_by_name('chg');
	is($r1->{emitted}, $K + 1, "regions: EMITTED == $K + 1 (first sample + one per change)");
	cmp_ok($r1->{samples}, '>=', 40, 'regions: SAMPLES counts every sample (>= 40 in ~1.4 s at 10 ms)');
	is($r1->{partial}, 0, 'regions: PARTIAL 0');
	sleep 0.3;
	my $r2 = region_by_name('chg');
	cmp_ok($r2->{samples}, '>', $r1->{samples} + 5, 'regions: SAMPLES keeps growing');
	is($r2->{emitted}, $K + 1, 'regions: EMITTED unchanged without changes');
	is(snap('chg')->{flags}, 'none', 'snapshot: latest sample not flagged changed');
	is(snap('chg')->{value}, $K, "snapshot: value=$K");
	ok(ft_off(), 'disable the event');
	my @e = sample_events();
	is(scalar @e, $K + 1, "trace: exactly $K + 1 sample events");
	is(join(',', map { $_->{value} } @e), join(',', 0 .. $K), "trace: values 0..$K in order");
	is(scalar(grep { $_->{id} != 1 || ($_->{flags} // '') !~ /\bchanged\b/ || $_->{data} ne pack('V', $_->{value}) } @e),
	   0, 'trace: all id 1, flagged changed, data == value');
	is($e[0]{seq}, 1, 'trace: first event has seq 1');
	is(scalar(grep { $e[$_]{seq} <= $e[$_ - 1]{seq} } 1 .. $#e), 0, 'trace: seq strictly increasing');
	cmp_ok($e[-1]{seq}, '>', $e[0]{seq} + 4 * $K, 'trace: seq has gaps (unchanged samples counted, not emitted)');
	is(scalar(grep { $e[$_]{seq} - $e[$_ - 1]{seq} < 2 } 1 .. $#e), 0,
	   'trace: unchanged samples (seq gaps) between changes made 200 ms apart');
};

# --- resident-only: a never-touched page -------------------------------------
subtest 'resident-only: a never-touched page' => sub {
	my $fresh = $t->{var}{fresh}{addr};
	is(pagemap_present($pid, $fresh), 0, 'fresh page not present before sampling');
	ok(ft_on('id == 2 || id == 3'), "ftrace: filter 'id == 2 || id == 3'");
	is(ctl_errno($t->add_line('fresh', name => 'fresh', period_us => 10000) . "\n" .
		     $t->add_line('fresh', name => 'fresh32', type => 'u32', len => 4, period_us => 10000) . "\n"),
	   0, 'add fresh (id 2, hex 4096) and fresh32 (id 3, u32) on the never-touched page');
	ok(wait_for(sub { !grep { $_->{samples} < 5 } grep { $_->{name} =~ /^fresh/ } regions() }, 10),
	   'both sampled 5 times');
	is(set_enabled(0), 0, 'pause sampling');
	ok(wait_quiet(), 'sampler quiet');
	ok(ft_off(), 'disable the event');
	for my $n ('fresh', 'fresh32') {
		my $r = region_by_name($n);
		cmp_ok($r->{samples}, '>=', 5, "$n: SAMPLES >= 5");
		is($r->{partial}, $r->{samples}, "$n: PARTIAL == SAMPLES");
		is(snap($n)->{flags}, 'partial', "$n: snapshot flags=partial");
	}
	my $st = stats();
	is($st->{partial}, region_by_name('fresh')->{partial} + region_by_name('fresh32')->{partial},
	   'stats partial == sum of PARTIAL');
	is(rd('values/fresh'), ('00' x 4096) . "\n", 'values/fresh: zeroes');
	is(rd('raw/fresh'), "\0" x 4096, 'raw/fresh: 4096 zero bytes');
	is(rd('values/fresh32'), "?\n", 'values/fresh32: "?" for a partial scalar');
	is(rd('raw/fresh32'), "\0" x 4, 'raw/fresh32: zero bytes');
	is(snap('fresh32')->{value}, '?', 'snapshot fresh32 value=?');
	is(pagemap_present($pid, $fresh), 0, 'fresh page still not present: resident-only never faults');
	my @f = sample_events();
	my @f32 = grep { $_->{id} == 3 } @f;
	cmp_ok(scalar @f32, '>=', 5, 'trace: >= 5 events of fresh32');
	is(join(',', map { $_->{seq} } @f32), join(',', 1 .. scalar @f32), 'trace fresh32: seq 1..N');
	is($f32[0]{flags}, 'partial|changed', 'trace fresh32: first sample flags=partial|changed');
	is(scalar(grep { $_->{seq} > 1 && $_->{flags} ne 'partial' } @f32), 0, 'trace fresh32: later samples flags=partial');
	is(scalar(grep { $_->{value} != 0 || $_->{data} ne "\0" x 4 || $_->{vtype} ne 'u32' } @f32), 0,
	   'trace fresh32: value 0, data 4 zero bytes');
	# fresh (4096 bytes): chunks of $Ums::CHUNK bytes; every one renders completely in the
	# text trace (each must fit the kernel's trace_seq) with flags, vtype and zero data.
	my $nchunks = int(4096 / $Ums::CHUNK);
	my %fc;
	push @{$fc{$_->{offset}}}, $_ for grep { $_->{id} == 2 } @f;
	is(join(',', sort { $a <=> $b } keys %fc), join(',', map { $_ * $Ums::CHUNK } 0 .. $nchunks - 1),
	   "trace fresh: chunks at every multiple of $Ums::CHUNK");
	for my $off (sort { $a <=> $b } keys %fc) {
		my @ch = @{$fc{$off}};
		cmp_ok(scalar @ch, '>=', 5, "trace fresh: >= 5 chunks at offset $off");
		is(join(',', map { $_->{seq} } @ch), join(',', 1 .. scalar @ch), "trace fresh \@$off: seq 1..N");
		is($ch[0]{flags}, 'partial|changed', "trace fresh \@$off: first sample flags=partial|changed");
		is(scalar(grep { $_->{seq} > 1 && $_->{flags} ne 'partial' } @ch), 0,
		   "trace fresh \@$off: later samples flags=partial");
		is(scalar(grep { $_->{data} ne "\0" x $Ums::CHUNK || $_->{vtype} ne 'hex' } @ch), 0,
		   "trace fresh \@$off: $Ums::CHUNK zero bytes, vtype hex");
	}
	is(set_enabled(1), 0, 'resume sampling');
};

# --- fault vs resident-only on dropped pages -----------------------------------
subtest 'fault vs resident-only on dropped pages' => sub {
	is($t->cmd('dontneed two'), 'ok dontneed', 'MADV_DONTNEED the two pages of `two`');
	is(pagemap_present($pid, $two) + pagemap_present($pid, $two + 4096), 0, 'two: both pages not present');
	is(ctl_errno($t->add_line('two', name => 'two_ro', period_us => 10000) . "\n"), 0, 'add two_ro (id 4, resident-only)');
	ok(wait_for(sub { (snap('two_ro')->{seq} // 0) >= 3 }, 10), 'two_ro sampled');
	is(snap('two_ro')->{flags}, 'partial', 'two_ro: partial');
	is(pagemap_present($pid, $two) + pagemap_present($pid, $two + 4096), 0, 'two: pages still not present');
	is(ctl_errno($t->add_line('two', name => 'two_f', period_us => 10000, fault => 1) . "\n"), 0,
	   'add two_f (id 5, fault)');
	ok(wait_for(sub { (snap('two_f')->{seq} // 0) >= 3 }, 10), 'two_f sampled');
	my $rf = region_by_name('two_f');
	is($rf->{partial}, 0, 'two_f: PARTIAL 0');
	is(snap('two_f')->{flags}, 'none', 'two_f: latest sample neither partial nor changed');
	is(rd('raw/two_f'), "\0" x 8192, 'two_f: zero-fill bytes');
	is(pagemap_present($pid, $two), 1, 'two: first page present after a fault sample');
	is(pagemap_present($pid, $two + 4096), 1, 'two: second page present after a fault sample');
	ok(wait_for(sub { (snap('two_ro')->{flags} // '') !~ /partial/ }, 10),
	   'two_ro: not partial once the pages are present');
	is(rd('raw/two_ro'), "\0" x 8192, 'two_ro: zero bytes');
};

# --- MADV_DONTNEED on a touched page, then touch ------------------------------
subtest 'MADV_DONTNEED on a touched page, then touch' => sub {
	my $page = $t->{var}{page}{addr};
	my $pat = join('', map { chr(($_ * 7 + 3) & 0xff) } 0 .. 4095);
	is(pagemap_present($pid, $page), 1, 'page present');
	is(ctl_errno($t->add_line('page', name => 'page_ro', period_us => 10000) . "\n"), 0, 'add page_ro (id 6, resident-only)');
	ok(wait_for(sub { (snap('page_ro')->{seq} // 0) >= 2 }, 10), 'page_ro sampled');
	is(snap('page_ro')->{flags}, 'none', 'page_ro: not partial');
	ok(rd('raw/page_ro') eq $pat, 'raw/page_ro: the (i * 7 + 3) pattern');
	is(region_by_name('page_ro')->{partial}, 0, 'page_ro: PARTIAL 0');
	is($t->cmd('dontneed page'), 'ok dontneed', 'MADV_DONTNEED page');
	is(pagemap_present($pid, $page), 0, 'page not present');
	ok(wait_for(sub { (snap('page_ro')->{flags} // '') =~ /partial/ }, 10), 'page_ro turns partial');
	ok(wait_for(sub { (snap('page_ro')->{flags} // '') eq 'partial' }, 10), 'page_ro: then flags=partial');
	is(rd('raw/page_ro'), "\0" x 4096, 'raw/page_ro: zeroes');
	is(rd('values/page_ro'), ('00' x 4096) . "\n", 'values/page_ro: zeroes');
	cmp_ok(region_by_name('page_ro')->{partial}, '>', 0, 'page_ro: PARTIAL counts');
	is(pagemap_present($pid, $page), 0, 'page still not present');
	is($t->cmd('touch page'), 'ok touch', 'touch page');
	is(pagemap_present($pid, $page), 1, 'page present after touch');
	ok(wait_for(sub { (snap('page_ro')->{flags} // '') !~ /partial/ }, 10), 'page_ro no longer partial');
	ok(wait_for(sub { (snap('page_ro')->{flags} // '') eq 'none' }, 10), 'page_ro: then flags=none');
	is(rd('raw/page_ro'), "\0" x 4096, 'raw/page_ro: the zero-filled bytes the target now has');
	my $p1 = region_by_name('page_ro')->{partial};
	sleep 0.2;
	is(region_by_name('page_ro')->{partial}, $p1, 'page_ro: PARTIAL stops growing');
};

# --- debug_floor: the benchmark floor reads a kernel page, not the target -----
subtest 'debug_floor reads a kernel page' => sub {
	# Its source is one page (0x55 0xaa, then zeroes) standing for every page, so a
	# region across a page boundary reads the page's end and then its start; so
	# does a span of two close regions (one copy for both) that crosses it.
	my $FP = "$Ums::PARAM/debug_floor";
	my $floor = sub { my $o = shift; my $p = join '', map { $_ % 4096 == 0 ? "\x55" :
		$_ % 4096 == 1 ? "\xaa" : "\0" } $o .. $o + shift() - 1; $p };
	is(ctl_errno("clear\n"), 0, 'clear before the floor');
	my $spans0 = stats()->{spans} // 0;
	ok(Ums::wr($FP, "1\n"), 'debug_floor=1');
	my $fl = join '', map { sprintf "add pid=%d addr=0x%x len=%d type=hex name=%s period_us=10000\n",
		$pid, $two + $_->[0], $_->[1], $_->[2] } [4094, 6, 'fl_a'], [4000, 8, 'fl_s1'], [4090, 10, 'fl_s2'];
	is(ctl_errno($fl), 0, 'add fl_a (across the page end), fl_s1 and fl_s2 (one span across it)');
	ok(wait_for(sub { (snap('fl_s2')->{seq} // 0) >= 2 && (snap('fl_a')->{seq} // 0) >= 2 }, 10),
	   'floor regions sampled');
	is(unpack('H*', rd('raw/fl_a')), unpack('H*', $floor->(4094, 6)), 'fl_a: 00 00 55 aa 00 00');
	is(unpack('H*', rd('raw/fl_s1')), unpack('H*', $floor->(4000, 8)), 'fl_s1: zeroes');
	is(unpack('H*', rd('raw/fl_s2')), unpack('H*', $floor->(4090, 10)), 'fl_s2: page end, then 55 aa');
	cmp_ok(stats()->{spans} // 0, '>', $spans0, 'floor samples went through spans');
	ok(Ums::wr($FP, "0\n"), 'debug_floor=0');
	ok(wait_for(sub { rd('raw/fl_a') eq "\0" x 6 && rd('raw/fl_s2') eq "\0" x 10 }, 10),
	   'debug_floor=0: the target\'s own (zero) bytes again');
};

# --- absent pages whose content is defined: read exactly, without faulting ---
subtest 'absent pages with a defined content: read exactly, page tables unchanged' => sub {
	my $lone = $t->{var}{lone}{addr};
	is(pagemap_present($pid, $lone), 0, 'lone: an untouched page of its own mapping, not present');
	is(ctl_errno($t->add_line('lone', name => 'lone', period_us => 10000) . "\n"), 0, 'add lone');
	ok(wait_for(sub { region_samples('lone') >= 3 }, 10), 'lone sampled');
	is(region_by_name('lone')->{partial}, 0, 'lone: never partial (anonymous, never had a page: zeroes)');
	is(rd('raw/lone'), "\0" x 4096, 'lone: zeroes');
	is(pagemap_present($pid, $lone), 0, 'lone: still not present (nothing faulted in)');

	# a file-backed global the program never read: its .rodata page, from the page cache
	my $ro = $t->{var}{rodata}{addr};
	is(pagemap_present($pid, $ro), 0, 'rodata: an untouched .rodata page, not present');
	system('sh', '-c', 'cat "$1" >/dev/null', 'sh', "$Ums::PROGS/umstarget");	# into the page cache
	is(ctl_errno($t->add_line('rodata', name => 'rodata', period_us => 10000) . "\n"), 0, 'add rodata');
	ok(wait_for(sub { region_samples('rodata') >= 3 }, 10), 'rodata sampled');
	is(region_by_name('rodata')->{partial}, 0, 'rodata: never partial (the file\'s page, cached)');
	is(rd('raw/rodata'), "\x42\x43" . ("\0" x 4094), 'rodata: the bytes the program would read');
	is(pagemap_present($pid, $ro), 0, 'rodata: still not present (nothing mapped into the target)');
	is(ctl_errno("del name=rodata\n"), 0, 'del rodata');

	my $file = '/usr/share/common-licenses/GPL-3';
	SKIP: {
		skip "no $file", 9 unless -r $file && -s $file >= 4096;
		my $fp = $t->{var}{filepg}{addr};
		ok(Ums::wr('/proc/sys/vm/drop_caches', "1\n"), 'drop the page cache');
		is($t->cmd("mapfile filepg $file"), 'ok mapfile', "map $file over filepg (never touched)");
		is(ctl_errno($t->add_line('filepg', name => 'filepg', period_us => 10000) . "\n"), 0,
		   'add filepg');
		ok(wait_for(sub { region_samples('filepg') >= 3 }, 10), 'filepg sampled');
		my $p0 = region_by_name('filepg')->{partial};
		cmp_ok($p0, '>', 0, 'not in the page cache: partial (it would need I/O)');
		open(my $fh, '<:raw', $file) or die "$file: $!";
		my $want = '';
		read($fh, $want, 4096);
		{ local $/; my $rest = <$fh> }	# the whole file into the page cache
		close $fh;
		my $r = region_by_name('filepg');
		ok(wait_for(sub { my $x = region_by_name('filepg'); $x->{samples} >= $r->{samples} + 3 &&
				  snap('filepg')->{flags} !~ /partial/ }, 10),
		   'in the page cache: read whole');
		is(rd('raw/filepg'), $want, '... the file\'s bytes, from the page cache');
		is(pagemap_present($pid, $fp), 0, '... and the target\'s page tables unchanged');
		is(ctl_errno("del name=filepg\n"), 0, 'del filepg');
	}
	is(ctl_errno("del name=lone\n"), 0, 'del lone');
};

# --- clean up ----------------------------------------------------------------
ok(trace_write("$EV/filter", "0\n"), 'clear the filter');
is(slurp("$TR/$EV/filter"), "none\n", 'filter reads none');
ok(trace_write('trace', ''), 'clear the trace');
ok(trace_write('tracing_on', $cleanup{on}), 'restore tracing_on');
%cleanup = ();
is(ctl_errno("clear\n"), 0, 'clear');
$_->kill for @targets;
ok(ums_unload(), 'rmmod');
ok(!ums_loaded(), 'module unloaded');
done_testing();

END {
	if ($cleanup{trace}) {
		trace_write("$EV/enable", "0\n");
		trace_write("$EV/filter", "0\n");
		trace_write('trace', '');
		trace_write('tracing_on', $cleanup{on}) if defined $cleanup{on};
	}
	ums_cleanup(@targets);
}
