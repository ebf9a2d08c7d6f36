#!/usr/bin/env bash
# Print the kernel build directory of the installed Debian headers
# (linux-headers-amd64), not of the running kernel, which may have none.
set -euo pipefail
dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | sed -n 's/^\(linux-headers-[^ ,]*\).*/\1/p')
if [ -n "$dep" ] && [ -d "/usr/src/$dep" ]; then
	echo "/usr/src/$dep"
	exit 0
fi
newest=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
if [ -z "$newest" ]; then
	echo "no kernel headers: install linux-headers-amd64 or pass KDIR=" >&2
	exit 1
fi
echo "$newest"
