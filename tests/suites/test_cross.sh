#!/bin/sh
# The cross builds (mk/cross.mk) under qemu user emulation. For each of
# build/aarch64, build/armv7 and build/mipsel that has been built (`make cross`;
# SKIP otherwise, naming what is missing):
#   - the ELF's form: static, no interpreter, stripped, RELRO, no executable
#     stack, the right machine and ABI;
#   - it runs under qemu on a device-like CPU (build/<arch>/kling-mcp.qemu):
#     --version, serving until EOF, and the same in an empty root (chroot)
#     holding only the binary and the static qemu;
#   - mipsel: not one FPU instruction in the whole binary (objdump), and the
#     soft-float toolchain computes floating point correctly on a core without FPU;
#   - the C unit tests built for that architecture (build/<arch>/tests, made by
#     `make cross`), under qemu: 32-bit size_t, alignment and byte order show here;
#   - the end-to-end suites listed in CROSS_E2E, run again with KLING_MCP
#     pointing at the emulated binary, their checks named cross/<arch>/e2e/...
# Always, whatever is built: no floating point in src/ (an early warning; the
# objdump check is the proof).
. "$(dirname "$0")/../lib/kt.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Suites (in tests/suites/) that run again under every emulated architecture.
# A suite must spawn the server as $KLING_MCP; it can tell it is emulated by
# KLING_CROSS_ARCH, e.g. to skip a check that reads the ELF or measures speed.
CROSS_E2E=${CROSS_E2E-"test_static.sh test_core.py"}

arch_info() { # ARCH: sets qemu, cpu, machine, target
	case "$1" in
	aarch64) qemu=qemu-aarch64-static cpu=cortex-a53 machine="ARM aarch64" target=aarch64-linux-musl ;;
	armv7) qemu=qemu-arm-static cpu=cortex-a7 machine="ARM, EABI5" target=armv7-linux-musleabihf ;;
	mipsel) qemu=qemu-mipsel-static cpu=24Kc machine="MIPS, MIPS32 rel2" target=mipsel-linux-muslsf ;;
	esac
}

# The plan, from what is there before any check runs: the checks below for each
# architecture, plus the plan each unit test and end-to-end suite declares
# (asked with KT_PLAN_ONLY=1; one check when one declares none).
arch_plan() { # ARCH
	arch_info "$1"; d="$top/build/$1"
	[ -f "$d/kling-mcp" ] || { echo 1; return; }
	k=5
	case "$1" in armv7) k=$((k + 1)) ;; mipsel) k=$((k + 1))
		command -v mipsel-linux-gnu-objdump >/dev/null && k=$((k + 2)) || k=$((k + 1)) ;; esac
	command -v "$qemu" >/dev/null || { echo $((k + 1)); return; }
	k=$((k + 4))
	[ "$(id -u)" = 0 ] && command -v chroot >/dev/null && k=$((k + 3)) || k=$((k + 1))
	[ "$1" = mipsel ] && [ -x "$d/sysroot/bin/mipsel-linux-muslsf-gcc" ] && k=$((k + 1))
	units=0
	for u in "$d"/tests/test_*; do
		[ -x "$u" ] || continue
		units=$((units + 1)); p=$(plan_of "$qemu" -cpu "$cpu" "$u"); k=$((k + ${p:-1}))
	done
	[ $units -gt 0 ] || k=$((k + 1))
	for s in $CROSS_E2E; do
		case "$s" in *.py) runner=python3 ;; *) runner=sh ;; esac
		p=$(KLING_MCP="$d/kling-mcp.qemu" KLING_CROSS_ARCH="$1" plan_of $runner "$top/tests/suites/$s")
		k=$((k + ${p:-1}))
	done
	echo $k
}
if [ "${SANITIZE:-0}" = 1 ]; then
	plan 2
else
	total=1
	for arch in aarch64 armv7 mipsel; do total=$((total + $(arch_plan $arch))); done
	plan $total
fi

# --- no floating point in our sources -----------------------------------------
# Comments are dropped; identifiers are searched outside string literals and
# printf-style %f conversions inside them.
python3 - "$top/src" <<'PY'
import os, re, sys
src = sys.argv[1]
lex = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
word = re.compile(r'\b(float|double|strtod|strtof|strtold|atof|difftime)\b|#\s*include\s*<(math|fenv|complex)\.h>')
conv = re.compile(r'%[-+ #0]*[0-9*]*(?:\.[0-9*]*)?[lL]?f')
hits = []
for name in sorted(os.listdir(src)):
    if not name.endswith((".c", ".h")):
        continue
    text = open(os.path.join(src, name), encoding="utf-8", errors="replace").read()
    def line(pos):
        return text.count("\n", 0, pos) + 1
    code, last = [], 0
    for m in lex.finditer(text):
        code.append((last, text[last:m.start()]))
        tok = m.group(0)
        if tok.startswith('"'):
            for c in conv.finditer(tok):
                hits.append(f"{name}:{line(m.start())}: {c.group(0)} in a string")
        elif tok.startswith("'"):
            code.append((m.start(), " " * len(tok)))
        last = m.end()
    code.append((last, text[last:]))
    for start, chunk in code:
        for w in word.finditer(chunk):
            hits.append(f"{name}:{line(start + w.start())}: {w.group(0)}")
if hits:
    print("FAIL cross/no floating point in src/: " + "; ".join(hits[:10]))
else:
    print("PASS cross/no floating point in src/")
PY

if [ "${SANITIZE:-0}" = 1 ]; then
	skip "cross/builds" "checked by the plain run (make test), not again under sanitizers"
	exit 0
fi

v=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")

# fpu_lines FILE: the instructions in FILE (MIPS) that need an FPU — coprocessor 1
# loads, stores, moves and branches, any floating-point format (add.d, cvt.s.w,
# c.eq.d ...), any $f register or FP condition code. Prints "address mnemonic operands".
fpu_lines() {
	mipsel-linux-gnu-objdump -d --no-show-raw-insn "$1" |
		awk -F'\t' '$1 ~ /^ *[0-9a-f]+:$/ && NF >= 2 { print $1, $2, $3 }' |
		grep -E ': (l[wd]x?c1|s[wd]x?c1|[lsu][wdu]xc1|m[ft]h?c1|[cm][ft]c1|bc1[a-z]*|c1|movf|movt)( |$)|: [a-z0-9]+(\.[a-z0-9]+)*\.(s|d|ps|w|l)( |$)|\$f[0-9]|\$fcc'
}

for arch in aarch64 armv7 mipsel; do
	n="cross/$arch" d="$top/build/$arch" bin="$top/build/$arch/kling-mcp"
	arch_info "$arch"
	if [ ! -f "$bin" ]; then
		skip "$n" "build/$arch/kling-mcp is not built: make cross (or make ARCH=$arch)"
		continue
	fi

	# --- form -----------------------------------------------------------------
	f=$(file -b "$bin")
	case "$f" in *"$machine"*"statically linked"*", stripped"*) pass "$n/static $machine, stripped" ;;
	*) fail "$n/static $machine, stripped" "$f" ;; esac
	ph=$(readelf -lW "$bin")
	echo "$ph" | grep -q INTERP && fail "$n/no INTERP segment" "readelf -l shows INTERP" || pass "$n/no INTERP segment"
	echo "$ph" | grep -q GNU_RELRO && pass "$n/RELRO" || fail "$n/RELRO" "no GNU_RELRO"
	echo "$ph" | grep GNU_STACK | grep -q 'RWE' && fail "$n/noexecstack" "stack is executable" || pass "$n/noexecstack"
	readelf -d "$bin" 2>/dev/null | grep -q NEEDED && fail "$n/no shared libraries" "NEEDED entries" ||
		pass "$n/no shared libraries"
	attrs=$(readelf -A "$bin" 2>/dev/null)
	case "$arch" in
	armv7) echo "$attrs" | grep -q 'Tag_CPU_arch: v7$' && echo "$attrs" | grep -q 'Tag_ABI_VFP_args: VFP registers' &&
		pass "$n/ARMv7, hard-float ABI" || fail "$n/ARMv7, hard-float ABI" "$(echo "$attrs" | grep -E 'CPU_arch:|VFP_args')" ;;
	mipsel) echo "$attrs" | grep -q 'FP ABI: *Soft float' && pass "$n/ELF says soft-float" ||
		fail "$n/ELF says soft-float" "$(echo "$attrs" | grep 'FP ABI')" ;;
	esac

	# --- no FPU instruction (mipsel) ------------------------------------------
	if [ "$arch" = mipsel ]; then
		if ! command -v mipsel-linux-gnu-objdump >/dev/null; then
			skip "$n/no FPU instruction" "mipsel-linux-gnu-objdump missing (tools/bootstrap.sh cross mipsel)"
		else
			# First, that the check sees one: Debian's (hard-float) libgcc __adddf3 is add.d.
			(cd "$tmp" && ar x "$(mipsel-linux-gnu-gcc -print-libgcc-file-name)" adddf3.o 2>/dev/null)
			if [ -f "$tmp/adddf3.o" ] && fpu_lines "$tmp/adddf3.o" | grep -q 'add\.d'; then
				pass "$n/the FPU check finds add.d in Debian's hard-float libgcc"
			else
				fail "$n/the FPU check finds add.d in Debian's hard-float libgcc" "no FPU line found: the check is blind"
			fi
			total=$(mipsel-linux-gnu-objdump -d --no-show-raw-insn "$bin" | awk -F'\t' '$1 ~ /^ *[0-9a-f]+:$/ && NF >= 2' | wc -l)
			hits=$(fpu_lines "$bin")
			if [ -z "$hits" ] && [ "$total" -gt 1000 ]; then
				pass "$n/no FPU instruction in $total instructions"
			else
				fail "$n/no FPU instruction in $total instructions" "$(echo "$hits" | head -n 5 | tr '\n' ';')"
			fi
		fi
	fi

	# --- under emulation --------------------------------------------------------
	if ! command -v "$qemu" >/dev/null; then
		skip "$n/emulated" "$qemu missing (tools/bootstrap.sh cross-test installs qemu-user-static)"
		continue
	fi
	run="$d/kling-mcp.qemu"
	if [ -x "$run" ] && grep -q -- "-cpu $cpu " "$run"; then pass "$n/kling-mcp.qemu runs it as a $cpu"
	else fail "$n/kling-mcp.qemu runs it as a $cpu" "$(tail -n 1 "$run" 2>&1)"; fi
	out=$("$run" --version 2>&1); rc=$?
	case "$out" in "kling-mcp $v"*"Mbed TLS 3.6."*"target $target"*) [ $rc = 0 ] &&
		pass "$n/--version on a $cpu names $target" || fail "$n/--version on a $cpu names $target" "rc=$rc" ;;
	*) fail "$n/--version on a $cpu names $target" "rc=$rc: $out" ;; esac
	out=$(printf '' | "$run" 2>&1); rc=$?
	[ $rc = 0 ] && pass "$n/serves and exits 0 at EOF" || fail "$n/serves and exits 0 at EOF" "rc=$rc: $out"
	out=$(printf '{"jsonrpc":"2.0","id":1,"method":"ping"}\n' | "$run" 2>&1 >/dev/null); rc=$?
	[ $rc = 0 ] && pass "$n/reads a request line, exits 0 at EOF" ||
		fail "$n/reads a request line, exits 0 at EOF" "rc=$rc: $out"

	if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
		root="$tmp/root-$arch"; mkdir -p "$root"
		cp "$bin" "$root/kling-mcp"; cp "$(command -v "$qemu")" "$root/qemu"
		out=$(chroot "$root" /qemu -cpu "$cpu" /kling-mcp --version 2>&1); rc=$?
		case "$out" in "kling-mcp $v"*) [ $rc = 0 ] && pass "$n/--version in an empty root" ||
			fail "$n/--version in an empty root" "rc=$rc" ;;
		*) fail "$n/--version in an empty root" "rc=$rc: $out" ;; esac
		out=$(printf '' | chroot "$root" /qemu -cpu "$cpu" /kling-mcp 2>&1); rc=$?
		[ $rc = 0 ] && pass "$n/serves and exits 0 at EOF in an empty root" ||
			fail "$n/serves and exits 0 at EOF in an empty root" "rc=$rc: $out"
		[ "$(ls -A "$root" | tr '\n' ' ')" = "kling-mcp qemu " ] && pass "$n/empty root stays empty" ||
			fail "$n/empty root stays empty" "$(ls -A "$root" | tr '\n' ' ')"
	else
		skip "$n/empty root" "chroot needs root"
	fi

	# The soft-float toolchain itself: floating point through libc (strtod, printf
	# %f/%g, double to int) on the FPU-less core, with no FPU instruction.
	cc="$d/sysroot/bin/mipsel-linux-muslsf-gcc"
	if [ "$arch" = mipsel ] && [ -x "$cc" ]; then
		cat >"$tmp/fp.c" <<-'EOF'
		#include <stdio.h>
		#include <stdlib.h>
		int main(int argc, char **argv)
		{
			volatile double d = strtod(argc > 1 ? argv[1] : "2.5", NULL);
			printf("%.3f %g %d\n", d * 3.0 / 7.0, d + 1e10, (int)(d * 4));
			return 0;
		}
		EOF
		if "$cc" -static -Os -o "$tmp/fp" "$tmp/fp.c" -Wl,--no-warn-mismatch 2>"$tmp/cc.err"; then
			out=$("$qemu" -cpu "$cpu" "$tmp/fp" 2>&1); rc=$?
			[ "$out" = "1.071 1e+10 10" ] && [ $rc = 0 ] && [ -z "$(fpu_lines "$tmp/fp")" ] &&
				pass "$n/soft-float libc: printf %f and strtod right on a $cpu, no FPU instruction" ||
				fail "$n/soft-float libc: printf %f and strtod right on a $cpu, no FPU instruction" \
					"rc=$rc out=$out fpu=$(fpu_lines "$tmp/fp" | head -n 2 | tr '\n' ';')"
		else
			fail "$n/soft-float libc compiles a program" "$(head -n 3 "$tmp/cc.err")"
		fi
	fi

	# --- unit tests under emulation -------------------------------------------
	units=0
	for u in "$d"/tests/test_*; do
		[ -x "$u" ] || continue
		units=$((units + 1))
		"$qemu" -cpu "$cpu" "$u" >"$tmp/unit.log" 2>&1; rc=$?
		sed -n "s#^\(PASS\|FAIL\|SKIP\) #\1 $n/unit/#p" "$tmp/unit.log"
		checks=$(grep -cE '^(PASS|FAIL|SKIP) ' "$tmp/unit.log")
		want=$(sed -n '1s/^PLAN \([0-9][0-9]*\)$/\1/p' "$tmp/unit.log")
		if [ $rc -ne 0 ] || [ "$checks" != "${want:-none}" ]; then
			fail "$n/unit/$(basename "$u")" "exited with status $rc after $checks checks of ${want:-no plan}: $(tail -n 5 "$tmp/unit.log" | tr '\n' ';')"
		fi
	done
	[ $units -gt 0 ] || skip "$n/unit" "no unit test built for $arch (make cross builds them; or make ARCH=$arch unit)"

	# --- end-to-end suites under emulation --------------------------------------
	for s in $CROSS_E2E; do
		t="$top/tests/suites/$s"
		case "$s" in *.py) runner=python3 ;; *) runner=sh ;; esac
		KLING_MCP="$run" KLING_CROSS_ARCH="$arch" $runner "$t" >"$tmp/e2e.log" 2>&1; rc=$?
		sed -n "s#^\(PASS\|FAIL\|SKIP\) #\1 $n/e2e/#p" "$tmp/e2e.log"
		checks=$(grep -cE '^(PASS|FAIL|SKIP) ' "$tmp/e2e.log")
		want=$(sed -n '1s/^PLAN \([0-9][0-9]*\)$/\1/p' "$tmp/e2e.log")
		if [ $rc -ne 0 ] || [ "$checks" != "${want:-none}" ]; then
			fail "$n/e2e/$s" "exited with status $rc after $checks checks: $(tail -n 5 "$tmp/e2e.log" | tr '\n' ';')"
		fi
	done
done
