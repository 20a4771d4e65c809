#!/usr/bin/env bash
# run.sh - runs lb's integration tests: every tests/integ/t_*.sh, sorted.
#
# Usage: tests/integ/run.sh [-v] [FILTER...]
#   FILTER   run only tests whose name contains one of these words
#   -v       show each test's whole output, not only a failure's tail
# Environment: LB_BUILD, the build directory (default ../../build from
# this script, made absolute); LB_TEST_TIMEOUT, seconds per test (300).
#
# Each test runs under `timeout`; a test exits 0 (pass), 77 (skip) or
# anything else (fail).  One line per test: PASS/FAIL/SKIP, its duration
# and, for a skip, why.  A failing test's last lines follow.  The very
# last line is the summary "N passed, N failed, N skipped"; the exit
# status is 1 if any test failed.  Logs stay in $LB_BUILD/integ-logs/.
set -u

here=$(cd "$(dirname "$0")" && pwd)
LB_BUILD=${LB_BUILD:-$here/../../build}
mkdir -p "$LB_BUILD" && LB_BUILD=$(cd "$LB_BUILD" && pwd)
export LB_BUILD
limit=${LB_TEST_TIMEOUT:-300}
logs=$LB_BUILD/integ-logs
mkdir -p "$logs"

verbose=0
if [ "${1:-}" = "-v" ]; then
	verbose=1
	shift
fi

selected() {
	local f
	[ $# -eq 1 ] && return 0
	for f in "${@:2}"; do
		case $1 in *"$f"*) return 0 ;; esac
	done
	return 1
}

passed=0 failed=0 skipped=0
for t in "$here"/t_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	selected "$name" "$@" || continue
	log=$logs/$name.log
	start=$(date +%s%3N)
	timeout -k 10 "$limit" bash "$t" >"$log" 2>&1 </dev/null
	rc=$?
	dur=$(( $(date +%s%3N) - start ))
	secs=$(printf '%d.%01d' $((dur / 1000)) $((dur % 1000 / 100)))
	case $rc in
	0)
		passed=$((passed + 1))
		printf 'PASS  %-24s %6ss\n' "$name" "$secs"
		[ $verbose = 1 ] && sed 's/^/      /' "$log"
		;;
	77)
		skipped=$((skipped + 1))
		why=$(grep -i 'skip' "$log" | tail -n 1)
		printf 'SKIP  %-24s %6ss  %s\n' "$name" "$secs" "$why"
		;;
	*)
		failed=$((failed + 1))
		[ $rc = 124 ] && why=" (timed out after ${limit}s)" || why=" (exit $rc)"
		printf 'FAIL  %-24s %6ss%s\n' "$name" "$secs" "$why"
		if [ $verbose = 1 ]; then
			sed 's/^/      /' "$log"
		else
			tail -n 25 "$log" | sed 's/^/      /'
		fi
		;;
	esac
done
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
