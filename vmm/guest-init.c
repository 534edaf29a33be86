// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of gmemvmm's guest (built static, packed alone in its initramfs).
 *
 * Fills and checksums memory with one forked worker per online CPU, reads
 * CLOCK_MONOTONIC before and after, prints one result line
 *
 *   gmemvmm-result: ok|fail cpus=N mem_mib=M clock_advanced=0|1 checksum=ok|bad ...
 *
 * and ends the run by writing its status (0: ok, 1: fail) to the VMM's
 * exit register: MMIO through /dev/mem (CONFIG_DEVMEM), else the I/O port
 * (CONFIG_X86_IOPL_IOPERM), else a reboot.
 *
 * Kernel command line: gmemvmm.cpus=N (the VMM adds it: the vCPUs it
 * created; fewer online is a failure), gmemvmm.work_mib=M (memory to
 * fill, default half of MemTotal), gmemvmm.hold=S (seconds to wait after
 * the result line, so that the host can look at the running VM),
 * gmemvmm.hang=1 (stop silently before the fill: shows what the VMM
 * reports about a stuck guest).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "gmemvmm.h"

#define WORKERS_MAX	64
#define HEARTBEAT_SECONDS	10

static char cmdline[4096];

static void say(const char *fmt, ...)
{
	va_list ap;

	printf("gmemvmm-init: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (n < 0)
		n = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	if (fd >= 0)
		close(fd);
}

static long cmdline_num(const char *key, long def)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "gmemvmm.%s=", key);
	p = strstr(cmdline, pat);
	return p ? atol(p + strlen(pat)) : def;
}

/* Count the CPUs in a list like "0-3,5". */
static int count_cpus(const char *s)
{
	int n = 0, a, b;
	char *end;

	while (*s) {
		a = strtol(s, &end, 10);
		if (end == s)
			break;
		b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		n += b - a + 1;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static uint64_t pattern(uint64_t seed, uint64_t i)
{
	uint64_t x = seed ^ (i * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

struct worker_result {
	uint64_t sum;
	int cpu;
	int ok;
};

/* One worker: fill @bytes on CPU @cpu, then read it all back. */
static void worker(int cpu, uint64_t bytes, int fd)
{
	struct worker_result res = { .cpu = -1 };
	uint64_t i, n = bytes / 8, sum = 0, check = 0;
	/* volatile: the second pass must really read the memory back. */
	volatile uint64_t *mem;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem != MAP_FAILED) {
		for (i = 0; i < n; i++) {
			mem[i] = pattern(cpu + 1, i);
			sum += mem[i];
		}
		for (i = 0; i < n; i++) {
			if (mem[i] != pattern(cpu + 1, i))
				break;
			check += mem[i];
		}
		res.ok = i == n && check == sum;
		res.sum = sum;
	}
	res.cpu = sched_getcpu();
	if (write(fd, &res, sizeof(res)) != sizeof(res))
		_exit(2);
	_exit(res.ok ? 0 : 1);
}

/* Wait up to @seconds for @fd to become readable (or to hit EOF). */
static int wait_readable(int fd, int seconds)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, seconds * 1000);
	while (r < 0 && errno == EINTR);
	return r != 0;
}

static int run_workers(int nworkers, uint64_t bytes_each, uint64_t *sum,
		       char *cpus_used, size_t len)
{
	struct worker_result res;
	int fds[2], i, ok = 1, status;
	size_t off = 0;

	*sum = 0;
	cpus_used[0] = 0;
	if (pipe(fds)) {
		say("pipe failed: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < nworkers; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			close(fds[0]);
			worker(i, bytes_each, fds[1]);
		}
		if (pid < 0) {
			say("fork failed: %s", strerror(errno));
			ok = 0;
			nworkers = i;
			break;
		}
	}
	close(fds[1]);
	for (i = 0; i < nworkers; i++) {
		/* A line every few seconds: a silent guest is a stuck one. */
		while (!wait_readable(fds[0], HEARTBEAT_SECONDS))
			say("filling: %d of %d workers done", i, nworkers);
		if (read(fds[0], &res, sizeof(res)) != sizeof(res)) {
			ok = 0;
			break;
		}
		*sum ^= res.sum;
		ok &= res.ok;
		off += snprintf(cpus_used + off, len - off, "%s%d", i ? "," : "",
				res.cpu);
		if (off >= len)
			off = len - 1;
	}
	close(fds[0]);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ok = 0;
	return ok;
}

static void end_run(int status)
{
	/* volatile: one 32-bit store to the device, as written. */
	volatile uint32_t *reg;
	void *page;
	int fd;

	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd >= 0) {
		page = mmap(NULL, EXITDEV_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, EXITDEV_GPA);
		if (page != MAP_FAILED) {
			reg = page;
			say("exit register (MMIO at 0x%llx) reads magic 0x%08x; writing status %d",
			    (unsigned long long)EXITDEV_GPA,
			    reg[EXITDEV_MAGIC_OFF / 4], status);
			reg[EXITDEV_STATUS / 4] = status;
			say("the VMM did not end the run after the MMIO write");
		} else {
			say("mmap of /dev/mem at 0x%llx failed: %s",
			    (unsigned long long)EXITDEV_GPA, strerror(errno));
		}
	} else {
		say("no /dev/mem (%s): the kernel lacks CONFIG_DEVMEM?",
		    strerror(errno));
	}
	if (ioperm(EXITDEV_PORT, 4, 1) == 0) {
		say("writing status %d to I/O port 0x%x", status, EXITDEV_PORT);
		outl(status, EXITDEV_PORT);
	} else {
		say("ioperm failed (%s): the kernel lacks CONFIG_X86_IOPL_IOPERM?",
		    strerror(errno));
	}
	say("cannot reach the exit register; rebooting");
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

int main(void)
{
	char online[256], clocksource[64], cpus_used[512], kernel[128];
	struct timespec t0, t1;
	uint64_t sum, bytes_each;
	long expected, work_mib;
	struct sysinfo si;
	int ncpus, nworkers, ok, advanced, good, fd;
	long long elapsed_ms;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if (fcntl(1, F_GETFD) < 0) {
		fd = open("/dev/console", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	read_file("/sys/devices/system/cpu/online", online, sizeof(online));
	read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  clocksource, sizeof(clocksource));
	read_file("/proc/sys/kernel/osrelease", kernel, sizeof(kernel));
	ncpus = count_cpus(online);
	expected = cmdline_num("cpus", 0);
	sysinfo(&si);
	work_mib = cmdline_num("work_mib",
			       (long)((uint64_t)si.totalram * si.mem_unit / MIB / 2));
	if (work_mib < 1)
		work_mib = 1;
	nworkers = ncpus < 1 ? 1 : ncpus > WORKERS_MAX ? WORKERS_MAX : ncpus;
	bytes_each = (uint64_t)work_mib * MIB / nworkers & ~4095ULL;
	say("start: kernel %s, CPUs online %s (%d, expected %ld), MemTotal %llu MiB, clocksource %s; filling %ld MiB with %d workers",
	    kernel, online, ncpus, expected,
	    (unsigned long long)((uint64_t)si.totalram * si.mem_unit / MIB),
	    clocksource, work_mib, nworkers);

	/* For the VMM's diagnostics: a guest that stops without a word. */
	if (cmdline_num("hang", 0)) {
		say("gmemvmm.hang: hanging here, silently");
		for (;;)
			pause();
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok = run_workers(nworkers, bytes_each, &sum, cpus_used, sizeof(cpus_used));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed_ms = (t1.tv_sec - t0.tv_sec) * 1000LL +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	advanced = t1.tv_sec > t0.tv_sec ||
		   (t1.tv_sec == t0.tv_sec && t1.tv_nsec > t0.tv_nsec);

	good = ok && advanced && (!expected || ncpus == expected);
	printf("gmemvmm-result: %s cpus=%d mem_mib=%ld clock_advanced=%d checksum=%s elapsed_ms=%lld clocksource=%s worker_cpus=%s sum=%016llx\n",
	       good ? "ok" : "fail", ncpus, work_mib, advanced, ok ? "ok" : "bad", elapsed_ms,
	       clocksource, cpus_used, (unsigned long long)sum);
	fflush(stdout);
	/* The UART still holds the line's tail: let it reach the VMM first. */
	tcdrain(STDOUT_FILENO);
	sleep(cmdline_num("hold", 0));
	end_run(good ? 0 : 1);
	return 0;
}
