#!/usr/bin/env bash
# t_promtool.sh - `lbctl metrics` passes Prometheus' own checker,
# `promtool check metrics`, on a live lbd with traffic, a drained server
# and a sticky-free pool.  promtool comes from Debian's prometheus package:
# unpacked into build/ with apt-get download + dpkg-deb -x, never installed,
# so no Prometheus server is started on this machine.  Without it the test
# skips; tests/unit/test_ctl.c checks the format with our own parser too.
. "$(dirname "$0")/lib.sh"
lb_init t_promtool
LBCTL=$LB_BUILD/lbctl
[ -x "$LBCTL" ] || skip "$LBCTL not built"

promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
	dir=$LB_BUILD/promtool
	promtool=$dir/root/usr/bin/promtool
	if [ ! -x "$promtool" ]; then
		mkdir -p "$dir"
		(cd "$dir" && { apt-get download prometheus >/dev/null 2>&1 ||
		    { apt-get update -qq >/dev/null 2>&1 &&
		    apt-get download prometheus >/dev/null 2>&1; }; }) ||
			skip "promtool: cannot download Debian's prometheus package"
		dpkg-deb -x "$dir"/prometheus_*.deb "$dir/root" ||
			skip "promtool: cannot unpack the prometheus package"
	fi
	[ -x "$promtool" ] || skip "promtool not found in the package"
fi
info "promtool: $promtool"

take_ports 3
lport=${PORTS[0]}
start_backend a "127.0.0.1:${PORTS[1]}" echo
{
	conf_head 2
	cat <<EOF2
pools = ( { name = "web"; algorithm = "leastconn";
	health = { interval = "200ms"; timeout = "100ms"; };
	servers = ( { name = "a"; address = "127.0.0.1:${PORTS[1]}"; },
		    { name = "b"; address = "127.0.0.1:${PORTS[2]}"; } ); } );
listeners = ( { name = "l"; bind = "127.0.0.1:$lport"; pool = "web"; } );
EOF2
} >"$T/lbd.conf"
start_lbd "$T/lbd.conf" "$lport"
# With checks configured a server starts down until its first check passes.
a_up() {
	"$LBCTL" -s "$T/lbd.sock" --json servers web |
	    grep -q '"name":"a"[^}]*"state":"up"'
}
wait_for 5000 a_up || fail "server a never came up"
"$LBCTL" -s "$T/lbd.sock" drain web/b >/dev/null || fail "drain failed"
"$CLIENT" who "127.0.0.1:$lport" -n 20 >/dev/null 2>&1 || fail "no service"
"$LBCTL" -s "$T/lbd.sock" metrics >"$T/metrics.txt" ||
	fail "lbctl metrics failed"
n=$(grep -c '^lb_' "$T/metrics.txt")
[ "$n" -gt 10 ] || fail "only $n samples in the metrics"
"$promtool" check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out"; fail "promtool check metrics failed"; }
info "promtool check metrics: $n samples, no problem reported"
pass
