// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: CPUID from KVM_GET_SUPPORTED_CPUID, vCPU 0 in 64-bit mode at the
 * kernel's 64-bit entry, the others waiting for INIT/SIPI in the in-kernel
 * local APIC; one thread per vCPU running KVM_RUN and handling its exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gmemvmm.h"

#define CPUID_NENT_MAX		1024

#define X86_CR0_PE		(1ULL << 0)
#define X86_CR0_MP		(1ULL << 1)
#define X86_CR0_ET		(1ULL << 4)
#define X86_CR0_NE		(1ULL << 5)
#define X86_CR0_WP		(1ULL << 16)
#define X86_CR0_PG		(1ULL << 31)
#define X86_CR4_PAE		(1ULL << 5)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

/* How many of a vCPU's last exits a failed run reports. */
#define EXIT_LOG		16
/* How long a stopped vCPU thread may take to leave KVM_RUN. */
#define STOP_WAIT_SECONDS	5

/* One exit to userspace: when, why, and the port or address it concerned. */
struct exit_rec {
	double t;
	uint32_t reason;
	uint64_t where;
	int err;		/* errno of a failed KVM_RUN, else 0 */
};

/*
 * The vCPU's thread alone writes the exit log and the counters; the main
 * thread reads them only after the thread has ended (stop_vcpus()).
 */
struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	pid_t tid;		/* for /proc/self/task/TID */
	int stats_fd;		/* KVM_GET_STATS_FD, opened at creation */
	unsigned long nexits;
	struct exit_rec log[EXIT_LOG];
};

static struct vcpu vcpus[CPUS_MAX];

static const char * const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_HYPERV] = "HYPERV",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
	[KVM_EXIT_XEN] = "XEN",
	[KVM_EXIT_NOTIFY] = "NOTIFY",
	[KVM_EXIT_MEMORY_FAULT] = "MEMORY_FAULT",
};

static const char *exit_name(unsigned int r)
{
	if (r < ARRAY_SIZE(exit_names) && exit_names[r])
		return exit_names[r];
	return "(unknown to gmemvmm)";
}

static const char * const internal_names[] = {
	[KVM_INTERNAL_ERROR_EMULATION] = "emulation failure",
	[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception while delivering an exception",
	[KVM_INTERNAL_ERROR_DELIVERY_EV] = "exit while delivering an event (e.g. a fault on the IDT or a stack)",
	[KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "hardware exit reason KVM does not handle",
};

int setup_cpuid(struct vm *vm)
{
	struct kvm_cpuid2 *c;
	int n;

	for (n = 64; n <= CPUID_NENT_MAX; n *= 2) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c) {
			vmm_err("out of memory");
			return -1;
		}
		c->nent = n;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c)) {
			vm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG) {
			vmm_err("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
			return -1;
		}
	}
	vmm_err("KVM_GET_SUPPORTED_CPUID needs more than %d entries", CPUID_NENT_MAX);
	return -1;
}

/* The hypervisor under this kernel (if any) is QEMU's TCG. */
bool host_is_qemu_tcg(void)
{
	unsigned int a, b, c, d;
	char sig[13];

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0x40000000), "c"(0));
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	return !strcmp(sig, "TCGTCGTCGTCG");
}

/*
 * Without XSAVE the guest keeps XCR0 at x87|SSE and saves its FPU state
 * with FXSAVE: for nested guests of QEMU's TCG, whose SVM does not seem to
 * intercept XSETBV, so KVM never learns the guest's XCR0 (CPUID 0xd's
 * sizes disagree with it, and XCR0 falls back to KVM's value on entry).
 */
static void hide_xsave(struct kvm_cpuid_entry2 *e)
{
	switch (e->function) {
	case 1:
		/* FMA, XSAVE, OSXSAVE, AVX, F16C */
		e->ecx &= ~(1U << 12 | 1U << 26 | 1U << 27 | 1U << 28 | 1U << 29);
		break;
	case 7:
		if (e->index)
			break;
		/* AVX2, AVX-512 (F, DQ, IFMA, PF, ER, CD, BW, VL) */
		e->ebx &= ~(1U << 5 | 1U << 16 | 1U << 17 | 1U << 21 |
			    1U << 26 | 1U << 27 | 1U << 28 | 1U << 30 | 1U << 31);
		/* AVX-512 VBMI, PKU, OSPKE, VBMI2, VAES, VPCLMULQDQ, VNNI, ... */
		e->ecx &= ~(1U << 1 | 1U << 3 | 1U << 4 | 1U << 6 | 1U << 9 |
			    1U << 10 | 1U << 11 | 1U << 12 | 1U << 14);
		break;
	case 0xd:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		e->edx = 0;
		break;
	}
}

/* CPUID of one vCPU: its APIC ID, "hypervisor", no nested virtualization. */
static int set_vcpu_cpuid(struct vcpu *v)
{
	struct kvm_cpuid2 *src = v->vm->cpuid;
	size_t size = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	uint32_t i;
	int r;

	if (!c) {
		vmm_err("out of memory");
		return -1;
	}
	memcpy(c, src, size);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)v->id << 24;
			e->ecx |= 1U << 31;		/* hypervisor */
			e->ecx &= ~(1U << 5);		/* VMX */
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->id;			/* x2APIC ID */
			break;
		case 0x80000001:
			e->ecx &= ~(1U << 2);		/* SVM */
			break;
		}
		if (v->vm->no_xsave)
			hide_xsave(e);
	}
	r = ioctl(v->fd, KVM_SET_CPUID2, c);
	if (r)
		vmm_err("KVM_SET_CPUID2 on vCPU %d failed: %s", v->id, strerror(errno));
	free(c);
	return r;
}

static void set_lvt(char *regs, int off, int mode)
{
	uint32_t lvt;

	memcpy(&lvt, regs + off, 4);
	lvt &= ~(0x700U | (1U << 16));		/* delivery mode, mask */
	lvt |= mode << 8;
	memcpy(regs + off, &lvt, 4);
}

/* Virtual wire mode, as a BIOS leaves it: LINT0 ExtINT, LINT1 NMI. */
static int set_lapic(struct vcpu *v)
{
	struct kvm_lapic_state lapic;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic)) {
		vmm_err("KVM_GET_LAPIC on vCPU %d failed: %s", v->id, strerror(errno));
		return -1;
	}
	set_lvt(lapic.regs, APIC_LVT0, APIC_MODE_EXTINT);
	set_lvt(lapic.regs, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic)) {
		vmm_err("KVM_SET_LAPIC on vCPU %d failed: %s", v->id, strerror(errno));
		return -1;
	}
	return 0;
}

/* vCPU 0: 64-bit mode, flat segments, paging on, RSI = boot_params. */
static int set_boot_regs(struct vcpu *v, const struct boot_info *bi)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10,
		.type = 11, .present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 0x18,
		.type = 3, .present = 1, .s = 1, .db = 1, .g = 1,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs)) {
		vmm_err("KVM_GET_SREGS failed: %s", strerror(errno));
		return -1;
	}
	sregs.cs = code;
	sregs.ds = data;
	sregs.es = data;
	sregs.fs = data;
	sregs.gs = data;
	sregs.ss = data;
	sregs.tr.base = 0;
	sregs.tr.limit = 0x67;
	sregs.tr.selector = 0;
	sregs.tr.type = 11;		/* busy 64-bit TSS */
	sregs.tr.present = 1;
	sregs.tr.s = 0;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		    X86_CR0_WP | X86_CR0_PG;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = X86_CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs)) {
		vmm_err("KVM_SET_SREGS failed: %s", strerror(errno));
		return -1;
	}

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = bi->entry;
	regs.rsi = BOOT_PARAMS_GPA;
	regs.rsp = PML4_GPA - 0x10;
	if (ioctl(v->fd, KVM_SET_REGS, &regs)) {
		vmm_err("KVM_SET_REGS failed: %s", strerror(errno));
		return -1;
	}

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu)) {
		vmm_err("KVM_SET_FPU failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Registers, and where KVM's walker puts RIP, for an error report. */
static void dump_state(struct vcpu *v)
{
	struct kvm_translation tr = { 0 };
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_REGS, &r) || ioctl(v->fd, KVM_GET_SREGS, &s)) {
		fprintf(stderr, "gmemvmm: vCPU %d: cannot read its registers: %s\n",
			v->id, strerror(errno));
		return;
	}
	fprintf(stderr,
		"gmemvmm: vCPU %d: RIP=0x%llx%s RSP=0x%llx RFLAGS=0x%llx CS=0x%x (%s) CR0=0x%llx CR2=0x%llx CR3=0x%llx CR4=0x%llx EFER=0x%llx\n",
		v->id, r.rip, symbol(r.rip), r.rsp, r.rflags, s.cs.selector,
		s.cs.l ? "64-bit" : s.cs.db ? "32-bit" : "16-bit",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	if (r.rip == 0xfff0 && s.cs.selector == 0xf000) {
		fprintf(stderr, "gmemvmm: vCPU %d: (that is the reset state: KVM reinitialized the vCPU, e.g. after a shutdown on AMD; where the guest was is lost; the test VM's kvm:* trace events show it)\n",
			v->id);
		return;
	}
	fprintf(stderr,
		"gmemvmm: vCPU %d: RAX=0x%llx RBX=0x%llx RCX=0x%llx RDX=0x%llx RSI=0x%llx RDI=0x%llx RBP=0x%llx\n",
		v->id, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp);
	tr.linear_address = r.rip;
	if (ioctl(v->fd, KVM_TRANSLATE, &tr))
		fprintf(stderr, "gmemvmm: vCPU %d: KVM_TRANSLATE of RIP failed: %s\n",
			v->id, strerror(errno));
	else if (!tr.valid)
		fprintf(stderr, "gmemvmm: vCPU %d: KVM_TRANSLATE of RIP: not mapped (KVM's page-table walk found no valid translation)\n",
			v->id);
	else
		fprintf(stderr, "gmemvmm: vCPU %d: KVM_TRANSLATE of RIP: gpa 0x%llx\n",
			v->id, tr.physical_address);
}

static void internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t sub = run->internal.suberror;
	const char *name = "unknown suberror";
	char bytes[64] = "", *p = bytes;
	uint32_t i, first = 0;

	if (sub < ARRAY_SIZE(internal_names) && internal_names[sub])
		name = internal_names[sub];
	fprintf(stderr, "gmemvmm: vCPU %d: KVM_EXIT_INTERNAL_ERROR, suberror %u: %s\n",
		v->id, sub, name);
	if (sub == KVM_INTERNAL_ERROR_EMULATION && run->emulation_failure.ndata >= 1) {
		fprintf(stderr, "gmemvmm: vCPU %d: emulation failure flags 0x%llx\n",
			v->id, (unsigned long long)run->emulation_failure.flags);
		first = 1;
		if ((run->emulation_failure.flags &
		     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
		    run->emulation_failure.ndata >= 3) {
			for (i = 0; i < run->emulation_failure.insn_size && i < 15; i++)
				p += sprintf(p, " %02x", run->emulation_failure.insn_bytes[i]);
			fprintf(stderr, "gmemvmm: vCPU %d: instruction bytes KVM fetched (%u):%s\n",
				v->id, run->emulation_failure.insn_size,
				run->emulation_failure.insn_size ? bytes : " none");
			first = 3;
		}
		/* Then the exit info: reason, info1, info2, intr info, error code. */
		if (run->emulation_failure.ndata >= first + 5)
			fprintf(stderr,
				"gmemvmm: vCPU %d: last hardware exit: reason 0x%llx info1 0x%llx info2 0x%llx intr_info 0x%llx error_code 0x%llx\n",
				v->id, run->internal.data[first],
				run->internal.data[first + 1],
				run->internal.data[first + 2],
				run->internal.data[first + 3],
				run->internal.data[first + 4]);
		first += 5;
	}
	for (i = first; i < run->internal.ndata && i < 16; i++)
		fprintf(stderr, "gmemvmm: vCPU %d: data[%u] = 0x%llx\n", v->id, i,
			run->internal.data[i]);
	dump_state(v);
	finish(EXIT_VCPU, "internal-error", "vCPU %d: KVM reported an internal error (suberror %u, %s)",
	       v->id, sub, name);
}

static void memory_fault(struct vcpu *v, int err)
{
	struct kvm_run *run = v->run;
	unsigned long long flags = run->memory_fault.flags;

	fprintf(stderr, "gmemvmm: vCPU %d: KVM_EXIT_MEMORY_FAULT (KVM_RUN: %s): gpa 0x%llx size 0x%llx flags 0x%llx%s\n",
		v->id, strerror(err), (unsigned long long)run->memory_fault.gpa,
		(unsigned long long)run->memory_fault.size, flags,
		flags & KVM_MEMORY_EXIT_FLAG_PRIVATE ? " (private)" : " (shared)");
	dump_state(v);
	finish(EXIT_VCPU, "memory-fault",
	       "vCPU %d: KVM could not map gpa 0x%llx for the guest (%s access, %s)",
	       v->id, (unsigned long long)run->memory_fault.gpa,
	       flags & KVM_MEMORY_EXIT_FLAG_PRIVATE ? "private" : "shared",
	       strerror(err));
}

/* --trace N: print where vCPU 0 is for its first N instructions. */
static int set_single_step(struct vcpu *v, bool on)
{
	struct kvm_guest_debug dbg = { 0 };

	if (on)
		dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg)) {
		vmm_err("KVM_SET_GUEST_DEBUG on vCPU %d failed: %s", v->id,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void trace_step(struct vcpu *v, unsigned long *steps)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (!ioctl(v->fd, KVM_GET_REGS, &r) && !ioctl(v->fd, KVM_GET_SREGS, &s))
		fprintf(stderr, "gmemvmm: trace %lu: RIP=0x%llx RSP=0x%llx CR0=0x%llx CR3=0x%llx CR4=0x%llx EFER=0x%llx CS.l=%u\n",
			*steps, r.rip, r.rsp, s.cr0, s.cr3, s.cr4, s.efer, s.cs.l);
	if (++*steps == v->vm->trace_steps)
		set_single_step(v, false);
}

static bool stopping(void)
{
	bool done;

	pthread_mutex_lock(&outcome.lock);
	done = outcome.done;
	pthread_mutex_unlock(&outcome.lock);
	return done;
}

static void log_exit(struct vcpu *v, int err)
{
	struct kvm_run *run = v->run;
	struct exit_rec *e = &v->log[v->nexits++ % EXIT_LOG];

	e->t = vmm_seconds();
	e->err = err;
	e->reason = err ? ~0U : run->exit_reason;
	switch (e->reason) {
	case KVM_EXIT_IO:
		e->where = run->io.port | (uint64_t)run->io.direction << 16;
		break;
	case KVM_EXIT_MMIO:
		e->where = run->mmio.phys_addr;
		break;
	case KVM_EXIT_MEMORY_FAULT:
		e->where = run->memory_fault.gpa;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		e->where = run->internal.suberror;
		break;
	default:
		e->where = 0;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	unsigned long steps = 0;
	uint8_t *data;
	uint32_t i;
	int r, err;

	__atomic_store_n(&v->tid, syscall(SYS_gettid), __ATOMIC_RELAXED);
	if (v->id == 0 && v->vm->trace_steps && set_single_step(v, true))
		v->vm->trace_steps = 0;

	while (!stopping()) {
		r = ioctl(v->fd, KVM_RUN, 0);
		err = errno;
		log_exit(v, r < 0 ? err : 0);
		if (r < 0 && (err == EINTR || err == EAGAIN))
			continue;
		if (r < 0 && (err == EFAULT || err == EHWPOISON) &&
		    run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
			memory_fault(v, err);
			break;
		}
		if (r < 0) {
			dump_state(v);
			finish(EXIT_VCPU, "kvm-run-error",
			       "vCPU %d: KVM_RUN failed: %s (exit reason %u, %s)",
			       v->id, strerror(err), run->exit_reason,
			       exit_name(run->exit_reason));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			data = (uint8_t *)run + run->io.data_offset;
			for (i = 0; i < run->io.count; i++)
				handle_io(v->vm, v->id, run->io.port,
					  run->io.direction == KVM_EXIT_IO_OUT,
					  data + i * run->io.size, run->io.size);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(v->vm, v->id, run->mmio.phys_addr,
				    run->mmio.is_write, run->mmio.data,
				    run->mmio.len);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_DEBUG:
			if (steps < v->vm->trace_steps) {
				trace_step(v, &steps);
				break;
			}
			dump_state(v);
			finish(EXIT_VCPU, "unexpected-exit",
			       "vCPU %d: KVM_EXIT_DEBUG (exception %u) without --trace",
			       v->id, run->debug.arch.exception);
			return NULL;
		case KVM_EXIT_SHUTDOWN:
			dump_state(v);
			finish(EXIT_RESET, "shutdown",
			       "vCPU %d: KVM_EXIT_SHUTDOWN: the guest triple-faulted or reset",
			       v->id);
			return NULL;
		case KVM_EXIT_SYSTEM_EVENT:
			finish(run->system_event.type == KVM_SYSTEM_EVENT_CRASH ?
			       EXIT_VCPU : EXIT_RESET, "system-event",
			       "vCPU %d: KVM_EXIT_SYSTEM_EVENT type %u (1 shutdown, 2 reset, 3 crash)",
			       v->id, run->system_event.type);
			return NULL;
		case KVM_EXIT_INTERNAL_ERROR:
			internal_error(v);
			return NULL;
		case KVM_EXIT_FAIL_ENTRY:
			dump_state(v);
			finish(EXIT_VCPU, "fail-entry",
			       "vCPU %d: KVM_EXIT_FAIL_ENTRY: the CPU refused to enter the guest, hardware reason 0x%llx on host CPU %u",
			       v->id,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			       run->fail_entry.cpu);
			return NULL;
		case KVM_EXIT_MEMORY_FAULT:
			memory_fault(v, 0);
			return NULL;
		default:
			dump_state(v);
			finish(EXIT_VCPU, "unexpected-exit",
			       "vCPU %d: unexpected exit reason %u (%s)", v->id,
			       run->exit_reason, exit_name(run->exit_reason));
			return NULL;
		}
	}
	return NULL;
}

static int install_kick(void);

int start_vcpus(struct vm *vm, const struct boot_info *bi)
{
	struct kvm_cpuid_entry2 *leaf1 = NULL;
	struct kvm_mp_state mp;
	uint32_t i;
	int id;

	for (i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == 1)
			leaf1 = &vm->cpuid->entries[i];
	if (!leaf1) {
		vmm_err("KVM_GET_SUPPORTED_CPUID has no leaf 1");
		return -1;
	}
	if (write_mptable(vm, leaf1->eax, leaf1->edx))
		return -1;

	for (id = 0; id < vm->ncpus; id++) {
		struct vcpu *v = &vcpus[id];

		v->vm = vm;
		v->id = id;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
		if (v->fd < 0) {
			vmm_err("KVM_CREATE_VCPU %d failed: %s", id, strerror(errno));
			return -1;
		}
		/*
		 * Now: a later KVM_GET_STATS_FD would wait for the vCPU's
		 * mutex, which a vCPU stuck in KVM_RUN never lets go.
		 */
		v->stats_fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);
		v->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			vmm_err("mmap of vCPU %d's kvm_run failed: %s", id, strerror(errno));
			return -1;
		}
		if (set_vcpu_cpuid(v) || set_lapic(v))
			return -1;
		if (id == 0 && set_boot_regs(v, bi))
			return -1;
		/* The BSP runs; the APs wait for INIT/SIPI from it. */
		mp.mp_state = id ? KVM_MP_STATE_UNINITIALIZED : KVM_MP_STATE_RUNNABLE;
		if (ioctl(v->fd, KVM_SET_MP_STATE, &mp)) {
			vmm_err("KVM_SET_MP_STATE on vCPU %d failed: %s", id, strerror(errno));
			return -1;
		}
	}
	if (install_kick())
		return -1;
	for (id = 0; id < vm->ncpus; id++) {
		if (pthread_create(&vcpus[id].thread, NULL, vcpu_thread, &vcpus[id])) {
			vmm_err("cannot start the thread of vCPU %d", id);
			return -1;
		}
		vcpus[id].started = true;
	}
	return 0;
}

static void kick_handler(int sig)
{
}

/*
 * SIGUSR1 takes a vCPU thread out of KVM_RUN (also out of a halted vCPU's
 * wait in the kernel): no SA_RESTART, so KVM_RUN fails with EINTR.
 */
static int install_kick(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		vmm_err("sigaction(SIGUSR1) failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Read a small /proc file of thread @tid into @buf; its length, or -1. */
static ssize_t read_task_file(pid_t tid, const char *name, char *buf,
			      size_t size)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = 0;
	fclose(f);
	return n;
}

/* The kernel's view of a thread: state, wait channel and stack. */
static void dump_thread(const char *what, pid_t tid)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	FILE *f;

	if (read_task_file(tid, "stat", buf, sizeof(buf)) >= 0) {
		/* "TID (comm) S ...": the state follows the comm's ')'. */
		p = strrchr(buf, ')');
		fprintf(stderr, "gmemvmm: %s (thread %d): state %c", what, tid,
			p && p[1] && p[2] ? p[2] : '?');
	} else {
		fprintf(stderr, "gmemvmm: %s (thread %d): gone", what, tid);
	}
	n = read_task_file(tid, "wchan", buf, sizeof(buf));
	if (n >= 0)
		fprintf(stderr, ", waiting in %s", n && buf[0] != '0' ? buf : "nothing");
	fputc('\n', stderr);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", tid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		fprintf(stderr, "gmemvmm:     %s", buf);
	fclose(f);
}

static const char * const mp_names[] = {
	[KVM_MP_STATE_RUNNABLE] = "runnable",
	[KVM_MP_STATE_UNINITIALIZED] = "uninitialized (waiting for INIT)",
	[KVM_MP_STATE_INIT_RECEIVED] = "INIT received (waiting for SIPI)",
	[KVM_MP_STATE_HALTED] = "halted",
	[KVM_MP_STATE_SIPI_RECEIVED] = "SIPI received",
};

/* What a stopped vCPU was doing: run state, events, its last exits. */
static void dump_vcpu(struct vcpu *v)
{
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp;
	unsigned long i, first, same;
	struct exit_rec *e;

	if (!ioctl(v->fd, KVM_GET_MP_STATE, &mp))
		fprintf(stderr, "gmemvmm: vCPU %d: mp_state %u (%s)\n", v->id,
			mp.mp_state, mp.mp_state < ARRAY_SIZE(mp_names) &&
			mp_names[mp.mp_state] ? mp_names[mp.mp_state] : "other");
	dump_state(v);
	if (!ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev))
		fprintf(stderr, "gmemvmm: vCPU %d: exception %s%u (pending %u, error code %s0x%x), interrupt %s%u, NMI %s%s, interrupt shadow 0x%x\n",
			v->id, ev.exception.injected ? "injected " : "",
			ev.exception.nr, ev.exception.pending,
			ev.exception.has_error_code ? "" : "none/",
			ev.exception.error_code,
			ev.interrupt.injected ? "injected " : "none/",
			ev.interrupt.nr, ev.nmi.injected ? "injected" : "-",
			ev.nmi.pending ? " pending" : "", ev.interrupt.shadow);
	fprintf(stderr, "gmemvmm: vCPU %d: %lu exits to the VMM; the last %lu:\n",
		v->id, v->nexits, v->nexits < EXIT_LOG ? v->nexits : EXIT_LOG);
	first = v->nexits < EXIT_LOG ? 0 : v->nexits - EXIT_LOG;
	for (i = first; i < v->nexits; i += same) {
		e = &v->log[i % EXIT_LOG];
		/* Runs of the same exit (a console line) on one line. */
		for (same = 1; i + same < v->nexits; same++) {
			struct exit_rec *n = &v->log[(i + same) % EXIT_LOG];

			if (n->reason != e->reason || n->where != e->where ||
			    n->err != e->err)
				break;
		}
		if (e->err)
			fprintf(stderr, "gmemvmm:     %9.3fs KVM_RUN failed: %s",
				e->t, strerror(e->err));
		else
			fprintf(stderr, "gmemvmm:     %9.3fs %s 0x%llx", e->t,
				exit_name(e->reason), (unsigned long long)e->where);
		if (same > 1)
			fprintf(stderr, " (%lu times, to %.3fs)", same,
				v->log[(i + same - 1) % EXIT_LOG].t);
		fputc('\n', stderr);
	}
}

/*
 * End the vCPU threads; with @dump, first show where each thread is in
 * the kernel, then, once it has left KVM_RUN, its registers, events and
 * last exits (for a run that timed out, stalled or failed).
 */
void stop_vcpus(struct vm *vm, bool dump)
{
	struct timespec until;
	bool joined[CPUS_MAX];
	int id;

	/* Where every thread is, before any of them is disturbed. */
	for (id = 0; dump && id < vm->ncpus; id++) {
		char what[32];
		pid_t tid = __atomic_load_n(&vcpus[id].tid, __ATOMIC_RELAXED);

		if (!vcpus[id].started || !tid)
			continue;
		snprintf(what, sizeof(what), "vCPU %d", id);
		dump_thread(what, tid);
	}
	for (id = 0; id < vm->ncpus; id++) {
		struct vcpu *v = &vcpus[id];

		joined[id] = !v->started;
		if (!v->started)
			continue;
		/* KVM_RUN returns at once if it had not entered yet. */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_SECONDS;
	for (id = 0; id < vm->ncpus; id++) {
		if (joined[id])
			continue;
		joined[id] = !pthread_timedjoin_np(vcpus[id].thread, NULL, &until);
		if (!joined[id])
			fprintf(stderr, "gmemvmm: vCPU %d: its thread did not leave KVM_RUN within %d seconds of SIGUSR1 (its kernel stack now follows)\n",
				id, STOP_WAIT_SECONDS);
	}
	if (!dump)
		return;
	for (id = 0; id < vm->ncpus; id++) {
		if (!joined[id])
			dump_thread("stuck vCPU", vcpus[id].tid);
		else if (vcpus[id].started)
			dump_vcpu(&vcpus[id]);
		if (vcpus[id].started)
			dump_stats(vcpus[id].stats_fd, "vCPU", id);
	}
}
