#!/bin/bash
# make bench: build the unpatched base kernel and the patched one with the
# same configuration, boot each in the same test VM, run bench/gmem_bench
# there (NPT and shadow paging; plain TCG and QEMU's -icount shift=0, whose
# clock counts instructions and so repeats from run to run), and write
# bench/results/: a Markdown table and an SVG plot, patched against base.
# Knobs: BENCH_REPS (default 5), BENCH_SCALE (divide the operation counts).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

reps=${BENCH_REPS:-5}
scale=${BENCH_SCALE:-1}
start=$(date +%s)
bash "$TOP/scripts/deps.sh"
step "bench: building the base kernel (1 of 2)"
SERIES=none bash "$TOP/scripts/kernel.sh"
step "bench: building the patched kernel (2 of 2)"
SERIES=gmemwalk bash "$TOP/scripts/kernel.sh"
SERIES=gmemwalk bash "$TOP/scripts/selftests.sh"
bin=$BUILD/bench
bash "$TOP/scripts/bench-build.sh" "$bin"

out=$LOGS/bench-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
cat >"$bin/run" <<EOF
#!/bin/sh
cd /bench && exec ./gmem_bench -r $reps -s $scale
EOF
chmod +x "$bin/run"

mapfile -t configs < <(grep -v -e '^#' -e '^[[:space:]]*$' "$TOP/tests/configs")
total=$((2 * 2 * ${#configs[@]}))
i=0
for series in none gmemwalk; do
	BENCH=$bin SERIES=$series bash "$TOP/scripts/initramfs.sh" "$out/initramfs-$series.gz"
done
# Base and patched back to back for each setting, so that a drift of the
# host's speed over the whole run does not favour either.
for clock in tcg icount; do
	extra=
	[ $clock = tcg ] || extra="-icount shift=0"
	for conf in "${configs[@]}"; do
		read -r label args <<<"$conf"
		for series in none gmemwalk; do
			i=$((i + 1))
			run=$out/$series-$label-$clock
			step "bench run $i of $total: ${series/none/base} kernel, $label, $clock ($(($(date +%s) - start))s so far)"
			# shellcheck disable=SC2086 # args are words of a command line
			QEMU_EXTRA=$extra STALL=600 bash "$TOP/scripts/vm-run.sh" \
				"$BUILD/obj/$series-kvm/arch/x86/boot/bzImage" \
				"$out/initramfs-$series.gz" "$run" 1800 0 $args ||
				die "bench VM failed ($series, $label, $clock); see $run"
			grep -q "^# gmemwalk: bench exited 0" "$run/results.ktap" ||
				die "bench failed ($series, $label, $clock); see $run/results.ktap"
		done
	done
done
step "bench: all runs done in $(($(date +%s) - start))s, logs in ${out#"$TOP"/}"
python3 "$TOP/scripts/bench-report.py" "$out" "$TOP/bench/results" "$reps" "$scale"
