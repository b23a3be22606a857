#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 63-mirror.t - mirror mode (`add ... mirror`, module/mirror.c):
#  - a mirrored region is sampled by its hrtimer in hard irq (the trace's irq
#    flag `h`), not by the umsampler thread; `regions` and `snapshot` say
#    mirror=on path=mirror; values follow the target's writes;
#  - the mirror follows every change of the target's page tables: COW after
#    fork, MADV_DONTNEED then refault, munmap + mmap at the same address,
#    move_pages(2) to the other NUMA node (the page really moves, sampling
#    goes on from the new page), swap-out (MADV_PAGEOUT to a zram swap
#    device: the page really leaves memory) and swap-in, KSM merging the
#    region's two pages into one frame and the COW break of a write,
#    mprotect, mremap away, exec, exit. Every
#    sample whose deadline is after the change completed equals what
#    /proc/PID/mem reads afterwards (zeroes and `partial` where nothing
#    readable is mapped): never a byte of a page the target no longer maps;
#  - one clock for all mirrors: regions due at one deadline are taken in one
#    hrtimer callback (stats mirror_expiries against mirror_samples);
#  - a page absent at the add (never touched) is mirrored once it appears;
#  - pausing sampling stops the mirrors too, resuming hands them back;
#  - bad input: `mirror` twice (EINVAL), over mirror_budget alone (E2BIG) or
#    with the other mirrored regions (ENOSPC);
#  - rmmod with mirrored regions active is clean (the log scanner fails the
#    run on any WARN, lockdep, KASAN or sleeping-in-atomic report).
# Wants two NUMA nodes for move_pages (scripts/vmrun --numa); skips that part
# with one. Kernels without CONFIG_MMU_NOTIFIER refuse `mirror` (EOPNOTSUPP):
# then only that is checked.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Errno qw(EINVAL E2BIG ENOSPC EOPNOTSUPP);
use Test::More;
use Time::HiRes qw(sleep time clock_gettime CLOCK_MONOTONIC);
use Ums;

my $TR = $Ums::TRACE;
my $P_US = 50000;		# period of the checked regions
my $P_NS = $P_US * 1000;
my @targets;

END { Ums::_wr("$TR/trace_clock", 'local'); ums_cleanup(@targets); swap_off() }

sub mono_ns { return int(clock_gettime(CLOCK_MONOTONIC) * 1e9) }

# LEN bytes of PID's memory at ADDR, as /proc/PID/mem reads them (undef: unreadable).
sub mem {
	my ($pid, $addr, $len) = @_;
	open(my $fh, '<:raw', "/proc/$pid/mem") or return undef;
	sysseek($fh, $addr, 0) or return undef;
	my $n = sysread($fh, my $b, $len);
	return defined $n && $n == $len ? $b : undef;
}

sub region_field { my ($n, $f) = @_; return (region_by_name($n) // {})->{$f} // '' }

sub mirror_on {
	my ($n, $timeout) = @_;
	return wait_for(sub {
		my $r = region_by_name($n) // return 0;
		return $r->{mirror} eq 'on' && $r->{path} eq 'mirror';
	}, $timeout // 10);
}

# A zram swap device (module or built in): '' when swap is on, else why not.
my $zram_swap;
sub swap_on {
	system('modprobe zram num_devices=1 >/dev/null 2>&1') unless -e '/sys/block/zram0';
	return 'no zram device' unless -e '/sys/block/zram0';
	Ums::_wr('/sys/block/zram0/disksize', '32M') or return 'cannot size zram0';
	system('mkswap /dev/zram0 >/dev/null 2>&1') == 0 or return 'mkswap failed';
	system('swapon /dev/zram0') == 0 or return 'swapon failed';
	$zram_swap = 1;
	return '';
}

sub swap_off { system('swapoff /dev/zram0') if $zram_swap; $zram_swap = 0 }

# SwapCached of /proc/meminfo, in kB, with the per-CPU counters folded in
# first (vm/stat_refresh): a single page is below their batching threshold.
sub swap_cached {
	Ums::_wr('/proc/sys/vm/stat_refresh', 1);
	return (rd('/proc/meminfo') // '') =~ /^SwapCached:\s+(\d+)/m ? $1 : -1;
}

# Sample events of the trace: { ts (ns), comm, flags (irq column), id, seq, late_ns, flags, data }.
sub events {
	my @ev;
	for (trace_lines()) {
		next unless /^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(\S+)\s+(\d+)\.(\d+):\s+sample:\s+(.*)$/;
		my $f = event_fields($7);
		$f->{comm} = $1;
		$f->{irq} = $4;
		$f->{ts} = $5 * 1_000_000_000 + substr($6 . '000000000', 0, 9);
		push @ev, $f;
	}
	return @ev;
}

# The deadline a sample event was taken for: its copy started at or after it.
# time_ns = deadline + late_ns <= ts, and deadlines are multiples of the
# period after the first sample, so this is exact as long as an event follows
# its copy by less than a period.
sub deadline_of {
	my ($e) = @_;
	my $t = $e->{ts} - $e->{late_ns};
	return $t - $t % $P_NS;
}

ums_load('unmapped_limit=100000');
ok(Ums::_wr("$TR/trace_clock", 'mono'), 'trace clock: CLOCK_MONOTONIC, as ours');
my $nb = rd('/proc/sys/kernel/numa_balancing');
Ums::_wr('/proc/sys/kernel/numa_balancing', '0') if defined $nb;

my $t = Ums::target('--tick-us', 1000);
push @targets, $t;
my $pid = $t->pid;
my $page = $t->{var}{page}{addr};
my $two = $t->{var}{two}{addr};

# --- no notifier on this kernel ------------------------------------------------
if (ctl_errno($t->add_line('page', len => 64, name => 'probe', mirror => 1) . "\n") == EOPNOTSUPP) {
	like(rd('control'), qr/no CONFIG_MMU_NOTIFIER/, 'mirror refused: the kernel has no MMU notifiers');
	done_testing();
	exit 0;
}
ctl("del name=probe\n");

# --- bad input ------------------------------------------------------------------
{
	my $base = $t->add_line('page', len => 64, name => 'bad');
	is(errname(ctl_errno("$base mirror mirror\n")), 'EINVAL', '`mirror` twice: EINVAL');
	like(rd('control'), qr/duplicate key 'mirror'/, '... named');
	is(errname(ctl_errno("$base mirror=1\n")), 'EINVAL', '`mirror=1`: EINVAL');
	is(errname(ctl_errno($t->add_line('big', name => 'bad', mirror => 1) . "\n")), 'E2BIG',
	   'a region over mirror_budget (10000 > 4096 bytes): E2BIG');
	like(rd('control'), qr/mirror: len 10000 exceeds mirror_budget \(4096 bytes\)/, '... with the reason');
	Ums::set_param('mirror_budget', 100);
	ctl($t->add_line('page', len => 64, name => 'b1', mirror => 1) . "\n");
	is(errname(ctl_errno($t->add_line('two', len => 64, name => 'b2', mirror => 1) . "\n")), 'ENOSPC',
	   'mirrored regions over mirror_budget together (128 > 100): ENOSPC');
	like(rd('control'), qr/mirrored regions would copy 128 bytes per expiry, over mirror_budget \(100\)/,
	     '... with the reason');
	ok(!region_by_name('b2'), '... and nothing added');
	ctl("del name=b1\n");
	is(errname(ctl_errno($t->add_line('two', len => 64, name => 'b2', mirror => 1) . "\n")), 'OK',
	   'a deleted mirror gives its budget back');
	Ums::set_param('mirror_budget', 0);
	is(errname(ctl_errno($t->add_line('page', len => 1, name => 'b3', mirror => 1) . "\n")), 'E2BIG',
	   'mirror_budget 0: no mirror');
	Ums::set_param('mirror_budget', 4096);
	ctl("clear\n");
	is(scalar(regions()), 0, 'nothing left');
}

# --- steady state: hard irq, not the thread ---------------------------------------
ctl($t->add_line('page', len => 64, name => 'mp', period_us => $P_US, mirror => 1) . "\n" .
    sprintf("add pid=%d addr=0x%x len=64 name=mtwo period_us=%d mirror\n", $pid, $two + 4096 - 32, $P_US) .
    $t->add_line('counter', name => 'mcnt', period_us => 1000, mirror => 1) . "\n" .
    $t->add_line('counter', name => 'tcnt', period_us => 1000) . "\n");
ok(mirror_on($_), "$_: mirror on, latest sample by the mirror") for qw(mp mtwo mcnt);
is(region_field('tcnt', 'mirror'), 'off', 'a region without `mirror`: MIRROR off');
is(region_field('tcnt', 'path'), 'thread', '... PATH thread');
my $snap = snapshot();
is("$snap->{mp}{mirror} $snap->{mp}{path}", 'on mirror', 'snapshot: mirror=on path=mirror');
is("$snap->{tcnt}{mirror} $snap->{tcnt}{path}", 'off thread', 'snapshot: mirror=off path=thread');
is(rd('raw/mp'), mem($pid, $page, 64), 'raw/mp equals /proc/PID/mem');
is(rd('raw/mtwo'), mem($pid, $two + 4096 - 32, 64), 'raw/mtwo (two pages) equals /proc/PID/mem');
{
	my $v0 = rd('values/mcnt');
	my $s0 = stats();
	sleep 0.5;
	cmp_ok(rd('values/mcnt'), '>', $v0, 'the mirrored counter moves');
	cmp_ok(stats()->{mirror_samples}, '>', $s0->{mirror_samples}, 'stats: mirror_samples grows');
	my %id = map { $_ => region_field($_, 'id') } qw(mcnt tcnt);
	trace_on(sample => "id == $id{mcnt} || id == $id{tcnt}");
	sleep 1;
	my @ev = events();
	trace_off();
	my @m = grep { $_->{id} == $id{mcnt} } @ev;
	my @th = grep { $_->{id} == $id{tcnt} } @ev;
	# a loaded TCG host runs the guest's vCPUs for a fraction of the second: 213 of 1000 seen
	cmp_ok(scalar @m, '>=', 20, sprintf('mirrored counter: %d events in 1 s at 1 ms', scalar @m));
	my @gap = grep { $m[$_]{seq} != $m[$_ - 1]{seq} + 1 } 1 .. $#m;
	is(scalar @gap, 0, 'one event per sample, none lost or repeated (consecutive seq)')
		or diag("seq $m[$gap[0] - 1]{seq} then $m[$gap[0]]{seq}");
	my @noth = grep { $_->{irq} !~ /[hH]/ } @m;
	is(scalar @noth, 0, 'every mirror sample event fired in hard irq (flag h)')
		or diag("e.g. $noth[0]{comm} $noth[0]{irq}");
	# the timer may interrupt the thread itself: then comm is umsampler, flag h
	my @bythread = grep { $_->{comm} eq 'umsampler' && $_->{irq} !~ /[hH]/ } @m;
	is(scalar @bythread, 0, 'none emitted by the umsampler thread');
	cmp_ok(scalar @th, '>=', 50, 'the thread-path counter has events too');
	is(scalar(grep { $_->{comm} ne 'umsampler' || $_->{irq} =~ /[hH]/ } @th), 0,
	   'thread-path events come from the umsampler thread, not in hard irq');
}

# --- one clock: regions due at one deadline cost one interrupt --------------------
{
	# mcnt and eight more mirrored regions at 1 ms (mp, mtwo: at 50 ms, same deadlines)
	ctl(join('', map { $t->add_line('counter', name => "m1k$_", period_us => 1000, mirror => 1) . "\n" }
		 1 .. 8));
	ok(mirror_on("m1k$_"), "m1k$_: mirror on") for 1 .. 8;
	my $s0 = stats();
	sleep 1;
	my $s1 = stats();
	my $n = $s1->{mirror_samples} - $s0->{mirror_samples};
	my $x = $s1->{mirror_expiries} - $s0->{mirror_expiries};
	# 9 regions per deadline: 9 samples per expiry, minus build and handback noise
	cmp_ok($x, '>', 0, "stats: mirror_expiries grows ($x)");
	cmp_ok($n, '>=', 4 * $x, "$n mirror samples in $x expiries: the due regions share one callback");
	ctl(join('', map { "del name=m1k$_\n" } 1 .. 8));
}

# --- every change of the page tables ------------------------------------------------
my %id = map { $_ => region_field($_, 'id') } qw(mp mtwo);
trace_on(sample => "id == $id{mp} || id == $id{mtwo}");

# Run CMD in the target; then every sample of region NAME (at ADDR) whose
# deadline follows the answer must equal what /proc/PID/mem reads afterwards
# (zeroes and partial if nothing readable is there; `unreadable`: what
# umsampler may not read, although /proc/PID/mem, with FOLL_FORCE, reads it).
# `pre`: the mirror was on before (so following the change was its job);
# `on`: it is on again afterwards. Returns the answer.
sub change {
	my ($what, $cmd, $name, $addr, %o) = @_;
	ok(mirror_on($name), "$what: $name mirrored before") if $o{pre};
	trace_clear();
	my $ans = $t->cmd($cmd);
	my $t1 = mono_ns();
	like($ans, qr/^ok/, "$what: '$cmd' done") or diag($ans);
	# wait for at least 3 samples after the change
	my $s0 = region_field($name, 'samples');
	wait_for(sub { region_field($name, 'samples') >= $s0 + 4 }, 10);
	my $want = $o{unreadable} ? undef : mem($pid, $addr, 64);
	my $partial = !defined $want;
	$want //= "\0" x 64;
	my @after = grep { $_->{id} == $id{$name} && deadline_of($_) > $t1 } events();
	cmp_ok(scalar @after, '>=', 2, "$what: $name sampled after it");
	my @bad = grep { $_->{data} ne $want } @after;
	is(scalar @bad, 0, "$what: every later $name sample equals /proc/PID/mem" .
	   ($partial ? ' (nothing readable: zeroes)' : '')) or
		diag(sprintf('%d of %d differ; first seq %d late %d path %s: %s', scalar @bad, scalar @after,
			     $bad[0]{seq}, $bad[0]{late_ns}, $bad[0]{comm}, unpack('H*', $bad[0]{data})));
	# a dropped page reads as zeroes, partial until /proc/PID/mem (above) faulted it in
	my @pflag = grep { ($_->{flags} =~ /partial/ ? 1 : 0) != ($partial ? 1 : 0) } @after;
	is(scalar @pflag, 0, "$what: partial flag " . ($partial ? 'set' : 'clear'))
		unless $o{dropped};
	if ($o{on}) {
		ok(mirror_on($name), "$what: $name mirrored again") or
			diag(join(' ', %{region_by_name($name) // {}}));
	}
	return $ans;
}

change('write', 'fill page 0x11', 'mp', $page, pre => 1, on => 1);
{
	my $h0 = stats()->{mirror_handbacks};
	is(region_field('mp', 'mirror'), 'on', 'a plain write keeps the mirror');
	my $child = ($t->cmd('fork') =~ /^ok child (\d+)/)[0];
	ok($child, 'forked a child sharing the page');
	cmp_ok(stats()->{mirror_handbacks}, '>', $h0, 'fork write-protected the page: the mirror was handed back');
	change('COW after fork', 'fill page 0x22', 'mp', $page, pre => 1, on => 1);
	is(mem($child, $page, 64), chr(0x11) x 64, "the child still has the old page");
	kill 'KILL', $child;
}
change('MADV_DONTNEED', 'dontneed page', 'mp', $page, pre => 1, dropped => 1);
change('refault', 'touch page', 'mp', $page);
change('write after refault', 'fill page 0x33', 'mp', $page, on => 1);
change('munmap + mmap at the same address', 'remap page 0x44', 'mp', $page, pre => 1, on => 1);

SKIP: {
	skip 'one NUMA node (run with scripts/vmrun --numa)', 15 unless -d '/sys/devices/system/node/node1';
	my ($before) = $t->cmd('node page') =~ /^ok node (-?\d+)/;
	is($before, 0, 'the page is on node 0');
	my $ans = change('move_pages to node 1', 'move page 1', 'mp', $page, pre => 1, on => 1);
	like($ans, qr/^ok move 1$/, 'move_pages status: node 1');
	is(($t->cmd('node page') =~ /^ok node (-?\d+)/)[0], 1, 'the page is now on node 1');
	change('write after the move', 'fill page 0x55', 'mp', $page, pre => 1, on => 1);
}

change('mprotect none', 'mprotect page none', 'mp', $page, pre => 1, unreadable => 1);
is(region_field('mp', 'mirror'), 'stale', 'unreadable: the thread samples it (MIRROR stale)');
change('mprotect rw', 'mprotect page rw', 'mp', $page, on => 1);
change('pages two: write', 'fill two 0x66', 'mtwo', $two + 4096 - 32, pre => 1, on => 1);
change('pages two: one of them dropped', 'dontneed two 1', 'mtwo', $two + 4096 - 32, pre => 1, dropped => 1);
change('pages two: refault', 'fill two 0x77', 'mtwo', $two + 4096 - 32, on => 1);
# --- swap-out and swap-in of a mirrored page (zram swap) --------------------------------
SKIP: {
	my $why = swap_on();
	skip "no swap: $why", 13 if $why;
	change('before swap-out', 'fill page 0x5a', 'mp', $page, pre => 1, on => 1);
	trace_clear();
	my $h0 = stats()->{mirror_handbacks};
	my $sc0 = swap_cached();
	is($t->cmd('pageout page'), 'ok pageout', 'MADV_PAGEOUT of the mirrored page');
	my $t1 = mono_ns();
	my $pm = pagemap_entry($pid, $page);
	ok($pm && $pm->{swapped} && !$pm->{present}, 'the page was swapped out') or diag(explain($pm));
	# zram writes synchronously: reclaim then frees the page, unless a reference
	# held it (it would stay in the swap cache)
	cmp_ok(swap_cached(), '<=', $sc0, 'and freed, not kept in the swap cache: the mirror held no reference');
	cmp_ok(stats()->{mirror_handbacks}, '>', $h0, 'reclaim invalidated the mirror: handed back');
	my $s0 = region_field('mp', 'samples');
	ok(wait_for(sub { region_field('mp', 'samples') >= $s0 + 4 }, 10), 'sampled while swapped out');
	is(region_field('mp', 'mirror'), 'stale', 'swapped out: MIRROR stale (nothing resident to mirror)');
	my @after = grep { $_->{id} == $id{mp} && deadline_of($_) > $t1 } events();
	cmp_ok(scalar @after, '>=', 2, 'events while swapped out');
	my @bad = grep { $_->{data} ne "\0" x 64 || $_->{flags} !~ /partial/ } @after;
	is(scalar @bad, 0, 'every sample while swapped out: zeroes, partial (never the old frame\'s bytes)')
		or diag("seq $bad[0]{seq} flags $bad[0]{flags}: " . unpack('H*', $bad[0]{data}));
	change('swap-in', 'touch page', 'mp', $page, on => 1);
	is(rd('raw/mp'), chr(0x5a) x 64, 'swapped back in: the same bytes, from the mirror');
	swap_off();
}

# --- KSM merges the mirrored pages, then a write breaks the merge ------------------------
SKIP: {
	my $KSM = '/sys/kernel/mm/ksm';
	skip 'no KSM', 7 unless -w "$KSM/run";
	my $a2 = $two + 4096 - 32;
	change('two equal pages', 'fill two 0x3c', 'mtwo', $a2, pre => 1, on => 1);
	my %ksm0 = map { $_ => rd("$KSM/$_") } qw(pages_to_scan sleep_millisecs);
	Ums::_wr("$KSM/$_->[0]", $_->[1]) for [pages_to_scan => 10000], [sleep_millisecs => 10], [run => 1];
	my $h0 = stats()->{mirror_handbacks};
	is($t->cmd('mergeable two'), 'ok mergeable', 'MADV_MERGEABLE of the mirrored pages');
	my $merged = wait_for(sub {
		my ($p0, $p1) = map { pagemap_entry($pid, $two + $_ * 4096) } 0, 1;
		return $p0 && $p1 && $p0->{present} && $p0->{pfn} && $p0->{pfn} == $p1->{pfn};
	}, 60);
	ok($merged, 'KSM merged the two pages into one frame') or diag("pages_sharing " . rd("$KSM/pages_sharing"));
	cmp_ok(stats()->{mirror_handbacks}, '>', $h0, 'the merge invalidated the mirror: handed back');
	ok(mirror_on('mtwo'), 'mirrored again, from the merged page');
	is(rd('raw/mtwo'), chr(0x3c) x 64, '... with the same bytes');
	change('write to a merged page (COW break)', 'fill two 0x3d', 'mtwo', $a2, pre => 1, on => 1);
	Ums::_wr("$KSM/run", 2);
	Ums::_wr("$KSM/$_", $ksm0{$_}) for grep { defined $ksm0{$_} } keys %ksm0;
}

change('mremap away', 'mremap page', 'mp', $page, pre => 1);
is(region_field('mp', 'path'), 'thread', 'nothing mapped: the thread samples it');
trace_off();

# --- a page absent at the add --------------------------------------------------------
{
	ctl($t->add_line('fresh', len => 64, name => 'mf', period_us => 20000, mirror => 1) . "\n");
	ok(wait_for(sub { region_field('mf', 'samples') >= 3 }, 10), 'never-touched page: sampled');
	is(region_field('mf', 'mirror'), 'stale', '... by the thread (nothing to mirror yet)');
	is($t->cmd('fill fresh 0x5a'), 'ok fill', 'the target touches it');
	ok(mirror_on('mf'), 'the thread found it present: mirrored');
	is(rd('raw/mf'), chr(0x5a) x 64, '... with its bytes');
}

# --- exec, exit -------------------------------------------------------------------------
{
	my $e = Ums::target();
	push @targets, $e;
	my $x = Ums::target();
	push @targets, $x;
	ctl($e->add_line('page', len => 64, name => 'me', period_us => 10000, mirror => 1) . "\n" .
	    $x->add_line('page', len => 64, name => 'mx', period_us => 10000, mirror => 1) . "\n");
	ok(mirror_on('me') && mirror_on('mx'), 'two more targets mirrored');
	trace_on(region => undef);
	$e->cmd('exec');
	print { $x->{in} } "exit\n";
	$x->{in}->flush;
	reap_target($x);
	ok(wait_for(sub { !region_by_name('me') && !region_by_name('mx') }, 10), 'exec and exit: regions gone');
	my @gone = map { event_fields($_) } grep { /region: .*op=gone/ } trace_lines();
	my %why = map { $_->{name} => $_->{reason} } @gone;
	is($why{me} // '', 'exec', 'exec: op=gone reason=exec');
	is($why{mx} // '', 'exit', 'exit: op=gone reason=exit');
	trace_off();
	$e->kill;
}

# --- pause and resume ---------------------------------------------------------------------
{
	ok(mirror_on('mcnt'), 'mirrored before the pause');
	is(set_enabled(0), 0, 'sampling paused');
	ok(wait_for(sub { region_field('mcnt', 'mirror') eq 'stale' }, 10),
	   'a pause hands the mirror back to the (paused) thread');
	ok(wait_quiet(), 'no sample is taken while paused, by either path');
	is(set_enabled(1), 0, 'sampling resumed');
	ok(mirror_on('mcnt'), 'the thread samples it and hands it to the mirror again');
}

# --- rmmod with mirrors on ---------------------------------------------------------------
ok(mirror_on('mcnt') && mirror_on('mf'), 'mirrors still on before rmmod');
ok(ums_unload(), 'rmmod with mirrored regions active');
ok(!ums_loaded(), 'module gone');
# (scripts/logscan checks the whole console log too)
my $SPLAT = qr/BUG:|WARNING:|sleeping function called|circular locking|inconsistent lock state|KASAN:|suspicious RCU usage/;
ok(scalar(grep { /$SPLAT/ } dmesg_lines()) == 0, 'kernel log clean')
	or diag(join("\n", grep { /$SPLAT/ } dmesg_lines()));
ok(ums_load(), 'loads again');
ctl($t->add_line('counter', name => 'again', period_us => 1000, mirror => 1) . "\n");
ok(mirror_on('again'), 'and mirrors again');
ums_unload();
Ums::_wr('/proc/sys/kernel/numa_balancing', $nb) if defined $nb;

done_testing();
