#!/usr/bin/env bash
# t_health_flap.sh - flap damping: backend b is killed and restarted
# every 0.5 s for 20 s while checks run every 200 ms (rise 2, fall 2).
# After flap_limit (4) changes in the window, b must pass twice as many
# checks (4, i.e. about 800 ms of answers) before it is re-admitted, which
# a 0.5 s up phase never gives: it is held out for the rest of the run
# (no "down -> up" in the second half), the log says it is flapping, and
# once b stays up it comes back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_flap

take_ports 3
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2;
		   flap_limit = 4; flap_window = "30s"; observe_errors = 0; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
hl_wait_log 3000 2 'server p/[ab] down -> up: first check passed' ||
	fail "servers did not come up"

# The stimulus: b toggles every 0.5 s (the period is the point here).
up=1
for i in $(seq 1 40); do
	if [ "$up" = 1 ]; then
		hl_kill_backend b
		up=0
	else
		start_backend b "127.0.0.1:${PORTS[2]}" echo
		up=1
	fi
	[ "$i" = 20 ] && mid=$(hl_logn 'server p/b ')
	sleep 0.5
done
end=$(hl_logn 'server p/b ')
info "b: $mid state changes in the first 10 s, $end in 20 s (40 toggles)"
[ "$end" -le 8 ] || fail "$end state changes: not damped"
[ "$(hl_logn 'server p/b .*flapping')" -ge 1 ] ||
	fail "no 'flapping' in the log"
[ "$end" = "$mid" ] || fail "b changed state in the second half"

[ "$up" = 1 ] || start_backend b "127.0.0.1:${PORTS[2]}" echo
hl_wait_log 5000 1 'server p/b down -> up: 4 checks passed' ||
	fail "b not re-admitted after 4 passed checks once stable"
"$CLIENT" who "127.0.0.1:$lport" -n 20 >"$T/who.out" 2>&1 ||
	fail "clients failed: $(cat "$T/who.out")"
[ "$(count b "$T/who.out")" -eq 10 ] || fail "b takes no traffic once back"
pass
