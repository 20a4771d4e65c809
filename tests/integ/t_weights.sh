#!/usr/bin/env bash
# t_weights.sh - weights 1 and 3.  Weighted round robin with sequential
# connections gives exactly 1:3 over whole cycles (4000 connections:
# a=1000, b=3000, +-3 for where the shared sequence stood); random with
# the same weights stays within loose bounds (a in 800..1200 of 4000, an
# expected 1000 with a standard deviation of 27).
. "$(dirname "$0")/lib.sh"
lb_init t_weights

take_ports 4
lrr=${PORTS[0]} lrnd=${PORTS[1]}
start_backend a "127.0.0.1:${PORTS[2]}" echo
start_backend b "127.0.0.1:${PORTS[3]}" echo
servers="servers = ( { name = \"a\"; address = \"127.0.0.1:${PORTS[2]}\"; weight = 1; },
		{ name = \"b\"; address = \"127.0.0.1:${PORTS[3]}\"; weight = 3; } );"
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "rr"; algorithm = "roundrobin"; $servers },
	  { name = "rnd"; algorithm = "random"; $servers } );
listeners = ( { name = "lrr"; bind = "127.0.0.1:$lrr"; pool = "rr"; },
	      { name = "lrnd"; bind = "127.0.0.1:$lrnd"; pool = "rnd"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lrr"
wait_for 5000 port_listening "$lrnd" || fail "second listener not up"

"$CLIENT" who "127.0.0.1:$lrr" -n 4000 -c 1 >"$T/rr.out" 2>&1 ||
	{ cat "$T/rr.out"; fail "client failures (roundrobin)"; }
a=$(count a "$T/rr.out") b=$(count b "$T/rr.out")
info "roundrobin 4000 connections: a=$a b=$b"
[ "$a" -ge 997 ] && [ "$a" -le 1003 ] && [ $((a + b)) -eq 4000 ] ||
	fail "roundrobin weights 1:3 gave a=$a b=$b, want 1000:3000 (+-3)"

"$CLIENT" who "127.0.0.1:$lrnd" -n 4000 -c 4 >"$T/rnd.out" 2>&1 ||
	{ cat "$T/rnd.out"; fail "client failures (random)"; }
a=$(count a "$T/rnd.out") b=$(count b "$T/rnd.out")
info "random 4000 connections: a=$a b=$b"
[ "$a" -ge 800 ] && [ "$a" -le 1200 ] && [ $((a + b)) -eq 4000 ] ||
	fail "random weights 1:3 gave a=$a b=$b, want a in 800..1200"
pass
