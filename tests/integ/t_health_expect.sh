#!/usr/bin/env bash
# t_health_expect.sh - send/expect checks, the check port and hex:
#   a: traffic on its backend, checks on another port (`port`) where a
#      responder answers PONG to PING: up;
#   b: checks hit its echo backend, which never says PONG ("initial
#      down"): never comes up, takes no client;
#   c: same, but "initial up": marked down with "expect not found";
#   d: no send, expect = hex of "d\n" (the backend's greeting): up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_expect
[ -x "$HCRESP" ] || skip "$HCRESP not built"

take_ports 6
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
start_backend c "127.0.0.1:${PORTS[3]}" echo
start_backend d "127.0.0.1:${PORTS[4]}" echo
start_hcresp apong "127.0.0.1:${PORTS[5]}" pong
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2;
		   send = "PING\r\n"; expect = "PONG"; };
	servers = (
	  { name = "a"; address = "127.0.0.1:${PORTS[1]}";
	    health = { port = ${PORTS[5]}; }; },
	  { name = "b"; address = "127.0.0.1:${PORTS[2]}"; },
	  { name = "c"; address = "127.0.0.1:${PORTS[3]}";
	    health = { initial = "up"; }; },
	  { name = "d"; address = "127.0.0.1:${PORTS[4]}";
	    health = { send = "hex:00"; expect = "hex:640a"; }; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

hl_wait_log 3000 1 'server p/a down -> up: first check passed' ||
	fail "a (PONG on its check port) did not come up"
hl_wait_log 3000 1 'server p/d down -> up: first check passed' ||
	fail "d (hex expect) did not come up"
hl_wait_log 3000 1 'server p/c up -> down: 2 checks failed: expect not found after 150ms' ||
	fail "c (never PONG) not marked down with the reason"
# b: a few more check intervals, counted by c's failed checks.
"$CLIENT" who "127.0.0.1:$lport" -n 40 >"$T/who.out" 2>&1 ||
	fail "clients failed: $(cat "$T/who.out")"
sed 's/^/  who: /' "$T/who.out"
[ "$(count a "$T/who.out")" -eq 20 ] || fail "a should take half"
[ "$(count d "$T/who.out")" -eq 20 ] || fail "d should take half"
[ "$(hl_logn 'server p/b ')" -eq 0 ] || fail "b changed state"
[ "$(count b "$T/who.out")" -eq 0 ] || fail "b (never up) took clients"
[ "$(count c "$T/who.out")" -eq 0 ] || fail "c (down) took clients"
pass
