#!/usr/bin/env bash
# t_sigterm.sh - SIGTERM is a graceful drain.  A client is connected (it
# has its backend's name) but has not sent anything yet.  SIGTERM the
# master: new connections are refused soon after (polled, 5 s bound);
# the held connection still carries data (16 MiB echoed and checked by
# SHA-256); once it closes, lbd exits with status 0 well before
# timeouts.drain (20 s), and no lbd process (master or worker) is left.
. "$(dirname "$0")/lib.sh"
lb_init t_sigterm

take_ports 2
lport=${PORTS[0]}
start_backend e "127.0.0.1:${PORTS[1]}" echo
{
	conf_head 2 1000 3s 5m 20s
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "e"; address = "127.0.0.1:${PORTS[1]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
workers=$(lbd_workers | tr '\n' ' ')

bg "$CLIENT" bulk "127.0.0.1:$lport" -b 16M --wait-file "$T/go" \
    --max-time 60 >"$T/bulk.out" 2>&1
bulk_pid=$BG_PID
wait_for 10000 grep -q '^connected' "$T/bulk.out" || fail "bulk client not connected"

t0=$(now_ms)
kill -TERM "$LBD_PID"
refused() {
	"$CLIENT" who "127.0.0.1:$lport" -n 1 --timeout 1000 >"$T/probe.out" 2>&1
	grep -q 'connect=1' "$T/probe.out"
}
wait_for 5000 refused ||
	fail "new connections still not refused 5 s after SIGTERM ($(tail -n 1 "$T/probe.out"))"
info "new connections refused $(( $(now_ms) - t0 )) ms after SIGTERM"
pid_alive "$LBD_PID" || fail "lbd exited with a connection still open"

touch "$T/go"
wait_for 60000 pid_dead "$bulk_pid" || fail "bulk transfer did not finish"
wait "$bulk_pid" || { cat "$T/bulk.out"; fail "the held connection did not carry 16 MiB during the drain"; }
info "during drain: $(grep -E '^(sent|received)' "$T/bulk.out" | tr '\n' ' ')"

wait_for 15000 pid_dead "$LBD_PID" || fail "lbd still running 15 s after its last connection closed"
wait "$LBD_PID"
rc=$?
info "lbd exited with $rc, $(( $(now_ms) - t0 )) ms after SIGTERM"
[ $rc -eq 0 ] || fail "lbd exit status $rc after SIGTERM, want 0"
for w in $workers; do
	wait_for 5000 pid_dead "$w" || fail "worker $w still running"
done
pgrep -f "lbd -d -f $T/lbd.conf" >/dev/null && fail "an lbd process of this test remains"
LBD_PID=""
pass
