#!/bin/bash
# Build and install the KVM selftests of the work tree with the kselftest
# framework, against the work tree's own uapi headers.
# Result: build/stage/SERIES/kselftest (run_kselftest.sh, kselftest-list.txt).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$WT/.git" ] || bash "$TOP/scripts/tree.sh"
# One stage per series: a stage that is a link to another series' would
# get this series' tests, and that series' stamp would not notice.
[ ! -L "$STAGE" ] || die "$STAGE is a symbolic link: each series needs its own"
obj=$BUILD/obj/$SERIES-selftests
dest=$STAGE/kselftest
log=$LOGS/selftests-$SERIES.log
stamp=$obj/.gmemwalk-stamp
want=$(wt_state | sha256sum | cut -d' ' -f1)
if [ -x "$dest/run_kselftest.sh" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	step "selftests $SERIES are up to date"
	exit 0
fi
rm -f "$stamp"
mkdir -p "$obj"
step "building KVM selftests ($SERIES, log: ${log#"$TOP"/})"
start=$(date +%s)
{
	make -C "$WT" O="$obj" headers
	rm -rf "$dest"
	make -C "$WT/tools/testing/selftests" O="$obj" TARGETS=kvm \
		KSFT_INSTALL_PATH="$dest" -j"$(($(nproc) + 1))" install
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "selftest build failed, see $log"; }
[ -x "$dest/run_kselftest.sh" ] || die "no run_kselftest.sh in $dest"
echo "$want" >"$stamp"
step "selftests built in $(($(date +%s) - start))s: $(wc -l <"$dest/kselftest-list.txt") tests"
