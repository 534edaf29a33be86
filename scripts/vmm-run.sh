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
# Env: VMM_ARGS (more gmemvmm options, words without quotes; --append may
#      repeat: "--append no-kvmclock --append noapic"),
#      VMM_MEM (MiB, default 512), VMM_CPUS (default 2), VMM_TIMEOUT (s per
#      mode, default 900), VMM_HOLD (s the guest waits after its result
#      line while the test VM measures, default 3), CMDLINE (the test VM's
#      kernel command line).
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
mem=${VMM_MEM:-512} cpus=${VMM_CPUS:-2} limit=${VMM_TIMEOUT:-900}
kernel=$OBJ/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no kernel at $kernel (run 'make kernel')"
bash "$TOP/scripts/vmm-build.sh"

out=${VMM_OUT:-$LOGS/vmm-$(date -u +%Y%m%dT%H%M%SZ)}
pack=$BUILD/vmm/pack
rm -rf "$pack" "$out"
mkdir -p "$pack" "$out"
cp "$BUILD/vmm/gmemvmm" "$BUILD/vmm/guest-initramfs.gz" "$pack/"
cp "$kernel" "$pack/bzImage"
cat >"$pack/run" <<EOF
#!/bin/sh
# Written by vmm-run.sh: run gmemvmm once per mode (guest/init runs this).
modes="${modes[*]}"
args="--mem $mem --cpus $cpus --timeout $limit ${VMM_ARGS:-}"
hold=${VMM_HOLD:-3}
EOF
cat >>"$pack/run" <<'EOF'
t=/sys/kernel/tracing
dbg=/sys/kernel/debug/kvm
cd /bench
# Pages not present in the direct map ("Low Kernel Mapping" of the page
# table dump): ranges printed with no attributes, e.g. "0x..-0x..  8K  pte".
dm_holes() {
	awk '/^---\[ /{dm = /Low Kernel Mapping/; next}
	dm && NF == 3 && $3 == "pte" {
		n = $2 + 0; u = substr($2, length($2));
		p += u == "K" ? n / 4 : u == "M" ? n * 256 : n * 262144
	} END {print p + 0}' /sys/kernel/debug/page_tables/kernel 2>/dev/null || echo 0
}
# The running VM's statistics, in KVM's debugfs directory PID-FD.
kvm_stat() { cat "$vmdir/$1" 2>/dev/null || echo 0; }
# Only while the guest holds after its result line: a sample that outlives
# the VM (its pages go back to the direct map) is no measurement.
sample() {
	vmdir=$(ls -d "$dbg/$pid"-* 2>/dev/null | head -n 1)
	mapped=$(($(kvm_stat pages_4k) + 512 * $(kvm_stat pages_2m) + 262144 * $(kvm_stat pages_1g)))
	emul=$(kvm_stat insn_emulation)
	walks=$(sed -n 's/.*entries-written: [0-9]*\/\([0-9]*\).*/\1/p' $t/trace)
	left=$(($(dm_holes) - holes))
	present=$((mapped > left ? mapped - left : 0))
	if kill -0 $pid 2>/dev/null && [ -d "$vmdir" ]; then
		echo "gmemvmm-measured: memory=$m guest_pages_mapped=$mapped direct_map_pages_left=$left guest_pages_in_direct_map=$present emulated_insns=$emul page_table_walks=${walks:-0}"
	else
		echo "gmemvmm-measured: none (the VM ended while it was measured; raise VMM_HOLD)"
	fi
}
n=0
for m in $modes; do
	n=$((n + 1))
	echo "### gmemvmm $m begin"
	echo "# selftests: gmemwalk: vmm_boot_$m"
	echo 0 >$t/tracing_on
	echo >$t/trace
	echo 1 >$t/events/kvmmmu/kvm_mmu_pagetable_walk/enable
	echo 1 >$t/tracing_on
	holes=$(dm_holes)
	./gmemvmm --kernel bzImage --initrd guest-initramfs.gz --memory="$m" \
		--append gmemvmm.hold=$hold $args >/tmp/vmm.log 2>&1 &
	pid=$!
	tail -f /tmp/vmm.log &
	tailpid=$!
	measured=
	while kill -0 $pid 2>/dev/null; do
		if [ -z "$measured" ] && grep -q '^gmemvmm-result:' /tmp/vmm.log; then
			measured=$(sample)
		fi
		sleep 0.2
	done
	wait $pid
	rc=$?
	# busybox tail polls once a second.
	sleep 1.5
	kill $tailpid
	echo 0 >$t/tracing_on
	echo 0 >$t/events/kvmmmu/kvm_mmu_pagetable_walk/enable
	echo "${measured:-gmemvmm-measured: none (no result line)}"
	echo "### gmemvmm $m exit code $rc"
	# The verdict: status 0 and an ok result line (clock advanced, memory
	# checksums), every vCPU online, and with NO_DIRECT_MAP no guest page
	# left in the direct map.
	line=$(grep -a '^gmemvmm-summary:' /tmp/vmm.log | tail -n 1)
	why=
	[ $rc = 0 ] || why="$why exit code $rc;"
	case "$line" in *" result=ok "*) ;; *) why="$why no ok result line;" ;; esac
	cpus=$(echo "$line" | sed -n 's/.* cpus=\([0-9]*\) .*/\1/p')
	echo "$line" | grep -q " cpus_online=$cpus " || why="$why not all vCPUs online;"
	if [ "$m" = gmem-nodirect ]; then
		case "$measured" in
		*" guest_pages_in_direct_map=0 "*) ;;
		*"measured: none"*) why="$why direct map not measured;" ;;
		*) why="$why guest pages in the direct map;" ;;
		esac
	fi
	if [ -z "$why" ]; then
		echo "ok $n selftests: gmemwalk: vmm_boot_$m"
	else
		echo "not ok $n selftests: gmemwalk: vmm_boot_$m #$why"
	fi
	echo "### gmemvmm $m end"
done
EOF
chmod +x "$pack/run"
BENCH=$pack bash "$TOP/scripts/initramfs.sh" "$out/initramfs.gz"
step "vmm: booting the test VM ($(basename "$OBJ"), modes: ${modes[*]}); guest console follows"
# Show the test VM's ttyS1 (the VMM's output) while it runs.
: >"$out/results.ktap"
tail -n +1 -F "$out/results.ktap" 2>/dev/null &
tailpid=$!
trap 'kill "$tailpid" 2>/dev/null || true' EXIT
status=ok
# shellcheck disable=SC2086 # CMDLINE is words of a command line
STALL=${STALL:-600} bash "$TOP/scripts/vm-run.sh" "$kernel" "$out/initramfs.gz" "$out" \
	$(((limit + 120) * ${#modes[@]} + 300)) ${#modes[@]} ${CMDLINE:-} || case $? in
	3) status="hung, QEMU killed (no output for ${STALL:-600}s)" ;;
	4) status="QEMU crashed (exit $(cat "$out/qemu.rc")); see $out/qemu.log" ;;
	*) status="runner error" ;;
	esac
sleep 1
kill "$tailpid" 2>/dev/null || true
wait "$tailpid" 2>/dev/null || true

# Per mode: the VMM's summary and what was measured in the test VM.
: >"$out/summary.txt"
for m in "${modes[@]}"; do
	sed -n "/^### gmemvmm $m begin/,/^### gmemvmm $m end/p" "$out/results.ktap" >"$out/$m.log"
	for k in summary measured; do
		l=$(grep -a "^gmemvmm-$k:" "$out/$m.log" | tail -n 1 || true)
		printf '%-14s %s\n' "$m" "${l:-no $k line}" >>"$out/summary.txt"
	done
done
step "vmm: results (logs in ${out#"$TOP"/}):"
cat "$out/summary.txt" >&2
# The verdict, as for the selftests: each mode's ok/not ok, a hung VM, and
# kernel splats in the test VM's log.
python3 "$TOP/scripts/summarize.py" "$out" "$TOP/tests/expectations.txt" \
	"$status" "${#modes[@]}" vmm
