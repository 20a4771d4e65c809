#!/usr/bin/env bash
# t_config_check.sh - `lbd -n -f FILE` on every sample config.
#
# Each tests/configs/bad/NAME.conf has one flaw and a first line
#   # expect: LINE: SUBSTRING
# lbd must exit 1 and print "FILE:LINE: ...SUBSTRING..." on stderr, with
# FILE exactly as given on the command line.  Every tests/configs/good
# file and etc/lbd.conf must exit 0.  One line per case; exit 1 if any
# case failed, 77 (skip) when lbd is not built.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
lbd="${LB_BUILD:-$top/build}/lbd"
if [ ! -x "$lbd" ]; then
	echo "SKIP: $lbd not built"
	exit 77
fi

# Run from the top so FILE is a relative path, as an operator would type.
cd "$top" || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
n=0

# check_bad FILE: exit status 1 and the expected message.
check_bad() {
	local f=$1 first line sub rc
	first=$(head -n 1 "$f")
	line=$(sed -n 's/^# expect: \([0-9][0-9]*\): .*/\1/p' <<<"$first")
	sub=${first#"# expect: $line: "}
	if [ -z "$line" ] || [ "$sub" = "$first" ]; then
		echo "FAIL $f: first line is not '# expect: LINE: TEXT'"
		return 1
	fi
	# timeout: a check must never hang, whatever the file says.
	timeout 10 "$lbd" -n -f "$f" >/dev/null 2>"$out"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "FAIL $f: exit $rc, want 1"
		sed 's/^/    /' "$out"
		return 1
	fi
	if ! grep -qF -- "$f:$line: " "$out" ||
	    ! grep -F -- "$f:$line: " "$out" | grep -qF -- "$sub"; then
		echo "FAIL $f: no '$f:$line: ...$sub...' on stderr; got:"
		sed 's/^/    /' "$out"
		return 1
	fi
	echo "ok   $f:$line: $sub"
}

# check_good FILE: exit status 0.
check_good() {
	local f=$1 rc
	timeout 10 "$lbd" -n -f "$f" >/dev/null 2>"$out"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $f: exit $rc, want 0"
		sed 's/^/    /' "$out"
		return 1
	fi
	echo "ok   $f: valid"
}

for f in tests/configs/bad/*.conf; do
	n=$((n + 1))
	check_bad "$f" || fail=$((fail + 1))
done
for f in tests/configs/good/*.conf etc/lbd.conf; do
	n=$((n + 1))
	check_good "$f" || fail=$((fail + 1))
done

# A file that does not exist: exit 1 and a message naming it.
n=$((n + 1))
timeout 10 "$lbd" -n -f /nonexistent/lbd.conf >/dev/null 2>"$out"
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "/nonexistent/lbd.conf" "$out"; then
	echo "ok   /nonexistent/lbd.conf: exit 1"
else
	echo "FAIL /nonexistent/lbd.conf: exit $rc, want 1 and a message"
	fail=$((fail + 1))
fi

echo "t_config_check: $((n - fail))/$n passed"
[ "$fail" -eq 0 ]
