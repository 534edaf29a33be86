// SPDX-License-Identifier: GPL-2.0
/*
 * gmemvmm: boot a Linux guest whose RAM is all in one guest_memfd.
 * Options, KVM and VM setup, the wait for the end, and the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "gmemvmm.h"

#define EXIT_SIGNAL	105	/* SIGINT or SIGTERM */

/*
 * no_timer_check: a guest without CONFIG_KVM_GUEST checks that the PIT
 * ticks through the IOAPIC during a calibrated delay; nested under QEMU's
 * TCG that check failed ("IO-APIC + timer doesn't work!") although the
 * IOAPIC delivers other interrupts; kvmclock guests skip it anyway.
 * earlyprintk: the compressed kernel's decompressor reads that (or a
 * console=uart8250,... option), not earlycon or console=ttyS0; without it,
 * a guest whose image was loaded wrong halts without a word.
 */
#define DEFAULT_CMDLINE	"console=ttyS0 earlycon=uart8250,io,0x3f8 earlyprintk=serial,ttyS0,115200 panic=-1 pci=off no_timer_check"

struct outcome outcome = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.code = -1,
};

static struct timespec t_start;

static const char * const mem_names[] = {
	[MEM_GMEM_NODIRECT] = "gmem-nodirect",
	[MEM_GMEM] = "gmem",
	[MEM_ANON] = "anon",
};

static struct {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *append;
	const char *summary;
	const char *symbols;
	const char *kvm_dev;
	unsigned long mem_mib;
	unsigned long cpus;
	unsigned long timeout;
	unsigned long stall;
	unsigned long trace;
	enum mem_kind kind;
	int xsave;		/* 1 on, 0 off, -1 auto: off under QEMU's TCG */
	bool verbose;
} opt = {
	.xsave = -1,
	.mem_mib = MEM_DEFAULT_MIB,
	.cpus = CPUS_DEFAULT,
	.timeout = TIMEOUT_DEFAULT,
	.stall = STALL_DEFAULT,
	.kind = MEM_GMEM_NODIRECT,
	.kvm_dev = "/dev/kvm",
};

static struct vm vm = { .kvm_fd = -1, .vm_fd = -1, .gmem_fd = -1 };

double vmm_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t_start.tv_sec) + (t.tv_nsec - t_start.tv_nsec) / 1e9;
}

void vmm_err(const char *fmt, ...)
{
	va_list ap;

	fputs("gmemvmm: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void finish(int code, const char *reason, const char *fmt, ...)
{
	va_list ap;
	bool first;

	pthread_mutex_lock(&outcome.lock);
	first = !outcome.done;
	if (first) {
		outcome.done = true;
		outcome.code = code;
		snprintf(outcome.reason, sizeof(outcome.reason), "%s", reason);
	}
	fprintf(stderr, "gmemvmm: %s", first ? "" : "(after the end) ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&outcome.lock);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: gmemvmm --kernel BZIMAGE [options]\n"
"Boot a Linux guest whose RAM is all in one guest_memfd of a\n"
"KVM_X86_SW_PROTECTED_VM, marked private, loaded with pwrite().\n"
"\n"
"  -k, --kernel FILE     x86-64 bzImage (boot protocol 2.12 or later)\n"
"  -i, --initrd FILE     initramfs, loaded at the top of guest RAM\n"
"  -m, --mem MIB         guest RAM in MiB, %d to %d (default %d)\n"
"  -c, --cpus N          vCPUs, 1 to %d (default %d)\n"
"      --cmdline TEXT    kernel command line (default:\n"
"                        \"%s\")\n"
"      --append TEXT     add TEXT to the command line, may be repeated\n"
"                        (gmemvmm itself adds\n"
"                        gmemvmm.cpus=N for the guest's init)\n"
"      --memory KIND     gmem-nodirect (default): a guest_memfd created with\n"
"                        GUEST_MEMFD_FLAG_NO_DIRECT_MAP; gmem: a plain\n"
"                        guest_memfd; anon: anonymous memory in an ordinary\n"
"                        (default type) VM, for comparison\n"
"  -t, --timeout SECONDS end with exit code %d when the guest has not ended\n"
"                        by then (default %d)\n"
"      --stall SECONDS   end the same way when the guest's console has been\n"
"                        silent that long (default 0: never)\n"
"                        A run that fails, other than by the guest's own\n"
"                        status, reports the guest's last console lines,\n"
"                        each vCPU thread's kernel stack, registers, events\n"
"                        and last exits, and KVM's statistics\n"
"      --summary FILE    also write the summary line to FILE\n"
"      --symbols FILE    the guest kernel's System.map: name the functions\n"
"                        the vCPUs were in when a run fails\n"
"      --kvm DEVICE      the KVM device (default /dev/kvm)\n"
"      --no-xsave        hide XSAVE, AVX and PKU from the guest; the default\n"
"                        when this kernel runs under QEMU's TCG, whose SVM\n"
"                        lets a nested guest's XSETBV bypass KVM\n"
"      --xsave           show them even then\n"
"      --trace N         single-step vCPU 0 for N instructions, printing\n"
"                        its RIP and control registers after each (debug)\n"
"  -v, --verbose         report unhandled I/O ports\n"
"  -h, --help            this text\n"
"\n"
"The guest's console (16550 UART at port 0x3f8) goes to stdout; the VMM's\n"
"messages and, at the end, one summary line (gmemvmm-summary: key=value\n"
"...) go to stderr.  The guest ends the run by writing a 32-bit status V\n"
"to the exit register, MMIO at gpa 0x%llx (or I/O port 0x%x); MMIO\n"
"gpa 0x%llx+4 reads 0x%08x.\n"
"\n"
"Exit codes: V (0-%d, larger V gives %d): the guest's status;\n"
"  %d bad option or input file; %d KVM or host setup failed (no /dev/kvm,\n"
"  a missing capability, an ioctl); %d the guest reset or triple-faulted;\n"
"  %d timeout; %d a vCPU failed (KVM_RUN error, internal error, failed\n"
"  entry, memory fault, unexpected exit); %d SIGINT or SIGTERM.\n",
		MEM_MIN_MIB, MEM_MAX_MIB, MEM_DEFAULT_MIB, CPUS_MAX, CPUS_DEFAULT,
		DEFAULT_CMDLINE, EXIT_TIMEOUT, TIMEOUT_DEFAULT,
		EXITDEV_GPA, EXITDEV_PORT, EXITDEV_GPA, EXITDEV_MAGIC,
		EXIT_GUEST_MAX, EXIT_GUEST_MAX, EXIT_USAGE, EXIT_HOST, EXIT_RESET,
		EXIT_TIMEOUT, EXIT_VCPU, EXIT_SIGNAL);
}

static void summary(void)
{
	char line[512], when[32] = "none", online[16] = "unknown";
	FILE *f;

	pthread_mutex_lock(&report_lock);
	if (report.result_seen)
		snprintf(when, sizeof(when), "%.1f", report.result_time);
	if (report.cpus_online >= 0)
		snprintf(online, sizeof(online), "%d", report.cpus_online);
	snprintf(line, sizeof(line),
		 "gmemvmm-summary: booted=%s result=%s cpus=%lu cpus_online=%s memory=%s mem_mib=%lu gmem_mib=%lu result_seconds=%s run_seconds=%.1f exit=%s guest_status=%s%u exit_code=%d\n",
		 report.init_started ? "yes" : "no",
		 !report.result_seen ? "none" : report.result_ok ? "ok" : "fail",
		 opt.cpus, online, mem_names[opt.kind], opt.mem_mib,
		 opt.kind == MEM_ANON ? 0 : opt.mem_mib, when, vmm_seconds(),
		 outcome.reason, outcome.have_status ? "" : "none/",
		 outcome.status, outcome.code);
	pthread_mutex_unlock(&report_lock);
	fputs(line, stderr);
	if (opt.summary) {
		f = fopen(opt.summary, "w");
		if (!f || fputs(line, f) < 0 || fclose(f))
			fprintf(stderr, "gmemvmm: cannot write the summary to %s: %s\n",
				opt.summary, strerror(errno));
	}
}

/* End before the guest ran: setup failed (the message is printed). */
static __noreturn void setup_failed(int code, const char *reason)
{
	outcome.code = code;
	snprintf(outcome.reason, sizeof(outcome.reason), "%s", reason);
	summary();
	exit(code);
}

static unsigned long parse_num(const char *name, const char *s,
			       unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		vmm_err("%s must be a number, not \"%s\"", name, s);
		exit(EXIT_USAGE);
	}
	if (v < min || v > max) {
		vmm_err("%s %lu is out of range (%lu to %lu)", name, v, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

/* --append may come more than once: join the words. */
static const char *append_words(const char *old, const char *add)
{
	size_t len;
	char *s;

	if (!old)
		return add;
	len = strlen(old) + strlen(add) + 2;
	s = malloc(len);
	if (!s) {
		vmm_err("out of memory");
		exit(EXIT_HOST);
	}
	snprintf(s, len, "%s %s", old, add);
	return s;
}

static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "append", required_argument, NULL, 'A' },
		{ "memory", required_argument, NULL, 'M' },
		{ "timeout", required_argument, NULL, 't' },
		{ "stall", required_argument, NULL, 's' },
		{ "summary", required_argument, NULL, 'S' },
		{ "symbols", required_argument, NULL, 'Y' },
		{ "kvm", required_argument, NULL, 'K' },
		{ "trace", required_argument, NULL, 'T' },
		{ "xsave", no_argument, NULL, 'X' },
		{ "no-xsave", no_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c, i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:m:c:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			opt.kernel = optarg;
			break;
		case 'i':
			opt.initrd = optarg;
			break;
		case 'm':
			opt.mem_mib = parse_num("--mem", optarg, MEM_MIN_MIB,
						MEM_MAX_MIB);
			break;
		case 'c':
			opt.cpus = parse_num("--cpus", optarg, 1, CPUS_MAX);
			break;
		case 'C':
			opt.cmdline = optarg;
			break;
		case 'A':
			opt.append = append_words(opt.append, optarg);
			break;
		case 'M':
			for (i = 0; i <= MEM_ANON; i++)
				if (!strcmp(optarg, mem_names[i]))
					break;
			if (i > MEM_ANON) {
				vmm_err("--memory takes gmem-nodirect, gmem or anon, not \"%s\"",
					optarg);
				exit(EXIT_USAGE);
			}
			opt.kind = i;
			break;
		case 't':
			opt.timeout = parse_num("--timeout", optarg, 1, 86400);
			break;
		case 's':
			opt.stall = parse_num("--stall", optarg, 0, 86400);
			break;
		case 'S':
			opt.summary = optarg;
			break;
		case 'Y':
			opt.symbols = optarg;
			break;
		case 'K':
			opt.kvm_dev = optarg;
			break;
		case 'T':
			opt.trace = parse_num("--trace", optarg, 0, 10000000);
			break;
		case 'X':
			opt.xsave = 1;
			break;
		case 'x':
			opt.xsave = 0;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			vmm_err("%s needs an argument (see --help)", argv[optind - 1]);
			exit(EXIT_USAGE);
		default:
			vmm_err("unknown option %s (see --help)", argv[optind - 1]);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		vmm_err("unexpected argument \"%s\" (see --help)", argv[optind]);
		exit(EXIT_USAGE);
	}
	if (!opt.kernel) {
		vmm_err("no kernel given: use --kernel BZIMAGE (see --help)");
		exit(EXIT_USAGE);
	}
}

static int check_cap(int fd, int cap, const char *name)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	if (r <= 0)
		vmm_err("KVM lacks %s, which gmemvmm needs", name);
	return r;
}

static void open_kvm(void)
{
	int r;

	vm.kvm_fd = open(opt.kvm_dev, O_RDWR | O_CLOEXEC);
	if (vm.kvm_fd < 0) {
		if (errno == ENOENT)
			vmm_err("%s does not exist: KVM is not available here (no kvm_amd or kvm_intel loaded, or no virtualization in this CPU)",
				opt.kvm_dev);
		else
			vmm_err("cannot open %s: %s", opt.kvm_dev, strerror(errno));
		setup_failed(EXIT_HOST, "no-kvm");
	}
	r = ioctl(vm.kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		vmm_err("%s is not a KVM device with API version %d (KVM_GET_API_VERSION: %d)",
			opt.kvm_dev, KVM_API_VERSION, r);
		setup_failed(EXIT_HOST, "no-kvm");
	}
	if (check_cap(vm.kvm_fd, KVM_CAP_USER_MEMORY2, "KVM_CAP_USER_MEMORY2") <= 0 ||
	    check_cap(vm.kvm_fd, KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP") <= 0 ||
	    check_cap(vm.kvm_fd, KVM_CAP_PIT2, "KVM_CAP_PIT2") <= 0 ||
	    check_cap(vm.kvm_fd, KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID") <= 0 ||
	    check_cap(vm.kvm_fd, KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE") <= 0)
		setup_failed(EXIT_HOST, "missing-capability");
	r = ioctl(vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (r > 0 && opt.cpus > (unsigned long)r) {
		vmm_err("--cpus %lu is more than KVM allows (KVM_CAP_MAX_VCPUS %d)",
			opt.cpus, r);
		setup_failed(EXIT_USAGE, "bad-input");
	}
	if (opt.kind != MEM_ANON) {
		r = ioctl(vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
		if (r < 0 || !(r & (1 << KVM_X86_SW_PROTECTED_VM))) {
			vmm_err("KVM lacks KVM_X86_SW_PROTECTED_VM in KVM_CAP_VM_TYPES (0x%x): it needs CONFIG_KVM_SW_PROTECTED_VM and the TDP MMU (not with kvm_amd.npt=0 or kvm_intel.ept=0); or use --memory=anon",
				r < 0 ? 0 : r);
			setup_failed(EXIT_HOST, "missing-capability");
		}
	}
	vm.vcpu_mmap_size = ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm.vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		vmm_err("KVM_GET_VCPU_MMAP_SIZE failed");
		setup_failed(EXIT_HOST, "kvm-error");
	}
}

#define VM_IOCTL(req, arg, what) do {					\
	if (ioctl(vm.vm_fd, req, arg)) {				\
		vmm_err("%s failed: %s", what, strerror(errno));	\
		setup_failed(EXIT_HOST, "kvm-error");			\
	}								\
} while (0)

static void create_vm(void)
{
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE,
				      .args = { 1 } };
	int type = opt.kind == MEM_ANON ? 0 : KVM_X86_SW_PROTECTED_VM;
	int r;

	vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, type);
	if (vm.vm_fd < 0) {
		vmm_err("KVM_CREATE_VM (type %d, %s) failed: %s", type,
			type ? "KVM_X86_SW_PROTECTED_VM" : "default", strerror(errno));
		setup_failed(EXIT_HOST, "kvm-error");
	}
	if (opt.kind != MEM_ANON) {
		if (check_cap(vm.vm_fd, KVM_CAP_GUEST_MEMFD, "KVM_CAP_GUEST_MEMFD") <= 0)
			setup_failed(EXIT_HOST, "missing-capability");
		r = ioctl(vm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MEMORY_ATTRIBUTES);
		if (r < 0 || !(r & KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
			vmm_err("KVM lacks KVM_MEMORY_ATTRIBUTE_PRIVATE in KVM_CAP_MEMORY_ATTRIBUTES (0x%x) for this VM",
				r < 0 ? 0 : r);
			setup_failed(EXIT_HOST, "missing-capability");
		}
	}
	if (opt.kind == MEM_GMEM_NODIRECT) {
		r = ioctl(vm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD_FLAGS);
		if (r < 0 || !(r & GUEST_MEMFD_FLAG_NO_DIRECT_MAP)) {
			vmm_err("KVM lacks GUEST_MEMFD_FLAG_NO_DIRECT_MAP in KVM_CAP_GUEST_MEMFD_FLAGS (0x%x): a kernel without the gmemwalk series? Try --memory=gmem",
				r < 0 ? 0 : r);
			setup_failed(EXIT_HOST, "missing-capability");
		}
	}
	/* Needed on Intel (VMX) only; harmless elsewhere. */
	if (ioctl(vm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL))
		fprintf(stderr, "gmemvmm: warning: KVM_SET_TSS_ADDR failed: %s\n",
			strerror(errno));
	VM_IOCTL(KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
	VM_IOCTL(KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
	/* Emulation failures exit to us with the instruction bytes. */
	if (ioctl(vm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0)
		VM_IOCTL(KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(KVM_CAP_EXIT_ON_EMULATION_FAILURE)");
}

/*
 * Guest RAM: gpa 0 to --mem in one memslot. In the gmem modes the slot's
 * userspace_addr (the shared view, which the guest never uses) is a
 * PROT_NONE reservation: any access KVM makes there fails instead of
 * reading zeroes.
 */
static void create_memory(void)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm.mem_size,
	};
	struct kvm_create_guest_memfd gmem = { .size = vm.mem_size };
	struct kvm_memory_attributes attr = {
		.address = 0,
		.size = vm.mem_size,
		.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE,
	};
	int prot = opt.kind == MEM_ANON ? PROT_READ | PROT_WRITE : PROT_NONE;

	vm.host_mem = mmap(NULL, vm.mem_size, prot,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.host_mem == MAP_FAILED) {
		vmm_err("cannot reserve %llu MiB of address space: %s",
			(unsigned long long)(vm.mem_size / MIB), strerror(errno));
		setup_failed(EXIT_HOST, "host-error");
	}
	region.userspace_addr = (uintptr_t)vm.host_mem;
	if (opt.kind != MEM_ANON) {
		if (opt.kind == MEM_GMEM_NODIRECT)
			gmem.flags = GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
		vm.gmem_fd = ioctl(vm.vm_fd, KVM_CREATE_GUEST_MEMFD, &gmem);
		if (vm.gmem_fd < 0) {
			vmm_err("KVM_CREATE_GUEST_MEMFD (%llu MiB, flags 0x%llx) failed: %s",
				(unsigned long long)(vm.mem_size / MIB),
				(unsigned long long)gmem.flags, strerror(errno));
			setup_failed(EXIT_HOST, "kvm-error");
		}
		region.flags = KVM_MEM_GUEST_MEMFD;
		region.guest_memfd = vm.gmem_fd;
		region.guest_memfd_offset = 0;
	}
	VM_IOCTL(KVM_SET_USER_MEMORY_REGION2, &region, "KVM_SET_USER_MEMORY_REGION2");
	if (opt.kind != MEM_ANON)
		VM_IOCTL(KVM_SET_MEMORY_ATTRIBUTES, &attr,
			 "KVM_SET_MEMORY_ATTRIBUTES (all RAM private)");
}

static char *build_cmdline(void)
{
	const char *base = opt.cmdline ? opt.cmdline : DEFAULT_CMDLINE;
	size_t len = strlen(base) + (opt.append ? strlen(opt.append) : 0) + 32;
	char *s = malloc(len);

	if (!s) {
		vmm_err("out of memory");
		exit(EXIT_HOST);
	}
	/* The guest's init checks that this many CPUs came online. */
	snprintf(s, len, "%s%s%s gmemvmm.cpus=%lu", base, opt.append ? " " : "",
		 opt.append ? opt.append : "", opt.cpus);
	return s;
}

/*
 * Wait for the end, a signal, the timeout or a stall. Signals are blocked.
 * Time the whole process spent stopped (SIGSTOP, e.g. while make run reads
 * the host's page tables) counts neither for the timeout nor as silence.
 */
static void wait_for_end(sigset_t *sigs)
{
	struct timespec tick = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };
	double idle, now, last = 0, paused = 0;
	unsigned long long bytes;
	bool done;
	int sig;

	for (;;) {
		sig = sigtimedwait(sigs, NULL, &tick);
		if (sig > 0) {
			finish(EXIT_SIGNAL, "signal", "stopped by signal %d (%s)",
			       sig, strsignal(sig));
			continue;
		}
		pthread_mutex_lock(&outcome.lock);
		done = outcome.done;
		pthread_mutex_unlock(&outcome.lock);
		if (done)
			return;
		now = vmm_seconds();
		/* A tick is 0.2 s: a much longer gap is a stop. */
		if (last && now - last > 1) {
			paused += now - last;
			console_pause();
		}
		last = now;
		if (now - paused >= opt.timeout) {
			finish(EXIT_TIMEOUT, "timeout",
			       "timeout: the guest did not end within %lu seconds",
			       opt.timeout);
			continue;
		}
		idle = console_idle(&bytes);
		if (opt.stall && idle >= opt.stall)
			finish(EXIT_TIMEOUT, "stall",
			       "stall: the guest's console has been silent for %.0f seconds (%llu bytes written before%s)",
			       idle, bytes,
			       bytes ? "" : ": not even the decompressor spoke");
	}
}

int main(int argc, char **argv)
{
	struct boot_info bi;
	sigset_t sigs;
	char *cmdline;
	bool failed;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	parse_options(argc, argv);
	vm.kind = opt.kind;
	vm.ncpus = opt.cpus;
	vm.mem_size = opt.mem_mib * MIB;
	vm.verbose = opt.verbose;
	vm.trace_steps = opt.trace;
	vm.no_xsave = opt.xsave == 0 || (opt.xsave < 0 && host_is_qemu_tcg());
	cmdline = build_cmdline();
	if (opt.symbols && load_symbols(opt.symbols))
		exit(EXIT_USAGE);
	if (prepare_linux(&vm, opt.kernel, opt.initrd, cmdline, &bi))
		exit(EXIT_USAGE);

	open_kvm();
	create_vm();
	create_memory();
	if (setup_cpuid(&vm))
		setup_failed(EXIT_HOST, "kvm-error");
	if (load_linux(&vm, &bi))
		setup_failed(EXIT_HOST, "load-error");
	if (vm.no_xsave)
		fprintf(stderr, "gmemvmm: hiding XSAVE, AVX and PKU from the guest (%s)\n",
			opt.xsave ? "running under QEMU's TCG" : "--no-xsave");
	fprintf(stderr, "gmemvmm: %lu vCPUs, %lu MiB of %s memory; kernel at 0x%llx (entry 0x%llx, up to 0x%llx), initramfs at 0x%llx (%llu bytes); cmdline: %s\n",
		opt.cpus, opt.mem_mib, mem_names[opt.kind],
		(unsigned long long)bi.kernel_gpa, (unsigned long long)bi.entry,
		(unsigned long long)bi.kernel_end,
		(unsigned long long)bi.initrd_gpa,
		(unsigned long long)bi.initrd_size, cmdline);

	/* Only the main thread takes SIGINT and SIGTERM, in sigtimedwait(). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	console_init();
	if (start_vcpus(&vm, &bi))
		setup_failed(EXIT_HOST, "kvm-error");
	wait_for_end(&sigs);

	console_flush();
	if (outcome.code != 0)
		console_dump_tail();
	/* A guest that ended with its own status needs no post-mortem. */
	failed = outcome.code != 0 && strcmp(outcome.reason, "guest-status");
	stop_vcpus(&vm, failed);
	if (failed)
		dump_stats(ioctl(vm.vm_fd, KVM_GET_STATS_FD, NULL), "VM", -1);
	summary();
	fflush(NULL);
	_exit(outcome.code);
}
