#!/usr/bin/env bash
# t_hostile_chaos.sh - connection counts under churn.
# 10,000 seeded random actions (lbt-chaos, seed 8: open, send, close,
# half-close, reset; up to 200 open at once) through lbd with 2 workers
# and 2 echo backends.  Every 500 actions the churn stops and the counts
# are compared until they agree (bounded, 5 s):
#   - the table's total (lbctl --json status, active),
#   - the sum over servers (lbctl --json servers, active),
#   - the kernel's view: sockets to each backend owned by an lbd process
#     (ss -p; orphaned sockets lbd already closed do not count), per
#     server.
# At the end every active count is 0 and lbd owns no backend socket.
# LB_CHAOS_SEED picks another (reproducible) sequence.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_chaos
hostile_need
CHAOS=$LB_BUILD/tests/tools/lbt-chaos
[ -x "$CHAOS" ] || skip "$CHAOS not built"
[ "$(id -u)" -eq 0 ] || skip "needs root (ss -p on lbd's sockets)"
seed=${LB_CHAOS_SEED:-8}

take_ports 3
lport=${PORTS[0]} pa=${PORTS[1]} pb=${PORTS[2]}
start_backend a "127.0.0.1:$pa" echo
start_backend b "127.0.0.1:$pb" echo
{
	conf_head 2 1000
	cat <<EOF2
pools = ( { name = "p"; algorithm = "leastconn";
	servers = ( { name = "a"; address = "127.0.0.1:$pa"; },
		    { name = "b"; address = "127.0.0.1:$pb"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 eval '[ "$(lbd_workers | wc -l)" -eq 2 ]' || fail "2 workers did not start"

# Sockets to backend port $1 held by an lbd process (any TCP state).
owned_to() { ss -Htanp "dport = :$1" 2>/dev/null | grep -c '"lbd"'; }
srv_active() {	# srv_active NAME
	ctl --json servers p | tr '{' '\n' | grep "\"name\": *\"$1\"" | jsum active
}
last=""
agree() {
	local st sa sb oa ob
	st=$(lbd_active) sa=$(srv_active a) sb=$(srv_active b)
	oa=$(owned_to "$pa") ob=$(owned_to "$pb")
	last="table $st, servers a=$sa b=$sb, ss a=$oa b=$ob"
	[ "$st" -eq $((sa + sb)) ] && [ "$sa" -eq "$oa" ] && [ "$sb" -eq "$ob" ]
}

coproc CH { "$CHAOS" "127.0.0.1:$lport" --actions 10000 --seed "$seed" --max-open 200 --sample-every 500 2>&1; }
CHPID=$CH_PID
LB_PIDS="$LB_PIDS $CHPID"
samples=0 maxopen=0
while read -t 60 -r -u "${CH[0]}" line; do
	case $line in
	sample*)
		set -- $line
		wait_for 5000 agree || fail "sample $2 (after $4 actions, $6 open): counts disagree: $last"
		samples=$((samples + 1))
		[ "$6" -gt "$maxopen" ] && maxopen=$6
		[ $((samples % 5)) -eq 0 ] && info "sample $2 after $4 actions ($6 open): $last"
		echo go >&"${CH[1]}"
		;;
	end*)
		info "chaos: $line"
		break
		;;
	*)
		fail "lbt-chaos: $line"
		;;
	esac
done
case ${line:-} in end*) ;; *) fail "lbt-chaos stopped early" ;; esac
wait_for 10000 eval '[ "$(lbd_active)" -eq 0 ] && agree' ||
	fail "after the churn: $last"
echo go >&"${CH[1]}"
info "$samples samples (up to $maxopen open) all agreed; at the end: $last"
pass
