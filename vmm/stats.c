// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's binary statistics (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst
 * "KVM_GET_STATS_FD") of the VM or of one vCPU, for the report of a run
 * that failed: every counter that is not zero, on one line.  Reading the
 * fd takes no lock of the vCPU's, so it works for a vCPU stuck in KVM_RUN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gmemvmm.h"

/* Read exactly @len bytes at @off, or fail. */
static int read_at(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n == (ssize_t)len ? 0 : -1;
}

/* @sfd: a statistics fd (KVM_GET_STATS_FD), or negative if there is none. */
void dump_stats(int sfd, const char *what, int id)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsize, i, j;
	char *descs = NULL;
	uint64_t *vals = NULL;
	int shown = 0;
	char label[32];

	if (id >= 0)
		snprintf(label, sizeof(label), "%s %d", what, id);
	else
		snprintf(label, sizeof(label), "%s", what);
	if (sfd < 0) {
		fprintf(stderr, "gmemvmm: %s: no statistics (KVM_GET_STATS_FD failed)\n",
			label);
		return;
	}
	if (read_at(sfd, &h, sizeof(h), 0))
		goto bad;
	dsize = sizeof(*d) + h.name_size;
	descs = calloc(h.num_desc, dsize);
	if (!descs || read_at(sfd, descs, h.num_desc * dsize, h.desc_offset))
		goto bad;
	fprintf(stderr, "gmemvmm: %s: KVM statistics (non-zero):", label);
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsize);
		free(vals);
		vals = calloc(d->size ? d->size : 1, sizeof(*vals));
		if (!vals || read_at(sfd, vals, d->size * sizeof(*vals),
				     h.data_offset + d->offset))
			goto bad;
		/* Histograms: the sum of their buckets. */
		for (j = 1; j < d->size; j++)
			vals[0] += vals[j];
		if (!d->size || !vals[0])
			continue;
		fprintf(stderr, " %.*s=%llu", (int)h.name_size, d->name,
			(unsigned long long)vals[0]);
		shown++;
	}
	fprintf(stderr, "%s\n", shown ? "" : " none");
	goto out;
bad:
	fprintf(stderr, "gmemvmm: %s: cannot read KVM's statistics\n", label);
out:
	free(vals);
	free(descs);
}
