#!/usr/bin/env bash
# t_health_slowstart.sh - slow start visible as a gradual share of new
# connections: a and b weight 10, roundrobin, slowstart 6s.  b is killed
# and restarted; when it comes back its effective weight ramps from 1 to
# 10, so its share of a batch of new connections grows from about 1/11
# at once to 1/2 after the ramp.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_slowstart

take_ports 3
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2;
		   slowstart = "6s"; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; weight = 10; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; weight = 10; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
hl_wait_log 3000 2 'server p/[ab] down -> up: first check passed' ||
	fail "servers did not come up"
# First passes are not recoveries: full weight at once.
"$CLIENT" who "127.0.0.1:$lport" -n 200 >"$T/who.out" 2>&1 ||
	fail "clients failed: $(cat "$T/who.out")"
[ "$(count b "$T/who.out")" -eq 100 ] || fail "b should take half at start"

hl_kill_backend b
hl_wait_log 3000 1 'server p/b up -> down' || fail "b not marked down"
start_backend b "127.0.0.1:${PORTS[2]}" echo
hl_wait_log 3000 1 'server p/b down -> up: 2 checks passed \(slow start over 6000 ms\)' ||
	fail "b did not come back with slow start"
t_up=$(now_ms)

past() { [ "$(now_ms)" -ge "$1" ]; }
# share AT_MS: b's percentage of 200 new connections made AT_MS after up.
share() {
	wait_for 10000 past $((t_up + $1))
	"$CLIENT" who "127.0.0.1:$lport" -n 200 >"$T/who.out" 2>&1 ||
		fail "clients failed: $(cat "$T/who.out")"
	echo $(( $(count b "$T/who.out") * 100 / 200 ))
}
s0=$(share 0)
s1=$(share 3000)
s2=$(share 6500)
info "b's share of new connections: ${s0}% at once, ${s1}% after 3 s, ${s2}% after 6.5 s"
[ "$s0" -le 25 ] || fail "b took ${s0}% at once: not ramped"
[ "$s0" -lt "$s1" ] && [ "$s1" -lt "$s2" ] || fail "share not growing"
[ "$s2" -ge 45 ] || fail "b at ${s2}% after the ramp, want about 50%"
pass
