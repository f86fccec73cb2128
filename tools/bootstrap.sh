#!/bin/sh
# Make sure this machine has what building (`bootstrap.sh build`) or testing
# (`bootstrap.sh test`) needs. Missing Debian packages are installed with
# apt-get when running as root; otherwise it stops and prints the one command
# to run. Quiet when nothing is missing.
#   bootstrap.sh cross [aarch64 armv7 mipsel mips]  the cross toolchains (default: all four)
#   bootstrap.sh cross-test                    qemu user emulation for the cross tests
set -eu
need_build="musl-gcc:musl-tools python3:python3 sha256sum:coreutils dpkg-deb:dpkg apt-get:apt
file:file readelf:binutils bzip2:bzip2"
need_test="openssl:openssl node:nodejs npm:npm clang:clang valgrind:valgrind busybox:busybox skopeo:skopeo umoci:umoci
	   systemd-analyze:systemd"

missing=""
foreign="" # Debian architectures to add with dpkg --add-architecture
check() {
	for pair in $1; do
		cmd=${pair%%:*}; pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
	done
}
# need_foreign ARCH: musl-dev for that Debian architecture is installed side by side.
need_foreign() {
	dpkg --print-foreign-architectures 2>/dev/null | grep -qx "$1" || foreign="$foreign $1"
}
mode=${1:-build}
case "$mode" in
cross)
	shift
	# make, xz and dpkg-deb build and unpack the pinned musl and soft-fp sources.
	check "make:make xz:xz-utils dpkg-deb:dpkg"
	for arch in ${*:-aarch64 armv7 mipsel mips}; do
		case "$arch" in
		aarch64) need_foreign arm64
			check "aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu aarch64-linux-musl-gcc:musl-dev:arm64" ;;
		armv7) need_foreign armhf
			check "arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf arm-linux-musleabihf-gcc:musl-dev:armhf" ;;
		# Debian's musl-dev:mipsel is hard-float (and there is no musl-dev:mips):
		# we build musl soft-float ourselves, for both byte orders.
		mipsel) check "mipsel-linux-gnu-gcc:gcc-mipsel-linux-gnu" ;;
		mips) check "mips-linux-gnu-gcc:gcc-mips-linux-gnu" ;;
		*) echo "bootstrap: unknown cross architecture \"$arch\" (aarch64, armv7, mipsel, mips)" >&2; exit 2 ;;
		esac
	done ;;
cross-test)
	check "qemu-aarch64-static:qemu-user-static qemu-arm-static:qemu-user-static
	       qemu-mipsel-static:qemu-user-static qemu-mips-static:qemu-user-static chroot:coreutils file:file readelf:binutils" ;;
*)
	check "$need_build"
	[ -f /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates" ;;
esac
if [ "$mode" = test ]; then
	check "$need_test"
	# clang's sanitizer and libFuzzer runtimes
	ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-*.a >/dev/null 2>&1 ||
		missing="$missing libclang-rt-dev"
	# server.json is validated with it (tests/suites/test_packages.py)
	python3 -c 'import jsonschema' 2>/dev/null || missing="$missing python3-jsonschema"
fi
[ -z "$missing" ] && [ -z "$foreign" ] && exit 0

# Deduplicate; libclang-rt-dev is named after the clang version Debian ships.
pkgs=$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ')
case "$pkgs" in *libclang-rt-dev*)
	v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
	pkgs=$(echo "$pkgs" | sed "s/libclang-rt-dev/libclang-rt-${v:-14}-dev/") ;;
esac
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	for a in $foreign; do
		echo "bootstrap: adding the Debian architecture $a (dpkg --add-architecture)" >&2
		dpkg --add-architecture "$a"
	done
	echo "bootstrap: installing:$pkgs" >&2
	export DEBIAN_FRONTEND=noninteractive
	# One index that fails to download (a mirror mid-sync, often a foreign
	# architecture's) must not stop the install: apt-get install says if a package is missing.
	apt-get update -qq >/dev/null 2>&1 || echo "bootstrap: apt-get update reported errors; installing anyway" >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
	# clang may just have arrived: its runtime package carries its version
	if [ "$mode" = test ] && ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-*.a >/dev/null 2>&1; then
		v=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
		apt-get install -y -qq --no-install-recommends "libclang-rt-$v-dev" >/dev/null
	fi
	exit 0
fi
add=""
for a in $foreign; do add="${add}sudo dpkg --add-architecture $a && "; done
echo "bootstrap: missing:$pkgs${foreign:+ (and the Debian architectures$foreign)}" >&2
echo "bootstrap: run this once, then again make:" >&2
echo "    ${add}sudo apt-get update && sudo apt-get install -y$pkgs" >&2
exit 1
