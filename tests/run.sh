#!/bin/sh
# Run every test suite and print, last, one closing line:
#   "N passed, N failed, N skipped"    the checks of the PRODUCT only
# preceded by one line for the checks that test the test apparatus itself
# (tests/suites/test_mock.py, and checks named "mock-self/..." anywhere):
#   "mock self-tests: N passed, N failed, N skipped"
# and by "time in tests: N s", the sum of the seconds each test's own summary
# line ends with (where a CI run's time goes).
# A failure on either line fails the run (exit status 1).
#   unit tests:   $BUILD_DIR/tests/test_*           (C, built by make from tests/unit/test_*.c)
#   suites:       tests/suites/test_*.sh|test_*.py  (drive the binary $KLING_MCP)
# Each prints "PLAN n" first (the number of checks it must run), then
# "PASS name", "FAIL name: why" or "SKIP name: why" per check. A suite fails as
# a whole (one more failure) when it declares no plan, runs fewer or more
# checks than planned, prints an "ERROR" line (an exception in one of its
# threads), or exits non-zero; the runner then names the checks that did not
# run when the suite listed them ("NOTRUN name"), else the last one that ran.
# TEST_FILTER=substring runs only the suites whose file name contains it.
# SUITES_DIR (default tests/suites) is where the suites are read from
# (tests/suites/test_runner.sh points it at suites made to break the rules).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD_DIR:=$top/build}" "${KLING_MCP:=$BUILD_DIR/kling-mcp}"
export BUILD_DIR KLING_MCP
log=$(mktemp); err=$(mktemp); trap 'rm -f "$log" "$err"' EXIT
pass=0 fail=0 skip=0 mpass=0 mfail=0 mskip=0 total_secs=0

count() { # KIND [self|product]: the lines of that kind in $log
	case $2 in
	self) grep -c "^$1 mock-self/" "$log" ;;
	*) grep "^$1 " "$log" | grep -vc "^$1 mock-self/" ;;
	esac
}

run_one() { # NAME COMMAND...
	name=$1; shift
	case "$name" in *"${TEST_FILTER:-}"*) ;; *) return 0 ;; esac
	echo "== $name"
	t0=$(date +%s)
	"$@" >"$log" 2>"$err"
	rc=$?
	secs=$(($(date +%s) - t0)); total_secs=$((total_secs + secs))
	grep -E '^(PASS|FAIL|SKIP|ERROR|NOTRUN) ' "$log" | grep -v '^PASS ' || true
	p=$(count PASS product); f=$(count FAIL product); s=$(count SKIP product)
	sp=$(count PASS self); sf=$(count FAIL self); ss=$(count SKIP self)
	ran=$((p + f + s + sp + sf + ss))
	plan=$(sed -n '1s/^PLAN \([0-9][0-9]*\)$/\1/p' "$log")
	why=""
	if [ -z "$plan" ]; then
		why="declares no plan (its first line must be PLAN <n>)"
	elif [ "$ran" -ne "$plan" ]; then
		why="planned $plan checks, ran $ran"
		if [ "$ran" -lt "$plan" ] && ! grep -q '^NOTRUN ' "$log"; then
			last=$(grep -E '^(PASS|FAIL|SKIP) ' "$log" | tail -n 1 | sed 's/^[A-Z]* //; s/: .*//')
			why="$why: $((plan - ran)) did not run, after \"${last:-the start}\""
		fi
	fi
	grep -q '^ERROR ' "$log" && why="${why:+$why; }raised (see its ERROR lines)"
	[ "$rc" -ne 0 ] && why="${why:+$why; }exited with status $rc"
	case "$name" in */test_mock.py) # the mock's own suite: all of it is self-test
		sp=$((sp + p)); sf=$((sf + f)); ss=$((ss + s)); p=0; f=0; s=0 ;;
	esac
	if [ -n "$why" ]; then
		echo "FAIL $name: $why; its output:"
		{ tail -n 20 "$log"; tail -n 20 "$err"; } | sed 's/^/    /'
		case "$name" in */test_mock.py) sf=$((sf + 1)) ;; *) f=$((f + 1)) ;; esac
	fi
	echo "   $p passed, $f failed, $s skipped ($secs s)"
	[ $((sp + sf + ss)) -gt 0 ] && echo "   mock self-tests: $sp passed, $sf failed, $ss skipped"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	mpass=$((mpass + sp)); mfail=$((mfail + sf)); mskip=$((mskip + ss))
	return 0
}

: "${SUITES_DIR:=$top/tests/suites}"
for t in "$BUILD_DIR"/tests/test_*; do # a binary whose source is gone (renamed) is left out
	[ -x "$t" ] && [ -f "$top/tests/unit/$(basename "$t").c" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in "$SUITES_DIR"/test_*; do
	case "$t" in
	*.sh) run_one "suite/$(basename "$t")" sh "$t" ;;
	*.py) run_one "suite/$(basename "$t")" python3 "$t" ;;
	esac
done
echo
echo "time in tests: $total_secs s"
echo "mock self-tests: $mpass passed, $mfail failed, $mskip skipped"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$mfail" -eq 0 ]
