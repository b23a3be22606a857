#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 11-trace.t - the tracepoints, seen through trace-cmd, perf and raw ftrace:
# umsampler:sample seq/value/data consistency and rate, 3 KiB chunking of a
# 10000-byte region, umsampler:region add/sync/gone/del, ftrace event filters
# on `value` and a hist trigger keyed on `id`.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Ums;


my $TR = '/sys/kernel/tracing';
my $EV = 'events/umsampler';
my @targets;
my $rec_pid;
my %cleanup;	# tracefs state to undo at the end, even after a failure

# Parse trace-cmd report / perf script / ftrace text: list of {ts, ev, ...fields}.
sub parse_trace {
	my ($text) = @_;
	my @ev;
	for my $l (split /\n/, $text) {
		next unless $l =~ /\s(\d+\.\d+):\s+(?:umsampler:)?(sample|region):\s+(.*)$/;
		my $f = event_fields($3);
		$f->{ts} = $1;
		$f->{ev} = $2;
		push @ev, $f;
	}
	return @ev;
}

# Checks on the samples of one counter region (mode always): consecutive seq,
# data == LE value, `changed` exactly when the value moved, monotonic values,
# event count over the covered interval ~ interval/period + 1: never more (the
# sampler does not burst), and fewer only by periods it counted as missed
# (stats `missed`, over all regions, in $missed) when the guest is starved.
sub check_counter {
	my ($what, $period_s, $tick_s, $missed, @s) = @_;
	cmp_ok(scalar @s, '>=', 20, "$what: at least 20 sample events") or return;
	my ($seqbad, $databad, $decr, $chgbad) = (0, 0, 0, 0);
	for my $i (0 .. $#s) {
		my $e = $s[$i];
		$databad++ unless defined $e->{data} && $e->{data} eq pack('V', $e->{value}) &&
			$e->{offset} == 0;
		next unless $i;
		my $p = $s[$i - 1];
		$seqbad++ unless $e->{seq} == $p->{seq} + 1;
		$decr++ if $e->{value} < $p->{value};
		my $chg = ($e->{flags} // '') =~ /\bchanged\b/ ? 1 : 0;
		$chgbad++ unless $chg == ($e->{value} != $p->{value} ? 1 : 0);
	}
	is($seqbad, 0, "$what: seq increases by exactly 1 from event to event");
	is($databad, 0, "$what: data bytes == little-endian value, offset 0");
	is($decr, 0, "$what: values never decrease");
	is($chgbad, 0, "$what: flags has `changed` exactly when the value differs from the previous sample");
	my $dt = $s[-1]{ts} - $s[0]{ts};
	my $want = $dt / $period_s + 1;
	my $n = scalar @s;
	cmp_ok($n, '<=', 1.25 * $want + 3,
	       sprintf('%s: %d events over %.3f s, expected %.1f: not more than +25%%', $what, $n, $dt, $want));
	cmp_ok($n + $missed, '>=', 0.75 * $want - 3,
	       sprintf('%s: %d events + %d missed periods >= expected %.1f - 25%%', $what, $n, $missed, $want));
	diag(sprintf('%s: %d events, %.1f expected, %d periods missed (all regions)', $what, $n, $want, $missed))
		if $n < 0.75 * $want;
	my $dv = $s[-1]{value} - $s[0]{value};
	my $wantv = $dt / $tick_s;
	ok(abs($dv - $wantv) <= 0.25 * $wantv + 2,
	   sprintf('%s: counter advanced %d over %.3f s, expected %.1f (+-25%%)', $what, $dv, $dt, $wantv));
}

ok(ums_load(), 'insmod');
my $t1 = Ums::target('--tick-us', 50000);
my $missed0 = stats()->{missed};
my $t2 = Ums::target();
push @targets, $t1, $t2;
for my $f ("$EV/enable", "$EV/sample/enable", "$EV/region/enable") {
	is(slurp("$TR/$f"), "0\n", "$f is 0 before the test");
}

my $pid1 = $t1->pid;
my $orig_on;	# tracing_on before the test

# --- trace-cmd record -----------------------------------------------------
subtest 'trace-cmd record and report' => sub {
	my $dat = '/tmp/ums-11.dat';
	unlink $dat;
	$rec_pid = fork // die "fork: $!";
	if (!$rec_pid) {
		open(STDOUT, '>', '/tmp/ums-11-rec.log') or die;
		open(STDERR, '>&', \*STDOUT) or die;
		exec('trace-cmd', 'record', '-e', 'umsampler', '-o', $dat) or die "exec trace-cmd: $!";
	}
	# trace-cmd enables the events with tracing off, then turns tracing on.
	ok(wait_for(sub { slurp("$TR/$EV/sample/enable") eq "1\n" && slurp("$TR/$EV/region/enable") eq "1\n" &&
			  slurp("$TR/tracing_on") eq "1\n" }, 60), 'trace-cmd record is recording');
	sleep 0.5;

	my $cline = $t1->add_line('counter', name => 'counter', period_us => 10000);
	my $bline = $t1->add_line('big', name => 'big', period_us => 100000);
	my $sline = $t2->add_line('shape', name => 't2shape', period_us => 10000);
	is(ctl_errno("$cline\n"), 0, 'add counter (id 1, u32, 10 ms)');
	is(ctl_errno("$bline\n"), 0, 'add big (id 2, 10000 bytes, 100 ms)');
	sleep 2.5;
	is(ctl_errno("$sline\n"), 0, 'add t2shape (id 3, other target)');
	ok(wait_for(sub { (rd('values/t2shape') // '') ne '' }, 10), 't2shape sampled');
	is(ctl_errno("sync\n"), 0, 'sync');
	my $t2pid = $t2->pid;
	is($t2->cmd('exit'), 'ok exit', 'target 2 exits');
	$t2->kill;
	ok(wait_for(sub { !region_by_name('t2shape') }, 10), 't2shape removed after its target exited');
	is(stats()->{targets_gone}, 1, 'stats: targets_gone 1');
	is(ctl_errno("del 1\n"), 0, 'del 1');
	is(ctl_errno("del name=big\n"), 0, 'del name=big');
	my $final_ticks = ($t1->cmd('ticks') =~ /^ok ticks (\d+)/)[0];
	my $missed1 = stats()->{missed};
	sleep 0.2;
	kill('INT', $rec_pid);
	waitpid($rec_pid, 0);
	is($?, 0, 'trace-cmd record exited 0') or diag(slurp('/tmp/ums-11-rec.log'));
	$rec_pid = undef;
	ok(-s $dat, 'trace-cmd wrote its data file');
	is(slurp("$TR/$EV/sample/enable") . slurp("$TR/$EV/region/enable"), "0\n0\n",
	   'trace-cmd disabled the events again');

	system("trace-cmd report -i $dat > /tmp/ums-11-report.txt 2>/tmp/ums-11-report.err");
	is($?, 0, 'trace-cmd report');
	my @ev = parse_trace(slurp('/tmp/ums-11-report.txt'));
	my @reg = grep { $_->{ev} eq 'region' } @ev;
	my %s = map { my $id = $_; $id => [grep { $_->{ev} eq 'sample' && $_->{id} == $id } @ev] } 1 .. 3;

	# region events: exact sequence and fields
	is(join(' ', map { "$_->{op}:$_->{id}:$_->{name}:$_->{reason}" } @reg),
	   'add:1:counter:none add:2:big:none add:3:t2shape:none sync:1:counter:none sync:2:big:none ' .
	   'sync:3:t2shape:none gone:3:t2shape:exit del:1:counter:none del:2:big:none',
	   'region events: add x3, sync x3, gone (exit), del x2, in order');
	my %want = (1 => [$pid1, $t1->addr('counter'), 4, 10000, 'u32'],
		    2 => [$pid1, $t1->addr('big'), 10000, 100000, 'hex'],
		    3 => [$t2pid, $t2->addr('shape'), 16, 10000, 'hex']);
	for my $e (@reg) {
		is(join(' ', @$e{qw(pid addr length period_us vtype mode)}), join(' ', @{$want{$e->{id}}}, 'always'),
		   "region op=$e->{op} id=$e->{id}: pid addr length period_us vtype mode");
	}

	# counter region (id 1)
	my @c = @{$s{1}};
	is($c[0]{seq}, 1, 'counter: first sample event has seq 1 (recording began before the add)');
	like($c[0]{flags}, qr/\bchanged\b/, 'counter: first sample flagged changed');
	my ($add1) = grep { $_->{op} eq 'add' && $_->{id} == 1 } @reg;
	my ($del1) = grep { $_->{op} eq 'del' && $_->{id} == 1 } @reg;
	ok($add1->{ts} <= $c[0]{ts} && $c[-1]{ts} <= $del1->{ts}, 'counter: samples lie between add and del');
	is(scalar(grep { $_->{pid} != $pid1 || $_->{addr} ne $t1->addr('counter') || $_->{vtype} ne 'u32' } @c), 0,
	   'counter: every event has the right pid, addr, vtype');
	check_counter('trace-cmd counter', 0.010, 0.050, $missed1 - $missed0, @c);
	cmp_ok($c[-1]{value}, '<=', $final_ticks, "counter: values <= target's tick count ($final_ticks)");

	# big region (id 2): chunks of $Ums::CHUNK bytes per sample
	my @b = @{$s{2}};
	my %g;
	push @{$g{$_->{seq}}}, $_ for @b;
	my @seqs = sort { $a <=> $b } keys %g;
	cmp_ok(scalar @seqs, '>=', 10, 'big: at least 10 samples');
	is(join(',', @seqs), join(',', 1 .. scalar @seqs), 'big: seq 1..N without gaps');
	my $pattern = join('', map { chr($_ % 251) } 0 .. 9999);
	# offset/size of every chunk of a 10000-byte region, e.g. 0/1024,1024/1024,...,9216/784
	my $bigshape = join(',', map { my $o = $_ * $Ums::CHUNK; my $n = 10000 - $o;
				       "$o/" . ($n < $Ums::CHUNK ? $n : $Ums::CHUNK) }
			    0 .. int(9999 / $Ums::CHUNK));
	my ($shapebad, $databad) = (0, 0);
	for my $q (@seqs) {
		my @ch = @{$g{$q}};
		$shapebad++ unless join(',', map { "$_->{offset}/" . length($_->{data}) } @ch) eq $bigshape;
		$databad++ unless join('', map { $_->{data} } @ch) eq $pattern && !grep { $_->{value} != 0 } @ch;
	}
	is($shapebad, 0, "big: every seq has its events at offset/size $bigshape");
	is($databad, 0, 'big: every seq reassembles to the exact i % 251 pattern, value 0');

	# t2shape (id 3): until the target exited
	my @t3 = @{$s{3}};
	cmp_ok(scalar @t3, '>=', 1, 't2shape: sample events');
	is(scalar(grep { $_->{data} ne pack('H*', '44332211665561626364656667686900') || $_->{value} != 0 } @t3), 0,
	   't2shape: data is the shape bytes, value 0');
	my ($gone3) = grep { $_->{op} eq 'gone' } @reg;
	ok($gone3 && $t3[-1]{ts} <= $gone3->{ts}, 't2shape: no sample after op=gone');
};

# --- perf ------------------------------------------------------------------
subtest 'perf record and script' => sub {
	is(ctl_errno($t1->add_line('counter', name => 'pc', period_us => 20000) . "\n"), 0, 'add pc (id 4, 20 ms)');
	ok(wait_for(sub { (rd('values/pc') // '') ne '' }, 10), 'pc sampled');
	my $missed2 = stats()->{missed};
	system('perf record -e umsampler:sample -a -o /tmp/ums-11-p.data sleep 2 > /tmp/ums-11-perf.log 2>&1');
	my $missed3 = stats()->{missed};
	is($?, 0, 'perf record') or diag(slurp('/tmp/ums-11-perf.log'));
	system('perf script -i /tmp/ums-11-p.data > /tmp/ums-11-perf.txt 2>/tmp/ums-11-perf.err');
	is($?, 0, 'perf script');
	my @p = grep { $_->{ev} eq 'sample' } parse_trace(slurp('/tmp/ums-11-perf.txt'));
	is(scalar(grep { $_->{id} != 4 } @p), 0, 'perf: only events of region 4');
	is(scalar(grep { $_->{pid} != $pid1 || $_->{addr} ne $t1->addr('counter') || $_->{vtype} ne 'u32' } @p), 0,
	   'perf: every event has the right pid, addr, vtype');
	check_counter('perf pc', 0.020, 0.050, $missed3 - $missed2, @p);
	is(ctl_errno("clear\n"), 0, 'clear');
};

# --- ftrace filter on value -----------------------------------------------
subtest 'ftrace filter on value' => sub {
	my $t3 = Ums::target();
	push @targets, $t3;
	is($t3->cmd('set counter 50'), 'ok set', 'target 3: counter = 50');
	$orig_on = slurp("$TR/tracing_on");
	$cleanup{tracing_on} = $orig_on;
	ok(trace_write('trace', ''), 'clear the trace buffer');
	$cleanup{filter} = 1;
	ok(trace_write("$EV/sample/filter", "value > 100\n"), "filter 'value > 100'");
	is(slurp("$TR/$EV/sample/filter"), "value > 100\n", 'filter reads back');
	$cleanup{enable} = 1;
	ok(trace_write("$EV/sample/enable", "1\n") && trace_write('tracing_on', "1\n"), 'enable umsampler:sample');
	is(ctl_errno($t3->add_line('counter', name => 'filt', period_us => 10000) . "\n"), 0, 'add filt (id 5)');
	for my $v (50, 150, 99, 101) {
		is($t3->cmd("set counter $v"), 'ok set', "counter = $v");
		ok(wait_for(sub { (rd('values/filt') // '') eq "$v\n" }, 10), "values/filt = $v");
		# 15 more samples of this value (0.15 s at 10 ms; a loaded host takes longer)
		my $n0 = region_by_name('filt')->{samples};
		ok(wait_for(sub { region_by_name('filt')->{samples} >= $n0 + 15 }, 30), "15 samples of $v");
	}
	my $nsamp = region_by_name('filt')->{samples};
	ok(trace_write("$EV/sample/enable", "0\n"), 'disable umsampler:sample');
	my @f = grep { $_->{ev} eq 'sample' } parse_trace(slurp("$TR/trace"));
	my %byv;
	$byv{$_->{value}}++ for @f;
	is(scalar(grep { $_->{id} != 5 } @f), 0, 'filter: only region 5 in the trace');
	is(join(',', sort { $a <=> $b } keys %byv), '101,150', 'filter: only values 150 and 101 passed (50 and 99 filtered out)');
	cmp_ok($byv{150} // 0, '>=', 10, 'filter: >= 10 events with value 150');
	cmp_ok($byv{101} // 0, '>=', 10, 'filter: >= 10 events with value 101');
	cmp_ok($nsamp, '>', scalar(@f) + 20, 'filter: the region sampled more than the trace kept');
	is(scalar(grep { $_->{data} ne pack('V', $_->{value}) } @f), 0, 'filter: data matches value');
};

# --- hist trigger --------------------------------------------------------------
subtest 'hist trigger keyed on id' => sub {
	$cleanup{trigger} = 1;
	ok(trace_write("$EV/sample/trigger", "hist:keys=id:vals=value\n", 1), "trigger 'hist:keys=id:vals=value'");
	like(slurp("$TR/$EV/sample/trigger"), qr/^hist:keys=id:vals=hitcount,value\b.*\[active\]$/m, 'trigger is active');
	my $hs = region_by_name('filt')->{samples};
	ok(wait_for(sub { region_by_name('filt')->{samples} >= $hs + 20 }, 10), '20 more samples');
	# Read the hist with the sampler paused: a read racing an event can see the
	# new hitcount with the old sum (seen on rt: 24 hits, 23 * 101).
	is(set_enabled(0), 0, 'sampling paused for the hist read');
	ok(wait_quiet(), 'sampler quiet');
	my $hist = slurp("$TR/$EV/sample/hist");
	is(set_enabled(1), 0, 'sampling resumed');
	my ($hc, $hv) = $hist =~ /^\{ id:\s+5 \} hitcount:\s+(\d+)\s+value:\s+(\d+)$/m;
	ok(defined $hc, 'hist has an entry for id 5') or diag($hist);
	cmp_ok($hc // 0, '>=', 20, 'hist: hitcount >= 20');
	is($hv, defined $hc ? 101 * $hc : undef, 'hist: value sum == 101 * hitcount');
	is(join(',', $hist =~ /^\{ id:\s+(\d+) \}/mg), '5', 'hist: exactly one entry (id 5)');
	ok(trace_write("$EV/sample/trigger", "!hist:keys=id:vals=value\n", 1), 'remove the hist trigger');
	unlike(slurp("$TR/$EV/sample/trigger"), qr/^hist/m, 'no hist trigger left');
	delete $cleanup{trigger};
	ok(trace_write("$EV/sample/filter", "0\n"), 'clear the filter');
	is(slurp("$TR/$EV/sample/filter"), "none\n", 'filter reads none');
	delete $cleanup{filter};
	ok(trace_write('trace', ''), 'clear the trace');
	ok(trace_write('tracing_on', $orig_on), 'restore tracing_on');
	delete $cleanup{enable};
	delete $cleanup{tracing_on};
};

$_->kill for @targets;
ok(ums_unload(), 'rmmod');
ok(!ums_loaded(), 'module unloaded');
done_testing();

END {
	local $?;
	if ($rec_pid) {
		kill('INT', $rec_pid);
		waitpid($rec_pid, 0);
	}
	trace_write("$EV/sample/trigger", "!hist:keys=id:vals=value\n", 1) if $cleanup{trigger};
	trace_write("$EV/sample/filter", "0\n") if $cleanup{filter};
	if ($cleanup{enable}) {
		trace_write("$EV/enable", "0\n");
		trace_write('trace', '');
	}
	trace_write('tracing_on', $cleanup{tracing_on}) if defined $cleanup{tracing_on};
	ums_cleanup(@targets);
	unlink glob('/tmp/ums-11*');
}
