// SPDX-License-Identifier: GPL-2.0
/*
 * hostlib.c - shared library of the host resolver tests (tests/host/resolve.t): an exported
 * counter, a library-local variable whose name is also used in the executable (ambiguity),
 * a static named like a global of the executable, and a variable the executable references
 * directly (a copy relocation when it is non-PIC).
 */
#include <stdint.h>
#include <stdio.h>

volatile uint64_t lib_counter = 42;
uint32_t lib_shared = 7;		/* referenced by hostvars.c: copy-relocated there */
static volatile int dup_name = 2;	/* also a static in hostvars.c */
static volatile int mixed_name = 4;	/* a global in hostvars.c */

void hostlib_print(void)
{
	printf("lib_counter %p %zu u64\n", (void *)&lib_counter, sizeof(lib_counter));
	printf("lib_shared %p %zu u32\n", (void *)&lib_shared, sizeof(lib_shared));
	printf("libdup %p %zu s32\n", (void *)&dup_name, sizeof(dup_name));
	printf("libmixed %p %zu s32\n", (void *)&mixed_name, sizeof(mixed_name));
}
