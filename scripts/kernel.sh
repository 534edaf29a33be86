#!/bin/bash
# Configure (tinyconfig + configs/kvm.config [+ configs/debug.config]) and
# build the work tree's kernel and modules out of tree in
# build/obj/SERIES-FLAVOR (modules installed under its modroot/).
# Skips the build when neither the tree nor the config changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$WT/.git" ] || bash "$TOP/scripts/tree.sh"

frags=("$TOP/configs/kvm.config")
case $FLAVOR in
kvm) ;;
debug) frags+=("$TOP/configs/debug.config") ;;
builtin) frags+=("$TOP/configs/builtin.config") ;;
*) die "unknown FLAVOR=$FLAVOR (kvm, debug or builtin)" ;;
esac

mkdir -p "$OBJ"
log=$LOGS/kernel-$SERIES-$FLAVOR.log
stamp=$OBJ/.gmemwalk-stamp
want=$( {
	wt_state
	cat "${frags[@]}"
	gcc --version | sed -n 1p
} | sha256sum | cut -d' ' -f1)
if [ -f "$OBJ/arch/x86/boot/bzImage" ] && [ -d "$OBJ/modroot/lib/modules" ] &&
	[ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	step "kernel $SERIES-$FLAVOR is up to date"
	exit 0
fi
rm -f "$stamp"

# Reproducible strings help ccache hit across rebuilds.
export KBUILD_BUILD_USER=gmemwalk KBUILD_BUILD_HOST=gmemwalk
export KBUILD_BUILD_TIMESTAMP="2000-01-01"
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
# Paths relative to the checkout, so that another clone (CI's) hits too.
export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=1
mk=(make -C "$WT" O="$OBJ" -j"$(($(nproc) + 1))")
command -v ccache >/dev/null && mk+=(CC="ccache gcc")

step "configuring $SERIES-$FLAVOR kernel (log: ${log#"$TOP"/})"
{
	"${mk[@]}" tinyconfig
	"$WT/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "${frags[@]}"
	"${mk[@]}" olddefconfig
} >"$log" 2>&1 || die "configuration failed, see $log"

# Every option asked for (the last fragment that names it wins) must have
# survived the dependency resolution.
bad=0
while read -r line; do
	case $line in
	CONFIG_*=n) opt=${line%%=*}
		grep -q "^$opt=" "$OBJ/.config" && { echo "config: $opt is set" >&2; bad=1; } ;;
	CONFIG_*) grep -qx "$line" "$OBJ/.config" || { echo "config: wanted $line, got: $(grep "^${line%%=*}=" "$OBJ/.config" || echo unset)" >&2; bad=1; } ;;
	esac
done < <(grep -h '^CONFIG_' "${frags[@]}" | awk -F= '{v[$1] = $0; if (!($1 in o)) o[$1] = n++}
	END {for (k in o) l[o[k]] = v[k]; for (i = 0; i < n; i++) print l[i]}')
[ $bad = 0 ] || die "config fragments not honoured (see above)"

step "building $SERIES-$FLAVOR kernel with $(($(nproc) + 1)) jobs (log: ${log#"$TOP"/})"
start=$(date +%s)
"${mk[@]}" bzImage modules >>"$log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
	sleep 30
	kill -0 $pid 2>/dev/null &&
		printf '    ... %ds, %s\n' $(($(date +%s) - start)) "$(grep -E '^\s+(CC|LD|AR)' "$log" | tail -n1 | sed 's/^ *//')" >&2
done
wait $pid || { tail -n 30 "$log" >&2; die "kernel build failed, see $log"; }
# The modules (KVM) go into the test VM's initramfs from here.
rm -rf "$OBJ/modroot"
"${mk[@]}" INSTALL_MOD_PATH="$OBJ/modroot" modules_install >>"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "modules_install failed, see $log"; }
echo "$want" >"$stamp"
step "kernel built in $(($(date +%s) - start))s: ${OBJ#"$TOP"/}/arch/x86/boot/bzImage"
