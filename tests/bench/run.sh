#!/bin/bash
# run.sh - the comparison benchmark (`make bench`): direct (no balancer),
# lbd, HAProxy (mode tcp, leastconn, splice-auto) and nginx stream
# (least_conn, upstream zone), one worker each, on the same four lbbench
# echo backends on loopback, interleaved round by round (A B C D A B C D).
#
# Per target and round it measures: iperf3 bulk throughput (1 and 8
# streams), connection rate (a new connection per 64-byte echo, closed loop
# at BENCH_CONC), persistent-connection latency (open loop at
# BENCH_LAT_RATE on 32 connections), memory and fds with BENCH_IDLE idle
# proxied connections, and the balancer's CPU (utime+stime of all its
# processes) per GB and per 10,000 connections.  Load generator, backends
# and iperf3 run on CPU 0, the balancer on CPU 1.  Short connections bind
# round robin to 16 source addresses 127.0.0.2-17 (IP_BIND_ADDRESS_NO_PORT,
# normal FIN close, no SO_LINGER 0), so TIME_WAIT never exhausts ports.  It prints the medians
# as markdown, writes $LB_BUILD/bench/results.json and latency.png.
#
# Env: LB_BUILD (required), BENCH_ROUNDS (5), BENCH_SECONDS (2),
# BENCH_CONC (64), BENCH_LAT_RATE (10000), BENCH_IDLE (3000),
# BENCH_MAXCONN (3200), BENCH_BUDGET (540 s: later rounds are skipped),
# BENCH_TARGETS ("direct lbd haproxy nginx"), BENCH_NICE (-10; empty: off).
set -u
: "${LB_BUILD:?set LB_BUILD to the absolute build directory}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

BENCH_ROUNDS=${BENCH_ROUNDS:-5}
BENCH_SECONDS=${BENCH_SECONDS:-2}
BENCH_CONC=${BENCH_CONC:-64}
BENCH_LAT_RATE=${BENCH_LAT_RATE:-10000}
BENCH_IDLE=${BENCH_IDLE:-3000}
BENCH_MAXCONN=${BENCH_MAXCONN:-3200}
BENCH_BUDGET=${BENCH_BUDGET:-540}
BENCH_TARGETS=${BENCH_TARGETS:-direct lbd haproxy nginx}
LBBENCH=$LB_BUILD/lbbench
OUT=$LB_BUILD/bench
# The same raised priority for everything we start (load, backends,
# balancers alike) keeps unrelated work on the machine from adding noise.
[ "$(id -u)" -eq 0 ] && BENCH_NICE=${BENCH_NICE--10} || BENCH_NICE=${BENCH_NICE-}
NICE=${BENCH_NICE:+nice -n $BENCH_NICE}
CPU_LOAD="$NICE taskset -c 0"
CPU_LB="$NICE taskset -c 1"
[ "$(nproc)" -ge 2 ] || CPU_LB="$NICE taskset -c 0"

export BENCH_ROUNDS BENCH_SECONDS BENCH_CONC BENCH_LAT_RATE BENCH_IDLE
TMP=$(mktemp -d /tmp/lbbench.XXXXXX)
RAW=$TMP/raw.tsv
SERVE_PID="" BAL_PID="" IPERF_PID="" IDLE_PID="" PERF_PID=""

cleanup() {
	stop_pid "$PERF_PID"; stop_pid "$IDLE_PID"; stop_pid "$IPERF_PID"
	stop_pid "$BAL_PID"; stop_pid "$SERVE_PID"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }
kv() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1)
	{ print substr($i, length(k) + 2); exit } }'; }

# Starts the balancer for target $1 on CPU 1; sets BAL_PID and PORT.
start_balancer() {
	BAL_PID=""
	case $1 in
	direct) PORT=""; return 0 ;;
	lbd) PORT=8400; write_lbd_conf "$TMP/lbd.conf" $PORT
		$CPU_LB "$LB_BUILD/lbd" -d -f "$TMP/lbd.conf" \
		    >"$TMP/lbd.log" 2>&1 & ;;
	haproxy) PORT=8410; write_haproxy_conf "$TMP/haproxy.cfg" $PORT
		$CPU_LB haproxy -db -f "$TMP/haproxy.cfg" \
		    >"$TMP/haproxy.log" 2>&1 & ;;
	nginx) PORT=8420; write_nginx_conf "$TMP/nginx.conf" $PORT
		$CPU_LB nginx -e "$TMP/nginx-error.log" -p "$TMP" \
		    -c "$TMP/nginx.conf" >"$TMP/nginx.log" 2>&1 & ;;
	esac
	BAL_PID=$!
	wait_port $PORT && wait_port $((PORT + 1)) && return 0
	echo "bench: $1 did not start:" >&2
	tail -5 "$TMP/$1.log" "$TMP/nginx-error.log" 2>/dev/null >&2
	stop_pid "$BAL_PID"; BAL_PID=""
	return 1
}

echo_targets() {
	[ -n "$PORT" ] && echo "127.0.0.1:$PORT" ||
	    echo "127.0.0.1:9101,127.0.0.1:9102,127.0.0.1:9103,127.0.0.1:9104"
}

# iperf3 through the target with $3 streams; a one-off server per test.
measure_tput() {
	local t=$1 r=$2 n=$3 port=${PORT:+$((PORT + 1))} c0 c1 js
	port=${port:-9201}
	$CPU_LOAD iperf3 -s -1 -p 9201 >"$TMP/iperf-s.log" 2>&1 &
	IPERF_PID=$!
	wait_port 9201 || return 1
	c0=$([ -n "$BAL_PID" ] && tree_cpu "$BAL_PID")
	js=$(timeout $((BENCH_SECONDS + 20)) $CPU_LOAD iperf3 -c 127.0.0.1 \
	    -p "$port" -t "$BENCH_SECONDS" -P "$n" -J 2>/dev/null |
	    awk -F': *' '/"sum_received"/ { s = 1 }
		s && /"bytes"/ { b = $2 + 0 }
		s && /"bits_per_second"/ { print b, $2 + 0; exit }')
	c1=$([ -n "$BAL_PID" ] && tree_cpu "$BAL_PID")
	stop_pid "$IPERF_PID"; IPERF_PID=""
	[ -n "$js" ] || { echo "bench: iperf3 $t -P $n failed" >&2; return 1; }
	set -- $js
	rec "$t" "$r" "tput${n}_gbps" "$(awk -v b="$2" 'BEGIN { printf "%.3f", b / 1e9 }')"
	rec "$t" "$r" "tput${n}_bytes" "$1"
	[ -n "$c0" ] && rec "$t" "$r" "tput${n}_cpu" \
	    "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')"
	return 0
}

# One connection per request at BENCH_CONC in flight: rate, latency and
# the balancer's CPU per connection and busy share.
measure_connrate() {
	local t=$1 r=$2 c0 c1 line
	c0=$([ -n "$BAL_PID" ] && tree_cpu "$BAL_PID")
	line=$($CPU_LOAD "$LBBENCH" connrate --target "$(echo_targets)" \
	    --concurrency "$BENCH_CONC" --duration "${BENCH_SECONDS}s" \
	    --warmup 0 --sources 16 --quiet | grep '^RESULT')
	c1=$([ -n "$BAL_PID" ] && tree_cpu "$BAL_PID")
	[ -n "$line" ] || return 1
	rec "$t" "$r" conn_rate "$(echo "$line" | kv rate)"
	rec "$t" "$r" conn_errors "$(echo "$line" | kv errors)"
	for p in p50 p90 p99 p999; do
		rec "$t" "$r" "conn_${p}_ms" "$(echo "$line" | kv ${p}_us |
		    awk '{ printf "%.3f", $1 / 1000 }')"
	done
	[ -n "$c0" ] || return 0
	rec "$t" "$r" cpu_per_10k "$(echo "$line" | kv ok |
	    awk -v a="$c0" -v b="$c1" '{ printf "%.3f", $1 ? (b - a) * 10000 / $1 : 0 }')"
	rec "$t" "$r" conn_cpu_pct "$(echo "$line" | kv seconds |
	    awk -v a="$c0" -v b="$c1" '{ printf "%.1f", $1 ? (b - a) * 100 / $1 : 0 }')"
}

# One connection at a time: the latency a balancer adds to a connection
# with no queueing anywhere, how often the balancer sleeps per connection
# (each sleep and wake-up costs latency) and, with perf, its syscalls.
measure_conn1() {
	local t=$1 r=$2 line n s0 s1
	[ -n "$BAL_PID" ] && s0=$(tree_sleeps "$BAL_PID")
	if [ -n "$BAL_PID" ] && have perf; then
		rm -f "$TMP/pstat"
		perf stat -e raw_syscalls:sys_enter -x, -o "$TMP/pstat" \
		    -p "$(tree_pids "$BAL_PID" | paste -sd,)" >/dev/null 2>&1 &
		PERF_PID=$!
		sleep 0.2
	fi
	line=$($CPU_LOAD "$LBBENCH" connrate --target "$(echo_targets)" \
	    --concurrency 1 --duration "${BENCH_SECONDS}s" --warmup 0 \
	    --sources 16 --quiet | grep '^RESULT')
	if [ -n "$BAL_PID" ] && [ -n "$line" ]; then
		s1=$(tree_sleeps "$BAL_PID")
		rec "$t" "$r" sleeps_per_conn "$(echo "$line" | kv ok |
		    awk -v a="$s0" -v b="$s1" '{ printf "%.2f", $1 ? (b - a) / $1 : 0 }')"
	fi
	if [ -n "$PERF_PID" ]; then
		kill -INT "$PERF_PID" 2>/dev/null; wait "$PERF_PID" 2>/dev/null
		PERF_PID=""
		n=$(awk -F, '/raw_syscalls/ { print $1 + 0 }' "$TMP/pstat" 2>/dev/null)
		[ -n "$n" ] && [ -n "$line" ] && rec "$t" "$r" syscalls_per_conn \
		    "$(echo "$line" | kv ok | awk -v n="$n" '{ printf "%.1f", $1 ? n / $1 : 0 }')"
	fi
	[ -n "$line" ] || return 1
	rec "$t" "$r" conn1_rate "$(echo "$line" | kv rate)"
	rec "$t" "$r" conn1_p50_us "$(echo "$line" | kv p50_us)"
	rec "$t" "$r" conn1_p99_us "$(echo "$line" | kv p99_us)"
}

measure_latency() {
	local t=$1 r=$2 line p
	line=$($CPU_LOAD "$LBBENCH" latency --target "$(echo_targets)" \
	    --rate "$BENCH_LAT_RATE" --conns 32 --duration "${BENCH_SECONDS}s" \
	    --quiet | grep '^RESULT')
	[ -n "$line" ] || return 1
	rec "$t" "$r" lat_errors "$(echo "$line" | kv errors)"
	for p in p50 p90 p99 p999; do
		rec "$t" "$r" "lat_${p}_us" "$(echo "$line" | kv ${p}_us)"
	done
}

# Memory and fds of the balancer with BENCH_IDLE idle proxied connections.
measure_idle() {
	local t=$1 r=$2 rss0 rss1 fd0 fd1 held i
	[ -n "$BAL_PID" ] || return 0
	sleep 0.3
	rss0=$(tree_rss "$BAL_PID"); fd0=$(tree_fds "$BAL_PID")
	# The child truncates the file only after the fork: remove the last
	# round's, or its "ready" line could be read before that.
	rm -f "$TMP/idle.out"
	$CPU_LOAD "$LBBENCH" idle --target "$(echo_targets)" \
	    --conns "$BENCH_IDLE" --duration 60s >"$TMP/idle.out" 2>&1 &
	IDLE_PID=$!
	for i in $(seq 1 300); do
		grep -qs '^ready' "$TMP/idle.out" && break
		kill -0 "$IDLE_PID" 2>/dev/null || break
		sleep 0.1
	done
	held=$(awk '/^ready/ { print $2 }' "$TMP/idle.out")
	sleep 0.5
	rss1=$(tree_rss "$BAL_PID"); fd1=$(tree_fds "$BAL_PID")
	stop_pid "$IDLE_PID"; IDLE_PID=""
	if [ "${held:-0}" -le 0 ]; then
		echo "bench: $t idle: none held:" >&2
		tail -3 "$TMP/idle.out" >&2
		return 1
	fi
	rec "$t" "$r" idle_held "$held"
	set -- $fd0 $fd1
	awk -v a="$rss0" -v b="$rss1" -v n="$held" -v f0="$1" -v p0="$2" \
	    -v f1="$3" -v p1="$4" -v t="$t" -v r="$r" 'BEGIN {
		printf "%s\t%s\tmem_kib_per_conn\t%.2f\n", t, r, (b - a) / n
		printf "%s\t%s\tfds_per_conn\t%.3f\n", t, r, (f1 - f0) / n
		printf "%s\t%s\tpipes_per_conn\t%.3f\n", t, r, (p1 - p0) / n
		printf "%s\t%s\trss_base_kib\t%d\n", t, r, a }' >>"$RAW"
}

run_target() {
	local t=$1 r=$2
	start_balancer "$t" || return 1
	if have iperf3; then
		measure_tput "$t" "$r" 1
		measure_tput "$t" "$r" 8
	fi
	measure_connrate "$t" "$r"
	measure_conn1 "$t" "$r"
	measure_latency "$t" "$r"
	measure_idle "$t" "$r"
	stop_pid "$BAL_PID"; BAL_PID=""
	sleep 0.5	# let the balancer's sockets close before the next one
}

main() {
	local t r start targets=""
	ensure_packages
	[ -x "$LBBENCH" ] || { echo "bench: $LBBENCH missing" >&2; exit 1; }
	for t in $BENCH_TARGETS; do
		case $t in
		direct) ok=1 ;;
		lbd) [ -x "$LB_BUILD/lbd" ] && ok=1 || ok=0 ;;
		haproxy) have haproxy && ok=1 || ok=0 ;;
		nginx) have nginx && have /usr/lib/nginx/modules/ngx_stream_module.so && ok=1 || ok=0 ;;
		*) ok=0 ;;
		esac
		[ $ok = 1 ] && targets="$targets $t" || echo "bench: skipping $t" >&2
	done
	have iperf3 || echo "bench: no iperf3: no throughput figures" >&2
	mkdir -p "$OUT"; : >"$RAW"
	$CPU_LOAD "$LBBENCH" serve --duration $((BENCH_BUDGET + 600))s --listen \
	    127.0.0.1:9101,127.0.0.1:9102,127.0.0.1:9103,127.0.0.1:9104 \
	    >"$TMP/serve.log" 2>&1 &
	SERVE_PID=$!
	wait_port 9104 || exit 1
	start=$(date +%s)
	export BENCH_LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
	for r in $(seq 1 "$BENCH_ROUNDS"); do
		if [ $(($(date +%s) - start)) -gt "$BENCH_BUDGET" ]; then
			echo "bench: time budget spent after $((r - 1)) rounds" >&2
			BENCH_ROUNDS=$((r - 1))
			break
		fi
		for t in $targets; do
			echo "bench: round $r/$BENCH_ROUNDS: $t ($(($(date +%s) - start)) s)" >&2
			run_target "$t" "$r"
		done
	done
	export BENCH_LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
	export BENCH_ELAPSED=$(($(date +%s) - start))
	cp "$RAW" "$OUT/raw.tsv"
	"$HERE/report.sh" "$RAW" "$OUT" "$targets"
}

main "$@"
