#!/usr/bin/env bash
# t_health_basic.sh - active TCP checks against real backends:
#   - "initial down": each server comes up after its first passed check;
#   - a killed backend is marked down within fall x interval + interval
#     (plus scheduling slack on a busy machine), with the reason logged;
#   - while it is down and while it comes back, clients keep going:
#     refused connects are retried on another server, none fails;
#   - restarted, it is back within rise x interval + interval (+ slack).
# interval 200ms, rise 2, fall 3: a few seconds in all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_basic

SLACK=400	# ms of scheduling slack on a loaded 2-core machine
take_ports 4
lport=${PORTS[0]}
for i in 1 2 3; do
	start_backend "s$i" "127.0.0.1:${PORTS[$i]}" echo
done
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 3;
		   observe_errors = 0; };
	servers = ( { name = "s1"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "s2"; address = "127.0.0.1:${PORTS[2]}"; },
		    { name = "s3"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

hl_wait_log 3000 3 'server p/s[123] down -> up: first check passed' ||
	fail "servers did not come up after their first check"
hl_traffic_start "127.0.0.1:$lport"
wait_for 5000 test -s "$T/traffic.all" || fail "no traffic"

t0=$(now_ms)
hl_kill_backend s2
hl_wait_log 5000 1 'server p/s2 up -> down: 3 checks failed: connect refused' ||
	fail "s2 not marked down (3 checks failed: connect refused)"
down_ms=$(($(now_ms) - t0))
info "s2 marked down after $down_ms ms (bound 3 x 200 + 200 = 800 ms)"
[ "$down_ms" -le $((800 + SLACK)) ] || fail "down took $down_ms ms"

# Down: a window of traffic (counted, not timed) that reaches s2 no more.
lines=$(wc -l <"$T/traffic.all")
more_traffic() { [ "$(wc -l <"$T/traffic.all")" -ge $((lines + 10)) ]; }
wait_for 5000 more_traffic || fail "no traffic while s2 is down"
tail -n +$((lines + 4)) "$T/traffic.all" | grep -q '^s2 ' &&
	fail "s2 still answers clients while marked down"
t1=$(now_ms)
start_backend s2 "127.0.0.1:${PORTS[2]}" echo
hl_wait_log 5000 1 'server p/s2 down -> up: 2 checks passed' ||
	fail "s2 did not come back"
up_ms=$(($(now_ms) - t1))
info "s2 back up after $up_ms ms (bound 2 x 200 + 200 = 600 ms)"
[ "$up_ms" -le $((600 + SLACK)) ] || fail "up took $up_ms ms"
recent_has() { tail -n 30 "$T/traffic.all" | grep -q "^$1 "; }
wait_for 5000 recent_has s2 || fail "s2 takes no traffic after coming back"
hl_traffic_stop
info "clients: $TRAFFIC_OK connections answered, $TRAFFIC_FAILED failed"
[ "$TRAFFIC_FAILED" -eq 0 ] || fail "$TRAFFIC_FAILED client connections failed"
[ "$TRAFFIC_OK" -gt 0 ] || fail "no client connection answered"
pass
