// SPDX-License-Identifier: GPL-2.0
/*
 * Loading Linux through the x86 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the bzImage's protected-mode part at
 * its preferred address, the initramfs at the top of RAM, boot_params
 * (the "zero page") with the e820 map and the command line, an identity
 * map for the first 4 GiB, a GDT, and an Intel MultiProcessor table
 * (MP spec 1.4) so that Linux finds every vCPU without ACPI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asm/bootparam.h>

#include "gmemvmm.h"

#define SETUP_HDR_OFF		0x1f1
#define BOOT_FLAG		0xaa55
#define HDRS_MAGIC		0x53726448	/* "HdrS" */
#define PROTOCOL_MIN		0x020c		/* 2.12: xloadflags */
#define KERNEL_MAX_SIZE		(256 * MIB)

#define E820_RAM		1
#define E820_RESERVED		2

#define PTE_P			(1ULL << 0)
#define PTE_RW			(1ULL << 1)
#define PTE_PS			(1ULL << 7)

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static int read_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int open_input(const char *what, const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		vmm_err("cannot open the %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		vmm_err("the %s %s is not a regular file", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Check the setup header of a bzImage and fill @hdr with it. Returns the
 * size of the real-mode setup part (where the 64-bit kernel starts in the
 * file), or 0 after printing why the file cannot be booted.
 */
static size_t check_bzimage(const char *path, int fd, uint64_t fsize,
			    struct boot_params *bp)
{
	struct setup_header *h = &bp->hdr;
	unsigned char buf[1024];
	size_t hdr_end, setup_size;
	uint64_t pm_size;

	if (fsize < sizeof(buf)) {
		vmm_err("%s is not a bzImage: it has only %llu bytes", path,
			(unsigned long long)fsize);
		return 0;
	}
	if (read_full(fd, buf, sizeof(buf), 0)) {
		vmm_err("cannot read %s: %s", path, strerror(errno));
		return 0;
	}
	/* The header ends at 0x202 + the byte at 0x201 (the jump's offset). */
	hdr_end = 0x202 + buf[0x201];
	if (hdr_end > SETUP_HDR_OFF + sizeof(*h))
		hdr_end = SETUP_HDR_OFF + sizeof(*h);
	memcpy(h, buf + SETUP_HDR_OFF, hdr_end - SETUP_HDR_OFF);

	if (h->header != HDRS_MAGIC || h->boot_flag != BOOT_FLAG) {
		vmm_err("%s is not a bzImage: no \"HdrS\" boot header at offset 0x202",
			path);
		return 0;
	}
	if (h->version < PROTOCOL_MIN) {
		vmm_err("%s uses boot protocol %u.%02u; the 64-bit entry needs 2.12 or later",
			path, h->version >> 8, h->version & 0xff);
		return 0;
	}
	if (!(h->loadflags & LOADED_HIGH)) {
		vmm_err("%s is a zImage (loaded low), not a bzImage", path);
		return 0;
	}
	if (!(h->xloadflags & XLF_KERNEL_64)) {
		vmm_err("%s has no 64-bit entry point (XLF_KERNEL_64 not set): not an x86-64 kernel",
			path);
		return 0;
	}
	setup_size = ((h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	pm_size = (uint64_t)h->syssize * 16;
	if (fsize > KERNEL_MAX_SIZE) {
		vmm_err("%s is %llu MiB, too large for a bzImage", path,
			(unsigned long long)(fsize / MIB));
		return 0;
	}
	if (fsize < setup_size + pm_size || pm_size == 0) {
		vmm_err("%s is truncated: %llu bytes, its header says %llu",
			path, (unsigned long long)fsize,
			(unsigned long long)(setup_size + pm_size));
		return 0;
	}
	if (h->init_size < pm_size) {
		vmm_err("%s has a bad header: init_size %u is below the kernel's size %llu",
			path, h->init_size, (unsigned long long)pm_size);
		return 0;
	}
	if (h->pref_address < MIB || (h->pref_address & 0xfff)) {
		vmm_err("%s has a bad header: preferred load address 0x%llx",
			path, (unsigned long long)h->pref_address);
		return 0;
	}
	return setup_size;
}

static void add_e820(struct boot_params *bp, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

/* Identity map of the first 4 GiB with 2 MiB pages, and a flat GDT. */
static int write_page_tables(struct vm *vm)
{
	static uint64_t pd[4][512];
	uint64_t pml4[512] = { 0 }, pdpt[512] = { 0 };
	/* null, null, 0x10: 64-bit code, 0x18: data (the boot protocol's) */
	uint64_t gdt[4] = { 0, 0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL };
	int i, j;

	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++) {
		pdpt[i] = (PD_GPA + i * 0x1000) | PTE_P | PTE_RW;
		for (j = 0; j < 512; j++)
			pd[i][j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) +
				   (PTE_P | PTE_RW | PTE_PS);
	}
	if (guest_write(vm, PML4_GPA, pml4, sizeof(pml4)) ||
	    guest_write(vm, PDPT_GPA, pdpt, sizeof(pdpt)) ||
	    guest_write(vm, PD_GPA, pd, sizeof(pd)) ||
	    guest_write(vm, GDT_GPA, gdt, sizeof(gdt)))
		return -1;
	return 0;
}

/* What prepare_linux() found, for load_linux(). */
static struct {
	struct boot_params bp;
	int kernel_fd, initrd_fd;
	size_t setup_size;
	uint64_t kernel_size;
	const char *kernel, *initrd, *cmdline;
} boot = { .kernel_fd = -1, .initrd_fd = -1 };

static int check_initrd(struct vm *vm, const char *path, struct boot_info *bi)
{
	const struct setup_header *h = &boot.bp.hdr;
	uint64_t top, size;
	struct stat st;

	boot.initrd_fd = open_input("initramfs", path, &st);
	if (boot.initrd_fd < 0)
		return -1;
	size = st.st_size;
	top = vm->mem_size;
	if (h->initrd_addr_max && (uint64_t)h->initrd_addr_max + 1 < top)
		top = (uint64_t)h->initrd_addr_max + 1;
	if (size == 0) {
		vmm_err("the initramfs %s is empty", path);
		return -1;
	}
	if (size > top || ((top - size) & ~0xfffULL) < bi->kernel_end) {
		vmm_err("the initramfs %s (%llu MiB) does not fit in guest RAM (%llu MiB) above the kernel (which needs up to %llu MiB); give more --mem",
			path, (unsigned long long)((size + MIB - 1) / MIB),
			(unsigned long long)(vm->mem_size / MIB),
			(unsigned long long)((bi->kernel_end + MIB - 1) / MIB));
		return -1;
	}
	bi->initrd_gpa = (top - size) & ~0xfffULL;
	bi->initrd_size = size;
	return 0;
}

/*
 * Check the kernel, the initramfs and the command line against each other
 * and the RAM size, and choose where they go, before KVM is opened.
 */
int prepare_linux(struct vm *vm, const char *kernel, const char *initrd,
		  const char *cmdline, struct boot_info *bi)
{
	struct setup_header *h = &boot.bp.hdr;
	size_t cmdlen, cmdmax;
	struct stat st;

	memset(bi, 0, sizeof(*bi));
	boot.kernel = kernel;
	boot.initrd = initrd;
	boot.cmdline = cmdline;
	boot.kernel_fd = open_input("kernel", kernel, &st);
	if (boot.kernel_fd < 0)
		return -1;
	boot.kernel_size = st.st_size;
	boot.setup_size = check_bzimage(kernel, boot.kernel_fd, st.st_size,
					&boot.bp);
	if (!boot.setup_size)
		return -1;

	bi->kernel_gpa = h->pref_address;
	bi->kernel_end = align_up(bi->kernel_gpa + h->init_size, 0x1000);
	bi->entry = bi->kernel_gpa + 0x200;	/* startup_64 */
	if (bi->kernel_end > vm->mem_size) {
		vmm_err("the kernel needs guest RAM up to %llu MiB (load address + init_size); give more --mem",
			(unsigned long long)((bi->kernel_end + MIB - 1) / MIB));
		return -1;
	}
	cmdlen = strlen(cmdline);
	cmdmax = h->cmdline_size < CMDLINE_MAX - 1 ? h->cmdline_size :
						     CMDLINE_MAX - 1;
	if (cmdlen > cmdmax) {
		vmm_err("the kernel command line has %zu characters; this kernel takes at most %zu",
			cmdlen, cmdmax);
		return -1;
	}
	if (initrd && check_initrd(vm, initrd, bi))
		return -1;
	return 0;
}

/* Write what prepare_linux() chose into guest RAM. */
int load_linux(struct vm *vm, const struct boot_info *bi)
{
	struct boot_params *bp = &boot.bp;
	struct setup_header *h = &bp->hdr;

	if (lseek(boot.kernel_fd, boot.setup_size, SEEK_SET) < 0 ||
	    guest_write_fd(vm, bi->kernel_gpa, boot.kernel_fd,
			   boot.kernel_size - boot.setup_size)) {
		vmm_err("loading the kernel %s failed", boot.kernel);
		return -1;
	}
	if (boot.initrd_fd >= 0 &&
	    guest_write_fd(vm, bi->initrd_gpa, boot.initrd_fd, bi->initrd_size)) {
		vmm_err("loading the initramfs %s failed", boot.initrd);
		return -1;
	}

	h->type_of_loader = 0xff;
	h->vid_mode = 0xffff;
	h->code32_start = bi->kernel_gpa;
	h->cmd_line_ptr = CMDLINE_GPA;
	h->ramdisk_image = (uint32_t)bi->initrd_gpa;
	h->ramdisk_size = (uint32_t)bi->initrd_size;
	bp->ext_ramdisk_image = bi->initrd_gpa >> 32;
	bp->ext_ramdisk_size = bi->initrd_size >> 32;

	bp->e820_entries = 0;
	add_e820(bp, 0, EBDA_GPA, E820_RAM);
	add_e820(bp, EBDA_GPA, 0xa0000 - EBDA_GPA, E820_RESERVED);
	add_e820(bp, BIOS_GPA, 0x100000 - BIOS_GPA, E820_RESERVED);
	add_e820(bp, 0x100000, vm->mem_size - 0x100000, E820_RAM);

	if (guest_write(vm, CMDLINE_GPA, boot.cmdline, strlen(boot.cmdline) + 1) ||
	    guest_write(vm, BOOT_PARAMS_GPA, bp, sizeof(*bp)) ||
	    write_page_tables(vm))
		return -1;
	return 0;
}

/* MP spec 1.4 structures (packed, little endian). */
struct mpf_intel {
	char signature[4];		/* "_MP_" */
	uint32_t physptr;
	uint8_t length;			/* in 16-byte units: 1 */
	uint8_t specification;		/* 4 */
	uint8_t checksum;
	uint8_t feature1;		/* 0: a config table follows */
	uint8_t feature2;		/* bit 7 clear: virtual wire mode */
	uint8_t feature3, feature4, feature5;
} __packed;

struct mpc_table {
	char signature[4];		/* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;		/* number of entries */
	uint32_t lapic;
	uint32_t reserved;
} __packed;

struct mpc_cpu {
	uint8_t type;			/* 0 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;		/* 1: enabled, 2: boot processor */
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __packed;

struct mpc_bus {
	uint8_t type;			/* 1 */
	uint8_t busid;
	char bustype[6];
} __packed;

struct mpc_ioapic {
	uint8_t type;			/* 2 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;			/* 1: usable */
	uint32_t apicaddr;
} __packed;

struct mpc_intsrc {
	uint8_t type;			/* 3: I/O interrupt, 4: local */
	uint8_t irqtype;		/* 0 INT, 1 NMI, 3 ExtINT */
	uint16_t irqflag;		/* 0: conforms to the bus */
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __packed;

#define MP_IRQ_INT		0
#define MP_IRQ_NMI		1
#define MP_IRQ_EXTINT		3
#define MP_ISA_IRQS		16
#define APIC_VERSION		0x14
#define IOAPIC_VERSION		0x11

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

int write_mptable(struct vm *vm, uint32_t cpu_signature, uint32_t cpu_features)
{
	char buf[1024];
	struct mpf_intel *mpf = (void *)buf;
	struct mpc_table *mpc = (void *)(mpf + 1);
	char *p = (char *)(mpc + 1);
	uint8_t ioapic_id = vm->ncpus;
	int i, entries = 0;

	memset(buf, 0, sizeof(buf));
	if (sizeof(*mpf) + sizeof(*mpc) + vm->ncpus * sizeof(struct mpc_cpu) +
	    sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	    (MP_ISA_IRQS + 2) * sizeof(struct mpc_intsrc) > sizeof(buf)) {
		vmm_err("too many vCPUs for the MP table");
		return -1;
	}

	for (i = 0; i < vm->ncpus; i++) {
		struct mpc_cpu *c = (void *)p;

		c->type = 0;
		c->apicid = i;
		c->apicver = APIC_VERSION;
		c->cpuflag = 1 | (i == 0 ? 2 : 0);
		c->cpufeature = cpu_signature;
		c->featureflag = cpu_features;
		p += sizeof(*c);
		entries++;
	}

	{
		struct mpc_bus *b = (void *)p;

		b->type = 1;
		b->busid = 0;
		memcpy(b->bustype, "ISA   ", 6);
		p += sizeof(*b);
		entries++;
	}
	{
		struct mpc_ioapic *io = (void *)p;

		io->type = 2;
		io->apicid = ioapic_id;
		io->apicver = IOAPIC_VERSION;
		io->flags = 1;
		io->apicaddr = IOAPIC_GPA;
		p += sizeof(*io);
		entries++;
	}
	/* ISA IRQ n -> IOAPIC pin n, as KVM's default GSI routing has it. */
	for (i = 0; i < MP_ISA_IRQS; i++) {
		struct mpc_intsrc *in = (void *)p;

		in->type = 3;
		in->irqtype = MP_IRQ_INT;
		in->srcbus = 0;
		in->srcbusirq = i;
		in->dstapic = ioapic_id;
		in->dstirq = i;
		p += sizeof(*in);
		entries++;
	}
	/* Local APIC LINT0: the 8259's ExtINT, LINT1: NMI, on every CPU. */
	for (i = 0; i < 2; i++) {
		struct mpc_intsrc *l = (void *)p;

		l->type = 4;
		l->irqtype = i ? MP_IRQ_NMI : MP_IRQ_EXTINT;
		l->srcbus = 0;
		l->srcbusirq = 0;
		l->dstapic = 0xff;
		l->dstirq = i;
		p += sizeof(*l);
		entries++;
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (char *)mpc;
	mpc->spec = 4;
	memcpy(mpc->oem, "GMEMWALK", 8);
	memcpy(mpc->productid, "GMEMVMM     ", 12);
	mpc->oemcount = entries;
	mpc->lapic = LAPIC_GPA;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = EBDA_GPA + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));

	return guest_write(vm, EBDA_GPA, buf, p - buf);
}
