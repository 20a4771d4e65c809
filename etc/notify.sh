#!/bin/sh
# notify.sh - sample lb-failoverd notify hook.
#
# Called on every state transition as:  notify.sh STATE PRIORITY REASON
#   STATE     MASTER, BACKUP, FAULT or STOP (agent shutting down)
#   PRIORITY  the effective priority now (0 in FAULT/STOP)
#   REASON    why, e.g. "master down", "lbd unhealthy: ..."
# Runs one at a time and in order; killed after notify_timeout.  Keep it
# short.  Under systemd it runs with the agent's sandbox (read-only file
# system apart from /run/lb-failoverd, no new privileges).
state=$1
prio=$2
reason=$3

logger -t lb-failoverd-notify -- "state=$state priority=$prio reason=$reason"

case $state in
MASTER)
	# e.g. warm caches, tell monitoring we serve the VIP
	;;
BACKUP|FAULT|STOP)
	;;
esac
exit 0
