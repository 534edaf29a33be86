#!/bin/bash
# Pack the test VM's initramfs: busybox, the installed kselftests, the
# kernel's modules, the shared libraries they need, coreutils' timeout
# (kselftest's runner needs its --foreground), bash, addr2line,
# guest/init and the tests to run.
# Usage: initramfs.sh OUTPUT TEST...
# BENCH=DIR packs DIR as /bench instead of the kselftests: guest/init then
# runs /bench/run (make bench).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

outfile=$1
shift
ksft=$STAGE/kselftest
if [ -z "${BENCH:-}" ]; then
	[ -x "$ksft/run_kselftest.sh" ] || die "selftests not built ($ksft)"
	for t in "$@"; do
		grep -qx "$t" "$ksft/kselftest-list.txt" || die "no such test: $t (see $ksft/kselftest-list.txt)"
	done
else
	[ -x "$BENCH/run" ] || die "no $BENCH/run"
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc/gmemwalk,lib64}
cp /bin/busybox "$root/bin/busybox"
case $(file -b "$root/bin/busybox") in
*'statically linked'*) ;;
*) die "/bin/busybox is not static (install busybox-static)" ;;
esac
cp "$(command -v timeout)" "$root/usr/bin/timeout"
# bash for the .sh selftests, addr2line for the selftests' backtraces.
cp /bin/bash "$root/bin/bash"
cp "$(command -v addr2line)" "$root/usr/bin/addr2line"
if [ -n "${BENCH:-}" ]; then
	cp -a "$BENCH" "$root/bench"
else
	cp -a "$ksft" "$root/kselftest"
fi
# The kernel's modules (KVM): guest/init loads them.
[ -d "$OBJ/modroot/lib/modules" ] || die "no modules in $OBJ/modroot (run 'make kernel')"
cp -a "$OBJ/modroot/lib" "$root/"
install -m 0755 "$TOP/guest/init" "$root/init"
printf '%s\n' "$@" >"$root/etc/gmemwalk/tests"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

# Shared libraries of every dynamic ELF file, at their host paths, and
# libgcc_s, which glibc's pthread_cancel() dlopen()s (sync_regs_test and
# xen_shinfo_test abort without it).
{
	find "$root" -type f -perm -u+x -print0 | xargs -0 file |
		awk -F: '/ELF.*dynamically linked/ {print $1}' |
		xargs -r ldd 2>/dev/null | grep '^[[:space:]]' | grep -o '/[^ ]*'
	# awk reads to the end: stopping early would kill ldconfig with
	# SIGPIPE, and pipefail would stop this script.
	ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ && !n++ {print $NF}'
} | sort -u |
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$outfile"
