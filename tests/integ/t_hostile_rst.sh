#!/usr/bin/env bash
# t_hostile_rst.sh - a backend resets connections mid-stream.
# The backend (lbt-stall rstafter) reads 64 KiB of each connection, then
# resets it.  Through lbd, 50 clients one after the other each write
# 64 KiB and time how long until lbd closes them: every one within 1 s.
# Then 50 at once (lbt-stall send, 1 MiB each): all closed.
# Afterwards lbd's worker sockets (fds that are sockets; cached splice
# pipes are reported, bounded by the pool) and the shared active counts
# (lbctl --json status and servers) are back at their baseline, and the
# log names the end (server_reset).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_rst
hostile_need

take_ports 2
lport=${PORTS[0]} pb=${PORTS[1]}
bg "$STALL" rstafter --listen "127.0.0.1:$pb" --bytes 65536 --max-time 100 >"$T/be.out" 2>&1
wait_for 5000 grep -q '^ready' "$T/be.out" || fail "rstafter backend did not start"
{
	conf_head 2 1000
	cat <<EOF2
pools = ( { name = "p"; retries = 0;
	servers = ( { name = "r"; address = "127.0.0.1:$pb"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 eval '[ "$(lbd_workers | wc -l)" -eq 2 ]' || fail "2 workers did not start"
base_fds=$(lbd_worker_socks)
base_active=$(lbd_active) base_srv=$(lbd_server_active)
info "baseline: worker sockets $base_fds (all fds $(lbd_worker_fds)), active $base_active, server active $base_srv"

"$STALL" rstwait "127.0.0.1:$lport" -n 50 -b 65536 --timeout 3000 >"$T/rw.out" 2>&1 ||
	{ tail -n 5 "$T/rw.out"; fail "a client stayed open after its backend reset"; }
max=$(awk '$1 == "max_ms" { print $2 }' "$T/rw.out")
info "50 sequential clients closed after their backend reset: max $max ms ($(awk '$1 == "closed_ms" { print $3 }' "$T/rw.out" | sort | uniq -c | tr '\n' ' '))"
[ "$max" -le 1000 ] || fail "a client was closed only after $max ms (bound 1000)"

"$STALL" send "127.0.0.1:$lport" -n 50 -b 1048576 --max-time 20 >"$T/send.out" 2>&1 ||
	{ cat "$T/send.out"; fail "50 concurrent clients were not all closed"; }
info "50 concurrent clients sending 1 MiB each: $(tail -n 1 "$T/send.out")"

back() {
	[ "$(lbd_worker_socks)" -eq "$base_fds" ] &&
	[ "$(lbd_active)" -eq "$base_active" ] &&
	[ "$(lbd_server_active)" -eq "$base_srv" ]
}
wait_for 5000 back || fail "not back to baseline: worker sockets $(lbd_worker_socks) (was $base_fds), active $(lbd_active), server active $(lbd_server_active)"
info "after 100 resets: worker sockets $(lbd_worker_socks) (all fds $(lbd_worker_fds): cached pipes), active $(lbd_active), server active $(lbd_server_active)"
grep -q 'end=server_reset' "$LBD_LOG" || fail "no end=server_reset in the log"
info "log: $(grep -c 'end=server_reset' "$LBD_LOG") connections ended server_reset"
pass
