#!/usr/bin/env bash
# t_sticky.sh - algorithm "sticky" with real lbd (2 workers, 3 echo
# backends, fallback roundrobin) and 6 client addresses 127.0.0.10-15:
#   - a client returns to the server it was first given, and lbctl sticky
#     counts 6 entries, the hits and the misses;
#   - a draining server keeps its sticky clients (a new client avoids it);
#   - when a client's server dies, the client is placed again and stays
#     on its new server; lbctl sticky show names it;
#   - the table survives a reload; sticky clear forgets a client.
. "$(dirname "$0")/lib.sh"
lb_init t_sticky
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
pools = ( { name = "p"; algorithm = "sticky"; retries = 2;
	sticky = { timeout = "30m"; capacity = 1000; fallback = "roundrobin"; };
	servers = ( { name = "s1"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "s2"; address = "127.0.0.1:${PORTS[2]}"; },
		    { name = "s3"; address = "127.0.0.1:${PORTS[3]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
IPS=$(seq -f "127.0.0.%g" 10 15)
ctl() { "$LBCTL" -s "$T/lbd.sock" "$@"; }

who() {
	"$PE" get "127.0.0.1:$lport" --bind "$1" -n "$2" >"$T/who.out" ||
		fail "client $1: $(tr '\n' ' ' <"$T/who.out")"
	sort -u "$T/who.out"
}
# jnum KEY: a number from the one-object JSON array in $T/st.json.
jnum() { grep -o "\"$1\":[0-9]*" "$T/st.json" | cut -d: -f2; }

declare -A home
for ip in $IPS; do
	h=$(who "$ip" 3)
	[ "$(echo "$h" | wc -l)" -eq 1 ] ||
		fail "client $ip was sent to several servers: $(echo $h)"
	home[$ip]=$h
done
used=$(for ip in $IPS; do echo "${home[$ip]}"; done | sort -u | wc -l)
[ "$used" -eq 3 ] || fail "round robin placed 6 clients on $used servers"
ctl --json sticky p >"$T/st.json" || fail "lbctl sticky p"
[ "$(jnum entries)" = 6 ] && [ "$(jnum misses)" = 6 ] &&
	[ "$(jnum hits)" = 12 ] || fail "lbctl sticky: $(cat "$T/st.json")"
info "6 clients x 3 connections: same server each; $(cat "$T/st.json")"

# Drain the home of .10: it keeps .10; a new client does not get it.
d=${home[127.0.0.10]}
ctl drain "p/$d" >/dev/null || fail "drain $d"
[ "$(who 127.0.0.10 3)" = "$d" ] || fail "draining $d lost its sticky client"
for ip in 127.0.0.40 127.0.0.41 127.0.0.42; do
	[ "$(who "$ip" 1)" != "$d" ] || fail "draining $d took new client $ip"
done
ctl enable "p/$d" >/dev/null || fail "enable $d"
info "draining $d kept its sticky client, took no new one"

# Kill the home of .11: the client is placed again and stays there.
k=${home[127.0.0.11]}
kill_child TERM "${BE_PID[$k]}"
wait_for 3000 eval '! port_listening "${PORTS[${k#s}]}"' || fail "$k still up"
n=$(who 127.0.0.11 3)
[ "$(echo "$n" | wc -l)" -eq 1 ] && [ "$n" != "$k" ] ||
	fail "client of dead $k went to: $(echo $n)"
ctl sticky show p 127.0.0.11 >"$T/show.out" || fail "sticky show"
grep -q "127.0.0.11 *$n " "$T/show.out" || fail "sticky show: $(cat "$T/show.out")"
for ip in $IPS; do
	[ "$ip" = 127.0.0.11 ] || [ "${home[$ip]}" = "$k" ] ||
		[ "$(who "$ip" 1)" = "${home[$ip]}" ] || fail "$ip moved"
done
info "$k died: its client moved to $n and stays; the others did not move"

# Reload: the table (and the mapping) survive.
ctl reload >/dev/null || fail "reload"
[ "$(who 127.0.0.12 2)" = "${home[127.0.0.12]}" ] || fail "reload lost .12"
ctl --json sticky p >"$T/st.json"
[ "$(jnum entries)" -ge 6 ] || fail "after reload: $(cat "$T/st.json")"
[ "$(ctl sticky clear p 127.0.0.12)" = "cleared 1" ] || fail "sticky clear"
ctl --json sticky show p 127.0.0.12 >"$T/show.out"
[ "$(cat "$T/show.out")" = "[]" ] || fail "cleared entry shown: $(cat "$T/show.out")"
info "reload kept the table; sticky clear forgot 127.0.0.12"
pass
