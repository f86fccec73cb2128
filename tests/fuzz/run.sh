#!/bin/sh
# make fuzz FUZZ_SECONDS=N: build the libFuzzer harnesses (make FUZZ=1: clang,
# ASan+UBSan+LeakSanitizer, in build/fuzz/) and run each for N seconds.
#
# Each harness starts from tests/fuzz/corpus/NAME/ (committed seeds, never
# written) and build/fuzz/corpus/NAME/ (what earlier runs found; kept). A
# crash, leak, timeout or broken invariant stops that harness, leaves the
# input in build/fuzz/crashes/ and fails the run: reproduce it with
#     build/replay/NAME build/fuzz/crashes/FILE      (or build/fuzz/bin/NAME FILE)
# then fix it and commit the file into tests/fuzz/corpus/NAME/, where make test
# replays it from then on.
#
# FUZZ_ONLY=name runs one harness. tests/fuzz/NAME.options holds extra
# libFuzzer flags for a harness (its dictionary, a larger -max_len...).
# Prints per harness: executions, exec/s, cov (edges), ft (features), corpus.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
: "${FUZZ_SECONDS:=10}"
make --no-print-directory -s FUZZ=1 fuzz-bins || exit 1
mkdir -p build/fuzz/crashes build/fuzz/logs
failed=0
printf '%-15s %10s %8s %7s %7s %7s  %s\n' harness execs exec/s cov ft corpus result
for bin in build/fuzz/bin/*; do
	name=$(basename "$bin")
	case "$name" in *"${FUZZ_ONLY:-}"*) ;; *) continue ;; esac
	mkdir -p "build/fuzz/corpus/$name"
	extra=""
	[ -f "tests/fuzz/$name.options" ] && extra=$(cat "tests/fuzz/$name.options")
	log="build/fuzz/logs/$name.log"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-use_value_profile=1 -artifact_prefix="build/fuzz/crashes/$name-" $extra \
		"build/fuzz/corpus/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc; see $log)"
		failed=1
		grep -E 'ERROR: |SUMMARY: |invariant failed|Test unit written' "$log" | head -n 5 | sed 's/^/    /'
	fi
	printf '%-15s %10s %8s %7s %7s %7s  %s\n' "$name" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$result"
done
[ "$failed" -eq 0 ] || { echo "fuzz: a harness failed; its input is in build/fuzz/crashes/"; exit 1; }
