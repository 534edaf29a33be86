#!/bin/bash
# List the kernel source packages (linux-source-X.Y, which carry the
# tarball) Debian's archive serves, suite by suite: "SUITE PACKAGE
# VERSION", newest first within a package. The suites: the
# machine's own release, its security and backports suites, the next
# release's, and sid (override with SUITES="...").
# Usage: base-versions.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

. /etc/os-release
next=trixie
[ "$VERSION_CODENAME" = bookworm ] || next=
suites=${SUITES:-$VERSION_CODENAME $VERSION_CODENAME-security $VERSION_CODENAME-backports${next:+ $next $next-security $next-backports} sid}
for s in $suites; do
	mapfile -t pkgs < <(bash "$TOP/scripts/apt-suite.sh" "$s" apt-cache pkgnames linux-source- 2>/dev/null |
		grep -E '^linux-source-[0-9]+\.[0-9]+$' | sort -u) || {
		step "suite $s: not reachable, skipped"
		continue
	}
	[ ${#pkgs[@]} -gt 0 ] || continue
	bash "$TOP/scripts/apt-suite.sh" "$s" apt-cache madison "${pkgs[@]}" |
		awk -F'|' -v s="$s" '{gsub(/ /, "", $1); gsub(/ /, "", $2); print s, $1, $2}'
done
