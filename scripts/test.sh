#!/bin/bash
# Build what is missing, boot the test VM with a list of kselftests and
# judge the run: one line "N passed, N failed, N skipped"; non-zero exit
# on any failure, a hung or crashed VM, or a kernel splat.
# Usage: test.sh LIST [LABEL [KVM-CMDLINE...]]
#   LIST: tests/LIST.list, or "all" for every KVM test; LABEL names the
#   KVM configuration (see tests/configs) for expectations and logs.
# Knobs: SERIES=none, FLAVOR=debug, CMDLINE="..." (added to the VM's),
#        TEST_TIMEOUT (per test, s), VM_TIMEOUT (whole run, s),
#        RUN (a suffix for the run's log directory).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=$1
label=${2:-}
shift $(($# < 2 ? $# : 2))
# check.sh builds once for all its runs.
if [ -z "${GMEMWALK_BUILT:-}" ]; then
	bash "$TOP/scripts/deps.sh"
	bash "$TOP/scripts/kernel.sh"
	bash "$TOP/scripts/selftests.sh"
fi

if [ "$list" = all ]; then
	mapfile -t tests < <(grep '^kvm:' "$STAGE/kselftest/kselftest-list.txt")
else
	mapfile -t tests < <(grep -v -e '^#' -e '^[[:space:]]*$' "$TOP/tests/$list.list")
fi
# The unpatched base lacks the selftests the series adds: say which, and
# run the others. With the series, a missing test is an error (initramfs.sh).
if [ "$SERIES" = none ]; then
	have=() lack=()
	for t in "${tests[@]}"; do
		if grep -qx "$t" "$STAGE/kselftest/kselftest-list.txt"; then
			have+=("$t")
		else
			lack+=("$t")
		fi
	done
	[ ${#lack[@]} -eq 0 ] ||
		step "not in the unpatched base (the series adds them), not run: ${lack[*]}"
	tests=("${have[@]}")
fi
# RUN (set by check.sh REPEAT=N) numbers the repeated runs' logs.
name=$(basename "$list")${label:+-$label}${RUN:+-$RUN}
run=$LOGS/run-$SERIES-$FLAVOR-$name
rm -rf "$run"
mkdir -p "$run"
printf '%s\n' "${tests[@]}" >"$run/tests"
bash "$TOP/scripts/initramfs.sh" "$run/initramfs.gz" "${tests[@]}"

per=${TEST_TIMEOUT:-300}
export STALL=${STALL:-$((per + 120))}
limit=${VM_TIMEOUT:-$((120 + ${#tests[@]} * per))}
cmdline="gmemwalk.timeout=$per $* ${CMDLINE:-}"
step "booting $SERIES-$FLAVOR kernel${label:+ ($label: ${*:-defaults})}: ${#tests[@]} test(s), ${per}s each, VM limit ${limit}s"
step "logs: ${run#"$TOP"/}/{console.log,results.ktap}"
status=ok
# shellcheck disable=SC2086 # the command line is a list of words
bash "$TOP/scripts/vm-run.sh" "$OBJ/arch/x86/boot/bzImage" "$run/initramfs.gz" \
	"$run" "$limit" "${#tests[@]}" $cmdline || case $? in
	3) status="hung, QEMU killed (no output for ${STALL}s, or over ${limit}s)" ;;
	4) status="QEMU crashed (exit $(cat "$run/qemu.rc")), not a test failure; see $run/qemu.log" ;;
	*) status="runner error" ;;
	esac
if [ "$list" = demo ]; then
	step "what the test VM said (full log: ${run#"$TOP"/}/console.log)"
	grep -a -E 'Linux version|kvm|gmemwalk:' "$run/console.log" | sed 's/^/    /' || true
	grep -a -E '^# gmemwalk|^(not )?ok ' "$run/results.ktap" | sed 's/^/    /' || true
fi
rc=0
python3 "$TOP/scripts/summarize.py" "$run" "$TOP/tests/expectations.txt" \
	"$status" "${#tests[@]}" "$label" | tee "$run/summary.txt" || rc=$?
exit $rc
