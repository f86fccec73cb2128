#!/bin/sh
# Reproducible builds: the same commit gives the same bytes, whatever the folder
# it is built in and the time it is built at.
#   - every built product (build/kling-mcp, build/<arch>/kling-mcp) holds no
#     build-id note and no trace of the folder it was built in;
#   - the native product is built again from scratch in a copy of the tree at
#     another path (longer, under a temporary folder), minutes after the one in
#     build/, with the same options, and must be byte-identical to it.
# The cross builds get the same two-folder comparison in `make dist`, which
# rebuilds all five architectures from scratch (too slow for every make test).
# The second build runs `make` with the options the product was built with
# (KLING_REPRO_VARS, set by `make test`): SOURCE_DATE_EPOCH, EMBED_CA, CA_BUNDLE.
. "$(dirname "$0")/../lib/kt.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
echo "PLAN 12"
archs="native aarch64 armv7 mipsel mips"

if [ "${SANITIZE:-0}" = 1 ]; then
	for a in $archs; do
		skip "repro/$a/no build id" "checked by the plain run (make test), not again under sanitizers"
		skip "repro/$a/no path of the build folder" "checked by the plain run"
	done
	skip "repro/native/builds in another folder" "checked by the plain run"
	skip "repro/native/byte-identical from another folder" "checked by the plain run"
	exit 0
fi

# form BIN NAME FOLDER: no build id, and not one byte string naming FOLDER.
form() {
	if [ ! -f "$1" ]; then
		skip "$2/no build id" "$1 is not built"
		skip "$2/no path of the build folder" "$1 is not built"
		return
	fi
	notes=$(readelf -n "$1" 2>&1)
	case "$notes" in *"Build ID"* | *NT_GNU_BUILD_ID*) fail "$2/no build id" "$(echo "$notes" | grep -i 'build id')" ;;
	*) pass "$2/no build id" ;; esac
	hits=$(grep -a -o -F "$3" "$1" | wc -l)
	[ "$hits" -eq 0 ] && pass "$2/no path of the build folder" ||
		fail "$2/no path of the build folder" "$hits mentions of $3 in $1"
}
form "$top/build/kling-mcp" repro/native "$top"
for a in aarch64 armv7 mipsel mips; do form "$top/build/$a/kling-mcp" "repro/$a" "$top"; done

# --- the native product, again, elsewhere -------------------------------------
bin=${KLING_MCP:-$top/build/kling-mcp}
if [ "$bin" != "$top/build/kling-mcp" ] || [ -z "${KLING_REPRO_VARS+set}" ]; then
	skip "repro/native/builds in another folder" "run by make test, which says how build/kling-mcp was built"
	skip "repro/native/byte-identical from another folder" "run by make test"
	exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
copy="$tmp/another/folder/kling-mcp-rebuilt"
mkdir -p "$copy"
(cd "$top" && tar -cf - --exclude=./build --exclude=./dist --exclude=./.git --exclude=node_modules .) |
	tar -xf - -C "$copy"
# Our make's jobserver is not passed to test suites: a make of our own, two jobs.
# shellcheck disable=SC2086
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice -n 5 make -C "$copy" -j2 -s $KLING_REPRO_VARS all \
	>"$tmp/build.log" 2>&1; then
	pass "repro/native/builds in another folder"
else
	fail "repro/native/builds in another folder" "$(tail -n 5 "$tmp/build.log" | tr '\n' ';')"
fi
other="$copy/build/kling-mcp"
if cmp -s "$bin" "$other"; then
	pass "repro/native/byte-identical from another folder"
else
	fail "repro/native/byte-identical from another folder" \
		"$(stat -c %s "$bin" "$other" 2>&1 | tr '\n' ' ')bytes; first differences: $(cmp -l "$bin" "$other" 2>&1 | head -n 3 | tr '\n' ';')"
fi
