#!/usr/bin/env bash
# t_idle.sh - timeouts.idle = "1s": a connection with no bytes either way
# is closed by lbd.  The client measures from the backend's name to the
# close; the bounds are loose (0.9 s .. 4 s): this checks the timer
# exists and fires, not how fast.  The log must say end=idle_timeout.
# A connection that keeps talking (one byte every 250 ms for 3 s, three
# idle periods) must not be closed.
. "$(dirname "$0")/lib.sh"
lb_init t_idle

take_ports 2
lport=${PORTS[0]}
start_backend e "127.0.0.1:${PORTS[1]}" echo
{
	conf_head 2 1000 3s 1s 10s
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "e"; address = "127.0.0.1:${PORTS[1]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

"$CLIENT" idle "127.0.0.1:$lport" --max-time 15 >"$T/idle.out" 2>&1 ||
	{ cat "$T/idle.out"; fail "idle connection not closed within 15 s"; }
ms=$(awk '$1 == "closed_after_ms" { print $2 }' "$T/idle.out")
info "idle connection closed after $ms ms (idle = 1s)"
[ "$ms" -ge 900 ] && [ "$ms" -le 4000 ] ||
	fail "closed after $ms ms, want 900..4000"
wait_for 5000 grep -q 'end=idle_timeout' "$LBD_LOG" ||
	fail "no end=idle_timeout line in the log"
info "log: $(grep 'end=idle_timeout' "$LBD_LOG" | head -n 1)"

"$CLIENT" trickle "127.0.0.1:$lport" -t 3 --interval 250 >"$T/trickle.out" 2>&1 ||
	{ cat "$T/trickle.out"; fail "a busy connection was closed by the idle timer"; }
info "busy connection: $(grep '^trickle' "$T/trickle.out") over 3 s, still open"
pass
