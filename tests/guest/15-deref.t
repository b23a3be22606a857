#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# 15-deref.t - heap data behind pointers (`deref=`) and copies guarded by the
# target's sequence counter (`seq=`), against tests/progs/umschain.c:
#  - chains of 1 to 8 hops from a global to heap nodes, in a 64-bit target and
#    in a 32-bit static one (-m32 -static: 4-byte pointers); `regions` shows
#    the offsets, snapshot `raddr=` and the event's `addr` the resolved address;
#  - the pointer moved to a new object while the old one stays allocated with
#    its old bytes: every later sample shows the new object, none the old; in
#    mode=change a move to an object with the same bytes is a change;
#  - a NULL hop and a hop into an unmapped page: flags unresolved|partial,
#    data zeroes, values `?`, the region stays (past unmapped_limit) and
#    resolves again when the pointer does; a chain whose base is unmapped is
#    refused at the add (EFAULT);
#  - a writer rewriting a 4 KiB block at full speed (every byte of one update
#    the same): with seq= (relative or absolute) no published copy mixes two
#    updates unless it is flagged torn, and stable ones are published; the same block
#    without seq= shows mixed copies; stats count retries and torn samples;
#  - bad input: deref= empty, not a number, 9 offsets, twice; seq= empty or
#    unaligned; mirror with deref: EINVAL, nothing applied.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use Ums;

END { ums_cleanup() }

ums_load('unmapped_limit=4');
Ums::_wr("$Ums::TRACE/buffer_size_kb", 8192);

# deref offsets from &head to node K's field F: K - 1 times next, then F.
sub hops {
	my ($c, $k, $f) = @_;
	return join(',', ($c->{off}{next}) x ($k - 1), $c->{off}{$f // 'value'});
}

sub snap { return snapshot()->{$_[0]} // {} }

# values/NAME without its newline ('' if absent).
sub val { my $v = rd("values/$_[0]") // ''; chomp $v; return $v }

# The u64 at ADDR in PID, as /proc/PID/mem reads it (undef: unreadable).
sub mem_u64 {
	my ($pid, $addr) = @_;
	open(my $fh, '<:raw', "/proc/$pid/mem") or return undef;
	sysseek($fh, $addr, 0) or return undef;
	my $b;
	return (sysread($fh, $b, 8) // 0) == 8 ? unpack('Q<', $b) : undef;
}

# Wait until region NAME has N more samples than now.
sub more_samples {
	my ($name, $n) = @_;
	my $s0 = region_samples($name);
	return wait_for(sub { region_samples($name) >= $s0 + $n }, 20);
}

# Sample events of region ID with seq >= FROM: { seq => event } (one chunk each).
sub events_from {
	my ($id, $from) = @_;
	return grep { $_->{id} == $id && $_->{seq} >= $from } sample_events();
}

sub chains {
	my ($prog) = @_;
	my $c = Ums::chain_target($prog);
	my $pid = $c->pid;
	my $want_ptr = $prog =~ /32$/ ? 4 : 8;
	is($c->{ptr}, $want_ptr, "$prog: $want_ptr-byte pointers");
	my $head = sprintf('0x%x', $c->{var}{head});

	# --- 1 to 8 hops, one write -------------------------------------------------
	ctl(join('', map { "add pid=$pid addr=$head type=u64 period_us=10000 name=c$_ deref=" .
			   hops($c, $_) . "\n" } 1 .. 8));
	ok(more_samples('c8', 2), 'chains sampled');
	my $s = snapshot();
	for my $k (1 .. 8) {
		is(val("c$k"), $k * 0x1111, "$k hop(s): node ${k}'s value");
		is($s->{"c$k"}{raddr}, $c->{node}{$k} + $c->{off}{value},
		   "$k hop(s): snapshot raddr is node ${k}'s value field");
	}
	my ($r3) = grep { $_->{name} eq 'c3' } regions();
	is("$r3->{deref} $r3->{seq}", hops($c, 3) . ' -', 'regions: DEREF lists the offsets, SEQ -');
	ctl("add pid=$pid addr=$head len=6 type=str period_us=10000 name=cname deref=" .
	    hops($c, 2, 'name') . "\n");
	ok(more_samples('cname', 1), 'a string behind two hops');
	is(val('cname'), 'node2', '... reads node 2\'s name');

	# --- the pointer moves to a new object; the old one keeps its bytes ---------
	trace_on(sample => "id == " . region_by_name('c3')->{id});
	my ($new) = $c->cmd('move 3 0x33333') =~ /^ok move 0x([0-9a-f]+)/;
	ok($new, 'node 3 moved to a new object') or diag('no new address');
	$new = hex($new // 0);
	my $seq0 = snap('c3')->{seq};
	ok(more_samples('c3', 4), 'sampled after the move');
	my @ev = grep { $_->{seq} >= $seq0 + 2 } sample_events();
	cmp_ok(scalar @ev, '>=', 2, 'events after the move');
	is(scalar(grep { $_->{value} != 0x33333 } @ev), 0, 'every later sample shows the new object');
	is(scalar(grep { hex($_->{addr}) != $new + $c->{off}{value} } @ev), 0,
	   '... and carries its address (event addr)');
	is(snap('c3')->{raddr}, $new + $c->{off}{value}, 'snapshot raddr: the new object');
	is(val('c8'), 8 * 0x1111, 'the hops beyond it follow the new node\'s next');
	my $oldv = mem_u64($pid, $c->{node}{3} + $c->{off}{value});
	is($oldv, 3 * 0x1111, 'the old object is still there with its old bytes') if defined $oldv;

	# mode=change: same bytes at a new address is a change
	ctl("add pid=$pid addr=$head type=u64 period_us=10000 mode=change name=cchg deref=" .
	    hops($c, 2) . "\n");
	ok(more_samples('cchg', 3), 'mode=change region sampled');
	my $e0 = region_by_name('cchg')->{emitted};
	ok(more_samples('cchg', 3), '... unchanged for a while');
	is(region_by_name('cchg')->{emitted}, $e0, '... and nothing emitted while unchanged');
	like($c->cmd('move 2 0x2222'), qr/^ok move/, 'node 2 moved, same value');
	ok(wait_for(sub { region_by_name('cchg')->{emitted} > $e0 }, 10),
	   'mode=change: the new address is a change, emitted');
	trace_off();

	# --- NULL and unmapped hops ---------------------------------------------------
	my $u0 = stats()->{unresolved};
	is($c->cmd('null 5'), 'ok null', 'node 4 -> next = NULL');
	ok(more_samples('c8', 6), 'sampled past unmapped_limit (4)');
	$s = snapshot();
	for my $k (5, 8) {
		like($s->{"c$k"}{flags}, qr/unresolved/, "NULL hop: c$k unresolved");
		like($s->{"c$k"}{flags}, qr/partial/, "... and partial");
		is($s->{"c$k"}{raddr}, 0, '... raddr 0');
		is(val("c$k"), '?', "... values/c$k: ?");
		is(rd("raw/c$k"), "\0" x 8, '... data zeroes');
	}
	is(val('c4'), 4 * 0x1111, 'the hops before it still resolve');
	ok(region_by_name('c8'), 'the unresolved regions stay');
	cmp_ok(stats()->{unresolved}, '>', $u0, 'stats: unresolved grows');
	is($c->cmd('restore 5'), 'ok restore', 'pointer restored');
	ok(wait_for(sub { val('c5') eq 5 * 0x1111 && val('c8') eq 8 * 0x1111 }, 10),
	   'resolved again');
	is($c->cmd('bad 1'), 'ok bad', 'head points into an unmapped page');
	ok(more_samples('c2', 6), 'sampled past unmapped_limit');
	$s = snapshot();
	like($s->{c2}{flags}, qr/unresolved/, 'a hop through the unmapped page: unresolved');
	is(val('c2'), '?', '... values: ?');
	unlike($s->{c1}{flags}, qr/unresolved/, 'the chain ending in it resolved ...');
	like($s->{c1}{flags}, qr/partial/, '... to bytes that cannot be read: partial');
	is(val('c1'), '?', '... values: ?');
	ok(region_by_name('c1') && region_by_name('c2'),
	   '... both regions stay (their base, &head, is mapped)');
	is($c->cmd('restore 1'), 'ok restore', 'head restored');
	ok(wait_for(sub { val('c1') eq 0x1111 }, 10), 'resolved again');

	# a chain whose base itself is unmapped: refused at the add
	is(errname(ctl_errno(sprintf("add pid=%d addr=0x1000 type=u64 deref=0 name=nobase\n", $pid))),
	   'EFAULT', 'a chain whose base is unmapped: EFAULT');

	# --- the CLI: expressions through pointers, resolved with DWARF ----------------
	my ($cli) = Ums::tool_paths();
	SKIP: {
		skip "$cli not built", 6 unless -x $cli;
		local $ENV{UMSAMPLER_STATE_DIR} = Ums::tmp_dir("state-$prog");
		my ($st, $so, $se) = run_cli($cli, 'add', $pid, 'head->next->value', '--period', '10ms');
		is($st, 0, "CLI: add $pid 'head->next->value'") or diag($se);
		like($so, qr/ deref=$c->{off}{next},$c->{off}{value} /, '... deref= from DWARF offsets');
		ok(more_samples('head-_next-_value', 2), '... sampled');
		is(val('head-_next-_value'), 2 * 0x1111, '... node 2\'s value (type u64 from DWARF)');
		($st, $so) = run_cli($cli, 'list');
		like($so, qr/^\s+head->next->value = $head deref=/m, 'CLI list: shows the expression');
		($st, $so, $se) = run_cli($cli, 'add', $pid, 'head->value->x');
		is($st, 1, "CLI: 'head->value->x' (not a pointer): exit 1") or diag($se);
	}

	# --- fields of one object: the chain is followed once, one copy -----------------
	ctl("clear\n" . join('', map { "add pid=$pid addr=$head period_us=10000 name=f$_->[0] $_->[1] deref=" .
				  hops($c, 3, $_->[0]) . "\n" } [value => 'type=u64'], [name => 'type=str len=6'],
			      [pad => 'type=u64']));
	ok(more_samples('fpad', 2), 'three fields of node 3 sampled');
	my $sp0 = stats()->{spans};
	my $n0 = region_samples('fvalue');
	ok(more_samples('fpad', 5), '... five more times');
	my $dn = region_samples('fvalue') - $n0;
	cmp_ok(stats()->{spans} - $sp0, '>=', $dn - 1, "one span copy per pass ($dn passes)");
	$s = snapshot();
	is(val('fvalue'), 0x33333, 'fvalue: the moved node 3\'s value');
	is(val('fname'), 'moved', 'fname: its name');
	is(val('fpad'), 0x5a5a5a5a5a5a5a5a, 'fpad: its pad');
	is($s->{fname}{raddr} - $s->{fvalue}{raddr}, $c->{off}{name} - $c->{off}{value},
	   'each field at its own address in the object');

	# --- plain regions of the same target -------------------------------------------
	ctl(sprintf("add pid=%d addr=0x%x type=u64 period_us=10000 name=cplain\n", $pid,
		    $c->{node}{8} + $c->{off}{value}));
	ok(more_samples('cplain', 1), 'a plain region');
	is(val('cplain'), 8 * 0x1111, '... reads node 8 directly');
	ctl("clear\n");
	$c->kill;
	return $c;
}

sub seq_block {
	my $c = Ums::chain_target('umschain');
	my $pid = $c->pid;
	my ($blk, $sq, $pl) = map { $c->{var}{$_} } qw(block seq plain);
	is($blk - $sq, 8, 'the counter lies 8 bytes before the block');
	ctl(sprintf("add pid=%d addr=0x%x len=4096 period_us=10000 name=srel seq=-8\n" .
		    "add pid=%d addr=0x%x len=4096 period_us=10000 name=sabs seq=0x%x\n" .
		    "add pid=%d addr=0x%x len=4096 period_us=10000 name=splain\n",
		    $pid, $blk, $pid, $blk, $sq, $pid, $pl));
	my %r = map { $_->{name} => $_ } regions();
	is("$r{srel}{deref} $r{srel}{seq}", '- -8', 'regions: SEQ -8');
	is($r{sabs}{seq}, sprintf('0x%x', $sq), 'regions: SEQ the address');
	my %id = map { $_ => $r{$_}{id} } qw(srel sabs splain);
	my $st0 = stats();
	like($c->cmd('writer on'), qr/^ok writer/, 'the writer runs');
	trace_on(sample => join(' || ', map { "id == $_" } values %id));
	sleep 1.5;
	trace_off_keep();
	my ($n) = $c->cmd('writer off') =~ /^ok writer (\d+)/;
	cmp_ok($n // 0, '>', 100, "the writer made $n updates");
	my $st1 = stats();
	# reassemble the 4 KiB samples from their 1 KiB chunks
	my %smp;
	for my $e (sample_events()) {
		my $k = "$e->{id}:$e->{seq}";
		$smp{$k}{id} = $e->{id};
		$smp{$k}{flags} = $e->{flags};
		$smp{$k}{data}[$e->{offset} / 1024] = $e->{data};
	}
	my %cnt;
	for my $x (values %smp) {
		next unless 4 == grep { defined && length == 1024 } @{$x->{data}};
		my $d = join('', @{$x->{data}});
		my $mixed = $d =~ /^(.)\1*$/s ? 0 : 1;
		my $torn = $x->{flags} =~ /torn/ ? 1 : 0;
		my $name = (grep { $id{$_} == $x->{id} } keys %id)[0];
		$cnt{$name}{all}++;
		$cnt{$name}{mixed}++ if $mixed && !$torn;
		$cnt{$name}{torn}++ if $torn;
	}
	for my $name (qw(srel sabs splain)) {
		note(sprintf('%s: %d samples, %d mixed and not flagged, %d flagged torn', $name,
			     $cnt{$name}{all} // 0, $cnt{$name}{mixed} // 0, $cnt{$name}{torn} // 0));
	}
	for my $name (qw(srel sabs)) {
		cmp_ok($cnt{$name}{all} // 0, '>=', 20, "$name: samples while the writer ran");
		is($cnt{$name}{mixed} // 0, 0, "$name: no copy mixes two updates unless flagged torn");
		cmp_ok(($cnt{$name}{all} // 0) - ($cnt{$name}{torn} // 0), '>=', 10,
		       "$name: stable copies published");
	}
	cmp_ok($cnt{splain}{mixed} // 0, '>', 0, 'without seq=, some copies mix two updates');
	cmp_ok($st1->{seq_retries}, '>', $st0->{seq_retries}, 'stats: seq_retries grows');
	cmp_ok($st1->{torn} - $st0->{torn}, '>=', ($cnt{srel}{torn} // 0) + ($cnt{sabs}{torn} // 0),
	       'stats: torn counts the flagged samples');
	ctl("clear\n");
	$c->kill;
}

# Disable the events but keep what the buffer holds.
sub trace_off_keep {
	Ums::_wr("$Ums::TRACE/events/umsampler/$_/enable", '0') for qw(region sample batch);
}

subtest 'chains, 64-bit target' => sub { chains('umschain') };
SKIP: {
	# built with gcc-multilib; the debug kernel (tinyconfig) has no IA32_EMULATION to run it
	my $p32 = "$Ums::PROGS/umschain32";
	skip 'no 32-bit target (gcc-multilib)', 1 unless -x $p32;
	skip 'this kernel cannot run 32-bit programs (no IA32_EMULATION)', 1
		unless `echo exit | '$p32' 2>/dev/null` =~ /^ptr 4$/m;
	subtest 'chains, 32-bit target (4-byte pointers)' => sub { chains('umschain32') };
}
subtest 'seq=: consistent copies of a block a writer rewrites' => \&seq_block;

subtest 'bad input: EINVAL, nothing applied' => sub {
	my $c = Ums::chain_target('umschain');
	my $base = sprintf('add pid=%d addr=0x%x type=u64', $c->pid, $c->{var}{head});
	for my $bad ('deref=', 'deref=x', 'deref=1,2,3,4,5,6,7,8,9', 'deref=8 deref=8', 'deref=8,',
		     'seq=', 'seq=+2', sprintf('seq=0x%x', $c->{var}{seq} + 2), 'deref=8 mirror') {
		is(errname(ctl_errno("$base name=ok1\n$base name=bad $bad\n")), 'EINVAL', "'$bad': EINVAL");
		ok(!region_by_name('ok1') && !region_by_name('bad'), '... nothing applied');
	}
	$c->kill;
};

done_testing();
