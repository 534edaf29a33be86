// SPDX-License-Identifier: GPL-2.0
/*
 * Writes into guest RAM: pwrite() into the guest_memfd (its contract is in
 * Documentation/virt/kvm/api.rst, "pwrite"), or memcpy() into the
 * anonymous mapping for --memory=anon.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "gmemvmm.h"

static int check_range(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa) {
		vmm_err("write of %llu bytes at gpa 0x%llx is outside guest RAM (%llu MiB)",
			(unsigned long long)len, (unsigned long long)gpa,
			(unsigned long long)(vm->mem_size / MIB));
		return -1;
	}
	return 0;
}

int guest_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	if (check_range(vm, gpa, len))
		return -1;
	if (vm->kind == MEM_ANON) {
		memcpy((char *)vm->host_mem + gpa, buf, len);
		return 0;
	}
	while (len) {
		n = pwrite(vm->gmem_fd, p, len, gpa);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vmm_err("pwrite() of %zu bytes into the guest_memfd at offset 0x%llx failed: %s",
				len, (unsigned long long)gpa, strerror(errno));
			if (errno == ESPIPE || errno == EINVAL)
				vmm_err("this kernel's guest_memfd cannot be written with pwrite() (the gmemwalk series adds that)");
			if (errno == EPERM)
				vmm_err("KVM does not let the host write this VM type's guest_memfd");
			return -1;
		}
		if (n == 0) {
			vmm_err("pwrite() into the guest_memfd at offset 0x%llx wrote nothing",
				(unsigned long long)gpa);
			return -1;
		}
		p += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

/* Copy @len bytes from the current position of @fd into guest RAM. */
int guest_write_fd(struct vm *vm, uint64_t gpa, int fd, uint64_t len)
{
	static char buf[1 << 20];
	ssize_t n;

	if (check_range(vm, gpa, len))
		return -1;
	while (len) {
		n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vmm_err("read failed: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			vmm_err("file ended %llu bytes early (was it changed while loading?)",
				(unsigned long long)len);
			return -1;
		}
		if (guest_write(vm, gpa, buf, n))
			return -1;
		gpa += n;
		len -= n;
	}
	return 0;
}
