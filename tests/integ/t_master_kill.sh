#!/usr/bin/env bash
# t_master_kill.sh - if the master dies (kill -9), its workers do not
# live on as orphans serving a config nobody supervises: all of them exit
# within a few seconds (polled, 5 s bound) and the port is free again.
. "$(dirname "$0")/lib.sh"
lb_init t_master_kill

take_ports 2
lport=${PORTS[0]}
start_backend e "127.0.0.1:${PORTS[1]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "e"; address = "127.0.0.1:${PORTS[1]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
"$CLIENT" who "127.0.0.1:$lport" -n 10 >/dev/null || fail "no service before the kill"
workers=$(lbd_workers | tr '\n' ' ')
LBD_WORKERS_SEEN="$LBD_WORKERS_SEEN $workers"	# cleanup kills leftovers
info "master $LBD_PID, workers $workers"

t0=$(now_ms)
kill_child KILL "$LBD_PID"
all_gone() {
	local w
	for w in $workers; do pid_alive "$w" && return 1; done
	return 0
}
wait_for 5000 all_gone || fail "workers still running 5 s after the master died: $(for w in $workers; do pid_alive "$w" && echo "$w"; done)"
info "all workers gone $(( $(now_ms) - t0 )) ms after kill -9 of the master"
wait_for 5000 port_free "$lport" || fail "port $lport still listening"
info "port $lport free"
LBD_PID=""
pass
