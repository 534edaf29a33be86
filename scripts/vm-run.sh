#!/bin/bash
# Boot the test VM under QEMU (TCG, -cpu max: SVM with nested paging) and
# wait for it. Console -> OUTDIR/console.log, KTAP -> OUTDIR/results.ktap.
# Prints test progress as results arrive.
# Usage: vm-run.sh KERNEL INITRAMFS OUTDIR TIMEOUT NTESTS [CMDLINE...]
# The VM counts as hung when it runs longer than TIMEOUT seconds, or when
# neither log grows for STALL seconds (env, default 420: the in-VM runner
# kills a test after its own timeout, so output must keep coming).
# QEMU_EXTRA (env): more QEMU options, e.g. "-icount shift=0" (make bench).
# QEMU_ACCEL (env): the -accel option, default "tcg" (multi-threaded);
# e.g. "tcg,thread=single" (a second -accel would be ignored).
# QEMU (env): the emulator to run, default qemu-system-x86_64 from PATH.
# tsc=nowatchdog: the clocksource watchdog compares the emulated TSC with
# the emulated HPET over half a second; a stall of QEMU's vCPU thread can
# skew that (seen: hpet 589 ms against tsc 513 ms), and a TSC marked
# unstable makes kvm_clock_test skip (it needs the TSC clocksource).
# A hung VM's CPU registers (QEMU's monitor) go to OUTDIR/qemu-state.txt
# before QEMU is killed; the RIPs, with their kernel symbols, are printed.
# Exit: 0 VM finished; 3 VM hung; 4 QEMU crashed.
set -euo pipefail

kernel=$1 initrd=$2 outdir=$3 limit=$4 ntests=$5
shift 5
mkdir -p "$outdir"
console=$outdir/console.log results=$outdir/results.ktap
: >"$console"
: >"$results"

qemu=("${QEMU:-qemu-system-x86_64}" -machine q35 -accel "${QEMU_ACCEL:-tcg}" -cpu max -smp 2 -m 4G
	-nographic -no-reboot -nodefaults
	-kernel "$kernel" -initrd "$initrd"
	-serial "file:$console" -serial "file:$results"
	-monitor "unix:$outdir/monitor.sock,server=on,wait=off"
	-append "console=ttyS0 panic=-1 tsc=nowatchdog $*")
# shellcheck disable=SC2206 # QEMU_EXTRA is a list of words
qemu+=(${QEMU_EXTRA:-})
printf '%q ' "${qemu[@]}" >"$outdir/qemu.cmd"
echo >>"$outdir/qemu.cmd"

start=$(date +%s)
timeout --kill-after=10 "$limit" "${qemu[@]}" >"$outdir/qemu.log" 2>&1 &
pid=$!
seen=0
stall=${STALL:-420}
last=$start size=0 hung=0 dumped=0
dump() {
	dumped=1
	python3 "$(dirname "$0")/qemu-dump.py" "$outdir/monitor.sock" \
		"$outdir/qemu-state.txt" "$(dirname "$kernel")/../../../System.map" >&2 || true
}
while kill -0 $pid 2>/dev/null; do
	sleep 2
	now=$(date +%s)
	# timeout(1) ends QEMU at the limit: look at it just before.
	[ $dumped = 1 ] || [ $((now - start)) -lt $((limit - 20)) ] || dump
	s=$(($(stat -c %s "$results") + $(stat -c %s "$console")))
	if [ "$s" != "$size" ]; then
		size=$s last=$now
	elif [ $((now - last)) -ge "$stall" ]; then
		hung=1
		# Where the test VM's CPUs are, before QEMU goes.
		[ $dumped = 1 ] || dump
		pkill -9 -f -- "-serial file:$results" 2>/dev/null || true
		kill -9 $pid 2>/dev/null || true
		break
	fi
	n=$(grep -c -E '^(not )?ok [0-9]+ selftests: ' "$results" || true)
	if [ "$n" -gt "$seen" ]; then
		grep -E '^(not )?ok [0-9]+ selftests: ' "$results" | sed -n "$((seen + 1)),${n}p" |
			while read -r line; do
				seen=$((seen + 1))
				printf '    [%d/%d] %4ds %s\n' "$seen" "$ntests" $(($(date +%s) - start)) "$line" >&2
			done
		seen=$n
	fi
done
rc=0
wait $pid || rc=$?
secs=$(($(date +%s) - start))
echo "$rc" >"$outdir/qemu.rc"
if [ $hung = 1 ]; then
	echo "VM HUNG: no output for ${stall}s (QEMU killed after ${secs}s); logs in $outdir" >&2
	exit 3
elif [ $rc = 124 ] || [ $rc = 137 ]; then
	echo "VM HUNG: no end after ${limit}s (QEMU killed); logs in $outdir" >&2
	exit 3
elif [ $rc != 0 ]; then
	echo "QEMU CRASHED: exit status $rc after ${secs}s; logs in $outdir:" >&2
	tail -n 20 "$outdir/qemu.log" >&2
	exit 4
fi
echo "==> VM finished in ${secs}s" >&2
