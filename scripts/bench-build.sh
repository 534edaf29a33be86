#!/bin/bash
# Build bench/gmem_bench.c against the patched tree's KVM selftest library
# (built by selftests.sh) and uapi headers, into OUTDIR/gmem_bench.
# Usage: bench-build.sh OUTDIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$1
WT=$BUILD/linux
sel=$BUILD/obj/gmemwalk-selftests
kvm=$WT/tools/testing/selftests/kvm
[ -d "$sel/kselftest/kvm/lib" ] || die "KVM selftest library not built in $sel"
mkdir -p "$dir"
# The library as the selftests link it: lib/, lib/x86/ and libvfio/.
mapfile -t objs < <( {
	find "$sel/kselftest/kvm/lib" "$sel/kselftest/kvm/lib/x86" -maxdepth 1 -name '*.o'
	find "$sel/kselftest/kvm/libvfio" -name '*.o'
} 2>/dev/null | sort)
step "bench: building gmem_bench (${#objs[@]} library objects)"
gcc -D_GNU_SOURCE= -Wall -Werror -O2 -g -std=gnu99 -DCONFIG_64BIT -U_FORTIFY_SOURCE \
	-fno-builtin-memcmp -fno-builtin-memcpy -fno-builtin-memset -fno-builtin-strnlen \
	-fno-stack-protector -fno-PIE -fno-strict-aliasing -march=x86-64-v2 \
	-I"$WT/tools/testing/selftests" -I"$kvm/include" -I"$kvm/include/x86" \
	-I"$WT/tools/include" -I"$WT/tools/arch/x86/include" -isystem "$sel/usr/include" \
	-pthread -no-pie -o "$dir/gmem_bench" "$TOP/bench/gmem_bench.c" "${objs[@]}" -luuid -ldl
