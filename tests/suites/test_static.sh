#!/bin/sh
# The promise of the project: one static file that needs nothing else.
# Checks the binary's form (static, no interpreter, stripped, hardened) and runs
# it inside an empty root holding only itself.
. "$(dirname "$0")/../lib/kt.sh"
bin=${KLING_MCP:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# 18 checks of the command line; the form: 1 skip, or 6 + the empty root (3, or 1 skip)
if [ "${SANITIZE:-0}" = 1 ] || [ -n "${KLING_CROSS_ARCH:-}" ]; then plan 19
elif [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then plan 27
else plan 25; fi

if [ "${SANITIZE:-0}" = 1 ]; then
	skip "static/form" "sanitizer builds are dynamic by nature"
elif [ -n "${KLING_CROSS_ARCH:-}" ]; then
	# $KLING_MCP is the qemu wrapper script; test_cross.sh checks the ELF itself.
	skip "static/form" "run by test_cross.sh under emulation: it checks the $KLING_CROSS_ARCH ELF itself"
else
	f=$(file -b "$bin")
	case "$f" in *"statically linked"*) pass "static/file says statically linked" ;;
	*) fail "static/file says statically linked" "$f" ;; esac
	case "$f" in *stripped*) case "$f" in *"not stripped"*) fail "static/stripped" "$f" ;; *) pass "static/stripped" ;; esac ;;
	*) fail "static/stripped" "$f" ;; esac
	if readelf -l "$bin" | grep -q INTERP; then fail "static/no INTERP segment" "readelf -l shows INTERP"
	else pass "static/no INTERP segment"; fi
	if readelf -l "$bin" | grep -q GNU_RELRO; then pass "static/RELRO"; else fail "static/RELRO" "no GNU_RELRO"; fi
	if readelf -l "$bin" | grep -A1 GNU_STACK | grep -q 'RWE'; then fail "static/noexecstack" "stack is executable"
	else pass "static/noexecstack"; fi
	if readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then fail "static/no shared libraries" "NEEDED entries"
	else pass "static/no shared libraries"; fi
	# In an empty root: no libc, no /dev, no /etc, no CA files.
	if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
		cp "$bin" "$tmp/kling-mcp"
		out=$(chroot "$tmp" /kling-mcp --version 2>&1); rc=$?
		case "$out" in "kling-mcp "*"Mbed TLS 3.6"*) [ $rc = 0 ] && pass "static/--version in an empty root" ||
			fail "static/--version in an empty root" "rc=$rc" ;;
		*) fail "static/--version in an empty root" "rc=$rc: $out" ;; esac
		out=$(printf '' | chroot "$tmp" /kling-mcp 2>&1); rc=$?
		[ $rc = 0 ] && pass "static/serves and exits 0 at EOF in an empty root" ||
			fail "static/serves and exits 0 at EOF in an empty root" "rc=$rc: $out"
		[ "$(ls -A "$tmp")" = kling-mcp ] && pass "static/empty root stays empty" ||
			fail "static/empty root stays empty" "$(ls -A "$tmp")"
	else
		skip "static/empty root" "chroot needs root"
	fi
fi

out=$("$bin" --version); rc=$?
v=$(sed -n 's/^VERSION *:= *//p' "$(dirname "$0")/../../Makefile")
case "$out" in "kling-mcp $v"*) pass "cli/--version names the program version" ;;
*) fail "cli/--version names the program version" "$out" ;; esac
echo "$out" | grep -q '^Mbed TLS 3\.6\.' && pass "cli/--version names the linked mbedTLS" ||
	fail "cli/--version names the linked mbedTLS" "$out"
echo "$out" | grep -q '^target ' && pass "cli/--version names the target" || fail "cli/--version names the target" "$out"

help=$("$bin" --help); rc=$?
[ $rc = 0 ] && pass "cli/--help exits 0" || fail "cli/--help exits 0" "rc=$rc"
for var in KLING_API_KEY KLING_ACCESS_KEY KLING_SECRET_KEY KLING_REGION KLING_BASE_URL KLING_BACKEND \
	KLING_LEGACY_PRODUCTS KLING_CA_FILE SSL_CERT_FILE KLING_TIMEOUT_MS KLING_LOG_LEVEL HTTPS_PROXY NO_PROXY; do
	echo "$help" | grep -q "$var" && pass "cli/--help documents $var" || fail "cli/--help documents $var" "missing"
done
"$bin" --bogus >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'unknown argument "--bogus"' "$tmp/err" && pass "cli/unknown argument exits 2 naming it" ||
	fail "cli/unknown argument exits 2 naming it" "rc=$rc $(cat "$tmp/err")"
