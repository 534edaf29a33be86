#!/bin/bash
# Lint what we write: checkpatch --strict on every patch of the series,
# then the shell scripts (with the shellcheck tool) and the Python helpers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$WT/.git" ] || bash "$TOP/scripts/tree.sh"
rc=0
# checkpatch's SPDX check needs Debian's python3-ply and python3-git.
for pkg in python3-ply python3-git shellcheck; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || {
		step "installing $pkg"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null
	}
done
mapfile -t patches < <(grep -v -e '^#' -e '^[[:space:]]*$' "$TOP/patches/series" || true)
for p in "${patches[@]}"; do
	step "checkpatch --strict $p"
	# From the kernel tree: inside this repository checkpatch takes its
	# git settings from here and misreads context lines.
	# FILE_PATH_CHANGES: new selftests are covered by the KVM entry.
	(cd "$WT" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --quiet \
		--ignore FILE_PATH_CHANGES "$TOP/patches/$p") || rc=1
done
step "shellcheck"
shellcheck -x -e SC1091,SC2034,SC2153 "$TOP"/scripts/*.sh "$TOP"/.ci/run || rc=1
shellcheck -s sh "$TOP"/guest/init || rc=1
step "python3 -m py_compile"
for f in "$TOP"/scripts/*.py; do python3 -m py_compile "$f" || rc=1; done
exit $rc
