/*
 * capacity.c - `lbbench capacity`: capacity planning from a measured
 * curve.  It drives the target with open-loop steps of rising rate (new
 * connections per second, or requests per second on persistent
 * connections with --mode req), each --step-time long, and stops at the
 * first step that breaks the objective (p99 above --slo-p99, or an error
 * ratio above --max-errors); --refine bisection steps then narrow the gap
 * between the last passing and the first failing rate.  The highest
 * passing rate is one server's capacity C.  For a peak P and headroom H:
 *
 *     usable per server  U = C x (1 - H)
 *     servers            N = ceil(P / U)
 *     with one spare       N + 1
 *
 * Total time is bounded by (steps + refine) x (step-time + timeout).
 * The curve is printed as a table, and drawn to --plot (default
 * lbbench-capacity.png, "none" for no plot) when gnuplot is installed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbbench.h"

#define MAX_STEPS	128

struct cap_step {
	double	offered, achieved;
	double	p50_ms, p99_ms, p999_ms;
	double	err_ratio;
	bool	pass;
};

struct cap {
	struct lbb_opts		o;
	struct lbb_cap_opts	c;
	struct cap_step		s[MAX_STEPS];
	size_t			n;
	struct lbb_result	r;
};

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Runs one step at rate; appends it to the curve and returns it. */
static struct cap_step *
run_step(struct cap *k, double rate)
{
	struct lbb_opts o = k->o;
	struct cap_step *s = &k->s[k->n++];
	uint64_t total;
	int rc;

	o.rate = floor(rate);
	o.duration_ns = k->c.step_ns;
	o.warmup_ns = k->c.step_ns / 10;
	o.quiet = true;
	rc = k->c.req_mode ? lbb_latency_run(&o, &k->r) :
	    lbb_connrate_run(&o, &k->r);
	memset(s, 0, sizeof(*s));
	s->offered = o.rate;
	total = k->r.ok + k->r.errors;
	if (rc == -1 || total == 0) {
		s->err_ratio = 1.0;
		return s;
	}
	s->achieved = k->r.seconds > 0 ? (double)k->r.ok / k->r.seconds : 0;
	s->p50_ms = ms(lbb_hist_pct(&k->r.hist, 0.5));
	s->p99_ms = ms(lbb_hist_pct(&k->r.hist, 0.99));
	s->p999_ms = ms(lbb_hist_pct(&k->r.hist, 0.999));
	s->err_ratio = (double)k->r.errors / (double)total;
	s->pass = k->r.ok > 0 && s->p99_ms <= ms(k->c.slo_p99_ns) &&
	    s->err_ratio <= k->c.max_errors;
	fprintf(stderr, "capacity: %.0f/s -> p99 %.3f ms, errors %.3f%%: %s\n",
	    s->offered, s->p99_ms, s->err_ratio * 100,
	    s->pass ? "pass" : "FAIL");
	return s;
}

/*
 * The search: rising steps until one fails, then bisection.  Returns the
 * best passing rate (0 if none) and sets *limit when a step failed.
 */
static double
search(struct cap *k, bool *limit)
{
	double rate = k->c.start, best = 0, bad = 0, mid;
	uint64_t i;

	*limit = false;
	for (i = 0; i < k->c.steps && k->n < MAX_STEPS && !lbb_stop; i++) {
		if (run_step(k, rate)->pass)
			best = floor(rate);
		else {
			bad = floor(rate);
			*limit = true;
			break;
		}
		rate = k->c.step_mul ? rate * k->c.step : rate + k->c.step;
	}
	for (i = 0; *limit && best > 0 && i < k->c.refine &&
	    k->n < MAX_STEPS && !lbb_stop; i++) {
		mid = floor((best + bad) / 2);
		if (mid <= best || mid >= bad)
			break;
		if (run_step(k, mid)->pass)
			best = mid;
		else
			bad = mid;
	}
	return best;
}

static int
cmp_offered(const void *a, const void *b)
{
	const struct cap_step *x = a, *y = b;

	return (x->offered > y->offered) - (x->offered < y->offered);
}

static void
print_curve(struct cap *k, FILE *fp, bool csv)
{
	size_t i;

	qsort(k->s, k->n, sizeof(k->s[0]), cmp_offered);
	if (csv)
		fprintf(fp, "offered,achieved,p50_ms,p99_ms,p999_ms,"
		    "error_ratio,pass\n");
	else
		fprintf(fp, "| offered/s | achieved/s | p50 ms | p99 ms | "
		    "p99.9 ms | errors | verdict |\n|---:|---:|---:|---:|---:|"
		    "---:|---|\n");
	for (i = 0; i < k->n; i++) {
		const struct cap_step *s = &k->s[i];

		fprintf(fp, csv ? "%.0f,%.0f,%.3f,%.3f,%.3f,%.6f,%s\n" :
		    "| %.0f | %.0f | %.3f | %.3f | %.3f | %.3f%% | %s |\n",
		    s->offered, s->achieved, s->p50_ms, s->p99_ms, s->p999_ms,
		    csv ? s->err_ratio : s->err_ratio * 100,
		    csv ? (s->pass ? "1" : "0") : (s->pass ? "pass" : "FAIL"));
	}
}

/* p99 and achieved rate against offered rate, with the objective. */
static void
plot(struct cap *k, const char *path)
{
	FILE *gp;
	size_t i;

	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "capacity: gnuplot not found, no plot\n");
		return;
	}
	printf("plot: %s\n", path);
	if ((gp = popen("gnuplot", "w")) == NULL)
		return;
	fprintf(gp, "set terminal png size 900,500\nset output '%s'\n"
	    "set title 'lbbench capacity: p99 latency vs offered rate'\n"
	    "set xlabel 'offered rate (/s)'\nset ylabel 'p99 (ms)'\n"
	    "set y2label 'achieved rate (/s)'\nset ytics nomirror\n"
	    "set y2tics\nset logscale y\nset key left top\n$d << EOD\n", path);
	for (i = 0; i < k->n; i++)
		fprintf(gp, "%.0f %.0f %.4f\n", k->s[i].offered,
		    k->s[i].achieved, k->s[i].p99_ms > 0 ? k->s[i].p99_ms : 1e-3);
	fprintf(gp, "EOD\nplot $d using 1:3 with linespoints title 'p99', "
	    "%.3f with lines dashtype 2 title 'objective', "
	    "$d using 1:2 axes x1y2 with linespoints title 'achieved'\n",
	    ms(k->c.slo_p99_ns));
	if (pclose(gp) != 0)
		fprintf(stderr, "capacity: gnuplot failed\n");
}

/* The plan, with its arithmetic spelled out, and one CAPACITY line. */
static void
print_plan(const struct cap *k, double best, bool limit)
{
	double h = k->c.headroom, usable = best * (1.0 - h);
	double q = k->c.peak / usable;
	uint64_t n = (uint64_t)ceil(q - 1e-9);

	printf("\nobjective: p99 <= %.3f ms, errors <= %.3f%%\n",
	    ms(k->c.slo_p99_ns), k->c.max_errors * 100);
	printf("capacity of one server: %.0f/s%s\n", best, limit ? "" :
	    " (no step failed: the true limit is higher, so the counts "
	    "below are upper bounds)");
	printf("usable per server at %.0f%% headroom: %.0f x (1 - %.2f) "
	    "= %.2f/s\n", h * 100, best, h, usable);
	printf("servers for a peak of %.0f/s: ceil(%.0f / %.2f) = ceil(%.3f) "
	    "= %llu\n", k->c.peak, k->c.peak, usable, q, (unsigned long long)n);
	printf("with one spare (N+1): %llu + 1 = %llu\n",
	    (unsigned long long)n, (unsigned long long)n + 1);
	printf("CAPACITY max_rate=%.0f headroom=%.4f usable=%.2f peak=%.0f "
	    "servers=%llu servers_n1=%llu limit_reached=%d slo_p99_ms=%.3f "
	    "max_errors=%.6f steps=%zu\n", best, h, usable, k->c.peak,
	    (unsigned long long)n, (unsigned long long)n + 1, limit ? 1 : 0,
	    ms(k->c.slo_p99_ns), k->c.max_errors, k->n);
}

int
lbb_cmd_capacity(int argc, char **argv)
{
	struct cap *k;
	FILE *fp;
	double best;
	bool limit;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return 1;
	if (lbb_opts_parse(LBB_CMD_CAPACITY, argc, argv, &k->o, &k->c) == -1)
		return 1;
	if (k->c.slo_p99_ns == 0 || k->c.peak <= 0 || k->c.start < 1) {
		fprintf(stderr, "lbbench capacity: --slo-p99 and --peak are "
		    "required\n");
		return 1;
	}
	best = search(k, &limit);
	print_curve(k, stdout, false);
	if (k->c.csv != NULL && (fp = fopen(k->c.csv, "w")) != NULL) {
		print_curve(k, fp, true);
		fclose(fp);
	}
	if (k->c.plot != NULL)
		plot(k, k->c.plot);
	if (best <= 0) {
		printf("\nno step met the objective (p99 <= %.3f ms, errors "
		    "<= %.3f%%): lower --start\nCAPACITY max_rate=0 "
		    "servers=none\n", ms(k->c.slo_p99_ns),
		    k->c.max_errors * 100);
		free(k);
		return 2;
	}
	print_plan(k, best, limit);
	free(k);
	return 0;
}
