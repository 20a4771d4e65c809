#!/usr/bin/env bash
# t_failover_preempt.sh - preempt = true takes the VIP back when the
# higher-priority node returns (after preempt_delay), preempt = false
# leaves the running master alone.
set -u
. "$(dirname "$0")/failover_lib.sh"
fo_init
fo_pick_server

# preempt with a delay of 1 s
fo_pair 200 100 'preempt = true; preempt_delay = "1s";' 'preempt = true;'
fo_wait 5000 fo_single a || fo_fail "election: holders '$(fo_holders)'"
kill -TERM "${FO_AGENT[a]}"
fo_wait 2000 fo_single b || fo_fail "preempt: b did not take over"
sleep 0.2
m0=$(fo_ms)
fo_start_agent a
fo_wait 1000 fo_state_is a BACKUP || fo_fail "preempt: a is $(fo_get a state)"
sleep 0.5
[ "$(fo_holders)" = b ] || fo_fail "preempt: a took over before preempt_delay: '$(fo_holders)'"
fo_wait 4000 fo_single a || fo_fail "preempt: a never preempted ($(fo_get a state))"
took=$(( $(fo_ms) - m0 ))
echo "preempt: a (200) took the VIP back from b (100) ${took} ms after start (preempt_delay 1s)"
[ "$took" -ge 1000 ] || fo_fail "preempt: before preempt_delay (${took} ms)"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "preempt: b is $(fo_get b state)"

# nopreempt: both preempt = false
for n in a b; do kill -TERM "${FO_AGENT[$n]}"; done
fo_wait 3000 eval '! kill -0 "${FO_AGENT[a]}" 2>/dev/null && ! kill -0 "${FO_AGENT[b]}" 2>/dev/null' ||
	fo_fail "agents did not stop"
fo_write_conf a 200 'preempt = false;'
fo_write_conf b 100 'preempt = false;'
fo_start_agent b
fo_wait 3000 fo_single b || fo_fail "nopreempt: b alone not master"
fo_start_agent a
fo_wait 1000 fo_state_is a BACKUP || fo_fail "nopreempt: a is $(fo_get a state)"
for i in $(seq 1 30); do
	[ "$(fo_holders)" = b ] || fo_fail "nopreempt: holders '$(fo_holders)' at sample $i"
	fo_state_is a BACKUP || fo_fail "nopreempt: a left BACKUP"
	sleep 0.05
done
echo "nopreempt: a (200) stayed BACKUP behind b (100) for 1.5 s"
# a real failure still moves the VIP
kill -TERM "${FO_AGENT[b]}"
fo_wait 2000 fo_single a || fo_fail "nopreempt: a did not take over when b stopped"
echo "nopreempt: a took over when b stopped"

# reload (SIGHUP): b comes back as BACKUP, then a new priority 250 with
# preempt on is applied without a restart and b preempts; a broken file
# is refused and the running configuration stays.
fo_write_conf b 100 'preempt = true;'
fo_start_agent b
fo_wait 1000 fo_state_is b BACKUP || fo_fail "reload: b is $(fo_get b state)"
cp "$T/fo-b.conf" "$T/fo-b.good"
echo "bogus = 1;" >>"$T/fo-b.conf"
kill -HUP "${FO_AGENT[b]}"
fo_wait 2000 grep -q "reload failed" "$T/fo-b.log" || fo_fail "reload: bad file not refused"
fo_state_is b BACKUP || fo_fail "reload: b changed state on a bad file"
sed 's/priority = 100;/priority = 250;/' "$T/fo-b.good" >"$T/fo-b.conf"
kill -HUP "${FO_AGENT[b]}"
fo_wait 2000 fo_single b || fo_fail "reload: b (now 250) did not preempt: $(fo_get b priority)"
[ "$(fo_get b priority)" = 250 ] || fo_fail "reload: priority $(fo_get b priority)"
fo_wait 1000 fo_state_is a BACKUP || fo_fail "reload: a is $(fo_get a state)"
echo "reload: bad file refused; priority 100 -> 250 applied, b preempted a"
echo "PASS: t_failover_preempt ($FO_SERVER_KIND)"
