#!/usr/bin/env bash
# t_reset.sh - abrupt ends on either side.  lbd closes the other side,
# logs the end, and keeps serving.
#  - A backend that resets every connection (name, then RST): 100
#    connections all end without a hang (name or close, never a
#    timeout) and the log has end=server_close (or server_reset).
#  - 20 held clients killed with -9: lbd closes all 20 of its backend
#    connections (watched with ss, bounded).
#  - Afterwards 100 connections on the other listener succeed and the
#    workers are the same processes as before (none crashed).
. "$(dirname "$0")/lib.sh"
lb_init t_reset

take_ports 4
lr=${PORTS[0]} le=${PORTS[1]}
start_backend r "127.0.0.1:${PORTS[2]}" rst
start_backend e "127.0.0.1:${PORTS[3]}" hold
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "pr"; servers = ( { name = "r"; address = "127.0.0.1:${PORTS[2]}"; } ); },
	  { name = "pe"; servers = ( { name = "e"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "lr"; bind = "127.0.0.1:$lr"; pool = "pr"; },
	      { name = "le"; bind = "127.0.0.1:$le"; pool = "pe"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lr"
wait_for 5000 port_listening "$le" || fail "second listener not up"
workers=$(lbd_workers | tr '\n' ' ')

"$CLIENT" who "127.0.0.1:$lr" -n 100 -c 4 --timeout 5000 >"$T/r.out" 2>&1
info "resetting backend: $(tr '\n' ' ' <"$T/r.out")"
grep -q 'timeout=0)' "$T/r.out" || fail "a client hung on a reset backend"
wait_for 5000 grep -Eq 'end=server_(close|reset)' "$LBD_LOG" ||
	fail "no end=server_close/server_reset in the log: $(grep ' conn ' "$LBD_LOG" | tail -n 1)"
info "log: $(grep -Eo 'end=[a-z_]+' "$LBD_LOG" | sort | uniq -c | tr -s ' \n' ' ')"

# Clients that die: hold 20 connections to the "hold" backend, then
# kill -9 the client; its kernel closes the sockets, and lbd must close
# its 20 backend connections too.
bg "$CLIENT" hold "127.0.0.1:$le" -n 20 -t 60 >"$T/hold.out" 2>&1
hp=$BG_PID
wait_for 10000 grep -q '^held 20 failed 0' "$T/hold.out" || fail "could not hold 20"
kill_child KILL "$hp"
wait_for 5000 eval '[ "$(lbd_conns_to "${PORTS[3]}")" -eq 0 ]' ||
	fail "lbd kept $(lbd_conns_to "${PORTS[3]}") backend connections after its clients died"
info "20 clients killed: lbd closed all 20 backend connections"

"$CLIENT" who "127.0.0.1:$le" -n 100 -c 4 >"$T/e.out" 2>&1 ||
	{ cat "$T/e.out"; fail "failures on the normal listener afterwards"; }
[ "$(lbd_workers | tr '\n' ' ')" = "$workers" ] ||
	fail "workers changed (crash?): was $workers, now $(lbd_workers | tr '\n' ' ')"
info "afterwards: 100 connections ok, same workers $workers"
pass
