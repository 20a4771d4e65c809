#!/usr/bin/env bash
# t_roundrobin.sh - round robin is one global sequence across workers:
# 3 echo backends, 2 workers, 3000 sequential connections must land
# exactly 1000 on each (+-1, for where the shared sequence started).
. "$(dirname "$0")/lib.sh"
lb_init t_roundrobin

take_ports 4
lport=${PORTS[0]}
for i in 1 2 3; do
	start_backend "s$i" "127.0.0.1:${PORTS[$i]}" echo
done
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	servers = ( { name = "s1"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "s2"; address = "127.0.0.1:${PORTS[2]}"; },
		    { name = "s3"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

"$CLIENT" who "127.0.0.1:$lport" -n 3000 -c 1 >"$T/who.out" 2>&1 ||
	{ cat "$T/who.out"; fail "client failures over 3000 connections"; }
sed 's/^/  who: /' "$T/who.out"
for s in s1 s2 s3; do
	c=$(count "$s" "$T/who.out")
	[ "$c" -ge 999 ] && [ "$c" -le 1001 ] ||
		fail "$s answered $c times, want 1000 +-1"
done
info "3000 connections: s1=$(count s1 "$T/who.out") s2=$(count s2 "$T/who.out") s3=$(count s3 "$T/who.out")"
pass
