// SPDX-License-Identifier: GPL-2.0
/*
 * The guest kernel's symbols (its System.map, --symbols), to name where a
 * vCPU was in a failed run's report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmemvmm.h"

struct sym {
	uint64_t addr;
	char name[64];
};

static struct sym *syms;
static size_t nsyms;

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int load_symbols(const char *path)
{
	unsigned long long addr;
	size_t cap = 0, len = 0;
	char type, name[64], *line = NULL;
	struct sym *n;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		vmm_err("cannot open the symbol file %s", path);
		return -1;
	}
	/* "ADDRESS TYPE NAME" a line; longer names are cut short. */
	while (getline(&line, &len, f) > 0) {
		if (sscanf(line, "%llx %c %63s", &addr, &type, name) != 3 ||
		    !strchr("tTwW", type))
			continue;
		if (nsyms == cap) {
			cap = cap ? 2 * cap : 4096;
			n = realloc(syms, cap * sizeof(*syms));
			if (!n) {
				vmm_err("out of memory");
				free(line);
				fclose(f);
				return -1;
			}
			syms = n;
		}
		syms[nsyms].addr = addr;
		memcpy(syms[nsyms].name, name, sizeof(name));
		nsyms++;
	}
	free(line);
	fclose(f);
	if (!nsyms) {
		vmm_err("no text symbols in %s: not a System.map?", path);
		return -1;
	}
	qsort(syms, nsyms, sizeof(*syms), cmp_sym);
	return 0;
}

/* " (name+0xoff)" for an address in the kernel's text, else "". */
const char *symbol(uint64_t addr)
{
	static __thread char buf[96];
	size_t lo = 0, hi = nsyms;

	if (!nsyms || addr < syms[0].addr)
		return "";
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Past the last symbol by more than a function's size: not text. */
	if (addr - syms[lo].addr > 0x10000)
		return "";
	snprintf(buf, sizeof(buf), " (%s+0x%llx)", syms[lo].name,
		 (unsigned long long)(addr - syms[lo].addr));
	return buf;
}
