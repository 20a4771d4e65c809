#!/usr/bin/env bash
# t_bulk.sh - 64 MiB each way through lbd (client -> lbd -> echo backend
# -> lbd -> client) at the same time, checked byte for byte and by
# SHA-256 on both sides, and counted right in lbd's connection log line;
# then 4 such transfers of 8 MiB at once.
. "$(dirname "$0")/lib.sh"
lb_init t_bulk

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

"$CLIENT" bulk "127.0.0.1:$lport" -b 64M --timeout 10000 >"$T/bulk.out" 2>&1
rc=$?
sed 's/^/  bulk: /' "$T/bulk.out"
[ $rc -eq 0 ] || fail "64 MiB echo through lbd differs or stalled"
sent=$(awk '$1 == "sent" { print $3 }' "$T/bulk.out")
got=$(awk '$1 == "received" { print $3 }' "$T/bulk.out")
[ -n "$sent" ] && [ "$sent" = "$got" ] || fail "sha256 differ"
# The connection's log line counts the bytes: 64 MiB in, 64 MiB + "e\n" out.
wait_for 5000 grep -q 'bytes_in=67108864 ' "$LBD_LOG" ||
	fail "no log line with bytes_in=67108864: $(grep ' conn ' "$LBD_LOG" | tail -n 1)"
info "log: $(grep 'bytes_in=67108864 ' "$LBD_LOG" | head -n 1)"
grep 'bytes_in=67108864 ' "$LBD_LOG" | grep -q 'bytes_out=67108866 ' ||
	fail "bytes_out is not 67108866 (64 MiB echo + the name line)"

pids=""
for i in 1 2 3 4; do
	bg "$CLIENT" bulk "127.0.0.1:$lport" -b 8M --seed "$i" \
	    --timeout 10000 >"$T/par$i.out" 2>&1
	pids="$pids $BG_PID"
done
bad=0
for p in $pids; do
	wait "$p" || bad=$((bad + 1))
done
[ $bad -eq 0 ] || { cat "$T"/par*.out; fail "$bad of 4 parallel transfers failed"; }
info "4 parallel 8 MiB echoes: all equal"
pass
