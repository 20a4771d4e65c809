#!/usr/bin/env bash
# run.sh - runs every libFuzzer target built by `make fuzz`.
#
# Usage: tests/fuzz/run.sh FUZZ_DIR SECONDS [TARGET...]
#   FUZZ_DIR  where the fuzz_* binaries are (build/fuzz)
#   SECONDS   how long each target runs (-max_total_time)
#
# Each target starts from its seeds (tests/fuzz/corpus/NAME/, read only)
# plus what earlier runs found (FUZZ_DIR/corpus/NAME/, where new inputs
# go).  A crash, leak, sanitizer report or timeout fails the target; the
# reproducer is kept as FUZZ_DIR/crashes/NAME-<kind>-<sha1>, and
#     FUZZ_DIR/fuzz_NAME FUZZ_DIR/crashes/NAME-...
# replays it.  One line per target: PASS/FAIL, executions in total and
# per second (libFuzzer's final stats), corpus size.  Exit 1 if any
# target failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: run.sh FUZZ_DIR SECONDS [TARGET...]}
secs=${2:?usage: run.sh FUZZ_DIR SECONDS [TARGET...]}
shift 2
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/crashes" "$dir/logs"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$here"/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
fi

# -rss_limit_mb: a parser must stay small; -timeout: one input that runs
# 10 s is a hang.  Leak detection is on (ASan's default under libFuzzer).
failed=0
for t in "${targets[@]}"; do
	name=${t#fuzz_}
	bin=$dir/fuzz_$name
	seeds=$here/corpus/$name
	work=$dir/corpus/$name
	log=$dir/logs/$name.log
	[ -x "$bin" ] || { echo "FAIL  $name: $bin not built"; failed=1; continue; }
	mkdir -p "$work"
	[ -d "$seeds" ] || seeds=""
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" \
	    -timeout=10 -rss_limit_mb=1024 -max_len=8192 \
	    -print_final_stats=1 -artifact_prefix="$dir/crashes/$name-" \
	    "$work" $seeds >"$log" 2>&1
	rc=$?
	execs=$(awk -F: '/stat::number_of_executed_units/ { gsub(/ /, "", $NF); print $NF }' "$log")
	rate=$(awk -F: '/stat::average_exec_per_sec/ { gsub(/ /, "", $NF); print $NF }' "$log")
	ncorp=$(find "$work" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		printf 'PASS  %-14s %4ss  execs %-10s exec/s %-7s corpus %s\n' \
		    "$name" "$secs" "${execs:-?}" "${rate:-?}" "$ncorp"
	else
		failed=1
		printf 'FAIL  %-14s exit %s, log %s\n' "$name" "$rc" "$log"
		grep -E 'ERROR|SUMMARY|artifact|runtime error' "$log" | head -n 8 |
		    sed 's/^/      /'
	fi
done
exit $failed
