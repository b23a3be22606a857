#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# bench/report.pl - turns the raw RESULT lines of a `make bench` run into the
# Markdown report (REPORT.md, or QUICK.md in quick mode), the gnuplot data and
# PNG plots (bench/plot.gp), and prints the headline table. Computes medians
# and min-max over repetitions, the headline ratios per repetition (contenders
# of one repetition ran back to back), the least-squares cost fits and R².
# Appends bench/analysis.md (hand-written findings) to the full report.
#
# Usage: report.pl --mode quick|medium|full --raw RAW --meta META --out DIR
use strict;
use warnings;
use Getopt::Long;
use List::Util qw(sum min max);
use File::Basename qw(dirname);

my ($mode, $rawf, $metaf, $out) = ('full');
GetOptions('mode=s' => \$mode, 'raw=s' => \$rawf, 'meta=s' => \$metaf, 'out=s' => \$out)
	or die "usage\n";
die "usage: report.pl --mode M --raw RAW --meta META --out DIR\n" unless $rawf && $metaf && $out;
my $bench = dirname(__FILE__);

my %meta;
open my $mf, '<', $metaf or die "$metaf: $!\n";
while (<$mf>) { chomp; my ($k, $v) = split / /, $_, 2; $meta{$k} = $v // '' }
close $mf;

my (@res, @fails, @overbudget);
open my $rf, '<', $rawf or die "$rawf: $!\n";
while (<$rf>) {
	chomp;
	if (/^RESULT /) {
		my %h = map { my ($k, $v) = split /=/, $_, 2; ($k, $v) } grep { /=/ } split / /;
		push @res, \%h;
	} elsif (/^FAIL .*contender=ums-mirror.*(?:exceeds mirror_budget|over mirror_budget)/) {
		push @overbudget, $_;	# refused at the add, as documented: not a harness failure
	} elsif (/^FAIL /) {
		push @fails, $_;
	}
}
close $rf;
die "report.pl: no results in $rawf\n" unless @res;

my @CONT = qw(ums-trace ums-snap ums-mirror-trace ums-mirror-snap ums-batch floor pvr procmem ptrace ums-trace+fifo ums-snap+fifo pvr+fifo ums-chain pvr-chain);
my %LABEL = ('ums-trace' => 'umsampler, events recorded', 'ums-snap' => 'umsampler, events off',
	'floor' => 'floor (debug_floor, recorded)', pvr => 'process_vm_readv poller',
	procmem => '/proc/PID/mem poller', ptrace => 'ptrace poller',
	'ums-mirror-trace' => 'umsampler mirror, events recorded', 'ums-mirror-snap' => 'umsampler mirror, events off',
	'ums-batch' => 'umsampler, recorded as umsampler:batch',
	'ums-chain' => 'umsampler, 2-hop deref chains, events off', 'pvr-chain' => 'process_vm_readv poller, 3 dependent calls',
	'ums-trace+fifo' => 'umsampler recorded, sched_fifo=1',
	'ums-snap+fifo' => 'umsampler events off, sched_fifo=1', 'pvr+fifo' => 'process_vm_readv poller, SCHED_FIFO 1');
my $kernel = $meta{kernel} // '?';
my $ncpu = $meta{ncpu} // '?';
my $accel = ($meta{accel} // 'tcg') =~ s/^(tcg|kvm)/\U$1/r;
my $reps = $meta{reps} // '?';
my $ctx = "kernel $kernel, $ncpu vCPUs, QEMU $accel, $reps reps, median [min–max]";

# --- grouping ---------------------------------------------------------------
sub key { my ($r) = @_; join ',', @$r{qw(contender T R L P)} }
my (%grp, %byrep);
for my $r (@res) {
	next if $r->{set} eq 'profile';
	my $k = ($r->{set} =~ /^maxrate/ ? "$r->{set}:" : '') . key($r);
	push @{ $grp{$k} }, $r;
	$byrep{$k}{ $r->{rep} } = $r;
}

sub med {
	my @v = sort { $a <=> $b } grep { defined && $_ ne 'NA' } @_;
	return undef unless @v;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}
sub stat3 { my @v = grep { defined && $_ ne 'NA' } @_; return @v ? (med(@v), min(@v), max(@v)) : () }

# metric extractors
my %M = (
	cps => sub { $_[0]{cpu_per_sample_ns} },
	# whole machine: what SCHED_IDLE spinners and the targets lost (hard irq included)
	mcps => sub { $_[0]{machine_per_sample_ns} },
	ach => sub { $_[0]{req} > 0 ? 100 * $_[0]{got} / $_[0]{req} : undef },
	p50 => sub { $_[0]{late_p50_ns} eq 'NA' ? undef : $_[0]{late_p50_ns} / 1000 },
	p99 => sub { $_[0]{late_p99_ns} / 1000 },
	pmax => sub { $_[0]{late_max_ns} / 1000 },
	slow => sub { $_[0]{slowdown_pct} },
	rec => sub { $_[0]{got} ? $_[0]{rec_cpu_ns} / $_[0]{got} : undef },
	att => sub { $_[0]{ums_cpu_ns} ? 100 * $_[0]{ums_attach_ns} / $_[0]{ums_cpu_ns} : undef },
	inpass => sub { $_[0]{got} && $_[0]{ums_cpu_ns} ? $_[0]{ums_cpu_ns} / $_[0]{got} : undef },
	# CPU per pass (one period's work over all regions): cpu_ns / (got / N)
	cpp => sub { $_[0]{got} ? $_[0]{cpu_ns} * $_[0]{T} * $_[0]{R} / $_[0]{got} : undef },
);

sub metric {
	my ($k, $m) = @_;
	my $g = $grp{$k} or return ();
	return stat3(map { $M{$m}->($_) } @$g);
}

sub fmt {
	my ($v, $d) = @_;
	return '–' unless defined $v;
	$d //= (abs($v) >= 100 ? 0 : abs($v) >= 10 ? 1 : 2);
	my $s = sprintf("%.${d}f", $v);
	1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/;
	return $s;
}
sub fm3 {
	my (@s) = @_;
	return '–' unless @s;
	return fmt($s[0]) . ' [' . fmt($s[1]) . '–' . fmt($s[2]) . ']';
}

# ratio of metric m between contenders a and b at point (T,R,L,P), per repetition
sub ratio {
	my ($m, $a, $b, $pt) = @_;
	my $ka = "$a,$pt";
	my $kb = "$b,$pt";
	my @r;
	for my $rep (keys %{ $byrep{$ka} // {} }) {
		my $x = $byrep{$ka}{$rep};
		my $y = $byrep{$kb}{$rep} or next;
		my ($vx, $vy) = ($M{$m}->($x), $M{$m}->($y));
		next unless defined $vx && defined $vy && $vy > 0;
		push @r, $vx / $vy;
	}
	return stat3(@r);
}

# --- max sustainable rate ----------------------------------------------------
my (%maxrate, %maxrate10);
for my $set (qw(maxrate maxrate10)) {
for my $c (@CONT) {
	my @pts = sort { $a->{R} <=> $b->{R} } map { @{ $grp{$_} } } grep { /^\Q$set\E:\Q$c\E,/ } keys %grp;
	next unless @pts;
	my ($best, $fail);
	for my $p (@pts) {
		if ($p->{got} * 100 >= $p->{req} * 99) { $best = $p } else { $fail //= $p }
	}
	($set eq 'maxrate' ? \%maxrate : \%maxrate10)->{$c} = {
		best => $best ? $best->{R} * 1e6 / $best->{P} : 0, bestR => $best ? $best->{R} : 0,
		fail => $fail ? $fail->{R} : undef, failach => $fail ? 100 * $fail->{got} / $fail->{req} : undef,
		tested => join(' ', map { $_->{R} } @pts),
		cpu => $best ? $best->{cpu_ns} / ($best->{win_s} * 1e9) * 100 : undef,
		P => $pts[0]{P},
	};
}
}

# --- fits: CPU per pass = a + b*N + c*T over the R and T sweeps -------------
sub lsq {	# rows [y, x1..xk] -> coefficients, R²
	my (@rows) = @_;
	my $k = @{ $rows[0] } - 1;
	my (@A, @y);
	for my $r (@rows) { push @A, [1, @$r[1 .. $k]]; push @y, $r->[0] }
	my $n = $k + 1;
	my @M = map { [ (0) x ($n + 1) ] } 1 .. $n;
	for my $i (0 .. $#A) {
		for my $p (0 .. $n - 1) {
			$M[$p][$_] += $A[$i][$p] * $A[$i][$_] for 0 .. $n - 1;
			$M[$p][$n] += $A[$i][$p] * $y[$i];
		}
	}
	for my $p (0 .. $n - 1) {	# Gauss-Jordan with partial pivoting
		my ($piv) = sort { abs($M[$b][$p]) <=> abs($M[$a][$p]) } $p .. $n - 1;
		@M[$p, $piv] = @M[$piv, $p];
		return () if abs($M[$p][$p]) < 1e-12;
		for my $q (0 .. $n - 1) {
			next if $q == $p;
			my $f = $M[$q][$p] / $M[$p][$p];
			$M[$q][$_] -= $f * $M[$p][$_] for $p .. $n;
		}
	}
	my @c = map { $M[$_][$n] / $M[$_][$_] } 0 .. $n - 1;
	my $ym = sum(@y) / @y;
	my ($ssr, $sst) = (0, 0);
	for my $i (0 .. $#A) {
		my $f = sum(map { $c[$_] * $A[$i][$_] } 0 .. $n - 1);
		$ssr += ($y[$i] - $f)**2;
		$sst += ($y[$i] - $ym)**2;
	}
	return (\@c, $sst > 0 ? 1 - $ssr / $sst : 1);
}

sub pts_of {
	my ($c, $set) = @_;
	my @o;
	for my $k (sort keys %grp) {
		my $g = $grp{$k};
		next unless $g->[0]{contender} eq $c && $g->[0]{set} eq $set;
		my ($cpp) = metric($k, 'cpp');
		push @o, { T => $g->[0]{T}, R => $g->[0]{R}, N => $g->[0]{T} * $g->[0]{R}, cpp => $cpp,
			cps => (metric($k, 'cps'))[0] };
	}
	return sort { $a->{N} <=> $b->{N} } @o;
}

my %fit;
for my $c (@CONT) {
	my @r = pts_of($c, 'R');
	my @t = pts_of($c, 'T');
	my %f;
	if (@r >= 3) {
		my ($co, $r2) = lsq(map { [ $_->{cpp}, $_->{N} ] } @r);
		@f{qw(r_a r_b r_r2 r_n)} = (@$co, $r2, scalar @r) if $co;
	}
	if (@t >= 3) {
		my ($co, $r2) = lsq(map { [ $_->{cpp}, $_->{N} ] } @t);
		@f{qw(t_a t_b t_r2 t_n t_maxN)} = (@$co, $r2, scalar @t, max(map { $_->{N} } @t)) if $co;
		# OLS R² is dominated by the largest N: also the log-log slope (1 = linear)
		my ($lc, $lr2) = lsq(map { [ log($_->{cpp}), log($_->{N}) ] } @t);
		@f{qw(t_slope t_lr2)} = ($lc->[1], $lr2) if $lc;
	}
	if (@r >= 3) {
		my ($lc, $lr2) = lsq(map { [ log($_->{cpp}), log($_->{N}) ] } @r);
		@f{qw(r_slope r_lr2)} = ($lc->[1], $lr2) if $lc;
	}
	if (@r + @t >= 4 && @t >= 2) {
		my ($co, $r2) = lsq(map { [ $_->{cpp}, $_->{N}, $_->{T} ] } @r, @t);
		@f{qw(c_a c_b c_c c_r2)} = (@$co, $r2) if $co;
	}
	$fit{$c} = \%f if %f;
}

# --- plots ------------------------------------------------------------------
sub plotdata {
	my ($file, $set, $xkey, $filter) = @_;
	my @used;
	open my $fh, '>', "$out/$file" or die "$out/$file: $!\n";
	for my $c (@CONT) {
		my @rows;
		for my $k (keys %grp) {
			my $g = $grp{$k};
			next unless $g->[0]{contender} eq $c && $g->[0]{set} eq $set;
			next if $filter && !$filter->($g->[0]);
			my @s = metric($k, 'cps');
			push @rows, [ ($xkey eq 'N' ? $g->[0]{T} * $g->[0]{R} : $g->[0]{$xkey}), @s ] if @s;
		}
		next unless @rows;
		print $fh "# $c\n";
		printf $fh "%s %.1f %.1f %.1f\n", @$_ for sort { $a->[0] <=> $b->[0] } @rows;
		print $fh "\n\n";
		push @used, $c;
	}
	close $fh;
	return @used;
}

my @plots;
sub plot {
	my ($png, $dat, $title, $xlabel, @used) = @_;
	return unless @used;
	my $gp = "$out/.plot.gp";
	open my $g, '>', $gp or die;
	print $g "set terminal pngcairo size 900,560 font 'sans,10' noenhanced\n";
	print $g "set output '$out/$png'\n";
	print $g "set title \"$title\\n$ctx; bars: min–max\"\n";
	print $g "set logscale xy\nset grid\nset key outside right\n";
	print $g "set xlabel '$xlabel'\nset ylabel 'sampler CPU per region-sample (ns)'\n";
	print $g "set offsets graph 0.05, graph 0.05, 0, 0\n";
	my @p;
	for my $i (0 .. $#used) {
		push @p, "'$out/$dat' index $i using 1:2:3:4 with yerrorlines lw 2 title '$LABEL{$used[$i]}'";
	}
	print $g 'plot ', join(", \\\n  ", @p), "\n";
	close $g;
	if (system('gnuplot', $gp) == 0) { push @plots, [ $png, $title ] }
	else { warn "report.pl: gnuplot failed for $png\n" }
	unlink $gp;
}

if ($mode eq 'quick') {
	plot('quick-cost-vs-regions.png', 'quick-regions.dat', 'Cost per region-sample vs regions per target (T=1, L=8 B, P=1 ms)',
		'regions per target (R)', plotdata('quick-regions.dat', 'quick', 'R', sub { $_[0]{L} == 8 && $_[0]{P} == 1000 }));
} else {
	plot('cost-vs-regions.png', 'cost-vs-regions.dat', 'Cost per region-sample vs regions per target (T=1, L=8 B, P=1 ms)',
		'regions per target (R)', plotdata('cost-vs-regions.dat', 'R', 'R'));
	plot('cost-vs-targets.png', 'cost-vs-targets.dat', 'Cost per region-sample vs total regions (T targets x 10 regions, L=8 B, P=10 ms)',
		'total regions (T x R)', plotdata('cost-vs-targets.dat', 'T', 'N'));
	plot('cost-vs-length.png', 'cost-vs-length.dat', 'Cost per region-sample vs region length (T=1, R=16, P=10 ms)',
		'region length L (bytes)', plotdata('cost-vs-length.dat', 'L', 'L'));
}

# --- headline ---------------------------------------------------------------
my @H;	# [target, measured, verdict]
# A ratio <= 0 is a cost below the noise of the whole-machine method: no verdict.
sub verdict { my ($v, $ok) = @_; return !defined $v ? 'n/a' : $v <= 0 ? 'noise (≤ 0)' : $ok ? 'met' : 'MISSED' }
my $pt1 = '1,1,8,1000';
my $pt64 = '1,64,8,1000';
my $pt64f = '1,64,8,100';
for my $c (qw(ums-trace ums-snap ums-mirror-trace ums-mirror-snap)) {
	# mirror copies run in hard irq, which schedstat does not see: for them
	# cpu_ns adds the mirror clock's own account of its callbacks (irq_ns)
	for my $m ($c =~ /mirror/ ? (['cps', 'schedstat + mirror clock irq time'], ['mcps', 'whole machine'])
				   : (['cps', 'schedstat'], ['mcps', 'whole machine'])) {
		my @a = ratio($m->[0], $c, 'pvr', $pt1);
		push @H, [ "CPU/region-sample ($m->[1]) $c ÷ pvr, R=1 (≤ 0.33)", fm3(@a), verdict($a[0], ($a[0] // 9) <= 1 / 3) ];
		my @b = ratio($m->[0], $c, 'pvr', $pt64);
		push @H, [ "CPU/region-sample ($m->[1]) $c ÷ pvr, R=64 (≤ 0.10)", fm3(@b), verdict($b[0], ($b[0] // 9) <= 0.1) ];
	}
}
{
	my @a = ratio('cps', 'ums-trace', 'floor', $pt64);
	push @H, [ 'CPU/region-sample ums-trace ÷ floor, R=64 (≤ 2)', fm3(@a), verdict($a[0], ($a[0] // 9) <= 2) ];
	my @b = ratio('p99', 'ums-trace', 'pvr', $pt64);
	push @H, [ 'lateness p99 ums-trace ÷ pvr, P=1 ms, R=64 (≤ 0.20)', fm3(@b), verdict($b[0], ($b[0] // 9) <= 0.2) ];
	my @b1 = ratio('p99', 'ums-trace', 'pvr', $pt1);
	push @H, [ 'lateness p99 ums-trace ÷ pvr, P=1 ms, R=1 (≤ 0.20)', fm3(@b1), verdict($b1[0], ($b1[0] // 9) <= 0.2) ];
	# mirror mode (issue 12): copies in the hrtimer, hard irq
	for my $pt ([$pt1, 1], [$pt64, 64]) {
		my @m = ratio('p99', 'ums-mirror-trace', 'pvr', $pt->[0]);
		push @H, [ "lateness p99 ums-mirror-trace ÷ pvr, P=1 ms, R=$pt->[1] (≤ 0.20)", fm3(@m), verdict($m[0], ($m[0] // 9) <= 0.2) ];
		my @h = ratio('p50', 'ums-mirror-trace', 'ums-trace', $pt->[0]);
		push @H, [ "lateness p50 ums-mirror-trace ÷ ums-trace (thread path), P=1 ms, R=$pt->[1] (≤ 0.50)", fm3(@h), verdict($h[0], ($h[0] // 9) <= 0.5) ];
	}
	for my $m (['cps', 'schedstat'], ['mcps', 'whole machine']) {
		my @a = ratio($m->[0], 'ums-batch', 'pvr', $pt64);
		push @H, [ "CPU/region-sample ($m->[1]) recorded with batching (ums-batch) ÷ pvr, R=64 (≤ 0.10)", fm3(@a), verdict($a[0], ($a[0] // 9) <= 0.1) ];
	}
	for my $m (['cps', 'schedstat'], ['mcps', 'whole machine']) {
		for my $pt ([$pt1, 1], [$pt64, 64]) {
			my @a = ratio($m->[0], 'ums-chain', 'pvr-chain', $pt->[0]);
			push @H, [ "CPU/region-sample ($m->[1]) 2-hop chain: ums-chain ÷ pvr-chain (3 dependent process_vm_readv), R=$pt->[1] (< 1)", fm3(@a), verdict($a[0], ($a[0] // 9) < 1) ] if @a;
		}
	}
	{
		my @a = metric("ums-mirror-snap,$pt64f", 'ach');
		push @H, [ 'ums-mirror-snap holds 10 kHz × 64 regions (achieved ≥ 99 %)', @a ? fm3(@a) . ' %' : '–', verdict($a[0], ($a[0] // 0) >= 99) ];
	}
	# the same with the sampler at SCHED_FIFO 1 (module parameter sched_fifo=1):
	# against the default poller, and against a poller given the same priority
	for my $pv (qw(pvr pvr+fifo)) {
		my @f = ratio('p99', 'ums-trace+fifo', $pv, $pt64);
		push @H, [ "lateness p99 ums-trace+fifo ÷ $pv, P=1 ms, R=64 (≤ 0.20)", fm3(@f), verdict($f[0], ($f[0] // 9) <= 0.2) ]
			if @f;
	}
	for my $c (qw(ums-trace+fifo ums-snap+fifo)) {
		my @f = ratio('cps', $c, 'pvr+fifo', $pt64);
		push @H, [ "CPU/region-sample $c ÷ pvr+fifo, R=64 (≤ 0.10)", fm3(@f), verdict($f[0], ($f[0] // 9) <= 0.1) ] if @f;
	}
	for my $c (qw(ums-trace ums-snap)) {
		my @s = metric("$c,$pt64f", 'slow');
		push @H, [ "target slowdown $c, P=100 µs, R=64 (≤ 1 %)", @s ? fm3(@s) . ' %' : '–',
			verdict($s[0], ($s[0] // 99) <= 1) ];
	}
	for my $mr ([\%maxrate, '1 ms'], [\%maxrate10, '10 ms']) {
	for my $c (qw(ums-snap ums-trace ums-mirror-snap ums-snap+fifo ums-trace+fifo)) {
		my $m = $mr->[0]{$c};
		next if !$m && ($c =~ /fifo/ || $mr->[1] eq '10 ms');
		push @H, [ "max sustainable region-samples/s, $c, P=$mr->[1] (≥ 100,000)",
			!$m ? '–' : $m->{best} ? fmt($m->{best}, 0) . " (R=$m->{bestR}; 1 rep per step)"
			: '< ' . fmt(($m->{fail} // 0) * 1e6 / $m->{P}, 0) . ' (> 1 % missed already at R=' . ($m->{fail} // '?') . ', ' . fmt($m->{failach}, 1) . ' % achieved)',
			verdict($m ? $m->{best} : undef, $m && $m->{best} >= 100000) ];
	}
	}
	for my $c (qw(ums-snap ums-trace)) {
	my $f = $fit{$c} // {};
	push @H, [ "cost linear in regions up to 10,000, $c (R² ≥ 0.98)",
		defined $f->{t_r2} ? sprintf('R² = %.4f over T sweep (N ≤ %s, log-log slope %.2f); R sweep R² = %s', $f->{t_r2}, fmt($f->{t_maxN}, 0),
			$f->{t_slope} // 0, defined $f->{r_r2} ? sprintf('%.4f', $f->{r_r2}) : '–') : 'n/a (full mode only)',
		defined $f->{t_r2} && ($f->{t_maxN} // 0) < 10000 ? 'n/a (largest N measured ' . fmt($f->{t_maxN}, 0) . ')' :
		verdict($f->{t_r2}, ($f->{t_r2} // 0) >= 0.98) ];
	}
}

my $md = '';
my $name = $mode eq 'quick' ? 'QUICK.md' : 'REPORT.md';
$md .= "# umsampler benchmark (`make bench`" . ($mode eq 'quick' ? ' QUICK=1' : $mode eq 'medium' ? ' MEDIUM=1' : '') . ")\n\n";
$md .= "Generated by bench/report.pl from `" . ($rawf =~ s{.*/}{}r) . "`. **All figures are from a QEMU $accel guest** "
	. "(kernel $kernel, $ncpu vCPUs, CPU model \"" . ($meta{cpu} // '?') . "\"): absolute times are those of an "
	. "emulated CPU (roughly 10–50× slower than hardware) and only the ratios between contenders measured in the same run are meaningful.\n\n";
$md .= "| run | |\n|---|---|\n";
$md .= "| mode | $mode ($meta{window_ms} ms window, $meta{baseline_ms} ms baseline, $meta{warmup_ms} ms warm-up per point) |\n";
$md .= "| repetitions | $reps per point unless the tables' n column says otherwise (max-rate search: 1 per step); figures are median [min–max] |\n";
$md .= "| kernel / CPUs / accel | $kernel / $ncpu vCPUs / $accel |\n";
$md .= "| date | " . ($meta{date} // '?') . " |\n";
$md .= "| guest run time | " . ($meta{elapsed_s} // '?') . " s |\n";
$md .= "| host load (shared 2-core host, other QEMU guests) | start: " . ($meta{hostload_start} // '?') . "; end: " . ($meta{hostload_end} // '?') . " |\n";
$md .= "| harness failures | " . scalar(@fails) . " |\n";
$md .= "| note | $meta{note} |\n" if $meta{note};
$md .= "\n";

my $head = "| target | measured (same run, per-repetition ratio: median [min–max]) | verdict |\n|---|---|---|\n";
$head .= "| $_->[0] | $_->[1] | $_->[2] |\n" for @H;
$md .= "## Headline ($ctx)\n\n$head\n";

$md .= "## Method\n\n"
	. "- Workload (bench/umsbench.c): T target processes, each an `mmap`ed array of R adjacent regions of L bytes, "
	. "made resident, then modified in a busy loop (per iteration: a 64-bit increment at each region's start and one byte at a moving offset); "
	. "each target counts its iterations in shared memory = its work rate. Targets are pinned to CPU 0; the sampler "
	. "(umsampler kthread, or the poller process) alone to CPU 1. Under MTTCG every vCPU is a host thread on a shared 2-core host, so activity on "
	. "vCPU 1 also slows vCPU 0: slowdown figures include that emulation artefact and are an upper bound.\n"
	. "- Contenders, all sampling every region every P on absolute, period-aligned CLOCK_MONOTONIC deadlines, skipping whole periods when late:\n"
	. "  - `ums-trace`: umsampler, `umsampler:sample` enabled and recorded by a reader draining `per_cpu/cpu*/trace_pipe_raw` (16 MiB/CPU buffer, polled every 5 ms, pinned with the targets on CPU 0 at nice -20; the event is enabled before the regions are added — enabling it patches kernel text, which makes TCG flush its translations and stalls the guest for tens of ms — and the reader keeps the events it drains during the window) — its CPU is reported separately (\"recorder\") and its interference shows in the slowdown.\n"
	. "  - `ums-snap`: umsampler, events off (debugfs snapshot only).\n"
	. "  - `ums-batch`: the thread path like `ums-trace`, recorded through `umsampler:batch` (one event per span instead of one per region) by the same reader.\n"
	. "  - `ums-mirror-trace`, `ums-mirror-snap`: the same with the regions added with `mirror`: copied in the hrtimer callback in hard irq from notifier-guarded page frames (no thread wake-up, no mm switch). Hard-irq time is charged to whatever task the interrupt hit, so the schedstat column undercounts it: the machine column is the one to compare.\n"
	. "  - `floor`: umsampler with `debug_floor=1` (no target, no mmap lock, no page lookups: copies from a kernel buffer), events enabled and recorded like `ums-trace`.\n"
	. "  - `pvr`: one process, `clock_nanosleep(TIMER_ABSTIME)`, one `process_vm_readv` per target per period with R iovecs into a 16 MiB in-memory ring.\n"
	. "  - `procmem`: `pread` of `/proc/PID/mem` per region (fds kept open).\n"
	. "  - `+fifo`: the same contender with its sampler at SCHED_FIFO priority 1 (umsampler: module parameter `sched_fifo=1`; poller: `sched_setscheduler`).\n"
	. "  - The regions of a target are adjacent, as a struct's fields or an array's elements are: umsampler reads runs of close regions of one target with one user copy of up to a page (`spans` in `stats`), `pvr` reads all R regions with one syscall (R iovecs), `procmem` and `ptrace` go region by region.\n"
	. "  - `ums-chain`, `pvr-chain`: every region behind two pointers (`root[r]` -> `mid[r]` -> region r): umsampler with `deref=0,0`, events off, against a poller that needs three dependent `process_vm_readv` calls per target and period (all roots, then all middle pointers, then the regions, each batch built from the previous answer).\n"
	. "  - `ptrace`: per target per period `PTRACE_SEIZE` + `PTRACE_INTERRUPT` + wait, `PTRACE_PEEKDATA` per 8 bytes, `PTRACE_DETACH`.\n"
	. "- CPU per region-sample: the sampler task's `sum_exec_runtime` (`/proc/PID/schedstat`, the same source for the kthread and the pollers, "
	. "includes wake-up and sleep) over the window ÷ region-samples taken. The module's own `cpu_ns` (time inside sampling passes) and `attach_ns` (its part spent taking and releasing the targets' mmap locks: the attach % column) are reported too.\n"
	. "- Machine ns per region-sample (\"machine\"): what the contender costs the whole machine, hard-irq time included (schedstat cannot see it: Debian's kernels lack IRQ_TIME_ACCOUNTING, so an interrupt's time is charged to whichever task it interrupted). "
	. "A SCHED_IDLE spinner runs on every CPU for the whole point and counts its loops; its speed (loops per ns of its own CPU time) is calibrated in the baseline window (targets running, no sampler). In the window each spinner should get its CPU minus what the workload uses there (all of the sampler's CPU; on the targets' CPU what they left in the baseline); what its loops fall short of that is lost CPU time, plus the targets' lost work rate × the CPU share they had in the baseline; summed, ÷ region-samples. Signed, so noise averages out over repetitions. It also counts what a contender makes others pay (mm switches, cache and TLB misses, host-side effects of TCG), so it is an upper bound of its own CPU.\n"
	. "- Achieved: region-samples taken ÷ requested (window ÷ P × T × R). umsampler: `stats` samples; pollers: their own count.\n"
	. "- Lateness: completion time of a region's copy minus its deadline (umsampler's `late_ns` definition) — umsampler: every recorded event's `late_ns` "
	. "(ums-trace, floor) or `stats` late_p99_ns/late_max_ns (ums-snap: since insmod, p99 up to 19 % high, no p50); pollers: measured after each syscall.\n"
	. "- Slowdown: the targets' iterations/s during the window vs a baseline window just before (no sampler), same process.\n"
	. "- Max sustainable rate: T=1, L=8, P=1 ms, R multiplied (×4 or ×2) until achieved < 99 %; the last R achieving ≥ 99 % × 1000/s.\n"
	. "- umsampler is loaded fresh for every point (`insmod max_regions=…`), so its cumulative stats belong to that point.\n\n";

my @sets = $mode eq 'quick' ? (['quick', 'Quick points (T=1)']) :
	(['R', 'Regions sweep (T=1, L=8 B, P=1 ms)'], ['P', 'Period sweep (T=1, R=64, L=8 B; P=1 ms is in the regions sweep)'],
	 ['L', 'Length sweep (T=1, R=16, P=10 ms)'], ['T', 'Targets sweep (R=10 per target, L=8 B, P=10 ms; paced targets: each iteration is followed by a 1 ms sleep)'],
	 ['fifo', 'SCHED_FIFO: umsampler with sched_fifo=1 (the sampler thread calls sched_set_fifo_low()), the poller with SCHED_FIFO 1 (T=1, L=8 B, P=1 ms)']);
for my $s (@sets) {
	my ($set, $title) = @$s;
	my @keys = grep { $grp{$_}[0]{set} eq $set } keys %grp;
	next unless @keys;
	my %ci = map { $CONT[$_] => $_ } 0 .. $#CONT;
	@keys = sort {
		my ($x, $y) = ($grp{$a}[0], $grp{$b}[0]);
		$x->{P} <=> $y->{P} || $x->{L} <=> $y->{L} || $x->{T} * $x->{R} <=> $y->{T} * $y->{R} || $ci{ $x->{contender} } <=> $ci{ $y->{contender} }
	} @keys;
	$md .= "## $title\n\n$ctx. CPU in ns per region-sample; lateness in µs.\n\n";
	$md .= "| contender | T | R | L | P µs | n | CPU/sample ns | machine ns/sample | achieved % | late p50 µs | late p99 µs | late max µs | slowdown % | recorder ns/sample | in-pass ns/sample (attach %) |\n";
	$md .= "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
	for my $k (@keys) {
		my $g = $grp{$k}[0];
		my @att = metric($k, 'att');
		my @inp = metric($k, 'inpass');
		$md .= '| ' . join(' | ', $g->{contender}, @$g{qw(T R L P)}, scalar @{ $grp{$k} }, fm3(metric($k, 'cps')), fm3(metric($k, 'mcps')), fm3(metric($k, 'ach')),
			fm3(metric($k, 'p50')), fm3(metric($k, 'p99')), fm3(metric($k, 'pmax')), fm3(metric($k, 'slow')),
			$g->{contender} =~ /^(ums-trace|ums-mirror-trace|ums-batch|floor)/ ? fm3(metric($k, 'rec')) : '–',
			@inp ? fmt($inp[0]) . ' (' . fmt($att[0], 0) . ' %)' : '–') . " |\n";
	}
	$md .= "\n";
}

if (%fit) {
	$md .= "## Cost fits (CPU per pass, i.e. per period over all regions, from the medians)\n\n";
	$md .= "Regions sweep: `cpu_per_pass = a + b·R` (T=1, P=1 ms). Targets sweep: `cpu_per_pass = a + b·N` with N = 10·T regions (P=10 ms). "
		. "Combined: `a + b·N + c·T` over both sweeps (b = per-region cost, c = extra per-target cost: mmap lock, syscall, ptrace stop).\n\n";
	$md .= "Ordinary least squares over points spanning 3–4 decades is dominated by the largest point (hence R² near 1 and meaningless, even negative, intercepts); "
		. "the log-log slope of CPU per pass against the number of regions (1.00 = exactly linear, < 1 = fixed per-pass cost amortised) is the better linearity measure.\n\n";
	$md .= "| contender | R sweep: a ns, b ns/region, R²; log-log slope | T sweep: a ns, b ns/region, R² (N ≤); log-log slope | combined: a, b ns/region, c ns/target, R² |\n|---|---|---|---|\n";
	for my $c (@CONT) {
		my $f = $fit{$c} or next;
		$md .= "| $c | " . (defined $f->{r_b} ? sprintf('%s, %s, %.4f; %.2f', fmt($f->{r_a}, 0), fmt($f->{r_b}, 0), $f->{r_r2}, $f->{r_slope} // 0) : '–')
			. ' | ' . (defined $f->{t_b} ? sprintf('%s, %s, %.4f (%s); %.2f', fmt($f->{t_a}, 0), fmt($f->{t_b}, 0), $f->{t_r2}, fmt($f->{t_maxN}, 0), $f->{t_slope} // 0) : '–')
			. ' | ' . (defined $f->{c_b} ? sprintf('%s, %s, %s, %.4f', fmt($f->{c_a}, 0), fmt($f->{c_b}, 0), fmt($f->{c_c}, 0), $f->{c_r2}) : '–')
			. " |\n";
	}
	$md .= "\n";
}

for my $mr ([\%maxrate, 'P=1 ms; R ×4 per step for umsampler and pvr, ×2 for procmem and ptrace'],
	    [\%maxrate10, 'P=10 ms, where a wake-up a few ms late is not a missed period; R ×4 per step']) {
my %maxrate = %{ $mr->[0] };
if (%maxrate) {
	$md .= "## Maximum sustainable rate on one CPU (T=1, L=8 B, $mr->[1]; 1 repetition per step)\n\n";
	$md .= "The last column is the CPU-bound capacity: 1 s ÷ the median CPU per region-sample at the largest R of the regions sweep "
		. "(what one fully busy CPU could sustain if wake-ups were never late), for when the 1 % miss criterion fails on host noise alone.\n\n";
	$md .= "| contender | region-samples/s (achieved ≥ 99 %) | at R | sampler CPU busy % there | first R missing > 1 % (achieved %) | R tested | CPU-bound capacity /s |\n|---|---|---|---|---|---|---|\n";
	for my $c (@CONT) {
		my $m = $maxrate{$c} or next;
		my @big = sort { $b->{R} <=> $a->{R} } grep { $_->{set} eq 'R' && $_->{contender} eq $c } map { $_->[0] } values %grp;
		my ($cps) = @big ? metric(key($big[0]), 'cps') : ();
		$md .= "| $c | " . fmt($m->{best}, 0) . " | $m->{bestR} | " . fmt($m->{cpu}, 0) . ' | '
			. (defined $m->{fail} ? "$m->{fail} (" . fmt($m->{failach}, 1) . ')' : 'none (limit of search)') . " | $m->{tested} | "
			. ($cps ? fmt(1e9 / $cps, 0) . " (R=$big[0]{R})" : '–') . " |\n";
	}
	$md .= "\n";
}
}

$md .= "## Dropped combinations\n\n"
	. "- ptrace with T ≥ 100 targets (stopping 100+ processes every period) and whenever T·R·L/8 > 200,000 PEEKDATA calls per period.\n"
	. "- /proc/PID/mem with T = 1000 (10,000 preads per period).\n"
	. (@overbudget ? "- Mirror contenders whose regions together exceed `mirror_budget` (4096 bytes): refused at the add with E2BIG/ENOSPC, as documented (" . scalar(@overbudget) . " points).\n" : '')
	. ($mode eq 'quick' ? "- Quick mode: only the points above; no length/targets sweeps, no fits, no max-rate search, no profile (run MEDIUM=1 or the full mode).\n" : '')
	. ($mode eq 'medium' ? "- Medium mode: the targets sweep stops at T = 100 (1,000 regions).\n" : '')
	. "\n";

for my $p (@plots) { $md .= "![$p->[1]]($p->[0])\n\n" }

for my $c (qw(ums-snap ums-trace)) {
	my $f = "$out/profile-$c.txt";
	next unless -s $f;
	open my $fh, '<', $f or next;
	my @l = grep { !/^#/ || /Samples|Event count/ } <$fh>;
	close $fh;
	$md .= "## Profile: $c, T=1 R=1024 L=8 P=1 ms (`perf record -a -g`, umsampler thread, self time by symbol)\n\n```\n"
		. join('', @l[0 .. min($#l, 30)]) . "```\n\n";
}

if (-s "$out/profile-ums-mirror.txt" && open(my $fh, '<', "$out/profile-ums-mirror.txt")) {
	my @l = <$fh>;
	close $fh;
	$md .= "## Profile: ums-mirror-snap, T=1 R=64 L=8 P=100 µs (ftrace function_graph of the mirror clock's callback, depth 2: hard irq is out of perf's reach)\n\n```\n"
		. join('', @l[0 .. min($#l, 20)]) . "```\n\n";
}

if (@fails) {
	$md .= "## Harness failures\n\n```\n" . join("\n", @fails) . "\n```\n\n";
}

if ($mode ne 'quick' && -s "$bench/analysis.md") {
	open my $a, '<', "$bench/analysis.md" or die;
	local $/;
	my $t = <$a>;
	$t =~ s/\A<!--.*?-->\n*//s;
	$md .= $t;
}

open my $o, '>', "$out/$name" or die "$out/$name: $!\n";
print $o $md;
close $o;

print "\nHeadline ($ctx; QEMU $accel guest: ratios only are meaningful)\n";
my $w = max(map { length $_->[0] } @H);
printf "  %-${w}s  %s  %s\n", @$_ for @H;
print "\nTables, fits and plots: $out/$name\n";
# Harness failures are reported by the guest's exit status (bench/guest.sh); the report itself was written.
exit 0;
