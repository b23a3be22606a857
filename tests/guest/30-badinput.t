#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 30-badinput.t - hostile control writes: every entry of tests/data/bad-lines.txt
# fails with its errno and changes nothing; kernel-decided errors with real
# pids; limits (max_len, max_regions, write size); all-or-nothing batches;
# write offsets; permissions (non-root, no CAP_SYS_PTRACE); the rate-limited
# kernel message.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno qw(EINVAL ESRCH EFAULT E2BIG ENOSPC EEXIST ENOENT EPERM EACCES);
use Fcntl;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;


my $T0 = time;
my $MAX_REGIONS = 8;
my $HDR = "ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ\n";

ums_unload() if ums_loaded();
ok(ums_load("max_regions=$MAX_REGIONS"), "insmod max_regions=$MAX_REGIONS");

my $A = Ums::target();		# has regions
my $B = Ums::target();		# alive, never has regions
my $PA = $A->pid;
ctl(join("\n", $A->add_line('counter', name => 'pre_a', period_us => 1000),
	 $A->add_line('str', name => 'pre_b'),
	 $A->add_line('page', name => 'pre_c')) . "\n");
ok(wait_for(sub { !grep { $_->{samples} < 1 } regions() }, 10), 'pre-existing regions sampled');
# pause sampling: `regions` (with its counters) is then byte-for-byte stable
ctl_w('enabled', "0\n");
sleep 0.05;

sub ctl_w {
	my ($f, $v) = @_;
	sysopen(my $fh, dbg($f), O_WRONLY) or die "open $f: $!";
	defined syswrite($fh, $v) or die "write $f: $!";
	close $fh;
}

sub state_text {
	my $st = stats();
	my @files = sort(glob(dbg('values') . '/*'), glob(dbg('raw') . '/*'));
	return join('', rd('regions'), "regions=$st->{regions} targets=$st->{targets}\n",
		    map { "$_\n" } @files);
}

our $STATE = state_text();
like($STATE, qr/\Q$HDR\E(?:\d+ $PA .*\n){3}regions=3 targets=1\n/, 'state: 3 regions on one target');

sub show { my ($s) = @_; $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord($1))/ge; return length($s) > 60 ? substr($s, 0, 57) . '...' : $s }

sub errno_of { my ($n) = @_; my $v = eval "Errno::$n()"; die "unknown errno $n" unless defined $v; return $v }

# One failing write: errno, message in `control` (errno name, line), nothing changed.
sub bad_write {
	my ($text, $want, $line, $what) = @_;
	my $err = ctl_errno($text);
	my $msg = rd('control') // '';
	my $ok = is(errname($err), errname($want), "$what: " . errname($want));
	my $re = defined $line ? qr/^\Q${\ errname($want)}\E: line $line: / : qr/^\Q${\ errname($want)}\E: /;
	like($msg, $re, "$what: control says " . errname($want) . (defined $line ? " line $line" : '')) or $ok = 0;
	is(state_text(), $STATE, "$what: nothing applied or deleted") or $ok = 0;
	return $ok;
}

# ---------------------------------------------------------------------------
# the table
subtest 'the bad-lines table' => sub {
	my @entries = bad_lines();
	cmp_ok(scalar(@entries), '>=', 110, "bad-lines.txt has >= 110 entries (" . scalar(@entries) . ')');
	my ($tbl_bad, $printable_bad) = (0, 0);
	for my $i (0 .. $#entries) {
		my $x = $entries[$i];
		my $line = $x->{comment} =~ /\@line=(\d+)/ ? $1 : ($x->{write} =~ /\n./s ? undef : 1);
		my $what = sprintf('table #%d [%s] %s', $i + 1, show($x->{src}), $x->{comment});
		$tbl_bad++ unless bad_write($x->{write}, errno_of($x->{errno}), $line, $what);
		my $msg = rd('control') // '';
		$printable_bad++, diag("non-printable message for $what: " . show($msg))
			unless $msg =~ /^[\x20-\x7e]*\n\z/;
	}
	is($printable_bad, 0, 'table: every control message is printable ASCII');
};

# ---------------------------------------------------------------------------
# kernel-decided errors with real processes
my $nopid = 30000;
$nopid++ while -e "/proc/$nopid" && $nopid < 32000;
my $cnt = $A->addr('counter');
subtest 'kernel-decided errors with real processes' => sub {
	bad_write("add pid=2 addr=0x1000 len=4\n", EINVAL, 1, 'kthreadd (pid 2)');
	like(rd('control'), qr/kernel thread/, 'kthreadd: message says kernel thread');
	my ($kw) = sampler_threads();
	bad_write("add pid=$kw addr=0x1000 len=4\n", EINVAL, 1, 'the umsampler kthread itself') if $kw;
	bad_write("add pid=$nopid addr=$cnt len=4\n", ESRCH, 1, "nonexistent pid $nopid");
	bad_write("sync\nadd pid=$nopid addr=$cnt len=4\n", ESRCH, 2, 'nonexistent pid on line 2');
	bad_write("add pid=$PA addr=0x1000 len=4\n", EFAULT, 1, 'unmapped 0x1000 in a live target');
	bad_write("$PA 0x1000 4\n", EFAULT, 1, 'unmapped 0x1000, shorthand');
	bad_write("add pid=$PA addr=0xffff888000000000 len=8\n", EFAULT, 1, 'kernel-half address');
	bad_write("add pid=$PA addr=0xffffffffff600000 len=8\n", EFAULT, 1, 'vsyscall page');
	{
		# a target with a second thread: its stack has a PROT_NONE guard page
		my $C = Ums::target('--tick-us', 1000000);
		my $PA = $C->pid;
		my @maps = proc_maps($PA);
		my ($edge) = grep { my $m = $_; $m->[2] =~ /^r/ && !grep { $_->[0] == $m->[1] } @maps } @maps;
		bad_write(sprintf("add pid=%d addr=0x%x len=8\n", $PA, $edge->[1] - 4), EFAULT, 1,
			  'range running past the end of a mapping') if $edge;
		bad_write(sprintf("add pid=%d addr=0x%x len=4096\n", $PA, $edge->[1] - 4095), EFAULT, 1,
			  'range running past the end of a mapping (one page)') if $edge;
		my ($noread) = grep { $_->[2] =~ /^-/ } @maps;
		bad_write(sprintf("add pid=%d addr=0x%x len=4\n", $PA, $noread->[0]), EFAULT, 1,
			  "mapping without read permission ($noread->[2] $noread->[3])") if $noread;
		my ($vvar) = grep { $_->[3] eq '[vvar]' } @maps;
		bad_write(sprintf("add pid=%d addr=0x%x len=8\n", $PA, $vvar->[0]), EFAULT, 1,
			  '[vvar] (VM_IO|VM_PFNMAP)') if $vvar;
		ok($edge && $noread, 'maps: found a mapping edge and a non-readable mapping')
			or diag(rd("/proc/$PA/maps"));
		$C->kill;
		is(state_text(), $STATE, 'maps: state unchanged after the extra target exited');
	}
};
subtest 'max_len' => sub {
	bad_write("add pid=$PA addr=$cnt len=65537\n", E2BIG, 1, 'len = max_len + 1');
	{
		set_param('max_len', "16\n");
		bad_write("add pid=$PA addr=$cnt len=17\n", E2BIG, 1, 'len 17 with max_len=16');
		my $ok = ctl_errno("add pid=$PA addr=" . $A->addr('big') . " len=16 name=sixteen\n");
		is(errname($ok), 'OK', 'len 16 with max_len=16 accepted');
		ctl("del name=sixteen\n");
		set_param('max_len', "65536\n");
		ok(rd('/sys/module/umsampler/parameters/max_len') eq "65536\n", 'max_len restored');
		$STATE = state_text();
	}
};
subtest 'duplicates, deletes and all-or-nothing batches' => sub {
	bad_write("add pid=$PA addr=$cnt len=4 type=u32 name=pre_a\n", EEXIST, 1, 'duplicate of an existing name');
	bad_write("add pid=$PA addr=$cnt type=u32 name=nn\nadd pid=$PA addr=$cnt type=u32 name=nn\n", EEXIST, 2,
		  'duplicate name within one batch');
	bad_write("del name=pre_a\nadd pid=$PA addr=$cnt type=u32 name=pre_a\nadd pid=$PA addr=$cnt type=u32 name=pre_a\n",
		  EEXIST, 3, 'freed name reused twice in one batch');
	bad_write("del 9999\n", ENOENT, 1, 'del 9999');
	bad_write("del name=nope\n", ENOENT, 1, 'del name=nope');
	bad_write(sprintf("del pid=%d\n", $B->pid), ENOENT, 1, 'del pid= of a live process without regions');
	bad_write("del pid=$nopid\n", ENOENT, 1, 'del pid= of no process');
	bad_write("del name=pre_a\ndel name=pre_a\n", ENOENT, 2, 'del twice the same name in one batch');
	my ($id_a) = map { $_->{id} } grep { $_->{name} eq 'pre_a' } regions();
	bad_write("del $id_a\ndel $id_a\n", ENOENT, 2, 'del twice the same id in one batch');
	bad_write("del pid=$PA\ndel name=pre_b\n", ENOENT, 2, 'del pid= then del of one of its regions');
	bad_write("clear\ndel name=pre_c\n", ENOENT, 2, 'clear then del');

	# good line then bad line: good one not applied
	bad_write($A->add_line('u8', name => 'good1') . "\nbogus\n", EINVAL, 2, 'good then malformed');
	bad_write($A->add_line('u8', name => 'good2') . "\nadd pid=$PA addr=0x1000 len=4\n", EFAULT, 2,
		  'good then unmapped');
	bad_write($A->add_line('u8', name => 'good3') . "\nadd pid=$nopid addr=0x1000 len=4\n", ESRCH, 2,
		  'good then no such pid');
	bad_write($A->add_line('u8', name => 'good4') . "\n" . $A->add_line('u16', name => 'good4') . "\n",
		  EEXIST, 2, 'good then duplicate');
	# deletes followed by a bad line: nothing deleted
	bad_write($A->add_line('u8', name => 'good5') . "\nclear\nbogus line\n", EINVAL, 3, 'add, clear, malformed');
	bad_write($A->add_line('u8', name => 'good6') . "\nclear\nadd pid=$PA addr=0x1000 len=4\n", EFAULT, 3,
		  'add, clear, unmapped');
	bad_write("del name=pre_a\ndel pid=$PA\ndel 9999\n", ENOENT, 3, 'del, del pid, unknown id');
	bad_write("clear\n" . $A->add_line('u8', name => 'good7') . "\ndel name=nope\n", ENOENT, 3, 'clear, add, unknown name');
	bad_write("sync\nclear\nadd pid=2 addr=0x1000 len=4\n", EINVAL, 3, 'sync, clear, kernel thread');
};
subtest 'ids consumed by failed batches' => sub {
	# ids consumed by failed batches are not skipped: the next add gets the next id
	{
		my $idof = sub { my ($n) = @_; my ($r) = grep { $_->{name} eq $n } regions(); $r ? $r->{id} : -1 };
		ctl($A->add_line('u8', name => 'idprobe') . "\n");
		my $id0 = $idof->('idprobe');
		ctl("del name=idprobe\n");
		isnt(ctl_errno(join("\n", map { $A->add_line('u8', name => "idf$_") } 1 .. 3) . "\nbogus\n"), 0,
		     'ids: failing batch of 3 adds');
		isnt(ctl_errno(join("\n", map { $A->add_line('u8', name => "idg$_") } 1 .. 3) . "\nadd pid=$PA addr=0x1000 len=4\n"), 0,
		     'ids: failing batch of 3 adds + unmapped');
		ctl($A->add_line('u8', name => 'idcheck') . "\n");
		is($idof->('idcheck'), $id0 + 1, 'ids: failed batches did not consume ids');
		ctl("del name=idcheck\n");
		is(state_text(), $STATE, 'ids: state restored');
	}
};

# ---------------------------------------------------------------------------
subtest 'max_regions' => sub {
	# max_regions: 3 used of 8
	{
		my @five = map { $A->add_line('u8', name => "cap$_") } 1 .. 5;
		my @six = (@five, $A->add_line('u8', name => 'cap6'));
		bad_write(join("\n", @six) . "\n", ENOSPC, 6, 'max_regions: 6 more adds');
		bad_write("$five[0]\n$five[1]\n$five[2]\n$five[3]\n$five[4]\n" . $A->add_line('u16', name => 'cap7') . "\n",
			  ENOSPC, 6, 'max_regions: 5 + 1 more');
		is(ctl_errno(join("\n", @five) . "\n"), 0, 'max_regions: filling up to 8 works');
		is(stats()->{regions}, $MAX_REGIONS, 'max_regions: 8 regions');
		my $full = state_text();
		{
			local $STATE = $full;
			bad_write($A->add_line('s8', name => 'cap9') . "\n", ENOSPC, 1, 'max_regions: 9th add');
			bad_write("sync\n$PA $cnt 4\n", ENOSPC, 2, 'max_regions: 9th add, shorthand');
			bad_write("del name=cap1\n" . $A->add_line('s8', name => 'capx') . "\n" .
				  $A->add_line('s16', name => 'capy') . "\n", ENOSPC, 3,
				  'max_regions: del one, add two');
		}
		is(ctl_errno("del name=cap1\n" . $A->add_line('s8', name => 'cap1b') . "\n"), 0,
		   'max_regions: del one + add one in one batch at the limit');
		is(ctl_errno("clear\n" . join("\n", map { $A->add_line('u8', name => "cl$_") } 1 .. 8) . "\n"), 0,
		   'max_regions: clear + 8 adds in one batch');
		is(stats()->{regions}, $MAX_REGIONS, 'max_regions: 8 regions after clear + 8 adds');
		ctl("clear\n" . join("\n", $A->add_line('counter', name => 'pre_a', period_us => 1000),
				      $A->add_line('str', name => 'pre_b'),
				      $A->add_line('page', name => 'pre_c')) . "\n");
		$STATE = state_text();
	}
};

# ---------------------------------------------------------------------------
# write size
subtest 'write size' => sub {
	bad_write('#' x (1 << 20), E2BIG, undef, '1 MiB write');
	like(rd('control'), qr/^E2BIG: write of 1048576 bytes/, '1 MiB write: message names the size');
	bad_write("\n" x ((256 << 10) + 1), E2BIG, undef, '256 KiB + 1 of newlines');
	is(ctl_errno("\n" x (256 << 10)), 0, '256 KiB of newlines (262144 empty lines) accepted');
	is(ctl_errno(scalar("# " . ('c' x 60) . "\n") x int((256 << 10) / 63)), 0, '256 KiB of comments accepted');
	is(state_text(), $STATE, 'big no-op writes changed nothing');
	is(ctl_errno(''), 0, 'zero-length write is a no-op');
	{
		my $big = join('', map { "sync\n" } 1 .. 40000) . "bogus\n";
		bad_write($big, EINVAL, 40001, '40000 syncs then a bad line');
	}
};

# ---------------------------------------------------------------------------
subtest 'file offsets' => sub {
	# file offsets: pwrite at offset != 0 fails; a second write on one fd is a new batch
	{
		sysopen(my $fh, dbg('control'), O_WRONLY) or die "open control: $!";
		is(sysseek($fh, 5, 0), 5, 'offset: seek to 5');
		my $n = syswrite($fh, $A->add_line('u8', name => 'off5') . "\n");
		my $e = $! + 0;
		ok(!defined $n, 'offset: write at offset 5 fails');
		is(errname($e), 'EINVAL', 'offset: EINVAL');
		like(rd('control'), qr/^EINVAL: write at offset 5/, 'offset: control message');
		is(state_text(), $STATE, 'offset: nothing applied');
		sysseek($fh, 0, 0);
		ok(defined syswrite($fh, $A->add_line('u8', name => 'w1') . "\n"), 'same fd: first batch');
		is(sysseek($fh, 0, 1) + 0, 0, 'same fd: offset not advanced');
		ok(defined syswrite($fh, $A->add_line('u16', name => 'w2') . "\n"), 'same fd: second batch');
		$n = syswrite($fh, $A->add_line('u8', name => 'w1') . "\n");
		$e = $! + 0;
		ok(!defined $n && $e == EEXIST, 'same fd: third write repeating w1 is a new batch -> EEXIST');
		ok(defined syswrite($fh, "del name=w1\ndel name=w2\n"), 'same fd: deletes');
		close $fh;
		is(state_text(), $STATE, 'same fd: back to the initial state');
	}
};

# ---------------------------------------------------------------------------
# permissions
subtest 'permissions' => sub {
	{
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			POSIX::setgid(65534);
			POSIX::setuid(65534) or POSIX::_exit(100);
			my $r = sysopen(my $fh, dbg('control'), O_WRONLY) ? 0 : $! + 0;
			my $r2 = sysopen(my $fh2, dbg('regions'), O_RDONLY) ? 0 : $! + 0;
			POSIX::_exit(($r == EACCES ? 0 : 1) | ($r2 == EACCES ? 0 : 2));
		}
		waitpid($pid, 0);
		is($? >> 8, 0, 'uid 65534: open(control, O_WRONLY) and open(regions) -> EACCES');
	}
	SKIP: {
		my @drop;
		if (system('sh', '-c', 'command -v capsh >/dev/null') == 0) {
			@drop = ('capsh', '--drop=cap_sys_ptrace', '--');
		} elsif (system('sh', '-c', 'command -v setpriv >/dev/null') == 0) {
			@drop = ('setpriv', '--inh-caps=-sys_ptrace', '--bounding-set=-sys_ptrace', '--', 'sh');
		}
		skip 'neither capsh nor setpriv', 5 unless @drop;
		my $prog = sprintf(q{use Fcntl; my @r; for my $f (qw(control enabled)) { sysopen(my $h, "%s/$f", O_WRONLY) or do { push @r, "open:" . ($!+0); next }; push @r, defined(syswrite($h, $f eq "control" ? "%s\n" : "0\n")) ? "ok" : $!+0 } print "@r\n";},
				   $Ums::DBG, $A->add_line('u8', name => 'noptrace'));
		my $pl = "/tmp/ums-noptrace-$$.pl";
		open(my $pf, '>', $pl) or die "$pl: $!";
		print $pf $prog;
		close $pf;
		my $out = '';
		if (open(my $ph, '-|', @drop, '-c', "grep CapEff /proc/self/status; exec perl $pl")) {
			local $/;
			$out = <$ph> // '';
			close $ph;
		}
		unlink $pl;
		note($out);
		my ($capeff) = $out =~ /CapEff:\s*([0-9a-f]+)/;
		ok(defined $capeff && !(hex(substr($capeff, -8)) & (1 << 19)), 'no-ptrace: CAP_SYS_PTRACE dropped');
		like($out, qr/^(\d+) (\d+)$/m, 'no-ptrace: both writes attempted');
		my ($ec, $ee) = $out =~ /^(\d+) (\d+)$/m;
		is(errname($ec // 0), 'EPERM', 'no-ptrace: control write -> EPERM');
		is(errname($ee // 0), 'EPERM', 'no-ptrace: enabled write -> EPERM');
		like(rd('control'), qr/^EPERM: opener lacks CAP_SYS_PTRACE/, 'no-ptrace: control message');
	}
	is(state_text(), $STATE, 'permissions: nothing applied');
	is(rd('enabled'), "0\n", 'permissions: enabled unchanged');
	# The capability is the opener's (f_cred), as for /proc/PID/mem: a control fd
	# opened with CAP_SYS_PTRACE may be written by a process without it.
	SKIP: {
		skip 'no capsh', 2 if system('sh', '-c', 'command -v capsh >/dev/null') != 0;
		open(my $h, '>', "$Ums::DBG/control") or die "control: $!";
		fcntl($h, F_SETFD, 0) or die "fcntl: $!";	# keep it open across exec
		my $fd = fileno($h);
		my $line = $A->add_line('u8', name => 'byopener');
		my $out = `capsh --drop=cap_sys_ptrace -- -c "printf '%s\\n' '$line' >&$fd" 2>&1`;
		my $rc = $?;
		close $h;
		is($rc, 0, 'opener: a write without CAP_SYS_PTRACE on an fd opened with it succeeds') or
			diag("fd $fd: $out; control: " . (rd('control') // ''));
		ok(region_by_name('byopener'), 'opener: ... and registers');
		ctl("del name=byopener\n");
	}
};

# ---------------------------------------------------------------------------
# rate-limited kernel message
subtest 'rate-limited kernel message' => sub {
	{
		my @m = dmesg_lines(qr/umsampler: control: /);
		cmp_ok(scalar(@m), '>=', 1, 'dmesg has umsampler: control: messages');
		ok(!grep({ !/^[\x20-\x7e]*$/ } @m), 'dmesg messages are printable');
		my $before = scalar(@m);
		my $t = time;
		ctl_errno("bogus $_\n") for 1 .. 1000;
		my $dt = time - $t;
		my $after = scalar(dmesg_lines(qr/umsampler: control: /));
		note(sprintf('1000 bad writes in %.2f s printed %d lines', $dt, $after - $before));
		# default ratelimit: 10 messages per 5 s
		cmp_ok($after - $before, '<=', 10 * (int($dt / 5) + 2), '1000 bad writes: rate-limited');
		like(rd('control'), qr/^EINVAL: line 1: unknown command 'bogus'/, 'last failure is reported');
	}
};

# ---------------------------------------------------------------------------
# after all this the pre-existing regions still work
subtest 'pre-existing regions still work afterwards' => sub {
	ctl_w('enabled', "1\n");
	{
		my %s0 = map { $_->{name} => $_->{samples} } regions();
		ok(wait_for(sub { !grep { $_->{samples} <= $s0{$_->{name}} } regions() }, 10),
		   'resumed: pre-existing regions sample again');
		is($A->cmd('set counter 4242'), 'ok set', 'resumed: set counter');
		ok(wait_for(sub { (rd('values/pre_a') // '') eq "4242\n" }, 5), 'resumed: value follows');
	}
};
my @suppressed = dmesg_lines(qr/callbacks suppressed/);
note("suppressed: @suppressed") if @suppressed;
ok(ums_unload(), 'rmmod');
note(sprintf('30-badinput.t guest time %.1f s', time - $T0));
done_testing();

END { ums_cleanup() }
