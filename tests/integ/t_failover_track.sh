#!/usr/bin/env bash
# t_failover_track.sh - lb-failoverd tracks lbd: when the master's lbd
# dies alone (agent still running), the master goes to FAULT and resigns,
# and the backup serves the VIP within 1 s.  When lbd is back, the node
# leaves FAULT (and, with preempt, takes the VIP back).
set -u
. "$(dirname "$0")/failover_lib.sh"
fo_init
fo_pick_server
fo_pair 200 100
fo_wait 5000 fo_single a || fo_fail "election: holders '$(fo_holders)'"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "election: b is $(fo_get b state)"
sleep 0.3

fo_probe_arm 5000
fo_notify_mark b
t0=$(date +%s%N); m0=$(fo_ms)
fo_kill_server a KILL
fo_probe_go "$t0"
fo_wait 3000 fo_has_vip b || fo_fail "lbd died: b never took the VIP"
vip_ms=$(( $(fo_ms) - m0 ))
fo_probe_result || fo_fail "lbd died: no client connection ($FO_OUT)"
serve_ms=${FO_OUT%% *}
fo_wait 1000 fo_state_is a FAULT || fo_fail "lbd died: a is $(fo_get a state)"
fo_has_vip a && fo_fail "lbd died: a in FAULT still holds the VIP"
[ "$(fo_get a vip_holder)" = false ] || fo_fail "lbd died: a reports vip_holder"
fo_wait 1000 eval '[ -n "$(fo_notify_ts b MASTER)" ]' || fo_fail "no MASTER hook on b"
master_ms=$(( $(fo_notify_ts b MASTER) - m0 ))
echo "lbd died alone: a FAULT, b MASTER after ${master_ms} ms, VIP seen after ${vip_ms} ms, client served after ${serve_ms} ms"
[ "$master_ms" -le 1000 ] || fo_fail "lbd died: takeover ${master_ms} ms > 1000 ms"
[ "$vip_ms" -le 1000 ] || fo_fail "lbd died: takeover ${vip_ms} ms > 1000 ms"
[ "$serve_ms" -le 1000 ] || fo_fail "lbd died: client served after ${serve_ms} ms > 1000 ms"
grep -q "FAULT" "$T/notify-a.out" || fo_fail "no FAULT notify on a"

m0=$(fo_ms)
fo_start_server a
fo_wait 5000 fo_single a || fo_fail "lbd back: a did not return to MASTER ($(fo_get a state))"
echo "lbd back: a FAULT -> MASTER after $(( $(fo_ms) - m0 )) ms (includes lbd start)"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "lbd back: b is $(fo_get b state)"
echo "PASS: t_failover_track ($FO_SERVER_KIND)"
