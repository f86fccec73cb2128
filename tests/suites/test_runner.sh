#!/bin/sh
# The runner itself (tests/run.sh), on small suites made to break its rules:
# each must turn into a failed run naming why; a suite that keeps them passes.
# These check the test apparatus, not the product: named mock-self/...
. "$(dirname "$0")/../lib/kt.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
plan 9
lib="$top/tests/lib"
mk() { # NAME BODY: a one-suite folder $tmp/NAME holding test_x.py
	mkdir -p "$tmp/$1/build/tests"
	printf 'import sys\nsys.path.insert(0, "%s")\nimport kt\n%s\n' "$lib" "$2" >"$tmp/$1/test_x.py"
}
run() { # NAME: run.sh on that folder alone; its output in $tmp/NAME.out, status in $rc
	TEST_FILTER= SUITES_DIR="$tmp/$1" BUILD_DIR="$tmp/$1/build" KLING_MCP=/bin/false sh "$top/tests/run.sh" >"$tmp/$1.out" 2>&1
	rc=$?
}
expect() { # CHECK NAME STATUS NEEDLE: the run of NAME ended with STATUS and said NEEDLE
	if [ "$rc" = "$3" ] && grep -q -- "$4" "$tmp/$2.out"; then pass "mock-self/runner/$1"
	else fail "mock-self/runner/$1" "status $rc, want $3 and \"$4\": $(tail -n 6 "$tmp/$2.out" | tr '\n' ';')"; fi
}

mk good 'kt.plan(2)
kt.check("a", True)
kt.skip("b", "not here")
kt.done()'
run good; expect "a suite that keeps its plan passes" good 0 "^1 passed, 0 failed, 1 skipped$"

mk noplan 'kt.check("a", True)
kt.done()'
run noplan; expect "no PLAN line: fails, declares no plan" noplan 1 "declares no plan"

mk short 'kt.plan(5)
kt.check("a", True)
kt.check("b", True)
kt.done()'
run short; expect "two checks of five, exit 0: fails naming how many did not run" short 1 \
	'planned 5 checks, ran 2: 3 did not run, after "b"'

mk thread 'kt.plan(4)
def one():
    kt.check("one/a", True)
    raise RuntimeError("injected")
def two():
    kt.check("two/a", True)
    kt.check("two/b", True)
kt.run_threads(one, two)
kt.done()'
run thread; expect "an exception in a thread fails the suite" thread 1 "raised (see its ERROR lines)"
grep -q "ERROR exception in thread one: RuntimeError: injected" "$tmp/thread.out" &&
	pass "mock-self/runner/...and the ERROR line names the thread and the exception" ||
	fail "mock-self/runner/...and the ERROR line names the thread and the exception" "$(cat "$tmp/thread.out" | tr '\n' ';')"

mk named 'kt.plan(3, names=["a", "b", "c"])
kt.check("a", True)
kt.done()'
run named; expect "planned names that did not run are listed" named 1 "NOTRUN b"

mk more 'kt.plan(1)
kt.check("a", True)
kt.check("b", True)
kt.done()'
run more; expect "more checks than planned fails too" more 1 "planned 1 checks, ran 2"

mk self 'kt.plan(2)
kt.check("mock-self/x", False, "the mock is wrong")
kt.check("y", True)
kt.done()'
run self; expect "a failed mock self-test fails the run, counted apart from the product" self 1 \
	"^mock self-tests: 0 passed, 1 failed, 0 skipped$"

mk stale 'kt.plan(1)
kt.check("a", True)
kt.done()'
printf '#!/bin/sh\necho "PLAN 1"\necho "FAIL renamed: a unit test whose source is gone"\n' >"$tmp/stale/build/tests/test_gone_0"
chmod +x "$tmp/stale/build/tests/test_gone_0"
run stale; expect "a unit binary whose tests/unit source is gone (renamed) is not run" stale 0 "^1 passed, 0 failed, 0 skipped$"
