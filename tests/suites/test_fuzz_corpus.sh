#!/bin/sh
# Every file of every fuzz corpus (tests/fuzz/corpus/NAME/: the seeds and each
# input a fuzzer ever crashed on) through its harness, built without
# libFuzzer by make as $BUILD_DIR/replay/NAME: one PASS or FAIL line per file.
# An empty or missing corpus folder is a FAIL, and so is a replay that exits
# non-zero without naming the file that failed (a crash outside the per-file
# child).
. "$(dirname "$0")/../lib/kt.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD_DIR:=$top/build}"
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
files() { # the corpus files of harness NAME, as the replay lists them
	[ -d "$top/tests/fuzz/corpus/$1" ] && ls "$top/tests/fuzz/corpus/$1" | grep -v '^\.'
}
total=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c); name=${name#fuzz_}
	k=$(files "$name" | wc -l)
	total=$((total + (k > 0 ? k : 1)))
done
plan $total
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c); name=${name#fuzz_}
	bin="$BUILD_DIR/replay/$name" dir="$top/tests/fuzz/corpus/$name"
	if [ -z "$(files "$name")" ]; then
		fail "fuzz/$name" "the corpus folder tests/fuzz/corpus/$name is empty or missing"
		continue
	fi
	if [ ! -x "$bin" ]; then
		for f in $(files "$name"); do fail "fuzz/$name/$f" "$bin is missing (make test builds it)"; done
		continue
	fi
	"$bin" "$dir" >"$tmp" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP) ' "$tmp"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$tmp"; then
		fail "fuzz/$name/replay" "exited with status $rc without naming a failed file: $(tail -n 3 "$tmp" | tr '\n' ';')"
	fi
done
