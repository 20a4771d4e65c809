#!/usr/bin/env bash
# t_hostile_slowloris.sh - 5,000 idle connections from one address.
# lbd (2 workers, maxconn 6000, timeouts.idle 3s) in front of an echo
# backend.  One source, 127.0.0.1, opens 5,000 connections that send
# nothing (lbt-stall idle --read: it reads the backend's name, then sits).
#  - While they sit, a client from another address, 127.0.0.2, is served
#    at once (its backend name within 1 s of connecting).
#  - The idle timeout reclaims them: all 5,000 are closed by lbd within
#    3 s + 3 s of slack after they were opened, and the counts return
#    to 0.
#  - Then the per-source cap: a reload sets maxconn_per_source = 100 (and
#    timeouts.idle 60s, so the idle timeout cannot be what closes them),
#    and 127.0.0.1 opens 5,000 idle connections again.  Exactly 100 are
#    held (lbctl --json status: active 100, per_source_rejects 4900),
#    the other 4,900 are closed by lbd within 5 s of the last connect,
#    one more from 127.0.0.1 is closed at once, a client from 127.0.0.2
#    is served within 1 s, the log says so in a handful of rate-limited
#    lines, not 4,900.  A worker killed (-9) holding some of the 100
#    gives its share back: as many new ones from 127.0.0.1 are held again,
#    no more.  Once all are closed every count (status active, servers
#    active, per-source addresses) is 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
lb_init t_hostile_slowloris
hostile_need
N=5000
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge $((2 * N + 1000)) ] ||
	skip "RLIMIT_NOFILE hard limit $(ulimit -Hn) is below $((2 * N + 1000))"
ip -4 addr show lo 2>/dev/null | grep -q '127.0.0.1/8' || skip "no 127.0.0.0/8 on lo"

take_ports 2
lport=${PORTS[0]} pa=${PORTS[1]}
start_backend a "127.0.0.1:$pa" echo
{
	conf_head 2 6000 3s 3s
	cat <<EOF2
pools = ( { name = "p"; servers = ( { name = "a"; address = "127.0.0.1:$pa"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"

t0=$(now_ms)
bg "$STALL" idle "127.0.0.1:$lport" -n $N --read -t 60 --timeout 5000 >"$T/idle.out" 2>&1
IDLE=$BG_PID
wait_for 30000 grep -q '^open ' "$T/idle.out" || fail "the idle clients did not connect"
t1=$(now_ms)
grep -q "^open $N failed 0" "$T/idle.out" || fail "$(head -n 1 "$T/idle.out")"
act=$(lbd_active)
info "$N idle connections from 127.0.0.1 open in $((t1 - t0)) ms; lbd active $act"
"$STALL" who "127.0.0.1:$lport" --src 127.0.0.2 --timeout 1000 >"$T/who.out" 2>&1 ||
	fail "the client from 127.0.0.2 was not served within 1 s: $(cat "$T/who.out")"
info "client from 127.0.0.2 during the flood: $(cat "$T/who.out")"
grep -q 'conn client=127.0.0.2:' "$LBD_LOG" || wait_for 3000 grep -q 'conn client=127.0.0.2:' "$LBD_LOG" ||
	fail "lbd did not log the 127.0.0.2 connection"

wait_for 15000 grep -q '^all_closed' "$T/idle.out" ||
	fail "idle connections not reclaimed: $(grep '^closed' "$T/idle.out" | tail -n 1)"
t2=$(now_ms)
info "all $N closed by lbd $((t2 - t0)) ms after the first connect ($((t2 - t1)) ms after the last); idle timeout 3000 ms"
[ $((t2 - t1)) -le 6000 ] || fail "reclaimed only after $((t2 - t1)) ms (bound 3 s + 3 s)"
n_idle=$(grep -c 'end=idle_timeout' "$LBD_LOG")
info "log: $n_idle end=idle_timeout"
[ "$n_idle" -ge $N ] || fail "only $n_idle end=idle_timeout for $N connections"
wait_for 5000 eval '[ "$(lbd_active)" -eq 0 ] && [ "$(lbd_server_active)" -eq 0 ]' ||
	fail "counts after the flood: $(lbd_active) / $(lbd_server_active)"
info "counts back to 0"
kill_child TERM "$IDLE"

# --- the per-source cap ----------------------------------------------
CAP=100
status_key() { ctl --json status | jsum "$1"; }
gen=$(status_key generation)
{
	conf_head 2 6000 3s 60s 3s
	cat <<EOF2
maxconn_per_source = $CAP;
pools = ( { name = "p"; servers = ( { name = "a"; address = "127.0.0.1:$pa"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; } );
EOF2
} >"$T/lbd.conf"
kill -HUP "$LBD_PID"
wait_for 10000 eval '[ "$(status_key generation)" -gt "$gen" ] &&
    [ "$(status_key maxconn_per_source)" -eq $CAP ]' ||
	fail "the reload did not publish maxconn_per_source $CAP: $(ctl status)"

t0=$(now_ms)
bg "$STALL" idle "127.0.0.1:$lport" -n $N --read -t 60 --timeout 5000 >"$T/idle2.out" 2>&1
IDLE=$BG_PID
wait_for 30000 grep -q '^open ' "$T/idle2.out" || fail "the capped idle clients did not connect"
t1=$(now_ms)
grep -q "^open $N failed 0" "$T/idle2.out" || fail "$(head -n 1 "$T/idle2.out")"
wait_for 5000 grep -q "^closed $((N - CAP))\$" "$T/idle2.out" ||
	fail "lbd did not close $((N - CAP)) of $N: $(grep '^closed' "$T/idle2.out" | tail -n 1)"
t2=$(now_ms)
info "$N idle connections from 127.0.0.1 with maxconn_per_source $CAP: open in $((t1 - t0)) ms, $((N - CAP)) closed by lbd $((t2 - t1)) ms after the last connect"
act=$(lbd_active) sact=$(lbd_server_active) rej=$(status_key per_source_rejects)
addrs=$(status_key per_source_addresses)
info "held: status active $act, servers active $sact, per_source_rejects $rej, addresses counted $addrs"
[ "$act" -eq $CAP ] && [ "$sact" -eq $CAP ] ||
	fail "held $act / $sact connections, want exactly $CAP"
[ "$rej" -eq $((N - CAP)) ] || fail "per_source_rejects $rej, want $((N - CAP))"
[ "$addrs" -eq 1 ] || fail "$addrs addresses counted, want 1"
last=$(grep '^closed' "$T/idle2.out" | tail -n 1)
[ "$last" = "closed $((N - CAP))" ] || fail "the held ones were closed too: $last"

t3=$(now_ms)
"$STALL" who "127.0.0.1:$lport" --timeout 2000 >"$T/who1.out" 2>&1 &&
	fail "a client from 127.0.0.1 over the cap was served: $(cat "$T/who1.out")"
t3=$(($(now_ms) - t3))
[ "$t3" -lt 1000 ] || fail "the client over the cap was closed only after $t3 ms"
"$STALL" who "127.0.0.1:$lport" --src 127.0.0.2 --timeout 1000 >"$T/who2.out" 2>&1 ||
	fail "the client from 127.0.0.2 was not served within 1 s: $(cat "$T/who2.out")"
info "one more from 127.0.0.1: $(cat "$T/who1.out") (closed by lbd in $t3 ms); from 127.0.0.2: $(cat "$T/who2.out")"
nlog=$(grep -c 'maxconn_per_source 100' "$LBD_LOG")
info "log: $nlog rate-limited per-source lines for $((N - CAP + 1)) refused; $(grep -c 'end=per_source' "$LBD_LOG") per-connection lines"
[ "$nlog" -ge 1 ] && [ "$nlog" -le 20 ] || fail "$nlog per-source log lines, want 1..20"

# A worker killed (-9) while holding some of the 100: the master takes
# its share of the per-source count back, so exactly as many new
# connections from 127.0.0.1 are held again, no more, no fewer.
victim="" best=0
for w in $(lbd_workers); do
	n=$(ls -l "/proc/$w/fd" 2>/dev/null | grep -c 'socket:')
	[ "$n" -gt "$best" ] && best=$n victim=$w
done
[ -n "$victim" ] || fail "no worker to kill"
closed_n() { grep '^closed' "$T/idle2.out" | tail -n 1 | cut -d' ' -f2; }
kill -9 "$victim"
wait_for 5000 eval '[ "$(closed_n)" -gt $((N - CAP)) ] &&
    [ "$(lbd_active)" -eq $((N - $(closed_n))) ]' ||
	fail "after killing worker $victim: active $(lbd_active), client saw $(closed_n) closed"
lost=$((CAP - $(lbd_active)))
bg "$STALL" idle "127.0.0.1:$lport" -n $CAP --read -t 60 --timeout 5000 >"$T/idle3.out" 2>&1
IDLE3=$BG_PID
wait_for 10000 grep -q '^open ' "$T/idle3.out" || fail "the third batch did not connect"
wait_for 5000 grep -q "^closed $((CAP - lost))\$" "$T/idle3.out" ||
	fail "of $CAP more, $(grep '^closed' "$T/idle3.out" | tail -n 1) closed, want $((CAP - lost))"
[ "$(lbd_active)" -eq $CAP ] || fail "active $(lbd_active) after the worker kill and $CAP more, want $CAP"
info "worker $victim killed holding $lost of the $CAP: $lost new ones held, $((CAP - lost)) closed, active $CAP again"

kill_child TERM "$IDLE"
kill_child TERM "$IDLE3"
wait_for 5000 eval '[ "$(lbd_active)" -eq 0 ] && [ "$(lbd_server_active)" -eq 0 ] &&
    [ "$(status_key per_source_addresses)" -eq 0 ]' ||
	fail "counts after closing the $CAP: $(lbd_active) / $(lbd_server_active) / $(status_key per_source_addresses) addresses"
info "all closed by the clients: status active, servers active and per-source addresses all 0"
pass
