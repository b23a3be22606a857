/* SPDX-License-Identifier: GPL-2.0 */
/*
 * resolve.h - turning a `umsampler add` TARGET (0xADDR, SYMBOL, OBJECT:SYMBOL, SYMBOL+OFF,
 * SYMBOL.field, SYMBOL[3], SYMBOL->field, (*SYMBOL)->field, and combinations) into an address, length and value type in a
 * running process, from its mapped ELF objects (symbol tables) and DWARF (libdw).
 */
#ifndef _UMS_RESOLVE_H
#define _UMS_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ums_resolved {
	uint64_t addr;
	uint64_t len;		/* 0: unknown (an address, or past the end of the symbol) */
	int vtype;		/* enum ums_vtype, or -1 when unknown (then hex) */
	bool dwarf;		/* len/vtype came from DWARF */
	int nderef;		/* pointers followed (->, (*p)): the control line's deref= */
	int64_t deref[8];	/* their offsets (UMS_DEREF_MAX) */
	char *object;		/* mapped file path (malloc'ed; NULL for 0xADDR) */
	char *symbol;		/* symbol name (malloc'ed; NULL for 0xADDR) */
};

/*
 * Resolve TARGET in process pid.  Returns 0 on success, -1 on a runtime error (no such symbol,
 * ambiguous, unreadable process...) and -2 on a malformed TARGET; errors are printed to stderr.
 * Release res with ums_resolved_free().
 *
 * Debug files are searched by build-id under $UMSAMPLER_DEBUG_DIR (if set),
 * /proc/PID/root/usr/lib/debug and /usr/lib/debug, then by .gnu_debuglink next to the object,
 * in its .debug/ subdirectory and under the same debug roots.
 */
int ums_resolve(pid_t pid, const char *target, struct ums_resolved *res);
void ums_resolved_free(struct ums_resolved *res);

#endif /* _UMS_RESOLVE_H */
