/* SPDX-License-Identifier: GPL-2.0 */
/*
 * grow.h - the growable arrays of the recording consumers (decode.c's region states,
 * cmd_plot.c's series): room for one more element, by doubling.  static inline, because
 * tests/host/decode.t builds decode.c without the other tracing/ sources.
 */
#ifndef _UMS_GROW_H
#define _UMS_GROW_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Array arr of *cap elements of size bytes, n of them used: returns arr if n < *cap, else arr
 * realloc()ed to twice *cap elements (first if *cap is 0) and *cap updated; NULL, with arr
 * and *cap unchanged, if that allocation fails.
 */
static inline void *ums_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return arr;
	ncap = *cap ? 2 * *cap : first;
	p = realloc(arr, ncap * size);
	if (p)
		*cap = ncap;
	return p;
}

#endif /* _UMS_GROW_H */
