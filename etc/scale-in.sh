#!/bin/sh
# scale-in.sh - example autoscale hook for lbd: takes the server lbd names
# out of the pool without cutting a connection, then stops it if
# scale-out.sh started it.
#
# lbd runs it (see lbd.conf(5), "Autoscaling") with, in its environment:
#   SERVER        POOL/NAME: the least loaded ready server, to remove
#   POOL, CURRENT, DESIRED, REASON (below_target or above_max)
#   LBCTL_SOCKET  lbd's control socket (lbctl reads it)
# Steps: drain (no new connections) and wait until the server has none,
# remove it from lbd, stop the backend.  If it does not empty within
# LB_DRAIN_WAIT seconds (default 20, keep it under hook_timeout), the
# server is put back to ready and the hook fails: nothing is cut.
#
# Settings as in scale-out.sh: LB_AUTOSCALE_DIR, LBCTL.
set -u

here=$(cd "$(dirname "$0")" && pwd)
dir=${LB_AUTOSCALE_DIR:-/run/lbd/autoscale}/$POOL
lbctl=${LBCTL:-$(command -v lbctl || echo "$here/../build/lbctl")}
name=${SERVER#*/}

if ! "$lbctl" drain --wait "${LB_DRAIN_WAIT:-20}" "$SERVER"; then
	echo "$SERVER did not drain: back to ready"
	"$lbctl" enable "$SERVER"
	exit 1
fi
"$lbctl" remove "$SERVER" || exit 1
if [ -f "$dir/$name.pid" ]; then
	pid=$(cat "$dir/$name.pid")
	kill "$pid" 2>/dev/null
	rm -f "$dir/$name.pid" "$dir/$name.addr"
	echo "stopped backend pid $pid (lbd wants $DESIRED: $REASON)"
else
	echo "$SERVER was not started by scale-out.sh: removed, not stopped"
fi
