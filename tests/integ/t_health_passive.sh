#!/usr/bin/env bash
# t_health_passive.sh - passive detection with no health group (no
# active checks): b is killed while clients run; the workers' refused
# connects are retried on a (no client fails) and counted, and after
# observe_errors (default 5) in a row the checker marks b down, then
# probes it (plain TCP connect, default interval) until it answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_passive

take_ports 3
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
"$CLIENT" who "127.0.0.1:$lport" -n 20 >"$T/who.out" 2>&1 ||
	fail "clients failed: $(cat "$T/who.out")"
[ "$(count b "$T/who.out")" -eq 10 ] || fail "b should take half"

hl_traffic_start "127.0.0.1:$lport"
hl_kill_backend b
hl_wait_log 5000 1 'server p/b up -> down: [0-9]+ consecutive connect failures' ||
	fail "b not marked down by passive detection"
start_backend b "127.0.0.1:${PORTS[2]}" echo
hl_wait_log 10000 1 'server p/b down -> up: 2 checks passed' ||
	fail "b not brought back by the probes"
recent_has() { tail -n 30 "$T/traffic.all" | grep -q "^$1 "; }
wait_for 5000 recent_has b || fail "b takes no traffic after coming back"
hl_traffic_stop
info "clients: $TRAFFIC_OK answered, $TRAFFIC_FAILED failed"
[ "$TRAFFIC_FAILED" -eq 0 ] || fail "$TRAFFIC_FAILED client connections failed"
# Exactly one down and one up: the probes stop once it is back.
[ "$(hl_logn 'server p/b ')" -eq 2 ] || fail "b changed state more than twice"
pass
