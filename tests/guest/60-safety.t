#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 60-safety.t - targets cannot hurt the sampler or opt out silently:
#  - a non-dumpable process (setuid-like, PR_SET_DUMPABLE 0) is refused with
#    EPERM unless the allow_nondumpable parameter is set;
#  - memory whose page faults never complete (userfaultfd, never resolved)
#    does not block the sampler, in resident-only mode nor with `fault`:
#    other targets keep their period, control writes stay fast, rmmod works;
#    and such a target killed while sampled with `fault` exits (rounds of it);
#  - a reader of values/NAME whose buffer is a never-resolved userfaultfd page
#    (blocked in copy_to_user() forever) does not hold up `del` of that region,
#    `stats`, `regions`, later writes or rmmod (which refuses at once while the
#    file is open, and works once the reader is gone);
#  - `fault` over a file whose server never answers a read (FUSE, libfuse3)
#    never blocks: the page stays partial, other targets keep their period,
#    `del`, `stats` and rmmod return.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno qw(EPERM);
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;

ums_load();

# --- non-dumpable -------------------------------------------------------------
subtest 'non-dumpable target' => sub {
	my $t = Ums::target('--nondumpable');
	my $line = $t->add_line('counter', name => 'nd') . "\n";
	is(errname(ctl_errno($line)), 'EPERM', 'non-dumpable target: EPERM');
	like(rd('control'), qr/^EPERM: line 1: pid \d+ is not dumpable/, 'control names the reason');
	is(scalar(regions()), 0, 'nothing registered');
	set_param('allow_nondumpable', 'Y');
	is(errname(ctl_errno($line)), 'OK', 'allowed with allow_nondumpable=1');
	ok(wait_for(sub { (rd('values/nd') // '') =~ /^\d+\n$/ }, 10), 'non-dumpable target sampled');
	set_param('allow_nondumpable', 'N');
	ctl("clear\n");
	$t->kill;
};

# --- userfaultfd: faults that never complete -------------------------------------
# Start umsuffd (through @wrap, e.g. taskset); returns its pid, its output
# pipe and its variables (name => address), none if userfaultfd is unavailable
# (then $? is its exit status).
sub uffd_target {
	my @wrap = @_;
	my $upid = open(my $uout, '-|', @wrap, "$Ums::PROGS/umsuffd") or die "umsuffd: $!";
	my %v;
	while (my $l = <$uout>) {
		$v{$1} = $2 if $l =~ /^var (\S+) (0x[0-9a-f]+)/;
		last if $l =~ /^ready/;
	}
	waitpid($upid, 0) unless $v{blocked};
	return ($upid, $uout, \%v);
}

subtest 'userfaultfd: faults that never complete' => sub { SKIP: {
	my ($upid, $uout, $vr) = uffd_target();
	my %v = %$vr;
	skip "userfaultfd unavailable (exit $?)", 13 unless $v{blocked};
	my $blocked = hex($v{blocked});
	my $t = Ums::target('--tick-us', 1000);
	ctl($t->add_line('counter', name => 'norm', period_us => 10000) . "\n");
	my $t0 = time;
	ctl("add pid=$upid addr=$v{blocked} len=8192 name=ures period_us=10000\n" .
	    "add pid=$upid addr=$v{blocked} len=8192 name=ufault period_us=10000 fault\n" .
	    "add pid=$upid addr=$v{counter} type=u32 name=ucnt period_us=10000\n");
	cmp_ok(time - $t0, '<', 2, 'adding regions over userfaultfd memory returns promptly');

	ok(wait_for(sub { (region_by_name('ufault') // {})->{samples} // 0 >= 3 }, 10),
	   'fault region over userfaultfd memory keeps being sampled');
	my $s0 = region_by_name('norm')->{samples};
	my $m0 = stats()->{missed};
	my $w0 = time;
	sleep 2;
	my $s1 = region_by_name('norm')->{samples};
	my $m1 = stats()->{missed};
	my $expect = (time - $w0) / 0.010;
	cmp_ok($s1 - $s0, '>=', 0.5 * $expect,
	       sprintf('another target keeps its period: %d samples in %.1f periods', $s1 - $s0, $expect));
	cmp_ok(($s1 - $s0) + ($m1 - $m0), '>=', 0.75 * $expect, 'samples + missed cover the periods');

	for my $n (qw(ures ufault)) {
		my $r = region_by_name($n);
		cmp_ok($r->{samples}, '>', 0, "$n: sampled");
		is($r->{partial}, $r->{samples}, "$n: every sample partial (the pages never arrive)");
	}
	is(rd('raw/ufault'), "\0" x 8192, 'raw/ufault: zeroes');
	is(rd('values/ucnt'), "42\n", 'the same process\'s ordinary memory reads normally');
	is(pagemap_present($upid, $blocked), 0, 'the userfaultfd page is still not present');

	$t0 = time;
	ctl("del name=ures\n");
	cmp_ok(time - $t0, '<', 1, 'a control write is not held up by the blocked memory');

	kill 'KILL', $upid;
	waitpid($upid, 0);
	ok(wait_for(sub { !region_by_name('ufault') }, 10), 'userfaultfd target exit noticed');
	ctl("clear\n");
	$t->kill;
} };

# --- userfaultfd targets killed while sampled with `fault` ------------------------
# Exiting closes the uffd, and userfaultfd_release() takes the target's mmap
# lock for writing. A sampler that faulted the armed pages in at that moment
# spun in GUP with the read lock held (handle_userfault() answers NOPAGE once
# the uffd is released, and GUP retries), so the target never exited (a CI run
# of 6.1 hung here). Each round kills a target sampled every 100 us with
# `fault` and wants it gone within 10 s; UMS_UFFD_ROUNDS rounds (default 20).
# The sampler and the targets share CPU 0, so the kill's wake-up preempts the
# sampler at its next cond_resched(): the one at the top of GUP's loop, with
# the target's mmap lock held, if the sampler still faulted armed pages in.
subtest 'userfaultfd targets killed while sampled with fault' => sub { SKIP: {
	my $rounds = $ENV{UMS_UFFD_ROUNDS} // 20;
	my ($stuck, $done, $sampled) = (0, 0, 0);
	my ($kt) = sampler_threads();
	ok($kt && system("taskset -p 1 $kt >/dev/null") == 0, 'sampler thread pinned to CPU 0');
	for my $i (1 .. $rounds) {
		my ($upid, $uout, $v) = uffd_target(qw(taskset -c 0));
		skip "userfaultfd unavailable (exit $?)", 3 unless $v->{blocked};
		ctl("add pid=$upid addr=$v->{blocked} len=8192 name=uk$i period_us=100 fault\n");
		$sampled++ if wait_for(sub { (region_by_name("uk$i") // {})->{samples} // 0 >= 20 }, 5);
		kill 'KILL', $upid;
		unless (wait_for(sub { waitpid($upid, POSIX::WNOHANG()) == $upid }, 10)) {
			$stuck++;
			last;
		}
		close($uout);
		$done++;
	}
	is($sampled, $done + $stuck, 'each round sampled its target at least 20 times before the kill');
	is($stuck, 0, "killed while sampled with fault, every userfaultfd target exits ($done of $rounds rounds)");
	# a stuck target means a stuck sampler: rmmod (kthread_stop) would hang
	BAIL_OUT('a userfaultfd target cannot exit: the sampler is stuck') if $stuck;
	ok(wait_for(sub { !grep { $_->{name} =~ /^uk/ } regions() }, 10), 'their exits are noticed');
	ctl("clear\n");
} };

# Run CODE in a child with a time limit; returns (seconds, the child's exit
# status, or -1 if it was killed at the limit). A hung control plane (the
# child cannot even be killed) bails out instead of hanging the suite.
sub timed {
	my ($limit, $code) = @_;
	my $t0 = time;
	my $pid = fork() // die "fork: $!";
	if (!$pid) {
		# no die, END block or DESTROY (of the parent's targets) in the child
		POSIX::_exit(eval { $code->() } ? 0 : 1);
	}
	unless (wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, $limit)) {
		kill 'KILL', $pid;
		# a child stuck in the kernel (D state) cannot die: the module is wedged
		BAIL_OUT(sprintf('control plane stuck for %.0f s', time - $t0))
			unless wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, 5);
		return (time - $t0, -1);
	}
	return (time - $t0, $? >> 8);
}

# --- a reader stuck in copy_to_user() -------------------------------------------
subtest 'a reader stuck in copy_to_user()' => sub { SKIP: {
	my $t = Ums::target('--tick-us', 1000);
	ctl($t->add_line('counter', name => 'stuck', period_us => 10000) . "\n" .
	    $t->add_line('u64', name => 'other', period_us => 10000) . "\n");
	ok(wait_for(sub { (rd('values/stuck') // '') =~ /^\d+$/m }, 10), 'stuck: region sampled');
	my $rpid = open(my $rout, '-|', "$Ums::PROGS/umsuffd", '--read', "$Ums::DBG/values/stuck")
		or die "umsuffd --read: $!";
	my $l = <$rout> // '';
	skip "userfaultfd unavailable for the reader: $l", 9 unless $l =~ /^reading/;
	# its read is in copy_to_user() on the never-resolved page once it sleeps
	ok(wait_for(sub { (rd("/proc/$rpid/stat") // '') =~ /^\d+ \(\S+\) [SD] / }, 10),
	   'stuck: the reader sleeps in its read');
	sleep 0.3;
	my ($dt, $rc) = timed(20, sub { ctl_errno("del name=stuck\n") == 0 });
	is($rc, 0, sprintf('stuck: del of the region being read returns (%.3f s)', $dt));
	cmp_ok($dt, '<', 5, 'stuck: ... within 5 s');
	($dt, $rc) = timed(20, sub { defined rd('stats') && !grep { $_->{name} eq 'stuck' } regions() });
	is($rc, 0, sprintf('stuck: stats and regions read, the region is gone (%.3f s)', $dt));
	($dt, $rc) = timed(20, sub { ctl_errno($t->add_line('u16', name => 'later') . "\n") == 0 });
	is($rc, 0, sprintf('stuck: a later add works (%.3f s)', $dt));
	($dt, $rc) = timed(20, sub { system('rmmod umsampler 2>/dev/null'); return 1 });
	is($rc, 0, sprintf('stuck: rmmod returns while the file is open (%.3f s)', $dt));
	ok(ums_loaded(), 'stuck: ... refused: the open file holds the module');
	like(rd('values/other') // '', qr/^\d+$/m, 'stuck: other regions still read');
	kill 'KILL', $rpid;
	waitpid($rpid, 0);
	close $rout;
	ok(ums_unload() && ums_load(), 'stuck: rmmod works once the reader is gone (and insmod again)');
	$t->kill;
} };

# --- fault over a FUSE file whose reads are never answered ------------------------
subtest 'fault over a FUSE file never answered' => sub { SKIP: {
	system('modprobe fuse 2>/dev/null');
	skip 'no /dev/fuse', 9 unless -c '/dev/fuse';
	my $mnt = "/tmp/umsfuse-$$";
	mkdir $mnt or die "$mnt: $!";
	my $fpid = fork() // die "fork: $!";
	if (!$fpid) {
		open(STDOUT, '>', '/dev/null');
		exec("$Ums::PROGS/umsfuse", $mnt) or POSIX::_exit(127);
	}
	my $mounted = wait_for(sub { (rd('/proc/mounts') // '') =~ /^\S+ \Q$mnt\E fuse/m }, 10);
	skip "umsfuse did not mount $mnt", 9 unless $mounted;
	my $t = Ums::target();
	my $n = Ums::target('--tick-us', 1000);
	is($t->cmd("mapfile two $mnt/data"), 'ok mapfile', 'fuse: target maps the never-read file');
	ctl($n->add_line('counter', name => 'fnorm', period_us => 10000) . "\n");
	my ($dt, $rc) = timed(20, sub {
		ctl_errno($t->add_line('two', name => 'ffault', period_us => 10000, fault => 1) . "\n") == 0
	});
	is($rc, 0, sprintf('fuse: add with fault over the file returns (%.3f s)', $dt));
	ok(wait_for(sub { (region_by_name('ffault') // {})->{samples} // 0 >= 10 }, 10),
	   'fuse: the fault region keeps being sampled');
	my $r = region_by_name('ffault') // {};
	is($r->{partial}, $r->{samples}, 'fuse: every sample partial (nothing is read in)');
	my $s0 = region_by_name('fnorm')->{samples};
	my $w0 = time;
	sleep 2;
	my $got = region_by_name('fnorm')->{samples} - $s0;
	my $expect = (time - $w0) / 0.010;
	cmp_ok($got, '>=', 0.5 * $expect,
	       sprintf('fuse: another target keeps its period: %d samples in %.1f periods', $got, $expect));
	($dt, $rc) = timed(20, sub { ctl_errno("del name=ffault\n") == 0 && defined rd('stats') });
	is($rc, 0, sprintf('fuse: del and stats return (%.3f s)', $dt));
	ctl($t->add_line('two', name => 'ffault2', period_us => 10000, fault => 1) . "\n");
	ok(wait_for(sub { (region_by_name('ffault2') // {})->{samples} // 0 >= 3 }, 10),
	   'fuse: sampled again');
	($dt, $rc) = timed(30, sub { system('rmmod', 'umsampler') == 0 });
	is($rc, 0, sprintf('fuse: rmmod with the region active returns and unloads (%.3f s)', $dt));
	ok(ums_load(), 'fuse: insmod again');
	$t->kill;
	$n->kill;
	kill 'KILL', $fpid;
	waitpid($fpid, 0);
	system('umount', '-l', $mnt);
	rmdir $mnt;
} };

ok(ums_unload(), 'rmmod');
done_testing();
