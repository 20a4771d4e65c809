#!/usr/bin/env bash
# t_hostile_fds.sh - file descriptor exhaustion.
#  1. Start-up: with RLIMIT_NOFILE lowered (prlimit 1024) below what one
#     worker needs for maxconn = 1000, lbd refuses to start: exit 1, a
#     message naming the limit and the largest maxconn that fits, nothing
#     bound.
#  2. Run time: 1 worker; its limit is cut to 40 fds while it runs
#     (prlimit --pid), then 60 clients connect and stay.  The worker runs
#     into EMFILE.  What lbd does there: a client it accepted but cannot
#     open a server socket for is closed at once (end=local_error); when
#     accept4 itself fails, accepting pauses 100 ms ("accept paused")
#     with the clients left in the kernel's queue.  Either way it does not
#     crash (same pid), every client is either served or closed (none
#     hangs), and it does not spin (lbd < 5% of a core over 2 s).  With
#     the limit raised again new clients are served, and when all leave
#     the counts are 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_fds
hostile_need
command -v prlimit >/dev/null || skip "prlimit (util-linux) missing"

take_ports 2
lport=${PORTS[0]} pa=${PORTS[1]}
start_backend a "127.0.0.1:$pa" echo
conf() {	# conf WORKERS MAXCONN
	conf_head "$1" "$2"
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "a"; address = "127.0.0.1:$pa"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
}
conf 1 1000 >"$T/big.conf"
prlimit --nofile=1024:1024 timeout 10 "$LBD" -d -f "$T/big.conf" >"$T/big.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc with RLIMIT_NOFILE 1024 and maxconn 1000: $(cat "$T/big.out")"
grep -q 'RLIMIT_NOFILE is 1024: set maxconn to 416 or less' "$T/big.out" ||
	fail "unclear message: $(cat "$T/big.out")"
port_listening "$lport" && fail "port $lport bound by the refused start"
info "refused: $(grep -o 'maxconn 1000 needs.*' "$T/big.out" | head -n 1)"

conf 1 100 >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
w=$(lbd_workers)
[ "$(echo "$w" | wc -l)" -eq 1 ] || fail "expected 1 worker"
# Only the soft limit: raising a hard limit back needs CAP_SYS_RESOURCE.
hard=$(prlimit --pid "$w" --nofile --noheadings --output HARD | tr -d ' ')
prlimit --pid "$w" --nofile=40: || fail "prlimit --pid $w failed"
info "worker $w: $(ls /proc/$w/fd | wc -l) fds open, soft limit now 40"
bg "$STALL" idle "127.0.0.1:$lport" -n 60 --read -t 60 >"$T/idle.out" 2>&1
IDLE=$BG_PID
wait_for 10000 grep -q '^open ' "$T/idle.out" || fail "clients did not connect"
settled() {
	local c
	c=$(grep '^closed ' "$T/idle.out" | tail -n 1 | awk '{ print $2 }')
	[ $(( ${c:-0} + $(lbd_conns_to "$pa") )) -eq 60 ]
}
wait_for 10000 settled || fail "clients neither served nor closed: $(tail -n 1 "$T/idle.out"), $(lbd_conns_to "$pa") served"
served=$(lbd_conns_to "$pa")
nlocal=$(grep -c 'end=local_error' "$LBD_LOG")
npaused=$(grep -c 'accept paused' "$LBD_LOG")
info "at the limit: $served clients served, $((60 - served)) closed; log: $nlocal end=local_error, $npaused 'accept paused'"
[ $((nlocal + npaused)) -gt 0 ] || fail "the worker never ran into its limit"
[ "$served" -lt 60 ] || fail "all 60 served within 40 fds?"
info "worker $w holds $(ls /proc/$w/fd | wc -l) fds (limit 40)"
cpu=$(cpu_percent 2)
info "lbd CPU over 2 s at the fd limit: ${cpu}%"
[ "$cpu" -lt 5 ] || fail "lbd used ${cpu}% CPU at EMFILE (bound 5%): spinning"
pid_alive "$w" || fail "the worker died at EMFILE"
[ "$(lbd_workers)" = "$w" ] || fail "the worker was replaced"

# Now no fd left at all: the limit at the worker's lowest free fd number.
# A new client then fails accept4 itself (EMFILE): accepting pauses and
# the client waits in the kernel's queue instead of being closed.
lowfree=$(ls "/proc/$w/fd" | sort -n | awk 'BEGIN { n = 0 } $1 == n { n++ } END { print n }')
prlimit --pid "$w" --nofile="$lowfree": || fail "prlimit --pid $w failed"
bg "$STALL" idle "127.0.0.1:$lport" -n 5 --read -t 60 >"$T/idle2.out" 2>&1
IDLE2=$BG_PID
wait_for 10000 grep -q 'accept paused' "$LBD_LOG" || fail "no 'accept paused' in the log with no fd left"
info "no fd left (limit $lowfree): $(grep -m1 -o 'worker.*accept paused.*' "$LBD_LOG")"
cpu=$(cpu_percent 2)
info "lbd CPU over 2 s with accepting paused and 5 clients queued: ${cpu}%"
[ "$cpu" -lt 5 ] || fail "lbd used ${cpu}% CPU with accepting paused (bound 5%)"
grep -q '^closed [1-9]' "$T/idle2.out" && fail "a queued client was closed while accepting was paused"
pid_alive "$w" || fail "the worker died at EMFILE"

prlimit --pid "$w" --nofile="$hard": || fail "could not raise the limit again"
wait_for 5000 eval '[ "$(lbd_conns_to "$pa")" -eq $((served + 5)) ]' ||
	fail "the 5 queued clients were not taken once fds were back: $(lbd_conns_to "$pa") served"
info "limit raised: accepting resumed, the 5 queued clients served"
"$CLIENT" who "127.0.0.1:$lport" -n 20 >/dev/null 2>&1 || fail "new clients not served after recovery"
kill_child TERM "$IDLE"
kill_child TERM "$IDLE2"
wait_for 5000 eval '[ "$(lbd_active)" -eq 0 ] && [ "$(lbd_server_active)" -eq 0 ]' ||
	fail "counts not 0 after recovery: $(lbd_active) / $(lbd_server_active)"
[ "$(lbd_workers)" = "$w" ] || fail "the worker was replaced"
info "recovered: same worker $w, new clients served, counts 0"
pass
