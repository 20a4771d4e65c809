#!/usr/bin/env bash
# t_failover_systemd_boot.sh - systemd/lb-failoverd.service under a real
# systemd (booted in systemd-nspawn) next to systemd/lbd.service: starts
# (Type=notify), tracks lbd through /run/lbd with only CAP_NET_ADMIN and
# CAP_NET_RAW, takes the VIP, reloads, releases the VIP in ExecStopPost
# after a SIGKILL, and releases it on stop.
#
# Needs root, systemd-nspawn and a Debian root file system in
# $LB_SYSTEMD_ROOT, prepared once (about 80 s, 250 MB), for example:
#   apt-get install systemd-container debootstrap
#   debootstrap --variant=minbase --include=systemd,dbus,procps,iproute2,\
#     libnss-systemd,libevent-2.1-7,libconfig9,libssl3 bookworm /var/tmp/lb-root
#   LB_SYSTEMD_ROOT=/var/tmp/lb-root tests/integ/run.sh systemd_boot
# The root is not modified: binaries, units and configs are bind-mounted.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${LB_BUILD:=$top/build}"
R=${LB_SYSTEMD_ROOT:-}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn not installed (apt-get install systemd-container)"
command -v ip >/dev/null || skip "ip(8) not installed"
[ -n "$R" ] && [ -x "$R/lib/systemd/systemd" ] ||
	skip "set LB_SYSTEMD_ROOT to a debootstrapped Debian root (see the header of $0)"
for b in lb-failoverd lbd lbctl tests/tools/lbt-backend; do
	[ -x "$LB_BUILD/$b" ] || skip "$LB_BUILD/$b not built"
done

T=$(mktemp -d /tmp/lbfoboot.XXXXXX)
NS="lbfoboot$$"
NSPAWN=""
cleanup() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		[ -n "${INIT:-}" ] && nsenter -t "$INIT" -a systemctl poweroff >/dev/null 2>&1
		for i in $(seq 1 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NSPAWN" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -n "${INIT:-}" ] && nsenter -t "$INIT" -a journalctl --no-pager -n 40 \
		-u lb-failoverd -u lbd 2>/dev/null
	exit 1
}

# the container's network: a namespace of ours with one veth pair
ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" addr add 10.77.6.1/24 dev eth0
ip -n "$NS" link set eth0 up; ip -n "$NS" link set eth1 up

mkdir -p "$T/etc-lb"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/etc-lb/failover.key"
chmod 600 "$T/etc-lb/failover.key"
cp "$top/etc/notify.sh" "$T/etc-lb/notify.sh"
cat >"$T/etc-lb/lb-failoverd.conf" <<EOF2
failover = {
  vrid = 61; priority = 150;
  bind = "10.77.6.1:5405"; peers = [ "10.77.6.2:5405" ];
  interface = "eth0"; vips = [ "10.77.6.100/24" ];
  auth_key_file = "/etc/lb/failover.key";
  track_lbd = "/run/lbd/lbd.sock";
  notify = "/etc/lb/notify.sh";
};
EOF2
cat >"$T/etc-lb/lbd.conf" <<EOF2
workers = 1;
maxconn = 1000;
control_socket = "/run/lbd/lbd.sock";
pools = ( { name = "web"; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );
listeners = ( { name = "vip"; bind = "10.77.6.100:8080"; pool = "web"; freebind = true; } );
EOF2

# nspawn keeps CAP_NET_ADMIN only for networks it makes itself: grant it
# for ours, as a real host has it.
systemd-nspawn -D "$R" --boot --register=no --keep-unit --console=read-only \
	--machine="lbfo$$" --network-namespace-path="/run/netns/$NS" \
	--capability=CAP_NET_ADMIN \
	--bind-ro="$T/etc-lb:/etc/lb" \
	--bind-ro="$LB_BUILD/lb-failoverd:/usr/local/sbin/lb-failoverd" \
	--bind-ro="$LB_BUILD/lbd:/usr/local/sbin/lbd" \
	--bind-ro="$LB_BUILD/lbctl:/usr/local/bin/lbctl" \
	--bind-ro="$LB_BUILD/tests/tools/lbt-backend:/usr/local/bin/lbt-backend" \
	--bind-ro="$top/systemd/lb-failoverd.service:/etc/systemd/system/lb-failoverd.service" \
	--bind-ro="$top/systemd/lbd.service:/etc/systemd/system/lbd.service" \
	>"$T/nspawn.log" 2>&1 &
NSPAWN=$!
INIT=""
for i in $(seq 1 100); do
	INIT=$(pgrep -P "$NSPAWN" | head -n 1)
	[ -n "$INIT" ] && break
	sleep 0.1
done
[ -n "$INIT" ] || fail "container did not boot: $(tail -n 5 "$T/nspawn.log")"
E() { nsenter -t "$INIT" -a "$@"; }
for i in $(seq 1 300); do
	st=$(E systemctl is-system-running 2>/dev/null)
	case $st in running|degraded) break ;; esac
	sleep 0.1
done
echo "container booted ($st)"

E sh -c 'lbt-backend --listen 127.0.0.1:9001 --name a --mode echo >/dev/null 2>&1 &'
E systemctl start lbd.service || fail "lbd.service did not start"
E systemctl start lb-failoverd.service || fail "lb-failoverd.service did not start"
vip() { E ip -o -4 addr show dev eth0 | grep -q " 10.77.6.100/"; }
for i in $(seq 1 300); do vip && break; sleep 0.01; done
vip || fail "agent never took the VIP"
E lbctl failover >"$T/st" || fail "lbctl failover"
grep -q "^state: *MASTER" "$T/st" && grep -q "^lbd: *healthy" "$T/st" ||
	fail "status: $(cat "$T/st")"
[ "$(E bash -c 'exec 3<>/dev/tcp/10.77.6.100/8080; head -n 1 <&3')" = a ] ||
	fail "no answer through the VIP"
caps=$(E sh -c 'grep CapEff /proc/$(systemctl show -p MainPID --value lb-failoverd)/status')
echo "running: MASTER, tracking lbd, serving the VIP; $caps (NET_ADMIN|NET_RAW = 0x3000)"
case $caps in *0000000000003000) ;; *) fail "effective capabilities $caps";; esac

E systemctl reload lb-failoverd.service || fail "reload"
E systemctl kill -s KILL lb-failoverd.service
gone=0
for i in $(seq 1 100); do vip || { gone=1; break; }; sleep 0.01; done
[ $gone = 1 ] || fail "VIP not released after SIGKILL (ExecStopPost)"
E journalctl --no-pager -u lb-failoverd | grep -q "removed (stale copy)" ||
	fail "ExecStopPost did not report the release"
echo "SIGKILL: ExecStopPost released the VIP"
for i in $(seq 1 300); do vip && break; sleep 0.01; done	# Restart=on-failure
vip || fail "not restarted after SIGKILL"
E systemctl stop lb-failoverd.service
vip && fail "VIP left after stop"
E journalctl --no-pager | grep -q "state=STOP" || fail "no STOP notify"
echo "stop: resigned, VIP released, STOP notify ran"
echo "PASS: t_failover_systemd_boot"
