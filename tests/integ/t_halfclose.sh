#!/usr/bin/env bash
# t_halfclose.sh - a half-close crosses lbd in both directions.
#  1. client shuts first: the client sends 4 MiB then shuts its write
#     side; it must still get the whole 4 MiB echo and then EOF.
#  2. backend shuts first ("shutfirst" backend): the backend sends 2 MiB
#     and shuts; the client must get all of it and EOF, then send 3 MiB
#     on its still-open side, which must reach the backend whole (the
#     backend prints their SHA-256 when it sees the client's EOF).
. "$(dirname "$0")/lib.sh"
lb_init t_halfclose

take_ports 4
l1=${PORTS[0]} l2=${PORTS[1]}
start_backend e "127.0.0.1:${PORTS[2]}" echo
start_backend sf "127.0.0.1:${PORTS[3]}" shutfirst --bytes 2M --seed 7
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "pe"; servers = ( { name = "e"; address = "127.0.0.1:${PORTS[2]}"; } ); },
	  { name = "psf"; servers = ( { name = "sf"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "l1"; bind = "127.0.0.1:$l1"; pool = "pe"; },
	      { name = "l2"; bind = "127.0.0.1:$l2"; pool = "psf"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$l1"
wait_for 5000 port_listening "$l2" || fail "second listener not up"

"$CLIENT" halfclose "127.0.0.1:$l1" -b 4M >"$T/c1.out" 2>&1
rc=$?
sed 's/^/  client-shuts: /' "$T/c1.out"
[ $rc -eq 0 ] || fail "client shut first: echo incomplete or no EOF"

"$CLIENT" servershut "127.0.0.1:$l2" -b 2M -s 3M --seed 7 >"$T/c2.out" 2>&1
rc=$?
sed 's/^/  backend-shuts: /' "$T/c2.out"
[ $rc -eq 0 ] || fail "backend shut first: client did not get 2 MiB + EOF, or could not send after it"
sent=$(awk '$1 == "sent" { print $2, $3 }' "$T/c2.out")
wait_for 5000 grep -q '^peer_eof' "$T/be-sf.out" ||
	fail "backend never saw the client's EOF after its own shutdown"
got=$(awk '$1 == "peer_eof" { sub("bytes=", "", $3); print $3, $4 }' "$T/be-sf.out")
info "client sent after EOF: $sent; backend got: $got"
[ "$sent" = "$got" ] || fail "backend received other bytes than the client sent"
pass
