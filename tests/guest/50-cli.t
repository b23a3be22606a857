#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 50-cli.t - the `umsampler` CLI's live-system commands against the real module: add by symbol
# (DWARF types on umstarget, .dynsym on Debian's python3), list, del, stats, watch, and the
# errors the kernel or the environment give (duplicate name, unknown region, no
# CAP_SYS_PTRACE, module not loaded).
#
# The CLI is $UMS_TOOLS/umsampler (default build/tracing, from `make tools`).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IPC::Open2;
use IPC::Open3;
use Symbol 'gensym';
use Test::More;
use Cwd ();
use Time::HiRes qw(sleep);
use Ums;

my $root = "$FindBin::Bin/../..";
my $tools = $ENV{UMS_TOOLS} // "$root/build/tracing";
my $cli = "$tools/umsampler";
plan skip_all => "$cli not built (make tools)" unless -x $cli;

# run the CLI: (exit status, stdout, stderr)
sub run { return run_cli($cli, @_) }

sub value { my $v = rd("values/$_[0]"); chomp $v if defined $v; return $v }

ok(!ums_loaded(), 'module not loaded before the test');
subtest 'without the module' => sub {
	my ($st, $so, $se) = run('list');
	is($st, 1, 'list without the module: exit 1');
	like($se, qr/umsampler module not loaded: sudo modprobe umsampler/,
	   'says module not loaded');
};
# _PyRuntime is ~160 KiB in python3.11
ok(ums_load('max_len=1048576'), 'insmod max_len=1048576');

my $t = Ums::target('--tick-us', 1000);
my $pid = $t->pid;

# ---- add by symbol (PIE umstarget, -O2 -g: DWARF) ----
subtest 'add by symbol (DWARF)' => sub {
	my ($st, $so, $se) = run('add', $pid, 'counter', '--period', '1ms');
	is($st, 0, 'add PID counter: exit 0') or diag($se);
	my $a = $t->addr('counter');
	like($so, qr/^added\ id=(\d+)\ name=counter\ pid=$pid\ addr=$a\ len=4\ type=u32
		     \ source=\S+umstarget:counter\(dwarf\)$/x,
	     "add counter: address $a, u32 from DWARF");
	my ($id) = $so =~ /id=(\d+)/;
	my $r = region_by_name('counter');
	ok($r && $r->{id} == $id, 'regions has it under the printed id');
	is($r && $r->{addr}, $a, 'regions: address');
	is($r && $r->{type}, 'u32', 'regions: type u32');
	is($r && $r->{period_us}, 1000, 'regions: period 1ms');
	my $v1 = wait_for(sub { my $v = value('counter'); $v && $v > 0 ? $v : 0 }, 10);
	ok($v1, "values/counter shows the counter ($v1)");
	my $v2 = wait_for(sub { my $v = value('counter'); $v && $v > $v1 ? $v : 0 }, 10);
	ok($v2, "values/counter advances ($v2)");
};
subtest 'add of an existing name' => sub {
	my ($st, $so, $se) = run('add', $pid, 'counter');
	is($st, 1, 'add counter again: exit 1');
	like($se, qr/the module refused it: EEXIST.*\n.*--name/,
	   'duplicate name: kernel message and hint');
};
my %want = (
	'v_shape.b' => [ 'shape', 4, 2, 'u16', '21862' ],
	'v_str' => [ 'str', 0, 32, 'str', 'kernel can read!' ],
	'v_f64' => [ 'f64', 0, 8, 'f64', '497.5' ],
	'v_s16' => [ 's16', 0, 2, 's16', '-30000' ],
	'v_shape.c[2]' => [ 'shape', 8, 1, 'u8', '99' ],
);
for my $tg (sort keys %want) {
	my ($var, $off, $len, $type, $val) = @{$want{$tg}};
	(my $name = $tg) =~ s/[^A-Za-z0-9_.:-]/_/g;
	my $addr = sprintf('0x%x', $t->{var}{$var}{addr} + $off);
	my ($st, $so, $se) = run('add', $pid, $tg);
	is($st, 0, "add $tg: exit 0") or diag($se);
	like($so, qr/ name=\Q$name\E pid=$pid addr=$addr len=$len type=$type /,
	   "add $tg: $addr $len $type");
	is(wait_for(sub { my $v = value($name); defined $v && $v ne '' ? $v : '' }, 10), $val,
	   "values/$name is $val");
}

subtest 'add --no-events' => sub {
	my ($st, $so, $se) = run('add', $pid, 'v_u8', '--no-events', '--name', 'quiet_u8');
	is($st, 0, 'add --no-events: exit 0') or diag($se);
	is((region_by_name('quiet_u8') // {})->{mode}, 'none', 'add --no-events: regions says none');
	($st, $so, $se) = run('add', $pid, 'v_u8', '--no-events', '--change', '--name', 'q2');
	is($st, 2, '--no-events with --change: usage error (exit 2)');
	like($se, qr/exclude each other/, '--no-events with --change: says why');
	ctl("del name=quiet_u8\n");
};

subtest 'add --mirror' => sub {
	my ($st, $so, $se) = run('add', $pid, 'v_u8', '--mirror', '--name', 'mir_u8');
	is($st, 0, 'add --mirror: exit 0') or diag($se);
	ok(wait_for(sub { ((region_by_name('mir_u8') // {})->{path} // '') eq 'mirror' }, 20),
	   'add --mirror: samples taken by the mirror (regions PATH=mirror)');
	ctl("del name=mir_u8\n");
	# v_big: 10000 bytes, over the default mirror_budget (4096)
	($st, $so, $se) = run('add', $pid, 'v_big', '--mirror', '--name', 'mir_big');
	is($st, 1, 'add --mirror over mirror_budget: exit 1');
	like($se, qr/exceeds mirror_budget/, 'add --mirror over mirror_budget: the kernel says why');
	ok(!region_by_name('mir_big'), 'add --mirror over mirror_budget: nothing added');
};

# ---- list, watch, stats ----
subtest 'list' => sub {
	my ($st, $so, $se) = run('list');
	is($st, 0, 'list: exit 0');
	like($so, qr/^\s*ID\s+NAME\s+PID\s+ADDR/, 'list: header');
	like($so, qr/^\s*\d+ counter\s+$pid \S+\s+4 u32\s+1ms always\s+\d+\s+\d+  \d+$/m,
	   'list: counter');
	like($so, qr/^\s*\d+ v_str .* kernel can read!$/m, 'list: str value');
	my $n = () = $so =~ /\n/g;
	is($n, 1 + scalar(regions()), 'list: one line per region');
};
subtest 'watch' => sub {
	# Three refreshes a second apart; after the first one the test adds 100000 to counter
	# itself (umstarget's ticker alone can stall for a while on a loaded TCG guest).
	my $err = gensym;
	my $wp = open3(my $win, my $wout, $err, $cli, 'watch', '--interval', '1s', '--count', '3',
		       'counter', 'v_f*');
	close $win;
	my $so = '';
	while (my $l = <$wout>) {
		$so .= $l;
		last if $l eq "\n";
	}
	is($t->cmd('inc counter 100000'), 'ok inc', 'counter += 100000 after the first refresh');
	{
		local $/;
		$so .= <$wout> // '';
	}
	waitpid($wp, 0);
	my $st = $? >> 8;
	is($st, 0, 'watch --count 3: exit 0');
	my @b = split /\n\n/, $so;
	is(scalar @b, 3, 'watch: three blocks');
	my @c = map { /^counter\s+$pid u32\s+(\d+)\s+(\S+)/m ? [$1, $2] : [0, '?'] } @b;
	ok($c[2][0] - $c[0][0] >= 100000, "watch: counter changes ($c[0][0] -> $c[2][0])");
	my ($rate) = grep { /^[\d.e+]+$/ && $_ > 2000 } map { $_->[1] } @c[1, 2];
	ok($rate, "watch: rate of change shown (@{[map { $_->[1] } @c]} /s)");
	like($b[0], qr/^=== \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ===$/m,
	   'watch: timestamp header');
	like($b[1], qr/^v_f64\s+$pid f64\s+497\.5\s/m, 'watch: glob selects v_f64');
	unlike($so, qr/^v_str/m, 'watch: other regions not shown');
};
subtest 'stats' => sub {
	my ($st, $so) = run('stats');
	is($st, 0, 'stats: exit 0');
	my $nreg = scalar regions();
	like($so, qr/^regions\s+$nreg$/m, "stats: regions $nreg");
	like($so, qr/^samples\s+[1-9]\d*$/m, 'stats: samples');
	like($so, qr/^enabled\s+1$/m, 'stats: enabled');
};

# ---- del ----
subtest 'del' => sub {
	my ($st, $so, $se) = run('del', 'counter');
	is($st, 0, 'del counter: exit 0');
	ok(!region_by_name('counter'), 'counter gone');
	my $r = region_by_name('v_str');
	($st) = run('del', $r->{id});
	is($st, 0, 'del ID: exit 0');
	ok(!region_by_name('v_str'), 'v_str gone');
	($st, $so, $se) = run('del', '99999');
	is($st, 1, 'del unknown id: exit 1');
	like($se, qr/the module refused it: ENOENT/, 'del unknown id: kernel message');
	($st) = run('del', '--pid', $pid);
	is($st, 0, 'del --pid: exit 0');
	is(scalar(grep { $_->{pid} == $pid } regions()), 0, 'no regions of the target left');
};

# ---- no CAP_SYS_PTRACE ----
subtest 'no CAP_SYS_PTRACE' => sub { SKIP: {
	skip 'capsh not installed', 4 if system('sh', '-c', 'command -v capsh >/dev/null');
	my $a = $t->addr('counter');
	my $drop = 'capsh --drop=cap_sys_ptrace --';
	my $out = `$drop -c '$cli add $pid $a --type u32 2>&1; echo rc=\$?'`;
	like($out, qr/permission denied: writing control needs CAP_SYS_PTRACE/,
	   'no ptrace: message');
	like($out, qr/rc=1$/m, 'no ptrace: exit 1');
	$out = `$drop -c '$cli add $pid counter 2>&1; echo rc=\$?'`;
	like($out, qr{permission denied reading /proc/$pid/maps: .*CAP_SYS_PTRACE},
	   'no ptrace: maps');
	like($out, qr/rc=1$/m, 'no ptrace: maps: exit 1');
} };
$t->kill;

# ---- Debian's python3 (non-PIE, stripped: .dynsym only) ----
subtest 'python3: .dynsym symbols' => sub { SKIP: {
	my $py = '/usr/bin/python3';
	skip "$py missing", 16 unless -x $py;
	my ($po, $pi);
	my $ppid = open2($po, $pi, $py, '-OO', '-c',
			 'import sys; print(sys.hexversion, flush=True); sys.stdin.read()');
	my $hexver = <$po>;
	chomp $hexver;
	like($hexver, qr/^\d+$/, "python3 started (hexversion $hexver)");
	my ($st, $so, $se) = run('add', $ppid, 'Py_OptimizeFlag', '--type', 's32', '--period',
	   '2ms');
	is($st, 0, 'python3: add Py_OptimizeFlag --type s32') or diag($se);
	like($so, qr/ type=s32 source=\S*python3[.\d]*:Py_OptimizeFlag\(symtab\)/,
	   'python3: from .dynsym');
	is(wait_for(sub { value('Py_OptimizeFlag') // '' }, 10), '2',
	   'python3 -OO: Py_OptimizeFlag is 2');
	# resident-only, as a new user tries it: an untouched .rodata page is read from the
	# page cache (the file's page, never mapped into python3)
	my $pva;
	# (the whole binary into the guest's page cache first, as a running program's binary
	# usually is: here it comes over 9p and only what python3 read so far is cached)
	system('sh', '-c', 'cat "$1" >/dev/null', 'sh', Cwd::abs_path($py)) == 0 or
		diag('cannot read the binary');
	($st, $so, $se) = run('add', $ppid, 'Py_Version', '--type', 'u64', '--name', 'pyver');
	is($st, 0, 'python3: add Py_Version --type u64 (resident-only)') or diag($se);
	($pva) = $so =~ / addr=(0x[0-9a-f]+) /;
	my $present0 = pagemap_present($ppid, hex($pva // 0));
	is(wait_for(sub { value('pyver') // '' }, 10), $hexver,
	   'python3: Py_Version == sys.hexversion without --fault' .
	   ($present0 ? '' : ' (its page not even mapped: from the page cache)'));
	is(region_by_name('pyver')->{partial}, 0, 'python3: Py_Version never partial');
	is(pagemap_present($ppid, hex($pva // 0)), $present0, 'python3: its page tables unchanged');
	($st, $so, $se) = run('add', $ppid, 'Py_Version', '--type', 'u64', '--fault');
	is($st, 0, 'python3: add Py_Version --type u64 --fault') or diag($se);
	is(wait_for(sub { value('Py_Version') // '' }, 10), $hexver,
	   'python3: Py_Version == sys.hexversion');
	($st, $so, $se) = run('add', $ppid, 'python3:_PyRuntime', '--name', 'pyrt');
	is($st, 0, 'python3: add python3:_PyRuntime') or diag($se);
	my ($len) = $so =~ / len=(\d+) type=hex /;
	ok($len && $len > 4096, "python3: _PyRuntime: whole struct, hex (len $len)");
	my $r = region_by_name('pyrt');
	is($r && $r->{len}, $len, 'python3: regions has the length');
	my $raw = wait_for(sub { my $x = rd('raw/pyrt'); defined $x && length($x) ? $x : '' }, 10);
	is(length($raw), $len, 'python3: raw/pyrt has len bytes');
	ok($raw =~ /[^\0]/, 'python3: _PyRuntime bytes are not all zero');
	($st, $so, $se) = run('add', $ppid, 'Py_OptimizeFlg');
	like($se, qr/did you mean: Py_OptimizeFlag/, 'python3: suggestion for a typo');
	close $pi;
	waitpid($ppid, 0);
	run('del', '--all');
} };

ok(ums_unload(), 'rmmod');
done_testing();

END { ums_cleanup() }
