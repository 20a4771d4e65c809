/*
 * opts.c - one option parser for the load subcommands of lbbench
 * (connrate, latency, idle, capacity).  Each option lists the subcommands
 * that accept it, so a misplaced option is an error rather than silently
 * ignored.  Defaults are set here; the usage text lives in main.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbbench.h"

enum opt_id {
	O_TARGET = 256, O_SOURCES, O_DURATION, O_WARMUP, O_REQUESTS,
	O_TIMEOUT, O_RATE, O_CONC, O_CONNS, O_SIZE, O_INFLIGHT, O_LABEL,
	O_QUIET, O_SLO, O_PEAK, O_HEADROOM, O_MAXERR, O_START, O_STEP,
	O_STEPS, O_STEPTIME, O_REFINE, O_MODE, O_PLOT, O_CSV,
};

#define ALL	(LBB_CMD_CONNRATE | LBB_CMD_LATENCY | LBB_CMD_IDLE | \
		 LBB_CMD_CAPACITY)
#define CAP	LBB_CMD_CAPACITY

static const struct { const char *name; int id; unsigned cmds; } table[] = {
	{ "target", O_TARGET, ALL },
	{ "sources", O_SOURCES, ALL },
	{ "duration", O_DURATION, ALL & ~CAP },
	{ "warmup", O_WARMUP, ALL & ~LBB_CMD_IDLE },
	{ "requests", O_REQUESTS, LBB_CMD_CONNRATE | LBB_CMD_LATENCY },
	{ "timeout", O_TIMEOUT, ALL },
	{ "rate", O_RATE, LBB_CMD_CONNRATE | LBB_CMD_LATENCY },
	{ "concurrency", O_CONC, LBB_CMD_CONNRATE },
	{ "conns", O_CONNS, LBB_CMD_LATENCY | LBB_CMD_IDLE | CAP },
	{ "size", O_SIZE, ALL & ~LBB_CMD_IDLE },
	{ "max-inflight", O_INFLIGHT, LBB_CMD_CONNRATE | CAP },
	{ "label", O_LABEL, ALL },
	{ "quiet", O_QUIET, ALL },
	{ "slo-p99", O_SLO, CAP },
	{ "peak", O_PEAK, CAP },
	{ "headroom", O_HEADROOM, CAP },
	{ "max-errors", O_MAXERR, CAP },
	{ "start", O_START, CAP },
	{ "step", O_STEP, CAP },
	{ "steps", O_STEPS, CAP },
	{ "step-time", O_STEPTIME, CAP },
	{ "refine", O_REFINE, CAP },
	{ "mode", O_MODE, CAP },
	{ "plot", O_PLOT, CAP },
	{ "csv", O_CSV, CAP },
};
#define NOPT	(sizeof(table) / sizeof(table[0]))

static void
defaults(enum lbb_cmd cmd, struct lbb_opts *o, struct lbb_cap_opts *c)
{
	memset(o, 0, sizeof(*o));
	o->nsrc = (cmd == LBB_CMD_CONNRATE || cmd == LBB_CMD_CAPACITY) ? 16 : 0;
	o->duration_ns = (cmd == LBB_CMD_IDLE ? 60 : 5) * 1000000000ull;
	o->warmup_ns = 200000000ull;
	o->max_requests = 100000000ull;
	o->timeout_ns = 2000000000ull;
	o->concurrency = 32;
	o->conns = 32;
	o->size = 64;
	o->max_inflight = 4096;
	if (c == NULL)
		return;
	memset(c, 0, sizeof(*c));
	c->headroom = 0.30;
	c->max_errors = 0.001;
	c->start = 1000;
	c->step = 1.5;
	c->step_mul = true;
	c->steps = 10;
	c->step_ns = 2000000000ull;
	c->refine = 2;
	c->plot = "lbbench-capacity.png";
}

static int
parse_targets(struct lbb_opts *o, char *arg)
{
	char *tok, *save;

	o->ntarget = 0;
	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (o->ntarget == LBB_MAX_TARGETS ||
		    lbb_parse_addr(tok, &o->target[o->ntarget],
		    &o->target_len[o->ntarget]) == -1)
			return -1;
		o->ntarget++;
	}
	return o->ntarget > 0 ? 0 : -1;
}

/* "x1.5" multiplies each step; "500" or "500/s" adds. */
static int
parse_step(struct lbb_cap_opts *c, const char *s)
{
	c->step_mul = s[0] == 'x';
	if (c->step_mul) {
		c->step = strtod(s + 1, NULL);
		return c->step > 1.0 && c->step <= 10.0 ? 0 : -1;
	}
	return lbb_parse_rate(s, &c->step);
}

static int
parse_cap(struct lbb_cap_opts *c, int id, char *arg)
{
	switch (id) {
	case O_SLO:	return lbb_parse_dur(arg, &c->slo_p99_ns);
	case O_PEAK:	return lbb_parse_rate(arg, &c->peak);
	case O_HEADROOM: return lbb_parse_frac(arg, &c->headroom);
	case O_MAXERR:	return lbb_parse_frac(arg, &c->max_errors);
	case O_START:	return lbb_parse_rate(arg, &c->start);
	case O_STEP:	return parse_step(c, arg);
	case O_STEPS:	return lbb_parse_uint(arg, 100, &c->steps);
	case O_STEPTIME: return lbb_parse_dur(arg, &c->step_ns);
	case O_REFINE:	return lbb_parse_uint(arg, 10, &c->refine);
	case O_PLOT:	c->plot = strcmp(arg, "none") == 0 ? NULL : arg; return 0;
	case O_CSV:	c->csv = arg; return 0;
	case O_MODE:
		c->req_mode = strcmp(arg, "req") == 0;
		return c->req_mode || strcmp(arg, "conn") == 0 ? 0 : -1;
	}
	return -1;
}

static int
parse_one(struct lbb_opts *o, struct lbb_cap_opts *c, int id, char *arg)
{
	uint64_t v;

	switch (id) {
	case O_TARGET:	return parse_targets(o, arg);
	case O_SOURCES:
		if (lbb_parse_uint(arg, LBB_MAX_SRC, &v) == -1)
			return -1;
		o->nsrc = (int)v;
		return 0;
	case O_DURATION: return lbb_parse_dur(arg, &o->duration_ns);
	case O_WARMUP:	return lbb_parse_dur(arg, &o->warmup_ns);
	case O_REQUESTS: return lbb_parse_uint(arg, UINT64_MAX, &o->max_requests);
	case O_TIMEOUT:	return lbb_parse_dur(arg, &o->timeout_ns);
	case O_RATE:	return lbb_parse_rate(arg, &o->rate);
	case O_CONC:	return lbb_parse_uint(arg, 60000, &o->concurrency);
	case O_CONNS:	return lbb_parse_uint(arg, 60000, &o->conns);
	case O_SIZE:	return lbb_parse_uint(arg, 65536, &o->size);
	case O_INFLIGHT: return lbb_parse_uint(arg, 60000, &o->max_inflight);
	case O_LABEL:	o->label = arg; return 0;
	case O_QUIET:	o->quiet = true; return 0;
	}
	return c != NULL ? parse_cap(c, id, arg) : -1;
}

/*
 * Parses argv (argv[0] is the subcommand) for cmd into *o and, for
 * capacity, *c.  Returns 0, or -1 after printing what is wrong.
 */
int
lbb_opts_parse(enum lbb_cmd cmd, int argc, char **argv, struct lbb_opts *o,
    struct lbb_cap_opts *c)
{
	struct option lo[NOPT + 1];
	size_t i, n = 0;
	int ch;

	defaults(cmd, o, c);
	for (i = 0; i < NOPT; i++) {
		if (!(table[i].cmds & cmd))
			continue;
		lo[n].name = table[i].name;
		lo[n].has_arg = table[i].id == O_QUIET ? no_argument :
		    required_argument;
		lo[n].flag = NULL;
		lo[n].val = table[i].id;
		n++;
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == '?')
			return -1;
		if (parse_one(o, c, ch, optarg) == -1) {
			fprintf(stderr, "lbbench %s: bad value '%s' for --%s\n",
			    argv[0], optarg ? optarg : "",
			    table[ch - O_TARGET].name);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lbbench %s: unexpected '%s'\n", argv[0],
		    argv[optind]);
		return -1;
	}
	if (o->ntarget == 0) {
		fprintf(stderr, "lbbench %s: --target is required\n", argv[0]);
		return -1;
	}
	return 0;
}
