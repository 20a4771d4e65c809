#!/usr/bin/env bash
# t_failover_forgery.sh - 1,000+ forged, tampered, replayed, stale and
# malformed heartbeats sent into the backup (from the master's own
# address) cause 0 transitions, and each is counted by drop reason.
# The dangerous ones claim "master resigns" or "weak master" so that an
# accepted packet would make the backup take over.
set -u
. "$(dirname "$0")/failover_lib.sh"
fo_init
fo_pick_server
fo_pair 200 100
fo_wait 5000 fo_single a || fo_fail "election: holders '$(fo_holders)'"
fo_wait 1000 fo_state_is b BACKUP || fo_fail "election: b is $(fo_get b state)"
sleep 0.5

cat >"$T/forge.py" <<'PY'
# forge.py KEYFILE SRC DST PORT: sends the attack mix, prints counts.
import hashlib, hmac, os, socket, struct, sys, time
key = open(sys.argv[1], "rb").read().strip()
src, dst, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
kid = struct.unpack(">I", hashlib.sha256(b"lbfo-key-id" + key).digest()[:4])[0]
chash = hashlib.sha256(b"vrid=51;advert=100;down=3;vips=10.77.0.100/24,").digest()[:16]
ADVERT, RESIGN, MASTER = 0, 1, 2
def body(typ, prio, seq, vrid=51, k=kid, state=MASTER, node=0x0a4d0001):
    return struct.pack(">IBBBBBBHIIIQ", 0x4c424652, 1, typ, vrid, prio, state, 3,
                       100, node, k, 0, seq) + chash
def sign(b, secret=key, vrid=51):
    ph = bytes([4, 1, vrid, 0]) + socket.inet_aton(src) + bytes(12)
    return b + hmac.new(secret, ph + b, hashlib.sha256).digest()
def seq(ms):
    return (int(ms) << 20) | int.from_bytes(os.urandom(2), "big")
now = lambda: time.time() * 1000
# capture genuine heartbeats a -> b for the true replays
cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL: sees outgoing
cap.bind(("eth0", 0)); cap.settimeout(0.5)
genuine = []
end = time.time() + 5
while len(genuine) < 20 and time.time() < end:
    try:
        f = cap.recv(2048)
    except socket.timeout:
        continue
    if f[12:14] != b"\x08\x00": continue
    ip = f[14:]; ihl = (ip[0] & 15) * 4
    if ip[9] != 17 or socket.inet_ntoa(ip[16:20]) != dst: continue
    if struct.unpack(">H", ip[ihl + 2:ihl + 4])[0] != port: continue
    if len(ip) >= ihl + 8 + 80: genuine.append(ip[ihl + 8:ihl + 88])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
sent = {}
def send(kind, pkt):
    s.sendto(pkt, (dst, port)); sent[kind] = sent.get(kind, 0) + 1
    time.sleep(0.0005)
for i in range(200):   # no key: random MAC on a "master resigns"
    send("forged", body(RESIGN, 0, seq(now())) + os.urandom(32))
for i in range(100):   # signed with another key, our key id
    send("forged_key", sign(body(RESIGN, 0, seq(now())), secret=os.urandom(32)))
for i in range(150):   # genuine-looking master advert, priority lowered
    p = bytearray(sign(body(ADVERT, 200, seq(now()))))
    p[7] = 1
    send("tampered", bytes(p))
for i in range(100):   # flip one random bit anywhere
    p = bytearray(sign(body(RESIGN, 0, seq(now()))))
    j = int.from_bytes(os.urandom(1), "big") % 80
    p[j] ^= 1 << (i % 8)
    send("bitflip", bytes(p))
for g in genuine:      # captured genuine heartbeats, replayed
    for r in range(8):
        send("replayed_captured", g)
for i in range(150):   # authentic resign, old sequence: replay
    send("replayed_old_seq", sign(body(RESIGN, 0, seq(now() - 1000))))
for i in range(50):    # authentic resign from 10 s ago / 60 s ahead: stale
    send("stale", sign(body(RESIGN, 0, seq(now() - 10000))))
    send("future", sign(body(RESIGN, 0, seq(now() + 60000))))
for i in range(50):    # other virtual router, unknown key id, junk
    send("vrid", sign(body(RESIGN, 0, seq(now()), vrid=52), vrid=52))
    send("key_id", sign(body(RESIGN, 0, seq(now()), k=kid ^ 1)))
    send("short", sign(body(RESIGN, 0, seq(now())))[:60])
    send("magic", b"XXXX" + sign(body(RESIGN, 0, seq(now())))[4:])
print(sum(sent.values()), " ".join("%s=%d" % kv for kv in sorted(sent.items())))
PY

tb=$(fo_transitions b); ta=$(fo_transitions a)
d0=$(fo_get b drops)
out=$(ip netns exec "$(fo_ns a)" $FO_PY "$T/forge.py" "$T/key" "${FO_IP[a]}" "${FO_IP[b]}" 5405) ||
	fo_fail "forger failed: $out"
total=${out%% *}
echo "forgery: sent $out"
[ "$total" -ge 1000 ] || fo_fail "forgery: only $total packets sent"
case $out in *replayed_captured=*) ;; *) fo_fail "forgery: no genuine heartbeat captured to replay";; esac
sleep 1		# past a master-down interval and a resign's skew
d1=$(fo_get b drops)
echo "forgery: b drops before $d0"
echo "forgery: b drops after  $d1"
dropped=$($FO_PY -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(sum(b.values())-sum(a.values()))' "$d0" "$d1")
[ "$(fo_transitions b)" = "$tb" ] || fo_fail "forgery: b made $(( $(fo_transitions b) - tb )) transition(s)"
[ "$(fo_transitions a)" = "$ta" ] || fo_fail "forgery: a made a transition"
fo_single a || fo_fail "forgery: holders '$(fo_holders)', a $(fo_get a state)"
fo_state_is b BACKUP || fo_fail "forgery: b is $(fo_get b state)"
[ "$dropped" -ge "$total" ] || fo_fail "forgery: $total sent but only $dropped dropped"
grep -q "dropped: hmac" "$T/fo-b.log" || fo_fail "forgery: no rate-limited drop log"
lines=$(grep -c "dropped:" "$T/fo-b.log")
echo "forgery: $dropped dropped, 0 transitions, $lines drop log lines (rate-limited)"
[ "$lines" -le 20 ] || fo_fail "forgery: drop logging not rate-limited ($lines lines)"
echo "PASS: t_failover_forgery ($FO_SERVER_KIND)"
