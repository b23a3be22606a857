#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 20-lifecycle.t - regions follow their target's life: exit, exec, munmap,
# fork, pid reuse, many targets exiting at once, deleting one of several
# regions, and rmmod with active regions repeated without leaking pid,
# mm_struct or task_struct objects.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;


my $T0 = time;
my $TL = $T0;
sub lap { note(sprintf('%s: %.1f s', $_[0], time - $TL)); $TL = time }
my $UNMAPPED_LIMIT = 4;

ums_unload() if ums_loaded();
ok(ums_load('period_us=1000', "unmapped_limit=$UNMAPPED_LIMIT"), 'insmod period_us=1000 unmapped_limit=4');
my $tracing = -d '/sys/kernel/tracing/events/umsampler';

sub regs_of_pid { my ($p) = @_; return grep { $_->{pid} == $p } regions() }
sub sampled { my @n = @_; return !grep { my $r = region_by_name($_); !$r || $r->{samples} < 1 } @n }

# op=gone events of the trace buffer for the given region names, with the given reason
sub gone_events {
	my ($reason, @names) = @_;
	my %want = map { $_ => 1 } @names;
	return grep { $_->{op} eq 'gone' && $want{$_->{name}} && $_->{reason} eq $reason } region_events();
}

# ---------------------------------------------------------------------------
# exit: regions, files and target disappear, op=gone reason=exit per region
subtest 'exit' => sub {
	my $t = Ums::target();
	my $pid = $t->pid;
	my @names = qw(ex_c ex_p ex_s);
	ctl(join("\n", $t->add_line('counter', name => 'ex_c', period_us => 1000),
		 $t->add_line('page', name => 'ex_p', period_us => 2000),
		 $t->add_line('str', name => 'ex_s', period_us => 1000)) . "\n");
	ok(wait_for(sub { sampled(@names) }, 10), 'exit: three regions sampled');
	my $st0 = stats();
	is($st0->{targets}, 1, 'exit: one target');
	my $ids = join('|', map { region_by_name($_)->{id} } @names);
	ok(trace_on(region => undef, sample => "pid == $pid"), 'exit: tracing enabled') if $tracing;
	is($t->cmd('exit'), 'ok exit', 'exit: target told to exit');
	reap_target($t);
	trace_mark('ums-test: reaped') if $tracing;	# the process is dead: no sample may follow
	my $t_exit = time;
	ok(wait_for(sub { !regs_of_pid($pid) }, 5), 'exit: regions removed within 5 s');
	note(sprintf('exit: regions gone after %.3f s', time - $t_exit));
	ok(!-e dbg("values/$_") && !-e dbg("raw/$_"), "exit: values/$_ raw/$_ removed") for @names;
	my $st = stats();
	is($st->{targets_gone}, $st0->{targets_gone} + 1, 'exit: targets_gone incremented by 1');
	is($st->{regions}, 0, 'exit: stats regions 0');
	is($st->{targets}, 0, 'exit: stats targets 0');
	SKIP: {
		skip 'no umsampler tracepoints', 4 unless $tracing;
		my @g = gone_events('exit', @names);
		is(scalar(@g), 3, 'exit: op=gone reason=exit for each region');
		ok(!grep({ $_->{pid} != $pid } @g), 'exit: gone events carry the pid');
		my @l = trace_lines();
		my ($mark) = grep { $l[$_] =~ /ums-test: reaped/ } 0 .. $#l;
		ok(defined $mark, 'exit: trace marker found');
		my @after = grep { /\bsample: / } @l[($mark // 0) .. $#l];
		is(scalar(@after), 0, 'exit: no sample event after the process was reaped')
			or diag(join("\n", @after[0 .. ($#after > 4 ? 4 : $#after)]));
	}
	trace_off() if $tracing;
};

lap('exit');
# ---------------------------------------------------------------------------
# exec: same pid, new mm -> reason=exec
subtest 'exec' => sub {
	my $t = Ums::target();
	my $pid = $t->pid;
	ctl($t->add_line('counter', name => 'xc', period_us => 1000) . "\n" .
	    $t->add_line('u64', name => 'xu') . "\n");
	ok(wait_for(sub { sampled(qw(xc xu)) }, 10), 'exec: regions sampled');
	my $st0 = stats();
	trace_on(region => undef) if $tracing;
	is($t->cmd('exec'), 'ok exec', 'exec: target execs /bin/sleep');
	ok(wait_for(sub { (rd("/proc/$pid/comm") // '') eq "sleep\n" }, 5), 'exec: same pid runs sleep');
	ok(wait_for(sub { !regs_of_pid($pid) }, 5), 'exec: regions removed within 5 s');
	ok(kill(0, $pid), 'exec: the process is still alive');
	ok(!-e dbg('values/xc') && !-e dbg('raw/xu'), 'exec: values/raw files removed');
	my $st = stats();
	is($st->{targets_gone}, $st0->{targets_gone} + 1, 'exec: targets_gone incremented');
	is($st->{targets}, 0, 'exec: stats targets 0');
	SKIP: {
		skip 'no umsampler tracepoints', 1 unless $tracing;
		is(scalar(gone_events('exec', qw(xc xu))), 2, 'exec: op=gone reason=exec for both regions');
	}
	# the exec'd process can be registered again (new mm, new target)
	my ($lo) = (rd("/proc/$pid/maps") // '') =~ /^([0-9a-f]+)-[0-9a-f]+ r/m;
	is(ctl_errno("add pid=$pid addr=0x$lo len=16 name=xnew\n"), 0, 'exec: new image can be registered');
	is(stats()->{targets}, 1, 'exec: one target again');
	ctl("del name=xnew\n");
	trace_off() if $tracing;
	$t->kill;
};

lap('exec');
# ---------------------------------------------------------------------------
# munmap: partial samples, then op=gone reason=unmapped after unmapped_limit
subtest 'munmap' => sub {
	my $t = Ums::target();
	my $pid = $t->pid;
	# 8 bytes across the boundary of the two pages of `two` (small enough for the
	# text trace output: sample events of big regions do not fit a trace line)
	ctl(sprintf("add pid=%d addr=0x%x len=8 name=um period_us=100000\n", $pid,
		    $t->{var}{two}{addr} + 4092) .
	    $t->add_line('counter', name => 'um_keep', period_us => 100000) . "\n");
	ok(wait_for(sub { sampled(qw(um um_keep)) }, 10), 'unmap: regions sampled');
	my $r = region_by_name('um');
	is($r->{partial}, 0, 'unmap: no partial sample while mapped');
	my $st0 = stats();
	trace_on(region => undef, sample => "id == $r->{id}") if $tracing;
	is($t->cmd('unmap two'), 'ok unmap', 'unmap: target unmapped `two`');
	my $max_partial = 0;
	my $end = time + 10;
	while (time < $end) {
		my $x = region_by_name('um') or last;
		$max_partial = $x->{partial} if $x->{partial} > $max_partial;
		sleep 0.01;
	}
	ok(!region_by_name('um'), 'unmap: region removed');
	cmp_ok($max_partial, '>', 0, 'unmap: PARTIAL > 0 seen before removal');
	ok(!-e dbg('values/um') && !-e dbg('raw/um'), 'unmap: files removed');
	ok(region_by_name('um_keep'), 'unmap: other region of the target stays');
	my $s1 = region_by_name('um_keep')->{samples};
	ok(wait_for(sub { (region_by_name('um_keep') // { samples => 0 })->{samples} > $s1 }, 5),
	   'unmap: other region keeps sampling');
	my $st = stats();
	is($st->{targets_gone}, $st0->{targets_gone}, 'unmap: target not counted as gone');
	is($st->{targets}, 1, 'unmap: target still registered');
	SKIP: {
		skip 'no umsampler tracepoints', 4 unless $tracing;
		is(scalar(gone_events('unmapped', 'um')), 1, 'unmap: op=gone reason=unmapped');
		my @s = grep { $_->{offset} == 0 } sample_events();
		my @p = grep { $_->{flags} =~ /partial/ } @s;
		cmp_ok(scalar(@p), '>=', $UNMAPPED_LIMIT, "unmap: >= $UNMAPPED_LIMIT partial samples before removal");
		ok(@s && $s[-1]{flags} =~ /partial/, 'unmap: last sample was partial');
		# samples after the unmap are all partial (the first one may predate it)
		ok(!grep({ $_->{flags} !~ /partial/ } @s[1 .. $#s]), 'unmap: every later sample partial');
	}
	trace_off() if $tracing;
	ctl("del name=um_keep\n");
	$t->kill;
};

lap('unmap');
# ---------------------------------------------------------------------------
# a region longer than one event chunk: every umsampler:sample event ($Ums::CHUNK-byte
# chunks) renders completely in the text trace
subtest 'a region longer than one event chunk' => sub { SKIP: {
	skip 'no umsampler tracepoints', 3 unless $tracing;
	my $t = Ums::target();
	ctl($t->add_line('big', name => 'bigev', period_us => 50000) . "\n");
	my $id = region_by_name('bigev')->{id};
	trace_on(sample => "id == $id");
	my $len = $t->len('big');
	my @offs = map { $_ * $Ums::CHUNK } 0 .. int(($len - 1) / $Ums::CHUNK);
	ok(wait_for(sub { grep({ /offset=$offs[-1]\b/ } trace_lines()) >= 2 }, 10),
	   'big: chunked events traced');
	Ums::_wr('/sys/kernel/tracing/events/umsampler/sample/enable', '0');
	my @ev = grep { /\bsample: / } trace_lines();
	trace_off();
	# ftrace prints the bytes as "%*ph" groups of 16 (6.1 without a space between groups)
	my @bad = grep {
		my ($off, $hex) = / vtype=hex flags=(?:changed)? value=0 offset=(\d+) data=([0-9a-f ]+?)\s*$/;
		!defined $hex || ($hex =~ tr/0-9a-f//) != 2 * ($len - $off < $Ums::CHUNK ? $len - $off : $Ums::CHUNK)
	} @ev;
	is(scalar(@bad), 0, 'big: every sample event of a 10000-byte region renders (vtype, flags, data)')
		or diag('e.g.: ' . substr($bad[0], 0, 200));
	my %off = map { /offset=(\d+)/ ? ($1 => 1) : () } @ev;
	is(join(',', sort { $a <=> $b } keys %off), join(',', @offs), "big: chunk offsets @offs");
	ctl("del name=bigev\n");
	$t->kill;
} };
lap('big events');
# ---------------------------------------------------------------------------
# fork: the child of a registered target is not sampled until registered
subtest 'fork' => sub {
	my $t = Ums::target();
	my $pid = $t->pid;
	ctl($t->add_line('counter', name => 'fk', period_us => 1000) . "\n");
	ok(wait_for(sub { sampled('fk') }, 10), 'fork: parent sampled');
	my $before = rd('regions');
	my ($cpid) = $t->cmd('fork') =~ /^ok child (\d+)/;
	ok($cpid, 'fork: child created');
	sleep 0.2;
	my @r = regions();
	is(scalar(@r), 1, 'fork: still one region');
	is($r[0]{pid}, $pid, "fork: only the parent's pid is listed");
	is(stats()->{targets}, 1, 'fork: one target');
	is(ctl_errno(sprintf("add pid=%d addr=%s len=4 type=u32 name=fk_child period_us=1000\n",
			     $cpid, $t->addr('counter'))), 0, 'fork: child registered explicitly');
	is(stats()->{targets}, 2, 'fork: two targets');
	ok(wait_for(sub { sampled('fk_child') }, 10), 'fork: child sampled');
	is(scalar(regs_of_pid($cpid)), 1, 'fork: child pid listed once');
	# the child dies and stays a zombie (umstarget does not reap it): gone as exit
	my $g0 = stats()->{targets_gone};
	kill('KILL', $cpid);
	ok(wait_for(sub { !regs_of_pid($cpid) }, 5), 'fork: zombie child region removed');
	ok(region_by_name('fk'), 'fork: parent region stays');
	is(stats()->{targets_gone}, $g0 + 1, 'fork: one target gone');
	is(stats()->{targets}, 1, 'fork: one target left');
	ctl("del name=fk\n");
	$t->kill;
};

lap('fork');
# ---------------------------------------------------------------------------
# two regions of one pid: deleting one keeps the other sampling
subtest 'del of one of several regions' => sub {
	my $t = Ums::target();
	ctl(join("\n", $t->add_line('counter', name => 'd1', period_us => 1000),
		 $t->add_line('u64', name => 'd2', period_us => 1000),
		 $t->add_line('s32', name => 'd3', period_us => 2000)) . "\n");
	ok(wait_for(sub { sampled(qw(d1 d2 d3)) }, 10), 'del: regions sampled');
	is(ctl_errno("del name=d1\n"), 0, 'del: del name=d1');
	is(ctl_errno(sprintf("del %d\n", region_by_name('d3')->{id})), 0, 'del: del ID of d3');
	ok(!region_by_name('d1') && !region_by_name('d3'), 'del: d1 d3 gone');
	ok(!-e dbg('values/d1') && !-e dbg('raw/d3'), 'del: their files removed');
	is(stats()->{targets}, 1, 'del: target kept');
	my $s = region_by_name('d2')->{samples};
	ok(wait_for(sub { region_by_name('d2')->{samples} >= $s + 5 }, 5), 'del: d2 keeps sampling');
	is($t->cmd('set u64 77'), 'ok set', 'del: value changed');
	ok(wait_for(sub { (rd('values/d2') // '') eq "77\n" }, 5), 'del: d2 value follows');
	ctl("del name=d2\n");
	is(stats()->{targets}, 0, 'del: last region deleted -> no target');
	$t->kill;
};

lap('del');
# ---------------------------------------------------------------------------
# pid reuse: a new process with the pid of a registered, dead one is never
# sampled under the old registration (forced with ns_last_pid)
subtest 'pid reuse' => sub { SKIP: {
	my $nlp = '/proc/sys/kernel/ns_last_pid';
	skip 'no writable ns_last_pid', 9 unless -w $nlp;
	my $old = Ums::target();
	my $pid = $old->pid;
	ctl($old->add_line('counter', name => 'reuse', period_us => 2000000) . "\n");
	# the first sample is taken right after the add, the second on a 2 s boundary:
	# from then on there are ~2 s until the next sample
	ok(wait_for(sub { (region_by_name('reuse') // { samples => 0 })->{samples} >= 2 }, 8),
	   'reuse: sampled on a period boundary (period 2 s)');
	my $id = region_by_name('reuse')->{id};
	my $g0 = stats()->{targets_gone};
	$old->cmd('exit');
	reap_target($old);
	trace_on(region => undef, sample => "id == $id") if $tracing;
	my $new;
	for (1 .. 5) {
		open(my $fh, '>', $nlp) or last;
		print $fh $pid - 1;
		close $fh;
		$new = Ums::target();
		last if $new->pid == $pid;
		$new->kill;
		undef $new;
	}
	skip 'could not get the same pid again', 8 unless $new;
	my $r = region_by_name('reuse');
	note(sprintf('reuse: pid %d reused; old region %s', $pid, $r ? "still listed, samples $r->{samples}" : 'already gone'));
	my $s_old = $r ? $r->{samples} : undef;
	is(ctl_errno($new->add_line('counter', name => 'reuse2', period_us => 1000) . "\n"), 0,
	   'reuse: new process registered under the same pid number');
	ok(wait_for(sub { !region_by_name('reuse') }, 6), 'reuse: old registration removed');
	is(stats()->{targets_gone}, $g0 + 1, 'reuse: old target counted gone');
	ok(wait_for(sub { sampled('reuse2') }, 5), 'reuse: new registration samples');
	is(stats()->{targets}, 1, 'reuse: one target (the new one)');
	is(scalar(regs_of_pid($pid)), 1, 'reuse: one region for the pid');
	SKIP: {
		skip 'no umsampler tracepoints', 2 unless $tracing;
		is(scalar(grep { $_->{id} == $id } sample_events()), 0,
		   'reuse: no sample of the old region after its process died');
		is(scalar(gone_events('exit', 'reuse')), 1, 'reuse: op=gone reason=exit');
	}
	trace_off() if $tracing;
	ctl("clear\n");
	$new->kill;
} };

lap('reuse');
# ---------------------------------------------------------------------------
# 50 targets x 4 regions at 1 ms, all killed at once
subtest '50 targets killed at once' => sub {
	my $N = 50;
	my @t = map { Ums::target() } 1 .. $N;
	my @lines;
	for my $i (0 .. $#t) {
		push @lines, $t[$i]->add_line('counter', name => "m${i}_c", period_us => 1000),
			     $t[$i]->add_line('u8', name => "m${i}_u8", period_us => 1000),
			     $t[$i]->add_line('page', name => "m${i}_p", period_us => 1000),
			     $t[$i]->add_line('str', name => "m${i}_s", period_us => 1000);
	}
	is(ctl_errno(join("\n", @lines) . "\n"), 0, "many: $N x 4 regions added in one write");
	my $st0 = stats();
	is($st0->{regions}, 4 * $N, 'many: stats regions');
	is($st0->{targets}, $N, 'many: stats targets');
	ok(wait_for(sub { !grep { $_->{samples} < 1 } regions() }, 20), 'many: every region sampled');
	trace_on(region => undef) if $tracing;
	kill('KILL', map { $_->pid } @t);
	reap_target($_) for @t;
	my $t_kill = time;
	ok(wait_for(sub { stats()->{regions} == 0 }, 10), 'many: all regions gone');
	note(sprintf('many: all gone after %.3f s', time - $t_kill));
	my $st = stats();
	is($st->{targets}, 0, 'many: no target left');
	is($st->{targets_gone}, $st0->{targets_gone} + $N, "many: targets_gone += $N");
	cmp_ok($st->{samples}, '>=', $st0->{samples}, 'many: samples monotonic');
	is(rd('regions'), "ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ\n",
	   'many: regions lists nothing');
	my @left = (glob(dbg('values') . '/*'), glob(dbg('raw') . '/*'));
	is(scalar(@left), 0, 'many: values/ and raw/ empty');
	SKIP: {
		skip 'no umsampler tracepoints', 1 unless $tracing;
		my @g = grep { $_->{op} eq 'gone' && $_->{reason} eq 'exit' } region_events();
		is(scalar(@g), 4 * $N, 'many: one op=gone reason=exit per region');
	}
	trace_off() if $tracing;
};

# an open debugfs file pins the module; rmmod works once it is closed
subtest 'an open debugfs file pins the module' => sub {
	my $t = Ums::target();
	ctl($t->add_line('counter', name => 'pin', period_us => 1000) . "\n");
	ok(wait_for(sub { sampled('pin') }, 10), 'pin: sampled');
	open(my $fh, '<', dbg('values/pin')) or die "values/pin: $!";
	open(my $fs, '<', dbg('stats')) or die "stats: $!";
	isnt(system('rmmod umsampler 2>/dev/null'), 0, 'pin: rmmod refused while debugfs files are open');
	ok(ums_loaded() && -e dbg('values/pin'), 'pin: module and region still there');
	my $v = <$fh>;
	like($v // '', qr/^\d+\n\z/, 'pin: open values file still readable');
	close $fh;
	close $fs;
	ok(wait_for(sub { sampled('pin') }, 5), 'pin: still sampling');
	$t->kill;
};
ok(ums_unload(), 'rmmod');

lap('many');
# ---------------------------------------------------------------------------
# rmmod with active regions, repeated: no pid/mm_struct/task_struct leak
subtest 'rmmod with active regions, repeated' => sub {
	my $ITER = $ENV{UMS_RMMOD_ITER} // 50;
	my @keep = map { Ums::target() } 1 .. 3;
	sleep 0.5;
	my @caches = grep { defined slab_exact($_) } qw(pid mm_struct task_struct);
	my %base = map { $_ => slab_exact($_) } @caches;
	note('baseline ' . join(' ', map { "$_=$base{$_}" } @caches));
	my ($fails, $loadfail) = (0, 0);
	# load from tmpfs: reading the .ko over 9p on every iteration is slow
	my $ko = "/tmp/umsampler-loop-$$.ko";
	system('cp', $Ums::KO, $ko) == 0 or $ko = $Ums::KO;
	my %tm = (insmod => 0, rmmod => 0);
	for my $i (1 .. $ITER) {
		my $t0 = time;
		if (system('insmod', $ko, 'period_us=1000') != 0) { $loadfail++; last }
		$tm{insmod} += time - $t0;
		my $fresh = Ums::target();
		my @l;
		for my $k (0 .. $#keep) {
			push @l, map { $keep[$k]->add_line($_, name => "k${k}_$_", period_us => 1000) }
				qw(counter page str);
		}
		push @l, $fresh->add_line('counter', name => 'fresh_c', period_us => 1000),
			 $fresh->add_line('two', name => 'fresh_t', period_us => 1000, fault => 1);
		$fails++ if ctl_errno(join("\n", @l) . "\n");
		sleep 0.05;
		# vary what is in flight at rmmod time: a dying target, a pending
		# reap, a fresh registration, a paused sampler
		if ($i % 4 == 0) {
			$fresh->kill;
		} elsif ($i % 4 == 1) {
			$fresh->cmd('unmap two');
		} elsif ($i % 4 == 2) {
			Ums::_wr(dbg('enabled'), '0');
		}
		$t0 = time;
		$fails++ if system('rmmod', 'umsampler') != 0;
		$tm{rmmod} += time - $t0;
		$fresh->kill;
	}
	unlink $ko if $ko ne $Ums::KO;
	note(sprintf('rmmod loop: insmod %.2f s, rmmod %.2f s per iteration', $tm{insmod} / $ITER, $tm{rmmod} / $ITER));
	is($loadfail, 0, "rmmod loop: $ITER insmods succeeded");
	is($fails, 0, "rmmod loop: $ITER adds and rmmods with active regions succeeded");
	ok(!ums_loaded(), 'rmmod loop: module unloaded');
	# freeing of pids and tasks is RCU-delayed: allow a few seconds to settle
	my %after;
	wait_for(sub {
		%after = map { $_ => slab_exact($_) } @caches;
		!grep { $after{$_} > $base{$_} + 8 } @caches;
	}, 8);
	note('after ' . join(' ', map { "$_=$after{$_}" } @caches));
	for my $c (@caches) {
		cmp_ok($after{$c}, '<=', $base{$c} + 8,
		       "rmmod loop: $c objects not grown (base $base{$c}, after $after{$c})");
	}
	ok(scalar(@caches) >= 2, 'rmmod loop: slab caches measurable: ' . join(' ', @caches));
	$_->kill for @keep;
};

lap('rmmod loop');
note(sprintf('20-lifecycle.t guest time %.1f s', time - $T0));
done_testing();

END { ums_cleanup() }
