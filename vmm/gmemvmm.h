/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmemvmm: a small VMM that boots a Linux guest whose RAM is all in one
 * guest_memfd (private memory of a KVM_X86_SW_PROTECTED_VM).
 */
#ifndef GMEMVMM_H
#define GMEMVMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

/* Not in the base kernel's uapi: then KVM_CAP_GUEST_MEMFD_FLAGS says so. */
#ifndef GUEST_MEMFD_FLAG_NO_DIRECT_MAP
#define GUEST_MEMFD_FLAG_NO_DIRECT_MAP	(1ULL << 2)
#endif

#define MIB			(1024ULL * 1024)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __packed		__attribute__((packed))
#define __noreturn		__attribute__((noreturn))
#define __printf(a, b)		__attribute__((format(printf, a, b)))

/* Guest RAM limits: below the 32-bit MMIO hole, no RAM above 4 GiB. */
#define MEM_MIN_MIB		64
#define MEM_MAX_MIB		3072
#define MEM_DEFAULT_MIB		512
#define CPUS_DEFAULT		2
/* The MP table (220 + 20 bytes per vCPU) must fit in the 1 KiB EBDA. */
#define CPUS_MAX		32
#define TIMEOUT_DEFAULT		600
#define STALL_DEFAULT		0	/* never */

/*
 * Guest physical layout of what the VMM writes (all below 1 MiB, except
 * the kernel at its preferred address and the initramfs at the top of
 * RAM):
 */
#define GDT_GPA			0x500ULL
#define BOOT_PARAMS_GPA		0x7000ULL
#define PML4_GPA		0x9000ULL
#define PDPT_GPA		0xa000ULL
#define PD_GPA			0xb000ULL	/* 4 pages: 4 GiB, 2 MiB pages */
#define CMDLINE_GPA		0x20000ULL
#define CMDLINE_MAX		4096
#define EBDA_GPA		0x9fc00ULL	/* the MP table, reserved */
#define BIOS_GPA		0xf0000ULL	/* reserved, left empty */

/*
 * The exit/status device: one 4 KiB MMIO page outside RAM.
 *   offset 0x0: STATUS, a 32-bit write of V ends the VMM with status V.
 *   offset 0x4: MAGIC, reads EXITDEV_MAGIC ("GMVM").
 * The same STATUS register is also an I/O port (32-bit OUT), for guests
 * that cannot map MMIO from userspace (no CONFIG_DEVMEM).
 */
#define EXITDEV_GPA		0xfe000000ULL
#define EXITDEV_SIZE		0x1000ULL
#define EXITDEV_STATUS		0x0
#define EXITDEV_MAGIC_OFF	0x4
#define EXITDEV_MAGIC		0x4d564d47U
#define EXITDEV_PORT		0x501

#define LAPIC_GPA		0xfee00000ULL
#define IOAPIC_GPA		0xfec00000ULL

/* Exit codes of the VMM (besides the guest's own status, 0..99). */
#define EXIT_GUEST_MAX		99	/* guest status V > 99 is reported as 99 */
#define EXIT_USAGE		100	/* bad option or input file */
#define EXIT_HOST		101	/* /dev/kvm, a capability or an ioctl */
#define EXIT_RESET		102	/* guest reset or triple fault */
#define EXIT_TIMEOUT		103	/* no end before --timeout, or --stall */
#define EXIT_VCPU		104	/* KVM_RUN failed or an error exit */

enum mem_kind {
	MEM_GMEM_NODIRECT,
	MEM_GMEM,
	MEM_ANON,
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int gmem_fd;		/* -1 in anon mode */
	enum mem_kind kind;
	uint64_t mem_size;
	void *host_mem;		/* anon: guest RAM; gmem: PROT_NONE placeholder */
	int ncpus;
	int vcpu_mmap_size;
	struct kvm_cpuid2 *cpuid;
	bool no_xsave;		/* hide XSAVE and AVX from the guest */
	unsigned long trace_steps;	/* single-step vCPU 0 this many times */
	bool verbose;
};

/* How the run ended: set once, by whichever thread sees the end first. */
struct outcome {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int code;		/* the VMM's exit code */
	char reason[64];	/* short machine-readable word */
	uint32_t status;	/* the guest's status, if it wrote one */
	bool have_status;
};

extern struct outcome outcome;

/* main.c */
__printf(3, 4) void finish(int code, const char *reason, const char *fmt, ...);
__printf(1, 2) void vmm_err(const char *fmt, ...);
double vmm_seconds(void);

/* mem.c: guest memory, all writes go through here. */
int guest_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len);
int guest_write_fd(struct vm *vm, uint64_t gpa, int fd, uint64_t len);

/* boot.c */
struct boot_info {
	uint64_t entry;		/* 64-bit entry point */
	uint64_t kernel_gpa;
	uint64_t kernel_end;	/* kernel_gpa + init_size */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
};

int prepare_linux(struct vm *vm, const char *kernel, const char *initrd,
		  const char *cmdline, struct boot_info *bi);
int load_linux(struct vm *vm, const struct boot_info *bi);
int write_mptable(struct vm *vm, uint32_t cpu_signature, uint32_t cpu_features);

/* devices.c */
void console_init(void);
void console_flush(void);
void console_dump_tail(void);
double console_idle(unsigned long long *bytes);
void console_pause(void);
void handle_io(struct vm *vm, int cpu, uint16_t port, bool out, uint8_t *data,
	       int size);
void handle_mmio(struct vm *vm, int cpu, uint64_t gpa, bool write,
		 uint8_t *data, int len);

/* What the guest reported on its console. */
struct guest_report {
	bool init_started;
	bool result_seen;
	bool result_ok;
	int cpus_online;	/* -1: not reported */
	double result_time;	/* seconds since VMM start */
	char result_line[512];
};

extern struct guest_report report;
extern pthread_mutex_t report_lock;

/* cpu.c */
int setup_cpuid(struct vm *vm);
bool host_is_qemu_tcg(void);
int start_vcpus(struct vm *vm, const struct boot_info *bi);
void stop_vcpus(struct vm *vm, bool dump);

/* symbols.c */
int load_symbols(const char *path);
const char *symbol(uint64_t addr);

/* stats.c */
void dump_stats(int fd, const char *what, int id);

#endif /* GMEMVMM_H */
