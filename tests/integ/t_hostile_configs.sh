#!/usr/bin/env bash
# t_hostile_configs.sh - malformed configuration files, started for real.
# Every file in tests/configs/bad/ (44 when written) plus 20 generated
# here (bad user names, hostile nesting, binary garbage, an empty file,
# type confusion, unterminated strings ...) is given to `lbd -d -f`, the
# real start, with its listener moved to a port of ours and its control
# socket into our temp dir.  Each must: exit 1 within 10 s; print at
# least one "FILE:LINE: message" naming the file (and, when the file says
# "# expect: LINE: text", that line and text); leave nothing bound (the
# port is not listening, no control socket was created).
. "$(dirname "$0")/lib.sh"
lb_init t_hostile_configs

take_ports 2
port=${PORTS[0]} pa=${PORTS[1]}
mkdir "$T/bad"
for f in "$LB_TOP"/tests/configs/bad/*.conf; do
	cp "$f" "$T/bad/"
done
nfixed=$(ls "$T/bad" | wc -l)

# gen NAME EXPECT_LINE TEXT BODY: one generated file, base config + BODY.
gen() {
	{
		echo "# expect: $2: $3"
		printf '%s\n' "$4"
	} >"$T/bad/gen-$1.conf"
}
base_pools='pools = ( { name = "web"; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );'
base_lis='listeners = ( { name = "web"; bind = "127.0.0.1:8080"; pool = "web"; } );'
base() { printf 'workers = 1;\nmaxconn = 100;\ncontrol_socket = "/tmp/lbd-test.sock";\n%s\n%s\n%s\n' "$1" "$base_pools" "$base_lis"; }
gen user-space 5 "'user' must be a user name" "$(base 'user = "bad user";')"
gen user-dash 5 "'user' must be a user name" "$(base 'user = "-root";')"
gen user-long 5 "'user' must be a user name" "$(base "user = \"$(printf 'u%.0s' $(seq 1 40))\";")"
gen user-int 5 "user" "$(base 'user = 0;')"
gen idle-zero 5 "idle" "$(base 'timeouts = { idle = "0s"; };')"
gen workers-string 5 "workers" "$(base 'workers2 = 1;')"
gen log-conn-string 5 "connections" "$(base 'log = { connections = "yes"; };')"
gen state-relative 5 "state_file" "$(base 'state_file = "var/state";')"
gen algo-int 3 "algorithm" "$(printf 'workers = 1;\npools = ( { name = "web"; algorithm = 5; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );\n%s\n' "$base_lis")"
gen retries-17 3 "retries" "$(printf 'workers = 1;\npools = ( { name = "web"; retries = 17; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );\n%s\n' "$base_lis")"
gen pool-string 3 "" "$(printf 'workers = 1;\npools = ( "web" );\n%s\n' "$base_lis")"
gen backlog-zero 4 "backlog" "$(printf 'workers = 1;\n%s\nlisteners = ( { name = "web"; bind = "127.0.0.1:8080"; pool = "web"; backlog = 0; } );\n' "$base_pools")"
gen hc-odd-hex 3 "hex" "$(printf 'workers = 1;\npools = ( { name = "web"; health = { expect = "hex:abc"; }; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );\n%s\n' "$base_lis")"
gen hc-rise-zero 3 "rise" "$(printf 'workers = 1;\npools = ( { name = "web"; health = { rise = 0; }; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );\n%s\n' "$base_lis")"
gen hc-interval-tiny 3 "interval" "$(printf 'workers = 1;\npools = ( { name = "web"; health = { interval = "1ms"; }; servers = ( { name = "a"; address = "127.0.0.1:9001"; } ); } );\n%s\n' "$base_lis")"
gen unterminated 6 "syntax error" "$(base 'log = { facility = "daemon; };')"
gen server-maxconn-neg 3 "maxconn" "$(printf 'workers = 1;\npools = ( { name = "web"; servers = ( { name = "a"; address = "127.0.0.1:9001"; maxconn = -1; } ); } );\n%s\n' "$base_lis")"
# Deep nesting: 200 groups, past cfg's bound of 64, before libconfig sees it.
deep=$(printf 'x = { %.0s' $(seq 1 200); printf '} %.0s' $(seq 1 200))
gen deep-nesting "" "nest" "$(base "deep = $deep;")"
# Seeded binary garbage (the same bytes every run): AES-CTR of zeros.
head -c 4096 /dev/zero | openssl enc -aes-128-ctr -nosalt -pbkdf2 \
    -pass pass:lb-hostile-7 2>/dev/null >"$T/bad/gen-binary.conf"
[ -s "$T/bad/gen-binary.conf" ] || head -c 4096 /dev/urandom >"$T/bad/gen-binary.conf"
: >"$T/bad/gen-empty.conf"
ngen=$(ls "$T/bad"/gen-*.conf | wc -l)
total=$(ls "$T/bad" | wc -l)
info "$nfixed files from tests/configs/bad, $ngen generated: $total"
[ "$total" -ge 50 ] || fail "only $total bad files"

n=0
for f in "$T"/bad/*.conf; do
	name=$(basename "$f")
	# Our port and socket, so nothing of anybody else's is at stake.
	sed -i -E "s/:808[01]([^0-9]|\$)/:$port\1/g; s|/tmp/lbd-test\.sock|$T/ctl.sock|g" "$f" 2>/dev/null
	out=$T/out-$name
	timeout 10 "$LBD" -d -f "$f" >"$out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || fail "$name: exit $rc, expected 1: $(head -n 3 "$out")"
	grep -Eq "^$f:[0-9]+: ." "$out" || fail "$name: no '$f:LINE: message' in: $(head -n 3 "$out")"
	exp=$(sed -n '1s/^# expect: //p' "$f")
	if [ -n "$exp" ]; then
		line=${exp%%:*} text=${exp#*: }
		[ -z "$line" ] || grep -q "^$f:$line: " "$out" ||
			fail "$name: expected an error at line $line, got: $(head -n 3 "$out")"
		[ -z "$text" ] || grep -qiF -- "$text" "$out" ||
			fail "$name: expected \"$text\" in: $(head -n 3 "$out")"
	fi
	grep -q ' started' "$out" && fail "$name: lbd says it started"
	port_listening "$port" && fail "$name: port $port is listening"
	[ -e "$T/ctl.sock" ] && fail "$name: a control socket was created"
	n=$((n + 1))
done
info "$n malformed files: each exit 1 with FILE:LINE, nothing bound"
info "e.g. $(head -n 1 "$T/out-gen-deep-nesting.conf")"
info "e.g. $(head -n 1 "$T/out-gen-binary.conf")"
pass
