// SPDX-License-Identifier: GPL-2.0
/*
 * copy.c - attach-and-copy: reading a region's bytes out of its target's
 * address space, and deciding whether a range is mapped readable.
 *
 * umsd_copy() runs in the sampler thread between kthread_use_mm(mm) and
 * kthread_unuse_mm(), so user-access primitives read the target's memory.
 * Every read is done with page faults disabled (copy_from_user_nofault()), so
 * the sampler never sleeps in a fault. Two policies:
 *  - resident-only (default): only pages present in the target's page tables
 *    are read; nothing is faulted in, swapped in, or allocated. Missing pages
 *    read as zeroes and mark the sample partial.
 *  - fault (`fault` in the add command): a missing page is faulted in with
 *    get_user_pages_remote(FOLL_NOWAIT) and read again. FOLL_NOWAIT never
 *    waits: a page that needs I/O (swap, file) has its read started and shows
 *    up in a later sample. Userfaultfd-armed memory is never faulted in
 *    (see umsd_fault_in()): its missing pages stay missing, and the target's
 *    fault handler never hears of the sampler. So a target cannot stall the
 *    sampler, or other targets, with a fault that never completes. The mmap
 *    lock is only try-locked.
 * The copy is done page by page so a missing page costs only its own bytes.
 *
 * umsd_copy_span() is the fast path for several small regions lying close
 * together (a struct's fields, an array's elements): one user copy of the
 * whole span, at most a page, into the sampler's bounce buffer. It succeeds
 * only if every byte is resident; otherwise the caller falls back to
 * umsd_copy() per region, which handles missing pages, faulting and unmapped
 * ranges.
 *
 * umsd_copy_floor() is the benchmark floor (module parameter debug_floor):
 * the same page-by-page copy from a kernel buffer, without attaching.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>

#include "compat.h"

#include "umsampler.h"

/* Mappings we refuse to read: device memory, raw PFN maps (reads may have side effects). */
#define UMS_VM_DENY	(VM_IO | VM_PFNMAP)

/**
 * ums_range_readable() - is [addr, addr + len) entirely mapped readable?
 * @mm:		address space; the caller holds its mmap lock (read)
 * @addr:	start
 * @len:	length, > 0
 *
 * Return: true if every byte lies in a VMA with VM_READ and without
 * VM_IO/VM_PFNMAP.
 */
bool ums_range_readable(struct mm_struct *mm, u64 addr, u64 len)
{
	u64 end = addr + len;
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	while (addr < end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr)
			return false;
		if (!(vma->vm_flags & VM_READ) || (vma->vm_flags & UMS_VM_DENY))
			return false;
		addr = vma->vm_end;
	}
	return true;
}

/*
 * Fault in the page at @addr for reading without ever waiting (see the top of
 * the file). Returns 1 if the page is now mapped, else <= 0.
 */
static long umsd_fault_in(struct mm_struct *mm, u64 addr)
{
	struct vm_area_struct *vma;
	struct page *page;
	long ret = 0;

	if (!mmap_read_trylock(mm))
		return -EAGAIN;
	/*
	 * Never fault in userfaultfd-armed memory: filling it is the target's
	 * fault handler's business, not ours. Worse, once the target's uffd is
	 * being released (the target exits, or closes it), handle_userfault()
	 * answers VM_FAULT_NOPAGE and GUP retries the page forever with our
	 * read lock held, while userfaultfd_release() waits for the write lock:
	 * the sampler spins and the target can never exit. The uffd flags of a
	 * VMA only change under the write lock, so this check holds for the GUP.
	 */
	vma = vma_lookup(mm, addr);
	if (vma && !userfaultfd_armed(vma))
		ret = ums_gup_remote(mm, addr, FOLL_NOWAIT, &page);
	mmap_read_unlock(mm);
	if (ret > 0)
		put_page(page);
	return ret;
}

/**
 * umsd_copy() - copy a region's bytes from the attached address space
 * @r:		region (sampler-owned fields only are touched)
 * @dst:	r->len bytes
 * @mm:		the address space the sampler is attached to (kthread_use_mm)
 *
 * Return: UMS_F_PARTIAL if some bytes could not be read (they are zeroed),
 * else 0. Updates r->unmapped_streak when bytes are missing because the range
 * is no longer mapped (as opposed to not resident).
 */
u32 umsd_copy(struct ums_region *r, u8 *dst, struct mm_struct *mm)
{
	const u8 __user *src = (const u8 __user *)(uintptr_t)r->addr;
	size_t left = r->len, chunk, off = 0;
	bool missing = false;
	long ret;

	while (left) {
		chunk = min_t(size_t, left, PAGE_SIZE - offset_in_page(src + off));
		ret = copy_from_user_nofault(dst + off, src + off, chunk);
		if (ret && r->fault && umsd_fault_in(mm, r->addr + off) > 0)
			ret = copy_from_user_nofault(dst + off, src + off, chunk);
		if (ret) {
			memset(dst + off, 0, chunk);
			missing = true;
		}
		off += chunk;
		left -= chunk;
	}
	if (!missing) {
		r->unmapped_streak = 0;
		return 0;
	}

	/*
	 * Not resident, or unmapped? Only ask when bytes are missing, and never
	 * wait for the mmap lock: if it is contended, count nothing.
	 */
	if (mmap_read_trylock(mm)) {
		if (ums_range_readable(mm, r->addr, r->len))
			r->unmapped_streak = 0;
		else
			r->unmapped_streak++;
		mmap_read_unlock(mm);
	}
	return UMS_F_PARTIAL;
}

/* Source of debug_floor samples: one page of a fixed pattern. */
static u8 umsd_floor_page[PAGE_SIZE] = { 0x55, 0xaa };

/*
 * What user memory at [addr, addr + len) would hold if every page were
 * umsd_floor_page: the page-by-page copy of umsd_copy(), from a kernel buffer.
 */
static void umsd_floor_read(u64 addr, size_t len, u8 *dst)
{
	size_t chunk, off = 0;

	while (off < len) {
		chunk = min_t(size_t, len - off, PAGE_SIZE - offset_in_page(addr + off));
		memcpy(dst + off, umsd_floor_page + offset_in_page(addr + off), chunk);
		off += chunk;
	}
}

/**
 * umsd_copy_span() - copy one span of user memory, all or nothing
 * @addr:	start (user address)
 * @len:	bytes, at most PAGE_SIZE (so at most two pages)
 * @dst:	@len bytes
 * @mm:		the attached address space, or NULL for debug_floor (the bytes
 *		then come from a kernel buffer, as in umsd_copy_floor())
 *
 * Never faults anything in and never touches r->unmapped_streak: a span that
 * cannot be read whole is read again region by region with umsd_copy().
 * Return: true if all @len bytes were copied.
 */
bool umsd_copy_span(u64 addr, size_t len, u8 *dst, struct mm_struct *mm)
{
	if (mm)
		return !copy_from_user_nofault(dst, (const void __user *)(uintptr_t)addr, len);
	umsd_floor_read(addr, len, dst);
	return true;
}

/**
 * umsd_copy_floor() - fill a sample from a kernel buffer (debug_floor)
 * @r:		region
 * @dst:	r->len bytes
 *
 * Costs what umsd_copy() costs minus the attach and the user access, so that
 * `make bench` can show what attaching to user memory adds.
 * Return: 0 (never partial).
 */
u32 umsd_copy_floor(struct ums_region *r, u8 *dst)
{
	umsd_floor_read(r->addr, r->len, dst);
	return 0;
}
