#!/usr/bin/env bash
# t_hostile_blackhole.sh - connect timeout against a black-holed backend.
# The backend (lbt-stall blackhole) listens with a full accept queue and
# never accepts, so the kernel drops further SYNs: a connect to it hangs
# (loopback only, no firewall rule needed).  timeouts.connect = 1s,
# retries = 0.  Each of 5 clients through lbd is closed 1000 ms +-10%
# after it connected, the log says end=connect_failed, and the server's
# failure counter says 5.  Meanwhile, sessions on another pool are
# untouched: 5 held connections stay open and a 32 MiB echo transfer
# started before the black-holed connects completes intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_blackhole
hostile_need

take_ports 4
lport=${PORTS[0]} pb=${PORTS[1]} wport=${PORTS[2]} pe=${PORTS[3]}
start_backend e "127.0.0.1:$pe" echo
bg "$STALL" blackhole --listen "127.0.0.1:$pb" --max-time 100 >"$T/be.out" 2>&1
wait_for 5000 grep -q '^ready' "$T/be.out" || fail "blackhole backend did not start"
"$STALL" rstwait "127.0.0.1:$pb" -n 1 -b 0 --timeout 1500 >"$T/probe.out" 2>&1 &&
	fail "the black hole answered a connect: $(cat "$T/probe.out")"
info "a direct connect to the black hole is still pending after 1500 ms"
{
	conf_head 2 1000 1s
	cat <<EOF2
pools = ( { name = "p"; retries = 0; servers = ( { name = "b"; address = "127.0.0.1:$pb"; } ); },
	  { name = "w"; servers = ( { name = "e"; address = "127.0.0.1:$pe"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; },
	      { name = "w"; bind = "127.0.0.1:$wport"; pool = "w"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

bg "$CLIENT" hold "127.0.0.1:$wport" -n 5 -t 60 >"$T/hold.out" 2>&1
HOLD=$BG_PID
wait_for 10000 grep -q '^held ' "$T/hold.out" || fail "could not hold 5 connections"
grep -q '^held 5 failed 0' "$T/hold.out" || fail "$(cat "$T/hold.out")"
bg "$CLIENT" bulk "127.0.0.1:$wport" -b 33554432 -q >"$T/bulk.out" 2>&1
BULK=$BG_PID

"$STALL" rstwait "127.0.0.1:$lport" -n 5 -b 0 --timeout 5000 >"$T/rw.out" 2>&1 ||
	{ cat "$T/rw.out"; fail "a client stayed open past 5 s"; }
times=$(awk '$1 == "closed_ms" { printf "%s ", $2 }' "$T/rw.out")
info "5 clients to the black-holed pool closed after (ms): $times"
for t in $times; do
	[ "$t" -ge 900 ] && [ "$t" -le 1100 ] || fail "closed after $t ms, not 1000 +-10%"
done
wait_for 5000 eval '[ "$(grep -c "end=connect_failed" "$LBD_LOG")" -ge 5 ]' ||
	fail "the log does not show 5 end=connect_failed"
fails=$(ctl --json servers p | jsum failures)
info "log: $(grep -c 'end=connect_failed' "$LBD_LOG") end=connect_failed; server b failures: $fails"
[ "$fails" -eq 5 ] || fail "server b counted $fails failures, expected 5"

wait "$BULK" || fail "the echo transfer on the other pool failed: $(cat "$T/bulk.out")"
grep -q peer_closed "$T/hold.out" && fail "a held session on the other pool was closed"
[ "$(lbd_conns_to "$pe")" -eq 6 ] || [ "$(lbd_conns_to "$pe")" -eq 5 ] ||
	fail "lbd holds $(lbd_conns_to "$pe") connections to the echo backend, expected 5"
info "other pool untouched: 32 MiB echoed intact, 5 held sessions still open"
kill_child TERM "$HOLD"
pass
