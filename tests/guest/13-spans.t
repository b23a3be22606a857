#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 13-spans.t - span copies: adjacent or overlapping regions of one target are
# read with one user copy (stats `spans`), split back into exact per-region
# bytes with one shared timestamp; a gap of more than 256 bytes starts a new
# span; a span crossing a page boundary works; a span with a non-resident page
# falls back to per-region copies (only the regions on the missing page are
# partial, nothing is faulted in) and recovers. Also the sched_fifo parameter:
# the sampler thread switches to SCHED_FIFO and back at its next wake-up.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use Ums;


ok(ums_load(), 'insmod');
my $t = Ums::target();
my $pid = $t->pid;
my $base = $t->{var}{two}{addr};
# umstarget's "two": two touched anonymous pages, byte i = (i * 7 + 3) & 0xff
my $pat = join('', map { chr(($_ * 7 + 3) & 0xff) } 0 .. 8191);

# name => [offset in two, len]; list order is the order they are added in
my @layout = ((map { ["f$_", 8 * $_, 8] } 0 .. 15),
	      ['ov', 4, 16],		# overlaps f0..f2: joins span 1
	      ['far', 1000, 8],		# 872 bytes after span 1: alone (no span)
	      ['x0', 4088, 8],		# 3080 bytes after far: starts span 2
	      ['x1', 4096, 8],		# next page: span 2 crosses the page boundary
	      ['big', 4104, 3000]);	# joins span 2 (4088 + 4096 > its end)
my %off = map { $_->[0] => $_->[1] } @layout;
my $cmds = join('', map {
	sprintf("add pid=%d addr=0x%x len=%d type=hex name=%s period_us=20000 mode=always\n",
		$pid, $base + $_->[1], $_->[2], $_->[0])
} @layout);
is(ctl_errno($cmds), 0, 'added ' . scalar(@layout) . ' regions in one write');

sub quiesce {
	is(set_enabled(0), 0, 'sampling paused');
	ok(wait_quiet(), 'sampler quiet');
}

sub check_bytes {
	my ($what, $want) = @_;
	for my $l (@layout) {
		my ($n, $o, $len) = @$l;
		my $exp = $want->($n, $o, $len);
		is(unpack('H*', rd("raw/$n") // ''), unpack('H*', $exp), "$what: raw/$n exact");
	}
}

# carried from one phase to the next: stats, snapshot, f0's seq and spans at the
# end of the previous phase
my ($st, $snap, $seq, $spans0, $n);

# Every region resident: two spans per pass.
subtest 'every region resident: two spans per pass' => sub {
	ok(wait_for(sub { (snapshot()->{f0}{seq} // 0) >= 5 }, 20), 'f0 sampled 5 times');
	quiesce();
	$st = stats();
	$snap = snapshot();
	$seq = $snap->{f0}{seq};
	# every pass: span 1 (f0..f15, ov) and span 2 (x0, x1, big); far alone
	is($st->{spans}, 2 * $seq, "spans = 2 per pass ($seq passes)");
	is($snap->{$_->[0]}{seq}, $seq, "$_->[0]: same number of samples") for @layout;
	my @ts1 = map { $snap->{$_}{time_ns} } ((map { "f$_" } 0 .. 15), 'ov');
	is(scalar(grep { $_ == $ts1[0] } @ts1), scalar(@ts1), 'span 1: one timestamp for its 17 regions');
	is($snap->{x1}{time_ns}, $snap->{x0}{time_ns}, 'span 2: x0 and x1 copied at the same time');
	is($snap->{big}{time_ns}, $snap->{x0}{time_ns}, 'span 2: big too');
	unlike($snap->{$_->[0]}{flags}, qr/partial/, "$_->[0]: not partial") for @layout;
	check_bytes('resident', sub { substr($pat, $_[1], $_[2]) });
};

# Page 1 of two dropped: span 2 cannot be read whole -> per-region copies.
subtest 'a page of span 2 dropped: per-region copies' => sub {
	is($t->cmd('dontneed two 1'), 'ok dontneed', 'dontneed page 1 of two');
	is(pagemap_present($pid, $base + 4096), 0, 'page 1 not present');
	$spans0 = stats()->{spans};
	is(set_enabled(1), 0, 'sampling resumed');
	ok(wait_for(sub { (snapshot()->{f0}{seq} // 0) >= $seq + 4 }, 20), '4 more passes');
	quiesce();
	$st = stats();
	$snap = snapshot();
	$n = $snap->{f0}{seq} - $seq;
	is($st->{spans} - $spans0, $n, "one span per pass while page 1 is missing ($n passes)");
	like($snap->{x1}{flags}, qr/partial/, 'x1 (page 1): partial');
	like($snap->{big}{flags}, qr/partial/, 'big (page 1): partial');
	unlike($snap->{x0}{flags}, qr/partial/, 'x0 (page 0, same span): whole');
	unlike($snap->{f0}{flags}, qr/partial/, 'f0: whole');
	is(pagemap_present($pid, $base + 4096), 0, 'page 1 still not present: nothing faulted in');
	check_bytes('page 1 dropped', sub {
		my ($nm, $o, $len) = @_;
		return $o >= 4096 ? "\0" x $len : substr($pat, $o, $len);
	});
};

# Touch the page again (now zero-filled): span 2 is whole again.
subtest 'the page touched again: two spans per pass again' => sub {
	is($t->cmd('touch two'), 'ok touch', 'touch two');
	$seq = $snap->{f0}{seq};
	$spans0 = $st->{spans};
	is(set_enabled(1), 0, 'sampling resumed');
	ok(wait_for(sub { (snapshot()->{f0}{seq} // 0) >= $seq + 3 }, 20), '3 more passes');
	quiesce();
	$snap = snapshot();
	$n = $snap->{f0}{seq} - $seq;
	is(stats()->{spans} - $spans0, 2 * $n, "two spans per pass again ($n passes)");
	unlike($snap->{$_}{flags}, qr/partial/, "$_: whole again") for qw(x1 big);
	check_bytes('page 1 zero-filled', sub {
		my ($nm, $o, $len) = @_;
		return $o >= 4096 ? "\0" x $len : substr($pat, $o, $len);
	});
};

# A second target with the same layout: spans never join two targets.
subtest 'spans never join two targets' => sub {
	my $t2 = Ums::target();
	is(ctl_errno(sprintf("add pid=%d addr=0x%x len=8 type=hex name=o0 period_us=20000 mode=always\n" .
			     "add pid=%d addr=0x%x len=8 type=hex name=o1 period_us=20000 mode=always\n",
			     $t2->pid, $t2->{var}{two}{addr}, $t2->pid, $t2->{var}{two}{addr} + 8)), 0,
	   'second target: two adjacent regions');
	is(set_enabled(1), 0, 'sampling resumed');
	ok(wait_for(sub { (snapshot()->{o0}{seq} // 0) >= 3 }, 20), 'second target sampled');
	quiesce();
	is(rd('raw/o1'), substr($pat, 8, 8), 'o1 exact');
	is(rd('raw/f1'), substr($pat, 8, 8), 'f1 exact');
	is(ctl_errno("del pid=" . $t2->pid . "\n"), 0, 'second target removed');
	$t2->kill;
};

# sched_fifo: the thread applies it itself at its next wake-up.
my ($kt) = sampler_threads();	# (policy() reads it)
ok($kt, "sampler thread found (pid " . ($kt // '?') . ')');
sub policy {	# (policy, rt_priority) from /proc/PID/stat fields 41 and 40
	my $s = rd("/proc/$kt/stat") // '';
	$s =~ s/^.*\) //;
	my @f = split / /, $s;
	return "$f[38]/$f[37]";
}
is(set_enabled(1), 0, 'sampling resumed');
is(policy(), '0/0', 'SCHED_NORMAL by default');
my $p = '/sys/module/umsampler/parameters/sched_fifo';
is(ctl_errno("1\n", $p), 0, 'sched_fifo=1');
ok(wait_for(sub { policy() eq '1/1' }, 5), 'sampler is SCHED_FIFO priority 1') or diag(policy());
my $s0 = snapshot()->{f0}{seq};
ok(wait_for(sub { (snapshot()->{f0}{seq} // 0) >= $s0 + 3 }, 10), 'still sampling under SCHED_FIFO');
is(ctl_errno("0\n", $p), 0, 'sched_fifo=0');
ok(wait_for(sub { policy() eq '0/0' }, 5), 'back to SCHED_NORMAL') or diag(policy());

is(ctl_errno("del pid=$pid\n"), 0, 'regions removed');
$t->kill;
ok(ums_unload(), 'rmmod');
done_testing();

END { ums_cleanup() }
