#!/usr/bin/env bash
# make run: lbd in the foreground on a demo config, in front of three demo
# backends on loopback that answer with their own name and then echo.
# Ctrl-C stops lbd and the backends (only the processes started here).
set -u
build=$(cd "${1:-build}" && pwd)
demo="$build/demo"
mkdir -p "$demo"
chmod 0750 "$demo"
conf="$demo/lbd.conf"
backend="$build/tests/tools/lbt-backend"
pids=()

cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo "demo stopped"
}
trap cleanup EXIT INT TERM

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
for p in 8080 9001 9002 9003; do
	if port_busy "$p"; then
		echo "make run: port 127.0.0.1:$p is already in use; stop what holds it first" >&2
		exit 1
	fi
done

cat > "$conf" <<CONF
# Demo configuration written by 'make run' (tests/demo/run.sh).
workers = 2;
maxconn = 1000;
control_socket = "$demo/lbd.sock";
log = { facility = "daemon"; connections = true; };
timeouts = { connect = "1s"; idle = "5m"; drain = "5s"; };
pools = (
  { name = "web"; algorithm = "roundrobin"; retries = 2;
    servers = (
      { name = "alpha"; address = "127.0.0.1:9001"; },
      { name = "beta";  address = "127.0.0.1:9002"; },
      { name = "gamma"; address = "127.0.0.1:9003"; }
    );
  }
);
listeners = ( { name = "web"; bind = "127.0.0.1:8080"; pool = "web"; } );
CONF

i=1
for name in alpha beta gamma; do
	"$backend" --listen "127.0.0.1:900$i" --name "$name" --mode echo >/dev/null &
	pids+=($!)
	i=$((i + 1))
done

cat <<MSG
lbd demo: 127.0.0.1:8080 -> alpha 127.0.0.1:9001, beta :9002, gamma :9003
(roundrobin, 2 workers).  Each backend answers with its name, then echoes.
Try, in another terminal:
  $build/tests/tools/lbt-client who 127.0.0.1:8080 -n 9
  $build/lbctl -s $demo/lbd.sock servers
Ctrl-C stops everything.
MSG
"$build/lbd" -d -f "$conf" &
pids+=($!)
wait "${pids[-1]}"
