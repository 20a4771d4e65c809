#!/usr/bin/env bash
# t_first.sh - algorithm "first": every connection goes to the first
# server while it works.  Kill backend s1 (by PID, between connections):
# the next connections go to s2 with no client failure (the refused
# connect is retried).  Start s1 again: traffic comes back to it within
# a bounded time.
. "$(dirname "$0")/lib.sh"
lb_init t_first

take_ports 3
lport=${PORTS[0]} p1=${PORTS[1]} p2=${PORTS[2]}
start_backend s1 "127.0.0.1:$p1" echo
start_backend s2 "127.0.0.1:$p2" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "first"; retries = 2;
	servers = ( { name = "s1"; address = "127.0.0.1:$p1"; },
		    { name = "s2"; address = "127.0.0.1:$p2"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

"$CLIENT" who "127.0.0.1:$lport" -n 100 -c 2 >"$T/w1.out" 2>&1 ||
	{ cat "$T/w1.out"; fail "client failures with both servers up"; }
info "both up, 100 connections: s1=$(count s1 "$T/w1.out") s2=$(count s2 "$T/w1.out")"
[ "$(count s1 "$T/w1.out")" -eq 100 ] || fail "not all went to s1"

kill_child KILL "${BE_PID[s1]}"
wait_for 5000 port_free "$p1" || fail "backend s1 still listening"
"$CLIENT" who "127.0.0.1:$lport" -n 100 -c 2 >"$T/w2.out" 2>&1 ||
	{ cat "$T/w2.out"; fail "client failures after s1 died (retries?)"; }
info "s1 killed, 100 connections: s1=$(count s1 "$T/w2.out") s2=$(count s2 "$T/w2.out")"
[ "$(count s2 "$T/w2.out")" -eq 100 ] || fail "not all went to s2"

start_backend s1 "127.0.0.1:$p1" echo
back_to_s1() {
	"$CLIENT" who "127.0.0.1:$lport" -n 1 >"$T/w3.out" 2>&1 &&
	    [ "$(count s1 "$T/w3.out")" -eq 1 ]
}
wait_for 15000 back_to_s1 || fail "s1 is back but gets no traffic after 15 s"
"$CLIENT" who "127.0.0.1:$lport" -n 50 -c 2 >"$T/w4.out" 2>&1 ||
	fail "client failures after s1 came back"
info "s1 back, 50 connections: s1=$(count s1 "$T/w4.out") s2=$(count s2 "$T/w4.out")"
[ "$(count s1 "$T/w4.out")" -eq 50 ] || fail "not all went back to s1"
pass
