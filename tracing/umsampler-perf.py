# SPDX-License-Identifier: GPL-2.0
#
# umsampler-perf.py - perf script handler: umsampler events in perf.data -> CSV.
#
#   perf record -e umsampler:batch -e umsampler:region -a -o perf.data -- sleep 10
#   perf script -i perf.data -s umsampler-perf.py > samples.csv
#
# Owns: the perf side of `umsampler csv`; the output is byte-identical to what
# tracing/decode.c + cmd_csv.c write for a trace.dat holding the same events (only
# time_ns is the recorder's clock: perf's sample time, here from the same
# kernel local clock as trace-cmd's default):
#   time_ns,id,name,pid,addr,seq,late_ns,flags,value
# Values are decoded from the exact event bytes (perf_sample_dict['raw_buf'],
# since perf hands u8[] fields to Python as text) exactly like common/render.c:
# integers in decimal, f32/f64 as the shortest round-trip decimal, hex as
# lowercase hex, str up to the first NUL with C escapes, in double quotes with
# '"' doubled; scalars of partial samples are "?".  Chunks of regions longer
# than 1024 bytes are joined by (id, seq) in offset order, and region names
# come from umsampler:region events (add/sync), all as in decode.c: a first
# pass learns the first add/sync event of every id (so samples recorded before
# it are named too), the second reassembles and emits; a sample is
# complete when its chunks cover the region length, or without a region event
# when a short chunk ends a gap-free run; pending samples are emitted when the
# seq of their region changes and at the end (first-chunk time order); an
# incomplete one has its missing bytes zeroed and the partial flag set.
# umsampler:batch entries are chunks too (their bytes from the record's data array); a
# recording holding batch events is read from them alone (its sample events, if both were
# enabled, repeat the same samples).
# With UMS_CSV_VTYPE=1 in the environment a vtype column precedes value (used
# by `umsampler plot`).

import math
import os
import struct
import sys
from fractions import Fraction

CHUNK = 1024  # UMS_EVENT_CHUNK in common/umsampler_abi.h
VTYPES = ['hex', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'f32', 'f64', 'str']
INTFMT = {1: '=B', 2: '=H', 3: '=I', 4: '=Q', 5: '=b', 6: '=h', 7: '=i', 8: '=q'}
SIZES = [0, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8, 0]
F_PARTIAL, F_CHANGED, F_TRUNCATED, F_UNRESOLVED, F_TORN = 1, 2, 4, 8, 16
WITH_VTYPE = os.environ.get('UMS_CSV_VTYPE') == '1'

regions = {}    # id -> (name, length, weak: only from a del/gone event)
pending = {}    # id -> dict of the sample being assembled
events = []     # the stream, processed at the end (two passes, as decode.c)
out = []
addr_off = None  # offset of the `addr` field in the raw record (found once)


def flush_out(force=False):
    if force or len(out) >= 4096:
        sys.stdout.write(''.join(out))
        del out[:]


# ---- rendering, exactly as common/render.c ----

def layout(neg, dig, exp10, plain_max):
    s = '-' if neg else ''
    nd = len(dig)
    if exp10 < -4 or exp10 >= plain_max:
        s += dig[0]
        if nd > 1:
            s += '.' + dig[1:]
        s += 'e' + ('-' if exp10 < 0 else '+') + '%02d' % abs(exp10)
    elif exp10 < 0:
        s += '0.' + '0' * (-exp10 - 1) + dig
    elif nd <= exp10 + 1:
        s += dig + '0' * (exp10 + 1 - nd)
    else:
        s += dig[:exp10 + 1] + '.' + dig[exp10 + 1:]
    return s


def render_f64(bits):
    x = struct.unpack('=d', struct.pack('=Q', bits))[0]
    if math.isnan(x):
        return 'nan'
    if math.isinf(x):
        return '-inf' if x < 0 else 'inf'
    if x == 0:
        return '-0' if bits >> 63 else '0'
    # repr() is the shortest round-trip (closest) and switches to exponent form at the same
    # decimal exponents (< -4, >= 16); only the trailing ".0" differs.
    r = repr(x)
    return r[:-2] if r.endswith('.0') else r


f32_cache = {}


def render_f32(bits):
    text = f32_cache.get(bits)
    if text is None:
        text = render_f32_exact(bits)
        if len(f32_cache) < 65536:
            f32_cache[bits] = text
    return text


def render_f32_exact(bits):
    neg = bits >> 31
    e = (bits >> 23) & 0xff
    m = bits & 0x7fffff
    if e == 0xff:
        return 'nan' if m else ('-inf' if neg else 'inf')
    if e == 0 and m == 0:
        return '-0' if neg else '0'
    f, ex = (m | 0x800000, e - 150) if e else (m, -149)
    two = Fraction(2) ** ex
    v = f * two
    hi = (f + Fraction(1, 2)) * two
    lo = (f - (Fraction(1, 4) if (m == 0 and e > 1) else Fraction(1, 2))) * two
    even = f % 2 == 0
    k = int(math.floor(math.log10(float(v))))
    while Fraction(10) ** k > v:
        k -= 1
    while Fraction(10) ** (k + 1) <= v:
        k += 1
    best = None
    for p in range(1, 18):
        scale = Fraction(10) ** (k + 1 - p)
        q = v / scale
        a = q.numerator // q.denominator
        for c in (a, a + 1):
            d = c * scale
            if lo < d < hi or (even and (d == lo or d == hi)):
                dist = abs(d - v)
                if best is None or dist < best[0] or (dist == best[0] and c % 2 == 0):
                    best = (dist, c)
        if best:
            break
    digits = str(best[1])
    exp10 = k + 1 - p + len(digits) - 1
    return layout(neg, digits.rstrip('0') or '0', exp10, 9)


STR_ESC = {0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x09: '\\t', 0x0d: '\\r'}


def render_str(b):
    s = []
    for c in bytearray(b):
        if c == 0:
            break
        if c in STR_ESC:
            s.append(STR_ESC[c])
        elif 0x20 <= c <= 0x7e:
            s.append(chr(c))
        else:
            s.append('\\x%02x' % c)
    return ''.join(s)


def render_value(vtype, data, partial):
    if vtype == 0:
        return ''.join('%02x' % c for c in bytearray(data))
    if vtype == 11:
        return render_str(data)
    if vtype >= len(VTYPES) or partial or len(data) < SIZES[vtype]:
        return '?'
    if vtype == 9:
        return render_f32(struct.unpack_from('=I', data)[0])
    if vtype == 10:
        return render_f64(struct.unpack_from('=Q', data)[0])
    return str(struct.unpack_from(INTFMT[vtype], data)[0])


def flags_str(flags):
    return '|'.join(n for b, n in ((F_PARTIAL, 'partial'), (F_CHANGED, 'changed'),
                                   (F_TRUNCATED, 'truncated'), (F_UNRESOLVED, 'unresolved'),
                                   (F_TORN, 'torn')) if flags & b)


def csv_value(vtype, text):
    if vtype == 11:
        return '"' + text.replace('"', '""') + '"'
    return text


# ---- reassembly, exactly as tracing/decode.c ----

def emit(rid, st):
    size = st['end']
    reg = regions.get(rid)
    if reg and reg[1] > size and reg[1] <= (16 << 20):
        size = reg[1]
    buf = st['buf']
    if len(buf) < size:
        buf.extend(b'\0' * (size - len(buf)))
    data = bytes(buf[:size])
    flags = st['flags'] | (F_PARTIAL if st['covered'] < size else 0)
    text = render_value(st['vtype'], data, flags & F_PARTIAL)
    row = [str(st['time']), str(rid), reg[0] if reg else '', str(st['pid']),
           '0x%x' % st['addr'], str(st['seq']), str(st['late']), flags_str(flags)]
    if WITH_VTYPE:
        row.append(VTYPES[st['vtype']] if st['vtype'] < len(VTYPES) else '?')
    row.append(csv_value(st['vtype'], text))
    out.append(','.join(row) + '\n')
    flush_out()


def chunk(t, rid, pid, addr, seq, late, offset, vtype, flags, data):
    st = pending.get(rid)
    if st is not None and st['seq'] != seq:
        del pending[rid]
        emit(rid, st)
        st = None
    if st is None:
        st = {'seq': seq, 'time': t, 'pid': pid, 'addr': addr, 'late': late, 'vtype': vtype,
              'flags': 0, 'end': 0, 'covered': 0, 'buf': bytearray()}
        pending[rid] = st
    stop = offset + len(data)
    buf = st['buf']
    if len(buf) < stop:
        buf.extend(b'\0' * (stop - len(buf)))
    buf[offset:stop] = data
    st['end'] = max(st['end'], stop)
    st['covered'] += len(data)
    st['flags'] |= flags
    reg = regions.get(rid)
    if reg and reg[1]:
        complete = st['covered'] >= reg[1]
    else:
        complete = len(data) < CHUNK and st['covered'] == stop
    if complete:
        del pending[rid]
        emit(rid, st)


# ---- the exact bytes of the record ----

def raw_fields(raw, addr, seq, offset, vtype, flags):
    """(late_ns, data) from the raw record; the struct after the common fields is
    id u32, pid s32, addr u64, seq u64, late_ns u64, value s64, offset u32, vtype u8,
    flags u8, __data_loc u32 (offset | len << 16 from the record start).  The common
    header size differs between kernels (PREEMPT_RT adds fields), so find `addr`."""
    global addr_off
    cands = [addr_off] if addr_off is not None else []
    cands += [p for p in range(8, 65, 8) if p != addr_off]
    for p in cands:
        if p + 44 > len(raw):
            continue
        a, s, late = struct.unpack_from('=QQQ', raw, p)
        o, vt, fl, loc = struct.unpack_from('=IBB2xI', raw, p + 32)
        if (a, s, o, vt, fl) != (addr, seq, offset, vtype, flags):
            continue
        doff, dlen = loc & 0xffff, loc >> 16
        if doff != p + 44 or doff + dlen > len(raw):
            continue
        addr_off = p
        return late, bytes(raw[doff:doff + dlen])
    raise ValueError('umsampler:sample record layout not recognised')


BATCH_ARRAYS = (('data', 'B'), ('id', 'I'), ('seq', 'Q'), ('late_ns', 'Q'), ('offset', 'I'),
                ('start', 'H'), ('size', 'H'), ('vtype', 'B'), ('flags', 'B'))
batch_off = None  # offset of the batch's `addr` field in the raw record (found once)


def batch_arrays(raw, pid, count, addr):
    """The arrays of a umsampler:batch record, as tuples (data: bytes); the struct after the
    common fields is addr u64, pid s32, count u32, then one __data_loc u32 per array in
    BATCH_ARRAYS order (offset | len << 16 from the record start).  The common header size
    differs between kernels (PREEMPT_RT adds fields), so find `addr`."""
    global batch_off
    cands = [batch_off] if batch_off is not None else []
    cands += [p for p in range(8, 65, 8) if p != batch_off]
    n = len(BATCH_ARRAYS)
    for p in cands:
        if p + 16 + 4 * n > len(raw):
            continue
        if struct.unpack_from('=QiI', raw, p) != (addr, pid, count):
            continue
        locs = struct.unpack_from('=%dI' % n, raw, p + 16)
        arrs, ok = {}, True
        for (name, fmt), loc in zip(BATCH_ARRAYS, locs):
            doff, dlen = loc & 0xffff, loc >> 16
            size = struct.calcsize('=' + fmt)
            if doff < p + 16 + 4 * n or doff + dlen > len(raw) or \
               (name != 'data' and dlen < count * size):
                ok = False
                break
            b = bytes(raw[doff:doff + dlen])
            arrs[name] = b if name == 'data' else struct.unpack_from('=%d%s' % (count, fmt), b)
        if not ok:
            continue
        batch_off = p
        return arrs
    raise ValueError('umsampler:batch record layout not recognised')


def u(v, bits):
    return v & ((1 << bits) - 1)


def s32(v):
    v = u(v, 32)
    return v - (1 << 32) if v >= (1 << 31) else v


def trace_begin():
    out.append('time_ns,id,name,pid,addr,seq,late_ns,flags,'
               + ('vtype,' if WITH_VTYPE else '') + 'value\n')


def umsampler__sample(event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
                      common_comm, common_callchain, id, pid, addr, seq, late_ns, value, offset,
                      vtype, flags, data, perf_sample_dict):
    raw = perf_sample_dict.get('raw_buf')
    if raw is None:
        raw = perf_sample_dict.get('sample', {}).get('raw_buf')
    late, payload = raw_fields(raw, u(addr, 64), u(seq, 64), u(offset, 32), u(vtype, 8),
                               u(flags, 8))
    events.append(('S', common_secs * 1000000000 + common_nsecs, u(id, 32), s32(pid),
                   u(addr, 64), u(seq, 64), late, u(offset, 32), u(vtype, 8), u(flags, 8),
                   payload))


def umsampler__batch(event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
                     common_comm, common_callchain, addr, pid, count, data, id, seq, late_ns,
                     offset, start, size, vtype, flags, perf_sample_dict):
    # the arrays are read from raw_buf (perf may hand u8[] fields over as text)
    raw = perf_sample_dict.get('raw_buf')
    if raw is None:
        raw = perf_sample_dict.get('sample', {}).get('raw_buf')
    pid, count, addr = s32(pid), u(count, 32), u(addr, 64)
    a = batch_arrays(raw, pid, count, addr)
    t = common_secs * 1000000000 + common_nsecs
    data = a['data']
    for i in range(count):
        start, size, off = a['start'][i], a['size'][i], a['offset'][i]
        if start + size > len(data):
            continue
        events.append(('B', t, a['id'][i], pid, addr + start - off, a['seq'][i],
                       a['late_ns'][i], off, a['vtype'][i], a['flags'][i],
                       data[start:start + size]))


def region_set(rid, op, name, length, hint):
    strong = op in (0, 3)
    cur = regions.get(rid)
    if hint:
        if cur is not None and not (cur[2] and strong):
            return
    elif not (strong or cur is None):
        return
    regions[rid] = (name, length, not strong)


def umsampler__region(event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
                      common_comm, common_callchain, id, pid, addr, length, period_us, vtype,
                      mode, op, reason, name):
    rid = u(id, 32)
    if isinstance(name, (bytes, bytearray)):
        name = name.split(b'\0')[0].decode('ascii', 'replace')
    name = str(name).split('\0')[0][:31]
    events.append(('R', rid, u(op, 8), name, u(length, 64)))


def trace_unhandled(event_name, context, event_fields_dict, *args):
    pass


def trace_end():
    has_batch = False
    for ev in events:
        if ev[0] == 'R':
            region_set(ev[1], ev[2], ev[3], ev[4], True)
        has_batch |= ev[0] == 'B'
    for ev in events:
        if ev[0] == 'R':
            region_set(ev[1], ev[2], ev[3], ev[4], False)
        elif ev[0] == 'B' or not has_batch:
            chunk(*ev[1:])
    for rid, st in sorted(pending.items(), key=lambda kv: (kv[1]['time'], kv[0])):
        emit(rid, st)
    pending.clear()
    flush_out(True)
    sys.stdout.flush()
