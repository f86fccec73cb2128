#!/bin/sh
# make lint: static analysis of src/, clean or failing.
#   arch        tests/arch_check.py: the layer order, no include cycle, no forbidden dependency,
#               exported names after their module
#   cppcheck    warning, style, performance, portability; a finding is an error
#   clang-tidy  the checks chosen in .clang-tidy (each exclusion says why)
# A false positive is silenced at its line with a comment saying why
# (/* cppcheck-suppress ID ; why */, /* NOLINT(check): why */); nothing is silenced wholesale but
# the third-party header jsmn.h, which is not ours to change.
# LINT_JOBS=N runs clang-tidy on N files at once (default: the CPU count).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. ./third_party/PINS
mbed=third_party/mbedtls-$MBEDTLS_VERSION
jsmn=third_party/jsmn-$JSMN_VERSION
[ -d "$mbed/include" ] && [ -d "$jsmn" ] || { echo "lint: run make first (third-party sources)"; exit 1; }
set -- -D_GNU_SOURCE -DKLING_VERSION='"lint"' -DKLING_TARGET='"lint"' -DKLING_EMBED_CA=1
defs="$*"
if [ "${LINT_ONE:-}" ]; then # one file through clang-tidy (xargs calls back with LINT_ONE=file)
	exec clang-tidy --quiet "$LINT_ONE" -- -std=c11 "$@" -Ithird_party -I"$mbed/include" -I"$jsmn" -Isrc \
		"-DMBEDTLS_CONFIG_FILE=<mbedtls_config.h>"
fi
rc=0

# The architecture: include cycles and forbidden dependencies (tests/arch_check.py says which).
python3 tests/arch_check.py src || rc=1

command -v cppcheck >/dev/null || { echo "lint: cppcheck is not installed"; exit 1; }
out=$(cppcheck --std=c11 --enable=warning,style,performance,portability --inline-suppr --quiet \
	--error-exitcode=1 --suppress=missingIncludeSystem --suppress="*:$jsmn/*" \
	"$@" -Isrc -I"$jsmn" --template='{file}:{line}: {severity} [{id}] {message}' src/ 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then
	echo "cppcheck $(cppcheck --version | cut -d' ' -f2): src/ clean ($(ls src/*.c | wc -l) files)"
else
	echo "$out"; echo "cppcheck: findings above"; rc=1
fi

command -v clang-tidy >/dev/null || { echo "lint: clang-tidy is not installed"; exit 1; }
jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}
log=$(mktemp); trap 'rm -f "$log"' EXIT
ls src/*.c | xargs -P "$jobs" -I{} sh -c 'LINT_ONE={} "$0" 2>/dev/null || echo "clang-tidy failed on {}"' "$0" >"$log"
if grep -qE 'warning:|error:|failed on' "$log"; then
	grep -E -A3 'warning:|error:|failed on' "$log"; echo "clang-tidy: findings above"; rc=1
else
	echo "clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -n 1):" \
		"src/ clean ($(ls src/*.c | wc -l) files, checks in .clang-tidy)"
fi
exit $rc
