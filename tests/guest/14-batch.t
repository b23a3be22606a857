#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 14-batch.t - umsampler:batch events: one event per span carrying exactly the target's
# bytes of the regions that emit (gaps and mode=none regions zeroed, mode=change regions
# only when they changed); a span over the size budget is split into several batches, a
# region alone is a batch of one, a region over 1024 bytes goes in 1024-byte pieces; each
# event is emitted only while enabled (sample only, batch only, both); the text of a batch
# never exceeds the trace_seq page. Then the consumers: a batch recording (umsampler
# record) and a sample recording (perf) of the same samples give the same CSV rows but for
# time, and the other way round (umsampler record --sample, perf batch); umsampler csv of
# the batch perf.data == perf script; the plugin renders batches in trace-cmd report and
# perf script; a trace-cmd recording of both events decodes to one row per sample.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use Ums;

my ($CLI, $PLUGDIR, $PERFPY) = tool_paths();
my $T = '/sys/kernel/tracing';
my $W = '/tmp/ums14';

my @targets;
END { ums_cleanup(@targets) }

ok(ums_load(), 'insmod');
my $t = Ums::target();
push @targets, $t;
my $pid = $t->pid;
my $base = $t->{var}{two}{addr};
# umstarget's "two": two touched anonymous pages, byte i = (i * 7 + 3) & 0xff
my $pat = join('', map { chr(($_ * 7 + 3) & 0xff) } 0 .. 8191);

# [name, offset in two, len, mode]
my @layout = ((map { ["f$_", 8 * $_, 8, 'always'] } 0 .. 7),
	      ['n', 64, 8, 'none'],		# inside span A, never emitted
	      ['g', 80, 4, 'always'],		# after an 8-byte gap
	      ['c', 96, 8, 'change'],		# emitted once (never changes)
	      (map { ["w$_", 1024 + 16 * $_, 16, 'always'] } 0 .. 39),	# span B: 2 batches
	      ['far', 3000, 8, 'always'],	# alone: a batch of one
	      ['big', 5000, 3000, 'always']);	# alone, 3 pieces
my %L = map { $_->[0] => $_ } @layout;
my $cmds = join('', map {
	sprintf("add pid=%d addr=0x%x len=%d type=hex name=%s period_us=50000 mode=%s\n",
		$pid, $base + $_->[1], $_->[2], $_->[0], $_->[3])
} @layout);

# Parse the text of a batch event (the kernel's format) into a hash with entries.
sub arr { my ($s) = @_; $s =~ s/^\{|\}$//g; return [ map { hex } split /,/, $s ] }
sub parse_batch {
	my ($l) = @_;
	$l =~ s/^.*?\bbatch: // or return undef;
	my $f = event_fields($l);
	my %b = (pid => $f->{pid}, addr => hex($f->{addr}), count => $f->{count},
		 data => $f->{data} // '');
	my %a = map { $_ => arr($f->{$_} // '{}') } qw(id seq late_ns offset start size vtype flags);
	$b{ents} = [ map { my $i = $_; +{ map { $_ => $a{$_}[$i] } keys %a } } 0 .. $b{count} - 1 ];
	$b{bad} = grep { @{ $a{$_} } != $b{count} } keys %a;
	return \%b;
}

sub quiesce {
	is(set_enabled(0), 0, 'sampling paused');
	ok(wait_quiet(), 'sampler quiet');
}

# ---- 1. batch only ---------------------------------------------------------------------

ok(trace_on(batch => undef), 'umsampler:batch enabled (sample off)');
is(ctl_errno($cmds), 0, 'added ' . scalar(@layout) . ' regions in one write');
my %name = map { $_->{id} => $_->{name} } regions();
ok(wait_for(sub { (snapshot()->{f0}{seq} // 0) >= 6 }, 60), 'f0 sampled 6 times');
quiesce();
my $snap = snapshot();
my @lines = trace_lines();
trace_off();
ok(!grep({ /LINE TOO BIG/ } @lines), 'no batch text over the trace_seq page');
is(scalar(grep { /\bsample: / } @lines), 0, 'no sample event while only batch is enabled');
my @b = grep { defined } map { parse_batch($_) } @lines;
ok(@b >= 7 * 6, scalar(@b) . ' batch events');
is(scalar(grep { $_->{bad} || $_->{pid} != $pid } @b), 0, 'every batch: pid, arrays of count entries');

my (@badbytes, @badzero, @badaddr, %seen);
for my $ev (@b) {
	my @mask = (0) x length $ev->{data};
	for my $e (@{ $ev->{ents} }) {
		my $n = $name{ $e->{id} } // '?';
		my $l = $L{$n} or do { push @badaddr, "unknown id $e->{id}"; next };
		push @{ $seen{$n}{ $e->{seq} } }, [ $ev, $e ];
		my $got = substr($ev->{data}, $e->{start}, $e->{size});
		push @badbytes, "$n seq $e->{seq}" if $got ne substr($pat, $l->[1] + $e->{offset}, $e->{size});
		push @badaddr, $n if $ev->{addr} + $e->{start} - $e->{offset} != $base + $l->[1];
		@mask[$e->{start} .. $e->{start} + $e->{size} - 1] = (1) x $e->{size};
	}
	my $z = join('', map { $mask[$_] ? '' : substr($ev->{data}, $_, 1) } 0 .. $#mask);
	push @badzero, sprintf('batch at 0x%x', $ev->{addr}) if $z =~ /[^\0]/;
}
is("@badbytes", '', 'every entry: exactly the target\'s bytes');
is("@badaddr", '', 'every entry: its region\'s address (addr + start - offset)');
is("@badzero", '', 'bytes of no entry (gaps, mode=none) are zero');
ok(!$seen{n}, 'mode=none region never in a batch');
is(join(' ', sort keys %{ $seen{c} // {} }), '1', 'mode=change region: only its first sample');
my @fseq = sort { $a <=> $b } keys %{ $seen{f0} };
is(scalar @fseq, $snap->{f0}{seq}, 'every f0 sample in a batch (trace on before the add)');

my (@spanA, @spanB, @far, @big);
for my $s (@fseq) {
	my %evs = map { ($_->[0] => 1) } map { @{ $seen{$_}{$s} // [] } } (map { "f$_" } 0 .. 7), 'g', 'c';
	push @spanA, $s if keys %evs != 1;
	%evs = map { ($_->[0] => 1) } map { @{ $seen{"w$_"}{$s} // [] } } 0 .. 39;
	push @spanB, $s if keys %evs != 2 ||
		grep { !$seen{"w$_"}{$s} } 0 .. 39;
	my $fe = $seen{far}{$s} // [];
	push @far, $s if @$fe != 1 || $fe->[0][0]{count} != 1;
	my $bp = $seen{big}{$s} // [];
	push @big, $s if join(',', map { "$_->[1]{offset}/$_->[1]{size}/$_->[0]{count}" } @$bp) ne
			 '0/1024/1,1024/1024/1,2048/952/1';
}
is("@spanA", '', 'span A (f0..f7, g, c): one batch per pass');
is("@spanB", '', 'span B (40 regions, over the budget): two batches per pass, every region');
is("@far", '', 'a region alone: one batch of one entry per pass');
is("@big", '', 'a 3000-byte region: three pieces (offset/size) of one entry per pass');
is(scalar(@b), 7 * @fseq, '7 batch events per pass (1 + 2 + 1 + 3)');

# ---- 2. sample only, both ----------------------------------------------------------------

sub run_passes {
	my ($n) = @_;
	my $s0 = snapshot()->{f0}{seq};
	is(set_enabled(1), 0, 'sampling resumed');
	ok(wait_for(sub { (snapshot()->{f0}{seq} // 0) >= $s0 + $n }, 60), "$n more passes");
	quiesce();
	my @l = trace_lines();
	return (scalar(grep { /\bsample: / } @l), scalar(grep { /\bbatch: / } @l),
		scalar(grep { /\bsample: id=$snap->{f0}{id} / } @l));
}
ok(trace_on(sample => undef), 'umsampler:sample enabled (batch off)');
my ($ns, $nb, $nf0) = run_passes(3);
is($nb, 0, 'sample only: no batch event');
ok($nf0 >= 3 && $ns == $nf0 * (8 + 1 + 40 + 1 + 3), "sample only: 53 sample events per pass ($ns)");
trace_off();
ok(trace_on(sample => undef, batch => undef), 'both enabled');
($ns, $nb, $nf0) = run_passes(3);
ok($nf0 >= 3 && $ns == $nf0 * 53 && $nb == $nf0 * 7,
   "both: every sample as both events ($ns sample, $nb batch, $nf0 passes)");
trace_off();
is(ctl_errno("del pid=$pid\n"), 0, 'regions removed');
is(set_enabled(1), 0, 'sampling resumed');

# ---- 3. consumers --------------------------------------------------------------------------

SKIP: {
	skip "no $CLI (make tools)", 1 unless -x $CLI;
	skip 'trace-cmd not installed', 1 if system('trace-cmd --help >/dev/null 2>&1') == -1;
	my $have_perf = system('perf --version >/dev/null 2>&1') == 0;
	system('rm', '-rf', $W);
	mkdir $W or die "mkdir $W: $!";

	# typed regions (they lie close together: spans), a few regions of two, big in pieces
	for my $v (qw(counter u8 u16 u64 s8 s16 s32 s64 f32 f64 str shape)) {
		ctl($t->add_line($v, name => $v, period_us => 20000));
	}
	ctl(sprintf("add pid=%d addr=0x%x len=8 type=u64 name=w0 period_us=20000\n" .
		    "add pid=%d addr=0x%x len=8 type=hex name=w1 period_us=20000\n",
		    $pid, $base, $pid, $base + 8));
	ctl($t->add_line('big', name => 'big', period_us => 100000));

	sub on { return slurp("$T/events/umsampler/$_[0]/enable") eq "1\n" }
	# rows of recording A and B of the same samples: identical but for time_ns
	sub same_rows {
		my ($a, $b, $what) = @_;
		my %x = map { ($_->{key} => $_->{notime}) } csv_rows($a);
		my @y = csv_rows($b);
		my %dup;
		$dup{ $_->{key} }++ for @y;
		my @common = grep { exists $x{ $_->{key} } } @y;
		my @diff = grep { $x{ $_->{key} } ne $_->{notime} } @common;
		my %names = map { ($_->{name} => 1) } @common;
		ok(@common >= 50 && !@diff && !grep({ $_ > 1 } values %dup) && keys %names == 15,
		   sprintf('%s: rows identical but for time (%d common, %d differ, %d names)', $what,
			   scalar @common, scalar @diff, scalar keys %names)) or
			diag(join("\n", map { "B: $_->{line}\nA: " . $x{ $_->{key} } }
				  @diff[0 .. ($#diff < 3 ? $#diff : 3)]));
	}
	# During workload(): `umsampler record @flags` records $rev into $W/$dat while
# perf records $pev into $W/$pdat; returns (umsampler csv of $dat, the perf
# script's CSV of $pdat).
sub record_both {
	my ($rev, $dat, $pev, $pdat, @flags) = @_;
	my $perf = perf_start($W, "perf-$pev.log", $pev, "$W/$pdat");
	ok($perf, "perf record ($pev) running") or diag(slurp("$W/perf-$pev.log"));
	my $rec = bg("$W/rec-$rev.log", $CLI, 'record', @flags, '-o', "$W/$dat", '--duration', '4s');
	ok(wait_for(sub { on($rev) }, 120), "umsampler record @flags enabled $rev");
	sleep 1;
	workload();
	is(finish($rec), 0, "umsampler record @flags ($rev)") or diag(slurp("$W/rec-$rev.log"));
	perf_stop($W, $perf) if $perf;
	my ($tcsv) = run_out($CLI, 'csv', "$W/$dat");
	my ($pcsv, $prc) = run_out('perf', 'script', '-i', "$W/$pdat", '-s', $PERFPY);
	is($prc, 0, "perf script on the $pev perf.data");
	return ($tcsv, $pcsv);
}

sub workload {
		for my $v (1 .. 8) {
			$t->cmd("set counter $v");
			$t->cmd("set f64 $v.25");
			sleep 0.1;
		}
		$t->cmd('set str batch "quoted", too');
		$t->cmd('fill big 61');
		sleep 0.5;
	}

	SKIP: {
		skip 'perf not installed', 10 unless $have_perf;
		# (a) trace-cmd records batch, perf records sample events of the same samples
		my ($bcsv, $pcsv) = record_both('batch', 'b.dat', 'sample', 'ps.data');
		same_rows($pcsv, $bcsv, 'trace-cmd batch vs perf sample');
		my @cnt = grep { $_->{name} eq 'counter' } csv_rows($bcsv);
		my %cv = map { ((split /,/, $_->{notime})[-1] => 1) } @cnt;
		ok(!grep({ !$cv{$_} } 1 .. 8), 'batch recording: every counter value');
		ok((grep { $_->{line} =~ /,"batch \\""quoted\\"", too"$/ } csv_rows($bcsv)),
		   'batch recording: str value, CSV-quoted') or diag(substr($bcsv, 0, 2000));
		ok((grep { $_->{name} eq 'big' && $_->{line} =~ /,(3d){10000}$/ } csv_rows($bcsv)),
		   'batch recording: big reassembled from its pieces');

		{
			local $ENV{TRACEEVENT_PLUGIN_DIR} = $PLUGDIR;
			my ($rep) = run_out('trace-cmd', 'report', '-i', "$W/b.dat");
			ok($rep =~ /batch:\s+pid=$pid addr=0x[0-9a-f]+ count=\d+\n\s+name=\w+ seq=\d+ value=/,
			   'trace-cmd report: the plugin renders batch events') or
				diag(substr($rep, 0, 1500));
			ok($rep =~ /\n\s+name=counter seq=\d+ value=5 (?:flags=changed )?late_ns=\d+/,
			   'trace-cmd report: a batch entry with its decoded value');
		}

		# (b) trace-cmd records sample events (--sample), perf records batch
		my $scsv;
		($scsv, $pcsv) = record_both('sample', 's.dat', 'batch', 'pb.data', '--sample');
		same_rows($scsv, $pcsv, 'trace-cmd sample vs perf batch');
		my ($ucsv) = run_out($CLI, 'csv', "$W/pb.data");
		ok($ucsv eq $pcsv && length $pcsv, 'umsampler csv of the batch perf.data == perf script');
		local $ENV{TRACEEVENT_PLUGIN_DIR} = $PLUGDIR;
		my ($ps) = run_out('perf', 'script', '-i', "$W/pb.data");
		ok($ps =~ /umsampler:batch: pid=$pid addr=0x[0-9a-f]+ count=\d+\n\s+name=\w+ seq=\d+ value=/,
		   'perf script: the plugin renders batch events') or diag(substr($ps, 0, 1500));
	}

	# (c) trace-cmd recording both events: one row per sample (read from the batches)
	my $rec = bg("$W/rec3.log", 'trace-cmd', 'record', '-q', '-e', 'umsampler', '-o',
		     "$W/both.dat", 'sleep', '3');
	ok(wait_for(sub { on('batch') && on('sample') }, 120), 'trace-cmd -e umsampler: both enabled');
	sleep 0.5;
	ctl('sync');
	workload();
	is(finish($rec), 0, 'trace-cmd record -e umsampler') or diag(slurp("$W/rec3.log"));
	my ($ccsv) = run_out($CLI, 'csv', "$W/both.dat");
	my @rows = csv_rows($ccsv);
	my %k;
	$k{ $_->{key} }++ for @rows;
	ok(@rows > 50 && !grep({ $_ > 1 } values %k),
	   sprintf('both recorded: %d rows, each (id, seq) once', scalar @rows));
	is(ctl_errno("del pid=$pid\n"), 0, 'regions removed');
	system("cp -r $W $ENV{UMS_RESULTS}/ 2>/dev/null") if $ENV{UMS_KEEP} && $ENV{UMS_RESULTS};
	system('rm', '-rf', $W);
}

$t->kill;
ok(ums_unload(), 'rmmod');
done_testing();
