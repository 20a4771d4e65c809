#!/usr/bin/env bash
# t_flowcontrol.sh - lbd respects back-pressure: behind a backend that
# never reads ("hold"), a client that only writes must stall once the
# kernel buffers on the path are full (bounded at 64 MiB here, far above
# what loopback socket buffers and a splice pipe hold, far below the
# 256 MiB it tries to send).  With 8 such stalled connections open, the
# workers' resident memory grows by less than 32 MiB (bytes wait in
# kernel buffers, not in lbd) and other clients are still served.
. "$(dirname "$0")/lib.sh"
lb_init t_flowcontrol

take_ports 4
lport=${PORTS[0]} lecho=${PORTS[1]}
start_backend h "127.0.0.1:${PORTS[2]}" hold
start_backend e "127.0.0.1:${PORTS[3]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "h"; address = "127.0.0.1:${PORTS[2]}"; } ); },
	  { name = "pe"; servers = ( { name = "e"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; },
	      { name = "le"; bind = "127.0.0.1:$lecho"; pool = "pe"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
wait_for 5000 port_listening "$lecho" || fail "second listener not up"

rss_kb() {	# sum of VmRSS of the workers, in KiB
	local w s=0 v
	for w in $(lbd_workers); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$w/status" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

"$CLIENT" push "127.0.0.1:$lport" -b 256M --timeout 1000 >"$T/push.out" 2>&1 ||
	{ cat "$T/push.out"; fail "the client was never stalled: lbd does not apply back-pressure"; }
n=$(awk '$1 == "stalled_after" { print $2 }' "$T/push.out")
info "one writer stalled after $((n / 1024)) KiB"
[ "$n" -le $((64 << 20)) ] || fail "stalled only after $n bytes (> 64 MiB)"

before=$(rss_kb)
pids=""
for i in 1 2 3 4 5 6 7 8; do
	bg "$CLIENT" push "127.0.0.1:$lport" -b 256M --timeout 1000 \
	    --wait-file "$T/release" >"$T/push$i.out" 2>&1
	pids="$pids $BG_PID"
done
all_stalled() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		grep -Eq '^(stalled_after|sent_all|FAIL)' "$T/push$i.out" || return 1
	done
}
wait_for 60000 all_stalled || fail "writers did not stall within 60 s"
grep -q '^sent_all' "$T"/push*.out && fail "a writer was never stalled"
after=$(rss_kb)
info "8 stalled writers: worker RSS ${before} KiB -> ${after} KiB"
[ $((after - before)) -lt $((32 << 10)) ] ||
	fail "worker memory grew by $((after - before)) KiB with 8 stalled writers"

"$CLIENT" who "127.0.0.1:$lecho" -n 50 -c 2 >"$T/who.out" 2>&1 ||
	{ cat "$T/who.out"; fail "other clients not served while writers are stalled"; }
"$CLIENT" bulk "127.0.0.1:$lecho" -b 4M >"$T/bulk.out" 2>&1 ||
	{ cat "$T/bulk.out"; fail "echo failed while writers are stalled"; }
info "meanwhile 50 connections and a 4 MiB echo on another listener: ok"
touch "$T/release"
for p in $pids; do wait_for 10000 pid_dead "$p" || fail "writer $p did not end"; done
pass
