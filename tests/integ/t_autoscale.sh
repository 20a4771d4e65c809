#!/usr/bin/env bash
# t_autoscale.sh - a pool grows under load and shrinks after it, within
# its bounds, with the example hooks (etc/scale-out.sh, etc/scale-in.sh)
# starting and stopping real backends, and not one connection lost:
#   - min 1, max 3, target 5 active per server, window 1s, cooldown 1s;
#   - 20 held connections: scale_out runs (above_target), the hook starts
#     a backend and lbctl adds it; again until 3 servers, then lbd holds
#     at max_servers (logged once, shown by lbctl autoscale);
#   - the new servers answer clients;
#   - the held connections are released: scale_in drains and removes the
#     least loaded server (a hook-started one) until 1 is left, and its
#     backend is stopped;
#   - all along a client loop is served (failed 0) and the held
#     connections all survived until released;
#   - the server count never left 1..3; lbctl autoscale (text and JSON)
#     and the log show every decision with its inputs, kept by a reload.
. "$(dirname "$0")/lib.sh"
lb_init t_autoscale
command -v jq >/dev/null || skip "jq missing"
command -v setsid >/dev/null || skip "setsid (util-linux) missing"
LBCTL=$LB_BUILD/lbctl
[ -x "$LBCTL" ] || skip "$LBCTL not built"
export LBCTL_SOCKET=$T/lbd.sock
# What the example hooks read (lbd passes its environment on to them).
export LB_AUTOSCALE_DIR=$T/as LB_BACKEND=$BACKEND LBCTL
mkdir -p "$LB_AUTOSCALE_DIR"

# Backends the hooks started are not ours to know by PID: stop them from
# the hooks' state files before the usual cleanup.
as_cleanup() {
	local rc=$? f
	for f in "$LB_AUTOSCALE_DIR"/*/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	touch "$T/stop-traffic" 2>/dev/null
	(exit "$rc")
	lb_cleanup
}
trap as_cleanup EXIT

take_ports 2
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "web"; algorithm = "roundrobin";
	autoscale = { min_servers = 1; max_servers = 3;
		target_active_per_server = 5; window = "1s"; cooldown = "1s";
		hook_timeout = "20s";
		scale_out = "$LB_TOP/etc/scale-out.sh";
		scale_in = "$LB_TOP/etc/scale-in.sh"; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "web"; } );
EOF2
} >"$T/lbd.conf"
"$LBD" -n -f "$T/lbd.conf" >/dev/null || fail "config rejected"
start_lbd "$T/lbd.conf" "$lport"

# Servers in the pool now; the extremes seen are kept in LO and HI.
LO=99 HI=0
nservers() {
	local n
	n=$("$LBCTL" --json servers web 2>/dev/null | jq 'length') || n=""
	if [ -n "$n" ]; then
		[ "$n" -lt "$LO" ] && LO=$n
		[ "$n" -gt "$HI" ] && HI=$n
	fi
	echo "${n:-0}"
}
servers_are() { [ "$(nservers)" -eq "$1" ]; }
as_json() { "$LBCTL" --json autoscale web; }
state_is() { [ "$(as_json | jq -r '.[0].state')" = "$1" ]; }

as_first() {	# the first sample is taken within 100 ms of the start
	as_json | jq -e '.[0].pool == "web" and .[0].healthy == 1 and
	    .[0].target_active_per_server == 5 and .[0].max_servers == 3' \
	    >/dev/null
}
wait_for 3000 as_first || fail "lbctl autoscale: $(as_json)"
wait_for 5000 state_is at_min || fail "idle pool not at_min: $(as_json)"

# Clients all along: sequential who runs until told to stop (bounded).
traffic() {
	local i
	for i in $(seq 1 400); do
		[ -e "$T/stop-traffic" ] && return 0
		"$CLIENT" who "127.0.0.1:$lport" -n 5 >>"$T/traffic.out" 2>&1
		sleep 0.05
	done
}
bg traffic

# Load: 20 held connections on a 1-server pool (target 5).
bg "$CLIENT" hold "127.0.0.1:$lport" -n 20 -t 60 >"$T/hold.out" 2>&1
HOLD=$BG_PID
wait_for 5000 grep -q '^held 20 failed 0' "$T/hold.out" ||
	fail "hold: $(cat "$T/hold.out")"
start=$(now_ms)
wait_for 15000 servers_are 3 || fail "pool did not grow to 3: $(nservers);" \
    "$("$LBCTL" autoscale web)"
info "grew 1 -> 3 in $(($(now_ms) - start)) ms"
wait_for 5000 state_is at_max || fail "not holding at max: $(as_json)"
grep -q 'autoscale web: keep (at_max)' "$LBD_LOG" ||
	fail "the hold at max_servers was not logged"
for i in $(seq 1 15); do	# 3 ticks of 100 ms each round: stays at 3
	servers_are 3 || fail "left 3 servers at max: $(nservers)"
	sleep 0.1
done
n=$(grep -c 'autoscale web: scale_out (above_target): ' "$LBD_LOG")
[ "$n" -eq 2 ] || fail "$n scale_out decisions logged, want 2"
# The window average crosses 6 while the 20 connections open: the first
# decision may want 2 or 3 servers; either way one is added per run.
grep -qE 'scale_out \(above_target\): 1 healthy servers, [0-9.]+ active on average over 1000 ms \([0-9.]+ per server; target 5: out above 6.0, in below 3.0\), desired [23] \(min 1, max 3\)' \
    "$LBD_LOG" || fail "first decision not logged with its inputs"
[ "$(as_json | jq '[.[0].decisions[] | select(.action == "scale_out"
    and .result == "exit 0")] | length')" -eq 2 ] ||
	fail "decisions: $(as_json)"

# The new servers serve.
"$CLIENT" who "127.0.0.1:$lport" -n 30 >"$T/who.out" 2>&1 ||
	fail "clients failed at 3 servers: $(cat "$T/who.out")"
[ "$(count as1 "$T/who.out")" -ge 1 ] && [ "$(count as2 "$T/who.out")" -ge 1 ] ||
	fail "added servers took no client: $(cat "$T/who.out")"

# Release the load: back down to min_servers.
grep -q '^peer_closed' "$T/hold.out" &&
	fail "a held connection was closed: $(grep peer_closed "$T/hold.out")"
kill_child TERM "$HOLD"
start=$(now_ms)
wait_for 20000 servers_are 1 || fail "pool did not shrink to 1: $(nservers);" \
    "$("$LBCTL" autoscale web)"
info "shrank 3 -> 1 in $(($(now_ms) - start)) ms"
"$LBCTL" --json servers web | jq -e '.[0].name == "a"' >/dev/null ||
	fail "the config's server was removed, not an added one"
for i in $(seq 1 15); do
	servers_are 1 || fail "left min_servers: $(nservers)"
	sleep 0.1
done
[ "$LO" -ge 1 ] && [ "$HI" -le 3 ] || fail "server count left 1..3: $LO..$HI"
n=$(grep -c 'autoscale web: scale_in (below_target): .*, draining web/as' \
    "$LBD_LOG")
[ "$n" -eq 2 ] || fail "$n scale_in decisions logged, want 2"
[ "$(as_json | jq '[.[0].decisions[] | select(.action == "scale_in"
    and .result == "exit 0")] | length')" -eq 2 ] ||
	fail "decisions: $(as_json)"
ls "$LB_AUTOSCALE_DIR"/web/*.pid >/dev/null 2>&1 &&
	fail "backends left running: $(ls "$LB_AUTOSCALE_DIR"/web)"
"$LBCTL" autoscale web >"$T/as.txt" || fail "lbctl autoscale"
grep -q '^web  *1  ' "$T/as.txt" || fail "lbctl autoscale: $(cat "$T/as.txt")"
[ "$(grep -c 'scale_in   *below_target' "$T/as.txt")" -eq 2 ] ||
	fail "lbctl autoscale decisions: $(cat "$T/as.txt")"

# A reload keeps the pool's figures and decisions.
"$LBCTL" reload >/dev/null || fail "reload"
[ "$(as_json | jq '.[0].decisions | length')" -eq 4 ] ||
	fail "decisions lost at reload: $(as_json)"

# Nothing lost: every traffic client and every held connection served.
touch "$T/stop-traffic"
wait_for 10000 pid_dead "$BG_PID" 2>/dev/null
runs=$(grep -c '^failed' "$T/traffic.out")
[ "$runs" -ge 10 ] || fail "only $runs client runs"
grep '^failed' "$T/traffic.out" | grep -qv '^failed 0' &&
	fail "clients failed: $(grep '^failed' "$T/traffic.out" | sort | uniq -c)"
info "$runs client runs of 5 during the test, all served"
grep -q '^peer_closed' "$T/hold.out" &&
	fail "a held connection was closed: $(grep peer_closed "$T/hold.out")"
pass
