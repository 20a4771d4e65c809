#!/usr/bin/env bash
# t_hostile_stuckclient.sh - clients that never read while the backend
# streams.
# The backend (lbt-stall stream) writes to every connection as fast as it
# is taken; 100 clients (lbt-stall idle) connect through lbd and never
# read.  (100, not 200: loopback's 64 KiB MSS autotunes lbd's send
# buffers to ~4 MiB each, so every stuck client parks ~9 MiB of kernel
# memory; 100 keep that under 1 GiB on a machine other tests share.)  Once every path is full (the backend's writes stop growing):
#  - lbd has stopped reading from the backend: bytes wait unread in
#    lbd's receive queues on the backend side (ss Recv-Q);
#  - lbd's RSS (VmRSS, master + workers) grew by less than 2 MiB from
#    before the 200 connections;
#  - lbd uses less than 5% of a core over 3 s (utime+stime from
#    /proc/PID/stat of master and workers): it waits, it does not spin.
# Then the clients go away and the active counts return to 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_stuckclient
hostile_need

n=100
take_ports 4
lport=${PORTS[0]} pb=${PORTS[1]} wport=${PORTS[2]} pe=${PORTS[3]}
start_backend e "127.0.0.1:$pe" echo
bg "$STALL" stream --listen "127.0.0.1:$pb" --sndbuf 65536 --max-time 100 >"$T/be.out" 2>&1
BE=$BG_PID
wait_for 5000 grep -q '^ready' "$T/be.out" || fail "stream backend did not start"
{
	conf_head 2 1000
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "s"; address = "127.0.0.1:$pb"; } ); },
	  { name = "w"; servers = ( { name = "e"; address = "127.0.0.1:$pe"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; },
	      { name = "w"; bind = "127.0.0.1:$wport"; pool = "w"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 eval '[ "$(lbd_workers | wc -l)" -eq 2 ]' || fail "2 workers did not start"
"$CLIENT" bulk "127.0.0.1:$wport" -b 4194304 -q >/dev/null 2>&1 ||
	fail "warm-up through the echo pool failed"
rss0=$(lbd_rss_kb)

bg "$STALL" idle "127.0.0.1:$lport" -n $n --rcvbuf 16384 -t 80 >"$T/idle.out" 2>&1
IDLE=$BG_PID
wait_for 20000 grep -q '^open ' "$T/idle.out" || fail "clients did not connect"
grep -q "^open $n failed 0" "$T/idle.out" || fail "$(cat "$T/idle.out")"

# written: the backend's running total (it answers SIGUSR1).
seen=0
more_written() { [ "$(grep -c '^written' "$T/be.out")" -gt "$seen" ]; }
written() {
	seen=$1
	kill -USR1 "$BE"
	wait_for 2000 more_written || return 1
	grep '^written' "$T/be.out" | tail -n 1 | awk '{ print $2 }'
}
# full: the backend wrote nothing new between two looks 500 ms apart.
k=0 prev=-1
full() {
	local w
	w=$(written $k) || return 1
	k=$((k + 1))
	[ "$w" = "$prev" ] && return 0
	prev=$w
	sleep 0.5	# the interval between two looks, not a wait for a state
	return 1
}
wait_for 30000 full || fail "the backend never stopped writing"
unread=$(ss -Htn state established "dport = :$pb" | awk '{ s += $1 } END { print s + 0 }')
info "paths full: backend wrote $prev bytes; $unread wait unread in lbd's backend-side receive queues"
[ "$unread" -gt 0 ] || fail "lbd's backend sockets hold no unread bytes: is it still reading?"
rss1=$(lbd_rss_kb)
info "RSS master+workers: $rss0 KiB before, $rss1 KiB with $n stuck clients (+$((rss1 - rss0)) KiB)"
rss_bound "RSS (master + workers)" $((rss1 - rss0)) 2048
cpu=$(cpu_percent 3)
info "lbd CPU over 3 s with $n stuck clients: ${cpu}% of a core"
[ "$cpu" -lt 5 ] || fail "lbd used ${cpu}% CPU while waiting (bound 5%)"

kill_child TERM "$IDLE"
wait_for 10000 eval '[ "$(lbd_active)" -eq 0 ] && [ "$(lbd_server_active)" -eq 0 ]' ||
	fail "active counts did not return to 0: $(lbd_active) / $(lbd_server_active)"
info "clients gone: active counts back to 0"
pass
