#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 80-soak.t - everything at once, for a fixed time, with the module reloaded
# every 10 s:
#  - churners keep UMS_SOAK_TARGETS umstarget processes (default 50) forking,
#    exec'ing, munmapping, exiting and being killed, restarting them;
#  - registrars add and remove regions at random (up to UMS_SOAK_REGIONS,
#    default 500; batches, del by name/id/pid, sync, rare clear) on the
#    current targets and their forked children;
#  - readers walk regions/snapshot/stats/values/raw/control;
#  - `trace-cmd record -e umsampler` (in its own instance) and a trace_pipe
#    reader run throughout (events re-enabled after each insmod);
#  - rmmod + insmod every UMS_SOAK_RELOAD_SECS (default 10), alternately with
#    the other processes paused and racing them (rmmod retried while a file is
#    open: an open debugfs file pins the module; a racing rmmod still refused
#    after 5 s pauses the others, since busy readers can starve it).
# At the end: no region is left for a dead or exec'd process once the sampler
# had a few periods; all regions go when every target is killed; rmmod
# succeeds; the slab caches pid, mm_struct and task_struct are back to the
# baseline (exact counts, corrected for the number of threads/processes alive)
# within a small slack. Kernel WARN/BUG/lockup/RCU stall fail the run through
# vmrun's log scan.
#
# Duration UMS_SOAK_SECS (default 40 s, so that `make check` on three kernels
# stays reasonable). The issue's full size, 200 targets and 2000 regions for
# 2 minutes: UMS_SOAK_FULL=1 (UMS_SOAK_SECS still overrides the duration), e.g.
#   scripts/vmrun --kernel 6.12 --timeout 1800 -- env UMS_SOAK_FULL=1 UMS_SOAK_SECS=600 \
#	UMS_KO=... UMS_PROGS=... prove -v tests/guest/80-soak.t
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno ();
use Fcntl;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;

$SIG{__WARN__} = sub { warn @_ unless $_[0] =~ /^Hexadecimal number > 0xffffffff non-portable/ };
no warnings 'portable';

my $T0 = time;
my $PARENT = $$;
my $FULL = $ENV{UMS_SOAK_FULL};
my $SECS = $ENV{UMS_SOAK_SECS} // ($FULL ? 120 : 40);
my $NT = $ENV{UMS_SOAK_TARGETS} // ($FULL ? 200 : 50);
my $MAXR = $ENV{UMS_SOAK_REGIONS} // ($FULL ? 2000 : 500);
my $RELOAD = $ENV{UMS_SOAK_RELOAD_SECS} // 10;
my $NC = 4;			# churners
my $NR = 2;			# registrars
my $NRD = 2;			# readers
my $PARAMS = 'unmapped_limit=4';
my $DIR = "/tmp/ums-soak-$$";
my $TRACE = '/sys/kernel/tracing';
my $INST = "umssoak$$";
my %OKERR = map { (eval "Errno::$_()") => $_ } qw(EINVAL ESRCH EFAULT E2BIG ENOSPC EEXIST ENOENT EPERM);
my @VARS = qw(counter u64 str shape big page two fresh);

note("UMS_SOAK_SECS=$SECS UMS_SOAK_TARGETS=$NT UMS_SOAK_REGIONS=$MAXR reload every $RELOAD s");
mkdir $DIR or die "mkdir $DIR: $!";
ums_unload() if ums_loaded();

# programs and module from tmpfs: exec and insmod over 9p are slow
system('cp', "$Ums::PROGS/umstarget", "$DIR/umstarget") == 0 or die 'cp umstarget';
system('cp', $Ums::KO, "$DIR/umsampler.ko") == 0 or die 'cp ko';
$Ums::PROGS = $DIR;
my $KO = "$DIR/umsampler.ko";

# --- baseline: exact slab counts, with the threads and processes alive -----
sub census {
	my @t = glob('/proc/[0-9]*/task/[0-9]*');
	my $mm = grep { (rd($_) // '') =~ /^VmSize:/m } glob('/proc/[0-9]*/status');
	return (threads => scalar(@t), mms => $mm);
}
my @CACHES = grep { defined slab_exact($_) } qw(pid mm_struct task_struct);
sub snapshot_slabs {
	my %c = census();
	$c{$_} = slab_exact($_) for @CACHES;
	return \%c;
}
# objects not explained by live threads (task_struct, pid) or processes with an mm (mm_struct)
sub excess {
	my ($s) = @_;
	my %e;
	for my $c (@CACHES) {
		$e{$c} = $s->{$c} - ($c eq 'mm_struct' ? $s->{mms} : $s->{threads});
	}
	return \%e;
}
sleep 0.5;
my $BASE = snapshot_slabs();
note('baseline ' . join(' ', map { "$_=$BASE->{$_}" } sort keys %$BASE));

# insmod/rmmod by system call: forking insmod/rmmod under this load takes seconds
sub load {
	my $ok = 0;
	if (open(my $fh, '<', $KO)) {
		$ok = syscall(313, fileno($fh), $PARAMS, 0) == 0;	# finit_module
		close $fh;
	}
	$ok ||= system('insmod', $KO, $PARAMS) == 0;
	return 0 unless $ok;
	for my $d ("$TRACE/events/umsampler", "$TRACE/instances/$INST/events/umsampler") {
		Ums::_wr("$d/enable", '1') if -d $d;
	}
	return 1;
}
ok(load(), "insmod $PARAMS");

sub spawn {
	my ($code) = @_;
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		my $rc = eval { $code->(); 0 } // do { print STDERR "child $$: $@"; 1 };
		POSIX::_exit($rc);
	}
	return $pid;
}

sub put_file {
	my ($f, $s) = @_;
	open(my $fh, '>', "$f.tmp") or die "$f.tmp: $!";
	print $fh $s;
	close $fh or die "$f.tmp: $!";
	rename("$f.tmp", $f) or die "rename $f: $!";
}

sub rpick { return $_[int(rand(@_))] }
my $DEADLINE = time + $SECS;
sub paused { return -e "$DIR/pause" }

# --- tracing: trace-cmd record in an instance, trace_pipe reader on the top one
my ($tcmd, $tpipe);
SKIP: {
	skip 'no tracefs', 1 unless -d "$TRACE/events/umsampler";
	$tcmd = fork // die;
	if (!$tcmd) {
		chdir $DIR;	# trace-cmd writes its per-cpu files next to its cwd/output
		open(STDOUT, '>', "$DIR/trace-cmd.log");
		open(STDERR, '>&', \*STDOUT);
		{ exec('trace-cmd', 'record', '-B', $INST, '-e', 'umsampler', '-o', "$DIR/soak.dat") }
		POSIX::_exit(127);
	}
	ok(wait_for(sub { -d "$TRACE/instances/$INST/events/umsampler" }, 20), 'trace-cmd record started');
	Ums::_wr("$TRACE/events/umsampler/enable", '1');
	Ums::_wr("$TRACE/trace", '');
	$tpipe = spawn(sub {
		my ($lines, $ev, $bad, $buf) = (0, 0, 0, '');
		my %op;
		open(my $fh, '<', "$TRACE/trace_pipe") or die "trace_pipe: $!";
		my $sel = IO::Select->new($fh);
		while (!-e "$DIR/stop-trace") {
			next unless $sel->can_read(0.5);
			my $n = sysread($fh, $buf, 65536, length $buf);
			last unless $n;
			while ($buf =~ s/^([^\n]*)\n//) {
				my $l = $1;
				$lines++;
				if ($l =~ /\b(sample|region): /) {
					$ev++;
					$op{$1}{$2}++ if $l =~ /\b(region): op=(\w+)/;
				}
				$bad++, print STDERR "trace_pipe: $l\n" if $l =~ /LINE TOO BIG|FAILED TO PARSE/;
			}
		}
		put_file("$DIR/tpipe", "lines=$lines events=$ev bad=$bad " .
			 join(' ', map { "region_$_=$op{region}{$_}" } sort keys %{$op{region} // {}}) . "\n");
	});
}

# --- churners ----------------------------------------------------------------
sub churner {
	my ($c) = @_;
	srand($$ ^ int(time * 1000));
	local $SIG{PIPE} = 'IGNORE';	# writing to a target that died
	# orphaned children of our targets are reparented to us and reaped here
	syscall(157, 36, 1, 0, 0, 0);	# prctl(PR_SET_CHILD_SUBREAPER, 1)
	my $n = int($NT / $NC) + ($c <= $NT % $NC ? 1 : 0);
	my @slot = map { { t => Ums::target(), kids => [], execd => 0 } } 1 .. $n;
	my %st;
	my $publish = sub {
		my @l;
		for my $s (@slot) {
			my $v = $s->{t}{var};
			my $vars = join(' ', map { "$_=$v->{$_}{hex}:$v->{$_}{len}:$v->{$_}{type}" } @VARS);
			push @l, "$s->{t}{pid} $vars" if $s->{t}{pid} && !$s->{execd};
			push @l, "$_ $vars" for @{$s->{kids}};	# forked children outlive an exec
		}
		put_file("$DIR/targets.$c", join("\n", @l) . "\n");
	};
	my $restart = sub {
		my ($s) = @_;
		$s->{t}->kill;
		kill('KILL', @{$s->{kids}}) if @{$s->{kids}};
		$s->{kids} = [];
		$s->{execd} = 0;
		$s->{t} = Ums::target();
		$st{restart}++;
	};
	$publish->();
	# the run starts when every churner's targets are up
	sleep 0.05 until -e "$DIR/deadline" || getppid() != $PARENT;
	return if getppid() != $PARENT;
	$DEADLINE = rd("$DIR/deadline") + 0;
	my $interval = 0.05 * $NC * 50 / ($NT || 1);	# ~20 actions/s in total for 50 targets
	$interval = 0.01 if $interval < 0.01;
	while (time < $DEADLINE) {
		1 while waitpid(-1, WNOHANG) > 0;
		my $s = rpick(@slot);
		my $r = rand();
		eval {
			# a target that died cannot answer, and its forked children keep
			# the pipe open: never wait for an answer for long
			local $SIG{ALRM} = sub { die "umstarget $s->{t}{pid}: no answer\n" };
			alarm 20;
			if ($s->{execd}) {
				$restart->($s);
			} elsif ($r < 0.15) {
				$s->{t}->cmd('exit');
				Ums::reap_target($s->{t});
				$restart->($s);
				$st{exit}++;
			} elsif ($r < 0.30) {
				$restart->($s);		# SIGKILL
				$st{kill}++;
			} elsif ($r < 0.45) {
				$s->{t}->cmd('exec');
				$s->{execd} = 1;	# same pid, now /bin/sleep; restarted on the next visit
				$st{exec}++;
			} elsif ($r < 0.65) {
				$s->{t}->cmd('unmap ' . rpick(qw(page two fresh)));
				$st{unmap}++;
			} elsif ($r < 0.85) {
				my $a = $s->{t}->cmd('fork');
				push @{$s->{kids}}, $1 if $a =~ /^ok child (\d+)/;
				kill('KILL', shift @{$s->{kids}}) if @{$s->{kids}} > 2;
				$st{fork}++;
			} else {
				# (no `touch`: on an unmapped page the target would segfault)
				$s->{t}->cmd(rpick('dontneed page', 'inc counter 7', 'set str soak'));
				$st{poke}++;
			}
			alarm 0;
			1;
		} or do { alarm 0; $st{err}++; $restart->($s) };
		$publish->();
		sleep($interval);
	}
	# frozen: targets stay as they are until the test has checked the registry
	$publish->();
	my $execd = join(' ', map { $_->{t}{pid} } grep { $_->{execd} } @slot);
	put_file("$DIR/frozen.$c", "execd $execd\nstat " . join(' ', map { "$_=$st{$_}" } sort keys %st) . "\n");
	sleep 0.05 until -e "$DIR/stop" || time > $DEADLINE + 300 || getppid() != $PARENT;
	for my $s (@slot) {
		kill('KILL', @{$s->{kids}}) if @{$s->{kids}};
		$s->{t}->kill;
	}
	1 while waitpid(-1, 0) > 0;
}

sub targets_now {
	my @t;
	for my $f (glob("$DIR/targets.[0-9]*")) {
		next if $f =~ /\.tmp$/;
		open(my $fh, '<', $f) or next;
		while (my $l = <$fh>) {
			chomp $l;
			my ($pid, @kv) = split / /, $l;
			next unless $pid;
			push @t, { pid => $pid, var => { map { my ($k, $v) = split /=/; $k => [split /:/, $v] } @kv } };
		}
	}
	return @t;
}

# --- registrars ----------------------------------------------------------------
sub registrar {
	my ($k) = @_;
	srand($$ ^ int(time * 1000));
	my ($n, %st, %bad) = (0);
	while (time < $DEADLINE) {
		if (paused()) { sleep 0.02; next }
		my @t = targets_now();
		my $st = stats();
		if (!@t || !defined $st->{regions}) { $st{nomod}++; sleep 0.02; next }
		my $r = rand();
		my $text;
		# mostly adds while below $MAXR, mostly deletes above
		if ($st->{regions} < $MAXR && $r < ($st->{regions} < $MAXR * 0.8 ? 0.85 : 0.5)) {
			my @l;
			for (1 .. 1 + int(rand(40))) {
				my $t = rpick(@t);
				my $var = rpick(@VARS);
				my ($addr, $len, $type) = @{$t->{var}{$var}};
				my $p = rand() < 0.01 ? 1000 : rand() < 0.05 ? 10000 : rpick(50000, 100000, 200000, 500000);
				my $l = "add pid=$t->{pid} addr=$addr len=$len type=$type period_us=$p";
				$l .= ' name=g' . $k . '_' . $n++ if rand() < 0.7;
				$l .= ' mode=change' if rand() < 0.3;
				$l .= ' fault' if rand() < 0.2;
				push @l, $l;
			}
			$text = join("\n", @l) . "\n";
			$st{add}++;
		} else {
			my @reg = regions();
			next unless @reg;
			my @l = map {
				my $x = rpick(@reg);
				rpick("del name=$x->{name}", "del name=$x->{name}", "del $x->{id}", "del $x->{id}",
				      "del pid=$x->{pid}", 'sync');
			} 1 .. 1 + int(rand(5));
			push @l, 'clear' if rand() < 0.005;
			$text = join("\n", @l) . "\n";
			$st{del}++;
		}
		# open fails with ENOENT while the module is out, ENXIO while it is going
		# away (debugfs refuses to open a file of a module being removed)
		my $fh;
		if (!sysopen($fh, dbg('control'), O_WRONLY)) {
			my $e = $! + 0;
			$st{'open_' . Ums::errname($e)}++;
			$bad{'open_' . Ums::errname($e)}++ unless $e == Errno::ENOENT() || $e == Errno::ENXIO();
			next;
		}
		my $e = defined(syswrite($fh, $text)) ? 0 : $! + 0;
		close $fh;
		if ($e) {
			$st{Ums::errname($e)}++;
			$bad{Ums::errname($e)}++ unless $OKERR{$e};
		} else {
			$st{ok}++;
		}
	}
	put_file("$DIR/reg.$k", 'stat ' . join(' ', map { "$_=$st{$_}" } sort keys %st) . "\nbad " .
		 join(' ', map { "$_=$bad{$_}" } sort keys %bad) . "\n");
}

# --- readers -------------------------------------------------------------------
sub reader {
	my ($k) = @_;
	my ($n, %st) = (0);
	while (time < $DEADLINE) {
		if (paused()) { sleep 0.02; next }
		sleep 0.02;
		for my $f (qw(regions snapshot stats enabled control), rpick(glob(dbg('values') . '/*')),
			   rpick(glob(dbg('raw') . '/*'))) {
			next unless defined $f;
			my $p = $f =~ m{^/} ? $f : dbg($f);
			if (open(my $fh, '<', $p)) {
				local $/;
				my $s = <$fh>;
				$st{'read_' . Ums::errname($! + 0)}++ unless defined $s;
				close $fh;
				$n++;
			} else {
				$st{'open_' . Ums::errname($! + 0)}++;
			}
		}
	}
	put_file("$DIR/rd.$k", "reads=$n " . join(' ', map { "$_=$st{$_}" } sort keys %st) . "\n");
}

my @CH = map { my $c = $_; spawn(sub { churner($c) }) } 1 .. $NC;
ok(wait_for(sub { my @g = grep { !/\.tmp$/ } glob("$DIR/targets.[0-9]*"); @g >= $NC }, 300), "$NT targets started");
note(sprintf('targets up after %.1f s', time - $T0));
$DEADLINE = time + $SECS;
put_file("$DIR/deadline", "$DEADLINE\n");
my @RG = map { my $k = $_; spawn(sub { registrar($k) }) } 1 .. $NR;
my @RD = map { my $k = $_; spawn(sub { reader($k) }) } 1 .. $NRD;

# --- the reload loop (this process) ---------------------------------------------
my ($reloads, $rmfail, $insfail, $maxwait, $maxregs, $tries, $starved) = (0, 0, 0, 0, 0, 0, 0);
while (time + 1 < $DEADLINE) {
	my $until = time + $RELOAD;
	while (time < $until && time + 1 < $DEADLINE) {
		my $st = stats();
		$maxregs = $st->{regions} if ($st->{regions} // 0) > $maxregs;
		sleep 0.5;
	}
	last if time + 1 >= $DEADLINE;
	my $pause = $reloads % 2;
	if ($pause) {
		put_file("$DIR/pause", '');
		sleep 0.2;
	}
	my $t0 = time;
	my $ok = 0;
	while (time - $t0 < 30) {
		$tries++;
		# racing: readers can keep some file open nearly all the time (an
		# open debugfs file pins the module); after 5 s pause them too
		if (!$pause && time - $t0 > 5) {
			put_file("$DIR/pause", '');
			$pause = 1;
			$starved++;
		}
		# delete_module(O_NONBLOCK): EWOULDBLOCK/EBUSY while a debugfs file is open
		my $mod = 'umsampler';
		if (syscall(176, $mod, O_NONBLOCK) == 0) { $ok = 1; last }
		sleep 0.01;
	}
	$maxwait = time - $t0 if time - $t0 > $maxwait;
	$rmfail++ unless $ok;
	$insfail++ unless load();
	unlink "$DIR/pause";
	$reloads++;
}
note(sprintf('reloads %d (rmmod attempts %d, longest rmmod wait %.2f s, racing rmmods starved by open files %d), most regions seen %d',
	     $reloads, $tries, $maxwait, $starved, $maxregs));
is($rmfail, 0, "every rmmod during the soak succeeded ($reloads reloads)");
is($insfail, 0, 'every insmod during the soak succeeded');
# under TCG and a loaded host a cycle stretches: at least half the nominal reloads
cmp_ok($reloads, '>=', int($SECS / $RELOAD / 2), "reloaded about every $RELOAD s");

my $bad = 0;
for my $p (@RG, @RD) {
	waitpid($p, 0);
	$bad++ if $?;
}
is($bad, 0, 'registrars and readers exited cleanly');
ok(wait_for(sub { scalar(grep { !/\.tmp$/ } glob("$DIR/frozen.[0-9]*")) == $NC }, 60), 'churners stopped');
my %regstat;
for my $f (glob("$DIR/reg.*"), glob("$DIR/rd.*"), glob("$DIR/frozen.*")) {
	my $s = rd($f) // '';
	note("$f: $s");
	if ($f =~ /reg\./) {
		my ($b) = $s =~ /^bad (.*)$/m;
		is($b // '', '', "$f: only documented errnos") ;
		$regstat{ok} += $1 if $s =~ /\bok=(\d+)/;
	}
}
cmp_ok($regstat{ok} // 0, '>', 10, 'registrars had successful writes: ' . ($regstat{ok} // 0));

# --- no region for a dead or exec'd process, once the sampler had a few periods --
my %live = map { $_->{pid} => 1 } targets_now();
my %execd = map { $_ => 1 } map { /^execd (.*)$/m ? split(/ /, $1) : () } map { rd($_) // '' } glob("$DIR/frozen.*");
delete $live{$_} for keys %execd;
my @stale;
ok(wait_for(sub {
	@stale = grep { !$live{$_->{pid}} } regions();
	!@stale;
}, 10), 'no region left for a dead or exec\'d process') or
	diag('stale: ' . join(' ', map { "$_->{id}:$_->{name}:pid$_->{pid}" } @stale[0 .. ($#stale < 10 ? $#stale : 10)]));
note(scalar(regions()) . ' regions on ' . scalar(keys %live) . ' live targets');

put_file("$DIR/stop", '');
for my $p (@CH) {
	waitpid($p, 0);
	$bad++ if $?;
}
is($bad, 0, 'churners exited cleanly');
ok(wait_for(sub { stats()->{regions} == 0 }, 10), 'every region gone once all targets are dead');
is(stats()->{targets}, 0, 'no target left');
{
	my @v = glob(dbg('values') . '/*');
	is(scalar(@v), 0, 'values/ empty');
}

# --- tracing -----------------------------------------------------------------------
if ($tcmd) {
	put_file("$DIR/stop-trace", '');
	waitpid($tpipe, 0);
	is($?, 0, 'trace_pipe reader exited cleanly');
	my $tp = rd("$DIR/tpipe") // '';
	note("trace_pipe: $tp");
	like($tp, qr/events=[1-9]/, 'trace_pipe delivered umsampler events');
	like($tp, qr/ bad=0 /, 'no unparsable or oversized event line');
	kill('INT', $tcmd);
	my $t0 = time;
	waitpid($tcmd, 0);
	is($? >> 8, 0, sprintf('trace-cmd record stopped cleanly (%.1f s)', time - $t0)) or diag(rd("$DIR/trace-cmd.log"));
	cmp_ok(-s "$DIR/soak.dat" // 0, '>', 0, 'trace-cmd wrote ' . (-s "$DIR/soak.dat" // 0) . ' bytes');
	unlink "$DIR/soak.dat";
	rmdir "$TRACE/instances/$INST" if -d "$TRACE/instances/$INST";
	Ums::_wr("$TRACE/events/umsampler/enable", '0');
}

ok(ums_unload(), 'final rmmod');

# --- slab counts back to the baseline ------------------------------------------------
{
	my $b = excess($BASE);
	my ($now, $e);
	my $SLACK = 16;
	wait_for(sub {
		$now = snapshot_slabs();
		$e = excess($now);
		!grep { $e->{$_} > $b->{$_} + $SLACK } @CACHES;
	}, 15);
	note('after ' . join(' ', map { "$_=$now->{$_}" } sort keys %$now));
	for my $c (@CACHES) {
		cmp_ok($e->{$c}, '<=', $b->{$c} + $SLACK,
		       "$c: objects beyond live threads/processes back to baseline (base $b->{$c}, now $e->{$c}, slack $SLACK)");
	}
	ok(scalar(@CACHES) >= 2, 'slab caches measurable: ' . join(' ', @CACHES));
}
system('rm', '-rf', $DIR);
note(sprintf('80-soak.t guest time %.1f s', time - $T0));
done_testing();
