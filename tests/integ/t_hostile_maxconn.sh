#!/usr/bin/env bash
# t_hostile_maxconn.sh - load beyond the global maxconn.
# maxconn = 50, 2 workers, an echo backend.  80 clients connect and stay
# (lbt-stall idle --read, which notices when lbd closes one):
#  - at no sample (taken every 50 ms while they connect and hold) do
#    lbd's connections to the backend (ss) or the table's active count
#    exceed 50;
#  - exactly 30 clients are closed by lbd, and the shared counter
#    maxconn_rejects (lbctl --json status; also in `lbctl status` text and
#    `lbctl metrics` as lb_maxconn_rejects_total) says 30;
#  - once the 50 leave, a new client is served within 1 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_maxconn
hostile_need

take_ports 2
lport=${PORTS[0]} pa=${PORTS[1]}
start_backend a "127.0.0.1:$pa" echo
{
	conf_head 2 50
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "a"; address = "127.0.0.1:$pa"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 eval '[ "$(lbd_workers | wc -l)" -eq 2 ]' || fail "2 workers did not start"

bg "$STALL" idle "127.0.0.1:$lport" -n 80 --read -t 60 >"$T/idle.out" 2>&1
IDLE=$BG_PID
max_be=0 max_act=0 samples=0
sample() {
	local b a
	b=$(lbd_conns_to "$pa") a=$(lbd_active)
	[ "$b" -gt "$max_be" ] && max_be=$b
	[ "$a" -gt "$max_act" ] && max_act=$a
	samples=$((samples + 1))
	grep -q '^closed 30$' "$T/idle.out" && [ "$b" -eq 50 ]
}
wait_for 20000 sample || fail "never reached 50 held and 30 closed: $(tail -n 2 "$T/idle.out"), backend conns $(lbd_conns_to "$pa")"
for i in $(seq 1 10); do sample; done	# 10 more looks while they hold
info "$samples samples: at most $max_be connections to the backend, active at most $max_act (maxconn 50)"
[ "$max_be" -le 50 ] && [ "$max_act" -le 50 ] || fail "more than 50 concurrent connections"
grep -q '^open 80 failed 0' "$T/idle.out" || fail "clients: $(head -n 1 "$T/idle.out")"
grep -q '^closed 31$' "$T/idle.out" && fail "more than 30 clients were closed"
rej=$(ctl --json status | jsum maxconn_rejects)
info "clients closed by lbd: 30; maxconn_rejects: $rej"
[ "$rej" -eq 30 ] || fail "maxconn_rejects is $rej, expected 30"
ctl status | grep -q '30 refused at maxconn 50' || fail "lbctl status does not show the rejects: $(ctl status)"
ctl metrics | grep -q '^lb_maxconn_rejects_total 30$' || fail "metrics: $(ctl metrics | grep maxconn)"
info "lbctl status: $(ctl status | grep connections:)"

kill_child TERM "$IDLE"
t0=$(now_ms)
wait_for 1000 "$CLIENT" who "127.0.0.1:$lport" -n 1 --timeout 500 >/dev/null 2>&1 ||
	fail "no service within 1 s of the overload ending"
t1=$(now_ms)
info "served again $((t1 - t0)) ms after the 50 left"
"$CLIENT" who "127.0.0.1:$lport" -n 50 >/dev/null 2>&1 || fail "50 sequential clients after recovery failed"
pass
