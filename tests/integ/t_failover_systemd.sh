#!/usr/bin/env bash
# t_failover_systemd.sh - systemd/lb-failoverd.service passes
# `systemd-analyze verify` with nothing on stderr; etc/lb-failoverd.conf
# validates; -n reports FILE:LINE errors and refuses a loose key file;
# and (as root, in a namespace made here) the agent speaks sd_notify:
# READY=1, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM, to an abstract
# $NOTIFY_SOCKET ("@..."), and --release-vips removes a left-over VIP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${LB_BUILD:=$top/build}"
fod="$LB_BUILD/lb-failoverd"
[ -x "$fod" ] || { echo "SKIP: $fod not built"; exit 77; }
T=$(mktemp -d /tmp/lbfosd.XXXXXX)
NS="lbfosd$$"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1. unit file
if command -v systemd-analyze >/dev/null; then
	sed "s#/usr/local/sbin/lb-failoverd#$fod#g" "$top/systemd/lb-failoverd.service" \
		>"$T/lb-failoverd.service"
	systemd-analyze verify "$T/lb-failoverd.service" >"$T/verify.out" 2>"$T/verify.err"
	rc=$?
	[ $rc = 0 ] && [ ! -s "$T/verify.err" ] ||
		fail "systemd-analyze verify: rc $rc: $(cat "$T/verify.err")"
	echo "systemd-analyze verify: clean"
else
	echo "# systemd-analyze not installed: unit not verified"
fi

# 2. sample config and -n
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key"
chmod 600 "$T/key"
sed "s#/etc/lb/failover.key#$T/key#" "$top/etc/lb-failoverd.conf" >"$T/sample.conf"
"$fod" -n -f "$T/sample.conf" >/dev/null || fail "etc/lb-failoverd.conf does not validate"
chmod 640 "$T/key"
"$fod" -n -f "$T/sample.conf" 2>"$T/err" && fail "-n accepted a key file of mode 0640"
grep -q "too open" "$T/err" || fail "no 'too open' message: $(cat "$T/err")"
chmod 600 "$T/key"
printf 'failover = {\n  vrid = 51;\n  priority = 0;\n  colour = "red";\n};\n' >"$T/bad.conf"
"$fod" -n -f "$T/bad.conf" 2>"$T/err" && fail "-n accepted a bad file"
grep -q "^$T/bad.conf:3: priority must be 1..254" "$T/err" || fail "no line 3 error: $(cat "$T/err")"
grep -q "^$T/bad.conf:4: unknown setting \"failover.colour\"" "$T/err" || fail "no line 4 error"
"$fod" -v | grep -q "^lb-failoverd " || fail "-v"
echo "config: sample validates, errors carry FILE:LINE, loose key refused"

# 3. sd_notify and --release-vips (root + ip only)
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v python3 >/dev/null; then
	echo "SKIP: sd_notify part needs root, ip(8) and python3 (first parts passed)"
	exit 77
fi
PY="$(python3 -c 'import sys; print(sys.executable)') -S"
ip netns add "$NS" || { echo "SKIP: cannot create a network namespace"; exit 77; }
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" addr add 10.77.9.1/24 dev eth0
ip -n "$NS" link set eth0 up; ip -n "$NS" link set eth1 up; ip -n "$NS" link set lo up
cat >"$T/fo.conf" <<EOF2
failover = {
  vrid = 9; priority = 100;
  bind = "10.77.9.1:5405"; peers = [ "10.77.9.2:5405" ];
  interface = "eth0"; vips = [ "10.77.9.100/24" ];
  auth_key_file = "$T/key"; control_socket = "$T/fo.sock";
};
EOF2
cat >"$T/listen.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1]); s.settimeout(0.2)
end = time.time() + 20
with open(sys.argv[2], "a") as out:
    while time.time() < end:
        try:
            d = s.recv(4096).decode()
        except socket.timeout:
            continue
        out.write(d.replace("\n", " ") + "\n"); out.flush()
        if "STOPPING=1" in d:
            break
PY
# abstract sockets belong to a network namespace: listen in the agent's
ip netns exec "$NS" $PY "$T/listen.py" "lbfosd$$" "$T/notify.out" &
PIDS+=($!)
sleep 0.3
# a stale VIP, as a SIGKILLed agent would leave it
ip -n "$NS" addr add 10.77.9.100/24 dev eth0
NOTIFY_SOCKET="@lbfosd$$" ip netns exec "$NS" "$fod" -d -f "$T/fo.conf" >"$T/fo.log" 2>&1 &
agent=$!
PIDS+=($agent)
wait_for() { local i; for i in $(seq 1 300); do grep -q "$1" "$T/notify.out" 2>/dev/null && return 0; sleep 0.01; done; return 1; }
wait_for "READY=1" || fail "no READY=1"
kill -HUP "$agent"
wait_for "RELOADING=1" || fail "no RELOADING=1 on SIGHUP"
sleep 0.6		# alone: it becomes MASTER and adds the VIP
ip -n "$NS" -o addr show dev eth0 | grep -q "10.77.9.100/" || fail "alone, the agent did not take the VIP"
kill -KILL "$agent"; wait "$agent" 2>/dev/null
ip -n "$NS" -o addr show dev eth0 | grep -q "10.77.9.100/" || fail "no stale VIP after SIGKILL"
ip netns exec "$NS" "$fod" -f "$T/fo.conf" --release-vips >>"$T/fo.log" 2>&1 || fail "--release-vips failed"
ip -n "$NS" -o addr show dev eth0 | grep -q "10.77.9.100/" && fail "--release-vips left the VIP"
# start again, stop with SIGTERM: STOPPING=1 and the VIP released
NOTIFY_SOCKET="@lbfosd$$" ip netns exec "$NS" "$fod" -d -f "$T/fo.conf" >>"$T/fo.log" 2>&1 &
agent=$!
PIDS+=($agent)
sleep 0.8
kill -TERM "$agent"
wait_for "STOPPING=1" || fail "no STOPPING=1 on SIGTERM"
wait "$agent" || fail "agent exit status $? after SIGTERM"
ip -n "$NS" -o addr show dev eth0 | grep -q "10.77.9.100/" && fail "VIP left after SIGTERM"
grep -q "removed (stale copy)" "$T/fo.log" || fail "stale VIP removal not logged"
echo "sd_notify: $(tr '\n' '|' <"$T/notify.out")"
echo "PASS: t_failover_systemd"
