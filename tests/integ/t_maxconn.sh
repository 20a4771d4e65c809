#!/usr/bin/env bash
# t_maxconn.sh - connection caps.
#  1. Per server: 2 servers with maxconn = 2 each.  Hold 4 connections
#     (2 + 2); a 5th client is closed at once: EOF without a name (not a
#     timeout), and the log says so (end=no_server, or lbd's
#     rate-limited "no usable server" line).  Release the 4: service
#     recovers (20 connections one after another, no failure: with more
#     at once, sessions lbd is still closing could count against the cap).
#  2. Global: maxconn = 3, servers unlimited.  Hold 3; a 4th client gets
#     no name (closed, or left waiting past 2 s); release: all served.
. "$(dirname "$0")/lib.sh"
lb_init t_maxconn

take_ports 3
lport=${PORTS[0]} pa=${PORTS[1]} pb=${PORTS[2]}
start_backend a "127.0.0.1:$pa" echo
start_backend b "127.0.0.1:$pb" echo
conf() {	# conf GLOBAL_MAXCONN SERVER_MAXCONN
	conf_head 2 "$1"
	cat <<EOF2
pools = ( { name = "p"; algorithm = "leastconn";
	servers = ( { name = "a"; address = "127.0.0.1:$pa"; maxconn = $2; },
		    { name = "b"; address = "127.0.0.1:$pb"; maxconn = $2; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
}
all_released() {
	[ "$(lbd_conns_to "$pa")" -eq 0 ] && [ "$(lbd_conns_to "$pb")" -eq 0 ]
}

# hold_n N FILE: holds N connections in the background (pid in HOLD_PID)
hold_n() {
	bg "$CLIENT" hold "127.0.0.1:$lport" -n "$1" -c 1 -t 120 >"$2" 2>&1
	HOLD_PID=$BG_PID
	wait_for 10000 grep -q '^held ' "$2" || fail "hold did not finish opening"
	grep -q "^held $1 failed 0" "$2" || { cat "$2"; fail "could not hold $1"; }
}

conf 1000 2 >"$T/lbd1.conf"
start_lbd "$T/lbd1.conf" "$lport"
hold_n 4 "$T/hold1.out"
info "4 held: a=$(grep -c '^open a$' "$T/hold1.out") b=$(grep -c '^open b$' "$T/hold1.out")"
"$CLIENT" who "127.0.0.1:$lport" -n 1 --timeout 3000 >"$T/fifth.out" 2>&1
info "5th client: $(tail -n 1 "$T/fifth.out")"
grep -q '^failed 1 (connect=0 closed=1 timeout=0)' "$T/fifth.out" ||
	fail "5th client was not closed at once without a name"
# Either a conn line with end=no_server or lbd's rate-limited summary.
wait_for 5000 grep -Eq 'end=no_server|no usable server' "$LBD_LOG" ||
	fail "the log does not say the client was refused for want of a server"
info "log: $(grep -E 'end=no_server|no usable server' "$LBD_LOG" | head -n 1)"
kill_child TERM "$HOLD_PID"
wait_for 5000 all_released || fail "lbd kept backend connections after release"
"$CLIENT" who "127.0.0.1:$lport" -n 20 -c 1 >"$T/after1.out" 2>&1 ||
	{ cat "$T/after1.out"; fail "service did not recover after release"; }
info "after release: 20 connections, 0 failures"
stop_lbd

conf 3 0 >"$T/lbd2.conf"
start_lbd "$T/lbd2.conf" "$lport"
hold_n 3 "$T/hold2.out"
"$CLIENT" who "127.0.0.1:$lport" -n 1 --timeout 2000 >"$T/fourth.out" 2>&1 &&
	fail "a 4th client was served with global maxconn = 3"
info "4th client over global maxconn 3: $(tail -n 1 "$T/fourth.out")"
kill_child TERM "$HOLD_PID"
wait_for 5000 all_released || fail "lbd kept backend connections after release"
wait_for 10000 "$CLIENT" who "127.0.0.1:$lport" -n 1 --timeout 2000 >/dev/null ||
	fail "no service after release (global)"
"$CLIENT" who "127.0.0.1:$lport" -n 20 -c 1 >"$T/after2.out" 2>&1 ||
	{ cat "$T/after2.out"; fail "failures after release (global)"; }
info "after release: 20 connections, 0 failures"
pass
