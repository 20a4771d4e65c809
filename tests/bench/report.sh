#!/bin/bash
# report.sh RAW OUTDIR "TARGETS" - turns the per-round figures of run.sh
# (RAW: target, round, metric, value; tab separated) into the medians
# table (markdown, stdout), OUTDIR/results.json and OUTDIR/latency.png.
# A figure is the median over rounds; ratios are of medians.
set -u
RAW=$1 OUT=$2 TARGETS=$3

# Per-round derived figures: CPU seconds per GB over both iperf3 runs.
derive() {
	awk -F'\t' '{ v[$1 SUBSEP $2 SUBSEP $3] = $4; k[$1 SUBSEP $2] = 1; print }
	END {
		for (tr in k) {
			split(tr, a, SUBSEP)
			if (!((tr SUBSEP "tput1_cpu") in v) ||
			    !((tr SUBSEP "tput8_cpu") in v))
				continue
			c = v[tr SUBSEP "tput1_cpu"] + v[tr SUBSEP "tput8_cpu"]
			b = v[tr SUBSEP "tput1_bytes"] + v[tr SUBSEP "tput8_bytes"]
			if (b > 0)
				printf "%s\t%s\tcpu_per_gb\t%.4f\n", a[1], a[2], c / (b / 1e9)
		}
	}' "$RAW"
}

# "target metric median" for every pair.
medians() {
	derive | sort -t'	' -k1,1 -k3,3 -k4,4g | awk -F'\t' '
	function flush() {
		if (n == 0) return
		m = n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
		printf "%s %s %s %d\n", pt, pm, m, n
		n = 0
	}
	{ if ($1 != pt || $3 != pm) { flush(); pt = $1; pm = $3 }
	  x[++n] = $4 }
	END { flush() }'
}

ROWS='tput1_gbps|Throughput, 1 stream (Gbit/s)|hi
tput8_gbps|Throughput, 8 streams (Gbit/s)|hi
cpu_per_gb|Balancer CPU s per GB moved|lo
conn_rate|New connections/s (concurrency '"${BENCH_CONC:-64}"')|hi
conn_p50_ms|Connection latency p50 (ms)|lo
conn_p99_ms|Connection latency p99 (ms)|lo
conn_p999_ms|Connection latency p99.9 (ms)|lo
conn_errors|Connection errors|lo
cpu_per_10k|Balancer CPU s per 10,000 connections|lo
conn_cpu_pct|Balancer CPU busy during that test (%)|lo
conn1_rate|Connections/s one at a time|hi
conn1_p50_us|Connection latency one at a time, p50 (us)|lo
conn1_p99_us|Connection latency one at a time, p99 (us)|lo
syscalls_per_conn|Balancer syscalls per connection (perf)|lo
sleeps_per_conn|Balancer sleeps per connection (voluntary context switches)|lo
lat_p50_us|Request latency p50 (us, '"${BENCH_LAT_RATE:-10000}"'/s open loop)|lo
lat_p99_us|Request latency p99 (us)|lo
lat_p999_us|Request latency p99.9 (us)|lo
lat_add_p50_us|Added over direct, p50 (us)|lo
lat_add_p99_us|Added over direct, p99 (us)|lo
lat_add_p999_us|Added over direct, p99.9 (us)|lo
lat_errors|Request errors|lo
mem_kib_per_conn|Memory per idle connection (KiB RSS)|lo
fds_per_conn|fds per idle connection|lo
pipes_per_conn|pipe fds per idle connection|lo
idle_held|Idle connections held|hi
rss_base_kib|RSS with no connections (KiB)|lo'

MED=$(mktemp)
trap 'rm -f "$MED" "$MED.all"' EXIT
medians >"$MED"
# Latency added over direct, from medians.
awk 'NR == FNR { if ($1 == "direct" && $2 ~ /^lat_p(50|99|999)_us$/) d[$2] = $3; next }
	{ print }
	$1 != "direct" && ($2 in d) { sub(/^lat_/, "lat_add_", $2); printf "%s %s %.1f %d\n", $1, $2, $3 - d["lat_" substr($2, 9)], $4 }' \
	"$MED" "$MED" >"$MED.all"
mv "$MED.all" "$MED"

table() {
	awk -v targets="$TARGETS" -v rows="$ROWS" '
	{ m[$1, $2] = $3; n[$1] = $4 > n[$1] ? $4 : n[$1] }
	function fmt(v) { return v == "" ? "-" : (v + 0 >= 100 || v + 0 <= -100 ? sprintf("%.0f", v) : sprintf("%.3g", v)) }
	function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
	END {
		nt = split(targets, t, " ")
		hdr = "| Metric |"; sep = "|---|"
		for (i = 1; i <= nt; i++) {
			hdr = hdr " " t[i] (t[i] == "direct" || t[i] == "haproxy" ? "" : " (/direct, /haproxy)") " |"
			sep = sep "---:|"
		}
		print hdr; print sep
		nr = split(rows, r, "\n")
		for (j = 1; j <= nr; j++) {
			split(r[j], f, "|"); line = "| " f[2] " |"; any = 0
			for (i = 1; i <= nt; i++) {
				v = ((t[i], f[1]) in m) ? m[t[i], f[1]] : ""
				if (v != "") any = 1
				c = fmt(v)
				if (v != "" && t[i] != "direct") {
					rd = ratio(v, m["direct", f[1]]); rh = ratio(v, m["haproxy", f[1]])
					if (t[i] == "haproxy") { if (rd != "-") c = c " (" rd ")" }
					else if (rd != "-" || rh != "-") c = c " (" rd ", " rh ")"
				}
				line = line " " c " |"
			}
			if (any) print line
		}
	}' "$MED"
}

json() {
	awk -v targets="$TARGETS" -v rounds="${BENCH_ROUNDS:-5}" \
	    -v secs="${BENCH_SECONDS:-2}" -v conc="${BENCH_CONC:-64}" \
	    -v lrate="${BENCH_LAT_RATE:-10000}" -v idle="${BENCH_IDLE:-3000}" \
	    -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v raw="$RAW" \
	    -v l0="${BENCH_LOAD_START:-}" -v l1="${BENCH_LOAD_END:-}" \
	    -v el="${BENCH_ELAPSED:-0}" '
	{ m[$1, $2] = $3; keys[$2] = 1 }
	END {
		nt = split(targets, t, " ")
		printf "{\n  \"generated\": \"%s\",\n  \"rounds\": %d,\n  \"seconds\": %s,\n", date, rounds, secs
		printf "  \"concurrency\": %d,\n  \"latency_rate\": %d,\n  \"idle_conns\": %d,\n", conc, lrate, idle
		printf "  \"loadavg_start\": \"%s\",\n  \"loadavg_end\": \"%s\",\n  \"elapsed_s\": %d,\n", l0, l1, el
		printf "  \"cpus\": { \"load_and_backends\": 0, \"balancer\": 1 },\n  \"medians\": {"
		for (i = 1; i <= nt; i++) {
			printf "%s\n    \"%s\": {", (i > 1 ? "," : ""), t[i]; s = ""
			for (k in keys) if ((t[i], k) in m) { printf "%s\n      \"%s\": %s", s, k, m[t[i], k]; s = "," }
			printf "\n    }"
		}
		printf "\n  },\n  \"ratios\": {"; c = ""
		for (i = 1; i <= nt; i++) {
			if (t[i] == "direct") continue
			for (base = 1; base <= 2; base++) {
				b = base == 1 ? "direct" : "haproxy"
				if (b == t[i]) continue
				printf "%s\n    \"%s_to_%s\": {", c, t[i], b; c = ","; s = ""
				for (k in keys) if (((t[i], k) in m) && ((b, k) in m) && m[b, k] != 0) {
					printf "%s\n      \"%s\": %.4f", s, k, m[t[i], k] / m[b, k]; s = ","
				}
				printf "\n    }"
			}
		}
		printf "\n  },\n  \"raw\": ["; s = ""
		while ((getline line < raw) > 0) {
			split(line, f, "\t")
			printf "%s\n    { \"target\": \"%s\", \"round\": %d, \"metric\": \"%s\", \"value\": %s }", s, f[1], f[2], f[3], f[4]; s = ","
		}
		printf "\n  ]\n}\n"
	}' "$MED"
}

plot() {
	local dat=$OUT/latency.dat t cols="" i=2 p
	command -v gnuplot >/dev/null 2>&1 || { echo "bench: no gnuplot, no plot" >&2; return 0; }
	{
		printf 'pct'; for t in $TARGETS; do printf ' %s' "$t"; done; echo
		for p in p50 p90 p99 p999; do
			printf '%s' "$p"
			for kind in lat conn; do
				for t in $TARGETS; do
					awk -v t="$t" -v k="${kind}_${p}_$([ $kind = lat ] && echo us || echo ms)" \
					    -v kind="$kind" '$1 == t && $2 == k { v = kind == "conn" ? $3 * 1000 : $3 }
					    END { printf " %s", v == "" ? "NaN" : v }' "$MED"
				done
			done
			echo
		done
	} >"$dat"
	set -- $TARGETS
	local nt=$#
	gnuplot <<EOF 2>"$OUT/gnuplot.log" || echo "bench: gnuplot failed (see $OUT/gnuplot.log)" >&2
set terminal png size 1100,500
set output '$OUT/latency.png'
set multiplot layout 1,2 title 'lb benchmark: latency percentiles (median of rounds; loopback)'
set logscale y
set grid
set key left top
set ylabel 'microseconds'
set title 'persistent connections, ${BENCH_LAT_RATE:-10000} req/s open loop'
plot for [i=2:$((nt + 1))] '$dat' using i:xtic(1) with linespoints title columnheader(i)
set title 'new connection per request, concurrency ${BENCH_CONC:-64}'
plot for [i=$((nt + 2)):$((2 * nt + 1))] '$dat' using i:xtic(1) with linespoints title word('$TARGETS', i - $((nt + 1)))
unset multiplot
EOF
}

echo
echo "## lb comparison benchmark ($(date -u +%Y-%m-%d), $(nproc) CPUs, loopback)"
echo
echo "Medians of ${BENCH_ROUNDS:-5} interleaved rounds of ${BENCH_SECONDS:-2} s each; in parentheses the ratio to direct and to HAProxy."
echo "One worker each (lbd workers=1, HAProxy nbthread 1, nginx worker_processes 1) on CPU 1; load and backends on CPU 0."
echo "Load average (1/5/15 min) at start: ${BENCH_LOAD_START:-?}, at end: ${BENCH_LOAD_END:-?}; run took ${BENCH_ELAPSED:-?} s. A load above the benchmark's own (about 2) means other work shared the CPUs: expect noise, mostly in the tails."
echo "Settings: BENCH_ROUNDS=${BENCH_ROUNDS:-5} BENCH_SECONDS=${BENCH_SECONDS:-2} BENCH_CONC=${BENCH_CONC:-64} BENCH_LAT_RATE=${BENCH_LAT_RATE:-10000} BENCH_IDLE=${BENCH_IDLE:-3000}."
echo
table
json >"$OUT/results.json"
plot
echo
echo "JSON: $OUT/results.json   plot: $OUT/latency.png"
