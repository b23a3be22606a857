#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# decode.t - host tests of the recording consumers (no kernel needed): builds
# tests/host/decode_test.c (which includes tracing/plugin_umsampler.c, whose internals
# are static) with tracing/decode.c and the pure renderer into build/host/decode_test
# (cc + pkg-config, since the Makefiles are not this test's), runs its unit checks (value text of every type in the plugin
# and in the CSV, chunk reassembly, quoting), then cross-checks tracing/umsampler-perf.py
# against the C code: float rendering on specials and random bit patterns, and the
# CSV of a canned event stream (all types, a 10000-byte region in 4 chunks, a lost
# chunk, a region named after its first samples, unnamed regions) with the common
# header of a normal and of a PREEMPT_RT-like kernel; and umsampler:batch events: the same
# samples as sample events and as batch events give the same CSV in both, and a stream
# holding both is read from its batch events alone.
use strict;
use warnings;
use FindBin;
use Test::More;

my $root = "$FindBin::Bin/../..";
chdir $root or die "chdir $root: $!";
my $bin = 'build/host/decode_test';
my $py = $ENV{PYTHON} // 'python3';

my $pc = `pkg-config --cflags --libs libtracecmd libtraceevent 2>/dev/null`;
plan skip_all => 'libtracecmd/libtraceevent development files missing' if $? || !$pc;
chomp $pc;
mkdir 'build';
mkdir 'build/host';
my $cc = $ENV{CC} // 'cc';
my $cmd = "$cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined " .
	  "-Icommon -Itracing -o $bin tests/host/decode_test.c tracing/decode.c " .
	  "common/render.c common/parse.c $pc -lm";
is(system($cmd), 0, 'decode_test builds warning-free') or BAIL_OUT("build failed: $cmd");

# 1. unit checks of the C code
my @out = `$bin`;
my $rc = $?;
for (@out) {
	chomp;
	if (/^(not )?ok - (.*)$/) {
		ok(!$1, $2);
	} else {
		diag($_);
	}
}
is($rc, 0, 'decode_test exit status');

# 2. umsampler-perf.py renders floats like common/render.c
my $have_py = system("$py -c 'import fractions' 2>/dev/null") == 0;
SKIP: {
	skip "no $py", 3 unless $have_py;
	my $helper = <<'EOF';
import importlib.util, struct, sys
spec = importlib.util.spec_from_file_location('ump', 'tracing/umsampler-perf.py')
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)

def floats(path):
    bad = n = 0
    for line in open(path):
        t, b, want = line.split()
        got = (m.render_f32 if t == 'f32' else m.render_f64)(int(b))
        n += 1
        if got != want:
            bad += 1
            if bad <= 5:
                print('# %s %#x: python %s, C %s' % (t, int(b), got, want))
    print('checked %d mismatches %d' % (n, bad))

def stream(path, hdr):
    # Drive the perf handlers with raw records laid out as the kernel does: common
    # header of hdr bytes, then the sample struct (u64 fields 8-aligned), then data.
    m.trace_begin()
    for line in open(path):
        f = line.split()
        if f[0] == 'R':
            rid, op, length, vt, name = int(f[1]), int(f[2]), int(f[3]), int(f[4]), f[5]
            m.umsampler__region('umsampler__region', None, 0, 0, 0, 0, 'x', None, rid, 1,
                                0x1000, length, 1000, vt, 0, op, 0, name)
            continue
        if f[0] == 'B':
            batch(f, hdr)
            continue
        t, rid, pid, addr, seq, late, off, vt, fl = (int(x, 16) if i == 3 else int(x)
                                                    for i, x in enumerate(f[1:10]))
        data = bytes.fromhex(f[10]) if f[10] != '-' else b''
        head = struct.pack('=HBBi', 0, 0, 0, 7) + b'\0' * (hdr - 8)
        body = struct.pack('=Ii', rid, pid)
        raw = head + body
        raw += b'\0' * (-len(raw) % 8)
        doff = len(raw) + 44
        raw += struct.pack('=QQQqIBB2xI', addr, seq, late, 0, off, vt, fl,
                           doff | (len(data) << 16)) + data
        raw += b'\0' * (-len(raw) % 8)
        m.umsampler__sample('umsampler__sample', None, 0, t // 10**9, t % 10**9, 0, 'x',
                            None, rid, pid, addr, seq, late, 0, off, vt, fl,
                            'mangled-by-perf', {'raw_buf': raw})
    m.trace_end()

def batch(f, hdr):
    # B TIME PID ADDR HEX|- ID,SEQ,LATE,OFFSET,START,SIZE,VTYPE,FLAGS...: a raw batch record
    t, pid, addr = int(f[1]), int(f[2]), int(f[3], 16)
    data = bytes.fromhex(f[4]) if f[4] != '-' else b''
    ents = [[int(x) for x in e.split(',')] for e in f[5:]]
    cols = list(zip(*ents)) if ents else [()] * 8
    arrs = [data] + [struct.pack('=%d%s' % (len(ents), fmt), *cols[i])
                     for i, fmt in enumerate('IQQIHHBB')]
    order = [0, 1, 2, 3, 4, 5, 6, 7, 8]     # data id seq late_ns offset start size vtype flags
    raw = struct.pack('=HBBi', 0, 0, 0, 7) + b'\0' * (hdr - 8)
    raw += b'\0' * (-len(raw) % 8)
    pos = len(raw) + 16 + 4 * len(order)
    locs, body = [], b''
    for i in order:
        locs.append((pos + len(body)) | (len(arrs[i]) << 16))
        body += arrs[i]
    raw += struct.pack('=QiI', addr, pid, len(ents)) + struct.pack('=9I', *locs) + body
    m.umsampler__batch('umsampler__batch', None, 0, t // 10**9, t % 10**9, 0, 'x', None,
                       addr, pid, len(ents), 'mangled', b'', b'', b'', b'', b'', b'', b'', b'',
                       {'raw_buf': raw})

if sys.argv[1] == 'floats':
    floats(sys.argv[2])
else:
    stream(sys.argv[2], int(sys.argv[3]))
EOF
	open(my $hf, '>', 'build/host/decode_helper.py') or die $!;
	print $hf $helper;
	close $hf;

	system("$bin floats 4000 7 > build/host/decode-floats.txt") == 0 or die 'floats';
	my $res = `$py build/host/decode_helper.py floats build/host/decode-floats.txt`;
	print $res =~ s/^(?!#)/# /mgr if $res =~ /^# /m;
	like($res, qr/^checked (\d{4,}) mismatches 0$/m, 'f32/f64 text identical in Python and C');

	# 3. the same canned stream through decode.c and umsampler-perf.py
	my @big = map { sprintf('%02x', $_ % 251) } 0 .. 9999;
	my $bighex = join('', @big);
	my @ev;
	my $t = 5_000_000_000;
	# region 1 (u32 counter) is named only after its first two samples
	push @ev, "S @{[$t++]} 1 100 7f0010 1 11 0 3 2 01000000";
	push @ev, "S @{[$t++]} 1 100 7f0010 2 12 0 3 2 02000000";
	push @ev, 'R 1 3 4 3 counter';
	push @ev, "S @{[$t++]} 1 100 7f0010 5 13 0 3 3 05000000";	# partial -> ?
	push @ev, 'R 2 0 10000 0 big';
	for my $seq (1 .. 3) {
		for (my $off = 0; $off < 10000; $off += 3072) {
			next if $seq == 2 && $off == 3072;	# lost chunk
			my $n = 10000 - $off < 3072 ? 10000 - $off : 3072;
			push @ev, "S @{[$t++]} 2 100 7f1000 $seq 5 $off 0 0 " .
				join('', @big[$off .. $off + $n - 1]);
		}
	}
	my @vals = ([1, 'c8'], [2, 'e8fd'], [4, '1032547698badcfe'], [5, 'fb'], [6, 'd08a'],
		    [7, '006cca88'], [8, 'ece56641e3ffffff'], [9, '0000c0bf'],
		    [9, 'cdcccc3d'], [10, '0000000000187f40'], [10, '000000000000f07f'],
		    [10, '0000000000000080'], [10, '9a9999999999b93f'],
		    [11, unpack('H*', "he said \"hi\",\tok\\\n\x01\0junk")], [0, '00ff10']);
	my $id = 10;
	for my $v (@vals) {
		push @ev, "R $id 0 " . length($v->[1]) / 2 . " $v->[0] v$id" if $id % 2;
		push @ev, "S @{[$t++]} $id 101 55aa00$id 1 7 0 $v->[0] 2 $v->[1]";
		$id++;
	}
	push @ev, 'R 2 2 10000 0 big';		# gone: keeps the name
	push @ev, "S @{[$t++]} 40 102 1234 9 0 0 0 0 " . substr($bighex, 0, 6144);  # pending
	push @ev, "S @{[$t++]} 41 102 1238 1 0 0 11 4 " . unpack('H*', 'abcd');	# truncated
	open(my $sf, '>', 'build/host/decode-stream.txt') or die $!;
	print $sf "$_\n" for @ev;
	close $sf;

	my $c = `$bin stream build/host/decode-stream.txt`;
	is($?, 0, 'decode.c stream');
	my @rows = split /\n/, $c;
	is(scalar @rows, 1 + 3 + 3 + @vals + 2, 'one row per sample');
	like($rows[1], qr/^5000000000,1,counter,100,0x7f0010,1,11,changed,1$/,
	     'region named after its first samples: named from the start');
	like($c, qr/^\d+,1,counter,100,0x7f0010,5,13,partial\|changed,\?$/m, 'partial u32 is ?');
	like($c, qr/^\d+,2,big,100,0x7f1000,1,5,,\Q$bighex\E$/m, '10000 bytes reassembled');
	my $lost = $bighex;
	substr($lost, 6144, 6144) = '0' x 6144;
	like($c, qr/^\d+,2,big,100,0x7f1000,2,5,partial,\Q$lost\E$/m,
	     'lost chunk: partial, zeroes');
	like($c, qr/,v23,101,0x55aa0023,1,7,changed,"he said \\""hi\\"",\\tok\\\\\\n\\x01"$/m,
	     'str: renderer escapes, CSV quoting');
	like($c, qr/,16,,101,0x55aa0016,1,7,changed,-123456789012$/m, 'unnamed s64');
	like($c, qr/,v19,101,0x55aa0019,1,7,changed,497\.5$/m, 'f64 497.5');
	like($c, qr/,v17,101,0x55aa0017,1,7,changed,-1\.5$/m, 'f32 -1.5');
	like($c, qr/,41,,102,0x1238,1,0,truncated,"abcd"$/m, 'truncated str');
	like($rows[-1], qr/^\d+,40,,102,0x1234,9,0,,\Q@{[substr($bighex, 0, 6144)]}\E$/,
	     'pending full-size chunks emitted at the end');

	for my $hdr (8, 12) {
		my $p = `$py build/host/decode_helper.py stream build/host/decode-stream.txt $hdr`;
		is($?, 0, "umsampler-perf.py on the stream (common header $hdr bytes)");
		ok($p eq $c, "umsampler-perf.py CSV identical to decode.c (header $hdr)") or do {
			open(my $o, '>', "build/host/decode-stream-py$hdr.csv") or die $!;
			print $o $p;
			close $o;
			diag("diff build/host/decode-stream-py$hdr.csv against decode_test stream");
		};
	}

	# 4. umsampler:batch: the same samples as sample events and as batch events (one span of
	# five regions with a gap and an overlap, a 3000-byte region in three pieces, a region
	# named only later) give the same CSV in decode.c and umsampler-perf.py; a recording
	# holding both is read from the batch events alone.
	my (@bs, @bb);
	my @reg = ([50, 0, 3, '2a000000'], [54, 1, 1, '00'], [51, 8, 2, '3412'],
		   [52, 16, 11, unpack('H*', "hi\0xyz")], [53, 24, 8, 'feffffffffffffff']);
	my @pre = ('R 50 0 4 3 a', 'R 51 0 2 2 b', 'R 52 0 6 11 c', 'R 54 0 1 1 a1');
	my $tb = 7_000_000_000;
	for my $seq (1, 2) {
		my $span = '00' x 32;
		my @ents;
		for my $r (@reg) {
			my ($rid, $off, $vt, $hex) = @$r;
			substr($span, 2 * $off, length $hex) = $hex;
			my $fl = $seq == 1 ? 2 : 0;
			push @bs, sprintf('S %d %d 200 %x %d %d 0 %d %d %s', $tb, $rid, 0x7f2000 + $off,
					  $seq, 100 + $rid, $vt, $fl, $hex);
			push @ents, join(',', $rid, $seq, 100 + $rid, 0, $off, length($hex) / 2, $vt, $fl);
		}
		push @bb, "B $tb 200 7f2000 $span @ents";
		for (my $off = 0; $off < 3000; $off += 1024) {
			my $n = 3000 - $off < 1024 ? 3000 - $off : 1024;
			my $hex = join('', @big[$off .. $off + $n - 1]);
			push @bs, "S @{[$tb + 1]} 55 200 7f3000 $seq 0 $off 0 0 $hex";
			push @bb, sprintf('B %d 200 %x %s 55,%d,0,%d,0,%d,0,0', $tb + 1, 0x7f3000 + $off,
					  $hex, $seq, $off, $n);
		}
		$tb += 10;
	}
	push @bs, 'R 53 0 8 8 d';
	push @bb, 'R 53 0 8 8 d';
	my %out;
	for my $v ([bs => [@pre, @bs]], [bb => [@pre, @bb]], [both => [@pre, @bs, @bb]]) {
		open(my $bf, '>', "build/host/decode-$v->[0].txt") or die $!;
		print $bf "$_\n" for @{ $v->[1] };
		close $bf;
	}
	$out{bs} = `$bin stream build/host/decode-bs.txt`;
	$out{bb} = `$bin stream build/host/decode-bb.txt`;
	is($?, 0, 'decode.c batch stream');
	my @brows = split /\n/, $out{bb};
	is(scalar @brows, 1 + 2 * 6, 'batch stream: one row per region sample') or diag($out{bb});
	ok($out{bb} eq $out{bs}, 'decode.c: batch events give the rows of the sample events') or
		diag("sample:\n$out{bs}batch:\n$out{bb}");
	like($out{bb}, qr/^7000000000,53,d,200,0x7f2018,1,153,changed,-2$/m,
	     'batch entry: address from start, named by a later region event');
	like($out{bb}, qr/^7000000000,52,c,200,0x7f2010,1,152,changed,"hi"$/m, 'batch: str entry');
	like($out{bb}, qr/^7000000001,55,,200,0x7f3000,1,0,,\Q@{[substr($bighex, 0, 6000)]}\E$/m,
	     'batch: 3000-byte region from three one-entry pieces');
	for my $hdr (8, 12) {
		for my $v (qw(bb both)) {
			my $p = `$py build/host/decode_helper.py stream build/host/decode-$v.txt $hdr`;
			ok($? == 0 && $p eq $out{bb}, "umsampler-perf.py: $v stream == decode.c batch " .
			   "rows (header $hdr)") or diag($p);
		}
	}
}

done_testing();
