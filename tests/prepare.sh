#!/bin/sh
# Install the pinned npm packages the test suites use (each folder under tests/
# with a package-lock.json), from the npm registry, only when missing or stale.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
for lock in "$top"/tests/*/package-lock.json; do
	[ -f "$lock" ] || continue
	d=$(dirname "$lock")
	stamp="$d/node_modules/.kling-lock"
	if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
		echo "prepare: npm ci in ${d#$top/}" >&2
		(cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
		cp "$lock" "$stamp"
	fi
done
