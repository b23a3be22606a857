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
 *     in, swapped in or allocated. A page absent from them is still read
 *     where its content is defined without I/O (umsd_absent_page()): zeroes
 *     for anonymous memory that never had a page, the page cache's page for
 *     a file mapping that never had a private copy. FOLL_FORCE only lets GUP follow a
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
#include <linux/pagemap.h>
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

/* umsd_get_page(): no page, but the bytes are zeroes (an anonymous page never touched). */
#define UMSD_ZEROES	1

/*
 * Nothing in the target's page tables at @addr: what would the target read
 * there? It is known without faulting anything in while the mapping never
 * had a page of its own (anon_vma NULL: no copy-on-write copy, so nothing of
 * it can be swapped out) or is a shared file mapping: zeroes for private
 * anonymous memory; for a file, the file's page from the page cache if it is
 * there and up to date (looked up without marking it accessed, never mapped
 * into the target). Anything else may need I/O, may be swapped out, or is
 * for a userfaultfd handler to fill: -ENOENT, the bytes stay missing.
 */
static int umsd_absent_page(struct vm_area_struct *vma, u64 addr, struct page **pagep)
{
	struct folio *folio;
	pgoff_t index;

	/* userfaultfd: the target's own handler decides what a missing page holds */
	if (is_vm_hugetlb_page(vma) || vma_is_dax(vma) || userfaultfd_armed(vma))
		return -ENOENT;
	if (vma_is_anonymous(vma))
		return READ_ONCE(vma->anon_vma) ? -ENOENT : UMSD_ZEROES;
	if (!vma->vm_file || (!(vma->vm_flags & VM_SHARED) && READ_ONCE(vma->anon_vma)))
		return -ENOENT;
	index = linear_page_index(vma, addr);
	/* No FGP_ flags: no lock, no accessed mark, no allocation; never sleeps. */
	folio = filemap_get_folio(vma->vm_file->f_mapping, index);
	if (IS_ERR_OR_NULL(folio))
		return -ENOENT;
	if (!folio_test_uptodate(folio)) {
		folio_put(folio);
		return -ENOENT;
	}
	*pagep = folio_file_page(folio, index);
	return 0;
}

/*
 * Find the page frame holding @addr in @mm (the caller holds its mmap lock
 * for reading) and take a reference on it (GUP's, or the page cache
 * lookup's), which the caller drops with put_page() right after its read.
 * Returns 0, UMSD_ZEROES (no page: the bytes are zeroes), -EFAULT if the
 * address is unmapped or refused, -ENOENT if the page is not resident (and
 * could not be faulted in, nor found as umsd_absent_page() explains),
 * -EHWPOISON if the page has a memory error.
 */
static int umsd_get_page(struct mm_struct *mm, u64 addr, bool fault, struct page **pagep)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	struct page *page;
	long ret;

	if (!vma || umsd_vma_refused(vma))
		return -EFAULT;
	ret = ums_gup_remote(mm, addr, FOLL_FORCE | FOLL_NOFAULT, &page);
	if (ret != 1 && fault && umsd_may_fault(vma))
		ret = ums_gup_remote(mm, addr, FOLL_FORCE | FOLL_NOWAIT, &page);
	if (ret != 1) {
		ret = umsd_absent_page(vma, addr, &page);
		if (ret)
			return ret;
	}
	if (PageHWPoison(page)) {
		put_page(page);
		return -EHWPOISON;
	}
	*pagep = page;
	return 0;
}

/*
 * Copy @len bytes at @addr (within one page) from @mm's page frame into @dst.
 * Returns 0 or umsd_get_page()'s error (-EHWPOISON also for a memory error
 * met by the copy itself).
 */
static int umsd_read_page(struct mm_struct *mm, u64 addr, u8 *dst, size_t len, bool fault)
{
	struct page *page;
	unsigned long rem;
	void *kaddr;
	int ret;

	ret = umsd_get_page(mm, addr, fault, &page);
	if (ret == UMSD_ZEROES) {
		memset(dst, 0, len);
		return 0;
	}
	if (ret)
		return ret;
	kaddr = kmap_local_page(page);
	rem = copy_mc_to_kernel(dst, kaddr + offset_in_page(addr), len);
	kunmap_local(kaddr);
	if (rem)
		memory_failure_queue(page_to_pfn(page), 0);
	put_page(page);
	return rem ? -EHWPOISON : 0;
}

/*
 * Copy [addr, addr + len) from @mm's page frames into @dst, page by page;
 * bytes that cannot be read are zeroed. *@unmapped tells whether some lay
 * outside any readable mapping. Return: UMS_F_PARTIAL if bytes are missing.
 */
static u32 umsd_copy_range(struct mm_struct *mm, u64 addr, size_t len, u8 *dst, bool fault,
			   bool *unmapped)
{
	size_t left = len, chunk, off = 0;
	bool missing = false;
	int ret;

	*unmapped = false;
	while (left) {
		chunk = min_t(size_t, left, PAGE_SIZE - offset_in_page(addr + off));
		ret = umsd_read_page(mm, addr + off, dst + off, chunk, fault);
		if (ret) {
			memset(dst + off, 0, chunk);
			missing = true;
			*unmapped |= ret == -EFAULT;
			if (ret == -EHWPOISON)
				ums_stats.poisoned++;
		}
		off += chunk;
		left -= chunk;
	}
	return missing ? UMS_F_PARTIAL : 0;
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
	bool unmapped;
	u32 flags = umsd_copy_range(mm, r->addr, r->len, dst, r->fault, &unmapped);

	if (unmapped)
		r->unmapped_streak++;
	else
		r->unmapped_streak = 0;
	return flags;
}

/*
 * Read the @size-byte word (4 or 8) at @addr into *@val. Aligned, it is one
 * load (a pointer or counter the target stores at once is never seen half
 * old, half new); unaligned, a byte copy. Returns 0 or a read error.
 */
static int umsd_read_word(struct mm_struct *mm, u64 addr, unsigned int size, bool fault,
			  u64 *val)
{
	struct page *page;
	bool unmapped;
	void *kaddr;
	u8 buf[8];
	u32 v32;
	int ret;

	if (addr & (size - 1)) {
		if (umsd_copy_range(mm, addr, size, buf, fault, &unmapped))
			return unmapped ? -EFAULT : -ENOENT;
		if (size == 8) {
			memcpy(val, buf, 8);
		} else {
			memcpy(&v32, buf, 4);
			*val = v32;
		}
		return 0;
	}
	ret = umsd_get_page(mm, addr, fault, &page);
	if (ret == UMSD_ZEROES) {
		*val = 0;
		return 0;
	}
	if (ret)
		return ret;
	kaddr = kmap_local_page(page) + offset_in_page(addr);
	*val = size == 8 ? READ_ONCE(*(u64 *)kaddr) : READ_ONCE(*(u32 *)kaddr);
	kunmap_local(kaddr);
	put_page(page);
	return 0;
}

/**
 * umsd_chain_object() - follow @r's deref chain to the object its last pointer points to
 * @r:			a region with deref offsets (r->nr_deref > 0)
 * @mm:			the target's address space (mmap lock held for reading)
 * @base_unmapped:	receives whether the base pointer at r->addr lies outside any
 *			readable mapping (what `unmapped_limit` counts for a chain)
 *
 * Regions whose chains differ only in the last offset (fields of one object)
 * reach the same object: umsd_chain_addr() gives each its address in it.
 * Return: the last pointer read, or 0 if a pointer is NULL or unreadable, or
 * a hop leaves the target's address space.
 */
u64 umsd_chain_object(const struct ums_region *r, struct mm_struct *mm, bool *base_unmapped)
{
	u64 a = r->addr, p, limit = mm->task_size;
	unsigned int i;
	int ret;

	*base_unmapped = false;
	for (i = 0; i < r->nr_deref; i++) {
		ret = umsd_read_word(mm, a, r->ptr_size, r->fault, &p);
		if (!i)
			*base_unmapped = ret == -EFAULT;
		if (ret || !p)
			return 0;
		if (i + 1 == r->nr_deref)
			return p;
		a = p + r->deref[i];
		if (a >= limit || limit - a < r->ptr_size)
			return 0;
	}
	return 0;
}

/**
 * umsd_chain_addr() - where @r's bytes lie in the object its chain reached
 * @r:		a region with deref offsets
 * @obj:	umsd_chain_object()'s answer (0: none)
 * @mm:		the target's address space
 *
 * Return: the address, or 0 if there is no object or the bytes would lie
 * outside the target's address space.
 */
u64 umsd_chain_addr(const struct ums_region *r, u64 obj, struct mm_struct *mm)
{
	u64 a = obj + r->deref[r->nr_deref - 1], limit = mm->task_size;

	return obj && a < limit && r->len <= limit - a ? a : 0;
}

/*
 * Copy @r's bytes at @a under its sequence counter (`seq=`): the counter read
 * before and after the copy must be the same even value, else the copy is
 * taken again, UMS_SEQ_TRIES times at most; a sample that never got a stable
 * copy keeps the last one and is flagged UMS_F_TORN. The writer's side
 * (include/umsampler_seq.h): counter + 1 (odd), smp_wmb(), the update,
 * smp_wmb(), counter + 1 (even); so here: counter, smp_rmb(), copy,
 * smp_rmb(), counter.
 */
static u32 umsd_copy_seq(struct ums_region *r, u64 a, u8 *dst, struct mm_struct *mm,
			 bool *unmapped)
{
	u64 sa = r->seq_mode == UMS_SEQ_ABS ? (u64)r->seq : a + r->seq, s1, s2;
	bool copied = false;
	unsigned int try;
	u32 flags = 0;

	for (try = 0; try < UMS_SEQ_TRIES; try++) {
		if (try)
			ums_stats.seq_retries++;
		if (sa >= mm->task_size - 4 || umsd_read_word(mm, sa, 4, r->fault, &s1))
			break;
		if (s1 & 1)
			continue;
		smp_rmb();
		flags = umsd_copy_range(mm, a, r->len, dst, r->fault, unmapped);
		copied = true;
		smp_rmb();
		if (umsd_read_word(mm, sa, 4, r->fault, &s2))
			break;
		if (s1 == s2)
			return flags;
	}
	if (!copied)
		flags = umsd_copy_range(mm, a, r->len, dst, r->fault, unmapped);
	ums_stats.torn++;
	return flags | UMS_F_TORN;
}

/**
 * umsd_copy_chain() - take a sample of a region with `deref=` or `seq=`
 * @r:		the region (sampler-owned fields only are touched)
 * @s:		its next slot: receives the bytes and the address they were read at
 * @mm:		the target's address space, mmap lock held for reading, mm_users
 *		held (mmget)
 *
 * Every hop and the copy follow the same rules as a plain region's copy
 * (resident only, `fault` where it cannot wait, the mapping rules): nothing
 * here sleeps or waits for the target.
 * Return: the sample's flags: UMS_F_UNRESOLVED | UMS_F_PARTIAL (data zeroed,
 * s->addr 0) if the chain did not resolve; UMS_F_PARTIAL for missing bytes;
 * UMS_F_TORN if `seq=` never saw a stable copy.
 */
u32 umsd_copy_chain(struct ums_region *r, struct ums_slot *s, struct mm_struct *mm)
{
	bool unmapped = false, base_unmapped;
	u64 a = r->addr;
	u32 flags;

	if (r->nr_deref) {
		a = umsd_chain_addr(r, umsd_chain_object(r, mm, &base_unmapped), mm);
		if (base_unmapped)
			r->unmapped_streak++;
		else
			r->unmapped_streak = 0;
	}
	s->addr = a;
	if (!a) {
		memset(s->data, 0, r->len);
		ums_stats.unresolved++;
		return UMS_F_UNRESOLVED | UMS_F_PARTIAL;
	}
	if (r->seq_mode)
		flags = umsd_copy_seq(r, a, s->data, mm, &unmapped);
	else
		flags = umsd_copy_range(mm, a, r->len, s->data, r->fault, &unmapped);
	/* A plain region with seq=: its own bytes are the base. */
	if (!r->nr_deref) {
		if (unmapped)
			r->unmapped_streak++;
		else
			r->unmapped_streak = 0;
	}
	return flags;
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
