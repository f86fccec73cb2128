#!/bin/sh
# Every file of every fuzz corpus (tests/fuzz/corpus/NAME/: the seeds and each
# input a fuzzer ever crashed on) through its harness, built without
# libFuzzer by make as $BUILD_DIR/replay/NAME: one PASS or FAIL line per file.
. "$(dirname "$0")/../lib/kt.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD_DIR:=$top/build}"
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c); name=${name#fuzz_}
	bin="$BUILD_DIR/replay/$name"
	if [ ! -x "$bin" ]; then
		fail "fuzz/$name" "$bin is missing (make test builds it)"
		continue
	fi
	"$bin" "$top/tests/fuzz/corpus/$name" || true
done
