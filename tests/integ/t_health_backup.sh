#!/usr/bin/env bash
# t_health_backup.sh - a backup server takes traffic only while every
# primary is down: a and b primaries, c backup.  Kill both primaries:
# once the checker marks them down, only c answers; no client fails at
# any point (refused connects are retried).  Restart a: c is idle again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/health_lib.sh"
lb_init t_health_backup

take_ports 4
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
start_backend c "127.0.0.1:${PORTS[3]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	health = { interval = "200ms"; timeout = "150ms"; rise = 2; fall = 2; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; },
		    { name = "c"; address = "127.0.0.1:${PORTS[3]}";
		      backup = true; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
hl_wait_log 3000 3 'server p/[abc] down -> up: first check passed' ||
	fail "servers did not come up"

who() {
	"$CLIENT" who "127.0.0.1:$lport" -n "$1" >"$T/who.out" 2>&1 ||
		fail "clients failed: $(cat "$T/who.out")"
}
who 40
[ "$(count c "$T/who.out")" -eq 0 ] || fail "backup c answered with primaries up"
[ "$(count a "$T/who.out")" -eq 20 ] || fail "a should take half"

hl_kill_backend a
hl_kill_backend b
who 40		# while the checker has not noticed yet: retried, no failure
hl_wait_log 3000 1 'server p/a up -> down' || fail "a not marked down"
hl_wait_log 3000 1 'server p/b up -> down' || fail "b not marked down"
who 40
[ "$(count c "$T/who.out")" -eq 40 ] || fail "c should take all with primaries down"

start_backend a "127.0.0.1:${PORTS[1]}" echo
hl_wait_log 3000 2 'server p/a down -> up' || fail "a did not come back"
who 40
[ "$(count a "$T/who.out")" -eq 40 ] || fail "a should take all, c none"
pass
