#!/usr/bin/env bash
# t_privdrop.sh - least privilege: `user = "lbd"` (root only, else SKIP).
#  1. lbd started as root binds a listener on a port below 1024, opens its
#     control socket in a root-owned directory, then every process (master
#     and workers) runs as lbd: Uid and Gid (real, effective, saved, fs)
#     are lbd's, Groups is only lbd's group, CapEff and CapPrm are 0,
#     NoNewPrivs is 1.  The user lbd is created (useradd --system) when
#     missing; `nobody` when that fails.
#  2. Traffic flows through the low port; lbctl (root) is served.
#  3. A reload (the master, unprivileged now, re-reads the file) starts a
#     new generation, also unprivileged; a killed worker's replacement too.
#  4. A reload that adds a listener on another port below 1024 fails (no
#     CAP_NET_BIND_SERVICE left) and the old listener keeps serving; a
#     kill -9 of the master still takes the workers with it.
#  5. A user that does not exist: lbd refuses to start and names it; a
#     badly spelled one is a config error with file:line (lbd -n).
. "$(dirname "$0")/lib.sh"
lb_init t_privdrop
LBCTL=$LB_BUILD/lbctl

[ "$(id -u)" -eq 0 ] || skip "needs root (to start lbd as root and drop)"
[ -x "$LBCTL" ] || skip "$LBCTL not built"
user=lbd
if ! id -u "$user" >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin "$user" >/dev/null 2>&1 || user=nobody
fi
uid=$(id -u "$user") gid=$(id -g "$user")
info "dropping to $user (uid $uid, gid $gid)"

# A free port below 1024 on 127.0.0.1 (bounded tries).
low_port() {
	local i p
	for i in $(seq 1 100); do
		p=$((600 + RANDOM % 400))
		case $LB_PORTS_TAKEN in *" $p "*) continue ;; esac
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
			LB_PORTS_TAKEN="$LB_PORTS_TAKEN$p "
			echo "$p"
			return 0
		fi
	done
	return 1
}
lport=$(low_port) || fail "no free port below 1024"
lport2=$(low_port) || fail "no second free port below 1024"
take_ports 1
pa=${PORTS[0]}
start_backend a "127.0.0.1:$pa" echo

# The user must read the config on reload: $T (mktemp, 0700) opened up.
chmod 0755 "$T"
mkdir -m 0700 "$T/run"		# control socket dir: root's only
conf() {	# conf [EXTRA_LISTENER]
	conf_head 2 100 | sed "s|$T/lbd.sock|$T/run/lbd.sock|"
	cat <<EOF
user = "$user";
pools = ( { name = "p"; servers = ( { name = "a"; address = "127.0.0.1:$pa"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "p"; }${1:-} );
EOF
}
conf >"$T/lbd.conf"
chmod 0644 "$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
ctl() { "$LBCTL" -s "$T/run/lbd.sock" -t 5 "$@"; }

# check_pid PID WHAT: the /proc status fields of an unprivileged process.
check_pid() {
	local s=/proc/$1/status
	[ -r "$s" ] || fail "$2 $1 vanished"
	awk -v u="$uid" '/^Uid:/ { exit !($2 == u && $3 == u && $4 == u && $5 == u) }' "$s" ||
		fail "$2 $1: $(grep ^Uid: "$s") (want $uid everywhere)"
	awk -v g="$gid" '/^Gid:/ { exit !($2 == g && $3 == g && $4 == g && $5 == g) }' "$s" ||
		fail "$2 $1: $(grep ^Gid: "$s") (want $gid everywhere)"
	awk -v g="$gid" '/^Groups:/ { exit !(NF == 2 && $2 == g) }' "$s" ||
		fail "$2 $1: $(grep ^Groups: "$s") (want only $gid)"
	grep -q '^CapEff:[[:space:]]*0*$' "$s" || fail "$2 $1: $(grep ^CapEff: "$s")"
	grep -q '^CapPrm:[[:space:]]*0*$' "$s" || fail "$2 $1: $(grep ^CapPrm: "$s")"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$s" || fail "$2 $1: $(grep ^NoNewPrivs: "$s")"
}
check_all() {	# check_all WHEN
	local w n=0
	check_pid "$LBD_PID" master
	for w in $(lbd_workers); do
		check_pid "$w" worker
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || fail "no worker to check"
	info "$1: master $LBD_PID and $n workers: uid $uid gid $gid, groups $gid, CapEff 0, CapPrm 0, NoNewPrivs 1"
}
two_workers() { [ "$(lbd_workers | wc -l)" -eq 2 ]; }
wait_for 5000 two_workers || fail "2 workers did not start"
check_all "after start"
grep -q "running as user $user" "$LBD_LOG" || fail "no 'running as user' log line"

"$CLIENT" who "127.0.0.1:$lport" -n 20 >"$T/who1.out" 2>&1 ||
	{ cat "$T/who1.out"; fail "no service on port $lport"; }
[ "$(count a "$T/who1.out")" -eq 20 ] || fail "backend a did not answer 20 times"
info "20 connections through port $lport (below 1024): all answered"
ctl status >/dev/null || fail "lbctl status refused (root client, unprivileged daemon)"

old=$(lbd_workers | sort | tr '\n' ' ')
ctl reload >"$T/reload.out" 2>&1 || { cat "$T/reload.out"; fail "reload failed"; }
new_gen() {
	local w
	for w in $(lbd_workers); do
		case " $old " in *" $w "*) return 1 ;; esac
	done
	two_workers
}
wait_for 15000 new_gen || fail "reload: no new generation of 2 workers"
check_all "after reload"

w=$(lbd_workers | head -n 1)
kill -9 "$w"
respawned() { ! lbd_workers | grep -qx "$w" && two_workers; }
wait_for 10000 respawned || fail "killed worker $w was not replaced"
check_all "after a worker was killed"

conf ", { name = \"l2\"; bind = \"127.0.0.1:$lport2\"; pool = \"p\"; }" >"$T/lbd.conf"
if ctl reload >"$T/reload2.out" 2>&1; then
	fail "a reload bound port $lport2 (< 1024) without privileges"
fi
info "reload adding port $lport2: refused: $(head -n 1 "$T/reload2.out")"
port_listening "$lport2" && fail "port $lport2 is listening after the failed reload"
"$CLIENT" who "127.0.0.1:$lport" -n 5 >/dev/null 2>&1 ||
	fail "the old listener stopped serving after the failed reload"
info "old listener still serves"
# PR_SET_PDEATHSIG survives the drop (set after it, in each child).
ws=$(lbd_workers | tr '\n' ' ')
kill_child KILL "$LBD_PID"
workers_gone() {
	local w
	for w in $ws; do pid_alive "$w" && return 1; done
	return 0
}
wait_for 1000 workers_gone || fail "unprivileged workers outlived the master's kill -9 by 1 s"
LBD_PID=""
info "master killed -9: its unprivileged workers gone within 1 s"

# A user that does not exist.
missing=lbt-nouser-$$
conf | sed "s|user = \"$user\";|user = \"$missing\";|" >"$T/missing.conf"
timeout 10 "$LBD" -d -f "$T/missing.conf" >"$T/missing.out" 2>&1 &&
	fail "lbd started with a user that does not exist"
grep -q "$missing.*no such user" "$T/missing.out" ||
	{ cat "$T/missing.out"; fail "no 'no such user' message"; }
info "missing user: $(grep -m1 'no such user' "$T/missing.out")"
port_listening "$lport" && fail "port $lport still listening after the refused start"

conf | sed 's|user = ".*";|user = "bad user!";|' >"$T/spell.conf"
"$LBD" -n -f "$T/spell.conf" >"$T/spell.out" 2>&1 && fail "lbd -n accepted user \"bad user!\""
grep -Eq "^$T/spell.conf:[0-9]+: 'user'" "$T/spell.out" ||
	{ cat "$T/spell.out"; fail "no file:line for a bad user name"; }
info "bad spelling: $(head -n 1 "$T/spell.out")"
pass
