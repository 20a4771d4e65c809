#!/usr/bin/env bash
# t_health_lbctl.sh - the checker and the control socket:
#   - a server added at run time (lbctl add) is checked at once: one that
#     answers comes up, one that does not stays down and takes no client;
#   - a server in maintenance (lbctl disable) is not checked: its backend
#     dies and nothing changes, until it is enabled again;
#   - a reload keeps the health state of servers that stay and checks
#     the new ones;
#   - lbctl --json servers shows the state the checker wrote.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_lbctl
command -v jq >/dev/null || skip "jq missing"
LBCTL=$LB_BUILD/lbctl
[ -x "$LBCTL" ] || skip "$LBCTL not built"
export LBCTL_SOCKET=$T/lbd.sock

take_ports 6
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
start_backend c "127.0.0.1:${PORTS[3]}" echo
write_conf() {	# write_conf EXTRA_SERVER_LINE
	{
		conf_head 2
		cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; } $1 ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
	} >"$T/lbd.conf"
}
write_conf ""
start_lbd "$T/lbd.conf" "$lport"
hl_wait_log 3000 2 'server p/[ab] down -> up: first check passed' ||
	fail "servers did not come up"

state() {	# state SERVER: "up" / "down" as lbctl shows it
	"$LBCTL" --json servers p 2>/dev/null |
	    jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}
is_state() { [ "$(state "$1")" = "$2" ]; }

# Run-time add: c answers, d (nothing listens) does not.
"$LBCTL" add p/c "127.0.0.1:${PORTS[3]}" >/dev/null || fail "lbctl add c"
"$LBCTL" add p/d "127.0.0.1:${PORTS[4]}" >/dev/null || fail "lbctl add d"
hl_wait_log 3000 1 'server p/c down -> up: first check passed' ||
	fail "added server c not checked"
wait_for 3000 is_state c up || fail "lbctl shows c $(state c)"
is_state d down || fail "lbctl shows d $(state d), want down"
"$CLIENT" who "127.0.0.1:$lport" -n 30 >"$T/who.out" 2>&1 ||
	fail "clients failed: $(cat "$T/who.out")"
[ "$(count c "$T/who.out")" -eq 10 ] || fail "c should take a third"
last=$("$LBCTL" --json servers p | jq -r '.[] | select(.name == "d") | .last_check')
[ "$last" -gt 0 ] || fail "d was never checked"

# Maintenance: not checked.
"$LBCTL" disable p/a >/dev/null || fail "lbctl disable a"
hl_kill_backend a
# An observation window for an absence: b's checks run meanwhile, so
# wait for b to be checked 5 more times, then look at a.
b_last() { "$LBCTL" --json servers p | jq -r '.[] | select(.name == "b") | .last_check'; }
n=0 prev=$(b_last)
for i in $(seq 1 100); do
	cur=$(b_last)
	[ "$cur" != "$prev" ] && n=$((n + 1)) && prev=$cur
	[ "$n" -ge 5 ] && break
	sleep 0.05
done
[ "$n" -ge 5 ] || fail "b's checks stopped"
[ "$(hl_logn 'server p/a up -> down')" -eq 0 ] || fail "a in maint was checked"
"$LBCTL" enable p/a >/dev/null || fail "lbctl enable a"
hl_wait_log 3000 1 'server p/a up -> down: 2 checks failed: connect refused' ||
	fail "a not checked again after enable"

# Reload: a's down state is kept (no "first check" again), e is new.
start_backend e "127.0.0.1:${PORTS[5]}" echo
write_conf ", { name = \"e\"; address = \"127.0.0.1:${PORTS[5]}\"; }"
"$LBCTL" reload >/dev/null || fail "reload failed"
hl_wait_log 3000 1 'server p/e down -> up: first check passed' ||
	fail "new server e not checked after reload"
is_state a down || fail "a's state lost in the reload"
[ "$(hl_logn 'server p/b ')" -eq 1 ] || fail "b changed state in the reload"
pass
