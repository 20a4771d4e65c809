#!/usr/bin/env bash
# t_source.sh - algorithm "source" (Maglev consistent hashing) with real
# lbd, 2 workers, 3 echo backends and 24 client addresses 127.0.0.10-33:
#   - every connection of one client address lands on the same server,
#     whichever worker accepts it, and the clients spread over servers;
#   - a server taken out of traffic (disable) moves only its own clients,
#     and they all come back when it is enabled;
#   - a removed server's clients move, nobody else's does (the master
#     rebuilds the table on its tick; the test polls for it).
. "$(dirname "$0")/lib.sh"
lb_init t_source
PE=$LB_BUILD/tests/tools/lbt-proxyecho
LBCTL=$LB_BUILD/lbctl
[ -x "$PE" ] || skip "$PE not built"
[ -x "$LBCTL" ] || skip "$LBCTL not built"

take_ports 4
lport=${PORTS[0]}
for i in 1 2 3; do
	start_backend "s$i" "127.0.0.1:${PORTS[$i]}" echo
done
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "p"; algorithm = "source"; hash_key = "ip"; retries = 2;
	servers = ( { name = "s1"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "s2"; address = "127.0.0.1:${PORTS[2]}"; },
		    { name = "s3"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
IPS=$(seq -f "127.0.0.%g" 10 33)

# who IP N: the servers that answered N connections from IP, sorted, unique.
who() {
	"$PE" get "127.0.0.1:$lport" --bind "$1" -n "$2" >"$T/who.out" ||
		fail "client $1: $(tr '\n' ' ' <"$T/who.out")"
	sort -u "$T/who.out"
}

declare -A home
for ip in $IPS; do
	h=$(who "$ip" 4)
	[ "$(echo "$h" | wc -l)" -eq 1 ] ||
		fail "client $ip was sent to several servers: $(echo $h)"
	home[$ip]=$h
done
used=$(for ip in $IPS; do echo "${home[$ip]}"; done | sort -u | tr '\n' ' ')
[ "$(echo $used | wc -w)" -ge 2 ] || fail "24 clients all on $used"
info "24 clients, 4 connections each, always the same server; servers used: $used"

# More rounds until two workers have served (bounded): consistency must
# hold across workers, not only within one.
workers_seen() {
	grep -o '^lbd\[[0-9]*\]: conn' "$LBD_LOG" | sort -u | wc -l
}
for round in 1 2 3 4 5; do
	[ "$(workers_seen)" -ge 2 ] && break
	for ip in $IPS; do
		[ "$(who "$ip" 4)" = "${home[$ip]}" ] ||
			fail "client $ip moved without a change"
	done
done
[ "$(workers_seen)" -ge 2 ] || fail "only one worker accepted connections"
info "connections were served by $(workers_seen) workers"

# check_moves GONE: every client of a server other than GONE is home,
# every client of GONE is elsewhere.  Returns 1 otherwise.
check_moves() {
	local ip h
	for ip in $IPS; do
		h=$(who "$ip" 1)
		if [ "${home[$ip]}" = "$1" ]; then
			[ "$h" != "$1" ] || return 1
		else
			[ "$h" = "${home[$ip]}" ] || { echo "$ip: $h" >"$T/moved"; return 1; }
		fi
	done
	return 0
}

victim=${home[127.0.0.10]}
"$LBCTL" -s "$T/lbd.sock" disable "p/$victim" >/dev/null || fail "disable"
wait_for 3000 check_moves "$victim" ||
	fail "disable $victim: a client of another server moved ($(cat "$T/moved" 2>/dev/null))"
"$LBCTL" -s "$T/lbd.sock" enable "p/$victim" >/dev/null || fail "enable"
wait_for 3000 check_moves none || fail "enable $victim: clients did not come home"
info "disable $victim: only its clients moved; enable: all came back"

victim=${home[127.0.0.11]}
wait_for 5000 eval '[ "$("$LBCTL" -s "$T/lbd.sock" remove "p/$victim" 2>&1)" != "" ] &&
	! "$LBCTL" -s "$T/lbd.sock" servers p | grep -qw "$victim"' ||
	fail "could not remove $victim"
# The table is rebuilt on the master's next tick; give it a bounded poll
# and then require the final mapping to hold twice in a row.
wait_for 3000 check_moves "$victim" || fail "remove $victim: a client of another server moved ($(cat "$T/moved" 2>/dev/null))"
check_moves "$victim" || fail "remove $victim: mapping not stable"
info "remove $victim: only its clients moved"
pass
