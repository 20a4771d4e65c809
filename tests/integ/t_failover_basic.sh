#!/usr/bin/env bash
# t_failover_basic.sh - lb-failoverd election, crash takeover, restart
# and preemption back, graceful stop, and stale-VIP removal after SIGKILL.
# Two nodes (a: priority 200, b: 100), advert_interval 100ms, in network
# namespaces made here.  Prints the measured takeover times.
set -u
. "$(dirname "$0")/failover_lib.sh"
fo_init
fo_pick_server
fo_pair 200 100
start=$(fo_ms)

# 1. election: exactly one VIP holder, a (higher priority)
fo_wait 5000 fo_single a || fo_fail "election: holders '$(fo_holders)', a is $(fo_get a state)"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "election: b is $(fo_get b state)"
echo "election: a MASTER, b BACKUP after $(( $(fo_ms) - start )) ms (includes lbd rise)"
for i in $(seq 1 20); do
	h=$(fo_holders)
	[ "$h" = a ] || fo_fail "election: VIP holders '$h' at sample $i"
	sleep 0.05
done
out=$(fo_probe "$(date +%s%N)" 3000) || fo_fail "no connection through the VIP"
echo "election: client through VIP ok ($out)"
[ "$(fo_get a vip_holder)" = true ] || fo_fail "a: vip_holder not true"
[ "$(fo_get b peer_state)" = MASTER ] || fo_fail "b: peer_state not MASTER"
if [ -x "$LB_BUILD/lbctl" ]; then
	st=$("$LB_BUILD/lbctl" -F "$T/fo-a.sock" --json failover) || fo_fail "lbctl failover: $st"
	$FO_PY -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["state"]=="MASTER" and j["vip_holder"] is True and j["peer_state"]=="BACKUP" and j["peer_last_heard_ms"]>=0 and "hmac" in j["drops"], j' "$st" ||
		fo_fail "lbctl --json failover on a: $st"
	LBCTL_FAILOVER_SOCKET="$T/fo-b.sock" "$LB_BUILD/lbctl" failover | grep -q "^state: *BACKUP" ||
		fo_fail "lbctl failover on b: $(LBCTL_FAILOVER_SOCKET="$T/fo-b.sock" "$LB_BUILD/lbctl" failover)"
	echo "lbctl failover: a MASTER / b BACKUP, JSON fields present"
fi

# 2. crash: SIGKILL a's agent and server; systemd's ExecStopPost
#    (--release-vips) runs right after, as it would under systemd.
fo_probe_arm 5000
fo_notify_mark b
t0=$(date +%s%N); m0=$(fo_ms)
kill -KILL "${FO_AGENT[a]}"
fo_kill_server a KILL
fo_probe_go "$t0"
ip netns exec "$(fo_ns a)" "$LB_BUILD/lb-failoverd" -f "$T/fo-a.conf" --release-vips \
	>>"$T/release-a.log" 2>&1
fo_wait 3000 fo_has_vip b || fo_fail "crash: b never took the VIP"
vip_ms=$(( $(fo_ms) - m0 ))
fo_probe_result || fo_fail "crash: no client connection through the VIP ($FO_OUT)"
out=$FO_OUT
serve_ms=${out%% *}
fo_wait 1000 eval '[ -n "$(fo_notify_ts b MASTER)" ]' || fo_fail "crash: no MASTER hook on b"
master_ms=$(( $(fo_notify_ts b MASTER) - m0 ))
echo "crash: b MASTER after ${master_ms} ms, VIP seen after ${vip_ms} ms, first client connection served after ${serve_ms} ms ($out)"
[ "$serve_ms" -le 500 ] || fo_fail "crash: takeover ${serve_ms} ms > 500 ms"
[ "$(fo_holders)" = b ] || fo_fail "crash: holders '$(fo_holders)'"

# 3. a comes back and preempts (priority 200, preempt = true)
m0=$(fo_ms)
fo_start_server a
fo_start_agent a
fo_wait 5000 fo_single a || fo_fail "restart: a did not take back the VIP"
echo "restart: a preempted back after $(( $(fo_ms) - m0 )) ms (from start, includes lbd start)"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "restart: b is $(fo_get b state)"
sleep 0.5

# 4. graceful stop: SIGTERM -> resign x3 -> b takes over after its skew
fo_probe_arm 5000
fo_notify_mark b
t0=$(date +%s%N); m0=$(fo_ms)
kill -TERM "${FO_AGENT[a]}"
fo_probe_go "$t0"
fo_wait 3000 fo_has_vip b || fo_fail "graceful: b never took the VIP"
vip_ms=$(( $(fo_ms) - m0 ))
fo_probe_result || fo_fail "graceful: no client connection ($FO_OUT)"
out=$FO_OUT
serve_ms=${out%% *}
fo_wait 1000 eval '[ -n "$(fo_notify_ts b MASTER)" ]' || fo_fail "graceful: no MASTER hook on b"
master_ms=$(( $(fo_notify_ts b MASTER) - m0 ))
echo "graceful stop: b MASTER (VIP added) after ${master_ms} ms, VIP seen by polling after ${vip_ms} ms, client served after ${serve_ms} ms"
# the hook's stamp and the probe are exact; polling ip(8) adds its own lag
[ "$master_ms" -le 150 ] || fo_fail "graceful: takeover ${master_ms} ms > 150 ms"
[ "$serve_ms" -le 150 ] || fo_fail "graceful: client served after ${serve_ms} ms > 150 ms"
fo_wait 2000 eval '! kill -0 "${FO_AGENT[a]}" 2>/dev/null' || fo_fail "graceful: a did not exit"
fo_has_vip a && fo_fail "graceful: a kept the VIP after exiting"
grep -q "STOP" "$T/notify-a.out" || fo_fail "graceful: no STOP notify"

# 5. restart after SIGKILL: the stale VIP is removed at start-up
fo_start_agent a
fo_wait 5000 fo_single a || fo_fail "restart 2: a not master"
sleep 0.3
kill -KILL "${FO_AGENT[a]}"		# no ExecStopPost this time
fo_wait 2000 fo_has_vip b || fo_fail "stale: b never took over"
fo_has_vip a || fo_fail "stale: expected a stale VIP left on a after SIGKILL"
echo "stale: after SIGKILL a still has the VIP (as expected without ExecStopPost)"
fo_start_agent a
grep -q "removed (stale copy)" "$T/fo-a.log" || fo_fail "stale: a did not report removing its stale VIP"
fo_wait 5000 fo_single a || fo_fail "stale: a not sole master after restart: '$(fo_holders)'"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "stale: b is $(fo_get b state)"
echo "stale: restarted a removed its stale VIP, then preempted; holders: $(fo_holders)"

# notify ran in order on b: BACKUP before MASTER
head -n 1 "$T/notify-b.out" | grep -q " FAULT \| BACKUP " || fo_fail "notify: b's first hook: $(head -n 1 "$T/notify-b.out")"
echo "PASS: t_failover_basic ($FO_SERVER_KIND)"
