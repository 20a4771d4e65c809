#!/usr/bin/env bash
# t_lbctl.sh - lbctl against a real lbd: every command in text and JSON,
# and that each change does what it says to the traffic:
#   - drain keeps the existing connections and takes no new one; remove
#     is refused while connections are active, and accepted once
#     `drain --wait` has seen them end;
#   - disable / enable take a server out and back;
#   - add puts a new server into rotation;
#   - weight changes the distribution (roundrobin: exact proportions);
#   - reload: OK, and a broken file is refused with FILE:LINE and the
#     running config is kept.
# Hostile input, permissions and exit codes: t_lbctl_hostile.sh.
. "$(dirname "$0")/lib.sh"
lb_init t_lbctl
command -v jq >/dev/null || skip "jq missing (apt-get install jq)"
LBCTL=$LB_BUILD/lbctl
[ -x "$LBCTL" ] || skip "$LBCTL not built"

take_ports 4
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
start_backend b "127.0.0.1:${PORTS[2]}" echo
start_backend c "127.0.0.1:${PORTS[3]}" echo
write_conf() {
	{
		conf_head 2
		cat <<EOF2
pools = ( { name = "web"; algorithm = "roundrobin"; retries = 2;
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "web"; } );
EOF2
	} >"$T/lbd.conf"
}
write_conf
start_lbd "$T/lbd.conf" "$lport"
export LBCTL_SOCKET=$T/lbd.sock

# ctl ARGS...: lbctl, output in $OUT, exit status in $RC.
ctl() {
	OUT=$("$LBCTL" "$@" 2>&1)
	RC=$?
}
# ok ARGS...: lbctl must succeed.
ok() {
	ctl "$@"
	[ "$RC" -eq 0 ] || fail "lbctl $*: exit $RC: $OUT"
}
# has TEXT: the last output holds TEXT.
has() {
	grep -qF -- "$1" <<<"$OUT" || fail "expected '$1' in: $OUT"
}
# jsrv POOL SERVER FIELD: a field of one server from `--json servers`.
jsrv() {
	"$LBCTL" --json servers "$1" |
	    jq -r --arg n "$2" ".[] | select(.name == \$n) | .$3"
}
# who N: N sequential connections; "NAME COUNT" lines in $T/who.out.
who() {
	timeout 60 "$CLIENT" who "127.0.0.1:$lport" -n "$1" -c 1 -q \
	    >"$T/who.out" 2>&1 || fail "client failures: $(cat "$T/who.out")"
}

wait_for 5000 "$LBCTL" health >/dev/null || fail "lbd never healthy"

# --- every read command, text and JSON --------------------------------
ok status;		has "workers:"; has "2 alive / 2 configured"
ok --json status
jq -e '.workers_alive == 2 and .workers_configured == 2 and
    .pools_up == 1 and .pools_total == 1 and (.version | length > 0) and
    (.uptime_s >= 0) and .generation >= 1' <<<"$OUT" >/dev/null ||
	fail "json status: $OUT"
ok pools;		has "roundrobin"; has "NO_SERVER"
ok --json pools
jq -e '.[0].name == "web" and .[0].servers_up == 2 and
    .[0].servers_total == 2' <<<"$OUT" >/dev/null || fail "json pools: $OUT"
ok servers;		has "127.0.0.1:${PORTS[1]}"; has "ADMIN"
ok servers web
ok --json servers
for f in pool name address state admin weight active total failures \
    bytes_in bytes_out last_check last_change backup maxconn; do
	jq -e --arg f "$f" 'all(.[]; has($f))' <<<"$OUT" >/dev/null ||
		fail "json servers: field $f missing: $OUT"
done
jq -e 'length == 2 and .[0].state == "up" and .[0].admin == "ready"' \
    <<<"$OUT" >/dev/null || fail "json servers: $OUT"
ok workers;		has "GENERATION"
ok --json workers
jq -e 'length == 2 and all(.[]; .pid > 0 and .generation >= 1)' \
    <<<"$OUT" >/dev/null || fail "json workers: $OUT"
ok health;		has "healthy"
ok --json health
jq -e '.ok == true' <<<"$OUT" >/dev/null || fail "json health: $OUT"
ok metrics
has '# TYPE lb_server_active gauge'
has "lb_server_active{pool=\"web\",server=\"a\"}"
has '# TYPE lb_server_connections_total counter'
ok --json metrics
jq -e 'any(.[]; .name == "lb_server_active" and .labels.server == "a")' \
    <<<"$OUT" >/dev/null || fail "json metrics: $OUT"
ok help;		has "remove POOL/SERVER"
ok --json help
jq -e 'length >= 10' <<<"$OUT" >/dev/null || fail "json help: $OUT"
info "read commands: text and JSON ok"

# --- drain: existing connections stay, new ones go elsewhere ----------
bg "$CLIENT" hold "127.0.0.1:$lport" -n 4 -t 120 >"$T/hold.out" 2>&1
hold_pid=$BG_PID
wait_for 10000 grep -q '^held 4' "$T/hold.out" ||
	fail "could not hold 4 connections: $(cat "$T/hold.out")"
wait_for 5000 test "$(jsrv web a active)" -ge 1 ||
	fail "a shows no active connection while 4 are held"
held_a=$(jsrv web a active)
ok drain web/a;		has "web/a: drain (was ready)"
[ "$(jsrv web a admin)" = drain ] || fail "admin not drain"
who 20
[ "$(count a "$T/who.out")" -eq 0 ] || fail "drained a got new connections"
[ "$(count b "$T/who.out")" -eq 20 ] || fail "b did not take all 20"
[ "$(jsrv web a active)" -eq "$held_a" ] ||
	fail "drain cut a's connections ($held_a -> $(jsrv web a active))"
grep -q '^peer_closed' "$T/hold.out" && fail "a held connection was closed"
info "drain: $held_a held connection(s) on a kept, 20 new went to b"

# remove refused while active; drain --wait times out while held.
ctl remove web/a
[ "$RC" -eq 1 ] || fail "remove with active connections: exit $RC: $OUT"
has "drain --wait"
ctl drain --wait 1 web/a
[ "$RC" -eq 1 ] || fail "drain --wait 1 with held connections: exit $RC"
has "still has"
# Release the connections: drain --wait now succeeds, remove is accepted.
kill "$hold_pid"
ok drain web/a --wait 20;	has "drained"
ok --json drain -w 5 web/a
jq -e '.ok == true and .result == "drained" and .active == 0' \
    <<<"$OUT" >/dev/null || fail "json drain --wait: $OUT"
ok --json remove web/a
jq -e '.ok == true and .result == "removed"' <<<"$OUT" >/dev/null ||
	fail "json remove: $OUT"
ok --json servers web
jq -e 'length == 1 and .[0].name == "b"' <<<"$OUT" >/dev/null ||
	fail "a still listed after remove: $OUT"
info "remove: refused while active, accepted after drain --wait"

# --- add: a new server takes traffic ----------------------------------
ok add web/a "127.0.0.1:${PORTS[1]}"
ok --json add web/c "127.0.0.1:${PORTS[3]}" weight 1 maxconn 100
jq -e '.ok == true and .result == "added"' <<<"$OUT" >/dev/null ||
	fail "json add: $OUT"
[ "$(jsrv web c maxconn)" = 100 ] || fail "maxconn of c not 100"
who 30
# Smooth round robin: equal weights split evenly, +-1 for where each
# server's state stood when it (re)joined.
for s in a b c; do
	n=$(count $s "$T/who.out")
	[ "$n" -ge 9 ] && [ "$n" -le 11 ] ||
		fail "after add: $s got $n of 30, want 10 +-1"
done
info "add: a, b, c each took 10 of 30"

# --- disable / enable --------------------------------------------------
ok disable web/b;	has "maint"
[ "$(jsrv web b admin)" = maint ] || fail "admin not maint"
who 20
[ "$(count b "$T/who.out")" -eq 0 ] || fail "disabled b got connections"
ok enable web/b;	has "ready"
who 30
n=$(count b "$T/who.out")
[ "$n" -ge 9 ] && [ "$n" -le 11 ] || fail "enabled b got $n of 30, want 10 +-1"
info "disable/enable: b out, then back"

# --- weight: roundrobin splits 3:1:1 -----------------------------------
ok weight web/c 3;	has "weight 3"
ok --json weight web/c 3
jq -e '.ok == true and .was == "3"' <<<"$OUT" >/dev/null ||
	fail "json weight: $OUT"
who 50
ca=$(count a "$T/who.out"); cb=$(count b "$T/who.out")
cc=$(count c "$T/who.out")
[ "$cc" -ge 29 ] && [ "$cc" -le 31 ] && [ "$ca" -ge 9 ] && [ "$cb" -ge 9 ] ||
	fail "weights 1:1:3 gave a=$ca b=$cb c=$cc of 50"
info "weight: 1:1:3 gave a=$ca b=$cb c=$cc"
ok weight web/c 1

# --- reload: ok, and a broken file is refused, old config kept ---------
ctl reload
if [ "$RC" -eq 0 ]; then
	has "reloaded"
	wait_for 10000 "$LBCTL" health >/dev/null || fail "unhealthy after reload"
	cp "$T/lbd.conf" "$T/lbd.conf.good"
	echo "this is not = valid" >>"$T/lbd.conf"
	ctl reload
	[ "$RC" -eq 1 ] || fail "reload of a broken file: exit $RC: $OUT"
	has "lbd.conf:"
	err=$(head -n1 <<<"$OUT")
	cp "$T/lbd.conf.good" "$T/lbd.conf"
	ok health
	who 6
	info "reload: ok; broken file refused with '$err'"
else
	fail "reload: exit $RC: $OUT"
fi

# Every change above is in the log with the uid.
grep -q "ctl: uid=0 drain web/a" "$LBD_LOG" || fail "drain not logged"
grep -q "ctl: uid=0 add web/c" "$LBD_LOG" || fail "add not logged"
grep -q "ctl: uid=0 remove web/a" "$LBD_LOG" || fail "remove not logged"
pid_alive "$LBD_PID" || fail "lbd died"
pass
