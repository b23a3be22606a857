/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * umsampler_seq.h - the writer's side of a sequence counter that umsampler
 * honours (`add ... seq=ADDR`, or `seq=+OFF`/`seq=-OFF` from the data).
 *
 * Owns: the protocol between a program that publishes data for umsampler and
 * the sampler. The counter is a naturally aligned uint32_t; even: the data is
 * stable; odd: a writer is inside. One writer at a time (serialise writers
 * with your own lock). Readers never block the writer, and the writer never
 * waits for a reader. umsampler reads the counter, copies the data, reads the
 * counter again, and publishes the copy only if both reads gave the same even
 * value; after a few tries (UMS_SEQ_TRIES in the kernel) it publishes the
 * last copy flagged `torn`.
 *
 *	struct stats { uint32_t seq; uint64_t requests, bytes; } st;
 *
 *	ums_seq_write_begin(&st.seq);
 *	st.requests++;
 *	st.bytes += n;
 *	ums_seq_write_end(&st.seq);
 *
 * and then: echo "add pid=PID addr=&st.requests len=16 seq=-8" > control
 * (st.seq lies 8 bytes before st.requests).
 *
 * Header-only C (GCC/Clang __atomic builtins), no dependencies.
 */
#ifndef UMSAMPLER_SEQ_H
#define UMSAMPLER_SEQ_H

#include <stdint.h>

/*
 * Enter the write section: the counter becomes odd, and no store of the
 * update can become visible before that.
 */
static inline void ums_seq_write_begin(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);	/* the kernel's smp_wmb() */
}

/*
 * Leave it: every store of the update is visible before the counter becomes
 * even again.
 */
static inline void ums_seq_write_end(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1, __ATOMIC_RELEASE);	/* smp_wmb() + store */
}

#endif /* UMSAMPLER_SEQ_H */
