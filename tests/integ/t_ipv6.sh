#!/usr/bin/env bash
# t_ipv6.sh - lbd on IPv6 loopback: a [::1] listener in front of one
# [::1] and one 127.0.0.1 backend (roundrobin, 200 sequential
# connections split 100/100), and a 16 MiB echo checked by SHA-256.
# Skips when the host has no ::1.
. "$(dirname "$0")/lib.sh"
lb_init t_ipv6

ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128' || skip "no ::1 on lo"
take_ports 3
lport=${PORTS[0]}
start_backend six "[::1]:${PORTS[1]}" echo
start_backend four "127.0.0.1:${PORTS[2]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin";
	servers = ( { name = "six"; address = "[::1]:${PORTS[1]}"; },
		    { name = "four"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "[::1]:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

"$CLIENT" who "[::1]:$lport" -n 200 -c 1 >"$T/who.out" 2>&1 ||
	{ cat "$T/who.out"; fail "client failures over IPv6"; }
info "200 connections to [::1]: six=$(count six "$T/who.out") four=$(count four "$T/who.out")"
[ "$(count six "$T/who.out")" -eq 100 ] || fail "want 100/100"
"$CLIENT" bulk "[::1]:$lport" -b 16M >"$T/bulk.out" 2>&1 ||
	{ cat "$T/bulk.out"; fail "16 MiB echo over IPv6 differs"; }
info "16 MiB echo over [::1]: $(tail -n 1 "$T/bulk.out")"
grep -q 'client=\[::1\]' "$LBD_LOG" || info "(log has no client=[::1]:port form)"
pass
