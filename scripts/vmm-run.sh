#!/bin/bash
# Run gmemvmm inside the test VM, once per --memory mode, in one boot: the
# VMM, the kernel (the test VM's own bzImage boots as the guest too) and the
# guest's initramfs go into the test VM's initramfs as /bench (BENCH=, as
# make bench does); guest/init runs /bench/run. The guest's console streams
# here; logs in build/logs/vmm-TIME/ or VMM_OUT (MODE.log per mode,
# console.log of the test VM, summary.txt). Each mode is judged like a
# selftest (gmemwalk:vmm_boot_MODE): an ok result line from the guest, all
# vCPUs online, status 0 and, with gmem-nodirect, no guest page in the
# direct map; the last line is "N passed, N failed, N skipped".
# Usage: vmm-run.sh [MODE...]   MODE: anon, gmem, gmem-nodirect (default:
#                               all three, in that order)
#        VMM_ROUNDS=N runs the list N times in the one test VM.
# Env: VMM_ARGS (more gmemvmm options, words without quotes; --append may
#      repeat: "--append no-kvmclock --append noapic"),
#      VMM_MEM (MiB, default 512), VMM_CPUS (default 2), VMM_TIMEOUT (s per
#      mode, default 600, 900 on the debug kernel), VMM_STALL (s of guest
#      console silence that end a mode, default 120, 400 on the debug
#      kernel), VMM_HOLD (s the guest waits after its result line while the
#      test VM measures, default 3), CMDLINE (the test VM's kernel command
#      line), STALL (s of silence after which the test VM counts as hung;
#      always at least VMM_TIMEOUT + 180, so that gmemvmm's own timeout and
#      its report come first).
# A mode that fails other than by the guest's own status gets a report:
# gmemvmm's (the guest's last lines, each vCPU thread's kernel stack,
# registers, events, last exits, KVM's statistics), then the test VM's
# blocked tasks (sysrq w) and the tail of KVM's trace events (a trace
# instance of its own, "gmemwalk-diag").
# Exits non-zero if a mode failed, the VM hung or the kernel splatted.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(anon gmem gmem-nodirect)
for m in "${modes[@]}"; do
	case $m in
	anon | gmem | gmem-nodirect) ;;
	*) die "unknown mode $m (anon, gmem, gmem-nodirect)" ;;
	esac
done
# VMM_ROUNDS=N: the list N times over in the same test VM (a loop that
# also tries each mode after the others). A mode's Kth boot is "MODE.K".
rounds=${VMM_ROUNDS:-1}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "VMM_ROUNDS=$rounds: want a positive number"
runs=()
for r in $(seq 1 "$rounds"); do
	for m in "${modes[@]}"; do
		k=$(printf '%s\n' "${runs[@]}" "$m" | grep -c -x -e "$m" -e "$m\.[0-9]*" || true)
		[ "$k" = 1 ] && runs+=("$m") || runs+=("$m.$k")
	done
done
[ ${#runs[@]} = "${#modes[@]}" ] || for i in "${!runs[@]}"; do
	# Every name carries its count once there are several.
	case ${runs[$i]} in *.*) ;; *) runs[i]=${runs[$i]}.1 ;; esac
done
mem=${VMM_MEM:-512} cpus=${VMM_CPUS:-2}
if [ "$FLAVOR" = debug ]; then
	limit=${VMM_TIMEOUT:-900} quiet=${VMM_STALL:-400}
else
	limit=${VMM_TIMEOUT:-600} quiet=${VMM_STALL:-120}
fi
# The test VM's no-output limit must leave gmemvmm the time to end a mode
# itself and report why (its dump takes seconds; 180 s is ample).
hold=${VMM_HOLD:-3}
# The stall limit must outlast the guest's quiet times: its hold after the
# result line and the 10 s between its heartbeats.
[ "$quiet" = 0 ] || [ "$quiet" -gt $((hold > 10 ? hold + 10 : 20)) ] ||
	die "VMM_STALL=$quiet: want 0 (off) or more than $((hold > 10 ? hold + 10 : 20)) s (VMM_HOLD + 10 s, at least 20 s)"
vmstall=${STALL:-600}
if [ "$vmstall" -lt $((limit + 180)) ]; then
	[ -z "${STALL:-}" ] || step "vmm: STALL=$STALL raised to $((limit + 180)) s (VMM_TIMEOUT + 180 s), so that gmemvmm's timeout comes first"
	vmstall=$((limit + 180))
fi
kernel=$OBJ/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no kernel at $kernel (run 'make kernel')"
bash "$TOP/scripts/vmm-build.sh"

out=${VMM_OUT:-$LOGS/vmm-$(date -u +%Y%m%dT%H%M%SZ)}
pack=$BUILD/vmm/pack
rm -rf "$pack" "$out"
mkdir -p "$pack" "$out"
cp "$BUILD/vmm/gmemvmm" "$BUILD/vmm/guest-initramfs.gz" "$pack/"
cp "$kernel" "$pack/bzImage"
cp "$OBJ/System.map" "$pack/System.map"
cat >"$pack/run" <<EOF
#!/bin/sh
# Written by vmm-run.sh: run gmemvmm once per mode (guest/init runs this).
runs="${runs[*]}"
args="--mem $mem --cpus $cpus --timeout $limit --stall $quiet ${VMM_ARGS:-}"
hold=$hold
limit=$limit
EOF
cat >>"$pack/run" <<'EOF'
t=/sys/kernel/tracing
dbg=/sys/kernel/debug/kvm
cd /bench
# KVM's events in a trace instance of their own, kept small: the tail of
# what KVM did when a mode fails (the walk count uses the main buffer).
diag=$t/instances/gmemwalk-diag
mkdir -p $diag 2>/dev/null
echo 512 >$diag/buffer_size_kb
for e in kvm_exit kvm_userspace_exit kvm_inj_exception kvm_page_fault \
	kvm_emulate_insn kvm_set_irq kvm_apic_accept_irq kvm_async_pf_not_present \
	kvm_async_pf_ready kvm_pv_tlb_flush kvm_nested_vmenter; do
	[ -d $diag/events/kvm/$e ] && echo 1 >$diag/events/kvm/$e/enable
done
# Global kernel TLB flushes (the function tracer, counted by the
# instance's "entries-written", so its buffer can stay small).
fl=$t/instances/gmemwalk-flush
mkdir -p $fl 2>/dev/null
echo 16 >$fl/buffer_size_kb
echo flush_tlb_kernel_range >$fl/set_ftrace_filter
echo flush_tlb_all >>$fl/set_ftrace_filter
# Never with an empty filter, which would trace every function.
if grep -q . $fl/set_ftrace_filter; then
	echo function >$fl/current_tracer 2>/dev/null || echo nop >$fl/current_tracer
fi
flushes() { sed -n '/entries-written/{s/.*entries-written: [0-9]*\/\([0-9]*\).*/\1/p;q}' $fl/trace; }
# The test VM's side of a failed mode: its blocked tasks, and what KVM did
# last.
postmortem() {
	echo "### gmemvmm $name post-mortem: the test VM's blocked tasks (sysrq w)"
	echo w >/proc/sysrq-trigger
	sleep 1
	dmesg | sed -n '/sysrq: Show Blocked State/,$p' | tail -n 60
	echo "### gmemvmm $name post-mortem: KVM's last trace events"
	echo 0 >$diag/tracing_on
	grep -v '^#' $diag/trace | tail -n 50
	echo "### gmemvmm $name post-mortem end"
}
# Pages not present in the direct map ("Low Kernel Mapping" of the page
# table dump): ranges printed with no attributes, e.g. "0x..-0x..  8K  pte",
# at any level (a table whose entries are all gone may be a "pmd" hole).
dm_holes() {
	awk '/^---\[ /{dm = /Low Kernel Mapping/; next}
	dm && NF == 3 && $3 ~ /^(pte|pmd|pud)$/ {
		n = $2 + 0; u = substr($2, length($2));
		p += u == "K" ? n / 4 : u == "M" ? n * 256 : n * 262144
	} END {print p + 0}' /sys/kernel/debug/page_tables/kernel 2>/dev/null || echo 0
}
# The running VM's statistics, in KVM's debugfs directory PID-FD.
kvm_stat() { cat "$vmdir/$1" 2>/dev/null || echo 0; }
# Only while the guest holds after its result line, with gmemvmm stopped
# (SIGSTOP: its vCPU threads leave KVM_RUN and the VM, with all its
# memory, stays as it is however long the page table dump takes to read).
# A VM whose guest had already written its status may be going away: its
# pages return to the direct map meanwhile, and such a sample is none.
sample() {
	kill -STOP $pid
	vmdir=$(ls -d "$dbg/$pid"-* 2>/dev/null | head -n 1)
	mapped=$(($(kvm_stat pages_4k) + 512 * $(kvm_stat pages_2m) + 262144 * $(kvm_stat pages_1g)))
	emul=$(kvm_stat insn_emulation)
	walks=$(sed -n '/entries-written/{s/.*entries-written: [0-9]*\/\([0-9]*\).*/\1/p;q}' $t/trace)
	left=$(($(dm_holes) - holes))
	present=$((mapped > left ? mapped - left : 0))
	again=$(($(kvm_stat pages_4k) + 512 * $(kvm_stat pages_2m) + 262144 * $(kvm_stat pages_1g)))
	if grep -q -e 'wrote status' -e '^gmemvmm-summary:' /tmp/vmm.log ||
		[ ! -d "$vmdir" ] || [ "$again" != "$mapped" ]; then
		echo "gmemvmm-measured: none (the VM was ending when it was measured: mapped $mapped, then $again)"
	else
		echo "gmemvmm-measured: memory=$m guest_pages_mapped=$mapped direct_map_pages_left=$left guest_pages_in_direct_map=$present emulated_insns=$emul page_table_walks=${walks:-0}"
	fi
	kill -CONT $pid
}
n=0
for name in $runs; do
	m=${name%.*}
	n=$((n + 1))
	echo "### gmemvmm $name begin"
	echo "# selftests: gmemwalk: vmm_boot_$name"
	echo 0 >$t/tracing_on
	echo >$t/trace
	echo 1 >$t/events/kvmmmu/kvm_mmu_pagetable_walk/enable
	echo 1 >$t/tracing_on
	echo >$diag/trace
	echo 1 >$diag/tracing_on
	echo >$fl/trace
	holes=$(dm_holes)
	# The log exists, empty, before its reader starts (a busy machine may
	# run tail before gmemvmm's redirection has made the file).
	: >/tmp/vmm.log
	./gmemvmm --kernel bzImage --initrd guest-initramfs.gz --memory="$m" --symbols System.map \
		--append gmemvmm.hold=$hold $args >/tmp/vmm.log 2>&1 &
	pid=$!
	tail -n +1 -f /tmp/vmm.log &
	tailpid=$!
	measured= began=$(date +%s) late= stuck=
	while kill -0 $pid 2>/dev/null; do
		if [ -z "$measured" ] && grep -q '^gmemvmm-result:' /tmp/vmm.log; then
			measured=$(sample)
		fi
		# gmemvmm ends itself by its timeout; one that does not (a
		# thread stuck in the kernel) is looked at, then killed.
		if [ -z "$late" ] && [ $(($(date +%s) - began)) -gt $((limit + 60)) ]; then
			late=1
			echo "### gmemvmm $name did not end $((limit + 60)) s after its start"
			postmortem
			kill -9 $pid
		fi
		# Not even SIGKILL ends a thread that never leaves the kernel:
		# report it and go on, rather than wait for it forever.
		if [ -n "$late" ] && [ $(($(date +%s) - began)) -gt $((limit + 90)) ]; then
			stuck=1
			echo "### gmemvmm $name unkillable: still there 30 s after SIGKILL"
			for task in /proc/$pid/task/*; do
				echo "# $(cat $task/comm) $(grep '^State' $task/status)"
				cat $task/stack 2>/dev/null
			done
			break
		fi
		sleep 0.2
	done
	rc=137
	[ -n "$stuck" ] || { wait $pid; rc=$?; }
	# busybox tail polls once a second.
	sleep 1.5
	kill $tailpid 2>/dev/null
	echo 0 >$t/tracing_on
	echo 0 >$t/events/kvmmmu/kvm_mmu_pagetable_walk/enable
	echo "${measured:-gmemvmm-measured: none (no result line)}"
	# Pages out of the direct map once the VM is gone: back to the count
	# before it ran, unless a page outlived the VM out of the direct map.
	sleep 1
	echo "gmemvmm-flushes: memory=$m kernel_tlb_flushes=$(flushes) direct_map_holes_before=$holes direct_map_holes_after_exit=$(dm_holes) (flush_tlb_kernel_range and flush_tlb_all, whole run)"
	echo "### gmemvmm $name exit code $rc"
	# The verdict: status 0 and an ok result line (clock advanced, memory
	# checksums), every vCPU online, and with NO_DIRECT_MAP no guest page
	# left in the direct map.
	line=$(grep -a '^gmemvmm-summary:' /tmp/vmm.log | tail -n 1)
	why=
	[ -z "$stuck" ] || why="$why unkillable;"
	[ $rc = 0 ] || why="$why exit code $rc;"
	case "$line" in *" result=ok "*) ;; *) why="$why no ok result line;" ;; esac
	cpus=$(echo "$line" | sed -n 's/.* cpus=\([0-9]*\) .*/\1/p')
	echo "$line" | grep -q " cpus_online=$cpus " || why="$why not all vCPUs online;"
	if [ "$m" = gmem-nodirect ]; then
		case "$measured" in
		*" guest_pages_in_direct_map=0 "*) ;;
		"" | *"measured: none"*) why="$why direct map not measured;" ;;
		*) why="$why guest pages in the direct map;" ;;
		esac
	fi
	if [ -z "$why" ]; then
		echo "ok $n selftests: gmemwalk: vmm_boot_$name"
	else
		# Not for a guest that reported a failed check itself.
		grep -q '^gmemvmm-summary: .* exit=guest-status ' /tmp/vmm.log || postmortem
		echo "not ok $n selftests: gmemwalk: vmm_boot_$name #$why"
	fi
	echo "### gmemvmm $name end"
done
EOF
chmod +x "$pack/run"
BENCH=$pack bash "$TOP/scripts/initramfs.sh" "$out/initramfs.gz"
step "vmm: booting the test VM ($(basename "$OBJ"), boots: ${runs[*]}); guest console follows"
# Show the test VM's ttyS1 (the VMM's output) while it runs.
: >"$out/results.ktap"
tail -n +1 -F "$out/results.ktap" 2>/dev/null &
tailpid=$!
trap 'kill "$tailpid" 2>/dev/null || true' EXIT
status=ok
# shellcheck disable=SC2086 # CMDLINE is words of a command line
STALL=$vmstall bash "$TOP/scripts/vm-run.sh" "$kernel" "$out/initramfs.gz" "$out" \
	$(((limit + 120) * ${#runs[@]} + 300)) ${#runs[@]} ${CMDLINE:-} || case $? in
	3) status="hung, QEMU killed (no output for ${vmstall}s, or over its time limit)" ;;
	4) status="QEMU crashed (exit $(cat "$out/qemu.rc")); see $out/qemu.log" ;;
	*) status="runner error" ;;
	esac
sleep 1
kill "$tailpid" 2>/dev/null || true
wait "$tailpid" 2>/dev/null || true

# Per mode: the VMM's summary and what was measured in the test VM.
: >"$out/summary.txt"
for m in "${runs[@]}"; do
	sed -n "/^### gmemvmm $m begin/,/^### gmemvmm $m end/p" "$out/results.ktap" >"$out/$m.log"
	for k in summary measured flushes; do
		l=$(grep -a "^gmemvmm-$k:" "$out/$m.log" | tail -n 1 || true)
		printf '%-16s %s\n' "$m" "${l:-no $k line}" >>"$out/summary.txt"
	done
done
step "vmm: results (logs in ${out#"$TOP"/}):"
cat "$out/summary.txt" >&2
# The verdict, as for the selftests: each mode's ok/not ok, a hung VM, and
# kernel splats in the test VM's log.
python3 "$TOP/scripts/summarize.py" "$out" "$TOP/tests/expectations.txt" \
	"$status" "${#runs[@]}" vmm
