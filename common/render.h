/* SPDX-License-Identifier: GPL-2.0 */
/*
 * render.h - umsampler value renderer interface.
 *
 * Owns: turning sampled bytes into text (decimal integers, shortest round-trip floats done in
 * integer arithmetic, hex strings, escaped strings, the snapshot hexdump) and the s64 `value`
 * event field.  Pure code: compiled into the module and on the host (see pure.h).
 *
 * Truncation rule for every function here: output is always NUL-terminated when size > 0, the
 * return value is strlen() of what was written, and what was written is a prefix of the full
 * rendering in which units (a whole number, a hex byte pair, a string escape, a hexdump line)
 * are never split.
 */
#ifndef UMS_RENDER_H
#define UMS_RENDER_H

#include "pure.h"

/*
 * Render the decoded value of a sample as one line of text (no '\n').  Integer types in decimal
 * (sign-/zero-extended, host byte order: the data is the target's memory), f32/f64 in shortest
 * round-trip decimal, hex as contiguous lowercase hex bytes ("01ff0a"), str as text up to the
 * first NUL (or len) with C escapes for \\, \", \n, \t, \r and \xNN for other non-printables,
 * unquoted.  If partial is true and the type is a scalar (or len is shorter than the scalar),
 * writes "?" instead.
 */
size_t ums_render_value(char *buf, size_t size, unsigned int vtype, const u8 *data, size_t len,
			bool partial);

/*
 * Decode a scalar into the s64 `value` event field: integer types sign- or zero-extended, f32/f64
 * as their raw IEEE-754 bits (zero-extended for f32), 0 for hex/str or if len is too short.
 */
s64 ums_value_field(unsigned int vtype, const u8 *data, size_t len);

/*
 * Shortest decimal that round-trips to exactly the same double/float (like Python repr()), the
 * closest one if several; in %g-like layout: plain decimal when -4 <= exp10 < 16 (f64) / < 9
 * (f32), else d.ddde+XX / e-XX with at least two exponent digits; "-0" for negative zero, "inf",
 * "-inf", "nan" (sign of nan ignored).  No trailing ".0" ("42", "497.5", "0.1", "1e+16",
 * "1.5e-07").  Integer arithmetic only.
 */
size_t ums_render_f64(char *buf, size_t size, u64 bits);
size_t ums_render_f32(char *buf, size_t size, u32 bits);

/*
 * Canonical hexdump for the `snapshot` file, lines of 16 bytes:
 * "  0000: 01 02 03 04 05 06 07 08  09 0a 0b 0c 0d 0e 0f 10  |................|\n"
 * Offsets are relative to the region start (data[0]), lowercase hex, width 4 (wider if
 * len > 0xffff).  A short last line is space-padded so the '|' column lines up.
 * ums_render_hexdump() renders from offset 0; ums_render_hexdump_from() starts at the line that
 * contains byte offset @from (for paging).  Only whole lines are written; returns bytes written
 * (each line ends in '\n', so the caller advances by 16 bytes per line).
 */
size_t ums_render_hexdump(char *buf, size_t size, const u8 *data, size_t len);
size_t ums_render_hexdump_from(char *buf, size_t size, const u8 *data, size_t len, size_t from);

/* Total length (without NUL) of the full hexdump of len bytes. */
size_t ums_hexdump_size(size_t len);

#endif /* UMS_RENDER_H */
