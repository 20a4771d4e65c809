#!/usr/bin/env bash
# t_hostile_ctl.sh - the control socket under a storm (t_lbctl_hostile.sh
# covers single bad requests; this one is about volume and bounds).
#  1. A wrong uid is refused by lbd itself: with the socket opened to
#     everyone (0666), `nobody` connects and gets an error, and nothing
#     changes (the server stays ready).
#  2. 100,000 seeded requests (lbt-ctlstorm): half valid commands (text
#     and json), the rest garbage, control characters, oversized lines
#     and half-written commands dropped mid-way.  Every answer is framed
#     right: OK with a well-formed body for a valid command, ERR for a
#     bad line, never OK for an oversized one.
#  3. Afterwards lbd is up, its master's RSS grew by less than 2 MiB,
#     `lbctl --json status` names the master's pid and 2 live workers,
#     and traffic flows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_ctl
hostile_need
STORM=$LB_BUILD/tests/tools/lbt-ctlstorm
[ -x "$STORM" ] || skip "$STORM not built"
N=${LB_CTLSTORM_N:-100000}

take_ports 2
lport=${PORTS[0]} pa=${PORTS[1]}
start_backend a "127.0.0.1:$pa" echo
{
	conf_head 2 1000
	cat <<EOF2
pools = ( { name = "web"; servers = ( { name = "a"; address = "127.0.0.1:$pa"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "web"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 ctl health >/dev/null || fail "lbd never healthy"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	chmod 0711 "$T"
	chmod 0666 "$T/lbd.sock"
	out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- \
	    "$LBCTL" -s "$T/lbd.sock" -t 5 drain web/a 2>&1)
	rc=$?
	chmod 0660 "$T/lbd.sock"
	chmod 0700 "$T"
	[ "$rc" -ne 0 ] || fail "nobody could drain a server: $out"
	ctl --json servers | grep -q '"admin": *"ready"' ||
		fail "the server is not ready any more after nobody's drain"
	info "uid $(id -u nobody) refused by lbd (exit $rc: $out)"
else
	info "wrong-uid check skipped (needs root, nobody and setpriv)"
fi

rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LBD_PID/status")
t0=$(now_ms)
"$STORM" "$T/lbd.sock" -n "$N" --seed 8 >"$T/storm.out" 2>"$T/storm.err" ||
	{ head -n 5 "$T/storm.err"; fail "storm: $(cat "$T/storm.out")"; }
t1=$(now_ms)
info "storm in $((t1 - t0)) ms: $(cat "$T/storm.out")"
pid_alive "$LBD_PID" || fail "lbd died in the storm"
rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LBD_PID/status")
info "master RSS $rss0 KiB before, $rss1 KiB after (+$((rss1 - rss0)) KiB)"
rss_bound "master RSS" $((rss1 - rss0)) 2048
st=$(ctl --json status) || fail "lbctl status failed after the storm"
echo "$st" | grep -q "\"pid\": *$LBD_PID[,}]" || fail "status names another pid: $st"
echo "$st" | grep -q '"workers_alive": *2[,}]' || fail "status: not 2 workers alive: $st"
"$CLIENT" who "127.0.0.1:$lport" -n 10 >/dev/null 2>&1 || fail "no traffic after the storm"
info "after the storm: status correct (pid $LBD_PID, 2 workers), traffic flows"
pass
