#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 99-yama.t - Yama's ptrace_scope=3 ("no attach") is honoured: with it, every
# add is refused with EPERM (root and CAP_SYS_PTRACE included), as every
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
my $t = Ums::target();
for my $scope (0, 1, 2) {
	ok(Ums::_wr($YAMA, $scope), "ptrace_scope=$scope");
	is(errname(ctl_errno($t->add_line('counter', name => "y$scope") . "\n")), 'OK',
	   "ptrace_scope=$scope: root (CAP_SYS_PTRACE) may add");
}
ok(Ums::_wr($YAMA, 3), 'ptrace_scope=3');
is(errname(ctl_errno($t->add_line('u64', name => 'y3') . "\n")), 'EPERM', 'ptrace_scope=3: add -> EPERM');
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
