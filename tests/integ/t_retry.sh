#!/usr/bin/env bash
# t_retry.sh - a server whose port refuses connections (nothing listens
# there) is retried past: roundrobin over s1, s2 (refused), s3 with
# retries = 2 gives 0 client failures over 300 sequential connections,
# and every answer comes from s1 or s3.
. "$(dirname "$0")/lib.sh"
lb_init t_retry

take_ports 4
lport=${PORTS[0]}
start_backend s1 "127.0.0.1:${PORTS[1]}" echo
start_backend s3 "127.0.0.1:${PORTS[3]}" echo
port_free "${PORTS[2]}" || fail "port ${PORTS[2]} for the dead server is taken"
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

"$CLIENT" who "127.0.0.1:$lport" -n 300 -c 1 >"$T/who.out" 2>&1
rc=$?
sed 's/^/  who: /' "$T/who.out"
[ $rc -eq 0 ] || fail "client failures with one refused server"
s1=$(count s1 "$T/who.out") s3=$(count s3 "$T/who.out")
[ $((s1 + s3)) -eq 300 ] || fail "answers from elsewhere than s1/s3"
[ "$s1" -gt 0 ] && [ "$s3" -gt 0 ] || fail "one live server got nothing"
info "300 connections, s2 refused: s1=$s1 s3=$s3, 0 failures"
pass
