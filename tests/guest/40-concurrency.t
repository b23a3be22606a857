#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 40-concurrency.t - everything at once for UMS_CONC_SECS (default 30) seconds:
# 4 writers adding/deleting regions (batches, clear, duplicates, del by
# id/name/pid), 4 readers of snapshot/regions/stats/values/raw, a killer that
# kills, execs, unmaps and restarts the 8 targets (--tick-us 1000) every ~0.5 s,
# periods of 100..1000 us, `enabled` toggled, max_regions small enough to hit.
# Afterwards: every child exited cleanly, only expected errnos were seen, the
# registry is consistent, stats counters never went backwards, rmmod works.
# Kernel warnings, lockups and RCU stalls are caught by vmrun's log scan.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno qw(EINVAL ESRCH EFAULT ENOSPC EEXIST ENOENT EIO);
use Fcntl;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;


my $T0 = time;
my $SECS = $ENV{UMS_CONC_SECS} // 30;
my $NTARGETS = 8;
my $MAX_REGIONS = 64;
my @MONO = qw(ticks samples bytes partial emitted missed late_max_ns targets_gone cpu_ns spans);
# variables of umstarget used by the writers: name => [len, type]
my %VARS = (counter => [4, 'u32'], u64 => [8, 'u64'], page => [4096, 'hex'], str => [32, 'str'],
	    shape => [16, 'hex'], big => [10000, 'hex'], two => [8192, 'hex'], s16 => [2, 's16'],
	    f64 => [8, 'f64']);
my %RAWLEN = map { $VARS{$_}[0] => 1 } keys %VARS;

my $DIR = tmp_dir('conc');
ums_unload() if ums_loaded();
ok(ums_load('period_us=1000', "max_regions=$MAX_REGIONS"), "insmod max_regions=$MAX_REGIONS");
# The $SECS seconds start once the killer's first targets are up (starting 8
# umstargets takes seconds in a TCG guest, tens of seconds under KASAN on a
# busy host): main sets $DEADLINE then and hands it to the killer in $DIR/go.
my $DEADLINE;

# current targets published by the killer: list of { pid, addr => { var => hex } }
sub targets_now {
	my $s = rd("$DIR/targets") // return ();
	return map {
		my ($pid, @kv) = split / /;
		{ pid => $pid, addr => { map { split /=/ } @kv } };
	} split /\n/, $s;
}

# Is the process gone, a zombie or dying (i.e. an add racing with its exit)?
sub dying {
	my ($pid) = @_;
	my $end = time + 2;
	while (time < $end) {
		my $st = rd("/proc/$pid/stat") // return 1;
		return 1 if $st =~ /^\d+ \(.*\) [ZX]/s;
		sleep 0.02;
	}
	return 0;
}

# run $body in a child (Ums::spawn); the hash it returns (or {died => why})
# is written to $DIR/$tag.res
sub spawn_res {
	my ($tag, $body) = @_;
	return spawn(sub {
		srand($$ ^ int(time * 1000));
		my %res;
		my $ok = eval { %res = $body->(); 1 };
		$res{died} = $@ unless $ok;
		put_file("$DIR/$tag.res", join('', map { "$_ $res{$_}\n" } sort keys %res));
		die $res{died} unless $ok;
	});
}

sub read_res {
	my ($tag) = @_;
	my $s = rd("$DIR/$tag.res") // return { died => 'no result file' };
	return { map { /^(\S+) (.*)$/s ? ($1, $2) : () } split /\n/, $s };
}

# ---------------------------------------------------------------------------
# killer: keeps $NTARGETS targets, kills/execs/unmaps one every ~0.5 s
my $killer_stop = 0;
my $killer = spawn_res('killer', sub {
	local $SIG{USR1} = sub { $killer_stop = 1 };
	my (@t, @dead, %unmapped);
	my %r = (kills => 0, execs => 0, unmaps => 0, starts => 0);
	# time spent per kind of step, in seconds: $r{"${kind}_s"}
	my $timed = sub {
		my ($kind, $f) = @_;
		my $t0 = time;
		my @ret = $f->();
		$r{"${kind}_s"} += time - $t0;
		return wantarray ? @ret : $ret[0];
	};
	my $start = sub {
		$timed->('start', sub { push @t, Ums::target('--tick-us', 1000) });
		$r{starts}++;
	};
	my $publish = sub {
		put_file("$DIR/targets", join('', map {
			my $x = $_;
			join(' ', $x->pid, map { "$_=" . $x->addr($_) } sort keys %VARS) . "\n"
		} @t));
	};
	$start->() for 1 .. $NTARGETS;
	$publish->();
	put_file("$DIR/killer.ready", "1\n");
	sleep 0.05 until $killer_stop || defined($DEADLINE = rd("$DIR/go"));
	$DEADLINE //= 0;
	my $t0 = time;
	$r{$_} = 0 for qw(start_s sleep_s unmap_s exec_s kill_s);	# in the loop only
	while (time < $DEADLINE && !$killer_stop) {
		$timed->('sleep', sub { sleep 0.3 + rand(0.4) });
		last if time >= $DEADLINE;
		my $i = int rand @t;
		my $a = rand;
		if ($a < 0.15 && !$unmapped{$t[$i]->pid}) {
			$timed->('unmap', sub { $t[$i]->cmd('unmap two') }) =~ /^ok/ or die 'unmap failed';
			$unmapped{$t[$i]->pid} = 1;
			$r{unmaps}++;
			next;
		}
		my $victim = splice(@t, $i, 1);
		if ($a < 0.3) {
			$timed->('exec', sub { $victim->cmd('exec') });	# same pid, new mm; killed next round
			push @dead, $victim;
			$r{execs}++;
		} else {
			$timed->('kill', sub { $victim->kill(rand() < 0.5 ? 'KILL' : 'TERM') });
			$r{kills}++;
		}
		$start->();
		$publish->();
		$timed->('kill', sub { $_->kill for splice(@dead, 0, @dead > 1 ? 1 : 0) });
	}
	$r{loop_s} = time - $t0;
	$_->kill for @dead;
	$publish->();
	put_file("$DIR/killer.idle", "1\n");
	sleep 0.05 until $killer_stop;
	$_->kill for @t;
	return %r;
});
if (!wait_for(sub { -e "$DIR/killer.ready" || waitpid($killer, POSIX::WNOHANG) == $killer }, 600) ||
    !-e "$DIR/killer.ready") {
	kill('KILL', $killer);	# it shares our stdout: prove would wait for it
	BAIL_OUT('killer did not start its targets: ' . (read_res('killer')->{died} // 'timeout'));
}
$DEADLINE = time + $SECS;
put_file("$DIR/go", "$DEADLINE\n");

# ---------------------------------------------------------------------------
# writers
my %EXPECTED_W = map { $_ => 1 } (ENOENT, ESRCH, EEXIST, EFAULT, ENOSPC);

sub add_cmd {
	my ($t, $name) = @_;
	my @v = sort keys %VARS;
	my $v = rand() < 0.03 ? 'big' : $v[rand @v];
	$v = 'counter' if $v eq 'big' && rand() < 0.5;
	my ($len, $type) = @{ $VARS{$v} };
	my $s = sprintf('add pid=%d addr=%s len=%d type=%s period_us=%d', $t->{pid}, $t->{addr}{$v}, $len,
			$type, 100 + int(rand(901)));
	$s .= ' mode=change' if rand() < 0.3;
	$s .= ' fault' if rand() < 0.2;
	$s .= " name=$name" if defined $name;
	return $s;
}

my @writers = map {
	my $w = $_;
	spawn_res("writer$w", sub {
		my (%r, @mine);
		my $n = 0;
		$r{writes} = $r{ok} = 0;
		$r{unexpected} = '';
		while (time < $DEADLINE) {
			my @t = targets_now() or do { sleep 0.01; next };
			my (@l, @pids);
			my $a = rand;
			if ($a < 0.45) {			# batch of adds
				for (1 .. 1 + int rand 4) {
					my $t = $t[rand @t];
					my $name = rand() < 0.8 ? sprintf('w%dn%d', $w, $n++) : undef;
					push @l, add_cmd($t, $name);
					push @pids, $t->{pid};
					push @mine, $name if defined $name;
				}
			} elsif ($a < 0.62) {			# del name (mine, maybe gone)
				next unless @mine;
				push @l, 'del name=' . splice(@mine, int rand @mine, 1);
			} elsif ($a < 0.72) {			# del id of any region
				my @r = regions();
				next unless @r;
				push @l, "del $r[rand @r]{id}";
			} elsif ($a < 0.80) {			# del pid
				push @l, "del pid=$t[rand @t]{pid}";
			} elsif ($a < 0.83) {			# clear (rare)
				push @l, 'clear';
			} elsif ($a < 0.90) {			# duplicate name: EEXIST if the first worked
				my $t = $t[rand @t];
				my $name = sprintf('w%dn%d', $w, $n++);
				push @pids, $t->{pid};
				my $e = ctl_errno(add_cmd($t, $name) . "\n");
				$r{writes}++;
				$r{ok}++ unless $e;
				$r{"e_" . errname($e)}++ if $e;
				next if $e;
				push @mine, $name;
				@l = (add_cmd($t, $name));
			} else {				# mixed batch
				my $t = $t[rand @t];
				push @pids, $t->{pid};
				push @l, 'sync', add_cmd($t, sprintf('w%dn%d', $w, $n)), "del name=w${w}n$n";
				$n++;
				push @l, add_cmd($t, undef) if rand() < 0.5;
				push @l, '# comment', '';
			}
			my $e = ctl_errno(join("\n", @l) . "\n");
			$r{writes}++;
			if (!$e) {
				$r{ok}++;
			} else {
				$r{'e_' . errname($e)}++;
				if (!$EXPECTED_W{$e} && !($e == EINVAL && grep { dying($_) } @pids)) {
					my $msg = rd('control') // '';
					chomp $msg;
					$r{unexpected} .= sprintf('[%s on "%s": %s] ', errname($e),
								  join('\n', @l), $msg);
				}
			}
			@mine = @mine[-40 .. -1] if @mine > 40;
			sleep rand(0.01);
		}
		return %r;
	});
} 1 .. 4;

# ---------------------------------------------------------------------------
# readers
my $REG_RE = qr/^\d+ \d+ 0x[0-9a-f]+ \d+ \d+ (?:hex|u8|u16|u32|u64|s8|s16|s32|s64|f32|f64|str) (?:always|change) [A-Za-z0-9_.:-]+ \d+ \d+ \d+ (?:off|on|stale) (?:none|thread|mirror) (?:-|-?\d+(?:,-?\d+)*) (?:-|0x[0-9a-f]+|[+-]\d+)$/;
my $SNAP_RE = qr/^(?:id=\d+ name=\S+ pid=\d+ seq=\d+ time_ns=\d+ late_ns=\d+ type=\w+ flags=(?:none|[a-z|]+) mirror=(?:off|on|stale) path=(?:none|thread|mirror) raddr=0x[0-9a-f]+(?: value=.*)?|  [0-9a-f]{4,}: .*)$/;

sub read_err {
	my ($f) = @_;
	sysopen(my $fh, $f, O_RDONLY) or return ($! + 0, undef);
	my ($buf, $s) = ('', '');
	while (1) {
		my $n = sysread($fh, $buf, 65536);
		return ($! + 0, undef) unless defined $n;
		last unless $n;
		$s .= $buf;
	}
	return (0, $s);
}

my @readers = map {
	my $rd = $_;
	spawn_res("reader$rd", sub {
		my %r = (reads => 0, bad => '', value_reads => 0);
		my %last;
		my $bad = sub { $r{bad} .= "[$_[0]] " if length($r{bad}) < 2000 };
		while (time < $DEADLINE) {
			for my $f (qw(regions snapshot stats enabled)) {
				my ($e, $s) = read_err(dbg($f));
				$r{reads}++;
				if ($e) { $bad->("$f: " . errname($e)); next }
				if ($f eq 'regions') {
					my @l = split /\n/, $s;
					$bad->("regions header: $l[0]") unless ($l[0] // '') eq
						'ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ';
					$bad->("regions line: $_") for grep { !/$REG_RE/ } @l[1 .. $#l];
				} elsif ($f eq 'snapshot') {
					$bad->('snapshot line: ' . substr($_, 0, 100)) for grep { !/$SNAP_RE/ } split /\n/, $s;
				} elsif ($f eq 'stats') {
					my %h = map { split / / } split /\n/, $s;
					for my $k (@MONO) {
						$bad->("stats $k missing") unless defined $h{$k};
						$bad->("stats $k went back $last{$k} -> $h{$k}")
							if defined $last{$k} && $h{$k} < $last{$k};
						$last{$k} = $h{$k};
					}
				} elsif ($s !~ /^[01]\n\z/) {
					$bad->("enabled: $s");
				}
			}
			my @v = glob(dbg('values') . '/*');
			my @w = glob(dbg('raw') . '/*');
			for my $f ((@v > 6 ? @v[0 .. 5] : @v), (@w > 6 ? @w[0 .. 5] : @w)) {
				my ($e, $s) = read_err($f);
				$r{value_reads}++;
				if ($e == ENOENT || $e == EIO) {	# removed under us
					$r{"race_" . ($e == EIO ? 'EIO' : 'ENOENT')}++;
					next;
				}
				if ($e) { $bad->("$f: " . errname($e)); next }
				if ($f =~ m{/values/}) {
					$bad->("$f: '$s'") unless $s eq '' || $s =~ /^[^\n]*\n\z/;
				} else {
					$bad->("$f: raw length " . length($s)) unless $s eq '' || $RAWLEN{length($s)};
				}
			}
		}
		return %r;
	});
} 1 .. 4;

# ---------------------------------------------------------------------------
# main: sample stats, toggle `enabled`
my (@snaps, $toggles);
$toggles = 0;
my $next_toggle = time + 1.5;
while (time < $DEADLINE) {
	push @snaps, stats();
	if (time >= $next_toggle) {
		ctl_errno("0\n", dbg('enabled'));
		sleep 0.1 + rand(0.2);
		push @snaps, stats();
		ctl_errno("1\n", dbg('enabled'));
		$toggles++;
		$next_toggle = time + 1 + rand(2);
	}
	sleep 0.2;
}
ctl_errno("1\n", dbg('enabled'));
for my $p (@writers, @readers) { waitpid($p, 0); is($?, 0, "child $p exited normally") }
wait_for(sub { -e "$DIR/killer.idle" }, 30);
push @snaps, stats();

# writers' and readers' results
my %tot;
for my $w (1 .. 4) {
	my $r = read_res("writer$w");
	ok(!$r->{died}, "writer$w ran to the end") or diag($r->{died});
	is($r->{unexpected} // '', '', "writer$w: only expected errnos (ENOENT ESRCH EEXIST EFAULT ENOSPC)");
	cmp_ok($r->{ok} // 0, '>', 10, "writer$w: successful writes ($r->{ok} of $r->{writes})");
	$tot{$_} += $r->{$_} for grep { /^e_/ } keys %$r;
}
note('writer errnos: ' . join(' ', map { "$_=$tot{$_}" } sort keys %tot));
for my $i (1 .. 4) {
	my $r = read_res("reader$i");
	ok(!$r->{died}, "reader$i ran to the end") or diag($r->{died});
	is($r->{bad} // '', '', "reader$i: every read succeeded and parsed ($r->{reads} reads, $r->{value_reads} values/raw)");
	note("reader$i: " . join(' ', map { "$_=$r->{$_}" } grep { /^race_/ } sort keys %$r));
}

# registry consistent while the last targets are alive
{
	my @r = regions();
	my %id;
	$id{$_->{id}}++ for @r;
	ok(!grep({ $_ > 1 } values %id), 'final: region ids unique (' . scalar(@r) . ' regions)');
	my %nm;
	$nm{$_->{name}}++ for @r;
	ok(!grep({ $_ > 1 } values %nm), 'final: region names unique');
	is(stats()->{regions}, scalar(@r), 'final: stats regions matches the list');
	my %tp = map { $_->{pid} => 1 } @r;
	is(stats()->{targets} <= keys(%tp) ? 1 : 0, 1, 'final: stats targets <= distinct pids listed');
	my @dead = grep { !kill(0, $_) } keys %tp;
	ok(wait_for(sub { my %p = map { $_->{pid} => 1 } regions(); !grep { $p{$_} } @dead }, 5),
	   'final: regions of dead pids disappear within 5 s (' . scalar(@dead) . ' dead pids)');
	my @live = grep { kill(0, $_) } keys %tp;
	my %s0 = map { $_->{id} => $_->{samples} } regions();
	# (dying() polls for up to 2 s: only ask it about what is still stale at the end)
	my $stale = sub {
		my %now = map { $_->{id} => $_ } regions();
		return grep { $now{$_} && $now{$_}{samples} <= $s0{$_} && kill(0, $now{$_}{pid}) } keys %s0;
	};
	wait_for(sub { !$stale->() }, 10);
	my %rp = map { $_->{id} => $_->{pid} } regions();
	my @stuck = grep { !dying($rp{$_}) } $stale->();
	is(join(' ', sort { $a <=> $b } @stuck), '',
	   'final: regions of live pids keep sampling (' . scalar(@live) . ' live pids)') or do {
		diag("enabled: " . (rd('enabled') // '?'));
		diag("before: " . join(' ', map { "$_=$s0{$_}" } sort { $a <=> $b } keys %s0));
		diag(rd('regions'));
		diag(rd('stats'));
		diag(join('', map { "$_: " . (rd("/proc/$_/stat") // "gone\n") } @live));
		diag(join('', map { "sampler: " . (rd("/proc/$_/stack") // '') . (rd("/proc/$_/stat") // '') }
			sampler_threads()));
	};
}

kill('USR1', $killer);
waitpid($killer, 0);
is($?, 0, 'killer exited normally');
my $kr = read_res('killer');
ok(!$kr->{died}, 'killer ran to the end') or diag($kr->{died});
note("killer: kills=$kr->{kills} execs=$kr->{execs} unmaps=$kr->{unmaps} starts=$kr->{starts}; seconds: " .
     join(' ', map { sprintf('%s=%.1f', $_, $kr->{"${_}_s"} // 0) } qw(loop sleep start kill exec unmap)));
# One replacement per 10 s of the killer's own time: its loop time minus the
# start-up of the new umstargets (userspace only, but ~1-3 s each in a loaded
# TCG guest and several times that under KASAN); what is left is the ~0.5 s
# sleep plus the kill/waitpid, exec and unmap that the sampler could delay.
# At least one replacement in any case.
{
	my $loop = $kr->{loop_s} // 0;
	my $start = $kr->{start_s} // 0;
	my $want = int(($loop - $start) / 10);
	$want = 1 if $want < 1;
	cmp_ok(($kr->{kills} // 0) + ($kr->{execs} // 0), '>=', $want,
	       sprintf('killer: targets replaced regularly (%.1f s loop, %.1f s of it starting targets)',
		       $loop, $start));
}
ok(wait_for(sub { stats()->{regions} == 0 }, 5), 'final: all regions gone once all targets died');
is(stats()->{targets}, 0, 'final: no target left');
push @snaps, stats();

# stats monotonic over the whole run
{
	my @back;
	for my $i (1 .. $#snaps) {
		for my $k (@MONO) {
			push @back, "$k: $snaps[$i - 1]{$k} -> $snaps[$i]{$k}" if $snaps[$i]{$k} < $snaps[$i - 1]{$k};
		}
	}
	is(join(', ', @back), '', 'stats counters monotonic over ' . scalar(@snaps) . " samples ($toggles pauses)");
	my ($f, $l) = ($snaps[0], $snaps[-1]);
	note(join(' ', map { "$_=$l->{$_}" } @MONO));
	cmp_ok($l->{samples}, '>', $f->{samples}, 'samples were taken');
	cmp_ok($l->{targets_gone}, '>=', ($kr->{kills} // 0) / 2, 'targets_gone counted exits');
}

ok(ums_unload(), 'rmmod');
ok(!ums_loaded(), 'module gone');
note(sprintf('40-concurrency.t guest time %.1f s (UMS_CONC_SECS=%d)', time - $T0, $SECS));
done_testing();

END { ums_cleanup() }
