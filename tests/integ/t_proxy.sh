#!/usr/bin/env bash
# t_proxy.sh - the PROXY protocol with real lbd (2 workers):
#   - send_proxy v1 / v2 (pool) and a server's own send_proxy: a backend
#     that parses the header (lbt-proxyecho, its own parser) sees the
#     real client address 127.0.0.7 and the listener's address;
#   - accept_proxy: a client's v1 or v2 header sets the client address
#     that lbd logs and forwards; a v2 LOCAL header keeps the real one;
#   - malformed headers close the connection, are logged (rate-limited)
#     and lbd keeps serving; an incomplete one hits the header timeout;
#   - lbd behind another lbd (front: send_proxy v1, back: accept_proxy,
#     algorithm source) logs and hashes the original clients.
. "$(dirname "$0")/lib.sh"
lb_init t_proxy
PE=$LB_BUILD/tests/tools/lbt-proxyecho
[ -x "$PE" ] || skip "$PE not built"

take_ports 12
pe=${PORTS[0]}
l1=${PORTS[1]} l2=${PORTS[2]} l3=${PORTS[3]} l4=${PORTS[4]}
bg "$PE" serve --listen "127.0.0.1:$pe" --name pe >"$T/pe.out" 2>&1
wait_for 5000 grep -q '^ready' "$T/pe.out" || fail "proxyecho did not start"
for i in 1 2 3; do
	start_backend "s$i" "127.0.0.1:${PORTS[$((4 + i))]}" echo
done
back=${PORTS[8]} front=${PORTS[9]}
{
	conf_head 2
	cat <<EOF2
pools = (
  { name = "v1p"; send_proxy = "v1";
    servers = ( { name = "pe"; address = "127.0.0.1:$pe"; } ); },
  { name = "v2p"; send_proxy = "v2";
    servers = ( { name = "pe"; address = "127.0.0.1:$pe"; } ); },
  { name = "ovr"; send_proxy = "v2";
    servers = ( { name = "pe"; address = "127.0.0.1:$pe"; send_proxy = "v1"; } ); },
  { name = "src"; algorithm = "source";
    servers = ( { name = "s1"; address = "127.0.0.1:${PORTS[5]}"; },
		{ name = "s2"; address = "127.0.0.1:${PORTS[6]}"; },
		{ name = "s3"; address = "127.0.0.1:${PORTS[7]}"; } ); }
);
listeners = (
  { name = "l1"; bind = "127.0.0.1:$l1"; pool = "v1p"; },
  { name = "l2"; bind = "127.0.0.1:$l2"; pool = "v2p"; },
  { name = "l3"; bind = "127.0.0.1:$l3"; pool = "ovr"; },
  { name = "l4"; bind = "127.0.0.1:$l4"; pool = "v2p"; accept_proxy = true; },
  { name = "back"; bind = "127.0.0.1:$back"; pool = "src"; accept_proxy = true; }
);
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$l1"

get() { "$PE" get "$@" 2>&1; }

# Sending.
for l in "$l1 v1" "$l2 v2" "$l3 v1"; do
	set -- $l
	out=$(get "127.0.0.1:$1" --bind 127.0.0.7)
	case $out in
	"pe $2 src=127.0.0.7:"*" dst=127.0.0.1:$1") ;;
	*) fail "send_proxy $2 via port $1: backend saw '$out'" ;;
	esac
done
info "send_proxy v1, v2 and a server override: backend saw 127.0.0.7"

# Accepting.
for v in v1 v2; do
	out=$(get "127.0.0.1:$l4" --proxy $v --src 192.0.2.9:1234 \
	    --dst 198.51.100.1:443)
	[ "$out" = "pe v2 src=192.0.2.9:1234 dst=198.51.100.1:443" ] ||
		fail "accept_proxy $v: backend saw '$out'"
done
wait_for 3000 grep -q "client=192.0.2.9:1234 listener=l4" "$LBD_LOG" ||
	fail "lbd did not log the header's client address"
out=$(get "127.0.0.1:$l4" --bind 127.0.0.8 \
    --raw '\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00')
case $out in
"pe v2 src=127.0.0.8:"*) ;;
*) fail "v2 LOCAL: backend saw '$out'" ;;
esac
info "accept_proxy: v1 and v2 headers set the client; LOCAL keeps the real one"

# Malformed: closed, logged, lbd still serves.
for raw in 'GET / HTTP/1.0\r\n\r\n' \
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n' \
    'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n' \
    '\r\n\r\n\0\r\nQUIT\n\x11\x11\x00\x0c' \
    '\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0f\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02\x04\x00\x09'; do
	out=$(get "127.0.0.1:$l4" --raw "$raw" --timeout 3000)
	[ "$out" = closed ] || fail "malformed header '$raw': got '$out'"
done
grep -q "malformed PROXY header" "$LBD_LOG" || fail "malformed header not logged"
n=$(grep -c "malformed PROXY header" "$LBD_LOG")
[ "$n" -le 2 ] || fail "$n log lines for 5 bad headers in a second: not rate-limited"
out=$(get "127.0.0.1:$l4" --proxy v1 --src 192.0.2.10:1 --dst 192.0.2.11:2)
[ "$out" = "pe v2 src=192.0.2.10:1 dst=192.0.2.11:2" ] ||
	fail "lbd stopped serving after bad headers: '$out'"
info "5 malformed headers closed, logged $n time(s), lbd still serves"

# A header that never completes: closed by the header timeout (5 s).
out=$(get "127.0.0.1:$l4" --raw 'PROXY TCP4 1.2.3.4' --timeout 15000)
[ "$out" = closed ] || fail "incomplete header: got '$out'"
wait_for 3000 grep -q "no complete PROXY header in time" "$LBD_LOG" ||
	fail "header timeout not logged"
info "an incomplete header is closed by the header timeout"
"$LB_BUILD/lbctl" -s "$T/lbd.sock" --json pools >"$T/pools.json" ||
	fail "lbctl pools"
grep -q '"name":"v2p"[^}]*"bad_proxy":6' "$T/pools.json" ||
	fail "pool v2p should count 6 bad headers: $(cat "$T/pools.json")"

# lbd behind lbd: the front sends v1 to the back's accept_proxy listener.
sed -e "s|$T/lbd.sock|$T/front.sock|" "$T/lbd.conf" | awk '/^pools/ { exit } { print }' >"$T/front.conf"
cat >>"$T/front.conf" <<EOF2
pools = ( { name = "b"; send_proxy = "v1";
	servers = ( { name = "back"; address = "127.0.0.1:$back"; } ); } );
listeners = ( { name = "front"; bind = "127.0.0.1:$front"; pool = "b"; } );
EOF2
bg "$LBD" -d -f "$T/front.conf" >"$T/front.log" 2>&1
wait_for 10000 port_listening "$front" || fail "front lbd did not start"
declare -A home
for ip in $(seq -f "127.0.0.%g" 10 29); do
	"$PE" get "127.0.0.1:$front" --bind "$ip" -n 3 >"$T/who.out" ||
		fail "via front, $ip: $(cat "$T/who.out")"
	[ "$(sort -u "$T/who.out" | wc -l)" -eq 1 ] ||
		fail "via front, $ip went to $(sort -u "$T/who.out" | tr '\n' ' ')"
	home[$ip]=$(head -n 1 "$T/who.out")
	grep -q "client=$ip:[0-9]* listener=back" "$LBD_LOG" ||
		wait_for 3000 grep -q "client=$ip:[0-9]* listener=back" "$LBD_LOG" ||
		fail "back lbd did not log the original client $ip"
done
used=$(printf '%s\n' "${home[@]}" | sort -u | tr '\n' ' ')
[ "$(echo $used | wc -w)" -ge 2 ] ||
	fail "20 original clients all hashed to $used: back hashes the front?"
info "via a front lbd: 20 clients logged and hashed by their own address ($used)"
pass
