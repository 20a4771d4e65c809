# failover_lib.sh - helpers for the lb-failoverd network-namespace tests.
# Sourced by tests/integ/t_failover_*.sh.  Needs root, ip(8), python3.
#
# Topology (all namespaces created here, removed by fo_cleanup):
#
#   client c 10.77.0.10 --+
#   node   a 10.77.0.1  --+-- bridge br0 (namespace "br")
#   node   b 10.77.0.2  --+
#   backend s1 10.77.0.21 + backend s2 10.77.0.22
#
# Each node runs lb-failoverd (heartbeats over eth0, VIP 10.77.0.100/24 on
# eth0) and something serving VIP:80: real lbd (listener with freebind,
# pool s1+s2, tracked through its control socket) when it works, else a
# stand-in (lbt-backend on 0.0.0.0:80 + a tiny "health" responder).
#
# Every wait is bounded; only PIDs started here are killed.

FO_VIP=10.77.0.100
FO_P="lbfo$$"
FO_PIDS=()
FO_NSS=()
declare -A FO_IP=([a]=10.77.0.1 [b]=10.77.0.2 [c]=10.77.0.10 [s1]=10.77.0.21 [s2]=10.77.0.22)
declare -A FO_AGENT FO_SERVER FO_HEALTH

fo_skip() { echo "SKIP: $*"; exit 77; }
fo_fail() { echo "FAIL: $*"; fo_dump_logs; exit 1; }
fo_ns() { echo "${FO_P}-$1"; }
fo_ms() { date +%s%3N; }

# fo_dump_logs: the tail of every daemon log, for a failure report.
fo_dump_logs() {
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- ${f##*/}"
		tail -n 25 "$f"
	done
}

# fo_cleanup: kill what we started, delete our namespaces and files.
fo_cleanup() {
	local pid ns i
	for pid in "${FO_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 1 50); do
		local alive=0
		for pid in "${FO_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.05
	done
	for pid in "${FO_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${FO_NSS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

# fo_bg CMD...: start in the background, remember the PID (in FO_LAST).
fo_bg() {
	"$@" &
	FO_LAST=$!
	FO_PIDS+=("$FO_LAST")
}

# fo_wait MS CMD...: poll CMD every 10 ms until it succeeds or MS pass.
fo_wait() {
	local ms=$1 end
	shift
	end=$(( $(fo_ms) + ms ))
	while [ "$(fo_ms)" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.01
	done
	"$@"
}

fo_init() {
	[ "$(id -u)" = 0 ] || fo_skip "failover tests need root (network namespaces)"
	command -v ip >/dev/null || fo_skip "ip(8) not installed"
	command -v python3 >/dev/null || fo_skip "python3 not installed"
	# the real interpreter, not a version-manager shim (those take 0.5 s)
	FO_PY=$(python3 -c 'import sys; print(sys.executable)')
	FO_PY="$FO_PY -S"
	: "${LB_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
	[ -x "$LB_BUILD/lb-failoverd" ] || fo_skip "$LB_BUILD/lb-failoverd not built"
	[ -x "$LB_BUILD/tests/tools/lbt-backend" ] ||
		fo_skip "$LB_BUILD/tests/tools/lbt-backend not built"
	ip netns add "${FO_P}-probe" 2>/dev/null ||
		fo_skip "cannot create network namespaces here"
	ip netns del "${FO_P}-probe"
	T=$(mktemp -d /tmp/lbfo.XXXXXX)
	trap fo_cleanup EXIT
	trap 'exit 1' INT TERM
	fo_tools
	fo_topology
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key"
	chmod 600 "$T/key"
}

# fo_topology: namespaces, a bridge, one veth per host.
fo_topology() {
	local br n ns
	br=$(fo_ns br)
	ip netns add "$br" && FO_NSS+=("$br")
	ip -n "$br" link add br0 type bridge forward_delay 0 stp_state 0
	ip -n "$br" link set br0 up
	for n in a b c s1 s2; do
		ns=$(fo_ns "$n")
		ip netns add "$ns" && FO_NSS+=("$ns")
		ip -n "$br" link add "p-$n" type veth peer name eth0 netns "$ns"
		ip -n "$br" link set "p-$n" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "${FO_IP[$n]}/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
	for n in s1 s2; do
		fo_bg ip netns exec "$(fo_ns "$n")" "$LB_BUILD/tests/tools/lbt-backend" \
			--listen "${FO_IP[$n]}:8080" --name "$n" --mode echo >"$T/$n.log" 2>&1
	done
}

# fo_tools: small Python helpers written into $T.
fo_tools() {
	# probe.py VIP PORT GO TIMEOUT_MS: waits for file GO (holding T0 in ns,
	# wall clock), then makes connections through the VIP until one gets
	# a line back; prints "MS_SINCE_T0 LINE TRIES".  Started before the
	# event it measures, so its own start-up is not counted.
	cat >"$T/probe.py" <<'PY'
import os, socket, sys, time
vip, port, go, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t0 = None
for _ in range(30000):
    try:
        with open(go) as f:
            t0 = int(f.read().strip())
        break
    except (OSError, ValueError):
        time.sleep(0.001)
if t0 is None:
    print(-1, "no-go", 0)
    sys.exit(1)
deadline = time.time() + timeout / 1000.0
tries = 0
while time.time() < deadline:
    tries += 1
    s = socket.socket()
    s.settimeout(0.02)  # a LAN connect takes < 1 ms; retry soon
    try:
        s.connect((vip, port))
        s.settimeout(0.5)
        line = s.recv(64)
        if line:
            print((time.time_ns() - t0) // 1000000, line.decode(errors="replace").strip(), tries)
            sys.exit(0)
    except OSError:
        pass
    finally:
        s.close()
    time.sleep(0.005)
print(-1, "none", tries)
sys.exit(1)
PY
	# ctl.py SOCKET KEY...: "json status" over the ctl_proto framing.
	cat >"$T/ctl.py" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"json status\n")
data = b""
while b"\n" not in data:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(1)
    data += chunk
hdr, rest = data.split(b"\n", 1)
n = int(hdr.split()[1])
while len(rest) < n:
    chunk = s.recv(65536)
    if not chunk:
        break
    rest += chunk
j = json.loads(rest[:n])
for k in sys.argv[2:]:
    v = j
    for part in k.split("."):
        v = v[part]
    print(v if isinstance(v, str) else json.dumps(v))
PY
	# health.py SOCKET: stand-in for lbd's control socket ("health" -> OK).
	cat >"$T/health.py" <<'PY'
import os, socket, sys
p = sys.argv[1]
try:
    os.unlink(p)
except OSError:
    pass
s = socket.socket(socket.AF_UNIX)
s.bind(p)
s.listen(16)
while True:
    c, _ = s.accept()
    c.settimeout(1)
    try:
        c.recv(1024)
        c.sendall(b"OK 3\nok\n")
    except OSError:
        pass
    c.close()
PY
}

# fo_write_conf NODE PRIORITY [EXTRA SETTINGS]: the agent's config.
fo_write_conf() {
	local n=$1 prio=$2 extra=${3:-} peer
	[ "$n" = a ] && peer=b || peer=a
	cat >"$T/notify-$n.sh" <<EOF2
#!/bin/sh
echo "\$(date +%s%3N) \$1 \$2 \$3" >>"$T/notify-$n.out"
EOF2
	chmod 755 "$T/notify-$n.sh"
	cat >"$T/fo-$n.conf" <<EOF2
failover = {
  vrid = 51;
  priority = $prio;
  advert_interval = "100ms";
  down_adverts = 3;
  bind = "${FO_IP[$n]}:5405";
  peers = [ "${FO_IP[$peer]}:5405" ];
  interface = "eth0";
  vips = [ "$FO_VIP/24" ];
  auth_key_file = "$T/key";
  track_lbd = "$T/lbd-$n.sock";
  notify = "$T/notify-$n.sh";
  control_socket = "$T/fo-$n.sock";
  $extra
};
EOF2
}

# fo_write_lbd_conf NODE: lbd listening on VIP:80 with freebind.
fo_write_lbd_conf() {
	local n=$1
	cat >"$T/lbd-$n.conf" <<EOF2
workers = 1;
maxconn = 1000;
control_socket = "$T/lbd-$n.sock";
pools = (
  { name = "web"; servers = (
      { name = "s1"; address = "${FO_IP[s1]}:8080"; },
      { name = "s2"; address = "${FO_IP[s2]}:8080"; } ); }
);
listeners = (
  { name = "vip"; bind = "$FO_VIP:80"; pool = "web"; freebind = true; }
);
EOF2
}

# fo_lbd_healthy NODE: lbd (or stand-in) answers "health" with OK.
fo_lbd_healthy() {
	$FO_PY - "$T/lbd-$1.sock" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(1); s.connect(sys.argv[1])
s.sendall(b"health\n"); d = s.recv(256)
sys.exit(0 if d.startswith(b"OK") else 1)
PY
}

# fo_start_server NODE: what serves VIP:80 on the node.  Real lbd when
# FO_SERVER_KIND=lbd (decided once by fo_pick_server), else the stand-in.
fo_start_server() {
	local n=$1 ns
	ns=$(fo_ns "$n")
	if [ "$FO_SERVER_KIND" = lbd ]; then
		fo_write_lbd_conf "$n"
		fo_bg ip netns exec "$ns" "$LB_BUILD/lbd" -d -f "$T/lbd-$n.conf" \
			>>"$T/lbd-$n.log" 2>&1
		FO_SERVER[$n]=$FO_LAST
		FO_HEALTH[$n]=""
	else
		fo_bg ip netns exec "$ns" "$LB_BUILD/tests/tools/lbt-backend" \
			--listen "0.0.0.0:80" --name "node-$n" --mode echo \
			>>"$T/stand-in-$n.log" 2>&1
		FO_SERVER[$n]=$FO_LAST
		fo_bg $FO_PY "$T/health.py" "$T/lbd-$n.sock"
		FO_HEALTH[$n]=$FO_LAST
	fi
	fo_wait 5000 fo_lbd_healthy "$n" || fo_fail "server on node $n never healthy"
}

# fo_kill_server NODE [SIGNAL]
fo_kill_server() {
	local kids
	# lbd's workers are children of the PID we started: take them too
	kids=$(pgrep -P "${FO_SERVER[$1]}" 2>/dev/null)
	kill -"${2:-KILL}" "${FO_SERVER[$1]}" $kids 2>/dev/null
	[ -n "${FO_HEALTH[$1]}" ] && kill -"${2:-KILL}" "${FO_HEALTH[$1]}" 2>/dev/null
	# lbd's workers die with their master (or are orphans of our PID's group)
	sleep 0.05
}

# fo_pick_server: real lbd if it starts and serves in this topology.
fo_pick_server() {
	FO_SERVER_KIND=stand-in
	if [ "${FO_FORCE_STANDIN:-0}" != 1 ] && [ -x "$LB_BUILD/lbd" ]; then
		fo_write_lbd_conf a
		if "$LB_BUILD/lbd" -n -f "$T/lbd-a.conf" >/dev/null 2>&1; then
			FO_SERVER_KIND=lbd
		fi
	fi
	echo "# VIP served by: $FO_SERVER_KIND"
}

# fo_start_agent NODE: lb-failoverd in the node's namespace.
fo_start_agent() {
	local n=$1
	fo_bg ip netns exec "$(fo_ns "$n")" "$LB_BUILD/lb-failoverd" -d \
		-f "$T/fo-$n.conf" >>"$T/fo-$n.log" 2>&1
	FO_AGENT[$n]=$FO_LAST
	# its start-up line (ip netns exec execs, so the PID is the agent's)
	fo_wait 3000 grep -q "\[$FO_LAST\]: lb-failoverd " "$T/fo-$n.log" ||
		fo_fail "agent $n did not start"
}

# fo_get NODE KEY: one field of the agent's "json status".
fo_get() { $FO_PY "$T/ctl.py" "$T/fo-$1.sock" "$2" 2>/dev/null; }

# fo_has_vip NODE: the VIP is configured on the node's eth0.
fo_has_vip() {
	ip -n "$(fo_ns "$1")" -o -4 addr show dev eth0 2>/dev/null |
		grep -q " $FO_VIP/"
}

# fo_holders: the nodes holding the VIP, e.g. "a" or "a b" or "".
fo_holders() {
	local n out=""
	for n in a b; do
		fo_has_vip "$n" && out="$out $n"
	done
	echo "${out# }"
}

fo_state_is() { [ "$(fo_get "$1" state)" = "$2" ]; }

# fo_notify_mark NODE: remember how far NODE's notify output goes.
fo_notify_mark() { FO_MARK=$(cat "$T/notify-$1.out" 2>/dev/null | wc -l); }

# fo_notify_ts NODE STATE: ms timestamp of NODE's first STATE hook run
# after fo_notify_mark (the hook stamps it: transition + fork/exec).
fo_notify_ts() {
	tail -n +"$((FO_MARK + 1))" "$T/notify-$1.out" 2>/dev/null |
		awk -v s="$2" '$2 == s { print $1; exit }'
}

# fo_transitions NODE: how many state transitions the agent logged.
fo_transitions() { grep -c 'state [A-Z]* -> ' "$T/fo-$1.log"; }

# fo_probe T0_NS TIMEOUT_MS: a client connection through the VIP, now.
fo_probe() {
	echo "$1" >"$T/go-now"
	ip netns exec "$(fo_ns c)" $FO_PY "$T/probe.py" "$FO_VIP" 80 "$T/go-now" "$2"
}

# fo_probe_arm TIMEOUT_MS: start a probe that waits for fo_probe_go.
fo_probe_arm() {
	rm -f "$T/go" "$T/probe.out"
	fo_bg ip netns exec "$(fo_ns c)" $FO_PY "$T/probe.py" "$FO_VIP" 80 "$T/go" \
		"$1" >"$T/probe.out" 2>&1
	FO_PROBE=$FO_LAST
	sleep 0.3	# let the interpreter start
}

# fo_probe_go T0_NS: release the armed probe, measuring from T0.
fo_probe_go() { echo "$1" >"$T/go.tmp" && mv "$T/go.tmp" "$T/go"; }

# fo_probe_result: wait for the armed probe; its line in FO_OUT, 0 if
# served.  (Not in $(...): wait needs the PID to be our child.)
fo_probe_result() {
	wait "$FO_PROBE"
	local rc=$?
	FO_OUT=$(cat "$T/probe.out")
	return $rc
}

# fo_client_mac: the client's ARP entry for the VIP ("" when none).
fo_client_mac() {
	ip -n "$(fo_ns c)" neigh show "$FO_VIP" dev eth0 2>/dev/null |
		sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p'
}

fo_node_mac() { ip -n "$(fo_ns "$1")" link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

# fo_pair PRIO_A PRIO_B [EXTRA_A] [EXTRA_B]: both nodes up, a elected.
fo_pair() {
	fo_write_conf a "$1" "${3:-}"
	fo_write_conf b "$2" "${4:-}"
	fo_start_server a
	fo_start_server b
	fo_start_agent a
	fo_start_agent b
}

# fo_expect_single_master TIMEOUT_MS NODE: NODE MASTER + sole VIP holder.
fo_single() { [ "$(fo_holders)" = "$1" ] && fo_state_is "$1" MASTER; }

# fo_need_nft: nft(8) for dropping heartbeats (this kernel has nf_tables
# but no netem/prio qdiscs).  Installs Debian's nftables when missing,
# unless FO_NO_INSTALL=1; skips when that is impossible.
fo_need_nft() {
	command -v nft >/dev/null && return 0
	if [ "${FO_NO_INSTALL:-0}" != 1 ] && command -v apt-get >/dev/null; then
		echo "# installing nftables (apt-get) for heartbeat loss/partition"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends nftables >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends nftables >/dev/null 2>&1; }
	fi
	command -v nft >/dev/null ||
		fo_skip "nft(8) not installed and cannot be installed: cannot drop heartbeats"
}

# fo_nft NODE RULESET: load an nft ruleset inside the node's namespace.
fo_nft() { ip netns exec "$(fo_ns "$1")" nft -f - <<<"$2"; }
fo_nft_flush() { ip netns exec "$(fo_ns "$1")" nft flush ruleset; }
