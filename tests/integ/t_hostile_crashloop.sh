#!/usr/bin/env bash
# t_hostile_crashloop.sh - workers in a crash loop, then the master killed.
#  1. 16 workers; every worker is killed (SIGKILL) as soon as it appears,
#     until 100 kills.  The master stays up and answers lbctl throughout;
#     the back-off it logs for each worker position doubles from 100 ms
#     (100, 200, 400 ...; capped at 10 s) since each one died young.
#  2. The loop stops: every position is filled again, the shared counts
#     are 0 (dead workers' shares subtracted) and traffic flows.
#  3. kill -9 of the master: no worker outlives it by more than 1 s
#     (PR_SET_PDEATHSIG), and the port is free again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_crashloop
hostile_need

W=16 KILLS=100
take_ports 2
lport=${PORTS[0]} pa=${PORTS[1]}
start_backend a "127.0.0.1:$pa" echo
{
	conf_head $W 100
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "a"; address = "127.0.0.1:$pa"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 10000 eval '[ "$(lbd_workers | wc -l)" -eq $W ]' || fail "$W workers did not start"

kills=0 killed=" " ctl_ok=0 ctl_n=0
kill_round() {
	local w
	for w in $(lbd_workers); do
		case $killed in *" $w "*) continue ;; esac
		[ "$kills" -ge "$KILLS" ] && break
		kill -9 "$w" 2>/dev/null && kills=$((kills + 1)) && killed="$killed$w "
	done
	pid_alive "$LBD_PID" || fail "the master died after $kills kills"
	if [ $((kills % 10)) -eq 0 ]; then
		ctl_n=$((ctl_n + 1))
		ctl status >/dev/null 2>&1 && ctl_ok=$((ctl_ok + 1))
	fi
	[ "$kills" -ge "$KILLS" ]
}
t0=$(now_ms)
wait_for 60000 kill_round || fail "only $kills kills in 60 s"
info "$kills workers killed in $(( $(now_ms) - t0 )) ms; master up; lbctl answered $ctl_ok of $ctl_n times"
[ "$ctl_ok" -eq "$ctl_n" ] || fail "lbctl failed during the crash loop"

# The back-off per position, in the order logged.
for i in $(seq 0 $((W - 1))); do
	seq=$(grep -o "worker $i pid [0-9]* killed by signal 9 after [0-9]* ms; respawning in [0-9]* ms" "$LBD_LOG" |
	    awk '{ print $(NF - 1) }' | tr '\n' ' ')
	want=100 ok=1
	for b in $seq; do
		[ "$b" -eq "$want" ] || ok=0
		want=$((want * 2)); [ "$want" -gt 10000 ] && want=10000
	done
	[ "$ok" -eq 1 ] || fail "worker $i back-off is not doubling from 100: $seq"
	[ "$i" -lt 3 ] && info "worker $i back-off (ms): $seq"
done
max=$(grep -o 'respawning in [0-9]* ms' "$LBD_LOG" | awk '{ print $3 }' | sort -n | tail -n 1)
info "every position doubles from 100 ms; the longest back-off was $max ms"

wait_for 15000 eval '[ "$(lbd_workers | wc -l)" -eq $W ]' || fail "positions not refilled: $(lbd_workers | wc -l)"
wait_for 5000 eval '[ "$(lbd_active)" -eq 0 ]' || fail "active count $(lbd_active) after the crash loop"
"$CLIENT" who "127.0.0.1:$lport" -n 20 >/dev/null 2>&1 || fail "no traffic after the crash loop"
info "after the loop: $W workers, active 0, traffic flows"

ws=$(lbd_workers | tr '\n' ' ')
t0=$(now_ms)
kill_child KILL "$LBD_PID"	# reaps it too: no shell notice
all_dead() {
	local w
	for w in $ws; do pid_alive "$w" && return 1; done
	return 0
}
wait_for 1000 all_dead || fail "workers alive 1 s after the master's kill -9: $(for w in $ws; do pid_alive "$w" && echo "$w"; done | tr '\n' ' ')"
info "master killed -9: all $W workers gone within $(( $(now_ms) - t0 )) ms"
LBD_PID=""
wait_for 2000 port_free "$lport" || fail "port $lport still listening"
pass
