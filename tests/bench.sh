#!/bin/sh
# make bench: measured size (with and without the embedded CA bundle) and
# where the bytes go. Later parts add start-up, memory and per-call figures.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${KLING_MCP:?}
cd "$top"
echo "| measure | value |"
echo "|---|---|"
printf '| stripped size, CA bundle embedded | %s B |\n' "$(stat -c %s "$bin")"
make --no-print-directory -s -C "$top" EMBED_CA=0 >/dev/null
printf '| stripped size, EMBED_CA=0 | %s B |\n' "$(stat -c %s build/kling-mcp)"
make --no-print-directory -s -C "$top" EMBED_CA=1 >/dev/null
echo
echo "Largest objects (text+data+bss before linking, bytes):"
size build/obj/*.o build/libmbedtls.a 2>/dev/null | awk 'NR>1 {print $4, $6}' | sort -rn | head -n 15

# The HTTP client: handshake and per-request cost, memory (loopback).
if [ -x "${BUILD_DIR:-build}/tools/httpget" ] && command -v openssl >/dev/null; then
	echo
	python3 tests/tools/bench_http.py
fi
