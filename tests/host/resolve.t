#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# resolve.t - host TAP test of the `umsampler` CLI's live-system half against a fake debugfs
# directory ($UMSAMPLER_DEBUGFS): symbol/DWARF resolution of `add` (the control line it writes
# must carry exactly the address, length and type the target printed for itself), argument
# errors, list/del/stats/watch output.
#
# Owns: the build of the test targets from tests/progs-host/ into build/host/resolve/<variant>/
# (PIE and non-PIE with DWARF, no DWARF, stripped with .dynsym only, DWARF in a .gnu_debuglink
# file, DWARF and .symtab in a build-id debug file), and the fake debugfs in build/host/fakedbg.
# Needs gcc, strip, objcopy and build/tracing/umsampler (`make tools`; $UMSAMPLER overrides).
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Path qw(make_path remove_tree);
use FindBin;
use lib "$FindBin::Bin/../lib";
use IPC::Open2;
use Test::More;
use Ums qw(run_cli);

my $root = abs_path(__FILE__ =~ s{/tests/host/resolve\.t$}{}r);
$root = abs_path('.') unless -d "$root/tests/progs-host";
my $cli = $ENV{UMSAMPLER} // "$root/build/tracing/umsampler";
plan skip_all => "$cli not built (make tools)" unless -x $cli;
for my $tool (qw(gcc strip objcopy)) {
	plan skip_all => "$tool not installed" if system("command -v $tool >/dev/null 2>&1");
}

my $src = "$root/tests/progs-host";
my $out = "$root/build/host/resolve";
my $fake = "$root/build/host/fakedbg";
remove_tree($out, $fake);
make_path($out, "$fake/values");

sub sh {
	my ($cmd) = @_;
	system('sh', '-c', $cmd) == 0 or BAIL_OUT("failed: $cmd");
}

# ---- build the variants ----
my %variants = (
	g => { cflags => '-g', dwarf => 1 },
	nopie => { cflags => '-g -fno-pie -no-pie', dwarf => 1 },
	nog => { cflags => '', dwarf => 0 },
	strip => { cflags => '-rdynamic', dwarf => 0, strip => 1 },
	debuglink => { cflags => '-g', dwarf => 1, debuglink => 1 },
	buildid => { cflags => '-g -Wl,--build-id', dwarf => 1, buildid => 1 },
);
for my $v (sort keys %variants) {
	my $d = "$out/$v";
	my $f = $variants{$v}{cflags};
	my $libf = $f =~ s/-fno-pie -no-pie|-rdynamic//r;
	make_path($d);
	sh("cd $d && gcc -O0 $libf -fPIC -shared -Wl,-soname,libumshost.so.1 " .
	   "-o libumshost.so.1.2.3 $src/hostlib.c && ln -sf libumshost.so.1.2.3 libumshost.so.1 " .
	   "&& ln -sf libumshost.so.1.2.3 libumshost.so");
	sh("cd $d && gcc -O0 $f -o hostvars-$v $src/hostvars.c -L. -lumshost " .
	   "-Wl,-rpath,'\$ORIGIN'");
	if ($variants{$v}{strip}) {
		sh("strip $d/hostvars-$v $d/libumshost.so.1.2.3");
	}
	if ($variants{$v}{debuglink}) {
		sh("cd $d && objcopy --only-keep-debug hostvars-$v hostvars-$v.debug && " .
		   "objcopy --strip-debug --add-gnu-debuglink=hostvars-$v.debug hostvars-$v");
	}
	if ($variants{$v}{buildid}) {
		my $id = `readelf -n $d/hostvars-$v` =~ /Build ID: ([0-9a-f]+)/ ? $1 : '';
		BAIL_OUT("no build-id") unless $id;
		my $bd = "$d/debugroot/.build-id/" . substr($id, 0, 2);
		make_path($bd);
		sh("cd $d && objcopy --only-keep-debug hostvars-$v $bd/" . substr($id, 2) .
		   ".debug && strip --strip-all hostvars-$v");
	}
}

# ---- helpers ----
my $HEADER = "ID PID ADDR LEN PERIOD_US TYPE MODE NAME SAMPLES PARTIAL EMITTED MIRROR PATH DEREF SEQ\n";

sub wfile {
	my ($f, $s) = @_;
	open(my $fh, '>', $f) or die "$f: $!";
	print $fh $s;
	close $fh or die "$f: $!";
}

sub rfile {
	my ($f) = @_;
	open(my $fh, '<', $f) or return undef;
	local $/;
	my $s = <$fh>;
	return $s // '';
}

# run the CLI (on the fake debugfs unless $UMSAMPLER_DEBUGFS is set): returns (exit status,
# stdout, stderr)
sub run {
	local $ENV{UMSAMPLER_DEBUGFS} = $ENV{UMSAMPLER_DEBUGFS} // $fake;
	local $ENV{UMSAMPLER_STATE_DIR} = "$fake/state";
	return run_cli($cli, @_);
}

sub start_target {
	my ($v) = @_;
	my ($o, $i);
	my $pid = open2($o, $i, "$out/$v/hostvars-$v");
	my (%sym, %chain);
	while (my $l = <$o>) {
		return { pid => $pid, in => $i, out => $o, sym => \%sym, chain => \%chain }
			if $l =~ /^ready (\d+)/;
		if ($l =~ /^chain (\S+) (\S+) (\d+) (\S+) (\S+)/) {
			$chain{$1} = { addr => $2, len => $3, type => $4, deref => $5 };
			next;
		}
		my ($t, $a, $s, $ty) = split ' ', $l;
		$sym{$t} = { addr => $a, len => $s, type => $ty };
	}
	die "hostvars-$v did not start";
}

sub stop_target {
	my ($t) = @_;
	close $t->{in};
	waitpid($t->{pid}, 0);
}

# add with a fake control file; returns (status, control text, stdout, stderr)
sub fake_add {
	my ($pid, $target, $name, $regline, @opt) = @_;
	wfile("$fake/control", '');
	wfile("$fake/regions", $HEADER . ($regline // ''));
	my ($st, $so, $se) = run('add', $pid, $target, @opt);
	return ($st, rfile("$fake/control"), $so, $se);
}

sub defname {
	my ($t) = @_;
	(my $n = $t) =~ s/[^A-Za-z0-9_.:-]/_/g;
	$n = "_$n" if $n =~ /^r[0-9]+$/;
	return substr($n, 0, 31);
}

# ---- resolution per variant ----
my %renamed = (exedup => 'hostvars-%s:dup_name', libdup => 'libumshost.so:dup_name',
	       libmixed => 'libumshost.so:mixed_name',
	       lib_shared_exe => undef);
for my $v (sort keys %variants) {
	my $V = $variants{$v};
	local $ENV{UMSAMPLER_DEBUG_DIR} = "$out/$v/debugroot" if $V->{buildid};
	my $t = start_target($v);
	my $pid = $t->{pid};
	for my $name (sort keys %{$t->{sym}}) {
		my $s = $t->{sym}{$name};
		my $target = exists $renamed{$name} ? $renamed{$name} : $name;
		next unless defined $target;
		$target = sprintf($target, $v) if $target =~ /%s/;
		my $access = $target =~ /[.\[+]/ && $target !~ /^[\w-]+\.so:|^hostvars-\w+:/;
		my $local = $name =~ /dup$|^libmixed$/;	# static: not in .dynsym
		if ($V->{strip} && $local) {
			my ($st, undef, undef, $se) = fake_add($pid, $target);
			is($st, 1, "$v: $target: static gone after strip");
			next;
		}
		if (!$V->{dwarf} && $access && $target !~ /\+/) {
			my ($st, $ctl, undef, $se) = fake_add($pid, $target);
			is($st, 1, "$v: $target needs DWARF: exit 1");
			like($se, qr/need DWARF/, "$v: $target: says DWARF is needed");
			is($ctl, '', "$v: $target: nothing written");
			next;
		}
		my $type = $V->{dwarf} || $target =~ /\+/ ? $s->{type} : 'hex';
		my $len = $s->{len};
		my $n = defname($target);
		my $exp = sprintf("add pid=%d addr=%s len=%d type=%s name=%s\n", $pid, $s->{addr},
				  $len, $type, $n);
		my ($st, $ctl, $so, $se) = fake_add($pid, $target, $n,
			"7 $pid $s->{addr} $len 10000 $type always $n 0 0 0\n");
		is($st, 0, "$v: add $target: exit 0") or diag($se);
		is($ctl, $exp, "$v: add $target: control line");
		like($so, qr/^added id=7 name=\Q$n\E pid=$pid addr=$s->{addr} len=$len type=$type /,
		     "$v: add $target: prints id and name");
	}
	# pointer chains: -> and (*p) become deref= offsets; DWARF only
	for my $target (sort keys %{$t->{chain}}) {
		my $c = $t->{chain}{$target};
		my $n = defname($target);
		my ($st, $ctl, $so, $se) = fake_add($pid, $target, $n,
			"7 $pid $c->{addr} $c->{len} 10000 $c->{type} always $n 0 0 0\n");
		if (!$V->{dwarf}) {
			is($st, 1, "$v: $target needs DWARF: exit 1");
			like($se, qr/need DWARF/, "$v: $target: says DWARF is needed");
			next;
		}
		is($st, 0, "$v: add '$target': exit 0") or diag($se);
		is($ctl, sprintf("add pid=%d addr=%s len=%d type=%s name=%s deref=%s\n", $pid,
				 $c->{addr}, $c->{len}, $c->{type}, $n, $c->{deref}),
		   "$v: add '$target': addr of the base, deref= offsets, the final member's type");
		like($so, qr/^added id=7 name=\Q$n\E .* deref=\Q$c->{deref}\E /,
		     "$v: add '$target': prints the chain");
		like(rfile("$fake/state/targets") // '', qr/^7 $pid \Q$n $target\E$/m,
		     "$v: add '$target': remembers the expression for list and watch");
	}
	if ($V->{dwarf}) {
		for my $bad (['counter->x', qr/counter is not a pointer/],
			     ['g_ptr->x', qr/g_ptr is a void pointer/],
			     ['g_opaque->x', qr/g_opaque points to an incomplete type \(struct opaque/],
			     ['head->nosuch', qr/head has no member 'nosuch'/],
			     ['head.value', qr/head is not a struct or union but a pointer \(use ->\)/],
			     ['(*counter)', qr/counter is not a pointer/],
			     ['head' . ('->next' x 8) . '->value', qr/more than 8 pointers/],
			     ['(*pp', qr/expected '\)'/]) {
			my ($st, $ctl, undef, $se) = fake_add($pid, $bad->[0]);
			is($st, $bad->[0] eq '(*pp' ? 2 : 1, "$v: '$bad->[0]': refused, exit status");
			like($se, $bad->[1], "$v: '$bad->[0]': names the problem") or diag($se);
			is($ctl, '', "$v: '$bad->[0]': nothing written");
		}
	}
	# ambiguity (statics in the executable and the library)
	unless ($V->{strip}) {
		my ($st, $ctl, $so, $se) = fake_add($pid, 'dup_name');
		is($st, 1, "$v: ambiguous dup_name: exit 1");
		like($se,
		   qr/ambiguous\ symbol\ 'dup_name'.*hostvars-$v:dup_name.*
		      libumshost\.so\S*:dup_name.*OBJECT:SYMBOL/sx,
		     "$v: ambiguous: lists both objects and asks for OBJECT:SYMBOL");
		is($ctl, '', "$v: ambiguous: nothing written");
	}
	# the executable's copy of lib_shared wins over the library's definition
	{
		my $s = $t->{sym}{lib_shared};
		my ($st, $ctl) = fake_add($pid, 'lib_shared');
		like($ctl, qr/addr=$s->{addr} len=4 type=\Q@{[$V->{dwarf} ? 'u32' : 'hex']}\E/,
		     "$v: lib_shared resolves to the interposing copy");
	}
	# no such symbol: suggestions
	my ($st, $ctl, $so, $se) = fake_add($pid, 'countr');
	is($st, 1, "$v: unknown symbol: exit 1");
	like($se, qr/no data symbol 'countr'.*did you mean: counter \(hostvars-$v\)/s,
	     "$v: unknown symbol: suggests counter");
	if ($v eq 'g') {
		($st, $ctl, $so, $se) = fake_add($pid, 'g_tls');
		is($st, 1, 'TLS: exit 1');
		like($se, qr/thread-local \(TLS\).*not supported/, 'TLS: clear error');
		($st, $ctl, $so, $se) = fake_add($pid, 'mixed_name');
		like($se,
		   qr/note: ignoring 1 static 'mixed_name' \(use OBJECT:mixed_name\): libumshost/,
		     'global over static: note names the static');
		like($ctl, qr/addr=$t->{sym}{mixed_name}{addr} len=4 type=s32 /,
		   'global over static');
		($st, $ctl, $so, $se) = fake_add($pid, 'main');
		like($se, qr/'main' is a function/, 'function: clear error');
		($st, $ctl, $so, $se) = fake_add($pid, 'nosuch.so:counter');
		like($se, qr/no mapped object matches 'nosuch.so'.*libumshost/s,
		     'unknown object: lists mapped objects');
		($st, $ctl, $so, $se) = fake_add($pid, 'libumshost.so.1.2.3:counter');
		like($se, qr/no data symbol 'counter' in objects matching/, 'OBJECT: restricts');
		($st, $ctl, $so, $se) = fake_add($pid, 'g_conf.nope');
		like($se, qr/g_conf has no member 'nope'/, 'unknown member');
		($st, $ctl, $so, $se) = fake_add($pid, 'g_conf.arr[4]');
		like($se, qr/index out of range \(4 elements\)/, 'index out of range');
		($st, $ctl, $so, $se) = fake_add($pid, 'g_ptr[0]');
		like($se, qr/g_ptr is not an array \(a pointer: use ->member, or \(\*p\) for what it points to\)/, 'a pointer indexed: says how to follow it');
		($st, $ctl, $so, $se) = fake_add($pid, 'g_conf[x]');
		is($st, 2, 'malformed target: exit 2');
		my $c = $t->{sym}{counter};
		($st, $ctl, $so, $se) = fake_add($pid, 'counter', undef, undef, '--type', 'u16',
						 '--period', '1ms', '--name', 'c16', '--change',
						 '--fault');
		is($ctl, "add pid=$pid addr=$c->{addr} len=2 type=u16 name=c16 period_us=1000 " .
		   "mode=change fault\n", 'options: --type --period --name --change --fault');
		($st, $ctl) = fake_add($pid, 'g_conf', undef, undef, '--len', '8');
		like($ctl, qr/len=8 type=hex name=g_conf\n/, '--len overrides');
		($st, $ctl) = fake_add($pid, 'g_double', undef, undef, '--len', '4');
		like($ctl, qr/len=4 type=hex /, '--len not fitting the scalar type: hex');
		($st, $ctl) = fake_add($pid, 'g_name', undef, undef, '--len', '4');
		like($ctl, qr/len=4 type=str /, '--len keeps str');
		($st, $ctl, $so) = fake_add($pid, $c->{addr}, undef, undef, '--type', 'u32');
		is($ctl, "add pid=$pid addr=$c->{addr} len=4 type=u32 name=$c->{addr}\n",
		   '0xADDR with --type');
		like($so, qr/^added id=\? name=$c->{addr} /, 'region missing from regions: id ?');
		($st, $ctl, $so, $se) = fake_add($pid, $c->{addr});
		is($st, 2, '0xADDR without length: exit 2');
		like($se, qr/pass --len/, '0xADDR without length: says --len');
		($st, $ctl) = fake_add($pid, 'g_conf+4', undef, undef, '--type', 'u16');
		like($ctl, qr/len=2 type=u16 name=g_conf_4\n/, 'SYMBOL+OFF with --type');
		($st, $ctl) = fake_add($pid, 'libumshost.so.1:lib_counter', undef, undef, '--len',
		   8);
		like($ctl, qr/addr=$t->{sym}{lib_counter}{addr} len=8 type=u64 /,
		     'OBJECT with soname version');
	}
	stop_target($t);
}

# ---- argument errors ----
my @usage = (
	[ [qw(add)], qr/expected PID and TARGET/ ],
	[ [qw(add 1)], qr/expected PID and TARGET/ ],
	[ [qw(add 1 x --period 5)], qr/bad --period '5'/ ],
	[ [qw(add 1 x --period 2h)], qr/bad --period/ ],
	[ [qw(add 1 x --period 0ms)], qr/bad --period/ ],
	[ [qw(add 1 x --type u128)], qr/unknown type 'u128'/ ],
	[ [qw(add 1 x --len 0)], qr/bad --len/ ],
	[ [qw(add 1 x --len 8 --type u32)], qr/does not match --type u32/ ],
	[ [qw(add 1 x --name r12)], qr/bad --name 'r12'/ ],
	[ [qw(add 1 x --name), 'a b'], qr/bad --name/ ],
	[ [qw(add 0 x)], qr/bad PID/ ],
	[ [qw(add abc x)], qr/bad PID/ ],
	[ [qw(add 1 x --bogus)], qr/unrecognized option/ ],
	[ [qw(del)], qr/give regions, --pid PID or --all/ ],
	[ [qw(del 1 --all)], qr/give regions/ ],
	[ [qw(del bad!name)], qr/bad region id or name/ ],
	[ [qw(del --pid x)], qr/bad --pid/ ],
	[ [qw(list extra)], qr/unexpected argument/ ],
	[ [qw(stats extra)], qr/unexpected argument/ ],
	[ [qw(watch --interval 1us)], qr/bad --interval/ ],
	[ [qw(watch --count 0)], qr/bad --count/ ],
	[ [qw(frobnicate)], qr/unknown command 'frobnicate'/ ],
	[ [], qr/usage: umsampler COMMAND/ ],
);
for my $u (@usage) {
	my ($st, $so, $se) = run(@{$u->[0]});
	is($st, 2, "usage error: umsampler @{$u->[0]}: exit 2");
	like($se, $u->[1], "usage error: umsampler @{$u->[0]}: message");
}
for my $c (qw(add list del stats watch)) {
	my ($st, $so) = run($c, '--help');
	is($st, 0, "$c --help: exit 0");
	like($so, qr/^usage: umsampler $c/, "$c --help: usage on stdout");
}
{
	my ($st, $so) = run('--help');
	ok($st == 0 && $so =~ /add PID TARGET/, '--help');
}

# ---- module not loaded, no process ----
{
	local $ENV{UMSAMPLER_DEBUGFS} = "$fake/missing";
	for my $c ([qw(list)], [qw(stats)], [qw(del 1)], [qw(watch --count 1)],
		   [qw(add 1 counter)]) {
		my ($st, $so, $se) = run(@$c);
		is($st, 1, "no module: @$c: exit 1");
		like($se, qr/umsampler module not loaded: sudo modprobe umsampler \/ insmod/,
		     "no module: @$c: says so");
	}
}
{
	my ($st, $ctl, $so, $se) = fake_add(4194303, 'counter');
	is($st, 1, 'no such process: exit 1');
	like($se, qr/no such process 4194303/, 'no such process: message');
}

# ---- list / del / stats / watch on the fake directory ----
wfile("$fake/regions", $HEADER .
      "2 177 0x55c218e98b90 4 1000 u32 always counter 694 0 694\n" .
      "5 177 0x55c218e98c00 64 10000 hex change blob 10 3 4\n" .
      "9 180 0x7f0000001000 8 2000000 f64 always ratio 0 0 0\n");
wfile("$fake/values/counter", "5873\n");
wfile("$fake/values/blob", ('ab' x 64) . "\n");
wfile("$fake/values/ratio", '');
{
	my ($st, $so, $se) = run('list');
	is($st, 0, 'list: exit 0');
	my @l = split /\n/, $so;
	is(scalar @l, 4, 'list: header + 3 lines');
	like($l[0], qr/^\s*ID\s+NAME\s+PID\s+ADDR\s+LEN\s+TYPE\s+PERIOD\s+MODE\s+
		       SAMPLES\s+PARTIAL\s+VALUE$/x,
	     'list: header');
	like($l[1], qr/^\s*2 counter\s+177 0x55c218e98b90\s+4 u32\s+1ms always\s+694\s+0  5873$/,
	     'list: counter line');
	like($l[2], qr/^\s*5 blob .* 64 hex\s+10ms change\s+10\s+3  (ab){18}a\.\.\.$/,
	     'list: long value cut');
	like($l[3], qr/^\s*9 ratio .* f64\s+2s always\s+0\s+0  -$/, 'list: no sample yet');
	($st, $so) = run('list', '--wide');
	like($so, qr/  (ab){64}$/m, 'list --wide: whole value');
	# a chain added by `umsampler add` (its expression in the state file) and one that was not
	make_path("$fake/state");
	wfile("$fake/state/targets", "3 177 head-_value head->value\n4 999 other x->y\n");
	wfile("$fake/regions", $HEADER .
	      "3 177 0x601040 8 1000 u64 always head-_value 5 0 5 off thread 16 -\n" .
	      "4 177 0x601050 4096 10000 hex always blk 5 0 5 off thread - -8\n");
	wfile("$fake/values/head-_value", "11\n");
	wfile("$fake/values/blk", "00\n");
	($st, $so) = run('list');
	my @c = split /\n/, $so;
	is(scalar @c, 5, 'list: chained regions get a second line');
	like($c[2], qr/^\s+head->value = 0x601040 deref=16$/,
	     'list: the expression it was added from, the base and the offsets');
	like($c[4], qr/^\s+0x601050 seq=-8$/, 'list: a seq region (no recorded expression; another pid\'s entry ignored)');
	($st, $so) = run('watch', '--count', '1');
	like($so, qr/^head->value\s+177 u64\s+11\s/m, 'watch: shown by its expression');
	wfile("$fake/regions", $HEADER);
	($st, $so) = run('list');
	is($so, "no regions\n", 'list: no regions');
}
for my $d ([ [qw(del 3)], "del 3\n" ], [ [qw(del counter)], "del name=counter\n" ],
	   [ [qw(del 3 counter)], "del 3\ndel name=counter\n" ],
	   [ [qw(del --pid 55)], "del pid=55\n" ], [ [qw(del --all)], "clear\n" ]) {
	wfile("$fake/control", '');
	my ($st, $so) = run(@{$d->[0]});
	is($st, 0, "@{$d->[0]}: exit 0");
	is(rfile("$fake/control"), $d->[1], "@{$d->[0]}: control");
}
wfile("$fake/stats", "ticks 100\nsamples 250\nlate_max_ns 1500000\ncpu_ns 12\n");
wfile("$fake/enabled", "1\n");
{
	my ($st, $so) = run('stats');
	is($st, 0, 'stats: exit 0');
	is($so, "ticks          100\nsamples        250\nlate_max_ns    1500000 (1.5 ms)\n" .
	   "cpu_ns         12\nenabled        1\n", 'stats: output');
}
{
	wfile("$fake/regions", $HEADER .
	      "2 177 0x55c218e98b90 4 1000 u32 always counter 694 0 694\n" .
	      "5 177 0x55c218e98c00 64 10000 hex change blob 10 3 4\n");
	wfile("$fake/values/counter", "1000\n");
	# a writer bumps the counter by 100 every 10 ms while watch runs
	my $w = fork // die;
	if (!$w) {
		for my $i (1 .. 100) {
			select(undef, undef, undef, 0.01);
			wfile("$fake/values/counter.tmp", (1000 + 100 * $i) . "\n");
			rename("$fake/values/counter.tmp", "$fake/values/counter");
		}
		exit 0;
	}
	my ($st, $so, $se) = run('watch', '--interval', '200ms', '--count', '3');
	waitpid($w, 0);
	is($st, 0, 'watch --count 3: exit 0');
	my @blocks = split /\n\n/, $so;
	is(scalar @blocks, 3, 'watch: 3 blocks');
	my $hdr = qr/^=== \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ===\n/;
	like($blocks[0], qr/${hdr}NAME\s+PID\s+TYPE\s+VALUE\s+RATE\/s\s+SAMPLES\s+PARTIAL\n
			    counter\s+177\ u32\s+\d+\s+-\s+694\s+0\n
			    blob\s+177\ hex\s+(ab){8}/x,
	     'watch: first block (no rate yet)');
	my ($rate) = $blocks[2] =~ /^counter\s+177 u32\s+\d+\s+([\d.e+]+)\s/m;
	ok(defined $rate && $rate > 0 && $rate < 1e6,
	   'watch: rate of change (' . ($rate // 'none') . '/s)')
		or diag($so);
	($st, $so) = run('watch', '--count', '1', 'blo*');
	unlike($so, qr/^counter/m, 'watch NAME glob: only matching regions');
	like($so, qr/^blob/m, 'watch NAME glob: shows the match');
}

done_testing();
