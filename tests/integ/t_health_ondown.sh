#!/usr/bin/env bash
# t_health_ondown.sh - on_down: a server marked down keeps its existing
# connections by default ("keep"); with on_down = "shutdown" the workers
# close them.  b and c are checked on separate ports (responders hb, hc)
# so a failed check does not touch their data connections: 6 held client
# connections (2 each on a, b, c); hc dies -> c down, its 2 stay; hb dies
# -> b down, its 2 are closed by lbd (end=server_down); a's stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_ondown
[ -x "$HCRESP" ] || skip "$HCRESP not built"

take_ports 6
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
start_backend c "127.0.0.1:${PORTS[3]}" echo
start_hcresp hb "127.0.0.1:${PORTS[4]}" silent
start_hcresp hc "127.0.0.1:${PORTS[5]}" silent
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2;
		   on_down = "shutdown"; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}";
		      health = { port = ${PORTS[4]}; }; },
		    { name = "c"; address = "127.0.0.1:${PORTS[3]}";
		      health = { port = ${PORTS[5]}; on_down = "keep"; }; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
hl_wait_log 3000 3 'server p/[abc] down -> up: first check passed' ||
	fail "servers did not come up"

bg "$CLIENT" hold "127.0.0.1:$lport" -n 6 -c 1 -t 60 >"$T/hold.out" 2>&1
opened() { [ "$(grep -c '^open ' "$T/hold.out")" -ge 6 ]; }
wait_for 5000 opened || fail "could not hold 6 connections: $(cat "$T/hold.out")"
for s in a b c; do
	[ "$(grep -c "^open $s\$" "$T/hold.out")" -eq 2 ] ||
		fail "want 2 connections on $s: $(cat "$T/hold.out")"
done

hl_kill_backend hc
hl_wait_log 3000 1 'server p/c up -> down' || fail "c not marked down"
hl_kill_backend hb
hl_wait_log 3000 1 'server p/b up -> down' || fail "b not marked down"
closed_b() { [ "$(grep -c '^peer_closed b$' "$T/hold.out")" -ge 2 ]; }
wait_for 3000 closed_b || fail "b's connections not closed: $(cat "$T/hold.out")"
# c went down before b, so the sweep that closed b's saw c down too.
grep -q '^peer_closed [ac]$' "$T/hold.out" &&
	fail "a or c lost connections: $(cat "$T/hold.out")"
[ "$(hl_logn 'server=p/b .*end=server_down')" -eq 2 ] ||
	fail "want 2 end=server_down lines for b"
pass
