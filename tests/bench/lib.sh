# lib.sh - helpers of tests/bench/run.sh (sourced, bash): packages,
# process bookkeeping, /proc accounting and the balancers' config files.
# Every wait here is a bounded poll; every process is started by us and
# stopped by its PID.

# Packages the comparison needs, as "command-or-file:package".
BENCH_NEEDS="haproxy:haproxy nginx:nginx
/usr/lib/nginx/modules/ngx_stream_module.so:libnginx-mod-stream
iperf3:iperf3 gnuplot:gnuplot-nox"

have() {
	case "$1" in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

# Installs what is missing.  Debian's haproxy and nginx packages start
# their system services on install: a policy-rc.d that answers 101 keeps
# them stopped (we add one only when none exists, and remove it after),
# and any service that runs anyway is stopped and disabled.
ensure_packages() {
	local missing="" item cmd pkg made_policy=0 sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	for item in $BENCH_NEEDS; do
		cmd=${item%%:*}; pkg=${item##*:}
		have "$cmd" || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	echo "bench: installing$missing" >&2
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
		$sudo chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	$sudo apt-get update -qq >&2 &&
	    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $missing >&2 ||
	    echo "bench: apt-get failed; missing tools are skipped" >&2
	[ "$made_policy" = 1 ] && $sudo rm -f /usr/sbin/policy-rc.d
	stop_system_services $sudo
}

stop_system_services() {
	local svc sudo=${1:-}
	for svc in haproxy nginx; do
		if [ -d /run/systemd/system ]; then
			$sudo systemctl disable --now "$svc" >/dev/null 2>&1
		elif [ -x "/etc/init.d/$svc" ]; then
			$sudo "/etc/init.d/$svc" stop >/dev/null 2>&1
		fi
	done
}

# PIDs of a process tree: the root, then its descendants.
tree_pids() {
	local p c
	for p in "$@"; do
		[ -d "/proc/$p" ] || continue
		echo "$p"
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			tree_pids "$c"
		done
	done
}

# utime+stime of every process in the tree, in seconds.
tree_cpu() {
	local p tck sum=0 t
	tck=$(getconf CLK_TCK)
	for p in $(tree_pids "$1"); do
		t=$(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null |
		    awk '{ print $12 + $13 }')
		sum=$((sum + ${t:-0}))
	done
	awk -v s="$sum" -v t="$tck" 'BEGIN { printf "%.3f", s / t }'
}

# Voluntary context switches (times it slept) over the tree.
tree_sleeps() {
	local p sum=0 v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^voluntary_ctxt_switches:/ { print $2 }' \
		    /proc/"$p"/status 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# Sum of VmRSS (KiB) over the tree.
tree_rss() {
	local p sum=0 r
	for p in $(tree_pids "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' /proc/"$p"/status 2>/dev/null)
		sum=$((sum + ${r:-0}))
	done
	echo "$sum"
}

# "FDS PIPES": open fds over the tree, and how many of them are pipes
# (one find per process: thousands of fds must not cost a fork each).
tree_fds() {
	local p fds=0 pipes=0 n
	for p in $(tree_pids "$1"); do
		n=$(find /proc/"$p"/fd -mindepth 1 2>/dev/null | wc -l)
		fds=$((fds + n))
		n=$(find /proc/"$p"/fd -mindepth 1 -lname 'pipe:*' 2>/dev/null |
		    wc -l)
		pipes=$((pipes + n))
	done
	echo "$fds $pipes"
}

# Waits (at most ~5 s) until something listens on 127.0.0.1:PORT.
wait_port() {
	local i
	for i in $(seq 1 100); do
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	echo "bench: nothing listens on port $1" >&2
	return 1
}

# Sends SIGTERM to PID, waits up to 5 s, then SIGKILL.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Config files: the same two services for every balancer, one worker:
# PORT (echo pool of the four lbbench backends, leastconn) and PORT+1
# (one iperf3 server, so iperf3's control and data connections meet).
write_lbd_conf() {
	cat >"$1" <<EOF
workers = 1; maxconn = $BENCH_MAXCONN; control_socket = "$TMP/lbd.sock";
log = { facility = "daemon"; connections = false; };
timeouts = { connect = "3s"; idle = "5m"; drain = "1s"; };
pools = (
  { name = "bench"; algorithm = "leastconn"; retries = 2;
    servers = ( { name = "b1"; address = "127.0.0.1:9101"; },
                { name = "b2"; address = "127.0.0.1:9102"; },
                { name = "b3"; address = "127.0.0.1:9103"; },
                { name = "b4"; address = "127.0.0.1:9104"; } ); },
  { name = "iperf"; algorithm = "leastconn"; retries = 2;
    servers = ( { name = "i1"; address = "127.0.0.1:9201"; } ); } );
listeners = (
  { name = "bench"; bind = "127.0.0.1:$2"; pool = "bench"; backlog = 4096; },
  { name = "iperf"; bind = "127.0.0.1:$(($2 + 1))"; pool = "iperf";
    backlog = 4096; } );
EOF
}

write_haproxy_conf() {
	cat >"$1" <<EOF
global
    nbthread 1
    maxconn $BENCH_MAXCONN
defaults
    mode tcp
    retries 2
    timeout connect 3s
    timeout client 5m
    timeout server 5m
    option splice-auto
frontend bench
    bind 127.0.0.1:$2 backlog 4096
    default_backend bench
backend bench
    balance leastconn
    server b1 127.0.0.1:9101
    server b2 127.0.0.1:9102
    server b3 127.0.0.1:9103
    server b4 127.0.0.1:9104
frontend iperf
    bind 127.0.0.1:$(($2 + 1)) backlog 4096
    default_backend iperf
backend iperf
    balance leastconn
    server i1 127.0.0.1:9201
EOF
}

write_nginx_conf() {
	cat >"$1" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections $((BENCH_MAXCONN * 2 + 64)); }
stream {
    upstream bench {
        zone bench 64k;
        least_conn;
        server 127.0.0.1:9101;
        server 127.0.0.1:9102;
        server 127.0.0.1:9103;
        server 127.0.0.1:9104;
    }
    upstream iperf {
        zone iperf 64k;
        least_conn;
        server 127.0.0.1:9201;
    }
    proxy_connect_timeout 3s;
    proxy_timeout 5m;
    server { listen 127.0.0.1:$2 backlog=4096; proxy_pass bench; }
    server { listen 127.0.0.1:$(($2 + 1)) backlog=4096; proxy_pass iperf; }
}
EOF
}
