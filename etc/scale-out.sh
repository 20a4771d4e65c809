#!/bin/sh
# scale-out.sh - example autoscale hook for lbd: starts one more local
# demo backend (lbt-backend) and adds it to the pool with lbctl.
#
# lbd runs it (see lbd.conf(5), "Autoscaling") with, in its environment:
#   POOL          the pool to grow
#   CURRENT       its healthy servers now; DESIRED how many lbd wants
#   REASON        above_target or below_min
#   LBCTL_SOCKET  lbd's control socket (lbctl reads it)
# It adds one server a run: while the pool stays above its target lbd runs
# it again once the cooldown is over, so the pool grows a step at a time
# and each step is measured.  Its output goes to lbd's log.
#
# Settings, from lbd's environment (systemd: Environment=):
#   LB_AUTOSCALE_DIR   state: POOL/NAME.pid, NAME.addr, NAME.log for each
#                      backend started (default /run/lbd/autoscale)
#   LB_BACKEND         the lbt-backend program (default: the one built
#                      next to this script, ../build/tests/tools)
#   LBCTL              the lbctl program (default: lbctl in PATH, else the
#                      one built next to this script)
#   LB_AUTOSCALE_ADDR  the address the backends listen on (127.0.0.1)
# A real hook would start a VM or a container here instead.
set -u

here=$(cd "$(dirname "$0")" && pwd)
dir=${LB_AUTOSCALE_DIR:-/run/lbd/autoscale}/$POOL
backend=${LB_BACKEND:-$here/../build/tests/tools/lbt-backend}
lbctl=${LBCTL:-$(command -v lbctl || echo "$here/../build/lbctl")}
addr=${LB_AUTOSCALE_ADDR:-127.0.0.1}

mkdir -p "$dir" || exit 1

# The first name asN not taken by a running backend of ours.
n=1
while [ -e "$dir/as$n.pid" ] && [ "$n" -lt 1000 ]; do
	n=$((n + 1))
done
name=as$n

# A free port: random high ports, a bounded number of tries (a port taken
# between the check and the bind makes the backend fail: try another).
tries=0
while [ "$tries" -lt 20 ]; do
	tries=$((tries + 1))
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
	ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && continue
	# setsid: the backend outlives this hook and is not in its process
	# group, which lbd kills if the hook overruns hook_timeout.
	setsid "$backend" --listen "$addr:$port" --name "$name" --mode echo \
	    </dev/null >"$dir/$name.log" 2>&1 &
	pid=$!
	i=0
	while [ "$i" -lt 50 ] && kill -0 "$pid" 2>/dev/null &&
	    ! grep -q '^ready' "$dir/$name.log"; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q '^ready' "$dir/$name.log" && break
	kill "$pid" 2>/dev/null
	pid=""
done
if [ -z "${pid:-}" ]; then
	echo "no backend could start (last: $(tail -n 1 "$dir/$name.log"))"
	exit 1
fi
echo "$pid" >"$dir/$name.pid"
echo "$addr:$port" >"$dir/$name.addr"

if ! "$lbctl" add "$POOL/$name" "$addr:$port"; then
	kill "$pid" 2>/dev/null
	rm -f "$dir/$name.pid" "$dir/$name.addr"
	exit 1
fi
echo "$POOL/$name at $addr:$port, pid $pid (was $CURRENT healthy," \
    "lbd wants $DESIRED: $REASON)"
