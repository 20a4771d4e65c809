#!/usr/bin/env bash
# t_failover_loss.sh - 2% random loss of heartbeats (both ways, nftables
# numgen in each node's namespace) for 60 s causes 0 transitions.
# FO_LOSS_SECONDS shortens the run (minimum 20; printed when shortened).
set -u
. "$(dirname "$0")/failover_lib.sh"
fo_init
fo_need_nft
fo_pick_server
secs=${FO_LOSS_SECONDS:-60}
[ "$secs" -ge 20 ] 2>/dev/null || secs=20
[ "$secs" -lt 60 ] && echo "# NOTE: loss run shortened to ${secs} s (FO_LOSS_SECONDS)"
fo_pair 200 100
fo_wait 5000 fo_single a || fo_fail "election: holders '$(fo_holders)'"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "election: b is $(fo_get b state)"
sleep 0.5
ta=$(fo_transitions a); tb=$(fo_transitions b)
for n in a b; do
	fo_nft "$n" "table inet lbfo {
	chain in {
		type filter hook input priority 0;
		udp dport 5405 numgen random mod 100 < 2 counter drop
	}
}" || fo_fail "nft rule"
done
rx0=$(fo_get b counters.rx)
end=$(( $(fo_ms) + secs * 1000 ))
while [ "$(fo_ms)" -lt "$end" ]; do
	[ "$(fo_holders)" = a ] || fo_fail "loss: holders '$(fo_holders)'"
	sleep 1
done
lost=$(ip netns exec "$(fo_ns b)" nft list ruleset | sed -n 's/.*packets \([0-9]*\).*/\1/p')
rx1=$(fo_get b counters.rx)
for n in a b; do fo_nft_flush "$n"; done
da=$(( $(fo_transitions a) - ta )); db=$(( $(fo_transitions b) - tb ))
echo "loss: ${secs} s at 2%: b received $((rx1 - rx0)) heartbeats, ${lost:-?} dropped by nft; transitions a=$da b=$db"
[ "$da" = 0 ] && [ "$db" = 0 ] || fo_fail "loss: transitions a=$da b=$db"
fo_single a || fo_fail "loss: a not sole master"
echo "PASS: t_failover_loss ($FO_SERVER_KIND)"
