# hostile_lib.sh - helpers for the hostile-input tests (t_hostile_*.sh),
# on top of lib.sh: lbctl, and what /proc says about lbd's processes.
#
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/hostile_lib.sh"
#
# Every figure is read from /proc or `lbctl --json`; nothing sleeps.

LBCTL=$LB_BUILD/lbctl
STALL=$LB_BUILD/tests/tools/lbt-stall

# hostile_need: skips unless lbctl and lbt-stall are built.  Sets
# SANITIZED=1 for an ASan build (make asan): its allocator quarantines
# freed memory, so RSS bounds are reported there, not asserted.
SANITIZED=0
hostile_need() {
	[ -x "$LBCTL" ] || skip "$LBCTL not built"
	[ -x "$STALL" ] || skip "$STALL not built"
	if ldd "$LBD" 2>/dev/null | grep -q libasan; then
		SANITIZED=1
	fi
}

# rss_bound WHAT GROWTH_KB LIMIT_KB: fails when GROWTH_KB >= LIMIT_KB,
# except under ASan, where it only says so.
rss_bound() {
	[ "$2" -lt "$3" ] && return 0
	if [ "$SANITIZED" = 1 ]; then
		info "$1 grew by $2 KiB (bound $3 KiB): not asserted under ASan"
		return 0
	fi
	fail "$1 grew by $2 KiB (bound $3 KiB)"
}

# ctl ARGS...: lbctl on the test's control socket, bounded.
ctl() { "$LBCTL" -s "$T/lbd.sock" -t 5 "$@"; }

# jsum KEY: the sum of every "KEY":NUMBER in the JSON on stdin.
jsum() {
	grep -o "\"$1\": *-\{0,1\}[0-9]*" | awk -F: '{ s += $2 } END { print s + 0 }'
}

# The master and its live workers.
lbd_pids() {
	echo "$LBD_PID"
	lbd_workers
}

# Sum of VmRSS (KiB) over master and workers.
lbd_rss_kb() {
	local p s=0 v
	for p in $(lbd_pids); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

# Sum of utime + stime (clock ticks) over master and workers.
lbd_cpu_ticks() {
	local p s=0 v
	for p in $(lbd_pids); do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

# Open fds of every worker, summed.
lbd_worker_fds() {
	local w s=0
	for w in $(lbd_workers); do
		s=$((s + $(ls "/proc/$w/fd" 2>/dev/null | wc -l)))
	done
	echo "$s"
}

# Active connections: the table's total and the sum over servers.
lbd_active() { ctl --json status | jsum active; }
lbd_server_active() { ctl --json servers | jsum active; }

# cpu_percent SECONDS: lbd's CPU use (all processes) over that interval,
# in whole percent of one core.  The sleep is the measuring window, not
# a wait for a condition.
cpu_percent() {
	local t0 t1 c0 c1 hz
	hz=$(getconf CLK_TCK)
	c0=$(lbd_cpu_ticks) t0=$(now_ms)
	sleep "$1"
	c1=$(lbd_cpu_ticks) t1=$(now_ms)
	echo $(( (c1 - c0) * 1000 * 100 / hz / (t1 - t0) ))
}

# Open sockets of every worker, summed (fds minus cached splice pipes).
lbd_worker_socks() {
	local w s=0
	for w in $(lbd_workers); do
		s=$((s + $(ls -l "/proc/$w/fd" 2>/dev/null | grep -c 'socket:')))
	done
	echo "$s"
}
