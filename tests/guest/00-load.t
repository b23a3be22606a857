#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 00-load.t - the module loads, creates its debugfs tree and sampler thread
# with root-only permissions, its event formats name no unresolved enum, and
# it unloads leaving nothing behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Ums;

ok(!ums_loaded(), 'module not loaded before the test');
ok(ums_load(), 'insmod');
for my $f (qw(control regions snapshot stats enabled values raw)) {
	ok(-e dbg($f), "$f exists");
}
my %mode = (control => 0600, enabled => 0600, regions => 0400, snapshot => 0400, stats => 0400);
for my $f (sort keys %mode) {
	is((stat(dbg($f)))[2] & 07777, $mode{$f}, sprintf('%s mode %04o', $f, $mode{$f}));
}
like(rd('regions'), qr/^ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ\n\z/,
     'regions: header only');
my $st = stats();
for my $k (qw(ticks samples bytes partial emitted missed late_max_ns late_p99_ns regions targets
	      targets_gone cpu_ns attach_ns spans busy poisoned)) {
	like($st->{$k} // '', qr/^\d+$/, "stats has $k");
}
is(rd('enabled'), "1\n", 'enabled reads 1');
is(rd('control'), '', 'control reads empty before any failure');
my @thr = sampler_threads();
is(scalar @thr, 1, 'one umsampler kernel thread');
ok(-d '/sys/kernel/tracing/events/umsampler/sample', 'tracepoint umsampler:sample');
ok(-d '/sys/kernel/tracing/events/umsampler/region', 'tracepoint umsampler:region');
# Every enum the formats print is numeric there (TRACE_DEFINE_ENUM), or
# libtraceevent, trace-cmd and perf print raw numbers instead of names.
for my $e (qw(sample region)) {
	my $fmt = rd("/sys/kernel/tracing/events/umsampler/$e/format") // '';
	my @left = $fmt =~ /\b(UMS_\w+)/g;
	is("@left", '', "umsampler:$e format: no symbol left unresolved");
}
ok(ums_unload(), 'rmmod');
ok(!-e $Ums::DBG, 'debugfs directory removed');
ok(!-d '/sys/kernel/tracing/events/umsampler', 'tracepoints removed');
done_testing();
