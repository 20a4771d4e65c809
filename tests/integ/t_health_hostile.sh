#!/usr/bin/env bash
# t_health_hostile.sh - hostile check responders are failed checks, no
# more: 10 MB of garbage (read bounded to 16 KiB), one byte a second
# (timeout), RST at once, and silence.  Each is marked down with its
# reason; the master stays up, its memory stays bounded, and clients
# keep being served by the one good server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_hostile
[ -x "$HCRESP" ] || skip "$HCRESP not built"

take_ports 7
lport=${PORTS[0]}
start_backend good "127.0.0.1:${PORTS[1]}" echo
start_hcresp flood "127.0.0.1:${PORTS[2]}" flood
start_hcresp drip "127.0.0.1:${PORTS[3]}" drip
start_hcresp rst "127.0.0.1:${PORTS[4]}" rst
start_hcresp silent "127.0.0.1:${PORTS[5]}" silent
start_hcresp pong "127.0.0.1:${PORTS[6]}" pong
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 4;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2;
		   send = "PING\r\n"; expect = "PONG"; initial = "up"; };
	servers = (
	  { name = "good"; address = "127.0.0.1:${PORTS[1]}";
	    health = { port = ${PORTS[6]}; }; },
	  { name = "flood"; address = "127.0.0.1:${PORTS[2]}"; },
	  { name = "drip"; address = "127.0.0.1:${PORTS[3]}"; },
	  { name = "rst"; address = "127.0.0.1:${PORTS[4]}"; },
	  { name = "silent"; address = "127.0.0.1:${PORTS[5]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
rss0=$(hl_rss_kb "$LBD_PID")

hl_wait_log 3000 1 'server p/flood up -> down: 2 checks failed: expect not found in 16384 bytes' ||
	fail "flood not marked down (read bound)"
hl_wait_log 3000 1 'server p/drip up -> down: 2 checks failed: expect not found after 150ms' ||
	fail "drip not marked down (timeout)"
hl_wait_log 3000 1 'server p/rst up -> down: 2 checks failed: (connection reset|connect refused|closed before expect)' ||
	fail "rst not marked down"
hl_wait_log 3000 1 'server p/silent up -> down: 2 checks failed: expect not found after 150ms' ||
	fail "silent not marked down"
# Keep them failing for a while: 20 more checks of each, counted.
for i in $(seq 1 20); do
	"$CLIENT" who "127.0.0.1:$lport" -n 10 -q >"$T/who.out" 2>&1 ||
		fail "clients failed: $(cat "$T/who.out")"
	[ "$(count good "$T/who.out")" -eq 10 ] ||
		fail "only the good server may answer: $(cat "$T/who.out")"
	sleep 0.1	# pacing the rounds, not waiting for a condition
done
pid_alive "$LBD_PID" || fail "lbd master died"
rss1=$(hl_rss_kb "$LBD_PID")
info "master RSS ${rss0} KiB at start, ${rss1} KiB after the hostile checks"
[ "$rss1" -le $((rss0 + 8192)) ] || fail "master grew by more than 8 MiB"
[ "$(hl_logn 'server p/good ')" -eq 0 ] || fail "good changed state"
[ "$(hl_logn 'down -> up')" -eq 0 ] || fail "a hostile server came up"
pass
