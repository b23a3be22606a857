#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 66-device.t - /dev/umsampler, the control device (module/cdev.c):
#  - it is a misc character device, mode 0600 root:root until a udev rule (or
#    here chmod, as the package's rule would) opens it to a group;
#  - root (CAP_SYS_PTRACE) through it: the control language exactly as debugfs
#    `control` takes it (same errnos, same reason text, all or nothing),
#    `enable`/`disable`, every region readable back with its latest value;
#  - a delegated user (no CAP_SYS_PTRACE) who may open it: adds only for
#    processes the kernel's ptrace access check lets that user read (own
#    descendant allowed; another user's or root's process EPERM; a non-
#    descendant of its own under ptrace_scope=1 EPERM, allowed under 0; its
#    own child EPERM under ptrace_scope=2), reads back only its own regions,
#    reaches (del, clear, sync) only those, may not enable/disable (EPERM),
#    is held to user_max_regions (ENOSPC); its regions end at the target's
#    exec and when the target turns non-dumpable, even with allow_nondumpable;
#  - the CLI as that user (add, list, del) goes through the device;
#  - rmmod with the device open is refused (EBUSY), and works once closed.
# ptrace_scope=3 (one-way) is in 99-yama.t, which runs last.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno qw(EACCES);
use Fcntl;
use IPC::Open2;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ums;

my $DEV = '/dev/umsampler';
my $YAMA = '/proc/sys/kernel/yama/ptrace_scope';
my ($UA, $UB) = (1000, 1001);
my $LIB = "$FindBin::Bin/../lib";
plan skip_all => 'setpriv not available' if system('sh', '-c', 'command -v setpriv >/dev/null') != 0;

ums_unload() if ums_loaded();
ok(ums_load('period_us=10000'), 'insmod');

# --- the device node ---------------------------------------------------------
my @st = stat($DEV);
ok(@st && POSIX::S_ISCHR($st[2]), "$DEV is a character device");
is(sprintf('%o', $st[2] & 07777), '600', 'mode 0600 until a udev rule opens it');
is("$st[4]:$st[5]", '0:0', 'owned by root:root');
my ($maj) = map { /^\s*(\d+) misc$/ ? $1 : () } split /\n/, rd('/proc/devices');
is(($st[6] >> 8) & 0xfff, $maj, 'on the misc major') if defined $maj;

# The user agent: runs as a given uid without capabilities, reads commands on
# stdin, answers one line each (several lines for `r`, ended by "end"):
#   spawn ARGS      start umstarget ARGS as its own child: "pid PID ADDR" (counter)
#   w TEXT          one write(2) of TEXT (\n escaped as \\n) to the device on a new
#                   file: "OK" or "ENAME <error line the same fd reads back>"
#   r               the device's whole read, then "end"
#   t N CMD         command CMD to the N-th spawned target: its answer
#   cli ARGS        run the umsampler CLI: "rc N" then its output, then "end"
my $agent_src = <<'EOF';
use strict;
use warnings;
use lib $ENV{UMS_LIB};
use Fcntl;
use Ums;
$| = 1;
my $DEV = '/dev/umsampler';
my @t;
while (my $l = <STDIN>) {
	chomp $l;
	my ($c, $a) = split / /, $l, 2;
	if ($c eq 'spawn') {
		my $x = Ums::target(split ' ', $a // '');
		push @t, $x;
		print "pid $x->{pid} ", $x->addr('counter'), "\n";
	} elsif ($c eq 'w') {
		$a =~ s/\\n/\n/g;
		if (!sysopen(my $fh, $DEV, O_RDWR)) {
			print errname($! + 0), " open\n";
		} else {
			my $n = syswrite($fh, $a);
			my $e = defined $n ? 0 : $! + 0;
			sysseek($fh, 0, 0);
			my $buf = '';
			sysread($fh, $buf, 4096);
			my ($err) = $buf =~ /^error: (.*)$/m;
			print errname($e), $e ? " " . ($err // '(no error line)') : '', "\n";
		}
	} elsif ($c eq 'r') {
		if (open(my $fh, '<', $DEV)) {
			local $/;
			my $s = <$fh> // '';
			print $s;
		} else {
			print "open ", errname($! + 0), "\n";
		}
		print "end\n";
	} elsif ($c eq 't') {
		my ($i, $cmd) = split / /, $a, 2;
		print $t[$i]->cmd($cmd), "\n";
	} elsif ($c eq 'cli') {
		my $out = `$ENV{UMS_CLI} $a 2>&1`;
		print "rc ", $? >> 8, "\n", $out, "end\n";
	}
}
EOF
my $agent_dir = Ums::tmp_dir('dev');
my $agent_file = "$agent_dir/agent.pl";
Ums::put_file($agent_file, $agent_src);
chmod 0755, $agent_dir;
chmod 0644, $agent_file;

my $CLI = -x "$FindBin::Bin/../../build/tracing/umsampler" ?
	"$FindBin::Bin/../../build/tracing/umsampler" : 'umsampler';

sub agent {
	my ($uid) = @_;
	my ($out, $in);
	local $ENV{UMS_LIB} = $LIB;
	local $ENV{UMS_CLI} = $CLI;
	my $pid = open2($out, $in, 'setpriv', "--reuid=$uid", "--regid=$uid", '--clear-groups',
			'--inh-caps=-all', '--bounding-set=-all', '--', 'perl', $agent_file);
	return { pid => $pid, out => $out, in => $in, uid => $uid };
}

sub ask {
	my ($a, $cmd) = @_;
	my $in = $a->{in};
	print $in "$cmd\n";
	$in->flush;
	my $out = $a->{out};
	my $l = <$out>;
	die "agent $a->{uid}: no answer to '$cmd'" unless defined $l;
	chomp $l;
	return $l unless $cmd eq 'r' || $cmd =~ /^cli /;
	my @lines = ($l);
	while (defined(my $x = <$out>)) {
		chomp $x;
		last if $x eq 'end';
		push @lines, $x;
	}
	return @lines;
}

sub aspawn {
	my ($a, @args) = @_;
	my ($pid, $addr) = ask($a, join(' ', 'spawn', @args)) =~ /^pid (\d+) (0x[0-9a-f]+)/
		or die "agent $a->{uid}: spawn failed";
	return ($pid, $addr);
}

sub w { my ($a, $text) = @_; $text =~ s/\n/\\n/g; return ask($a, "w $text") }

# The device read: { NAME => {id, pid, type, seq, time, flags, value} }, plus the error line.
sub parse_dev {
	my (@lines) = @_;
	my (%r, $err);
	for (@lines) {
		if (/^error: (.*)$/) { $err = $1; next }
		next if /^ID NAME /;
		my ($id, $name, $pid, $type, $seq, $time, $flags, $value) = split / /, $_, 8;
		$r{$name} = { id => $id, pid => $pid, type => $type, seq => $seq, time => $time,
			      flags => $flags, value => $value };
	}
	return (\%r, $err);
}

# Root's own view through the device.
sub dev_root {
	open(my $fh, '<', $DEV) or return ({}, "open: $!");
	local $/;
	my $s = <$fh> // '';
	return parse_dev(split /\n/, $s);
}

# One write on a new root fd; returns (errno, error line read back on the same fd).
sub dev_write {
	my ($text) = @_;
	sysopen(my $fh, $DEV, O_RDWR) or return ($! + 0, "open");
	my $n = syswrite($fh, $text);
	my $e = defined $n ? 0 : $! + 0;
	sysseek($fh, 0, 0);
	my $buf = '';
	sysread($fh, $buf, 65536);
	my ($err) = $buf =~ /^error: (.*)$/m;
	return ($e, $err, $buf);
}

my $yama0 = -e $YAMA ? rd($YAMA) : undef;
chomp $yama0 if defined $yama0;
sub scope { my ($s) = @_; return ok(Ums::_wr($YAMA, $s), "ptrace_scope=$s") }

# --- mode 0600: a user cannot open it ---------------------------------------
{
	my $a = agent($UA);
	like(w($a, "sync\n"), qr/^EACCES open/, 'uid 1000, mode 0600: open -> EACCES');
	close $a->{in};
	waitpid($a->{pid}, 0);
}
# What the package's udev rule does (GROUP="umsampler", MODE="0660"); here to everyone.
ok(chmod(0666, $DEV), 'chmod 0666 (as a udev rule would give a group)');

# --- root through the device --------------------------------------------------
my $R = Ums::target('--tick-us', 2000);
subtest 'root (CAP_SYS_PTRACE): the control language, as debugfs takes it' => sub {
	my ($e, $err) = dev_write($R->add_line('counter', name => 'root_ctr') . "\n" .
				  $R->add_line('u64', name => 'root_u64') . "\n");
	is(errname($e), 'OK', 'two adds in one write');
	ok(!defined $err, 'no error line after a good write');
	ok(region_by_name('root_ctr') && region_by_name('root_u64'), 'both in debugfs regions');
	ok(wait_for(sub { my ($r) = dev_root(); ($r->{root_ctr}{seq} // 0) > 2 }, 10),
	   'sampled; the device shows the latest sample');
	is($R->cmd('set u64 987654321'), 'ok set', 'target sets u64');
	ok(wait_for(sub { my ($r) = dev_root(); ($r->{root_u64}{value} // '') eq '987654321' }, 10),
	   'device VALUE is the decoded value');
	my ($r) = dev_root();
	is($r->{root_u64}{type}, 'u64', 'TYPE column');
	is($r->{root_u64}{pid}, $R->pid, 'PID column');
	is($r->{root_u64}{id}, region_by_name('root_u64')->{id}, 'ID column = regions ID');
	like($r->{root_u64}{time}, qr/^\d+$/, 'TIME_NS column');
	my $v = rd(dbg('values/root_u64'));
	chomp $v;
	is($v, '987654321', 'values/ agrees');

	# Same errnos and the same reason text as debugfs control, nothing applied.
	for my $bad ("bogus\n", "add pid=1 addr=0x1000 len=0\n",
		     $R->add_line('counter', name => 'half') . "\nadd pid=999999 addr=0x1000 len=4\n",
		     "add pid=" . $R->pid . " addr=0xffffffffff600000 len=8\n", "del 4000000\n",
		     $R->add_line('counter', name => 'root_ctr') . "\n") {
		my ($de, $derr) = dev_write($bad);
		my $ce = ctl_errno($bad);
		my $cerr = rd('control');
		chomp $cerr;
		(my $show = $bad) =~ s/\n/\\n/g;
		ok($de, "'$show' fails on the device");
		is(errname($de), errname($ce), "'$show': same errno as debugfs (" . errname($ce) . ')');
		is($derr, $cerr, "'$show': same reason as debugfs control");
	}
	ok(!region_by_name('half'), 'all or nothing: the good add of a failed write is not there');
	my ($e2, $err2) = dev_write("sync\n");
	ok(!$e2 && !defined $err2, 'a good write on a new fd reports no error');

	# A write then a read on the same fd: the read starts over and reports on it.
	sysopen(my $fh, $DEV, O_RDWR) or die;
	ok(!defined syswrite($fh, "bogus\n"), 'bad write');
	my $b1 = '';
	sysread($fh, $b1, 65536);
	like($b1, qr/^error: EINVAL: line 1: unknown command 'bogus'/, 'its reason, first line');
	ok(defined syswrite($fh, "sync\n"), 'good write on the same fd');
	my $b2 = '';
	sysread($fh, $b2, 65536);
	unlike($b2, qr/^error:/, 'the next read reports on the good write (offset back to 0)');
	like($b2, qr/^ID NAME PID TYPE SEQ TIME_NS FLAGS VALUE$/m, 'header');
	close $fh;

	# enable / disable: the device (and control) take them, `enabled` follows.
	my ($e3) = dev_write("disable\n");
	is(errname($e3), 'OK', 'disable');
	is(rd(dbg('enabled')), "0\n", 'enabled reads 0');
	# A pass already under way when `disable` lands still finishes: wait
	# until the count holds still, then it must stay.
	my $s1 = -1;
	ok(wait_for(sub { my $s = region_by_name('root_ctr')->{samples}; my $same = $s == $s1;
			  $s1 = $s; sleep 0.3 unless $same; $same }, 20), 'sampling stops');
	sleep 0.5;
	is(region_by_name('root_ctr')->{samples}, $s1, 'nothing sampled while disabled');
	my ($e4) = dev_write("enable\n");
	is(errname($e4), 'OK', 'enable');
	is(rd(dbg('enabled')), "1\n", 'enabled reads 1');
	ok(wait_for(sub { region_by_name('root_ctr')->{samples} > $s1 }, 10), 'sampling again');
	is(errname(ctl_errno("disable\nenable\n")), 'OK', 'debugfs control takes them too');
	is(rd(dbg('enabled')), "1\n", 'the last one wins');
	my ($e5) = dev_write("disable\nbogus\n");
	is(errname($e5), 'EINVAL', 'disable + a bad line fails');
	is(rd(dbg('enabled')), "1\n", 'all or nothing: still enabled');
};

# --- delegated users ------------------------------------------------------------
SKIP: {
	skip 'no Yama', 1 unless defined $yama0;
	subtest 'a delegated user: own processes only, own regions only' => sub {
		scope(1);
		my $A = agent($UA);
		my $B = agent($UB);
		my ($pa, $aa) = aspawn($A);
		my ($pb, $ab) = aspawn($B);
		# A process of uid 1000 that is not the agent's descendant (started by root).
		my $sib = spawn_as($UA);
		my $add = sub { my ($pid, $addr, $name, $x) = @_;
			"add pid=$pid addr=$addr type=u32 name=$name" . ($x // '') . "\n" };

		is(w($A, $add->($pa, $aa, 'a_own')), 'OK', 'own child: add allowed');
		like(w($A, $add->($pb, $ab, 'a_b')), qr/^EPERM EPERM: line 1: reading pid \d+ is not allowed/,
		     "uid 1001's process: EPERM, the access check named");
		like(w($A, $add->($R->pid, $R->addr('counter'), 'a_root')), qr/^EPERM /, "root's process: EPERM");
		like(w($A, $add->($sib->{pid}, $sib->{addr}, 'a_sib')), qr/^EPERM /,
		     'ptrace_scope=1: own process that is not a descendant: EPERM');
		like(w($A, $add->($pa, $aa, 'a_ok') . $add->($pb, $ab, 'a_bad')), qr/^EPERM EPERM: line 2:/,
		     'a batch with one refused add fails on that line');
		ok(!region_by_name('a_ok'), 'all or nothing for a delegated user too');
		scope(0);
		is(w($A, $add->($sib->{pid}, $sib->{addr}, 'a_sib')), 'OK',
		   'ptrace_scope=0: own non-descendant allowed');
		like(w($A, $add->($pb, $ab, 'a_b')), qr/^EPERM /, "ptrace_scope=0: uid 1001's process still EPERM");
		scope(1);

		ok(wait_for(sub { my ($r) = parse_dev(ask($A, 'r')); ($r->{a_own}{seq} // 0) > 2 }, 10),
		   'A reads its region back, sampled');
		my ($ra) = parse_dev(ask($A, 'r'));
		is_deeply([sort keys %$ra], [qw(a_own a_sib)], 'A sees exactly its own regions');
		my $own = region_by_name('a_own');
		is($ra->{a_own}{id}, $own->{id}, "A's ID is the registry's");
		is(ask($A, 't 0 set counter 4242'), 'ok set', 'A\'s target sets counter');
		ok(wait_for(sub { my ($r) = parse_dev(ask($A, 'r')); ($r->{a_own}{value} // '') eq '4242' }, 10),
		   'A reads the new value through the device');
		my ($rb) = parse_dev(ask($B, 'r'));
		is_deeply([keys %$rb], [], 'B sees none of them');
		my ($rr) = dev_root();
		ok($rr->{a_own} && $rr->{root_ctr}, 'root sees every region');

		# Reach: other users' and root's regions are as if absent.
		my $rid = region_by_name('root_ctr')->{id};
		like(w($A, "del $rid\n"), qr/^ENOENT /, "A: del of root's region id -> ENOENT");
		like(w($A, "del name=root_ctr\n"), qr/^ENOENT /, "A: del name= of root's region -> ENOENT");
		like(w($A, "del pid=" . $R->pid . "\n"), qr/^ENOENT /, "A: del pid= of root's target -> ENOENT");
		like(w($B, "del $own->{id}\n"), qr/^ENOENT /, "B: del of A's region -> ENOENT");
		is(w($B, "clear\n"), 'OK', 'B: clear');
		ok(region_by_name('a_own') && region_by_name('root_ctr'), "B's clear removed nobody else's");
		like(w($A, "enable\n"), qr/^EPERM EPERM: line 1: 'enable' needs CAP_SYS_PTRACE/, 'A: enable -> EPERM');
		like(w($A, "disable\n"), qr/^EPERM /, 'A: disable -> EPERM');
		is(rd(dbg('enabled')), "1\n", 'still enabled');
		trace_on(region => undef);
		is(w($A, "sync\n"), 'OK', 'A: sync');
		my @sync = map { $_->{name} } grep { $_->{op} eq 'sync' } region_events();
		trace_off();
		is_deeply([sort @sync], [qw(a_own a_sib)], "A's sync emits only A's regions");

		# user_max_regions
		Ums::set_param('user_max_regions', 3);
		is(w($A, $add->($pa, $aa, 'a_3')), 'OK', 'third region (user_max_regions=3)');
		like(w($A, $add->($pa, $aa, 'a_4')), qr/^ENOSPC ENOSPC: line 1: user_max_regions \(3\) reached for uid 1000/,
		     'fourth -> ENOSPC');
		is(w($A, "del name=a_3\n" . $add->($pa, $aa, 'a_4')), 'OK', 'a del in the same write makes room');
		is(errname(ctl_errno($R->add_line('counter', name => 'root_more') . "\n")), 'OK',
		   "root is not held to A's limit");
		Ums::set_param('user_max_regions', 128);

		# Non-dumpable: A's region ends even with allow_nondumpable; root's does not.
		ctl(join("\n", map { "add pid=$pa addr=$aa type=u32 name=root_on_a$_" } 1) . "\n");
		Ums::set_param('allow_nondumpable', 1);
		is(ask($A, 't 0 dumpable 0'), 'ok dumpable', "A's target turns non-dumpable");
		ok(wait_for(sub { !region_by_name('a_own') && !region_by_name('a_4') }, 10),
		   "A's regions end (allow_nondumpable never covers a delegated user)");
		ok(region_by_name('root_on_a1'), "root's region on the same process stays (allow_nondumpable=1)");
		Ums::set_param('allow_nondumpable', 0);
		ok(wait_for(sub { !region_by_name('root_on_a1') }, 10), '... until allow_nondumpable=0');

		# Exec: the region ends; a new add would have to pass the check again.
		my ($pa2, $aa2) = aspawn($A);
		is(w($A, $add->($pa2, $aa2, 'a_exec')), 'OK', 'add on a second child');
		trace_on(region => undef);
		is(ask($A, 't 1 exec'), 'ok exec', 'it execs');
		ok(wait_for(sub { !region_by_name('a_exec') }, 10), 'its region ends at the exec');
		my @gone = grep { $_->{op} eq 'gone' && $_->{name} eq 'a_exec' } region_events();
		trace_off();
		is($gone[0]{reason} // '', 'exec', 'op=gone, reason exec') or diag explain \@gone;

		# ptrace_scope=2: only CAP_SYS_PTRACE may read; A's own child is refused.
		my ($pa3, $aa3) = aspawn($A);
		scope(2);
		like(w($A, $add->($pa3, $aa3, 'a_s2')), qr/^EPERM /, "ptrace_scope=2: A's own child -> EPERM");
		is(errname(ctl_errno("add pid=$pa3 addr=$aa3 type=u32 name=root_s2\n")), 'OK',
		   'ptrace_scope=2: root may add (root\'s rules unchanged)');
		my ($e) = dev_write("add pid=$pa3 addr=$aa3 type=u32 name=root_s2_dev\n");
		is(errname($e), 'OK', 'ptrace_scope=2: root through the device too');
		scope(1);

		# The CLI as A goes through the device (debugfs is root-only). Under
		# ptrace_scope=1 the CLI (a child of A's agent) is not an ancestor of
		# A's target, so the kernel refuses it, as it refuses gdb -p.
		my ($pa4) = aspawn($A, '--tick-us', 2000);
		my @o = ask($A, "cli add $pa4 counter --name a_cli");
		is($o[0], 'rc 1', 'ptrace_scope=1: A: umsampler add PID counter of a non-descendant fails');
		like(join("\n", @o), qr/EPERM|permission denied/, 'with a reason') or diag explain \@o;
		scope(0);
		@o = ask($A, "cli add $pa4 counter --name a_cli");
		is($o[0], 'rc 0', 'A: umsampler add PID counter') or diag explain \@o;
		like(join("\n", @o), qr/^added id=\d+ name=a_cli pid=$pa4 /m, 'it prints the new region');
		@o = ask($A, 'cli list');
		is($o[0], 'rc 0', 'A: umsampler list');
		ok((grep { /^\d+ a_cli $pa4 u32 / } @o), 'lists A\'s region from the device') or diag explain \@o;
		ok(!(grep { /root_ctr/ } @o), "and not root's");
		@o = ask($A, "cli add " . $R->pid . " counter --name a_cli_root");
		is($o[0], 'rc 1', "A: umsampler add of root's process fails");
		like(join("\n", @o), qr/EPERM|permission denied/, 'with a reason') or diag explain \@o;
		@o = ask($A, 'cli del a_cli');
		is($o[0], 'rc 0', 'A: umsampler del a_cli') or diag explain \@o;
		ok(!region_by_name('a_cli'), 'gone');
		scope(1);

		for my $g ($A, $B) {
			close $g->{in};
			waitpid($g->{pid}, 0);
		}
		$sib->{t}->kill if $sib->{t};
		kill 'KILL', $sib->{pid};
		ok(wait_for(sub { !grep { $_->{name} =~ /^a_/ } regions() }, 10),
		   "A's regions end when its processes exit");
		Ums::_wr($YAMA, $yama0);
	};
}

# A umstarget as uid $uid started by root (not a descendant of any agent).
sub spawn_as {
	my ($uid) = @_;
	my ($out, $in);
	my $pid = open2($out, $in, 'setpriv', "--reuid=$uid", "--regid=$uid", '--clear-groups',
			'--inh-caps=-all', '--bounding-set=-all', '--', "$Ums::PROGS/umstarget");
	my $addr;
	while (my $l = <$out>) {
		$addr = "0x$1" if $l =~ /^var counter 0x([0-9a-f]+)/;
		last if $l =~ /^ready/;
	}
	return { pid => $pid, addr => $addr, in => $in, out => $out };
}

# --- module lifetime -----------------------------------------------------------
{
	open(my $hold, '<', $DEV) or die "$DEV: $!";
	isnt(system('rmmod umsampler 2>/dev/null'), 0, 'rmmod with the device open is refused (EBUSY)');
	ok(ums_loaded(), 'module still loaded');
	close $hold;
}
$R->kill;
ok(ums_unload(), 'rmmod once the device is closed');
ok(!-e $DEV, "$DEV is gone");
done_testing();
