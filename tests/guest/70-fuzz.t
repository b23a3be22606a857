#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 70-fuzz.t - random writers against the real control file while the sampler
# runs at short periods over live targets, then `regions` must be exactly what
# the successful writes left.
#
# For UMS_FUZZ_SECS (default 20) seconds, and on until each has sent its share
# of what the checks below count (at most 6 times as long, for a slow guest),
# 4 writer processes send batches of lines (valid add/del lines for 4 live
# umstarget targets, lines of tests/data/bad-lines.txt, sync/comments, del by
# id/pid, clear, shorthand) mutated by byte flips, insertions, deletions,
# truncations, duplications, key swaps and number boundary substitutions; a
# reader walks every debugfs file meanwhile.
#
# How the outcome is known without trusting the kernel: writer K owns the
# names "wK_*" and keeps a model of them. Each mutated write is classified
# line by line with a mirror of the grammar (common/parse.c):
#  - interpretable lines: blank/comment/sync, `add` with a name wK_* for one
#    of the 4 targets inside its static data (always mapped readable), and
#    `del name=wK_*`; a write made only of these may commit, and the model
#    predicts whether it must fail (bad byte, malformed line, duplicate name,
#    deleting an absent name) or must succeed (then only ENOSPC may refuse it);
#  - anything else (del ID, del pid=, clear, shorthand or nameless adds, other
#    writers' names, other pids or addresses) could touch what others own: such
#    a write gets a final `del name=zzdoomK` line, which fails in the kernel's
#    prepare phase (ENOENT), so the whole batch is prepared and rolled back but
#    never committed.
# Checked: every failed write's errno is documented (EINVAL ESRCH EFAULT E2BIG
# ENOSPC EEXIST ENOENT EPERM); the kernel agrees with every prediction;
# afterwards `regions` lists exactly the union of the 4 models with the same
# pid/addr/len/type/mode/period, values/ and raw/ have exactly those names,
# stats agree, everything keeps sampling, and rmmod works. Writers print their
# random seed; UMS_FUZZ_SEED=N repeats a run's choices.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno ();
use Fcntl;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;

no warnings 'portable';

my $T0 = time;
my $SECS = $ENV{UMS_FUZZ_SECS} // 20;
my $SEED = $ENV{UMS_FUZZ_SEED} // int(rand(1 << 30));
my $NW = 4;
my $PERIOD = 1000;		# module default period_us
my $MAX_REGIONS = 128;		# reachable: ENOSPC is exercised
my %OKERR = map { (eval "Errno::$_()") => $_ } qw(EINVAL ESRCH EFAULT E2BIG ENOSPC EEXIST ENOENT EPERM);
my @TYPES = qw(hex u8 u16 u32 u64 s8 s16 s32 s64 f32 f64 str);
my %SIZE = (hex => 0, str => 0, u8 => 1, s8 => 1, u16 => 2, s16 => 2, u32 => 4, s32 => 4, f32 => 4,
	    u64 => 8, s64 => 8, f64 => 8);
my @KEYS = qw(pid addr len period_us type name mode fault deref seq);
my @STATIC = qw(counter u8 u16 u64 s8 s16 s32 s64 f32 f64 str shape big);

my $DIR = tmp_dir('fuzz');
ums_unload() if ums_loaded();
ok(ums_load("period_us=$PERIOD", "max_regions=$MAX_REGIONS"), "insmod period_us=$PERIOD max_regions=$MAX_REGIONS");
note("UMS_FUZZ_SEED=$SEED UMS_FUZZ_SECS=$SECS");

# ---------------------------------------------------------------------------
# targets: pid => { var => [addr, len, type] }, static data range [lo, hi)
my @TG = map { Ums::target('--tick-us', 1000) } 1 .. 4;
my (%VARS, %RANGE);
for my $t (@TG) {
	my $v = $t->{var};
	$VARS{$t->pid} = { map { $_ => [$v->{$_}{addr}, $v->{$_}{len}, $v->{$_}{type}] } @STATIC };
	my @a = map { $v->{$_}{addr} } @STATIC;
	my @e = map { $v->{$_}{addr} + $v->{$_}{len} } @STATIC;
	my ($lo) = sort { $a <=> $b } @a;
	my ($hi) = sort { $b <=> $a } @e;
	$RANGE{$t->pid} = [$lo, $hi];
}
my @PIDS = map { $_->pid } @TG;
note('targets ' . join(' ', map { sprintf('%d:[0x%x,0x%x)', $_, @{$RANGE{$_}}) } @PIDS));

# the bad-lines corpus (escapes decoded)
my @CORPUS = map { defined $_->{src} ? $_->{write} : () } bad_lines()
	or die "cannot read tests/data/bad-lines.txt";
cmp_ok(scalar(@CORPUS), '>=', 100, scalar(@CORPUS) . ' corpus entries');

# ---------------------------------------------------------------------------
# mirror of the grammar (common/parse.c)

# C-notation unsigned number -> value, or undef (malformed or > u64)
sub cnum {
	my ($s) = @_;
	return undef unless length $s;
	my ($base, $d) = $s =~ /^0[xX](.+)$/s ? (16, $1) : $s =~ /^0(.+)$/s ? (8, $1) : (10, $s);
	return undef if $s =~ /^0[xX]$/;
	return undef unless ($base == 16 && $d =~ /^[0-9a-fA-F]+$/) || ($base == 8 && $d =~ /^[0-7]+$/) ||
			    ($base == 10 && $d =~ /^[0-9]+$/);
	$d =~ s/^0+(?=.)//;
	if ($base == 16) {
		return undef if length($d) > 16;
		return hex($d);
	}
	if ($base == 8) {
		return undef if length($d) > 22 || (length($d) == 22 && $d gt '1777777777777777777777');
		return oct($d);
	}
	return undef if length($d) > 20 || (length($d) == 20 && $d gt '18446744073709551615');
	return $d + 0;
}

# A signed C number ([+-] then cnum) below 2^63: its magnitude, or undef;
# a seq offset is checked for alignment through its magnitude.
sub scnum {
	my ($s) = @_;
	my $m = $s =~ /^[+-](.*)$/s ? $1 : $s;
	my $x = cnum($m);
	return undef if !defined $x || $x > 9223372036854775807;
	return $x;
}

sub name_ok { my ($n, $del) = @_; return length($n) <= 31 && $n =~ /^[A-Za-z0-9_.:-]+$/ && ($del || $n !~ /^r[0-9]+$/) }

# Classify one line for writer $k: ('noop'), ('fail'), ('unsafe'), ('add', {fields}), ('del', name).
sub classify {
	my ($line, $k) = @_;
	$line =~ s/\r\z//;
	return ('fail') if length($line) > 512 || $line =~ /[^\x20-\x7e\t]/;
	my @t = grep { length } split /[ \t]+/, $line;
	return ('noop') if !@t || $t[0] =~ /^#/;
	my $cmd = shift @t;
	return ('unsafe') if $cmd =~ /^[0-9]/;	# shorthand: auto name
	return ('unsafe') if $cmd eq 'clear';
	if ($cmd eq 'sync') {
		return @t ? ('fail') : ('noop');
	}
	# enable/disable change every writer's sampling: never generated, and a
	# mutation that makes one is not predicted.
	return @t ? ('fail') : ('unsafe') if $cmd eq 'enable' || $cmd eq 'disable';
	if ($cmd eq 'del') {
		return ('fail') if @t != 1;
		my ($key, $v) = $t[0] =~ /^([^=]*)=(.*)$/s or return ('unsafe');	# del ID
		return ('unsafe') if $key eq 'pid';
		return ('fail') if $key ne 'name' || !length($v) || !name_ok($v, 1);
		return $v =~ /^w${k}_/ ? ('del', $v) : ('unsafe');
	}
	return ('fail') if $cmd ne 'add';
	my (%f, %seen, $fail);
	for my $tok (@t) {
		my ($key, $v) = $tok =~ /^([^=]*)=(.*)$/s;
		if (!defined $key) {
			if ($tok eq 'fault' && !$seen{fault}++) { next }
			$fail = 1;
			next;
		}
		if (!grep { $_ eq $key } @KEYS or $key eq 'fault' or $seen{$key}++ or !length $v) {
			$fail = 1;
			next;
		}
		if ($key eq 'deref') {
			my @o = split /,/, $v, -1;
			$fail = 1 if @o > 8 || grep { !defined scnum($_) } @o;
			$f{chain} = 1;
		} elsif ($key eq 'seq') {
			my $x = $v =~ /^[+-]/ ? scnum($v) : cnum($v);
			$fail = 1 if !defined $x || $x % 4 || ($v !~ /^[+-]/ && $x + 4 > 0x7ffffffff000);
			$f{chain} = 1;
		} elsif ($key eq 'type') {
			$fail = 1 unless grep { $_ eq $v } @TYPES;
			$f{type} = $v;
		} elsif ($key eq 'mode') {
			$fail = 1 unless $v eq 'always' || $v eq 'change';
			$f{mode} = $v;
		} elsif ($key eq 'name') {
			$fail = 1 unless name_ok($v, 0);
			$f{name} = $v;
		} else {
			my $x = cnum($v);
			$fail = 1 if !defined $x || ($key eq 'pid' && ($x < 1 || $x > 4194304)) ||
				     ($key eq 'period_us' && ($x < 100 || $x > 3600000000));
			$f{$key} = $x;
		}
	}
	# an add without a name, or for another writer, pid or address, could touch others
	return ('unsafe') if !defined $f{name} || $f{name} !~ /^w${k}_/;
	return ('unsafe') if !defined $f{pid} || !$RANGE{$f{pid}};
	return ('fail') if $fail || !defined $f{addr};
	# chains and seq counters read other addresses than addr: not modelled
	return ('unsafe') if $f{chain};
	$f{type} //= 'hex';
	$f{mode} //= 'always';
	$f{period_us} //= $PERIOD;
	my $sz = $SIZE{$f{type}};
	return ('fail') if !$sz && !defined $f{len};
	$f{len} //= $sz;
	return ('fail') if ($sz && $f{len} != $sz) || $f{len} == 0 || $f{len} > 65536;
	return ('fail') if $f{addr} > 18446744073709551615 - $f{len};	# wraps: EFAULT
	my ($lo, $hi) = @{$RANGE{$f{pid}}};
	return ('unsafe') if $f{addr} < $lo || $f{addr} + $f{len} > $hi;
	return ('add', \%f);
}

sub lines_of {
	my ($buf) = @_;
	my @l = split /\n/, $buf, -1;
	pop @l if @l && $l[-1] eq '';
	return @l;
}

sub show { my ($s) = @_; $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord($1))/ge; return length($s) > 300 ? substr($s, 0, 297) . '...' : $s }

# ---------------------------------------------------------------------------
# generators and mutations

my @BOUND = qw(0 1 -1 00 0x 0x0 07 08 99 100 127 128 255 256 4095 4096 65535 65536 65537 2147483647
	       2147483648 4194304 4194305 4294967295 4294967296 3600000000 3600000001
	       9223372036854775807 18446744073709551615 18446744073709551616 0x7ffffffff000
	       0x7fffffffffff 0x800000000000 0xffffffffffffffff 0x10000000000000000 01777777777777777777777
	       02000000000000000000000);
my @INS = (' ', "\t", '=', "\n", "\r", '#', '0', 'x', '1', '9', 'f', '-', '_', '.', ':', "\0", "\x7f", "\xff", 'add ',
	   'del ', 'name=', 'len=', 'pid=', 'fault ', 'clear', "\n\n");

sub rpick { return $_[int(rand(@_))] }

sub mutate {
	my ($b) = @_;
	my $n = 1 + int(rand(3));
	for (1 .. $n) {
		my $len = length $b;
		my $p = int(rand($len + 1));
		my $op = int(rand(10));
		if ($op == 0 && $len) {		# bit flip
			$p = int(rand($len));
			substr($b, $p, 1) = chr(ord(substr($b, $p, 1)) ^ (1 << int(rand(8))));
		} elsif ($op == 1) {		# insertion
			substr($b, $p, 0) = rpick(@INS);
		} elsif ($op == 2 && $len) {	# deletion
			substr($b, $p, 1 + int(rand(4))) = '' if $p < $len;
		} elsif ($op == 3) {		# truncation
			$b = substr($b, 0, $p);
		} elsif ($op == 4 && $len) {	# duplication of a slice
			my $q = int(rand($len));
			my $s = substr($b, $q, 1 + int(rand(40)));
			substr($b, $p, 0) = $s;
		} elsif ($op == 5 || $op == 6) {	# number boundary substitution
			my @pos;
			while ($b =~ /(?<![A-Za-z_])(0[xX][0-9a-fA-F]*|[0-9]+)/g) { push @pos, [$-[1], $+[1] - $-[1]] }
			if (@pos) {
				my $x = rpick(@pos);
				substr($b, $x->[0], $x->[1]) = rpick(@BOUND);
			}
		} elsif ($op == 7) {		# key swap
			my @pos;
			while ($b =~ /\b(pid|addr|len|period_us|type|name|mode)=/g) { push @pos, [$-[1], $+[1] - $-[1]] }
			if (@pos) {
				my $x = rpick(@pos);
				substr($b, $x->[0], $x->[1]) = rpick(@KEYS, 'pi', 'names', 'PID');
			}
		} elsif ($op == 8) {		# whitespace games
			$b =~ s/ /rpick("\t", '  ', " \t ", "\r ", '')/e;
		} else {			# duplicate a whole line
			my @l = lines_of($b);
			if (@l) {
				my $i = int(rand(@l));
				splice(@l, $i, 0, $l[$i]);
				$b = join("\n", @l) . "\n";
			}
		}
	}
	return $b;
}

# ---------------------------------------------------------------------------
# reader: every debugfs file, all the time

my $DEADLINE = time + $SECS;
my $HARD = time + 6 * $SECS;
# What each writer must reach before it stops after $DEADLINE: a quarter of the
# totals checked below, or more.
my %SHARE = (writes => 60, ok_mutated => 2, doomed => 5, adds => 5, dels => 3);
my $STOP = "$DIR/stop";		# the writers are done: the reader stops too
my $reader = spawn(sub {
	my ($n, %err) = (0);
	while (time < $DEADLINE || (time < $HARD && !-e $STOP)) {
		for my $f (dbg('regions'), dbg('snapshot'), dbg('stats'), dbg('control'),
			   (glob(dbg('values') . '/*'))[0 .. 3], (glob(dbg('raw') . '/*'))[0 .. 1]) {
			next unless defined $f;
			if (open(my $fh, '<', $f)) {
				local $/;
				my $s = <$fh>;
				$err{'read:' . ($! + 0)}++ unless defined $s;
				close $fh;
			} else {
				$err{$! + 0}++;
			}
			$n++;
		}
	}
	open(my $o, '>', "$DIR/reader") or die;
	print $o "reads $n " . join(' ', map { "$_=$err{$_}" } sort keys %err) . "\n";
	close $o;
});

# ---------------------------------------------------------------------------
# writers

sub writer {
	my ($k) = @_;
	srand($SEED + $k);
	my (%M, %st, @viol);
	my $next = 0;
	sysopen(my $fh, dbg('control'), O_WRONLY) or die "control: $!";
	my $gen = sub {
		my $r = rand();
		my $own = $TG[$k - 1];
		if ($r < 0.40 || !%M && $r < 0.60) {		# valid add
			my $t = rand() < 0.6 ? $own : rpick(@TG);
			my $var = rpick(@STATIC);
			my ($addr, $len, $type) = @{$VARS{$t->pid}{$var}};
			my @kv = ("pid=" . $t->pid, sprintf('addr=0x%x', $addr));
			if (rand() < 0.2) {
				my $l = 1 + int(rand($len));
				push @kv, 'type=hex', "len=$l";
			} else {
				push @kv, "type=$type";
				push @kv, "len=$len" if !$SIZE{$type} || rand() < 0.5;
			}
			push @kv, 'period_us=' . rpick(100, 250, 1000, 1000, 2000, 5000, 10000, 100000) if rand() < 0.7;
			push @kv, 'mode=' . rpick('always', 'change') if rand() < 0.5;
			push @kv, 'fault' if rand() < 0.2;
			push @kv, 'name=w' . $k . '_' . $next++;
			for (my $i = @kv - 1; $i > 0; $i--) { my $j = int(rand($i + 1)); @kv[$i, $j] = @kv[$j, $i] }
			return join(' ', 'add', @kv);
		} elsif ($r < 0.62) {				# del of an own live name
			my @n = keys %M;
			return "del name=" . rpick(@n) if @n;
			return 'sync';
		} elsif ($r < 0.70) {				# a corpus entry
			return rpick(@CORPUS);
		} elsif ($r < 0.74) {
			return rpick('sync', '# comment', '', " \t ", '#add pid=1 addr=0x1000 len=4');
		} elsif ($r < 0.78) {				# del of an absent own name
			return "del name=w${k}_absent$next";
		} elsif ($r < 0.82 && %M) {			# duplicate own name
			my $t = rpick(@TG);
			return sprintf('add pid=%d addr=0x%x type=u32 name=%s', $t->pid,
				       $VARS{$t->pid}{counter}[0], rpick(keys %M));
		} elsif ($r < 0.90) {				# commands that reach others' regions
			my $t = rpick(@TG);
			return rpick('clear', 'del pid=' . $t->pid, 'del ' . int(rand(2000)),
				     sprintf('%d 0x%x 4', $t->pid, $VARS{$t->pid}{counter}[0]),
				     sprintf('add pid=%d addr=0x%x type=u32', $t->pid, $VARS{$t->pid}{counter}[0]),
				     sprintf('add pid=%d addr=0x%x type=u8 name=w%d_x%d', $$, 0x1000, $k, $next++),
				     sprintf('add pid=%d addr=0x%x type=u8 name=w%d_o%d', rpick(@PIDS), 0x1000, ($k % $NW) + 1, $next++));
		}
		return "del name=" . (%M ? rpick(keys %M) : "w${k}_none");
	};
	my $more = sub {
		return 1 if time < $DEADLINE;
		return 0 if time >= $HARD;
		return scalar grep { ($st{$_} // 0) < $SHARE{$_} } keys %SHARE;
	};
	while ($more->()) {
		my $nl = rand() < 0.05 ? 10 + int(rand(60)) : 1 + int(rand(5));
		# keep the own population bounded: more deletes when large
		my @l = map { keys(%M) > 30 && rand() < 0.5 ? ("del name=" . rpick(keys %M)) : $gen->() } 1 .. $nl;
		my $buf = join("\n", @l) . "\n";
		my $mut = rand() < 0.65;
		$buf = mutate($buf) if $mut;
		# classify; simulate the model
		my ($unsafe, $mustfail) = (0, 0);
		my %m2 = %M;
		my @fx;
		for my $line (lines_of($buf)) {
			my ($c, $x) = classify($line, $k);
			if ($c eq 'unsafe') { $unsafe = 1; last }
			if ($c eq 'fail') { $mustfail = 1; next }
			if ($c eq 'add') {
				if (exists $m2{$x->{name}}) { $mustfail = 1 } else { $m2{$x->{name}} = $x }
			} elsif ($c eq 'del') {
				if (exists $m2{$x}) { delete $m2{$x} } else { $mustfail = 1 }
			}
		}
		if ($unsafe) {
			$buf =~ s/zzdoom/zzdoXm/g;
			$buf .= "\n" if length($buf) && substr($buf, -1) ne "\n";
			$buf .= "del name=zzdoom$k\n";
		}
		my $n = syswrite($fh, $buf);
		my $e = defined $n ? 0 : $! + 0;
		$st{writes}++;
		$st{mutated}++ if $mut;
		if (!$e) {
			$st{ok}++;
			$st{ok_mutated}++ if $mut;
			if ($unsafe) {
				push @viol, 'doomed write succeeded: ' . show($buf);
			} elsif ($mustfail) {
				push @viol, 'write predicted to fail succeeded: ' . show($buf);
			} else {
				$st{adds} += grep { !exists $M{$_} } keys %m2;
				$st{dels} += grep { !exists $m2{$_} } keys %M;
				%M = %m2;
			}
		} else {
			$st{$OKERR{$e} // "errno$e"}++;
			$st{doomed}++ if $unsafe;
			push @viol, 'undocumented errno ' . errname($e) . ': ' . show($buf) unless $OKERR{$e};
			if (!$unsafe && !$mustfail && $e != Errno::ENOSPC()) {
				push @viol, 'write predicted to succeed failed with ' . errname($e) . ' (' .
					(rd('control') // '') =~ s/\n//r . '): ' . show($buf);
			}
		}
		last if @viol > 20;
	}
	close $fh;
	open(my $o, '>', "$DIR/w$k") or die;
	print $o "stat " . join(' ', map { "$_=$st{$_}" } sort keys %st) . "\n";
	print $o "viol $_\n" for @viol;
	for my $n (sort keys %M) {
		my $f = $M{$n};
		printf $o "model %s %d 0x%x %d %s %s %d\n", $n, $f->{pid}, $f->{addr}, $f->{len}, $f->{type},
			$f->{mode}, $f->{period_us};
	}
	close $o;
}

my @W = map { my $k = $_; spawn(sub { writer($k) }) } 1 .. $NW;
my $bad_exit = 0;
my $reap = sub { waitpid($_[0], 0); $bad_exit++ if $? };
$reap->($_) for @W;
if (open(my $sf, '>', $STOP)) { close($sf) }
$reap->($reader);
is($bad_exit, 0, 'writers and reader exited cleanly');
note(sprintf('fuzz phase %.1f s', time - $T0));

# ---------------------------------------------------------------------------
# results
my (%model, @viol, %tot);
for my $k (1 .. $NW) {
	open(my $fh, '<', "$DIR/w$k") or do { fail("writer $k left no log"); next };
	while (my $l = <$fh>) {
		chomp $l;
		if ($l =~ /^stat (.*)/) {
			note("writer $k: $1");
			for (split / /, $1) { my ($a, $b) = split /=/; $tot{$a} += $b }
		} elsif ($l =~ /^viol (.*)/) {
			push @viol, "writer $k: $1";
		} elsif ($l =~ /^model (\S+) (.*)/) {
			$model{$1} = $2;
		}
	}
}
note('reader: ' . (Ums::rd("$DIR/reader") // "no log\n"));
diag(sprintf('70-fuzz: fuzz phase %.1f s (%d s wanted, then until each writer did its share); total: ', time - $T0, $SECS) .
     join(' ', map { "$_=$tot{$_}" } sort keys %tot));
if (!is(scalar(@viol), 0, 'no violation: documented errnos only, every prediction held')) {
	diag($_) for @viol[0 .. ($#viol < 15 ? $#viol : 15)];
}
cmp_ok($tot{writes} // 0, '>=', 200, 'writes sent: ' . ($tot{writes} // 0));
cmp_ok($tot{ok_mutated} // 0, '>=', 5, 'successful mutated writes: ' . ($tot{ok_mutated} // 0));
cmp_ok($tot{doomed} // 0, '>=', 20, 'doomed (prepared and rolled back) writes: ' . ($tot{doomed} // 0));
cmp_ok($tot{adds} // 0, '>=', 20, 'regions added by successful writes: ' . ($tot{adds} // 0));
cmp_ok($tot{dels} // 0, '>=', 10, 'regions deleted by successful writes: ' . ($tot{dels} // 0));

my %have = map { $_->{name} => $_ } regions();
my @extra = grep { !exists $model{$_} } sort keys %have;
my @missing = grep { !exists $have{$_} } sort keys %model;
is(scalar(@extra), 0, 'every listed region was added by a successful write and not deleted since')
	or diag("extra: @extra[0 .. ($#extra < 20 ? $#extra : 20)]");
is(scalar(@missing), 0, 'every region a successful write added and nobody deleted is listed')
	or diag("missing: @missing[0 .. ($#missing < 20 ? $#missing : 20)]");
my @diff;
for my $n (sort grep { exists $have{$_} } keys %model) {
	my $r = $have{$n};
	my $got = sprintf('%d %s %d %s %s %d', $r->{pid}, $r->{addr}, $r->{len}, $r->{type}, $r->{mode}, $r->{period_us});
	push @diff, "$n: want $model{$n}, got $got" if $got ne $model{$n};
}
if (!is(scalar(@diff), 0, 'listed regions have the pid/addr/len/type/mode/period the writes gave')) {
	diag($_) for @diff[0 .. ($#diff < 10 ? $#diff : 10)];
}
note(scalar(keys %have) . ' regions at the end');
{
	my @v = sort map { m{([^/]+)$} } glob(dbg('values') . '/*');
	my @r = sort map { m{([^/]+)$} } glob(dbg('raw') . '/*');
	my $names = join(' ', sort keys %have);
	is(join(' ', @v), $names, 'values/ has exactly the listed names');
	is(join(' ', @r), $names, 'raw/ has exactly the listed names');
	my $st = stats();
	is($st->{regions}, scalar(keys %have), 'stats regions agrees');
	my %tp = map { $_->{pid} => 1 } values %have;
	is($st->{targets}, scalar(keys %tp), 'stats targets = distinct pids');
}
{
	# a mutated write may legitimately have set a period of up to 3600 s:
	# within 20 s, regions with periods up to 5 s must each gain a sample
	my %s0 = map { $_ => $have{$_}{samples} } grep { $have{$_}{period_us} <= 5_000_000 } keys %have;
	my %now;
	my $lag = sub { grep { ($now{$_} // -1) <= $s0{$_} } sort keys %s0 };
	ok(wait_for(sub {
		%now = map { $_->{name} => $_->{samples} } regions();
		!$lag->();
	}, 20), sprintf('every remaining region with a period <= 5 s keeps sampling (%d of %d)',
			 scalar(keys %s0), scalar(keys %have)))
		or diag(join("\n", map { "$_: period_us $have{$_}{period_us}, samples $s0{$_} -> " .
					  ($now{$_} // 'gone') } $lag->()));
	my @left = sort map { $_->{name} } regions();
	is(join(' ', @left), join(' ', sort keys %have), 'no region disappeared meanwhile');
}

ctl("clear\n");
$_->kill for @TG;
ok(ums_unload(), 'rmmod');
note(sprintf('70-fuzz.t guest time %.1f s', time - $T0));
done_testing();

END { ums_cleanup() }
