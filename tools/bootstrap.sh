#!/bin/sh
# Make sure this machine has what building (`bootstrap.sh build`) or testing
# (`bootstrap.sh test`) needs. Missing Debian packages are installed with
# apt-get when running as root; otherwise it stops and prints the one command
# to run. Quiet when nothing is missing.
set -eu
need_build="musl-gcc:musl-tools python3:python3 sha256sum:coreutils dpkg-deb:dpkg apt-get:apt
file:file readelf:binutils bzip2:bzip2"
need_test="openssl:openssl node:nodejs npm:npm clang:clang valgrind:valgrind"

missing=""
check() {
	for pair in $1; do
		cmd=${pair%%:*}; pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
	done
}
check "$need_build"
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"
if [ "${1:-build}" = test ]; then
	check "$need_test"
	# clang's sanitizer and libFuzzer runtimes
	ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-*.a >/dev/null 2>&1 ||
		missing="$missing libclang-rt-dev"
fi
[ -z "$missing" ] && exit 0

# Deduplicate; libclang-rt-dev is named after the clang version Debian ships.
pkgs=$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ')
case "$pkgs" in *libclang-rt-dev*)
	v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
	pkgs=$(echo "$pkgs" | sed "s/libclang-rt-dev/libclang-rt-${v:-14}-dev/") ;;
esac
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "bootstrap: installing:$pkgs" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
	# clang may just have arrived: its runtime package carries its version
	if [ "${1:-build}" = test ] && ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-*.a >/dev/null 2>&1; then
		v=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
		apt-get install -y -qq --no-install-recommends "libclang-rt-$v-dev" >/dev/null
	fi
	exit 0
fi
echo "bootstrap: missing:$pkgs" >&2
echo "bootstrap: run this once, then again make:" >&2
echo "    sudo apt-get update && sudo apt-get install -y$pkgs" >&2
exit 1
