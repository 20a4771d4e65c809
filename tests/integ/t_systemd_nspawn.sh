#!/usr/bin/env bash
# t_systemd_nspawn.sh - lbd as installed, under a real systemd.
#
# Runs only with LB_SYSTEMD_TEST=1, as root.  It boots a minimal Debian 12
# (debootstrap --variant=minbase, cached in $LB_BUILD/../build/nspawn/root
# after the first run: about 40 s and 260 MB) with systemd-nspawn in a
# private network namespace (only its own loopback), on a throw-away
# overlay of the cached root, and there:
#   - `make install DESTDIR=<root> PREFIX=/usr/local` puts lbd, lbctl,
#     lb-failoverd, their units and pages where a package would;
#   - `systemctl start lbd` (Type=notify, DynamicUser): active, serves a
#     backend that runs in the container;
#   - `systemctl reload lbd` while 20 connections are held and a 64 MiB
#     echo transfer is in flight: the unit stays active, a new generation
#     serves, the held connections stay open and the transfer completes
#     intact;
#   - `systemctl stop lbd`: inactive, Result=success, exit status 0;
#   - its syslog lines are in the journal (journalctl -t lbd: started,
#     reload, stopped);
#   - `systemd-analyze security --offline=yes` exposure of lbd.service and
#     lb-failoverd.service, printed (full tables in
#     $LB_BUILD/integ-logs/security-*.txt).
# lb-failoverd is installed and its unit analysed here, but it is started
# (VIP, tracking lbd, reload, SIGKILL) by t_failover_systemd_boot.sh.
# Needs debootstrap and systemd-container (installed with apt-get when
# missing) and overlayfs.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${LB_BUILD:=$top/build}"
name=t_systemd_nspawn
skip() { echo "SKIP $name: $*"; exit 77; }
info() { echo "  $*"; }

[ "${LB_SYSTEMD_TEST:-}" = 1 ] ||
	skip "boots a Debian container under systemd-nspawn (root, ~1 min, 260 MB cached in build/nspawn); run with LB_SYSTEMD_TEST=1"
[ "$(id -u)" -eq 0 ] || skip "needs root"
# The container gets the plain build: a sanitizer build needs runtimes
# the minimal image does not have.
case $LB_BUILD in */asan|*/asan/) skip "not under the ASan build (the container has no libasan); the plain run covers it" ;; esac

need_pkgs=""
command -v debootstrap >/dev/null || need_pkgs="$need_pkgs debootstrap"
command -v systemd-nspawn >/dev/null || need_pkgs="$need_pkgs systemd-container"
if [ -n "$need_pkgs" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$need_pkgs >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$need_pkgs >/dev/null 2>&1; } ||
		skip "cannot install$need_pkgs"
fi

cache=$top/build/nspawn
base=$cache/root
T=$(mktemp -d /tmp/lbnspawn.XXXXXX)
R=$T/merged
NSPAWN="" INIT=""
cleanup() {
	local i
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		[ -n "$INIT" ] && nsenter -t "$INIT" -a systemctl poweroff >/dev/null 2>&1
		for i in $(seq 1 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NSPAWN" 2>/dev/null
		wait "$NSPAWN" 2>/dev/null
	fi
	mountpoint -q "$R" && umount "$R"
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL $name: $*"
	[ -n "$INIT" ] && nsenter -t "$INIT" -a journalctl --no-pager -n 30 -u lbd 2>/dev/null | sed 's/^/  | /'
	exit 1
}

# The cached image; built once (a lock keeps two runs from racing).
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 600 9 || fail "another run holds $cache/.lock"
if [ ! -x "$base/lib/systemd/systemd" ]; then
	info "building the Debian image in $base (debootstrap, about 40 s)"
	rm -rf "$base.tmp"
	debootstrap --variant=minbase \
	    --include=systemd,dbus,procps,iproute2,libnss-systemd,rsyslog,libevent-2.1-7,libconfig9,libssl3 \
	    bookworm "$base.tmp" >"$cache/debootstrap.log" 2>&1 ||
		skip "debootstrap failed (no network?): $(tail -n 2 "$cache/debootstrap.log")"
	mv "$base.tmp" "$base"
fi
flock -u 9

mkdir -p "$T/upper" "$T/work" "$R"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$T/upper,workdir=$T/work" "$R" ||
	skip "cannot mount an overlay over $base"

# Install as a package would (the plain build).
make -C "$top" --no-print-directory install DESTDIR="$R" PREFIX=/usr/local \
    BUILD="$top/build" >"$T/install.log" 2>&1 || fail "make install: $(tail -n 5 "$T/install.log")"
info "make install DESTDIR=<root> PREFIX=/usr/local: $(grep -c '^install' "$T/install.log") files"
for f in usr/local/sbin/lbd usr/local/sbin/lb-failoverd usr/local/bin/lbctl \
    usr/local/lib/systemd/system/lbd.service usr/local/lib/systemd/system/lb-failoverd.service; do
	[ -e "$R/$f" ] || fail "make install did not put /$f"
done
install -m 0755 "$top/build/tests/tools/lbt-backend" "$top/build/tests/tools/lbt-client" "$R/usr/local/bin/"
cat >"$R/etc/lb/lbd.conf" <<'EOF'
workers = 2;
maxconn = 1000;
control_socket = "/run/lbd/lbd.sock";
state_file = "/var/lib/lbd/state";
timeouts = { connect = "2s"; idle = "5m"; drain = "20s"; };
pools = ( { name = "web"; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );
listeners = ( { name = "web"; bind = "127.0.0.1:8080"; pool = "web"; } );
EOF
chmod 0644 "$R/etc/lb/lbd.conf"

systemd-nspawn -D "$R" --boot --register=no --keep-unit --console=read-only \
	--private-network --machine="lbns$$" >"$T/nspawn.log" 2>&1 &
NSPAWN=$!
# The container's PID 1: a process named systemd under nspawn (its
# direct child, or one level further down while nspawn sets up).
find_init() {
	local c g
	for c in $(pgrep -P "$NSPAWN"); do
		for g in $c $(pgrep -P "$c"); do
			[ "$(cat "/proc/$g/comm" 2>/dev/null)" = systemd ] && { echo "$g"; return 0; }
		done
	done
	return 1
}
for i in $(seq 1 100); do
	INIT=$(find_init) && break
	sleep 0.1
done
[ -n "$INIT" ] || fail "container did not start: $(tail -n 5 "$T/nspawn.log")"
E() { nsenter -t "$INIT" -a "$@"; }
st=""
for i in $(seq 1 300); do
	st=$(E systemctl is-system-running 2>/dev/null)
	case $st in running|degraded) break ;; esac
	sleep 0.1
done
case $st in running|degraded) ;; *) fail "container not booted: $st" ;; esac
info "container booted ($st): $(E systemctl --version | head -n 1)"

E systemd-run --quiet --unit=lbt-backend /usr/local/bin/lbt-backend \
    --listen 127.0.0.1:9001 --name a --mode echo || fail "backend unit"
E systemctl daemon-reload
E systemctl start lbd.service || fail "systemctl start lbd"
[ "$(E systemctl is-active lbd.service)" = active ] || fail "lbd.service not active"
main=$(E systemctl show -p MainPID --value lbd.service)
info "lbd.service active, main pid $main (container), user $(E ps -o user= -p "$main")"
E lbt-client who 127.0.0.1:8080 -n 20 >"$T/who1.out" 2>&1 || fail "no service: $(cat "$T/who1.out")"
grep -q '^a 20$' "$T/who1.out" || fail "who: $(cat "$T/who1.out")"
info "20 connections through lbd in the container: all answered by a"

# Reload with traffic in flight.
E sh -c 'lbt-client hold 127.0.0.1:8080 -n 20 -t 60 </dev/null >/run/hold.out 2>&1 &'
E sh -c '{ lbt-client bulk 127.0.0.1:8080 -b 67108864 --wait-file /run/go >/run/bulk.out 2>&1; echo rc=$? >>/run/bulk.out; } </dev/null >/dev/null 2>&1 &'
held() { E grep -q '^held 20 failed 0' /run/hold.out; }
conn() { E grep -q '^connected' /run/bulk.out; }
for i in $(seq 1 100); do held && conn && break; sleep 0.1; done
held && conn || fail "could not hold 20 connections and start a transfer"
gen0=$(E lbctl -s /run/lbd/lbd.sock --json status | grep -o '"generation": *[0-9]*' | grep -o '[0-9]*$')
E systemctl reload lbd.service || fail "systemctl reload lbd"
[ "$(E systemctl is-active lbd.service)" = active ] || fail "lbd.service not active after reload"
gen1=$(E lbctl -s /run/lbd/lbd.sock --json status | grep -o '"generation": *[0-9]*' | grep -o '[0-9]*$')
[ "$gen1" -gt "$gen0" ] || fail "generation $gen0 -> $gen1 after reload"
E touch /run/go
for i in $(seq 1 200); do E grep -q '^rc=' /run/bulk.out && break; sleep 0.1; done
E grep -q '^rc=0' /run/bulk.out || fail "the transfer across the reload failed: $(E cat /run/bulk.out)"
E grep -q peer_closed /run/hold.out && fail "a held connection was closed by the reload"
E lbt-client who 127.0.0.1:8080 -n 20 >"$T/who2.out" 2>&1 || fail "no service after reload"
[ "$(E systemctl show -p MainPID --value lbd.service)" = "$main" ] || fail "the main pid changed on reload"
info "systemctl reload: generation $gen0 -> $gen1, same main pid, 20 held connections kept, 64 MiB echoed intact across it, new clients served"

E pkill -f 'lbt-client hold' 2>/dev/null
E systemctl stop lbd.service
st=$(E systemctl show -p ActiveState,Result,ExecMainStatus lbd.service | tr '\n' ' ')
info "after systemctl stop: $st"
case $st in *ActiveState=inactive*Result=success*ExecMainStatus=0*|*ExecMainStatus=0*ActiveState=inactive*Result=success*) ;;
	*) case $st in *ActiveState=inactive*) ;; *) fail "not stopped: $st" ;; esac
	   echo "$st" | grep -q 'Result=success' || fail "unclean stop: $st"
	   echo "$st" | grep -q 'ExecMainStatus=0' || fail "exit status: $st" ;;
esac

E journalctl --no-pager -t lbd >"$T/journal.txt" 2>&1
for pat in 'started: 2 workers' 'reload' 'lbd stopped'; do
	grep -qi "$pat" "$T/journal.txt" || fail "no '$pat' in journalctl -t lbd: $(tail -n 5 "$T/journal.txt")"
done
info "journalctl -t lbd: $(wc -l <"$T/journal.txt") lines, e.g.: $(grep -m1 ' started: 2 workers' "$T/journal.txt" | cut -c1-160)"

mkdir -p "$LB_BUILD/integ-logs"
for u in lbd lb-failoverd; do
	E systemd-analyze security --offline=yes "/usr/local/lib/systemd/system/$u.service" \
	    >"$LB_BUILD/integ-logs/security-$u.txt" 2>&1
	line=$(grep -i 'overall exposure level' "$LB_BUILD/integ-logs/security-$u.txt" | tail -n 1)
	[ -n "$line" ] || fail "systemd-analyze security $u: $(tail -n 3 "$LB_BUILD/integ-logs/security-$u.txt")"
	info "systemd-analyze security --offline=yes $u.service: ${line#*→ }"
done

E systemctl poweroff >/dev/null 2>&1
for i in $(seq 1 150); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
kill -0 "$NSPAWN" 2>/dev/null && fail "container did not power off"
wait "$NSPAWN" 2>/dev/null
NSPAWN=""
info "container powered off"
echo "PASS $name"
