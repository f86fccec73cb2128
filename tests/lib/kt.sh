# Shared helpers for shell test suites (source it). See tests/lib/kt.py for
# the output convention counted by tests/run.sh.
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
# check NAME COMMAND... : PASS when the command succeeds.
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
