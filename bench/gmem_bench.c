// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmem_bench: what guest page-table walks and KVM's accesses to guest_memfd
 * memory cost, run by "make bench" on the base kernel and on the patched
 * one.  Built against the KVM selftest library of the patched tree, and run
 * unchanged on both: what a kernel lacks shows as "-" with the reason.
 *
 * Output, one line per figure and repetition:
 *	<figure> <TAB> <value or -> <TAB> <unit or reason>
 * Figures ending in ".flushes" and ".dmap" count the global kernel TLB
 * flushes (flush_tlb_kernel_range(), flush_tlb_all()) and direct-map
 * changes (set_direct_map_{invalid,default}_noflush()) per operation, with
 * the function tracer.  The selftest library uses 5-level paging where the
 * CPU has LA57 (as QEMU's -cpu max does): a walk then goes through five
 * guest tables, else four.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/falloc.h>
#include <linux/kvm.h>
#include <linux/sizes.h>

#include "hyperv.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "ucall_common.h"

#ifndef GUEST_MEMFD_FLAG_NO_DIRECT_MAP
#define GUEST_MEMFD_FLAG_NO_DIRECT_MAP	(1ULL << 2)
#endif

/*
 * The tables and the page that a walk goes through, above 4GiB: page 0 is
 * the root (a copy of the library's, with BENCH_GVA added), then one table
 * per lower level, then TARGET_PG.  With 5-level paging, the PML4 that
 * BENCH_GVA goes through is a copy of the library's too.
 */
#define DATA_SLOT	10
#define DATA_GPA	SZ_4G
#define DATA_NPAGES	8
#define ROOT_PG		0
#define TARGET_PG	5
/* PML4 index 128, PML5 index 0: the library maps nothing there. */
#define BENCH_GVA	0x400000000000ULL
#define PTE_PW		0x3ULL

/*
 * Fresh pages that the page-fault workload touches, then remaps to the
 * second half of the slot through a view of its own page tables at
 * PTVIEW_GVA, as fork() and copy-on-write do.
 */
#define TOUCH_SLOT	11
#define TOUCH_GPA	(2 * SZ_4G)
#define TOUCH_GVA	0x500000000000ULL
#define PTVIEW_GVA	0x600000000000ULL

#define HV_HYPERCALL_ENABLE	BIT_ULL(0)

static int reps = 5;
static int nr_translate = 20000;
static int nr_fep = 2000;
static int nr_touch = 4096;
static int nr_access = 20000;
static int nr_read = 2000;
static int nr_gpc = 20000;
static size_t pwrite_size = 32 * SZ_1M;

enum mem { MEM_ANON, MEM_GMEM, MEM_GMEM_NDM, NR_MEMS };
static const char * const mem_name[] = { "anon", "gmem", "gmem_ndm" };

static void out(const char *fig, const char *mem, double v, const char *unit)
{
	printf("%s.%s\t%.1f\t%s\n", fig, mem, v, unit);
	fflush(stdout);
}

static void out_na(const char *fig, const char *mem, const char *why)
{
	printf("%s.%s\t-\t%s\n", fig, mem, why);
	fflush(stdout);
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Counting with the function tracer; silently off without tracefs. */
#define TRACING "/sys/kernel/tracing/"
static const char * const flush_fns[] = { "flush_tlb_kernel_range",
					  "flush_tlb_all", NULL };
static const char * const dmap_fns[] = { "set_direct_map_invalid_noflush",
					 "set_direct_map_default_noflush",
					 "set_direct_map_valid_noflush", NULL };
static bool tracing;

static bool trace_write(const char *file, const char *val, bool append)
{
	char path[256];
	int fd, n;

	snprintf(path, sizeof(path), TRACING "%s", file);
	fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return false;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (int)strlen(val);
}

static void trace_init(void)
{
	int i;

	tracing = trace_write("current_tracer", "nop", false) &&
		  trace_write("buffer_size_kb", "8192", false) &&
		  trace_write("set_ftrace_filter", "", false);
	for (i = 0; tracing && flush_fns[i]; i++)
		tracing = trace_write("set_ftrace_filter", flush_fns[i], true);
	for (i = 0; tracing && dmap_fns[i]; i++)
		tracing = trace_write("set_ftrace_filter", dmap_fns[i], true);
	tracing = tracing && trace_write("current_tracer", "function", false);
	if (!tracing)
		fprintf(stderr, "gmem_bench: no function tracer, no counts\n");
}

static void trace_clear(void)
{
	if (tracing)
		trace_write("trace", "", false);
}

/* Calls of @fns (NULL-terminated, at most 3) since trace_clear(). */
static long trace_count(const char * const *fns)
{
	char line[512], pat[3][80];
	int i, nr = 0;
	long n = 0;
	FILE *f;

	f = fopen(TRACING "trace", "r");
	if (!f)
		return -1;
	for (; fns[nr] && nr < 3; nr++)
		snprintf(pat[nr], sizeof(pat[nr]), " %s <-", fns[nr]);
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < nr; i++)
			n += !!strstr(line, pat[i]);
	fclose(f);
	return n;
}

static void out_counts(const char *fig, const char *mem, double ops,
		       const char *unit)
{
	char name[96];

	if (!tracing)
		return;
	snprintf(name, sizeof(name), "%s.flushes", fig);
	out(name, mem, trace_count(flush_fns) / ops, unit);
	snprintf(name, sizeof(name), "%s.dmap", fig);
	out(name, mem, trace_count(dmap_fns) / ops, unit);
}

static u64 gmem_flags_supported(unsigned long type)
{
	struct kvm_vm *vm;
	u64 flags;

	if (!(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(type)))
		return 0;
	vm = vm_create_barebones_type(type);
	flags = kvm_has_cap(KVM_CAP_GUEST_MEMFD_FLAGS) ?
		vm_check_cap(vm, KVM_CAP_GUEST_MEMFD_FLAGS) : 0;
	kvm_vm_free(vm);
	return flags;
}

/* A VM for @mem, with the walk's tables and target page in DATA_SLOT. */
struct bench_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int fd;			/* guest_memfd, or -1 */
	const char *na;		/* why not, if the kernel cannot */
};

static void guest_fep(u64 pml4, u64 n)
{
	u64 cr3 = get_cr3(), val = 0;
	u64 i;

	set_cr3(pml4);
	for (i = 0; i < n; i++) {
		asm volatile(KVM_FEP "mov (%[p]), %[v]"
			     : [v] "=r" (val) : [p] "r" (BENCH_GVA) : "memory");
		asm volatile(KVM_FEP "mov %[v], 8(%[p])"
			     : : [v] "r" (val), [p] "r" (BENCH_GVA) : "memory");
	}
	set_cr3(cr3);
	GUEST_DONE();
}

static void guest_touch(u64 n)
{
	u64 *pte = (u64 *)PTVIEW_GVA;
	u64 i, gva;

	for (i = 0; i < n; i++)
		WRITE_ONCE(*(u8 *)(TOUCH_GVA + i * PAGE_SIZE), 1);
	GUEST_SYNC(0);

	for (i = 0; i < n; i++) {
		gva = TOUCH_GVA + i * PAGE_SIZE;
		WRITE_ONCE(pte[i], pte[i] + n * PAGE_SIZE);
		asm volatile("invlpg (%0)" : : "r" (gva) : "memory");
		WRITE_ONCE(*(u8 *)gva, 2);
	}
	GUEST_DONE();
}

static void guest_read(u64 gva, u64 n)
{
	u64 i, val;

	for (i = 0; i < n; i++)
		asm volatile(KVM_FEP "mov (%[p]), %[v]"
			     : [v] "=r" (val) : [p] "r" (gva) : "memory");
	GUEST_DONE();
}

static void run_until(struct kvm_vcpu *vcpu, u64 cmd)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	if (get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT_EQ(uc.cmd, cmd);
}

static void run_done(struct kvm_vcpu *vcpu)
{
	run_until(vcpu, UCALL_DONE);
}

/* Write one page of DATA_SLOT, where the guest sees it. */
static int data_write(struct bench_vm *b, int pg, const void *buf)
{
	if (b->fd < 0) {
		memcpy(addr_gpa2hva(b->vm, DATA_GPA + pg * PAGE_SIZE), buf,
		       PAGE_SIZE);
		return 0;
	}
	return pwrite(b->fd, buf, PAGE_SIZE, pg * PAGE_SIZE) == PAGE_SIZE ?
	       0 : -errno;
}

static void bench_vm_create(struct bench_vm *b, enum mem mem, void *guest)
{
	const struct vm_shape shape = {
		.mode = VM_MODE_DEFAULT,
		.type = mem == MEM_ANON ? KVM_X86_DEFAULT_VM :
					  KVM_X86_SW_PROTECTED_VM,
	};
	u64 flags = mem == MEM_GMEM_NDM ? GUEST_MEMFD_FLAG_NO_DIRECT_MAP : 0;
	u64 page[PAGE_SIZE / 8];
	int pg, levels;
	u64 lib;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (mem != MEM_ANON) {
		if (!(kvm_check_cap(KVM_CAP_VM_TYPES) &
		      BIT(KVM_X86_SW_PROTECTED_VM))) {
			b->na = "no KVM_X86_SW_PROTECTED_VM";
			return;
		}
		if ((gmem_flags_supported(KVM_X86_SW_PROTECTED_VM) & flags) != flags) {
			b->na = "no GUEST_MEMFD_FLAG_NO_DIRECT_MAP";
			return;
		}
	}

	b->vm = vm_create_shape_with_one_vcpu(shape, &b->vcpu, guest);
	if (mem != MEM_ANON) {
		b->fd = vm_create_guest_memfd(b->vm, DATA_NPAGES * PAGE_SIZE, flags);
		vm_mem_add(b->vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA, DATA_SLOT,
			   DATA_NPAGES, KVM_MEM_GUEST_MEMFD, b->fd, 0);
		vm_mem_set_private(b->vm, DATA_GPA, DATA_NPAGES * PAGE_SIZE);
	} else {
		vm_userspace_mem_region_add(b->vm, VM_MEM_SRC_ANONYMOUS,
					    DATA_GPA, DATA_SLOT, DATA_NPAGES, 0);
	}

	/*
	 * The top tables keep the library's mappings (code, stack, ucalls)
	 * and add BENCH_GVA: page pg holds the table of level levels - pg.
	 */
	levels = b->vm->mmu.pgtable_levels;
	lib = b->vm->mmu.pgd;
	for (pg = 0; pg < levels; pg++) {
		int shift = 12 + 9 * (levels - 1 - pg);
		int idx = (BENCH_GVA >> shift) & 511;
		u64 next = pg == levels - 1 ? DATA_GPA + TARGET_PG * PAGE_SIZE :
			   DATA_GPA + (pg + 1) * PAGE_SIZE;

		memset(page, 0, PAGE_SIZE);
		if (lib) {
			memcpy(page, addr_gpa2hva(b->vm, lib), PAGE_SIZE);
			lib = page[idx] & PTE_PW ? page[idx] & PHYSICAL_PAGE_MASK : 0;
		}
		page[idx] = next | PTE_PW;
		if (data_write(b, pg, page)) {
			b->na = "no pwrite() to guest_memfd";
			return;
		}
	}
	memset(page, 0x5a, PAGE_SIZE);
	TEST_ASSERT(!data_write(b, TARGET_PG, page), "write of target page");
	/* The shared view must not hold a copy that a wrong walk could use. */
	if (b->fd >= 0)
		memset(addr_gpa2hva(b->vm, DATA_GPA), 0, DATA_NPAGES * PAGE_SIZE);
}

static void bench_vm_free(struct bench_vm *b)
{
	if (b->vm)
		kvm_vm_free(b->vm);
	if (b->fd >= 0)
		close(b->fd);
}

/* Load @cr3 into the (stopped) vCPU; return the old one. */
static u64 vcpu_swap_cr3(struct kvm_vcpu *vcpu, u64 cr3)
{
	struct kvm_sregs sregs;
	u64 old;

	vcpu_sregs_get(vcpu, &sregs);
	old = sregs.cr3;
	sregs.cr3 = cr3;
	vcpu_sregs_set(vcpu, &sregs);
	return old;
}

/* One KVM_TRANSLATE of BENCH_GVA with the current CR3: right or not. */
static bool walk_right(struct kvm_vcpu *vcpu)
{
	struct kvm_translation tr = { .linear_address = BENCH_GVA };

	vcpu_ioctl(vcpu, KVM_TRANSLATE, &tr);
	return tr.valid &&
	       tr.physical_address == DATA_GPA + TARGET_PG * PAGE_SIZE;
}

/* KVM_TRANSLATE of BENCH_GVA through the tables in DATA_SLOT. */
static void bench_translate(enum mem mem)
{
	struct bench_vm b;
	u64 t;
	int i;

	bench_vm_create(&b, mem, guest_fep);
	if (b.na)
		goto na;

	vcpu_swap_cr3(b.vcpu, DATA_GPA + ROOT_PG * PAGE_SIZE);
	trace_clear();
	t = now_ns();
	for (i = 0; i < nr_translate; i++) {
		if (!walk_right(b.vcpu)) {
			b.na = "walk fails (reads the shared view)";
			goto na;
		}
	}
	out("walk.translate", mem_name[mem], (double)(now_ns() - t) / nr_translate,
	    "ns/walk");
	out_counts("walk.translate", mem_name[mem], nr_translate, "per walk");
	bench_vm_free(&b);
	return;
na:
	out_na("walk.translate", mem_name[mem], b.na);
	bench_vm_free(&b);
}

/* Forced-emulated load and store through the tables in DATA_SLOT. */
static void bench_fep(enum mem mem)
{
	struct bench_vm b;
	bool right;
	u64 t;

	if (!is_forced_emulation_enabled) {
		out_na("walk.fep", mem_name[mem], "no kvm.force_emulation_prefix");
		return;
	}
	bench_vm_create(&b, mem, guest_fep);
	if (b.na)
		goto na;

	/* Run it only if KVM's walker reads these tables right. */
	t = vcpu_swap_cr3(b.vcpu, DATA_GPA + ROOT_PG * PAGE_SIZE);
	right = walk_right(b.vcpu);
	vcpu_swap_cr3(b.vcpu, t);
	if (!right) {
		b.na = "walk fails (reads the shared view)";
		goto na;
	}

	vcpu_args_set(b.vcpu, 2, DATA_GPA + ROOT_PG * PAGE_SIZE, (u64)nr_fep);
	trace_clear();
	t = now_ns();
	run_done(b.vcpu);
	out("walk.fep", mem_name[mem], (double)(now_ns() - t) / nr_fep,
	    "ns/load+store");
	out_counts("walk.fep", mem_name[mem], nr_fep, "per load+store");
	bench_vm_free(&b);
	return;
na:
	out_na("walk.fep", mem_name[mem], b.na);
	bench_vm_free(&b);
}

/*
 * Page faults on fresh pages, then a remap of each page to another frame by
 * the guest (PTE write, INVLPG, store): with kvm_amd.npt=0, every fault
 * walks the guest's tables, and every PTE write hits a shadowed table.
 */
static void bench_touch(void)
{
	const struct vm_shape shape = { .mode = VM_MODE_DEFAULT };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	u64 t, pt;
	int i;

	vm = vm_create_shape_with_one_vcpu(shape, &vcpu, guest_touch);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TOUCH_GPA,
				    TOUCH_SLOT, 2 * nr_touch, 0);
	virt_map(vm, TOUCH_GVA, TOUCH_GPA, nr_touch);
	/* The leaf tables of TOUCH_GVA, in order, at PTVIEW_GVA. */
	for (i = 0; i < nr_touch; i += PAGE_SIZE / 8) {
		pt = addr_hva2gpa(vm, vm_get_pte(vm, TOUCH_GVA + i * PAGE_SIZE));
		TEST_ASSERT(!(pt & (PAGE_SIZE - 1)), "leaf table not page-aligned");
		virt_map(vm, PTVIEW_GVA + i / (PAGE_SIZE / 8) * PAGE_SIZE, pt, 1);
	}
	vcpu_args_set(vcpu, 1, (u64)nr_touch);

	trace_clear();
	t = now_ns();
	run_until(vcpu, UCALL_SYNC);
	out("fault.touch", "anon", (double)(now_ns() - t) / nr_touch, "ns/page");
	out_counts("fault.touch", "anon", nr_touch, "per page");

	trace_clear();
	t = now_ns();
	run_done(vcpu);
	out("fault.remap", "anon", (double)(now_ns() - t) / nr_touch, "ns/page");
	out_counts("fault.remap", "anon", nr_touch, "per page");
	kvm_vm_free(vm);
}

/* pwrite() of a fresh file: guest_memfd with and without the flag, tmpfs. */
static void bench_pwrite(enum mem mem, char *buf)
{
	const char *name = mem == MEM_ANON ? "tmpfs" : mem_name[mem];
	u64 flags = mem == MEM_GMEM_NDM ? GUEST_MEMFD_FLAG_NO_DIRECT_MAP : 0;
	struct kvm_vm *vm = NULL;
	ssize_t r;
	int fd;
	u64 t;

	if (mem == MEM_ANON) {
		fd = memfd_create("gmem_bench", 0);
		TEST_ASSERT(fd >= 0 && !ftruncate(fd, pwrite_size), "memfd");
	} else {
		if (!(kvm_check_cap(KVM_CAP_VM_TYPES) &
		      BIT(KVM_X86_SW_PROTECTED_VM))) {
			out_na("pwrite", name, "no KVM_X86_SW_PROTECTED_VM");
			return;
		}
		if ((gmem_flags_supported(KVM_X86_SW_PROTECTED_VM) & flags) != flags) {
			out_na("pwrite", name, "no GUEST_MEMFD_FLAG_NO_DIRECT_MAP");
			return;
		}
		vm = vm_create_barebones_type(KVM_X86_SW_PROTECTED_VM);
		fd = vm_create_guest_memfd(vm, pwrite_size, flags);
	}

	trace_clear();
	t = now_ns();
	r = pwrite(fd, buf, pwrite_size, 0);
	t = now_ns() - t;
	if (r != (ssize_t)pwrite_size) {
		out_na("pwrite", name, "no pwrite() to guest_memfd");
	} else {
		out("pwrite", name, pwrite_size / (t / 1e9) / SZ_1M, "MB/s");
		out_counts("pwrite", name, pwrite_size / SZ_1M, "per MB");
	}
	close(fd);
	if (vm)
		kvm_vm_free(vm);
}

/*
 * KVM's own accesses to one page, through the selftest library's (shared)
 * page tables: kvm_vcpu_write_guest() as KVM writes the Hyper-V hypercall
 * page, kvm_vcpu_read_guest() as KVM emulates a load.  "anon" is a default
 * VM's page, "gmem" and "gmem_ndm" a private page.
 */
static void bench_access(enum mem mem)
{
	const u64 gpa = DATA_GPA + TARGET_PG * PAGE_SIZE;
	struct bench_vm b;
	u64 t;
	int i;

	bench_vm_create(&b, mem, guest_read);
	if (b.na)
		goto na;
	virt_map(b.vm, gpa, gpa, 1);

	if (kvm_has_cap(KVM_CAP_HYPERV)) {
		vcpu_set_hv_cpuid(b.vcpu);
		vcpu_set_msr(b.vcpu, HV_X64_MSR_GUEST_OS_ID, HYPERV_LINUX_OS_ID);
		trace_clear();
		t = now_ns();
		for (i = 0; i < nr_access; i++)
			vcpu_set_msr(b.vcpu, HV_X64_MSR_HYPERCALL,
				     gpa | HV_HYPERCALL_ENABLE);
		out("access.write", mem_name[mem],
		    (double)(now_ns() - t) / nr_access, "ns/access");
		out_counts("access.write", mem_name[mem], nr_access, "per access");
	} else {
		out_na("access.write", mem_name[mem], "no KVM_CAP_HYPERV");
	}

	if (is_forced_emulation_enabled) {
		vcpu_args_set(b.vcpu, 2, gpa, (u64)nr_read);
		trace_clear();
		t = now_ns();
		run_done(b.vcpu);
		out("access.read", mem_name[mem],
		    (double)(now_ns() - t) / nr_read, "ns/load");
		out_counts("access.read", mem_name[mem], nr_read, "per load");
	} else {
		out_na("access.read", mem_name[mem], "no kvm.force_emulation_prefix");
	}
	bench_vm_free(&b);
	return;
na:
	out_na("access.write", mem_name[mem], b.na);
	out_na("access.read", mem_name[mem], b.na);
	bench_vm_free(&b);
}

/*
 * A gfn_to_pfn_cache check and access: KVM_XEN_HVM_EVTCHN_SEND of a port
 * whose pending bit is already set is kvm_gpc_check() on the Xen shared info
 * page plus one test_and_set_bit() in it, and the ioctl around them.  The
 * shared info page is the target page: shared memory for "anon", private
 * guest_memfd for the others, mapped by the cache (kvm_gmem_map()).
 */
static void bench_gpc(enum mem mem)
{
	const u64 gpa = DATA_GPA + TARGET_PG * PAGE_SIZE;
	struct kvm_irq_routing_xen_evtchn evt = {
		.port = 5,
		.vcpu = 0,
		.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
	};
	struct kvm_xen_hvm_config cfg = {
		.flags = KVM_XEN_HVM_CONFIG_EVTCHN_SEND,
	};
	struct kvm_xen_hvm_attr attr = {};
	struct bench_vm b;
	u64 t;
	int i;

	if (!(kvm_check_cap(KVM_CAP_XEN_HVM) & KVM_XEN_HVM_CONFIG_EVTCHN_SEND)) {
		out_na("gpc.evtchn", mem_name[mem], "no KVM_XEN_HVM_CONFIG_EVTCHN_SEND");
		return;
	}
	bench_vm_create(&b, mem, guest_read);
	if (b.na) {
		out_na("gpc.evtchn", mem_name[mem], b.na);
		bench_vm_free(&b);
		return;
	}

	vm_ioctl(b.vm, KVM_XEN_HVM_CONFIG, &cfg);
	attr.type = KVM_XEN_ATTR_TYPE_LONG_MODE;
	attr.u.long_mode = 1;
	vm_ioctl(b.vm, KVM_XEN_HVM_SET_ATTR, &attr);
	attr.type = KVM_XEN_ATTR_TYPE_SHARED_INFO;
	attr.u.shared_info.gfn = gpa >> PAGE_SHIFT;
	vm_ioctl(b.vm, KVM_XEN_HVM_SET_ATTR, &attr);

	/* The first send sets the pending bit; the others find it set. */
	vm_ioctl(b.vm, KVM_XEN_HVM_EVTCHN_SEND, &evt);
	trace_clear();
	t = now_ns();
	for (i = 0; i < nr_gpc; i++)
		vm_ioctl(b.vm, KVM_XEN_HVM_EVTCHN_SEND, &evt);
	out("gpc.evtchn", mem_name[mem], (double)(now_ns() - t) / nr_gpc,
	    "ns/send");
	out_counts("gpc.evtchn", mem_name[mem], nr_gpc, "per send");
	bench_vm_free(&b);
}

static void help(const char *name)
{
	printf("usage: %s [-r reps] [-s scale]\n"
	       "  -r  repetitions of every figure (default %d)\n"
	       "  -s  divide the operation counts by this (default 1)\n",
	       name, reps);
	exit(0);
}

int main(int argc, char *argv[])
{
	int opt, scale = 1, r;
	enum mem mem;
	char *buf;

	while ((opt = getopt(argc, argv, "hr:s:")) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi_positive("Repetitions", optarg);
			break;
		case 's':
			scale = atoi_positive("Scale", optarg);
			break;
		default:
			help(argv[0]);
		}
	}
	nr_translate /= scale;
	nr_fep /= scale;
	nr_touch /= scale;
	nr_access /= scale;
	nr_read /= scale;
	nr_gpc /= scale;
	pwrite_size = pwrite_size / scale / PAGE_SIZE * PAGE_SIZE;

	buf = malloc(pwrite_size);
	TEST_ASSERT(buf, "malloc");
	memset(buf, 0xa5, pwrite_size);
	trace_init();

	for (r = 0; r < reps; r++) {
		fprintf(stderr, "gmem_bench: repetition %d of %d\n", r + 1, reps);
		for (mem = 0; mem < NR_MEMS; mem++) {
			bench_translate(mem);
			bench_fep(mem);
			bench_access(mem);
			bench_gpc(mem);
			bench_pwrite(mem, buf);
		}
		bench_touch();
	}
	if (tracing)
		trace_write("current_tracer", "nop", false);
	free(buf);
	return 0;
}
