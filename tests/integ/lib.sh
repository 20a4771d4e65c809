# lib.sh - helpers for lbd's data-plane integration tests (t_*.sh).
#
# Usage, at the top of a test:
#     . "$(dirname "$0")/lib.sh"
#     lb_init t_name            # temp dir $T, cleanup trap, needs lbd
#     p=$(free_port)
#     start_backend a "127.0.0.1:$p" echo
#     cat >"$T/lbd.conf" <<EOF ... EOF  (conf_head gives the common part)
#     start_lbd "$T/lbd.conf" "127.0.0.1:$lport"
#     ... assertions: fail "why" / skip "why" / info "measured ..."
#     pass
#
# Everything started through these helpers is recorded by PID and killed
# by PID in the EXIT trap (lbd workers too, found as the master's
# children).  Every wait is a bounded poll (wait_for), never a fixed sleep.
# Exit codes: 0 pass, 77 skip, 1 fail.

set -u

LB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LB_BUILD=${LB_BUILD:-$LB_TOP/build}
LBD=$LB_BUILD/lbd
BACKEND=$LB_BUILD/tests/tools/lbt-backend
CLIENT=$LB_BUILD/tests/tools/lbt-client

T=""			# per-test temp dir
TEST_NAME=""
LB_PIDS=""		# every process we started, killed in cleanup
LBD_PID=""		# the current lbd master
LBD_LOG=""
LBD_WORKERS_SEEN=""	# worker PIDs ever seen, killed in cleanup if alive
LB_PORTS_TAKEN=" "

info() { echo "  $*"; }

skip() {
	echo "SKIP $TEST_NAME: $*"
	exit 77
}

fail() {
	echo "FAIL $TEST_NAME: $*"
	if [ -n "$LBD_LOG" ] && [ -s "$LBD_LOG" ]; then
		echo "  --- last lines of the lbd log ($LBD_LOG):"
		tail -n 20 "$LBD_LOG" | sed 's/^/  | /'
	fi
	exit 1
}

pass() {
	echo "PASS $TEST_NAME"
	exit 0
}

# wait_for TIMEOUT_MS COMMAND...: polls COMMAND every 50 ms until it
# succeeds (returns 0) or the time is up (returns 1).  The arguments are
# expanded once, by the caller: to re-evaluate a "$(...)" each round,
# pass a function or eval '[ "$(f)" -eq 0 ]'.
wait_for() {
	local limit=$1 start now
	shift
	start=$(date +%s%3N)
	while :; do
		"$@" && return 0
		now=$(date +%s%3N)
		[ $((now - start)) -ge "$limit" ] && return 1
		sleep 0.05
	done
}

now_ms() { date +%s%3N; }

# Is a process alive (and not a zombie)?
pid_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
	return 0
}
pid_dead() { ! pid_alive "$1"; }

port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
port_free() { ! port_listening "$1"; }

# Prints a TCP port nobody listens on (tries random high ports, bounded).
free_port() {
	local i p
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		case $LB_PORTS_TAKEN in *" $p "*) continue ;; esac
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
			LB_PORTS_TAKEN="$LB_PORTS_TAKEN$p "
			echo "$p"
			return 0
		fi
	done
	echo "no free port" >&2
	return 1
}

# Reserves N ports into the array named PORTS (free_port in a subshell
# cannot remember what it gave out, so take them here).
take_ports() {
	local i p
	PORTS=()
	for i in $(seq 1 "$1"); do
		p=$(free_port) || fail "no free port"
		LB_PORTS_TAKEN="$LB_PORTS_TAKEN$p "
		PORTS+=("$p")
	done
}

lb_cleanup() {
	local rc=$? p deadline
	[ -n "$LBD_PID" ] && pid_alive "$LBD_PID" &&
		LBD_WORKERS_SEEN="$LBD_WORKERS_SEEN $(pgrep -P "$LBD_PID" | tr '\n' ' ')"
	for p in $LB_PIDS; do kill "$p" 2>/dev/null; done
	deadline=$(($(now_ms) + 3000))
	for p in $LB_PIDS $LBD_WORKERS_SEEN; do
		while pid_alive "$p" && [ "$(now_ms)" -lt "$deadline" ]; do
			sleep 0.05
		done
		pid_alive "$p" && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	sanitizer_check || rc=1
	[ -n "$T" ] && [ -z "${LB_KEEP:-}" ] && rm -rf "$T"
	exit "$rc"
}

# Under `make asan` a sanitizer report in any log of this test (lbd's,
# the backends', the clients') fails the test, whatever else passed.
# Returns 1 (after printing the report's head) when one is found.
sanitizer_check() {
	local f x
	[ -n "$T" ] && [ -d "$T" ] || return 0
	f=""
	for x in "$T"/*; do	# regular files only: a fifo would block grep
		[ -f "$x" ] || continue
		grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$x" &&
		    { f=$x; break; }
	done
	[ -z "$f" ] && return 0
	echo "FAIL $TEST_NAME: sanitizer report in ${f##*/}:"
	grep -m 1 -A 25 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$f" | sed 's/^/  | /'
	return 1
}

# lb_init NAME: temp dir, trap, and the binaries (skip when not built).
lb_init() {
	TEST_NAME=$1
	[ -x "$LBD" ] || skip "$LBD not built"
	[ -x "$BACKEND" ] || skip "$BACKEND not built"
	[ -x "$CLIENT" ] || skip "$CLIENT not built"
	command -v ss >/dev/null || skip "ss (iproute2) missing"
	T=$(mktemp -d /tmp/lbt.XXXXXX)
	trap lb_cleanup EXIT
	trap 'exit 1' INT TERM
	echo "== $TEST_NAME (tmp $T)"
}

# bg CMD...: starts CMD in the background, records its PID in BG_PID.
bg() {
	# "<&0": without a job control a bare "&" would read /dev/null
	"$@" <&0 &
	BG_PID=$!
	LB_PIDS="$LB_PIDS $BG_PID"
}

# start_backend NAME ADDR [MODE [extra lbt-backend args]]: output goes to
# $T/be-NAME.out, PID to BE_PID[NAME].
declare -A BE_PID
start_backend() {
	local name=$1 addr=$2 mode=${3:-echo}
	shift 3 2>/dev/null || shift $#
	bg "$BACKEND" --listen "$addr" --name "$name" --mode "$mode" "$@" \
	    >"$T/be-$name.out" 2>&1
	BE_PID[$name]=$BG_PID
	wait_for 5000 grep -q '^ready' "$T/be-$name.out" ||
		fail "backend $name did not start: $(cat "$T/be-$name.out")"
}

# conf_head [WORKERS [MAXCONN [CONNECT IDLE DRAIN]]]: the common top of a
# config, logging connections, control socket in $T.
conf_head() {
	cat <<EOF
workers = ${1:-2};
maxconn = ${2:-1000};
control_socket = "$T/lbd.sock";
log = { facility = "daemon"; connections = true; };
timeouts = { connect = "${3:-3s}"; idle = "${4:-5m}"; drain = "${5:-10s}"; };
EOF
}

# start_lbd CONF PORT: runs "lbd -d -f CONF" (log in $T/lbd.log) and
# waits until PORT listens and at least one worker runs.
start_lbd() {
	local conf=$1 port=$2
	LBD_LOG=$T/lbd.log
	# lbd's stderr (where -d logs) goes to the log, ours stays clean.
	bg "$LBD" -d -f "$conf" >>"$LBD_LOG" 2>&1
	LBD_PID=$BG_PID
	wait_for 10000 lbd_up "$port" ||
		fail "lbd did not come up on port $port"
}
lbd_up() {
	pid_alive "$LBD_PID" || fail "lbd exited during start-up"
	port_listening "$1" && [ -n "$(lbd_workers)" ]
}

# Worker PIDs: the master's live children, one per line.
lbd_workers() {
	local w
	for w in $(pgrep -P "$LBD_PID" 2>/dev/null); do
		pid_alive "$w" && echo "$w"
	done
	return 0
}

# count NAME FILE: the count lbt-client who printed for NAME (0 if none).
count() {
	awk -v n="$1" '$1 == n { c = $2 } END { print c + 0 }' "$2"
}

# kill_child SIG PID: signals one of our own children and reaps it, so
# the shell prints no "Killed" notice.
kill_child() {
	kill -s "$1" "$2" 2>/dev/null
	wait "$2" 2>/dev/null
	return 0
}

# stop_lbd: SIGINT (fast stop) to the master; waits (bounded) for it and
# its workers to be gone.  Fails the test if they stay.
stop_lbd() {
	local w ws
	ws=$(lbd_workers)
	kill -INT "$LBD_PID" 2>/dev/null
	wait_for 10000 pid_dead "$LBD_PID" || fail "lbd master ignored SIGINT"
	wait "$LBD_PID" 2>/dev/null
	for w in $ws; do
		wait_for 5000 pid_dead "$w" || fail "worker $w outlived its master"
	done
	LBD_PID=""
}

# lbd's own established connections to a backend port (dport = PORT).
lbd_conns_to() {
	ss -Htn state established "dport = :$1" 2>/dev/null | wc -l
}
