/*
 * lbbench - the load generator and echo backend of lb's benchmarks.
 *
 *   lbbench serve    --listen ADDR:PORT[,ADDR:PORT...] [--echo]
 *                    [--duration 30m] [--backlog 4096] [--maxconn 19000]
 *   lbbench connrate --target ADDR:PORT[,...] [--concurrency 32 | --rate R]
 *                    [--duration 5s] [--warmup 200ms] [--requests N]
 *                    [--size 64] [--timeout 2s] [--sources 16]
 *                    [--max-inflight 4096] [--label L] [--quiet]
 *   lbbench latency  --target ADDR:PORT[,...] --rate R [--conns 32]
 *                    [--duration 5s] [--warmup 200ms] [--requests N]
 *                    [--size 64] [--timeout 2s] [--sources 0] [--label L]
 *   lbbench idle     --target ADDR:PORT[,...] --conns N [--duration 60s]
 *                    [--timeout 2s] [--sources 0] [--label L]
 *   lbbench capacity --target ADDR:PORT[,...] --slo-p99 50ms --peak 20000/s
 *                    [--headroom 30%] [--max-errors 0.1%] [--mode conn|req]
 *                    [--start 1000/s] [--step x1.5 | --step 500/s]
 *                    [--steps 10] [--step-time 2s] [--refine 2]
 *                    [--conns 32] [--size 64] [--timeout 2s]
 *                    [--plot FILE.png|none] [--csv FILE]
 *
 * serve:    pure echo (no greeting), one epoll thread for all addresses.
 * connrate: a new TCP connection per request: connect, send --size bytes,
 *           read them back, close.  Closed loop at --concurrency, or open
 *           loop at --rate (starts on a fixed schedule whatever the answers
 *           do; a start that finds --max-inflight busy is dropped and
 *           counted as an error).
 * latency:  --conns persistent connections, requests sent on a fixed
 *           open-loop schedule at --rate, round robin, pipelined.
 * idle:     opens --conns connections, proves each one reaches a backend
 *           (one byte echoed), prints "ready N", then holds them until
 *           SIGTERM/SIGINT or --duration.
 * capacity: open-loop steps of rising rate (connections per second, or
 *           requests per second on persistent connections with --mode
 *           req); the highest step whose p99 <= --slo-p99 and error ratio
 *           <= --max-errors is one server's capacity; prints servers
 *           needed for --peak at --headroom, and N+1, with the arithmetic;
 *           the curve as a table, and as a PNG (--plot, default
 *           lbbench-capacity.png) when gnuplot is installed.
 *
 * Latency is measured from each request's scheduled start, so a stall in
 * the system under test shows as latency, not as fewer samples ("coordinated
 * omission").  Percentiles come from a log-linear histogram: exact below
 * 128 ns, above that 128 buckets per power of two, so a reported
 * percentile is at most 1/128 = 0.78% above the true value, never under.
 *
 * Bounds: every run stops after --duration (capacity: --steps x
 * --step-time plus --refine steps) or --requests (counted after the
 * warm-up, which is itself bounded by --warmup), whichever comes first,
 * then waits at most --timeout for requests in flight.  SIGINT/SIGTERM end
 * a run early.  --sources N binds connections round robin to source
 * addresses 127.0.0.2 .. 127.0.0.(N+1) (IPv4 targets only) so that
 * TIME_WAIT sockets of short connections do not exhaust the ports of one
 * address pair.  Durations take ns/us/ms/s/m; rates take an optional k and
 * /s ("20k/s"); fractions are "30%" or "0.3".
 *
 * `lbbench selftest` checks that bound against exact percentiles.
 *
 * Every load subcommand prints a human summary and one "RESULT key=value
 * ..." line for scripts (tests/bench/run.sh).  Exit status: 0 done, 1 bad
 * usage or set-up failure, 2 capacity found no passing step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbbench.h"

void
lbb_usage(FILE *fp)
{
	fputs("usage: lbbench serve|connrate|latency|idle|capacity [options]\n"
	    "  serve    --listen ADDR:PORT[,...] [--echo] [--duration 30m]\n"
	    "           [--backlog 4096] [--maxconn 19000]\n"
	    "  connrate --target ADDR:PORT[,...] [--concurrency N | --rate R]\n"
	    "           [--duration 5s] [--warmup 200ms] [--requests N]\n"
	    "           [--size 64] [--timeout 2s] [--sources 16]\n"
	    "           [--max-inflight 4096] [--label L] [--quiet]\n"
	    "  latency  --target ADDR:PORT[,...] --rate R [--conns 32]\n"
	    "           [--duration 5s] [--warmup 200ms] [--size 64]\n"
	    "  idle     --target ADDR:PORT[,...] --conns N [--duration 60s]\n"
	    "  capacity --target ADDR:PORT[,...] --slo-p99 50ms --peak 20000/s\n"
	    "           [--headroom 30%] [--max-errors 0.1%] [--mode conn|req]\n"
	    "           [--start 1000/s] [--step x1.5|500/s] [--steps 10]\n"
	    "           [--step-time 2s] [--refine 2] [--csv F]\n"
	    "           [--plot F.png|none (default lbbench-capacity.png)]\n"
	    "Latency is timed from each request's scheduled start (open loop);\n"
	    "percentiles are at most 0.78% high (log-linear histogram, 128\n"
	    "buckets per power of two).  Every run is bounded by --duration\n"
	    "and --requests; see the comment at the top of tests/bench/main.c.\n",
	    fp);
}

static int
cmd_connrate(int argc, char **argv)
{
	struct lbb_opts o;
	struct lbb_result *r;

	if (lbb_opts_parse(LBB_CMD_CONNRATE, argc, argv, &o, NULL) == -1)
		return 1;
	if ((r = malloc(sizeof(*r))) == NULL || lbb_connrate_run(&o, r) == -1) {
		fprintf(stderr, "lbbench connrate: set-up failed\n");
		return 1;
	}
	lbb_result_print("connrate", &o, r);
	free(r);
	return 0;
}

static int
cmd_latency(int argc, char **argv)
{
	struct lbb_opts o;
	struct lbb_result *r;

	if (lbb_opts_parse(LBB_CMD_LATENCY, argc, argv, &o, NULL) == -1)
		return 1;
	if (o.rate <= 0) {
		fprintf(stderr, "lbbench latency: --rate is required\n");
		return 1;
	}
	if ((r = malloc(sizeof(*r))) == NULL || lbb_latency_run(&o, r) == -1) {
		fprintf(stderr, "lbbench latency: set-up failed\n");
		return 1;
	}
	lbb_result_print("latency", &o, r);
	free(r);
	return 0;
}

/*
 * `lbbench selftest`: checks the histogram against exact percentiles of
 * known samples (every reported value within [true, true x (1 + 2^-7)]).
 * Exit 0 when all hold.  Used by tests/integ/t_capacity.sh.
 */
static int
cmd_selftest(int argc, char **argv)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	struct lbb_hist *h = malloc(sizeof(*h));
	uint64_t n = 200000, i, want, got;
	size_t k;
	int bad = 0;

	(void)argc;
	(void)argv;
	if (h == NULL)
		return 1;
	lbb_hist_init(h);
	/* Values i^2 / 8 + 1 span 1 ns .. 5 s, dense at the bottom. */
	for (i = 0; i < n; i++)
		lbb_hist_add(h, i * i / 8 + 1);
	for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		i = (uint64_t)(qs[k] * (double)n + 0.999999) - 1;
		want = i * i / 8 + 1;
		got = lbb_hist_pct(h, qs[k]);
		if (got < want || (double)got > (double)want * (1.0 + 1.0 / LBB_SUB))
			bad = 1;
		printf("q=%.3f want %llu got %llu (%+.3f%%)\n", qs[k],
		    (unsigned long long)want, (unsigned long long)got,
		    100.0 * ((double)got - (double)want) / (double)want);
	}
	free(h);
	printf("selftest %s\n", bad ? "FAIL" : "ok");
	return bad;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "serve", lbb_cmd_serve },
		{ "connrate", cmd_connrate },
		{ "latency", cmd_latency },
		{ "idle", lbb_cmd_idle },
		{ "capacity", lbb_cmd_capacity },
		{ "selftest", cmd_selftest },
	};
	size_t i;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		lbb_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	lbb_signals();
	lbb_raise_nofile();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "lbbench: unknown subcommand '%s'\n", argv[1]);
	lbb_usage(stderr);
	return 1;
}
