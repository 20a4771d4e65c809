#!/usr/bin/env bash
# t_p2c.sh - power of two choices.  3 servers, 2 workers.
#  - 600 sequential short connections: every server answers (each gets
#    at least 100: loose, p2c is random), no failure.
#  - 30 connections held, opened one after another: p2c picks the less
#    loaded of two, so the spread stays close: each server holds 5..15
#    (pure random would leave one below 5 now and then; leastconn gives
#    exactly 10).
. "$(dirname "$0")/lib.sh"
lb_init t_p2c

take_ports 4
lport=${PORTS[0]}
for i in 1 2 3; do start_backend "s$i" "127.0.0.1:${PORTS[$i]}" echo; done
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "p2c";
	servers = ( { name = "s1"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "s2"; address = "127.0.0.1:${PORTS[2]}"; },
		    { name = "s3"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

"$CLIENT" who "127.0.0.1:$lport" -n 600 -c 1 >"$T/who.out" 2>&1 ||
	{ cat "$T/who.out"; fail "client failures"; }
info "600 short connections: $(head -n 3 "$T/who.out" | tr '\n' ' ')"
for s in s1 s2 s3; do
	[ "$(count "$s" "$T/who.out")" -ge 100 ] || fail "$s got fewer than 100 of 600"
done

"$CLIENT" hold "127.0.0.1:$lport" -n 30 -c 1 -t 0 >"$T/hold.out" 2>&1 ||
	{ cat "$T/hold.out"; fail "could not hold 30"; }
spread=""
for s in s1 s2 s3; do
	n=$(grep -c "^open $s\$" "$T/hold.out")
	spread="$spread $s=$n"
	[ "$n" -ge 5 ] && [ "$n" -le 15 ] || fail "held spread$spread..., want 5..15 each"
done
info "30 held connections:$spread"
pass
