#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 65-security.t - what a writer can and cannot reach:
#  - pid namespaces: a writer in a child pid namespace cannot register a process
#    outside it (ESRCH, as for a pid that does not exist), cannot delete its
#    regions by pid, id or name (ENOENT) nor with `clear` (the region
#    survives), does not see them in `regions`/`snapshot`, and cannot open
#    their values/ or raw/ files (ENOENT); a process registered from inside is
#    resolved in that namespace and listed with its init-namespace pid from
#    outside (and in umsampler:region events);
#  - user namespaces: root of a user namespace (even mapped to uid 0) is not
#    CAP_SYS_PTRACE in the initial namespace: control write -> EPERM;
#  - kernel addresses, the vsyscall page and [vvar] are refused with EFAULT;
#    [vdso] is ordinary user-readable memory of the target and is allowed (the
#    bytes equal the target's own view of it, /proc/PID/mem);
#  - no kernel pointer is visible: every debugfs file of the module, the module
#    parameters and the text of umsampler events are scanned for values in the
#    kernel half (0xffff8000_00000000..) in hex or decimal (and 8-byte words of
#    raw/ files).
# Writers without CAP_SYS_PTRACE (setpriv/capsh) -> EPERM and non-root -> EACCES
# are covered by 30-badinput.t; non-dumpable targets by 60-safety.t; pid reuse
# by 20-lifecycle.t.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno ();
use Fcntl;
use IPC::Open2;
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;

no warnings 'portable';

my $T0 = time;
my $TRACE = '/sys/kernel/tracing';
my $HDR = "ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ\n";

ums_unload() if ums_loaded();
ok(ums_load('period_us=10000'), 'insmod');

# An outside target with positive values only (the pointer scan below flags
# negative numbers: sign-extended they look like kernel-half addresses).
my $O = Ums::target('--tick-us', 20000);
my $PO = $O->pid;
for (['s8', 5], ['s16', 300], ['s32', 70000], ['s64', 123456789012], ['f32', 1.5], ['u64', 12345]) {
	is($O->cmd("set $_->[0] $_->[1]"), 'ok set', "outside target: set $_->[0] $_->[1]");
}
ctl(join("\n", $O->add_line('counter', name => 'outer', period_us => 10000),
	 map { $O->add_line($_, name => "o_$_") } qw(u8 u16 u64 s8 s16 s32 s64 f32 f64 str shape page)) . "\n");
ok(wait_for(sub { !grep { $_->{samples} < 1 } regions() }, 10), 'outside target registered and sampled');

# ---------------------------------------------------------------------------
# pid namespace
subtest 'pid namespaces' => sub { SKIP: {
	skip 'unshare not available', 21 if system('sh', '-c', 'command -v unshare >/dev/null') != 0;
	my $inner = "/tmp/ums-pidns-$$.pl";
	open(my $pf, '>', $inner) or die "$inner: $!";
	print $pf <<'EOF';
use strict;
use warnings;
use lib $ENV{UMS_LIB};
use Ums;
$| = 1;
my ($po, $addr, $oid) = @ARGV;
print "nspid $$\n";
print "outside_visible ", (-e "/proc/$po" ? 1 : 0), "\n";
print "add_outside ", errname(ctl_errno("add pid=$po addr=$addr type=u32 name=ns_out\n")), "\n";
print "del_outside ", errname(ctl_errno("del pid=$po\n")), "\n";
print "del_outside_id ", errname(ctl_errno("del $oid\n")), "\n";
print "del_outside_name ", errname(ctl_errno("del name=outer\n")), "\n";
print "clear_inside ", errname(ctl_errno("clear\n")), "\n";
my ($r) = grep { $_->{name} eq 'outer' } regions();
print "outer_pid ", ($r ? $r->{pid} : 'missing'), "\n";
my ($sp) = rd('snapshot') =~ /^id=\d+ name=outer pid=(-?\d+) /m;
print "outer_snapshot_pid ", $sp // 'missing', "\n";
for my $f ('values', 'raw') {
	print "open_$f ", (open(my $h, '<', "$DBG/$f/outer") ? 'OK' : errname($! + 0)), "\n";
}
my $t = Ums::target('--tick-us', 20000);
print "inner_target ", $t->pid, "\n";
print "add_inside ", errname(ctl_errno($t->add_line('counter', name => 'ns_in', period_us => 10000) . "\n")), "\n";
($r) = grep { $_->{name} eq 'ns_in' } regions();
print "inner_pid_listed ", ($r ? $r->{pid} : 'missing'), "\n";
print "ready\n";
my $go = <STDIN>;		# the outside checks run now
print "del_inside ", errname(ctl_errno("del pid=" . $t->pid . "\n")), "\n";
$t->kill;
print "done\n";
EOF
	close $pf;
	trace_on(region => undef);
	local $ENV{UMS_LIB} = "$FindBin::Bin/../lib";
	my ($out, $in);
	my $upid = open2($out, $in, 'unshare', '--pid', '--fork', '--mount-proc', 'perl', $inner, $PO,
			 $O->addr('counter'), region_by_name('outer')->{id});
	my %r;
	while (my $l = <$out>) {
		chomp $l;
		last if $l eq 'ready';
		$r{$1} = $2 if $l =~ /^(\S+) (.*)$/;
	}
	note(join(' ', map { "$_=$r{$_}" } sort keys %r));
	is($r{nspid}, 1, 'pidns: the writer is pid 1 of a new pid namespace');
	is($r{outside_visible}, 0, "pidns: outside pid $PO does not exist inside");
	is($r{add_outside}, 'ESRCH', 'pidns: add for an outside pid -> ESRCH');
	is($r{del_outside}, 'ENOENT', 'pidns: del pid= of an outside pid -> ENOENT (not visible)');
	is($r{del_outside_id}, 'ENOENT', 'pidns: del ID of an outside region -> ENOENT');
	is($r{del_outside_name}, 'ENOENT', 'pidns: del name= of an outside region -> ENOENT');
	is($r{clear_inside}, 'OK', 'pidns: clear inside succeeds');
	ok(region_by_name('outer'), 'pidns: clear inside left the outside region');
	is($r{outer_pid}, 'missing', 'pidns: regions does not list an outside region');
	is($r{outer_snapshot_pid}, 'missing', 'pidns: snapshot does not list an outside region');
	is($r{open_values}, 'ENOENT', 'pidns: values/ file of an outside region -> ENOENT');
	is($r{open_raw}, 'ENOENT', 'pidns: raw/ file of an outside region -> ENOENT');
	is($r{add_inside}, 'OK', 'pidns: add for a process of the namespace succeeds');
	is($r{inner_pid_listed}, $r{inner_target}, "pidns: listed inside with its namespace pid $r{inner_target}");
	# the init-namespace pid of the inner target: NSpid "<init> <inner>" under our unshare
	my ($init_pid) = map { m{/proc/(\d+)/status} ? $1 : () } grep {
		my $s = rd($_) // '';
		$s =~ /^Name:\s*umstarget$/m && $s =~ /^NSpid:\s*(\d+)\s+(\d+)\s*$/m && $2 == $r{inner_target}
	} glob('/proc/[0-9]*/status');
	my $reg = region_by_name('ns_in');
	ok(defined $init_pid && $init_pid != $r{inner_target}, "pidns: inner target's init-ns pid found (" .
	   ($init_pid // 'none') . ')');
	is($reg && $reg->{pid}, $init_pid, 'pidns: regions read from the init namespace shows the init-ns pid');
	ok(!region_by_name('ns_out'), 'pidns: no region was created for the outside process');
	my @ev = grep { /\bregion: op=add id=\d+ name=ns_in pid=(\d+)/ && $1 == ($init_pid // -1) } trace_lines();
	is(scalar(@ev), 1, 'pidns: umsampler:region op=add carries the init-ns pid');
	print $in "go\n";
	close $in;
	while (my $l = <$out>) {
		chomp $l;
		$r{$1} = $2 if $l =~ /^(\S+) (.*)$/;
	}
	waitpid($upid, 0);
	is($r{del_inside}, 'OK', 'pidns: del pid= with the namespace pid deletes its regions');
	ok(wait_for(sub { !region_by_name('ns_in') }, 5), 'pidns: inner region gone');
	ok(region_by_name('outer'), 'pidns: the outside region is untouched');
	unlink $inner;
	trace_off();
} };

# ---------------------------------------------------------------------------
# user namespace: uid 0 inside, but no CAP_SYS_PTRACE in the initial namespace.
# Never skipped: scripts/vmrun runs the tests in a real root, not a chroot (where
# the kernel refuses CLONE_NEWUSER with EPERM), so unshare must work here.
subtest 'user namespaces' => sub {
	my $pl = "/tmp/ums-userns-$$.pl";
	my $add = $O->add_line('counter', name => 'userns');
	open(my $pf, '>', $pl) or die "$pl: $!";
	print $pf <<'EOF';
use Fcntl;
my ($ctl, $add) = @ARGV;
print "uid $<\n";
for my $f ('/proc/self/status', '/proc/self/uid_map') {
	open(my $h, '<', $f) or next;
	while (my $l = <$h>) {
		print $l if $l =~ /^CapEff:/;
		print 'uid_map ', join(' ', split(' ', $l)), "\n" if $f =~ /uid_map/;
	}
}
if (sysopen(my $h, $ctl, O_WRONLY)) {
	print "write ", (defined syswrite($h, "$add\n") ? 0 : $! + 0), "\n";
} else {
	print "open ", $! + 0, "\n";
}
EOF
	close $pf;
	my $out = `unshare --user --map-root-user perl $pl $Ums::DBG/control '$add' 2>&1`;
	my $rc = $?;
	unlink $pl;
	note($out);
	ok($rc == 0 && $out =~ /^uid 0$/m, 'userns: unshare --user --map-root-user works in the guest (uid 0 inside)') or
		diag("unshare exit $rc: $out");
	like($out, qr/^uid_map 0 0 1$/m, 'userns: uid 0 inside is uid 0 outside');
	# all capabilities, CAP_SYS_PTRACE (bit 19) included, in its own namespace
	my ($cap) = $out =~ /^CapEff:\s*([0-9a-f]+)$/m;
	ok(defined $cap && (hex($cap) >> 19) & 1,
	   'userns: CAP_SYS_PTRACE in the new user namespace (CapEff ' . ($cap // 'none') . ')');
	# control is root's and 0600, uid 0 maps to root: open succeeds, the write is refused
	my ($what, $e) = $out =~ /^(write|open) (\d+)$/m;
	is(($what // 'nothing') . ' ' . errname($e // 0), 'write EPERM',
	   'userns root: control write -> EPERM (CAP_SYS_PTRACE is checked in the initial user namespace)');
	ok(!region_by_name('userns'), 'userns root: nothing registered');
};

# ---------------------------------------------------------------------------
# kernel addresses, vsyscall, vvar, vdso
subtest 'kernel addresses, vsyscall, vvar, vdso' => sub {
	my @maps = proc_maps($PO);
	for my $a (['0xffff888000000000', 'direct map'], ['0xffffffff81000000', 'kernel text'],
		   ['0xffffffffff600000', 'vsyscall page'], ['0xffffc90000000000', 'vmalloc area'],
		   ['0x0000800000000000', 'first non-canonical address']) {
		is(errname(ctl_errno("add pid=$PO addr=$a->[0] len=8 name=kaddr\n")), 'EFAULT',
		   "$a->[0] ($a->[1]) -> EFAULT");
	}
	my ($vsys) = grep { $_->[3] eq '[vsyscall]' } @maps;
	note($vsys ? sprintf('[vsyscall] listed in maps at 0x%x', $vsys->[0]) : 'no [vsyscall] line in maps');
	my ($vvar) = grep { $_->[3] eq '[vvar]' } @maps;
	SKIP: {
		skip 'no [vvar] mapping', 2 unless $vvar;
		is(errname(ctl_errno(sprintf("add pid=%d addr=0x%x len=8 name=vvar\n", $PO, $vvar->[0]))),
		   'EFAULT', '[vvar] -> EFAULT');
		is(errname(ctl_errno(sprintf("add pid=%d addr=0x%x len=8 name=vvar\n", $PO, $vvar->[1] - 8))),
		   'EFAULT', '[vvar] last bytes -> EFAULT');
	}
	my ($vdso) = grep { $_->[3] eq '[vdso]' } @maps;
	SKIP: {
		skip 'no [vdso] mapping', 4 unless $vdso;
		my $len = 64;
		is(errname(ctl_errno(sprintf("add pid=%d addr=0x%x len=%d name=vdso period_us=10000\n",
					     $PO, $vdso->[0], $len))), 'OK',
		   '[vdso] is allowed (user-readable code of the target, same in every process)');
		ok(wait_for(sub { region_samples('vdso') >= 1 }, 5), '[vdso] sampled');
		my $raw = rd('raw/vdso') // '';
		is(substr($raw, 0, 4), "\x7fELF", '[vdso] bytes start with the ELF magic');
		my $mem = '';
		if (sysopen(my $m, "/proc/$PO/mem", O_RDONLY)) {
			sysseek($m, $vdso->[0], 0);
			sysread($m, $mem, $len);
		}
		is(unpack('H*', $raw), unpack('H*', $mem), '[vdso] bytes equal the target\'s own view (/proc/PID/mem)');
		ctl("del name=vdso\n");
	}
	ok(!region_by_name('kaddr') && !region_by_name('vvar'), 'no region was created for refused addresses');
};

# ---------------------------------------------------------------------------
# no kernel pointer in debugfs files, module parameters or event text
my $KMIN = 0xffff800000000000;
# decimal bounds of the kernel half as unsigned 64-bit text
my ($DMIN, $DMAX) = ('18446603336221196288', '18446744073709551615');

# Return the offending tokens of a text. Numbers in hex (0x..., or 16 bare hex
# digits as %px prints them) >= $KMIN, unsigned decimals in the kernel half,
# and negative decimals (a sign-extended kernel pointer; the targets hold no
# negative values, so none is legitimate here).
sub kptrs {
	my ($text) = @_;
	my @bad;
	for my $tok (split /[\s=,:;()\[\]{}|"'<>\/]+/, $text) {
		next unless length $tok;
		if (my ($px, $h) = $tok =~ /^(0x)?([0-9a-f]{1,16})$/i) {
			push @bad, $tok if ($px || length($h) == 16) && length($h) == 16 && hex($h) >= $KMIN;
		} elsif ($tok =~ /^\d{20}$/) {
			push @bad, $tok if $tok ge $DMIN && $tok le $DMAX;
		} elsif ($tok =~ /^-\d+$/) {
			push @bad, $tok;
		}
	}
	return @bad;
}

# Binary: any 8-byte little-endian word (at any offset) in the kernel half.
sub kptrs_bin {
	my ($bin) = @_;
	my @bad;
	for my $i (0 .. length($bin) - 8) {
		my $w = unpack('Q<', substr($bin, $i, 8));
		push @bad, sprintf('0x%016x@%d', $w, $i) if $w >= $KMIN;
	}
	return @bad;
}

subtest 'no kernel pointer visible' => sub {
	# a benign failure last, so that `control` does not echo a kernel address we wrote above
	ctl_errno("bogus\n");
	trace_on(region => undef, sample => undef);
	ctl("sync\n" . $O->add_line('counter', name => 'late_add', period_us => 10000) . "\ndel name=late_add\n");
	ok(wait_for(sub { scalar(grep { /\bsample: / } trace_lines()) >= 40 }, 10), 'scan: events recorded');
	my %text = map { $_ => rd($_) } qw(control regions snapshot stats enabled);
	# control ends with the errno in parentheses, e.g. "(-22)": not a pointer
	$text{control} =~ s/ \(-\d+\)\n\z/\n/ if defined $text{control};
	$text{$_} = rd($_) for map { "values/" . (m{([^/]+)$})[0] } glob(dbg('values') . '/*');
	$text{$_} = rd($_) for glob('/sys/module/umsampler/parameters/*');
	$text{trace} = join("\n", trace_lines());
	my @raw = glob(dbg('raw') . '/*');
	cmp_ok(scalar(keys %text), '>=', 5 + 13, 'scan: ' . scalar(keys %text) . ' text files, ' .
	       scalar(@raw) . ' raw files');
	my $nbad = 0;
	for my $f (sort keys %text) {
		my @b = kptrs($text{$f} // '');
		$nbad += @b;
		diag("$f: kernel-half values: @b[0 .. ($#b < 4 ? $#b : 4)]") if @b;
	}
	for my $f (@raw) {
		my @b = kptrs_bin(rd($f) // '');
		$nbad += @b;
		diag("$f: kernel-half words: @b[0 .. ($#b < 4 ? $#b : 4)]") if @b;
	}
	is($nbad, 0, 'scan: no kernel-half value in debugfs, parameters or umsampler events');
	# the scanner itself finds what it is meant to find
	is(scalar(kptrs("a=0xffff888003a1b2c0 b=ffffffff81000000 c=18446612682702848000 d=-2130706432 e=0x7fffffffe000 f=12345")),
	   4, 'scan: the scanner flags hex, bare-hex, decimal and negative kernel pointers');
	is(scalar(kptrs_bin(pack('Q<', 0xffffffff81000000) . "\0" x 8)), 1, 'scan: the binary scanner flags a pointer');
	# the source never prints pointers (%p, %px, %pK): nothing to restrict with kptr_restrict
	trace_off();
};

ctl("clear\n");
$O->kill;
ok(ums_unload(), 'rmmod');
note(sprintf('65-security.t guest time %.1f s', time - $T0));
done_testing();

END { ums_cleanup() }
