#!/bin/sh
# Run every test suite and print one closing line: "N passed, N failed, N skipped".
#   unit tests:   $BUILD_DIR/tests/test_*           (C, built by make)
#   suites:       tests/suites/test_*.sh|test_*.py  (drive the binary $KLING_MCP)
# Each prints "PASS name", "FAIL name: why" or "SKIP name: why" per check. A
# suite that exits non-zero, or runs no check, counts as one more failure.
# TEST_FILTER=substring runs only the suites whose file name contains it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD_DIR:=$top/build}" "${KLING_MCP:=$BUILD_DIR/kling-mcp}"
export BUILD_DIR KLING_MCP
log=$(mktemp); trap 'rm -f "$log"' EXIT
pass=0 fail=0 skip=0

run_one() { # NAME COMMAND...
	name=$1; shift
	case "$name" in *"${TEST_FILTER:-}"*) ;; *) return 0 ;; esac
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP) ' "$log" | grep -v '^PASS ' || true
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
	if [ "$rc" -ne 0 ] || [ $((p + f + s)) -eq 0 ]; then
		echo "FAIL $name: exited with status $rc after $((p + f + s)) checks; its output:"
		tail -n 30 "$log" | sed 's/^/    /'
		f=$((f + 1))
	fi
	echo "   $p passed, $f failed, $s skipped"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

for t in "$BUILD_DIR"/tests/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in "$top"/tests/suites/test_*; do
	case "$t" in
	*.sh) run_one "suite/$(basename "$t")" sh "$t" ;;
	*.py) run_one "suite/$(basename "$t")" python3 "$t" ;;
	esac
done
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
