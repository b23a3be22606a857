#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# lockdown.t - umsampler under the kernel lockdown LSM in `integrity` mode (as
# Secure Boot machines run): what it refuses and what keeps working. Not part
# of tests/guest/*.t: lockdown cannot be lowered until reboot, so this file
# gets a boot of its own (scripts/check.sh: "kernel K: lockdown").
#
# Two modes (UMS_LOCKDOWN; default: `boot` if lockdown is already integrity):
#   boot     the kernel booted with lockdown=integrity (the debug kernel, which
#            has CONFIG_MODULE_SIG and its own signing key): insmod of the
#            unsigned module (UMS_KO) is refused with EPERM and the kernel logs
#            "Lockdown: insmod: unsigned module loading is restricted"; the copy
#            signed with the kernel's key (UMS_KO_SIGNED, scripts/sign-module.sh)
#            loads, without the E (unsigned) taint.
#   runtime  a Debian kernel (our module is not signed with Debian's key):
#            booted without lockdown, the unsigned module is loaded (taint E),
#            then lockdown is raised by writing `integrity` to
#            /sys/kernel/security/lockdown; at the end a new insmod of the
#            unsigned module is refused as above.
# Both: lockdown reads [integrity] and cannot be lowered (EPERM); debugfs
# refuses every file with a write bit (control, enabled: EPERM on open, for
# reading too), while regions, stats, snapshot and values/ stay readable;
# /dev/umsampler takes the control language (add, a bad line with its error
# line on read, disable/enable, del) and lists the region with its value;
# values/NAME agrees; the umsampler:sample event reaches the trace buffer
# through tracefs, and `trace-cmd record -e umsampler` + `trace-cmd report`
# show the region's add and its samples with the values set; the umsampler
# CLI's add/list/del work (through the device); rmmod works.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno qw(EPERM);
use Fcntl;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;

my $SECFS = '/sys/kernel/security';
my $LOCKDOWN = "$SECFS/lockdown";
my $DEV = '/dev/umsampler';
my $TR = $Ums::TRACE;
my $SIGNED = $ENV{UMS_KO_SIGNED};
my $SYS_finit_module = 313;	# x86_64
my $rec_pid;

END {
	local $?;
	if ($rec_pid) { kill('INT', $rec_pid); waitpid($rec_pid, 0) }
	trace_off() if -d "$TR/events/umsampler";
	ums_cleanup();
}

sub lockdown_level {
	my $s = rd($LOCKDOWN) // return '';
	return $s =~ /\[(\w+)\]/ ? $1 : '';
}

# open(2) of a debugfs file of the module: 0 or the errno.
sub open_errno {
	my ($f, $flags) = @_;
	sysopen(my $fh, dbg($f), $flags) or return $! + 0;
	close $fh;
	return 0;
}

# insmod FILE: (exit status, stderr); and finit_module(2) of it: 0 or errno.
sub insmod { my ($st, undef, $err) = run_cli('insmod', $_[0]); return ($st, $err) }
sub finit_errno {
	open(my $fh, '<', $_[0]) or return -1;
	my $params = '';	# syscall() wants a writable string
	my $r = syscall($SYS_finit_module, fileno($fh), $params, 0);
	my $e = $! + 0;
	close $fh;
	return $r == 0 ? 0 : $e;
}

# The unsigned module is refused: EPERM from insmod and finit_module(2), and
# the lockdown LSM says why in the kernel log.
sub unsigned_refused {
	my ($what) = @_;
	my $mark = scalar(dmesg_lines());
	my ($st, $err) = insmod($Ums::KO);
	isnt($st, 0, "$what: insmod of the unsigned module fails");
	like($err, qr/Operation not permitted/, "$what: insmod says EPERM (Operation not permitted)")
		or diag($err);
	my @log = (dmesg_lines())[$mark .. scalar(dmesg_lines()) - 1];
	ok((grep { /Lockdown: insmod: unsigned module loading is restricted/ } @log),
	   "$what: kernel log: Lockdown: insmod: unsigned module loading is restricted")
		or diag(join("\n", grep { defined } @log[-5 .. -1]));
	is(errname(finit_errno($Ums::KO)), 'EPERM', "$what: finit_module(2) of it -> EPERM");
	ok(!ums_loaded(), "$what: module not loaded");
}

# Read the device from offset 0 (seq_file output is regenerated there).
sub dev_read {
	my ($fh) = @_;
	sysseek($fh, 0, 0) // return undef;
	my ($s, $buf) = ('');
	while (1) {
		my $n = sysread($fh, $buf, 65536);
		return undef unless defined $n;
		last unless $n;
		$s .= $buf;
	}
	return $s;
}

# write(2) of TEXT to the device: 0 or the errno.
sub dev_write {
	my ($fh, $text) = @_;
	return defined(syswrite($fh, $text)) ? 0 : $! + 0;
}

# The device's line of region NAME as a hash (ID NAME PID TYPE SEQ TIME_NS FLAGS VALUE).
sub dev_region {
	my ($fh, $name) = @_;
	for (split /\n/, dev_read($fh) // '') {
		my @f = split / /, $_, 8;
		next unless @f == 8 && $f[1] eq $name && $f[0] =~ /^\d+$/;
		my %h;
		@h{qw(id name pid type seq time_ns flags value)} = @f;
		return \%h;
	}
	return undef;
}

my $mode = $ENV{UMS_LOCKDOWN} // '';
if (!-e $LOCKDOWN && !-d "$SECFS/lockdown") {
	system('mount', '-t', 'securityfs', 'securityfs', $SECFS);
}
if (!-e $LOCKDOWN) {	# a lane that asked for lockdown (UMS_LOCKDOWN) fails without it
	BAIL_OUT("no $LOCKDOWN: kernel without the lockdown LSM") if $mode;
	plan skip_all => "no $LOCKDOWN (kernel without the lockdown LSM)";
}
$mode ||= lockdown_level() eq 'integrity' ? 'boot' : 'runtime';
diag("mode $mode, lockdown: " . (rd($LOCKDOWN) // '?') =~ s/\n//r);
ok(!ums_loaded(), 'module not loaded before the test');

# --- loading the module ---------------------------------------------------------
if ($mode eq 'boot') {
	is(lockdown_level(), 'integrity', 'booted with lockdown=integrity: lockdown reads [integrity]');
	unsigned_refused('boot');
	ok(defined $SIGNED && -f $SIGNED, 'UMS_KO_SIGNED names the signed module') or BAIL_OUT('no signed module');
	my $mark = scalar(dmesg_lines());
	my ($st, $err) = insmod($SIGNED);
	is($st, 0, 'insmod of the module signed with the kernel key succeeds') or diag($err);
	ok(-d $Ums::DBG, 'debugfs directory created') or BAIL_OUT('module not loaded');
	my $taint = rd('/sys/module/umsampler/taint') // '';
	unlike($taint, qr/E/, "signed module: no E (unsigned) taint (taint: '" . ($taint =~ s/\n//r) . "')");
	my @log = (dmesg_lines())[$mark .. scalar(dmesg_lines()) - 1];
	is(scalar(grep { /module verification failed|Lockdown:.*module/ } @log), 0,
	   'kernel log: no verification failure or lockdown refusal for the signed module')
		or diag(join("\n", @log));
} elsif ($mode eq 'runtime') {
	is(lockdown_level(), 'none', 'booted without lockdown: [none]');
	ok(ums_load(), 'insmod of the unsigned module before lockdown');
	like(rd('/sys/module/umsampler/taint') // '', qr/E/, 'unsigned module: E taint (signature missing)');
	ok(Ums::wr($LOCKDOWN, 'integrity'), 'echo integrity > /sys/kernel/security/lockdown');
	is(lockdown_level(), 'integrity', 'lockdown reads [integrity]');
} else {
	BAIL_OUT("UMS_LOCKDOWN must be boot or runtime, not '$mode'");
}
ok(!Ums::wr($LOCKDOWN, 'none'), 'lockdown cannot be lowered: writing none fails');
is(lockdown_level(), 'integrity', 'still [integrity]');

# --- debugfs: files with a write bit are refused, read-only ones work -----------
subtest 'debugfs under lockdown' => sub {
	is(errname(open_errno('control', O_WRONLY)), 'EPERM', 'control: open for writing -> EPERM');
	is(errname(open_errno('control', O_RDONLY)), 'EPERM', 'control: open for reading -> EPERM (mode 0600)');
	is(errname(ctl_errno("clear\n")), 'EPERM', 'control: a write -> EPERM');
	is(errname(open_errno('enabled', O_RDONLY)), 'EPERM', 'enabled: open -> EPERM (mode 0600)');
	is(errname(open_errno('enabled', O_WRONLY)), 'EPERM', 'enabled: open for writing -> EPERM');
	like(rd('regions') // '', qr/^ID PID ADDR LEN /, 'regions readable');
	like(rd('stats') // '', qr/^ticks \d+$/m, 'stats readable');
	is(rd('snapshot'), '', 'snapshot readable (empty)');
	ok(-d dbg('values') && -d dbg('raw'), 'values/ and raw/ exist');
};

# --- /dev/umsampler ----------------------------------------------------------------
my $t = Ums::target();
my $pid = $t->pid;
my $dfh;
my $id;
subtest '/dev/umsampler' => sub {
	ok(-c $DEV, "$DEV is a character device") or return;
	is((stat($DEV))[2] & 07777, 0600, "$DEV mode 0600 (no udev rule in the guest)");
	ok(sysopen($dfh, $DEV, O_RDWR), "open $DEV read-write") or return diag("open: $!");
	like(dev_read($dfh) // '', qr/^ID NAME PID TYPE SEQ TIME_NS FLAGS VALUE\n\z/, 'read: header only');
	is($t->cmd('set counter 4242'), 'ok set', 'target: counter = 4242');
	my $add = $t->add_line('counter', name => 'lk', period_us => 10000);
	is(errname(dev_write($dfh, "$add\n")), 'OK', "write: $add");
	my $r = wait_for(sub { my $x = dev_region($dfh, 'lk'); $x && $x->{seq} > 0 ? $x : undef }, 20);
	ok($r, 'read: region lk listed and sampled') or return diag(dev_read($dfh));
	$id = $r->{id};
	is(join(' ', @$r{qw(name pid type value)}), "lk $pid u32 4242", 'read: name, pid, type, value 4242');
	like($r->{time_ns}, qr/^\d+$/, 'read: TIME_NS numeric');
	is(rd('values/lk'), "4242\n", 'debugfs values/lk = 4242');
	is(length(rd('raw/lk') // ''), 4, 'debugfs raw/lk: 4 bytes');
	my ($reg) = grep { $_->{name} eq 'lk' } regions();
	is(join(' ', @$reg{qw(id pid addr len)}), join(' ', $id, $pid, $t->addr('counter'), 4),
	   'debugfs regions: the region added through the device');
	like((snapshot()->{lk} // {})->{value} // '', qr/^4242$/, 'debugfs snapshot: lk value=4242');

	is($t->cmd('set counter 5151'), 'ok set', 'target: counter = 5151');
	ok(wait_for(sub { (rd('values/lk') // '') eq "5151\n" }, 10), 'values/lk follows: 5151');
	ok(wait_for(sub { (dev_region($dfh, 'lk') // {})->{value} eq '5151' }, 10), 'device read follows: 5151');

	# a bad line: refused whole, the error line on this descriptor's next read
	is(errname(dev_write($dfh, "add pid=1 addr=0x1000 len=08\n")), 'EINVAL', 'write of a bad line -> EINVAL');
	like(dev_read($dfh) // '', qr/^error: EINVAL: line 1: .* \(-22\)\nID NAME /, 'read: error line, then the table');

	# disable / enable through the device (debugfs `enabled` is locked down)
	is(errname(dev_write($dfh, "disable\n")), 'OK', 'write: disable');
	ok(wait_quiet(), 'sampling stopped');
	my $s0 = region_samples('lk');
	sleep 0.5;
	is(region_samples('lk'), $s0, 'no sample while disabled');
	is(errname(dev_write($dfh, "enable\n")), 'OK', 'write: enable');
	ok(wait_for(sub { region_samples('lk') > $s0 + 5 }, 10), 'sampling resumed');
};

# --- trace events through tracefs ---------------------------------------------
subtest 'trace events (tracefs)' => sub {
	plan skip_all => 'no region' unless defined $id;
	ok(trace_on(sample => "id == $id"), 'events/umsampler/sample enabled (filter id)');
	is($t->cmd('set counter 6161'), 'ok set', 'target: counter = 6161');
	ok(wait_for(sub { grep { $_->{value} == 6161 } sample_events() }, 10), 'trace: sample events with value 6161');
	my @s = sample_events();
	is(scalar(grep { $_->{id} != $id || $_->{pid} != $pid } @s), 0, 'trace: every event of region lk, its pid');
	my ($e) = grep { $_->{value} == 6161 } @s;
	is($e->{data}, pack('V', 6161), 'trace: data bytes = 6161 little-endian') if $e;
	trace_off();
};

subtest 'trace-cmd record and report' => sub {
	plan skip_all => 'no region' unless defined $id && $dfh;
	my $dir = tmp_dir('lockdown');
	my $dat = "$dir/rec.dat";
	$rec_pid = bg("$dir/rec.log", 'trace-cmd', 'record', '-e', 'umsampler', '-o', $dat);
	ok(wait_for(sub { slurp("$TR/events/umsampler/sample/enable") eq "1\n" &&
			  slurp("$TR/tracing_on") eq "1\n" }, 60), 'trace-cmd record is recording')
		or diag(slurp("$dir/rec.log"));
	sleep 0.3;
	is($t->cmd('set counter 7171'), 'ok set', 'target: counter = 7171');
	my $add = $t->add_line('u16', name => 'lk2', period_us => 20000);
	is(errname(dev_write($dfh, "$add\n")), 'OK', 'device: add lk2 while recording');
	my $id2 = (dev_region($dfh, 'lk2') // {})->{id} // -1;
	isnt($id2, -1, "device: lk2 listed (id $id2)");
	ok(wait_for(sub { region_samples('lk2') >= 3 && (rd('values/lk') // '') eq "7171\n" }, 10),
	   'lk2 sampled, lk at 7171');
	sleep 0.3;
	kill('INT', $rec_pid);
	is(finish($rec_pid), 0, 'trace-cmd record exited 0') or diag(slurp("$dir/rec.log"));
	$rec_pid = undef;
	# -N: the kernel's own print format, whatever plugin the host has installed
	my ($rep, $st) = run_out('trace-cmd', 'report', '-N', '-i', $dat);
	is($st, 0, 'trace-cmd report');
	my (@samp, @reg);
	for (split /\n/, $rep) {
		next unless /\s\d+\.\d+:\s+(?:umsampler:)?(sample|region):\s+(.*)$/;
		push @{$1 eq 'sample' ? \@samp : \@reg}, event_fields($2);
	}
	$_->{id} //= -1, $_->{value} //= '' for @samp;
	ok((grep { $_->{op} eq 'add' && $_->{name} eq 'lk2' && $_->{id} == $id2 && $_->{pid} == $pid } @reg),
	   'report: region add of lk2 (the device add), its id and pid');
	ok((grep { $_->{id} == $id && $_->{value} eq '7171' } @samp), 'report: samples of lk with value 7171');
	ok((grep { $_->{id} == $id2 && $_->{value} eq '65000' } @samp), 'report: samples of lk2 with value 65000');
	my @other = grep { $_->{id} != $id && $_->{id} != $id2 } @samp;
	is(scalar(@other), 0, 'report: no other region') or
		diag(join("\n", map { my $e = $_; join(' ', map { "$_=$e->{$_}" } sort keys %$e) } @other[0 .. 2]));
};

# --- the CLI: add/del fall back to the device when debugfs control is refused ---
subtest 'umsampler add/list/del (CLI through the device)' => sub {
	my ($cli) = tool_paths();
	plan skip_all => "no $cli (make tools)" unless -x $cli;
	is($t->cmd('set counter 8181'), 'ok set', 'target: counter = 8181');
	my ($st, $out, $err) = run_cli($cli, 'add', $pid, $t->addr('counter'), '--len', 4, '--type', 'u32',
				       '--name', 'lkcli', '--period', '10ms');
	is($st, 0, 'umsampler add exits 0') or diag($err);
	like($out, qr/^added id=\S+ name=lkcli pid=$pid /, 'umsampler add: added lkcli');
	ok(wait_for(sub { (rd('values/lkcli') // '') eq "8181\n" }, 10), 'values/lkcli = 8181');
	($st, $out, $err) = run_cli($cli, 'list');
	is($st, 0, 'umsampler list exits 0') or diag($err);
	like($out, qr/\blkcli\b.*\b8181\b/, 'umsampler list: lkcli 8181') or diag($out);
	($st, $out, $err) = run_cli($cli, 'del', 'lkcli');
	is($st, 0, 'umsampler del lkcli exits 0') or diag($err);
	ok(!region_by_name('lkcli'), 'lkcli gone');
};

# --- removing the regions and the module -----------------------------------------
subtest 'del through the device, rmmod' => sub {
	if ($dfh) {
		is(errname(dev_write($dfh, "clear\n")), 'OK', 'device: clear');
		is(scalar(regions()), 0, 'no region left');
		close $dfh;
	}
	$t->kill;
	ok(ums_unload(), 'rmmod');
	ok(!ums_loaded(), 'module gone');
	ok(!-e $DEV, "$DEV removed");
};

if ($mode eq 'runtime') {
	unsigned_refused('after raising lockdown');
} else {
	my ($st, $err) = insmod($SIGNED);
	is($st, 0, 'the signed module loads again') or diag($err);
	ok(ums_unload(), 'rmmod');
}
done_testing();
