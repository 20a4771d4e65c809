#!/usr/bin/env bash
# t_worker_kill.sh - a worker killed with SIGKILL is respawned, and only
# the connections it carried are lost.
#  - 2 workers, 2 echo backends.  Hold 20 connections; ss -p tells how
#    many of them the victim worker owns (K).
#  - A bounded client loop runs (3000 connections, 4 at a time) while we
#    kill -9 the victim: the master must start a new worker (a new child
#    PID, polled), the held client must see exactly K of its connections
#    closed (the others live on), and the loop may lose at most the 4 it
#    had in flight.  Afterwards 200 new connections all succeed.
#  - With lbctl and jq at hand: the shared table's active counts (sum
#    over a and b) drop to exactly 20 - K once the victim is gone (its
#    share subtracted, no drift) and to 0 when the held client quits.
. "$(dirname "$0")/lib.sh"
lb_init t_worker_kill

take_ports 3
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin";
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 eval '[ "$(lbd_workers | wc -l)" -eq 2 ]' || fail "want 2 workers"
old_workers=$(lbd_workers | tr '\n' ' ')
victim=$(lbd_workers | head -n 1)
other=$(lbd_workers | tail -n 1)

bg "$CLIENT" hold "127.0.0.1:$lport" -n 20 -t 120 >"$T/hold.out" 2>&1
hold_pid=$BG_PID
wait_for 10000 grep -q '^held ' "$T/hold.out" || fail "hold did not open"
grep -q '^held 20 failed 0' "$T/hold.out" || { cat "$T/hold.out"; fail "could not hold 20"; }
# Accepted client sockets (sport = the listener) owned by the victim.
owned() {
	ss -Htnp state established "sport = :$lport" 2>/dev/null |
	    grep -c "pid=$1,"
}
wait_for 5000 eval '[ $(( $(owned "$victim") + $(owned "$other") )) -eq 20 ]' ||
	info "(ss sees $(owned "$victim") + $(owned "$other") of 20 held sockets)"
k=$(owned "$victim")
info "workers: $old_workers; victim $victim holds $k of the 20 held connections"

conns_logged() { grep -c ' conn ' "$LBD_LOG"; }
base=$(conns_logged)
bg "$CLIENT" who "127.0.0.1:$lport" -n 3000 -c 4 --timeout 5000 >"$T/loop.out" 2>&1
loop_pid=$BG_PID
wait_for 10000 eval '[ "$(conns_logged)" -ge $((base + 100)) ]' ||
	fail "the client loop does not get going"
kill -9 "$victim"
info "killed worker $victim after $(( $(conns_logged) - base )) loop connections"

new_worker() {
	local w
	for w in $(lbd_workers); do
		case " $old_workers " in *" $w "*) ;; *) NEW=$w; return 0 ;; esac
	done
	return 1
}
wait_for 10000 new_worker || fail "no new worker within 10 s"
info "master respawned worker $NEW"
pid_alive "$LBD_PID" || fail "master died"

wait_for 5000 eval '[ "$(grep -c "^peer_closed" "$T/hold.out")" -ge "$k" ]' ||
	fail "only $(grep -c '^peer_closed' "$T/hold.out") of the victim's $k held connections were closed"

wait_for 120000 pid_dead "$loop_pid" || fail "client loop did not finish"
wait "$loop_pid"
nfail=$(awk '$1 == "failed" { print $2 }' "$T/loop.out")
info "client loop: $(tr '\n' ' ' <"$T/loop.out")"
[ -n "$nfail" ] && [ "$nfail" -le 4 ] ||
	fail "$nfail loop connections failed, at most the 4 in flight may"

closed=$(grep -c '^peer_closed' "$T/hold.out")
info "held connections closed by the kill: $closed (victim had $k)"
[ "$closed" -eq "$k" ] || fail "held connections on the surviving worker were closed too"

"$CLIENT" who "127.0.0.1:$lport" -n 200 -c 2 >"$T/after.out" 2>&1 ||
	{ cat "$T/after.out"; fail "failures after the respawn"; }
info "after respawn: 200 connections, 0 failures"

LBCTL=$LB_BUILD/lbctl
if [ -x "$LBCTL" ] && command -v jq >/dev/null; then
	active_sum() {
		"$LBCTL" -s "$T/lbd.sock" --json servers p 2>/dev/null |
		    jq '[.[].active] | add'
	}
	want=$((20 - k))
	wait_for 5000 eval '[ "$(active_sum)" = "$want" ]' ||
		fail "shared table says $(active_sum) active, want $want (20 held - $k lost with the worker)"
	info "lbctl: $(active_sum) active after the kill (20 - $k)"
	kill_child TERM "$hold_pid"
	wait_for 5000 eval '[ "$(active_sum)" = 0 ]' ||
		fail "shared table says $(active_sum) active after every client left, want 0"
	info "lbctl: 0 active once the held client quit"
else
	info "lbctl or jq missing: active counts not checked"
fi
kill_child TERM "$hold_pid"
pass
