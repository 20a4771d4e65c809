#!/usr/bin/env bash
# Runs each Check unit-test binary given as an argument; fails if any fails.
set -u
fail=0
for t in "$@"; do
	echo "== unit: ${t##*/}"
	CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30} "$t" || fail=1
done
exit $fail
