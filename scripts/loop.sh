#!/bin/bash
# Run one KVM selftest many times in one test VM: the loop that tells a
# rare failure from noise. Each run is judged like a selftest
# (loop:TEST.K); a failed run's output is kept in full. Summary last:
# "N passed, N failed, N skipped", non-zero exit if a run failed.
# Usage: loop.sh TEST [N]   TEST: a KVM selftest (e.g. private_mem_walk_test
#                           or x86/private_mem_walk_test); N runs (default 20)
# Env: CMDLINE (the test VM's, default the npt configuration's
#      "kvm.force_emulation_prefix=1"), TEST_ARGS (the test's arguments),
#      TEST_TIMEOUT (s per run, default 300), LOAD=N (N busy loops on this
#      machine while the VM runs: the test on a busy machine),
#      TRACE="kvmmmu/kvm_mmu_paging_element ..." (trace events in the test
#      VM; a failed run prints the last 150 lines of the trace),
#      SERIES, FLAVOR. Logs: build/logs/loop-TEST/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

test=${1:?usage: loop.sh TEST [N]}
test=${test#kvm:}
n=${2:-20}
[[ $n =~ ^[1-9][0-9]*$ ]] || die "N=$n: want a positive number"
per=${TEST_TIMEOUT:-300}
[[ $per =~ ^[1-9][0-9]*$ ]] || die "TEST_TIMEOUT=$per: want a positive number"
load=${LOAD:-0}
[[ $load =~ ^[0-9]+$ ]] || die "LOAD=$load: want a number of busy loops"
bash "$TOP/scripts/deps.sh"
bash "$TOP/scripts/kernel.sh"
bash "$TOP/scripts/selftests.sh"

ksft=$STAGE/kselftest/kvm
bin=$ksft/$test
[ -x "$bin" ] || bin=$ksft/x86/$test
[ -x "$bin" ] || die "no selftest $test in $ksft (make selftests; ls $ksft)"
name=$(basename "$test")
out=$LOGS/loop-$SERIES-$FLAVOR-$name
pack=$BUILD/loop/pack
rm -rf "$pack" "$out"
mkdir -p "$pack" "$out"
cp "$bin" "$pack/$name"
cat >"$pack/run" <<EOF
#!/bin/sh
# Written by loop.sh: run $name $n times (guest/init runs this).
name=$name n=$n per=$per args="${TEST_ARGS:-}" trace="${TRACE:-}"
EOF
cat >>"$pack/run" <<'EOF'
cd /bench
t=/sys/kernel/tracing
if [ -n "$trace" ]; then
	echo 8192 >$t/buffer_size_kb
	for e in $trace; do
		echo 1 >$t/events/$e/enable || echo "# loop: no trace event $e"
	done
fi
i=1
while [ $i -le $n ]; do
	echo "# selftests: loop: $name.$i"
	[ -z "$trace" ] || echo >$t/trace
	start=$(date +%s)
	# shellcheck disable=SC2086 # args are words
	timeout -k 10 $per ./$name $args >/tmp/out 2>&1
	rc=$?
	sed 's/^/# /' /tmp/out
	echo "# $name.$i: exit $rc after $(($(date +%s) - start)) s"
	if [ $rc = 0 ]; then
		echo "ok $i selftests: loop: $name.$i"
	elif [ $rc = 4 ]; then
		echo "ok $i selftests: loop: $name.$i # SKIP"
	else
		[ -z "$trace" ] || tail -n 150 $t/trace | sed 's/^/# trace: /'
		echo "not ok $i selftests: loop: $name.$i # exit code $rc"
	fi
	i=$((i + 1))
done
EOF
chmod +x "$pack/run"
BENCH=$pack bash "$TOP/scripts/initramfs.sh" "$out/initramfs.gz"

hogs=()
stop_hogs() { [ ${#hogs[@]} = 0 ] || kill "${hogs[@]}" 2>/dev/null || true; }
trap stop_hogs EXIT
for _ in $(seq 1 "$load"); do
	(while :; do :; done) &
	hogs+=($!)
done
beside=
[ "$load" = 0 ] || beside=", $load busy loops beside it"
step "loop: $name $n times in one test VM ($(basename "$OBJ")$beside); logs in ${out#"$TOP"/}"
status=ok
# shellcheck disable=SC2086 # CMDLINE is words of a command line
STALL=$((per + 120)) bash "$TOP/scripts/vm-run.sh" "$OBJ/arch/x86/boot/bzImage" \
	"$out/initramfs.gz" "$out" $(((per + 20) * n + 300)) "$n" \
	${CMDLINE:-kvm.force_emulation_prefix=1} || case $? in
	3) status="hung, QEMU killed (no output for $((per + 120))s, or over its time limit)" ;;
	4) status="QEMU crashed (exit $(cat "$out/qemu.rc")); see $out/qemu.log" ;;
	*) status="runner error" ;;
	esac
stop_hogs
# Only the last line's counts are the verdict; the failing runs' seeds
# and messages come before it.
grep -a -E '^(not ok|# .*(seed|Assertion|got|exit [1-9]))' "$out/results.ktap" | tail -n 40 >&2 || true
python3 "$TOP/scripts/summarize.py" "$out" "$TOP/tests/expectations.txt" \
	"$status" "$n" loop
