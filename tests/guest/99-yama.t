#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 99-yama.t - Yama's ptrace_scope=3 ("no attach") is honoured: with it, every
# add is refused with EPERM (root and CAP_SYS_PTRACE included, through debugfs
# control and /dev/umsampler; a delegated user of the device too, whose own
# child was allowed under ptrace_scope=1 and refused under 2), as every
# ptrace attach and /proc/PID/mem open is; regions added before it keep their
# consent (the check is made at add time, and again at exec or a credential
# change). ptrace_scope=3 cannot be lowered again until reboot: this file
# runs last in the guest (nothing after it could add a region).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Ums;

my $YAMA = '/proc/sys/kernel/yama/ptrace_scope';
plan skip_all => 'no Yama' unless -e $YAMA;

ums_unload() if ums_loaded();
ok(ums_load(), 'insmod');
ok(chmod(0666, '/dev/umsampler'), 'open /dev/umsampler to users (as a udev rule would)');
my $t = Ums::target();

# uid 1000 without capabilities adds its own child through the device: the errno.
sub user_own_child {
	my $lib = "$FindBin::Bin/../lib";
	my $code = 'use Ums; use Fcntl; my $t = Ums::target(); ' .
		'sysopen(my $f, "/dev/umsampler", O_RDWR) or die "open: $!"; ' .
		'my $n = syswrite($f, $t->add_line("counter") . "\n"); ' .
		'print defined $n ? "OK" : errname($! + 0); $t->kill;';
	my $out = `setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=-all --bounding-set=-all -- perl -I$lib -e '$code' 2>&1`;
	return $out;
}
for my $scope (0, 1, 2) {
	ok(Ums::_wr($YAMA, $scope), "ptrace_scope=$scope");
	is(errname(ctl_errno($t->add_line('counter', name => "y$scope") . "\n")), 'OK',
	   "ptrace_scope=$scope: root (CAP_SYS_PTRACE) may add");
	is(errname(ctl_errno($t->add_line('counter', name => "yd$scope") . "\n", '/dev/umsampler')), 'OK',
	   "ptrace_scope=$scope: root may add through /dev/umsampler");
	is(user_own_child(), $scope < 2 ? 'OK' : 'EPERM',
	   "ptrace_scope=$scope: a user's own child through the device: " . ($scope < 2 ? 'allowed' : 'EPERM'));
}
ctl("clear\nadd pid=" . $t->pid . " addr=" . $t->addr('counter') . " type=u32 name=y0\n");
ok(Ums::_wr($YAMA, 3), 'ptrace_scope=3');
is(errname(ctl_errno($t->add_line('u64', name => 'y3') . "\n")), 'EPERM', 'ptrace_scope=3: add -> EPERM');
is(errname(ctl_errno($t->add_line('u64', name => 'yd3') . "\n", '/dev/umsampler')), 'EPERM',
   'ptrace_scope=3: root through /dev/umsampler -> EPERM');
is(user_own_child(), 'EPERM', "ptrace_scope=3: a user's own child through the device -> EPERM");
like(rd('control'), qr/^EPERM: line 1: reading pid \d+ is not allowed \(ptrace access check/,
     'ptrace_scope=3: control names the access check');
ok(!region_by_name('y3'), 'ptrace_scope=3: nothing registered');
my $s0 = region_by_name('y0')->{samples};
ok(wait_for(sub { region_by_name('y0')->{samples} > $s0 + 3 }, 10),
   'ptrace_scope=3: regions added before are still sampled');
ok(!Ums::_wr($YAMA, 0), 'ptrace_scope=3 cannot be lowered (the kernel refuses)');
$t->kill;
ok(ums_unload(), 'rmmod');
done_testing();
