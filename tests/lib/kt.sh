# Shared helpers for shell test suites (source it). See tests/lib/kt.py for
# the output convention counted by tests/run.sh: "PLAN n" first, then one
# PASS/FAIL/SKIP line per check.
# plan N: declare the number of checks. With KT_PLAN_ONLY=1 in the
# environment the suite stops there (another suite asks for its plan so).
plan() { echo "PLAN $1"; [ "${KT_PLAN_ONLY:-0}" = 1 ] && exit 0; return 0; }
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
# check NAME COMMAND... : PASS when the command succeeds.
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
# plan_of COMMAND...: the plan a suite or unit test declares (run with
# KT_PLAN_ONLY=1, which makes it stop after its PLAN line); empty if none.
plan_of() { KT_PLAN_ONLY=1 "$@" 2>/dev/null | sed -n '1s/^PLAN \([0-9][0-9]*\)$/\1/p'; }
