#!/bin/sh
# Build the soft-float sysroot that `make ARCH=mipsel` or `make ARCH=mips` compiles against.
#   tools/musl-softfloat.sh OUT [mipsel|mips]   (OUT is build/<arch>/sysroot; default mipsel)
# Debian's mipsel musl and libgcc are hard-float (and Debian has no big-endian
# mips musl at all): a program linked with them dies with SIGILL on the FPU-less
# cores of most MIPS routers (24Kc, 1004Kc). Here, with Debian's <arch>-linux-gnu-gcc:
#   OUT/include, OUT/lib/libc.a   musl (pinned, third_party/PINS) built -msoft-float
#   OUT/lib/libsoftfp.a           glibc's soft-fp routines (__adddf3, ...), -msoft-float;
#                                 the specs link them before libgcc, whose versions
#                                 of these are single FPU instructions
#   OUT/lib/musl-gcc.specs        musl's own specs generator, plus -lsoftfp
#   OUT/bin/<arch>-linux-muslsf-gcc   the compiler driver to use (like musl-gcc)
# The sysroot's folder is written into the driver and the specs only, never
# into what they build (tests/suites/test_repro.sh checks the binaries).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: musl-softfloat.sh OUT [mipsel|mips]}
arch=${2:-mipsel}
shown=$out
mkdir -p "$out"; out=$(cd "$out" && pwd)
. "$top/third_party/PINS"
case "$arch" in
# musl's configure names the soft-float subarchitecture: el-sf little-endian, -sf big-endian.
mipsel) subarch=el-sf ;;
mips) subarch=-sf ;;
*) echo "musl-softfloat: unknown architecture \"$arch\" (mipsel, mips)" >&2; exit 2 ;;
esac
tool=$arch-linux-gnu-
gcc=${tool}gcc
flags="-march=mips32r2 -msoft-float"
jobs=$(nproc 2>/dev/null || echo 2)
musl="$top/third_party/musl-$MUSL_VERSION"
softfp="$top/third_party/softfp-glibc-$SOFTFP_GLIBC_VERSION"
say() { echo "  SYSROOT $*" >&2; }

command -v "$gcc" >/dev/null || { echo "musl-softfloat: $gcc not found (tools/bootstrap.sh cross $arch)" >&2; exit 1; }
"$top/third_party/fetch.sh" musl
"$top/third_party/fetch.sh" softfp

# musl, out of tree. Our caller is make: its MAKEFLAGS (ARCH=mips... among them)
# must not reach musl's Makefile, which has an ARCH variable of its own.
say "musl $MUSL_VERSION, $flags"
rm -rf "${out:?}/.musl-build" "${out:?}/include" "${out:?}/lib" "${out:?}/bin"
mkdir -p "$out/.musl-build"
(
	cd "$out/.musl-build"
	unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
	"$musl/configure" --target=$arch-linux-musl --prefix="$out" --syslibdir="$out/lib" \
		--disable-shared --disable-wrapper CC="$gcc" CROSS_COMPILE=$tool \
		CFLAGS="$flags -Os -fstack-protector-strong" >configure.log 2>&1 ||
		{ tail -n 20 configure.log >&2; exit 1; }
	grep -qx "SUBARCH = $subarch" config.mak || { echo "musl-softfloat: musl did not configure soft-float" >&2; exit 1; }
	make -j"$jobs" >make.log 2>&1 && make install >>make.log 2>&1 ||
		{ tail -n 20 make.log >&2; exit 1; }
)

# The specs: musl's generator (tools/musl-gcc.specs.sh), with libsoftfp searched
# before libgcc wherever libgcc is.
sh "$musl/tools/musl-gcc.specs.sh" "$out/include" "$out/lib" "/lib/ld-musl-$arch-sf.so.1" |
	sed 's|^libgcc\.a%s|-lsoftfp &|' >"$out/lib/musl-gcc.specs"
grep -q '^-lsoftfp libgcc' "$out/lib/musl-gcc.specs" || { echo "musl-softfloat: specs not as expected" >&2; exit 1; }
mkdir -p "$out/bin"
cc="$out/bin/$arch-linux-muslsf-gcc"
cat >"$cc" <<WRAP
#!/bin/sh
# gcc for $arch, soft-float, against the musl in $out. Written by tools/musl-softfloat.sh.
exec "\${REALGCC:-$gcc}" $flags "\$@" -specs "$out/lib/musl-gcc.specs"
WRAP
chmod +x "$cc"

# The soft-float routines: single and double precision, as glibc's soft-fp/Makefile
# lists them (gcc-single-routines, gcc-double-routines).
routines="negsf2 addsf3 subsf3 mulsf3 divsf3 eqsf2 lesf2 gesf2 unordsf2 fixsfsi fixunssfsi
	floatsisf fixsfdi fixunssfdi floatdisf floatunsisf floatundisf
	negdf2 adddf3 subdf3 muldf3 divdf3 eqdf2 ledf2 gedf2 unorddf2 fixdfsi fixunsdfsi
	floatsidf fixdfdi fixunsdfdi floatdidf extendsfdf2 truncdfsf2 floatunsidf floatundidf"
say "libsoftfp.a from glibc $SOFTFP_GLIBC_VERSION soft-fp"
mkdir -p "$out/.softfp"
for r in $routines; do
	"$cc" -Os -ffunction-sections -fdata-sections -w \
		-I"$top/mk/softfp" -I"$softfp/sysdeps/mips/mips32" -I"$softfp/stdlib" \
		-c "$softfp/soft-fp/$r.c" -o "$out/.softfp/$r.o" &
	# a few at a time
	[ "$(jobs -p | wc -l)" -lt "$jobs" ] || wait
done
wait
for r in $routines; do [ -f "$out/.softfp/$r.o" ] || { echo "musl-softfloat: $r.c did not compile" >&2; exit 1; }; done
rm -f "$out/lib/libsoftfp.a"
"${tool}ar" rcsD "$out/lib/libsoftfp.a" "$out/.softfp"/*.o
rm -rf "$out/.softfp" "$out/.musl-build"
say "ready: $shown/bin/$arch-linux-muslsf-gcc"
