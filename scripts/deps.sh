#!/bin/bash
# Install the Debian packages the tooling needs, saying what is missing.
set -euo pipefail

pkgs=(make gcc git ccache flex bison bc libelf-dev libssl-dev cpio rsync
      kmod xz-utils python3 qemu-system-x86 busybox-static patch file
      debian-archive-keyring)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "==> installing missing prerequisites: ${missing[*]}" >&2
if [ "$(id -u)" != 0 ]; then
	echo "error: run as root, or install them: apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "==> prerequisites installed" >&2
