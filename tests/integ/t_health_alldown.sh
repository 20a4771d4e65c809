#!/usr/bin/env bash
# t_health_alldown.sh - every server of the pool down: new clients are
# closed at once (no client waits for a timeout), each is counted, and
# the log line for it is rate-limited: at most one a second across all
# workers, with the number suppressed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_alldown

take_ports 3
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
hl_wait_log 3000 2 'server p/[ab] down -> up: first check passed' ||
	fail "servers did not come up"
hl_kill_backend a
hl_kill_backend b
hl_wait_log 3000 2 'server p/[ab] up -> down' || fail "not marked down"

past() { [ "$(now_ms)" -ge "$1" ]; }
t0=$(now_ms)
for round in 1 2 3; do
	r0=$(now_ms)
	"$CLIENT" who "127.0.0.1:$lport" -n 500 -c 20 --timeout 2000 \
	    >"$T/who.out" 2>&1
	grep -q '^failed 500 (connect=0 closed=500 timeout=0)' "$T/who.out" ||
		fail "want 500 clients closed, none timed out: $(cat "$T/who.out")"
	info "round $round: $(($(now_ms) - r0)) ms"
	# The next round in a later second, so a second line is due.
	next=$(( $(now_ms) + 1100 ))
	wait_for 3000 past "$next"
done
secs=$(( ($(now_ms) - t0 + 999) / 1000 ))
lines=$(hl_logn 'pool p: no usable server, client closed')
info "1500 clients closed over ${secs}s; $lines no_server log lines"
[ "$lines" -ge 2 ] || fail "want a no_server line per busy second"
[ "$lines" -le $((secs + 1)) ] || fail "$lines lines in ${secs}s: not rate-limited"
grep -qE 'no usable server, client closed \([1-9][0-9]* more since' "$LBD_LOG" ||
	fail "no line reports suppressed ones"
[ "$(hl_logn 'end=no_server')" -eq 0 ] || fail "per-connection no_server lines"
pass
