#!/usr/bin/env bash
# t_leastconn.sh - leastconn sends new connections to the server with the
# fewest active ones, counted across all workers.  Pool of 2 (a, b), 2
# workers.  Hold 10 connections opened one after another: they spread
# 5/5.  Close every one that landed on b and wait (bounded, watching ss)
# until lbd has closed its side to b too.  Then the next connections,
# opened one after another while the first ones stay held, must all go
# to b until it has as many as a.
. "$(dirname "$0")/lib.sh"
lb_init t_leastconn

take_ports 3
lport=${PORTS[0]} pa=${PORTS[1]} pb=${PORTS[2]}
start_backend a "127.0.0.1:$pa" echo
start_backend b "127.0.0.1:$pb" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "leastconn";
	servers = ( { name = "a"; address = "127.0.0.1:$pa"; },
		    { name = "b"; address = "127.0.0.1:$pb"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

# Commands go to the hold client through a fifo; opened read-write here
# so that neither side blocks in open().
mkfifo "$T/cmd"
exec 7<>"$T/cmd"
bg "$CLIENT" hold "127.0.0.1:$lport" -n 10 -c 1 -t 120 --cmd \
    <"$T/cmd" >"$T/hold1.out" 2>&1
wait_for 10000 grep -q '^held ' "$T/hold1.out" || fail "hold did not open"
grep -q '^held 10 failed 0' "$T/hold1.out" ||
	{ cat "$T/hold1.out"; fail "could not hold 10 connections"; }
na=$(grep -c '^open a$' "$T/hold1.out")
nb=$(grep -c '^open b$' "$T/hold1.out")
info "10 held connections landed a=$na b=$nb"
[ "$na" -eq 5 ] && [ "$nb" -eq 5 ] || fail "leastconn spread $na/$nb, want 5/5"

echo "close b" >&7
wait_for 5000 grep -q '^closed b' "$T/hold1.out" || fail "close b not done"
wait_for 5000 eval '[ "$(lbd_conns_to "$pb")" -eq 0 ]' ||
	fail "lbd still has $(lbd_conns_to "$pb") connections to b"
info "after closing b's: lbd->a $(lbd_conns_to "$pa"), lbd->b $(lbd_conns_to "$pb")"

"$CLIENT" hold "127.0.0.1:$lport" -n "$na" -c 1 -t 0 >"$T/hold2.out" 2>&1 ||
	{ cat "$T/hold2.out"; fail "second hold failed"; }
n2b=$(grep -c '^open b$' "$T/hold2.out")
info "$na new connections while a held $na: b got $n2b"
[ "$n2b" -eq "$na" ] || fail "only $n2b of $na new connections went to b"
echo quit >&7
exec 7>&-
pass
