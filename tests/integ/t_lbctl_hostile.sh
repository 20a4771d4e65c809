#!/usr/bin/env bash
# t_lbctl_hostile.sh - lbd's control socket under bad input and bad
# callers, and lbctl's exit codes:
#   - garbage, control characters, oversized lines, random binary,
#     half-written commands, 1000 pipelined commands: answered (ERR) or
#     dropped, and lbd keeps serving;
#   - a caller that is not root, lbd's user or in the control group is
#     refused and logged with its uid; one that cannot open the socket
#     gets exit 3;
#   - more than 64 concurrent clients: the excess is told so and closed;
#   - a second lbd does not steal a live control socket;
#   - lbctl exits 2 on usage errors, 1 on daemon errors, 3 when the
#     daemon cannot be reached.
. "$(dirname "$0")/lib.sh"
lb_init t_lbctl_hostile
LBCTL=$LB_BUILD/lbctl
RAW=$LB_BUILD/tests/tools/lbt-ctlraw
[ -x "$LBCTL" ] || skip "$LBCTL not built"
[ -x "$RAW" ] || skip "$RAW not built"

take_ports 3
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "web"; algorithm = "roundrobin";
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "web"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
S=$T/lbd.sock
export LBCTL_SOCKET=$S
wait_for 5000 "$LBCTL" health >/dev/null || fail "lbd never healthy"

# still_up WHAT: lbd alive and answering after WHAT.
still_up() {
	pid_alive "$LBD_PID" || fail "lbd died after $1"
	"$LBCTL" health >/dev/null || fail "lbd unhealthy after $1"
}
# expect_rc RC ARGS...: lbctl ARGS must exit RC; output in $OUT.
expect_rc() {
	local want=$1
	shift
	OUT=$("$LBCTL" "$@" 2>&1)
	local rc=$?
	[ "$rc" -eq "$want" ] || fail "lbctl $*: exit $rc, want $want: $OUT"
}

# --- hostile bytes ------------------------------------------------------
OUT=$(printf 'status\x01\x1b[2J\n\n   \nfrobnicate now\nstatus\n' |
    "$RAW" "$S")
[ "$(grep -c '^ERR ' <<<"$OUT")" -eq 4 ] || fail "garbage: want 4 ERR: $OUT"
grep -q 'control character' <<<"$OUT" || fail "no control-char ERR: $OUT"
grep -q "unknown command 'frobnicate'" <<<"$OUT" || fail "unknown: $OUT"
grep -q '^OK ' <<<"$OUT" || fail "status after garbage not answered: $OUT"
still_up "garbage lines"

OUT=$(head -c 100000 /dev/zero | tr '\0' 'x' | "$RAW" "$S")
[ "$OUT" = "$(printf 'ERR 22\nrequest line too long')" ] ||
	fail "oversized line: $OUT"
OUT=$( { head -c 5000 /dev/zero | tr '\0' 'y'; printf '\nstatus\n'; } |
    "$RAW" "$S")
grep -q 'too long' <<<"$OUT" || fail "oversized then status: $OUT"
grep -q '^OK ' <<<"$OUT" && fail "a command after a too-long line ran: $OUT"
still_up "oversized lines"

head -c 65536 /dev/urandom | "$RAW" "$S" -t 3000 >/dev/null
still_up "64 KiB of random bytes"

# Half-written: "hea" ... pause ... "lth\n" is one command.
OUT=$(printf 'health\n' | "$RAW" "$S" --split 3 --pause 300)
grep -q 'healthy' <<<"$OUT" || fail "split command: $OUT"
# A client that writes half a command and vanishes.
printf 'disab' | "$RAW" "$S" -t 200 >/dev/null
[ "$(jq -r '.[0].admin' <<<"$("$LBCTL" --json servers 2>/dev/null)" \
    2>/dev/null || echo ready)" = ready ] || fail "half command acted"
still_up "half-written commands"

# 1000 pipelined commands: 1000 answers, in order.
OUT=$(for i in $(seq 1000); do echo health; done | "$RAW" "$S" -t 10000)
n=$(grep -c '^OK ' <<<"$OUT")
[ "$n" -eq 1000 ] || fail "1000 pipelined commands: $n answers"
still_up "1000 pipelined commands"
info "garbage, oversized, random, split, pipelined: answered, lbd up"

# --- permissions --------------------------------------------------------
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	as_nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	}
	chmod 0711 "$T"
	# The socket is 0660 root: the kernel refuses nobody first.
	OUT=$(as_nobody "$LBCTL" -s "$S" status 2>&1)
	rc=$?
	[ "$rc" -eq 3 ] || fail "nobody on a 0660 socket: exit $rc: $OUT"
	grep -qF "$S" <<<"$OUT" || fail "message does not name the socket: $OUT"
	# Opened up on purpose: lbd's own check must refuse by uid.
	chmod 0666 "$S"
	OUT=$(as_nobody "$LBCTL" -s "$S" drain web/a 2>&1)
	rc=$?
	chmod 0660 "$S"
	[ "$rc" -eq 1 ] || fail "nobody through a 0666 socket: exit $rc: $OUT"
	grep -q 'permission denied' <<<"$OUT" || fail "refusal: $OUT"
	wait_for 3000 grep -q "ctl: refused uid=$(id -u nobody)" "$LBD_LOG" ||
		fail "refusal not logged with the uid"
	[ "$("$LBCTL" --json servers | jq -r '.[0].admin')" = ready ] ||
		fail "a refused drain acted"
	info "nobody: exit 3 on a 0660 socket, refused (exit 1) and logged on 0666"
else
	info "no nobody user or setpriv: permission check not run"
fi

# --- too many clients ---------------------------------------------------
# Each of 64 clients asks once and stays connected; once all 64 have
# their answer, every slot is taken and the next caller is refused.  (No
# polling with lbctl meanwhile: a poll could take a slot for a moment.)
echo health >"$T/health.in"
raw_pids=""
for i in $(seq 64); do
	bg "$RAW" "$S" --keep -t 20000 <"$T/health.in" >"$T/raw$i.out" 2>&1
	raw_pids="$raw_pids $BG_PID"
done
all_answered() {
	[ "$(cat "$T"/raw*.out 2>/dev/null | grep -c '^OK ')" -eq 64 ]
}
wait_for 15000 all_answered ||
	fail "64 clients: only $(cat "$T"/raw*.out | grep -c '^OK ') answered"
OUT=$("$LBCTL" status 2>&1)
rc=$?
[ "$rc" -eq 1 ] && grep -q 'too many control clients' <<<"$OUT" ||
	fail "65th client not refused: exit $rc: $OUT"
for p in $raw_pids; do kill "$p" 2>/dev/null; done
wait_for 10000 "$LBCTL" health >/dev/null ||
	fail "clients not served again after the 64 left"
still_up "64 idle clients"
info "64 idle clients: the 65th told 'too many', served again after"

# --- a second lbd does not take the live socket over --------------------
sed "s/127.0.0.1:$lport/127.0.0.1:${PORTS[2]}/" "$T/lbd.conf" >"$T/two.conf"
timeout 20 "$LBD" -d -f "$T/two.conf" >"$T/two.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] || fail "a second lbd started on a live control socket"
grep -qi 'in use' "$T/two.log" || fail "second lbd: $(cat "$T/two.log")"
still_up "a second lbd tried the socket"
info "second lbd refused: $(grep -i 'in use' "$T/two.log" | head -n1)"

# --- exit codes ---------------------------------------------------------
expect_rc 2
expect_rc 2 frobnicate
expect_rc 2 --bogus status
expect_rc 2 -t 0 status
expect_rc 2 weight web/a
expect_rc 2 drain --wait soon web/a
expect_rc 2 add web/x "127.0.0.1:1 weight" 2
expect_rc 0 -h
grep -q 'failover' <<<"$OUT" || fail "-h does not list failover"
expect_rc 1 weight web/a 999
grep -q '0..256' <<<"$OUT" || fail "weight 999: $OUT"
expect_rc 1 drain web/zz
expect_rc 1 servers nosuch
expect_rc 3 -s "$T/nosuch.sock" status
grep -qF "$T/nosuch.sock" <<<"$OUT" || fail "exit 3 message: $OUT"
expect_rc 3 -F "$T/nofo.sock" failover
grep -qF "$T/nofo.sock" <<<"$OUT" || fail "failover exit 3 message: $OUT"
info "exit codes 0/1/2/3 as documented"
still_up "everything"
pass
