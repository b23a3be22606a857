#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 51-record.t - the recording consumers against the real module: `umsampler record --sample`
# (trace-cmd, with sync) + `umsampler csv` give exactly the values a target wrote, with
# names; str, f64 and a 10000-byte hex region (4 chunks) round-trip exactly; the
# libtraceevent plugin decodes values in `trace-cmd report` and `perf script`; the perf
# path (perf record + umsampler-perf.py) gives the same rows as the trace-cmd path for
# the same samples (perf: umsampler:sample; umsampler record: umsampler:batch, the default);
# `umsampler plot` draws a non-blank PNG of the requested size; and a
# recording collected over the network (trace-cmd listen / record -N) decodes too.
#
# Environment: UMS_CLI (default build/tracing/umsampler), UMS_PLUGIN_DIR (default
# build/tracing, holding plugin_umsampler.so), plus Ums.pm's UMS_KO, UMS_PROGS; UMS_KEEP=1
# copies the recordings to $UMS_RESULTS.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::More;
use Ums;

my ($CLI, $PLUGDIR, $PERFPY) = tool_paths();
my $T = '/sys/kernel/tracing';
my $W = '/tmp/ums51';

plan skip_all => "no $CLI (make tools)" unless -x $CLI;
plan skip_all => 'trace-cmd not installed' if system('trace-cmd --help >/dev/null 2>&1') == -1;
my $have_perf = system('perf --version >/dev/null 2>&1') == 0;
my $have_gnuplot = system('gnuplot --version >/dev/null 2>&1') == 0;

system('rm', '-rf', $W);
mkdir $W or die "mkdir $W: $!";
system('ip link set lo up >/dev/null 2>&1');


# Does process $pid have a child (running or zombie)?
sub has_child {
	my ($pid) = @_;
	return grep { slurp($_) =~ /^\d+ \(.*\) \S (\d+) /s && $1 == $pid } glob('/proc/[0-9]*/stat');
}

# Is umsampler:EV (default batch, what umsampler record records) enabled, and tracing on?
sub events_on {
	my ($ev) = @_;
	return slurp("$T/events/umsampler/" . ($ev // 'batch') . "/enable") eq "1\n" &&
	       slurp("$T/tracing_on") eq "1\n";
}

# PNG width, height from the IHDR chunk
sub png_size {
	my ($f) = @_;
	open(my $fh, '<:raw', $f) or return (0, 0);
	my $n = read($fh, my $b, 24);
	close $fh;
	return (0, 0) unless $n == 24 && substr($b, 0, 8) eq "\x89PNG\r\n\x1a\n" &&
			     substr($b, 12, 4) eq 'IHDR';
	return unpack('NN', substr($b, 16, 8));
}

ok(ums_load(), 'insmod');
my $t = Ums::target();
my $pid = $t->pid;
ctl($t->add_line('counter', name => 'counter', period_us => 10000, mode => 'change'));
ctl($t->add_line('str', name => 'greet', period_us => 10000, mode => 'change'));
ctl($t->add_line('f64', name => 'dbl', period_us => 10000, mode => 'change'));
ctl($t->add_line('big', name => 'big', period_us => 250000));

# ---- 1. umsampler record + csv: exact values, names, reassembly ----------------------

# --sample: umsampler:sample events (section 2 checks their rendering; section 4 records
# umsampler:batch, the default)
subtest 'umsampler record --sample + csv: exact values, names, reassembly' => sub {
	my $rec = bg("$W/rec.log", $CLI, 'record', '--sample', '-o', "$W/t.dat", '--duration',
		     '5s');
	ok(wait_for(sub { events_on('sample') }, 120), 'trace-cmd enabled the events') or
		diag(slurp("$W/rec.log"));
	sleep 1;	# record writes `sync` 0.2 s after it sees them enabled
	for my $v (1 .. 20) {
		$t->cmd("set counter $v");
		sleep 0.08;
	}
	$t->cmd('set str he said "hi", ok');
	for my $v ('0.1', '1e300', '-2.5') {
		$t->cmd("set f64 $v");
		sleep 0.08;
	}
	sleep 0.6;	# at least two samples of big with the initial pattern
	$t->cmd('fill big 90');
	is(finish($rec), 0, 'umsampler record exit status') or diag(slurp("$W/rec.log"));
	is(slurp("$W/rec.log"), '', 'umsampler record is quiet without a terminal');
	ok(-s "$W/t.dat", 'trace.dat written');

	is(system($CLI, 'csv', "$W/t.dat", '-o', "$W/t.csv"), 0, 'umsampler csv');
	my @rows = csv_rows(slurp("$W/t.csv"));
	ok(@rows > 20, 'csv has a header and rows') or diag(slurp("$W/t.csv"));
	my @counter = grep { $_->{name} eq 'counter' } @rows;
	is(join(' ', map { $_->{value} } @counter), join(' ', 1 .. 20),
	   'counter: exactly the values the target wrote, in order');
	ok(!grep({ $_->{flags} ne 'changed' || $_->{pid} != $pid || $_->{addr} ne $t->addr('counter') }
		 @counter), 'counter rows: pid, addr, flags');
	my @seqs = map { $_->{seq} } @counter;
	ok(!grep({ $seqs[$_] <= $seqs[$_ - 1] } 1 .. $#seqs), 'seq increases');
	my @greet = grep { $_->{name} eq 'greet' } @rows;
	is(join('|', map { $_->{value} } @greet), '"he said \""hi\"", ok"', 'str exact, CSV-quoted');
	is(join(' ', map { $_->{value} } grep { $_->{name} eq 'dbl' } @rows), '0.1 1e+300 -2.5',
	   'f64 exact shortest decimals');
	my @big = grep { $_->{name} eq 'big' } @rows;
	my $pattern = join('', map { sprintf('%02x', $_ % 251) } 0 .. 9999);
	ok(@big >= 3, 'big sampled') or diag(scalar @big);
	ok(!grep({ length($_->{value}) != 20000 || $_->{flags} =~ /partial/ } @big),
	   'every big sample reassembled from its 4 chunks, 10000 bytes, not partial');
	ok((grep { $_->{value} eq $pattern } @big), 'big: exact initial pattern');
	ok((grep { $_->{value} eq '5a' x 10000 } @big), 'big: exact after fill 0x5a');
};

# ---- 2. the plugin in trace-cmd report ----------------------------------------------

subtest 'the plugin in trace-cmd report' => sub {
	local $ENV{TRACEEVENT_PLUGIN_DIR} = $PLUGDIR;
	my ($rep) = run_out('trace-cmd', 'report', '-i', "$W/t.dat");
	my $re = "region:\\s+op=sync id=\\d+ name=counter pid=$pid addr=0x[0-9a-f]+ length=4 " .
		 'period_us=10000 vtype=u32 mode=change';
	ok($rep =~ /$re/,
	     'trace-cmd report: region event rendered');
	ok($rep =~ qr/sample:\s+name=counter pid=$pid seq=\d+ value=7 flags=changed late_ns=\d+/,
	     'trace-cmd report: name=counter value=7');
	$re = "sample:\\s+name=greet pid=$pid seq=\\d+ " . quotemeta('value="he said \"hi\", ok"') .
	      ' flags=changed';
	ok($rep =~ /$re/,
	     'trace-cmd report: str value');
	ok($rep =~ qr/sample:\s+name=dbl pid=$pid seq=\d+ value=1e\+300 /, 'trace-cmd report: f64');
	my $off = 2 * $Ums::CHUNK;
	ok($rep =~ qr/sample:\s+name=big pid=$pid seq=\d+ value=(5a){$Ums::CHUNK} offset=$off /,
	     'trace-cmd report: chunk of big with its offset');
};

# ---- 3. plot -------------------------------------------------------------------------

subtest 'plot' => sub { SKIP: {
	skip 'gnuplot not installed', 5 unless $have_gnuplot;
	is(system($CLI, 'plot', "$W/t.dat", '-o', "$W/t.png", 'counter', 'dbl', '--title',
		  'umsampler test'), 0, 'umsampler plot');
	my ($w, $h) = png_size("$W/t.png");
	is("${w}x$h", '1200x600', 'PNG 1200x600 (two panels)');
	open(my $gp, '|-', 'gnuplot 2>/dev/null') or die "gnuplot: $!";
	print $gp "set terminal pngcairo size 1200,600\nset output '$W/blank.png'\n" .
		  "set multiplot layout 2,1\nplot [0:1] NaN notitle\nplot [0:1] NaN notitle\n" .
		  "unset multiplot\n";
	close $gp;
	ok(-s "$W/blank.png", 'reference plot without data');
	ok(-s "$W/t.png" > 1.3 * -s "$W/blank.png", sprintf('plot not blank (%d vs %d bytes)',
	   -s "$W/t.png", -s "$W/blank.png"));
	isnt(system("$CLI plot $W/t.dat -o $W/s.png greet 2>/dev/null"), 0,
	     'plot of a str region alone fails (nothing numeric)');
} };

# ---- 4. perf: same rows as trace-cmd for the same samples, plugin in perf script -----

subtest 'perf: same rows as trace-cmd, plugin in perf script' => sub { SKIP: {
	skip 'perf not installed', 9 unless $have_perf;
	# perf runs its workload once the events are enabled (perf_start: until perf_stop)
	my $perf = perf_start($W, 'perf.log', 'sample', "$W/p.data");
	ok($perf, 'perf record running') or diag(slurp("$W/perf.log"));
	my $rec2 = bg("$W/rec2.log", $CLI, 'record', '-o', "$W/c.dat", '--duration', '4s');
	ok(wait_for(\&events_on, 120), 'trace-cmd running alongside');
	sleep 1;
	for my $v (101 .. 110) {
		$t->cmd("set counter $v");
		sleep 0.08;
	}
	$t->cmd('set f64 0.3');
	$t->cmd('set str perf, too');
	is(finish($rec2), 0, 'umsampler record');
	perf_stop($W, $perf) if $perf;
	ok(-s "$W/p.data", 'perf.data written') or diag(slurp("$W/perf.log"));

	my ($pcsv, $prc) = run_out('perf', 'script', '-i', "$W/p.data", '-s', $PERFPY);
	is($prc, 0, 'perf script -s umsampler-perf.py');
	my ($ucsv) = run_out($CLI, 'csv', "$W/p.data");
	ok($ucsv eq $pcsv && length $pcsv, 'umsampler csv perf.data == perf script output');
	my ($ccsv) = run_out($CLI, 'csv', "$W/c.dat");
	my %c = map { ("$_->{id}/$_->{seq}" => $_->{notime}) } csv_rows($ccsv);
	my @p = csv_rows($pcsv);
	my @common = grep { exists $c{"$_->{id}/$_->{seq}"} } @p;
	my @diff = grep { $c{"$_->{id}/$_->{seq}"} ne $_->{notime} } @common;
	ok(@common >= 13 && !@diff, sprintf('perf and trace-cmd rows identical but for time ' .
	   '(%d common, %d differ)', scalar @common, scalar @diff)) or
		diag(join("\n", map { "perf: $_->{line}\ncmd:  " . $c{"$_->{id}/$_->{seq}"} }
			  @diff[0 .. ($#diff < 3 ? $#diff : 3)]));
	is(join(' ', map { $_->{value} } grep { $_->{name} eq 'counter' } @common),
	   join(' ', 101 .. 110), 'both have every counter value, named');

	local $ENV{TRACEEVENT_PLUGIN_DIR} = $PLUGDIR;
	my ($ps) = run_out('perf', 'script', '-i', "$W/p.data");
	ok($ps =~ qr/umsampler:sample: name=counter pid=$pid seq=\d+ value=105 flags=changed/,
	     'perf script with the plugin: decoded values');
} };

# ---- 5. fleet: trace-cmd listen + record -N ------------------------------------------

subtest 'fleet: trace-cmd listen + record -N' => sub {
	mkdir "$W/fleet";
	my $port = 21000 + $$ % 1000;
	# --debug: the listener gives up on a client after 5 s without a message
	# (libtracecmd's MSG_WAIT_MSEC; seen on the KASAN guest: "reading client
	# -110" and an empty .dat); with --debug it waits as long as it takes (and
	# handles the client itself instead of in a forked child).
	my $lis = bg("$W/listen.log", 'trace-cmd', 'listen', '--debug', '-p', $port, '-d', "$W/fleet");
	sleep 2;
	# The recording lasts until the values are set (a flag file), not a
	# fixed time: on a loaded host the set-up can eat a fixed window.
	my $stop = "$W/fleet.stop";
	my $rec3 = bg("$W/rec3.log", 'trace-cmd', 'record', '-N', "localhost:$port", '-e',
		      'umsampler', 'sh', '-c', "sleep 1; until [ -e $stop ]; do sleep 0.1; done; sleep 0.5");
	ok(wait_for(\&events_on, 120), 'trace-cmd record -N running') or
		diag(slurp("$W/rec3.log") . slurp("$W/listen.log"));
	sleep 0.5;
	ctl('sync');
	for my $v (201 .. 205) {
		$t->cmd("set counter $v");
		sleep 0.08;
	}
	put_file($stop, '');
	is(finish($rec3), 0, 'trace-cmd record -N exit status') or diag(slurp("$W/rec3.log"));
	# The listener writes the .dat after the recorder has gone, then reaps
	# its per-CPU readers; SIGINT before that would cut the file short.
	ok(wait_for(sub { !has_child($lis) }, 120), 'trace-cmd listen: connection handled');
	kill('INT', $lis);
	finish($lis);
	my @f = glob("$W/fleet/*.dat");
	is(scalar @f, 1, 'trace-cmd listen wrote one file') or
		diag(slurp("$W/listen.log") . `ls -la $W/fleet`);
	my ($fcsv) = @f ? run_out($CLI, 'csv', $f[0]) : ('');
	is(join(' ', map { $_->{value} } grep { $_->{name} eq 'counter' } csv_rows($fcsv)),
	   join(' ', 201 .. 205), 'network recording: exact counter values, named') or
		diag(substr($fcsv, 0, 600) . `$CLI csv $f[0] 2>&1 >/dev/null | head -5`);
};

$t->kill;
ok(ums_unload(), 'rmmod');
system("cp -r $W $ENV{UMS_RESULTS}/ 2>/dev/null") if $ENV{UMS_KEEP} && $ENV{UMS_RESULTS};
system('rm', '-rf', $W);
done_testing();

END { ums_cleanup() }
