# health_lib.sh - helpers for the health-check tests (t_health*.sh), on
# top of lib.sh.  Source lib.sh first.
#
#   hl_logn REGEX            lines of the lbd log matching REGEX
#   hl_wait_log MS N REGEX   waits (bounded) until REGEX matches N lines
#   hl_kill_backend NAME     kills backend NAME by PID, waits until gone
#   hl_traffic_start ADDR    clients in a loop until hl_traffic_stop;
#   hl_traffic_stop          ... then TRAFFIC_FAILED / TRAFFIC_OK hold
#                            the number of failed / good connections
#   hl_rss_kb PID            resident memory of PID in KiB

HCRESP=$LB_BUILD/tests/tools/lbt-hcresp

hl_logn() {
	grep -cE "$1" "$LBD_LOG" 2>/dev/null || true
}

hl_log_has() {
	[ "$(hl_logn "$2")" -ge "$1" ]
}

hl_wait_log() {
	wait_for "$1" hl_log_has "$2" "$3"
}

hl_kill_backend() {
	local pid=${BE_PID[$1]}
	kill "$pid" 2>/dev/null
	wait_for 5000 pid_dead "$pid" || fail "backend $1 did not die"
	wait "$pid" 2>/dev/null
	return 0
}

# start_hcresp NAME ADDR MODE: a check responder (lbt-hcresp).
start_hcresp() {
	bg "$HCRESP" --listen "$2" --mode "$3" >"$T/hc-$1.out" 2>&1
	BE_PID[$1]=$BG_PID
	wait_for 5000 grep -q '^ready' "$T/hc-$1.out" ||
		fail "responder $1 did not start: $(cat "$T/hc-$1.out")"
}

# Runs "lbt-client who -n 20" in a loop (at most 3000 rounds or 120 s)
# until $T/traffic.stop exists; sums the results into $T/traffic.sum.
hl_traffic_loop() {
	local addr=$1 i ok=0 bad=0 out=$T/traffic.one end
	end=$(($(now_ms) + 120000))
	for i in $(seq 1 3000); do
		[ -e "$T/traffic.stop" ] && break
		[ "$(now_ms)" -ge "$end" ] && break
		"$CLIENT" who "$addr" -n 20 -q --timeout 3000 >"$out" 2>&1
		bad=$((bad + $(awk '$1 == "failed" { print $2 }' "$out")))
		ok=$((ok + $(awk '$1 != "failed" { s += $2 } END { print s + 0 }' "$out")))
		cat "$out" >>"$T/traffic.all"
	done
	echo "$ok $bad" >"$T/traffic.sum"
}

hl_traffic_start() {
	rm -f "$T/traffic.stop" "$T/traffic.sum" "$T/traffic.all"
	hl_traffic_loop "$1" &
	TRAFFIC_PID=$!
	LB_PIDS="$LB_PIDS $TRAFFIC_PID"
}

hl_traffic_stop() {
	touch "$T/traffic.stop"
	wait_for 30000 test -s "$T/traffic.sum" || fail "client loop hung"
	wait "$TRAFFIC_PID" 2>/dev/null
	read -r TRAFFIC_OK TRAFFIC_FAILED <"$T/traffic.sum"
}

hl_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
