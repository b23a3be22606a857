// SPDX-License-Identifier: GPL-2.0
/*
 * copy.c - reading a region's bytes out of its target's page frames, and the
 * rules that decide which of the target's mappings may be read at all.
 *
 * The sampler never runs on the target's page tables (no kthread_use_mm()):
 * with the target's mmap lock try-locked for reading (the caller's job, see
 * sampler.c), each page of a region is
 *  1. checked against the mapping rules (umsd_vma_refused()): VM_READ, and
 *     never device or raw-PFN memory (VM_IO, VM_PFNMAP, VM_MIXEDMAP: reads
 *     may have side effects), memfd_secret() memory, or memory its owner
 *     excluded from core dumps (VM_DONTDUMP). The rules apply at add time and
 *     again on every sample, so a page remapped to such memory after the add
 *     is never read;
 *  2. looked up with get_user_pages_remote(FOLL_NOFAULT | FOLL_FORCE): only a
 *     page present in the target's page tables is found, nothing is faulted
 *     in, swapped in or allocated. FOLL_FORCE only lets GUP follow a
 *     NUMA-balancing PROT_NONE hint (the page is present and is read as it
 *     is, not as zeroes); it never widens the mapping rules, which umsd
 *     checks itself (VM_READ). Protection keys guard the owning threads'
 *     accesses, not a remote reader's: pkey pages are read, as
 *     process_vm_readv() reads them;
 *  3. copied from the page frame with kmap_local_page() + copy_mc_to_kernel()
 *     (the GUP reference is dropped at once: no pin, nothing held past the
 *     copy). A hardware memory error in the page is survived: the bytes read
 *     as zeroes, the sample is partial, `poisoned` counts it and the page is
 *     handed to memory_failure_queue(), instead of the machine check that a
 *     plain copy would raise in kernel context.
 * Missing pages read as zeroes and mark the sample partial.
 *
 * `fault` (in the add command) faults a missing page in with
 * get_user_pages_remote(FOLL_NOWAIT), only where a fault cannot wait for
 * anyone (umsd_may_fault()): private anonymous memory, not hugetlb, not
 * userfaultfd-armed. File and shmem pages may need a read that never
 * completes (a FUSE server that does not answer, MADV_RANDOM, a dead NFS
 * server); userfaultfd pages are filled by the target's own handler (and once
 * its uffd is being released, GUP would retry them forever with the read lock
 * held, so the target could never exit). Such pages are read only when
 * resident. The mmap lock is never waited for.
 *
 * umsd_copy_span() copies several small regions lying close together (a
 * struct's fields) as one span of at most a page, all or nothing.
 * umsd_copy_floor() is the benchmark floor (module parameter debug_floor):
 * the same page-by-page copy from a kernel buffer, without any target.
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hugetlb_inline.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>

#include "compat.h"

#include "umsampler.h"

/* Mappings never read: device memory, raw PFN maps, mixed maps, no-dump memory. */
#define UMS_VM_DENY	(VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_DONTDUMP)

/**
 * umsd_vma_refused() - may the sampler read this mapping?
 * @vma:	a VMA of the target; the caller holds the mmap lock
 *
 * Return: NULL if @vma may be read, else why not (for control messages).
 */
const char *umsd_vma_refused(struct vm_area_struct *vma)
{
	/* memfd_secret() memory: removed from the kernel's own mappings on purpose. */
	if (vma->vm_file && vma->vm_file->f_inode->i_sb->s_magic == SECRETMEM_MAGIC)
		return "memfd_secret memory";
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP))
		return "device or PFN mapping";
	if (vma->vm_flags & VM_DONTDUMP)
		return "excluded from core dumps (MADV_DONTDUMP)";
	if (!(vma->vm_flags & VM_READ))
		return "not readable";
	return NULL;
}

/**
 * ums_range_refused() - may every byte of [addr, addr + len) be read?
 * @mm:		address space; the caller holds its mmap lock (read)
 * @addr:	start
 * @len:	length, > 0
 *
 * Return: NULL if every byte lies in a mapping umsd_vma_refused() accepts,
 * else why not ("not mapped" for a hole).
 */
const char *ums_range_refused(struct mm_struct *mm, u64 addr, u64 len)
{
	u64 end = addr + len;
	struct vm_area_struct *vma;
	const char *why;

	mmap_assert_locked(mm);
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma)
			return "not mapped";
		why = umsd_vma_refused(vma);
		if (why)
			return why;
		addr = vma->vm_end;
	}
	return NULL;
}

/* May `fault` fault a page of @vma in? Only where the fault cannot wait (top of file). */
static bool umsd_may_fault(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma) && !userfaultfd_armed(vma);
}

/*
 * Copy @len bytes at @addr (within one page) from @mm's page frame into @dst.
 * The caller holds @mm's mmap lock for reading. Returns 0, -EFAULT if the
 * address is unmapped or refused, -ENOENT if the page is not resident (and
 * could not be faulted in), -EHWPOISON if the page has a memory error.
 */
static int umsd_read_page(struct mm_struct *mm, u64 addr, u8 *dst, size_t len, bool fault)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	struct page *page;
	unsigned long rem;
	void *kaddr;
	long ret;

	if (!vma || umsd_vma_refused(vma))
		return -EFAULT;
	/* The reference GUP takes is dropped below: held for the copy only. */
	ret = ums_gup_remote(mm, addr, FOLL_FORCE | FOLL_NOFAULT, &page);
	if (ret != 1 && fault && umsd_may_fault(vma))
		ret = ums_gup_remote(mm, addr, FOLL_FORCE | FOLL_NOWAIT, &page);
	if (ret != 1)
		return -ENOENT;
	if (PageHWPoison(page)) {
		put_page(page);
		return -EHWPOISON;
	}
	kaddr = kmap_local_page(page);
	rem = copy_mc_to_kernel(dst, kaddr + offset_in_page(addr), len);
	kunmap_local(kaddr);
	if (rem)
		memory_failure_queue(page_to_pfn(page), 0);
	put_page(page);
	return rem ? -EHWPOISON : 0;
}

/**
 * umsd_copy() - copy a region's bytes from its target's page frames
 * @r:		region (sampler-owned fields only are touched)
 * @dst:	r->len bytes
 * @mm:		the target's address space, mmap lock held for reading, mm_users
 *		held (mmget)
 *
 * Return: UMS_F_PARTIAL if some bytes could not be read (they are zeroed),
 * else 0. Updates r->unmapped_streak: it grows while some bytes lie outside
 * any readable mapping (unmapped, or remapped to memory that is refused), and
 * is reset by a sample whose every page is mapped readable.
 */
u32 umsd_copy(struct ums_region *r, u8 *dst, struct mm_struct *mm)
{
	size_t left = r->len, chunk, off = 0;
	bool missing = false, unmapped = false;
	int ret;

	while (left) {
		chunk = min_t(size_t, left, PAGE_SIZE - offset_in_page(r->addr + off));
		ret = umsd_read_page(mm, r->addr + off, dst + off, chunk, r->fault);
		if (ret) {
			memset(dst + off, 0, chunk);
			missing = true;
			unmapped |= ret == -EFAULT;
			if (ret == -EHWPOISON)
				ums_stats.poisoned++;
		}
		off += chunk;
		left -= chunk;
	}
	if (unmapped)
		r->unmapped_streak++;
	else
		r->unmapped_streak = 0;
	return missing ? UMS_F_PARTIAL : 0;
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
 * @mm:		the target's address space (mmap lock held for reading), or NULL
 *		for debug_floor (the bytes then come from a kernel buffer, as in
 *		umsd_copy_floor())
 *
 * Never faults anything in and never touches r->unmapped_streak: a span that
 * cannot be read whole is read again region by region with umsd_copy().
 * Return: true if all @len bytes were copied.
 */
bool umsd_copy_span(u64 addr, size_t len, u8 *dst, struct mm_struct *mm)
{
	size_t chunk, off = 0;

	if (!mm) {
		umsd_floor_read(addr, len, dst);
		return true;
	}
	while (off < len) {
		chunk = min_t(size_t, len - off, PAGE_SIZE - offset_in_page(addr + off));
		if (umsd_read_page(mm, addr + off, dst + off, chunk, false))
			return false;
		off += chunk;
	}
	return true;
}

/**
 * umsd_copy_floor() - fill a sample from a kernel buffer (debug_floor)
 * @r:		region
 * @dst:	r->len bytes
 *
 * Costs what umsd_copy() costs minus the target, its lock and the page
 * lookups, so that `make bench` can show what reading user memory adds.
 * Return: 0 (never partial).
 */
u32 umsd_copy_floor(struct ums_region *r, u8 *dst)
{
	umsd_floor_read(r->addr, r->len, dst);
	return 0;
}
