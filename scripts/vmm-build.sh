#!/bin/bash
# Build gmemvmm and its guest's init (vmm/, static) against the uapi
# headers of the work tree, and pack the guest's initramfs (the init alone):
# build/vmm/gmemvmm, build/vmm/guest-init, build/vmm/guest-initramfs.gz.
# Usage: vmm-build.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/vmm
hdr=$out/hdr-$SERIES
uapi=$WT/include/uapi/linux/kvm.h
[ -f "$uapi" ] || die "no kernel tree in $WT (run 'make tree')"
mkdir -p "$out"
if [ ! -f "$hdr/include/linux/kvm.h" ] || [ "$uapi" -nt "$hdr/include/linux/kvm.h" ]; then
	step "vmm: installing the uapi headers of ${WT#"$TOP"/}"
	make -s -C "$WT" O="$hdr/obj" INSTALL_HDR_PATH="$hdr" headers_install \
		>"$LOGS/vmm-headers.log" 2>&1 ||
		die "headers_install failed; see $LOGS/vmm-headers.log"
fi
step "vmm: building gmemvmm and the guest's init"
make -s -C "$TOP/vmm" HDR="$hdr/include" O="$out"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{dev,proc,sys}
install -m 0755 "$out/guest-init" "$root/init"
# The kernel's built-in initramfs has /dev/console too; this is for root.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -9 >"$out/guest-initramfs.gz"
step "vmm: built ${out#"$TOP"/}/gmemvmm and guest-initramfs.gz ($(stat -c %s "$out/guest-initramfs.gz") bytes)"
