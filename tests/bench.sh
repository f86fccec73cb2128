#!/bin/sh
# make bench: one table of measured size, start-up, memory and per-call cost
# (tests/lib/bench.py says how each figure is taken). Needs the builds the
# Makefile's bench target makes first. The HTTP client's own figures
# (handshake CPU, RSA and ECDSA servers) stay in tests/lib/bench_http.py.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD_DIR:=$top/build}" "${BENCH_DIR:=$top/build/bench}"
bin=${KLING_MCP:-$BUILD_DIR/kling-mcp}
exec python3 "$top/tests/lib/bench.py" --bin "$bin" --noca "$BENCH_DIR/noca/kling-mcp" \
	--full "$BUILD_DIR/kling-mcp.full" \
	--glibc "$BENCH_DIR/glibc/kling-mcp" --load "$BUILD_DIR/tools/httpload"
