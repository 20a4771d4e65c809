#!/usr/bin/env bash
# t_hostile_stuckbackend.sh - a backend accepts and never reads while
# clients send.
# Two backends (lbt-stall gate) hold every connection unread until a file
# appears; each behind its own listener:
#  - A: 200 clients send 256 KiB each (50 MiB in all).  Loopback socket
#    buffers (autotuned to MBs) swallow 256 KiB per connection, so these
#    clients finish writing; the point here is lbd's memory: its RSS
#    (VmRSS summed over master and workers) grows by less than 2 MiB
#    from before the connections to when all are stuck;
#  - B: 4 clients send 16 MiB each, more than the kernel buffers on the
#    way: they stall, and the bytes wait unread in lbd's receive queues
#    (ss Recv-Q on lbd's side > 0): lbd has stopped reading from them;
#  - once the file appears both backends read: A's 50 MiB and B's 64 MiB
#    all arrive, byte for byte as sent (the pattern stream), every
#    connection ends cleanly, and the active counts return to 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_stuckbackend
hostile_need

n=200 per=262144
nb=4 perb=16777216
take_ports 6
lport=${PORTS[0]} pb=${PORTS[1]} wport=${PORTS[2]} pe=${PORTS[3]}
mport=${PORTS[4]} pq=${PORTS[5]}
start_backend e "127.0.0.1:$pe" echo
bg "$STALL" gate --listen "127.0.0.1:$pb" --gate "$T/gate" --conns $n --max-time 100 >"$T/be.out" 2>&1
bg "$STALL" gate --listen "127.0.0.1:$pq" --gate "$T/gate" --conns $nb --max-time 100 >"$T/beq.out" 2>&1
wait_for 5000 grep -q '^ready' "$T/be.out" || fail "gate backend A did not start"
wait_for 5000 grep -q '^ready' "$T/beq.out" || fail "gate backend B did not start"
{
	conf_head 2 1000
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "g"; address = "127.0.0.1:$pb"; } ); },
	  { name = "q"; servers = ( { name = "h"; address = "127.0.0.1:$pq"; } ); },
	  { name = "w"; servers = ( { name = "e"; address = "127.0.0.1:$pe"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; },
	      { name = "m"; bind = "127.0.0.1:$mport"; pool = "q"; },
	      { name = "w"; bind = "127.0.0.1:$wport"; pool = "w"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 eval '[ "$(lbd_workers | wc -l)" -eq 2 ]' || fail "2 workers did not start"
# Warm up (libevent, pipe pools) through an echo pool, so the baseline is
# not a cold start; the gate backend sees nothing before the test.
"$CLIENT" bulk "127.0.0.1:$wport" -b 4194304 -q >/dev/null 2>&1 ||
	fail "warm-up through the echo pool failed"
rss0=$(lbd_rss_kb)

bg "$STALL" send "127.0.0.1:$lport" -n $n -b $per --max-time 90 >"$T/send.out" 2>&1
bg "$STALL" send "127.0.0.1:$mport" -n $nb -b $perb --max-time 90 >"$T/sendb.out" 2>&1
total=$((n * per)) totalb=$((nb * perb))
wait_for 30000 grep -q '^sent_all' "$T/send.out" ||
	fail "A: 200 x 256 KiB did not fit the kernel buffers: $(cat "$T/send.out")"
wait_for 30000 grep -q '^stalled' "$T/sendb.out" || fail "B: the clients never stalled: $(cat "$T/sendb.out")"
wait_for 5000 eval '[ "$(lbd_active)" -eq $((n + nb)) ]' ||
	fail "active $(lbd_active), expected $((n + nb))"
sent=$(awk '$1 == "stalled" { print $3; exit }' "$T/sendb.out")
[ "$sent" -lt "$totalb" ] || fail "B: all $totalb bytes were taken with the backend not reading"
unread=$(ss -Htn state established "sport = :$mport" | awk '{ s += $1 } END { print s + 0 }')
info "B stalled: clients sent $sent of $totalb bytes; $unread bytes wait unread in lbd's receive queues"
[ "$unread" -gt 0 ] || fail "lbd's client sockets hold no unread bytes: is it still reading?"
rss1=$(lbd_rss_kb)
info "RSS master+workers: $rss0 KiB before, $rss1 KiB with $((n + nb)) stuck connections (+$((rss1 - rss0)) KiB)"
rss_bound "RSS (master + workers)" $((rss1 - rss0)) 2048

touch "$T/gate"
for b in be beq; do
	wait_for 60000 grep -q '^done ' "$T/$b.out" ||
		fail "backend $b did not get every connection to EOF: $(tail -n 2 "$T/$b.out")"
done
info "A after the gate opened: $(grep '^done ' "$T/be.out")"
info "B after the gate opened: $(grep '^done ' "$T/beq.out")"
grep -qx "done eof $n bytes $total bad 0" "$T/be.out" ||
	fail "A: expected $total intact bytes over $n connections"
grep -qx "done eof $nb bytes $totalb bad 0" "$T/beq.out" ||
	fail "B: expected $totalb intact bytes over $nb connections"
for f in send sendb; do
	wait_for 20000 grep -q '^done ' "$T/$f.out" || fail "clients did not finish: $(tail -n 2 "$T/$f.out")"
done
wait_for 5000 eval '[ "$(lbd_active)" -eq 0 ] && [ "$(lbd_server_active)" -eq 0 ]' ||
	fail "active counts did not return to 0: $(lbd_active) / $(lbd_server_active)"
info "active counts back to 0"
pass
