# gmemwalk: one entry point. See README.md.
#   make run      boot Linux with our VMM (vmm/) from private guest_memfd
#                 memory, out of the direct map, in the test VM; summary
#   make check    all tests (the KVM selftests that matter here, the boot)
# Knobs: SERIES=none (unpatched base), FLAVOR=debug (KASAN, lockdep, ...),
#        CMDLINE="kvm.force_emulation_prefix=1 kvm_amd.npt=0" (test VM),
#        REPEAT=N (boot each configuration N times, count passes per test).

SHELL := /bin/bash
S := scripts
export SERIES FLAVOR CMDLINE TEST_TIMEOUT VM_TIMEOUT STALL CONFIGS FORCE REPEAT \
	BENCH_REPS BENCH_SCALE VMM_ARGS VMM_MEM VMM_CPUS VMM_TIMEOUT VMM_HOLD \
	VMM_STALL VMM_ROUNDS VMM_OUT QEMU QEMU_ACCEL QEMU_EXTRA TEST_ARGS LOAD TRACE

.PHONY: help run demo check check-gmem check-debug check-full loop repro-tsc bench deps base tree \
	export apply rebase kernel selftests lint check-series clean

help:
	@sed -n '2,6p' Makefile | sed 's/^# \{0,1\}//'
	@echo "Other targets: deps base tree export apply KSRC=... rebase VERSION=..."
	@echo "  demo (the KVM and guest_memfd selftest demo), VMM_MODES=\"anon gmem gmem-nodirect\""
	@echo "  kernel selftests check-gmem check-debug check-full repro-tsc bench lint check-series clean"
	@echo "  loop TEST=<selftest> N=<runs> (one test many times; LOAD=<busy loops>)"

# The VMM boots the test kernel as its guest, once per memory mode.
VMM_MODES ?= gmem-nodirect gmem anon
run:
	@bash $(S)/deps.sh
	@bash $(S)/kernel.sh
	@bash $(S)/vmm-run.sh $(VMM_MODES)

demo:
	@bash $(S)/test.sh demo

check:
	@bash $(S)/check.sh check

# Only the series' own guest_memfd selftests (tests/gmem.list): a quick loop.
check-gmem:
	@bash $(S)/check.sh gmem

# The same tests on the debug kernel (KASAN, lockdep, ...).
check-debug:
	@FLAVOR=debug bash $(S)/check.sh check

# One selftest N times in one test VM (a rare failure's reproducer):
# make loop TEST=private_mem_walk_test N=50 [LOAD=3] [TEST_ARGS=...]
loop:
	@bash $(S)/loop.sh "$(TEST)" "$(or $(N),20)"

# Every x86 KVM selftest (about 10 minutes per configuration with
# TEST_TIMEOUT=120). Expectations for the whole suite were measured in
# both configurations (tests/expectations.txt); CONFIGS="npt shadow".
check-full:
	@CONFIGS="$${CONFIGS:-npt}" bash $(S)/check.sh all

# Show the kvmclock failure that built-in KVM met (and that loading KVM
# after the TSC calibration avoids): three boots of kvm_clock_test.
repro-tsc:
	@bash $(S)/repro-tsc.sh

# Base kernel against patched, side by side: bench/results/latest.md.
bench:
	@bash $(S)/bench.sh

deps:
	@bash $(S)/deps.sh

base: deps
	@bash $(S)/fetch-base.sh

tree: deps
	@bash $(S)/tree.sh

export:
	@bash $(S)/export.sh

apply:
	@bash $(S)/apply.sh "$(KSRC)"

rebase: deps
	@bash $(S)/rebase.sh "$(VERSION)"

kernel: deps
	@bash $(S)/kernel.sh

selftests: deps
	@bash $(S)/selftests.sh

lint:
	@bash $(S)/lint.sh

# Every patch of the series builds (bisectability).
check-series:
	@bash $(S)/check-series.sh

clean:
	rm -rf build/obj build/stage build/logs
