#!/usr/bin/env bash
# t_reload.sh - hitless reload and runtime changes that persist.
#  1. A loop of 2000 connections runs across 20 reloads (SIGHUP and
#     lbctl reload, alternating) with 0 failures, and a connection opened
#     before the first reload still carries 1 MiB each way after the last.
#  2. A broken config: lbctl reload exits 1 with FILE:LINE, and the old
#     config keeps serving with 0 failures.
#  3. drain / weight / add survive a reload and a restart (state_file).
#  4. After a worker kill and reloads, once traffic stops, every active
#     count in lbctl servers is 0, like ss.
. "$(dirname "$0")/lib.sh"
lb_init t_reload
LBCTL=$LB_BUILD/lbctl
[ -x "$LBCTL" ] || skip "$LBCTL not built"

take_ports 4
lport=${PORTS[0]}
for i in 1 2 3; do
	start_backend "s$i" "127.0.0.1:${PORTS[$i]}" echo
done
write_conf() {
	{
		conf_head 2 1000 3s 5m 60s
		echo "state_file = \"$T/state\";"
		cat <<EOF2
pools = ( { name = "p"; algorithm = "roundrobin"; retries = 2;
	servers = ( { name = "s1"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "s2"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
	} >"$T/lbd.conf"
}
write_conf
start_lbd "$T/lbd.conf" "$lport"
ctl() { "$LBCTL" -s "$T/lbd.sock" "$@"; }
generation() { ctl --json status | grep -o '"generation":[0-9]*' | cut -d: -f2; }
gen_is() { [ "$(generation)" = "$1" ]; }

# 1. The long-lived connection, then the loop, then 20 reloads.
"$CLIENT" bulk "127.0.0.1:$lport" -b 1048576 --wait-file "$T/go" \
    --max-time 120 >"$T/long.out" 2>&1 &
long=$!
LB_PIDS="$LB_PIDS $long"
wait_for 5000 grep -q '^connected' "$T/long.out" ||
	fail "long-lived connection did not open: $(cat "$T/long.out")"
"$CLIENT" who "127.0.0.1:$lport" -n 2000 -c 2 --max-time 120 \
    >"$T/loop.out" 2>&1 &
loop=$!
LB_PIDS="$LB_PIDS $loop"
g=$(generation)
for r in $(seq 1 20); do
	if [ $((r % 2)) -eq 0 ]; then
		ctl reload >/dev/null || fail "lbctl reload $r failed"
	else
		kill -HUP "$LBD_PID"
	fi
	g=$((g + 1))
	wait_for 5000 gen_is "$g" || fail "reload $r: generation not $g"
done
wait "$loop"
rc=$?
sed 's/^/  loop: /' "$T/loop.out"
[ "$rc" -eq 0 ] || fail "connection loop across 20 reloads had failures"
grep -q '^failed 0' "$T/loop.out" || fail "loop reported failures"
touch "$T/go"
wait "$long" || fail "long-lived connection broke: $(cat "$T/long.out")"
info "20 reloads: 2000 connections, 0 failures; the pre-reload connection moved 1 MiB each way after the last reload"

# 2. A broken config keeps the old one serving.
cp "$T/lbd.conf" "$T/good.conf"
printf 'workers = "two";\n' >>"$T/lbd.conf"
ctl reload >"$T/bad.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "lbctl reload of a broken config exited $rc, want 1"
grep -q "lbd.conf:[0-9]*: " "$T/bad.out" ||
	fail "no FILE:LINE in the reload error: $(cat "$T/bad.out")"
info "broken reload: $(head -1 "$T/bad.out")"
"$CLIENT" who "127.0.0.1:$lport" -n 200 -c 2 >"$T/after-bad.out" 2>&1 ||
	fail "service broken after a failed reload: $(cat "$T/after-bad.out")"
cp "$T/good.conf" "$T/lbd.conf"

# 3. Runtime changes survive a reload, then a restart.
ctl drain p/s1 >/dev/null || fail "drain failed"
ctl weight p/s2 3 >/dev/null || fail "weight failed"
ctl add p/s3 "127.0.0.1:${PORTS[3]}" weight 2 >/dev/null || fail "add failed"
wait_for 3000 grep -qs '^added p s3' "$T/state" ||
	fail "state file not written: $(cat "$T/state" 2>&1)"
check_state() {
	local js
	js=$(ctl --json servers p) || fail "$1: lbctl servers failed"
	echo "$js" | grep -q '"name":"s1"[^}]*"admin":"drain"' ||
		fail "$1: s1 not draining: $js"
	echo "$js" | grep -q '"name":"s2"[^}]*"weight":3' ||
		fail "$1: s2 weight not 3: $js"
	echo "$js" | grep -q '"name":"s3"' || fail "$1: s3 missing: $js"
}
check_state "before reload"
ctl reload >/dev/null || fail "reload failed"
check_state "after reload"
"$CLIENT" who "127.0.0.1:$lport" -n 50 -c 1 >"$T/w.out" 2>&1 || fail "who"
[ "$(count s1 "$T/w.out")" -eq 0 ] || fail "drained s1 got traffic"
[ "$(count s3 "$T/w.out")" -gt 0 ] || fail "added s3 got no traffic"
kill -TERM "$LBD_PID"
wait_for 15000 pid_dead "$LBD_PID" || fail "lbd did not stop on SIGTERM"
wait_for 5000 port_free "$lport" || fail "port still bound after stop"
start_lbd "$T/lbd.conf" "$lport"
check_state "after restart"
info "drain, weight and add survived a reload and a restart"

# 4. Counts after a worker kill and reloads.
"$CLIENT" who "127.0.0.1:$lport" -n 1500 -c 4 --max-time 60 \
    >"$T/kill.out" 2>&1 &
loop=$!
LB_PIDS="$LB_PIDS $loop"
w=$(lbd_workers | head -1)
kill -9 "$w"
ctl reload >/dev/null
kill -HUP "$LBD_PID"
wait "$loop"
zero_active() {
	! ctl --json servers | grep -q '"active":[1-9]' &&
	    ctl --json status | grep -q '"active":0'
}
wait_for 10000 zero_active ||
	fail "active counts not back to 0: $(ctl servers)"
n=$(ss -Htn state established "( sport = :$lport )" | wc -l)
[ "$n" -eq 0 ] || fail "ss still shows $n connections on the listener"
info "after a worker kill and 2 reloads: every active count 0, ss agrees"
pass
