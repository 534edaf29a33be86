// SPDX-License-Identifier: GPL-2.0
/*
 * The few devices of the VMM, all emulated in userspace under one lock:
 *  - a 16550A UART at 0x3f8 (IRQ 4): output only, THR empty at once, a
 *    THRE interrupt as Linux's 8250 driver expects; the console goes to
 *    stdout, line by line, and the guest's result lines are parsed;
 *  - the CMOS RTC at 0x70/0x71 (the host's UTC time, BCD, never updating);
 *  - resets: port 0xcf9 (bit 2) and the keyboard controller's 0xfe
 *    command on port 0x64;
 *  - the exit/status device (gmemvmm.h), as MMIO and as an I/O port.
 * Other ports and MMIO read as all ones and ignore writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "gmemvmm.h"

#define COM1		0x3f8
#define COM1_IRQ	4

#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_LCR_DLAB	0x80
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

#define TAIL_LINES	25
#define LINE_MAX	512

struct guest_report report = { .cpus_online = -1 };
pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thri_pending;
	int irq_level;
} uart = { .dll = 1 };

/* The console: the current line and the last TAIL_LINES lines. */
static char line[LINE_MAX];
static size_t line_len;
static char tail[TAIL_LINES][LINE_MAX];
static int tail_next, tail_count;
/* When the guest last wrote a byte to the console, and how many in all. */
static double last_output;
static unsigned long long output_bytes;

static uint8_t cmos_index;

static void set_irq(struct vm *vm, int irq, int level)
{
	struct kvm_irq_level il = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &il))
		vmm_err("KVM_IRQ_LINE for IRQ %d failed", irq);
}

static void uart_update_irq(struct vm *vm)
{
	int level = (uart.ier & UART_IER_THRI) && uart.thri_pending;

	if (level != uart.irq_level) {
		uart.irq_level = level;
		set_irq(vm, COM1_IRQ, level);
	}
}

static void parse_report(const char *s)
{
	const char *p;

	pthread_mutex_lock(&report_lock);
	if (!strncmp(s, "gmemvmm-init:", 13))
		report.init_started = true;
	if (!strncmp(s, "gmemvmm-result:", 15) && !report.result_seen) {
		report.result_seen = true;
		report.result_time = vmm_seconds();
		report.result_ok = !strncmp(s + 15, " ok", 3);
		p = strstr(s, " cpus=");
		if (p)
			report.cpus_online = atoi(p + 6);
		snprintf(report.result_line, sizeof(report.result_line), "%s", s);
	}
	pthread_mutex_unlock(&report_lock);
}

/* Called with dev_lock held, or from the main thread at the end. */
static void end_line(void)
{
	line[line_len] = 0;
	fwrite(line, 1, line_len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	/* Drop the CR of CRLF line ends from what is kept and parsed. */
	if (line_len && line[line_len - 1] == '\r')
		line[--line_len] = 0;
	memcpy(tail[tail_next], line, line_len + 1);
	tail_next = (tail_next + 1) % TAIL_LINES;
	if (tail_count < TAIL_LINES)
		tail_count++;
	parse_report(line);
	line_len = 0;
}

static void console_putc(char c)
{
	last_output = vmm_seconds();
	output_bytes++;
	if (c == '\n') {
		end_line();
		return;
	}
	line[line_len++] = c;
	if (line_len == LINE_MAX - 1)
		end_line();
}

void console_init(void)
{
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
}

void console_flush(void)
{
	pthread_mutex_lock(&dev_lock);
	if (line_len) {
		fwrite(line, 1, line_len, stdout);
		fputc('\n', stdout);
	}
	fflush(stdout);
	pthread_mutex_unlock(&dev_lock);
}

/* Seconds since the guest last wrote to its console (or since the start). */
double console_idle(unsigned long long *bytes)
{
	double idle;

	pthread_mutex_lock(&dev_lock);
	idle = vmm_seconds() - last_output;
	*bytes = output_bytes;
	pthread_mutex_unlock(&dev_lock);
	return idle;
}

/* The process was stopped: its silence meanwhile is not the guest's. */
void console_pause(void)
{
	pthread_mutex_lock(&dev_lock);
	last_output = vmm_seconds();
	pthread_mutex_unlock(&dev_lock);
}

void console_dump_tail(void)
{
	int i, n;

	pthread_mutex_lock(&dev_lock);
	fprintf(stderr, "gmemvmm: the guest's last %d console lines:\n",
		tail_count + (line_len ? 1 : 0));
	for (i = 0; i < tail_count; i++) {
		n = (tail_next - tail_count + i + TAIL_LINES) % TAIL_LINES;
		fprintf(stderr, "  | %s\n", tail[n]);
	}
	if (line_len) {
		line[line_len] = 0;
		fprintf(stderr, "  | %s  (no line end yet)\n", line);
	}
	pthread_mutex_unlock(&dev_lock);
}

static uint8_t uart_in(struct vm *vm, int reg)
{
	uint8_t v = 0, msr;

	switch (reg) {
	case 0:
		/* No input: RBR reads 0. */
		v = (uart.lcr & UART_LCR_DLAB) ? uart.dll : 0;
		break;
	case 1:
		v = (uart.lcr & UART_LCR_DLAB) ? uart.dlm : uart.ier;
		break;
	case 2:
		if ((uart.ier & UART_IER_THRI) && uart.thri_pending) {
			v = UART_IIR_THRI;
			/* Reading IIR clears a THRE interrupt it reports. */
			uart.thri_pending = false;
		} else {
			v = UART_IIR_NO_INT;
		}
		if (uart.fcr & UART_FCR_ENABLE)
			v |= UART_IIR_FIFO;
		uart_update_irq(vm);
		break;
	case 3:
		v = uart.lcr;
		break;
	case 4:
		v = uart.mcr;
		break;
	case 5:
		v = UART_LSR_THRE | UART_LSR_TEMT;
		break;
	case 6:
		if (uart.mcr & UART_MCR_LOOP) {
			msr = 0;
			if (uart.mcr & UART_MCR_DTR)
				msr |= UART_MSR_DSR;
			if (uart.mcr & UART_MCR_RTS)
				msr |= UART_MSR_CTS;
			if (uart.mcr & UART_MCR_OUT1)
				msr |= UART_MSR_RI;
			if (uart.mcr & UART_MCR_OUT2)
				msr |= UART_MSR_DCD;
			v = msr;
		} else {
			v = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
		}
		break;
	case 7:
		v = uart.scr;
		break;
	}
	return v;
}

static void uart_out(struct vm *vm, int reg, uint8_t v)
{
	switch (reg) {
	case 0:
		if (uart.lcr & UART_LCR_DLAB) {
			uart.dll = v;
			break;
		}
		if (!(uart.mcr & UART_MCR_LOOP))
			console_putc(v);
		/* The byte left at once: THR is empty again. */
		uart.thri_pending = true;
		break;
	case 1:
		if (uart.lcr & UART_LCR_DLAB) {
			uart.dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises the interrupt. */
		if ((v & UART_IER_THRI) && !(uart.ier & UART_IER_THRI))
			uart.thri_pending = true;
		uart.ier = v & 0x0f;
		break;
	case 2:
		uart.fcr = v;
		break;
	case 3:
		uart.lcr = v;
		break;
	case 4:
		uart.mcr = v & 0x1f;
		break;
	case 7:
		uart.scr = v;
		break;
	}
	uart_update_irq(vm);
}

static uint8_t bcd(int x)
{
	return (x / 10) << 4 | (x % 10);
}

static uint8_t cmos_in(void)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (cmos_index & 0x7f) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd(tm.tm_year / 100 + 19);
	case 0x0a: return 0x26;		/* no update in progress */
	case 0x0b: return 0x02;		/* 24 hours, BCD */
	case 0x0d: return 0x80;		/* battery good */
	default: return 0;
	}
}

static void guest_status(int cpu, uint32_t v, const char *how)
{
	pthread_mutex_lock(&outcome.lock);
	if (!outcome.done) {
		outcome.status = v;
		outcome.have_status = true;
	}
	pthread_mutex_unlock(&outcome.lock);
	finish(v > EXIT_GUEST_MAX ? EXIT_GUEST_MAX : (int)v, "guest-status",
	       "vCPU %d: the guest wrote status %u to the exit register (%s)",
	       cpu, v, how);
}

static uint64_t get_le(const uint8_t *d, int len)
{
	uint64_t v = 0;
	int i;

	for (i = len - 1; i >= 0; i--)
		v = v << 8 | d[i];
	return v;
}

void handle_io(struct vm *vm, int cpu, uint16_t port, bool out, uint8_t *data,
	       int size)
{
	static int unknown_reported;
	uint32_t v = out ? get_le(data, size) : 0;

	pthread_mutex_lock(&dev_lock);
	if (port >= COM1 && port < COM1 + 8 && size == 1) {
		if (out)
			uart_out(vm, port - COM1, v);
		else
			data[0] = uart_in(vm, port - COM1);
		goto done;
	}
	switch (port) {
	case 0x70:
		if (out)
			cmos_index = v;
		else
			data[0] = cmos_index;
		goto done;
	case 0x71:
		if (!out)
			data[0] = cmos_in();
		goto done;
	case 0x60:
	case 0x64:
		/* Keyboard controller: idle, no data; 0xfe pulses reset. */
		if (!out) {
			data[0] = 0;
		} else if (port == 0x64 && (v & 0xff) == 0xfe) {
			pthread_mutex_unlock(&dev_lock);
			finish(EXIT_RESET, "reset",
			       "vCPU %d: the guest reset the machine (keyboard controller command 0xfe)",
			       cpu);
			return;
		}
		goto done;
	case 0xcf9:
		if (out && size == 1 && (v & 0x04)) {
			pthread_mutex_unlock(&dev_lock);
			finish(EXIT_RESET, "reset",
			       "vCPU %d: the guest reset the machine (port 0xcf9 = 0x%02x)",
			       cpu, v & 0xff);
			return;
		}
		break;
	case EXITDEV_PORT:
		if (out && size == 4) {
			pthread_mutex_unlock(&dev_lock);
			guest_status(cpu, v, "I/O port");
			return;
		}
		break;
	case 0x80:	/* POST code / delay */
		goto done;
	}
	if (!out)
		memset(data, 0xff, size);
	if (vm->verbose && unknown_reported < 32) {
		unknown_reported++;
		fprintf(stderr, "gmemvmm: vCPU %d: unhandled %s port 0x%x, size %d%s\n",
			cpu, out ? "write to" : "read of", port, size,
			unknown_reported == 32 ? " (no more such reports)" : "");
	}
done:
	pthread_mutex_unlock(&dev_lock);
}

void handle_mmio(struct vm *vm, int cpu, uint64_t gpa, bool write,
		 uint8_t *data, int len)
{
	static int unknown_reported;
	uint64_t off = gpa - EXITDEV_GPA;
	uint32_t v;

	if (gpa >= EXITDEV_GPA && gpa < EXITDEV_GPA + EXITDEV_SIZE) {
		if (write && off == EXITDEV_STATUS && len == 4) {
			guest_status(cpu, get_le(data, len), "MMIO");
			return;
		}
		if (!write) {
			v = off == EXITDEV_MAGIC_OFF && len == 4 ? EXITDEV_MAGIC : 0;
			memset(data, 0, len);
			memcpy(data, &v, len < 4 ? len : 4);
		}
		return;
	}
	if (!write)
		memset(data, 0xff, len);
	pthread_mutex_lock(&dev_lock);
	if (unknown_reported < 8) {
		unknown_reported++;
		fprintf(stderr, "gmemvmm: vCPU %d: unhandled MMIO %s gpa 0x%llx, %d bytes%s\n",
			cpu, write ? "write to" : "read of",
			(unsigned long long)gpa, len,
			unknown_reported == 8 ? " (no more such reports)" : "");
	}
	pthread_mutex_unlock(&dev_lock);
}
