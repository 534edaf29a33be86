#!/bin/bash
# Reproducer for the kvm_clock_test failure that made 'make check' flaky:
# KVM initialized before the TSC calibration is final, with an early
# calibration more than tsc_tolerance_ppm (250) below the refined one.
# Boots the shadow configuration with kvm_clock_test three times:
#   1. as make check does (KVM modules loaded after the calibration):
#      learn the refined TSC rate; must pass;
#   2. tsc_early_khz 0.05% below it, KVM built in (FLAVOR=builtin, its
#      own kernel build): must fail with "unexpected kvm-clock value";
#   3. the same early rate, KVM modules as in 1: must pass.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$FLAVOR" = kvm ] || die "repro-tsc compares FLAVOR=kvm with FLAVOR=builtin itself"
bash "$TOP/scripts/deps.sh"
bash "$TOP/scripts/kernel.sh"
FLAVOR=builtin bash "$TOP/scripts/kernel.sh"
bash "$TOP/scripts/selftests.sh"
export GMEMWALK_BUILT=1
read -r _ args < <(grep '^shadow ' "$TOP/tests/configs")

boot() { # FLAVOR RUNNAME CMDLINE
	# shellcheck disable=SC2086 # args are words of a command line
	FLAVOR=$1 RUN=$2 CMDLINE=$3 bash "$TOP/scripts/test.sh" clock shadow $args
}
run=$LOGS/run-$SERIES-kvm-clock-shadow
builtin=$LOGS/run-$SERIES-builtin-clock-shadow

step "1 of 3: KVM modules loaded after the TSC calibration"
boot kvm plain "" || die "kvm_clock_test failed in a plain boot"
mhz=$(grep -a -o 'Refined TSC clocksource calibration: [0-9.]*' "$run-plain/console.log" |
	awk '{print $NF}') || die "no refined TSC calibration in $run-plain/console.log"
early=$(awk -v m="$mhz" 'BEGIN { printf "%d", m * 1000 * (1 - 0.0005) }')
step "refined TSC rate ${mhz} MHz; early rate forced to ${early} kHz (-500 ppm)"

step "2 of 3: tsc_early_khz=$early, KVM built in"
if boot builtin early "tsc_early_khz=$early"; then
	die "kvm_clock_test passed: the failure did not reproduce"
fi
grep -q 'unexpected kvm-clock value' "$builtin-early/summary.txt" ||
	die "kvm_clock_test failed, but not with a wrong kvm-clock value (see $builtin-early)"
grep -a -q 'below hardware speed' "$builtin-early/console.log" ||
	die "KVM did not say 'user requested TSC rate below hardware speed' (see $builtin-early)"
step "reproduced: KVM refused its stale rate and kvmclock is off by about the uptime"

step "3 of 3: tsc_early_khz=$early, KVM modules loaded after the TSC calibration"
boot kvm fixed "tsc_early_khz=$early" || die "kvm_clock_test failed although KVM was loaded late"
! grep -a -q 'below hardware speed' "$run-fixed/console.log" ||
	die "KVM still complained of the TSC rate (see $run-fixed)"
step "the failure reproduces with KVM loaded early and not with KVM loaded late"
