#!/usr/bin/env bash
# t_failover_partition.sh - a's heartbeats to b are dropped (nftables in
# a's namespace): b takes over (split brain, both hold the VIP; a answers
# b's adverts at once and re-announces).  When heartbeats flow again,
# exactly one master (a) remains within 2 advert intervals, and the
# client's ARP entry for the VIP points to a.
set -u
. "$(dirname "$0")/failover_lib.sh"
fo_init
fo_need_nft
fo_pick_server
fo_pair 200 100
fo_wait 5000 fo_single a || fo_fail "election: holders '$(fo_holders)'"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "election: b is $(fo_get b state)"
fo_probe "$(date +%s%N)" 3000 >/dev/null || fo_fail "no client connection"

fo_nft a "table inet lbfo {
	chain out {
		type filter hook output priority 0;
		ip daddr ${FO_IP[b]} udp dport 5405 drop
	}
}" || fo_fail "nft rule"
fo_wait 2000 fo_state_is b MASTER || fo_fail "partition: b did not take over"
sleep 1.2
fo_state_is a MASTER || fo_fail "partition: a is $(fo_get a state)"
grep -q "split brain" "$T/fo-a.log" || fo_fail "partition: a did not report the split brain"
echo "partition: split brain as expected (holders: $(fo_holders)); a re-announces"
fo_probe "$(date +%s%N)" 3000 >/dev/null	# the client uses the VIP

nb=$(wc -l <"$T/notify-b.out")
t_heal=$(fo_ms)
fo_nft_flush a
fo_wait 2000 fo_state_is b BACKUP || fo_fail "heal: b still $(fo_get b state)"
# b's notify hook stamps the transition time (ms)
ts=$(tail -n +"$((nb + 1))" "$T/notify-b.out" | awk '$2 == "BACKUP" { print $1; exit }')
[ -n "$ts" ] || fo_fail "heal: no BACKUP notify on b"
heal_ms=$(( ts - t_heal ))
fo_wait 1000 fo_single a || fo_fail "heal: holders '$(fo_holders)'"
amac=$(fo_node_mac a)
fo_wait 1000 eval '[ "$(fo_client_mac)" = "$amac" ]' ||
	fo_fail "heal: client ARP for VIP is $(fo_client_mac), a is $amac"
echo "heal: one master (a) after ${heal_ms} ms; client ARP $FO_VIP -> $(fo_client_mac) (a)"
[ "$heal_ms" -le 200 ] || fo_fail "heal: ${heal_ms} ms > 2 advert intervals"
fo_probe "$(date +%s%N)" 3000 >/dev/null || fo_fail "heal: no client connection"
echo "PASS: t_failover_partition ($FO_SERVER_KIND)"
