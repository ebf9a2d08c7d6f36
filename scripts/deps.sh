#!/bin/bash
# Install the Debian packages a make target needs; do nothing when all are present.
#   scripts/deps.sh build   compilers, libraries and kernel headers
#   scripts/deps.sh check   build + what tests/vm/run.sh needs to boot the test VM
set -euo pipefail

build_pkgs=(build-essential make pkg-config libjansson-dev libnuma-dev
	liburing-dev libcmocka-dev linux-headers-amd64 sparse)
check_pkgs=(linux-image-amd64 qemu-system-x86 busybox-static cpio kmod valgrind
	clang libclang-rt-14-dev)

case "${1:-}" in
build) want=("${build_pkgs[@]}") ;;
check) want=("${build_pkgs[@]}" "${check_pkgs[@]}") ;;
*)
	echo "usage: $0 build|check" >&2
	exit 2
	;;
esac

missing=()
for pkg in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

# The VM boots the kernel the module is built for: when either of the pair is
# missing for "check", install both so apt resolves them to one version.
if [[ $1 == check && " ${missing[*]} " == *" linux-"*"-amd64 "* ]]; then
	for pkg in linux-headers-amd64 linux-image-amd64; do
		[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
	done
fi

# Headers and image are pulled in one transaction so both resolve to the same
# kernel version; every missing package goes into that one apt-get call.
cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
	echo "deps.sh: install them as root with:" >&2
	echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive ${cmd[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
"${cmd[@]}"
