/*
 * test_autoscale.c - the autoscale evaluator with injected time and
 * figures: thresholds (+20% out, -40% in, exact edges kept), min/max
 * bounds and DESIRED, cooldown, hook running, window filling, a server
 * lost below min_servers, more than max_servers, the choice of the
 * server to drain, the window average; the autoscale group's validation
 * with FILE:LINE; and the runner once for real: a hook spawned with its
 * environment, its exit status recorded, a hung hook killed at
 * hook_timeout.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "autoscale.h"
#include "cfg.h"
#include "clock.h"
#include "conf.h"
#include "conf_autoscale.h"
#include "shm.h"

/* min 1, max 3, target 5: the integration test's numbers. */
static struct conf_autoscale
cfg(uint32_t min, uint32_t max, uint32_t target)
{
	struct conf_autoscale c;

	conf_autoscale_defaults(&c);
	c.enabled = true;
	c.min_servers = min;
	c.max_servers = max;
	c.target = target;
	return c;
}

/* A steady pool: window full, no hook, cooldown over. */
static struct as_input
at(uint32_t healthy, uint64_t avg_milli)
{
	struct as_input in;

	memset(&in, 0, sizeof(in));
	in.now = 100000;
	in.healthy = healthy;
	in.avg_milli = avg_milli;
	in.window_full = true;
	in.cooldown_until = 0;
	return in;
}

static struct as_decision
decide(const struct conf_autoscale *c, const struct as_input *in)
{
	struct as_decision d;

	autoscale_decide(c, in, &d);
	return d;
}

START_TEST(above_target_scales_out)
{
	struct conf_autoscale	c = cfg(1, 3, 5);
	struct as_input		in = at(1, 20000);	/* 20 on 1 server */
	struct as_decision	d = decide(&c, &in);

	ck_assert_int_eq(d.action, AS_SCALE_OUT);
	ck_assert_int_eq(d.reason, AS_WHY_ABOVE_TARGET);
	ck_assert_uint_eq(d.desired, 3);	/* ceil(20/5) = 4, max 3 */
	c.max_servers = 10;
	d = decide(&c, &in);
	ck_assert_uint_eq(d.desired, 4);
	in = at(2, 13000);			/* 6.5 each: ceil(13/5) = 3 */
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_SCALE_OUT);
	ck_assert_uint_eq(d.desired, 3);
	in = at(4, 25000);			/* 6.25 each, want 5 */
	ck_assert_uint_eq(decide(&c, &in).desired, 5);
	in = at(3, 18100);			/* want ceil(3.62) = 4 */
	ck_assert_uint_eq(decide(&c, &in).desired, 4);
}
END_TEST

START_TEST(thresholds_are_strict)
{
	struct conf_autoscale	c = cfg(1, 10, 5);
	struct as_input		in;
	struct as_decision	d;

	in = at(2, 12000);		/* exactly +20%: 6 each */
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_KEEP);
	ck_assert_int_eq(d.reason, AS_WHY_IN_BAND);
	in = at(2, 12001);
	ck_assert_int_eq(decide(&c, &in).action, AS_SCALE_OUT);
	in = at(2, 6000);		/* exactly -40%: 3 each */
	ck_assert_int_eq(decide(&c, &in).action, AS_KEEP);
	in = at(2, 5999);
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_SCALE_IN);
	ck_assert_int_eq(d.reason, AS_WHY_BELOW_TARGET);
	ck_assert_uint_eq(d.desired, 1);
	in = at(2, 10000);		/* on target */
	ck_assert_int_eq(decide(&c, &in).reason, AS_WHY_IN_BAND);
}
END_TEST

START_TEST(bounds_hold)
{
	struct conf_autoscale	c = cfg(2, 3, 5);
	struct as_input		in;
	struct as_decision	d;

	in = at(3, 60000);		/* far above, already max */
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_KEEP);
	ck_assert_int_eq(d.reason, AS_WHY_AT_MAX);
	in = at(2, 0);			/* idle, already min */
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_KEEP);
	ck_assert_int_eq(d.reason, AS_WHY_AT_MIN);
	in = at(3, 0);			/* idle: one fewer, never below min */
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_SCALE_IN);
	ck_assert_uint_eq(d.desired, 2);
	c = cfg(1, 10, 5);
	in = at(8, 1000);		/* want 1, at most one fewer: 7 */
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_SCALE_IN);
	ck_assert_uint_eq(d.desired, 1);
	in = at(8, 16000);		/* 2 each: want ceil(16/5) = 4 */
	ck_assert_uint_eq(decide(&c, &in).desired, 4);
}
END_TEST

START_TEST(cooldown_and_hook_wait)
{
	struct conf_autoscale	c = cfg(1, 3, 5);
	struct as_input		in = at(1, 20000);
	struct as_decision	d;

	in.cooldown_until = in.now + 1;
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_KEEP);
	ck_assert_int_eq(d.reason, AS_WHY_COOLDOWN);
	in.cooldown_until = in.now;	/* over at its last millisecond */
	ck_assert_int_eq(decide(&c, &in).action, AS_SCALE_OUT);
	in.hook_running = true;
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_KEEP);
	ck_assert_int_eq(d.reason, AS_WHY_HOOK_RUNNING);
	in.hook_running = false;
	in.window_full = false;
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_KEEP);
	ck_assert_int_eq(d.reason, AS_WHY_WINDOW);
	in = at(0, 0);			/* even a lost server waits */
	in.window_full = false;
	ck_assert_int_eq(decide(&c, &in).reason, AS_WHY_WINDOW);
}
END_TEST

START_TEST(lost_server_below_min)
{
	struct conf_autoscale	c = cfg(2, 5, 100);
	struct as_input		in = at(1, 0);	/* idle, but below min */
	struct as_decision	d = decide(&c, &in);

	ck_assert_int_eq(d.action, AS_SCALE_OUT);
	ck_assert_int_eq(d.reason, AS_WHY_BELOW_MIN);
	ck_assert_uint_eq(d.desired, 2);
	in = at(0, 0);
	d = decide(&c, &in);
	ck_assert_int_eq(d.reason, AS_WHY_BELOW_MIN);
	ck_assert_uint_eq(d.desired, 2);
	in = at(1, 350000);		/* and loaded: want 4 */
	ck_assert_uint_eq(decide(&c, &in).desired, 4);
	in = at(1, 9000000);		/* want 90, max 5 */
	ck_assert_uint_eq(decide(&c, &in).desired, 5);
	c = cfg(0, 5, 100);		/* min 0, nothing healthy: no load */
	in = at(0, 0);
	d = decide(&c, &in);
	ck_assert_int_eq(d.action, AS_KEEP);
	ck_assert_int_eq(d.reason, AS_WHY_NO_SERVER);
}
END_TEST

START_TEST(above_max_scales_in)
{
	struct conf_autoscale	c = cfg(1, 3, 5);
	struct as_input		in = at(5, 75000);	/* loaded, but 5 > 3 */
	struct as_decision	d = decide(&c, &in);

	ck_assert_int_eq(d.action, AS_SCALE_IN);
	ck_assert_int_eq(d.reason, AS_WHY_ABOVE_MAX);
	ck_assert_uint_eq(d.desired, 3);
}
END_TEST

START_TEST(drain_choice)
{
	struct as_server s[5] = {
		{ 4, true, false }, { 1, true, false }, { 0, false, false },
		{ 1, true, false }, { 9, true, false },
	};

	/* Least loaded ready: 1 (twice): the later one, added last. */
	ck_assert_int_eq(autoscale_pick_drain(s, 5), 3);
	s[3].active = 2;
	ck_assert_int_eq(autoscale_pick_drain(s, 5), 1);
	s[2].ready = true;		/* 0 active, now ready */
	ck_assert_int_eq(autoscale_pick_drain(s, 5), 2);
	/* A server added at run time goes first, even when busier. */
	s[4].added = true;
	ck_assert_int_eq(autoscale_pick_drain(s, 5), 4);
	s[0].added = true;		/* of the added ones, the least loaded */
	ck_assert_int_eq(autoscale_pick_drain(s, 5), 0);
	s[0].ready = s[1].ready = s[2].ready = s[3].ready = s[4].ready =
	    false;
	ck_assert_int_eq(autoscale_pick_drain(s, 5), -1);
	ck_assert_int_eq(autoscale_pick_drain(s, 0), -1);
}
END_TEST

START_TEST(window_average)
{
	struct as_window	w;
	bool			full;
	int64_t			t;

	ck_assert_int_eq(autoscale_window_init(&w, 1000, 100), 0);
	ck_assert_uint_eq(autoscale_window_avg(&w, 0, &full), 0);
	ck_assert(!full);
	for (t = 0; t <= 800; t += 100)
		autoscale_window_add(&w, t, 10);
	ck_assert_uint_eq(autoscale_window_avg(&w, 800, &full), 10000);
	ck_assert(!full);		/* 9 samples cover 900 ms */
	autoscale_window_add(&w, 900, 20);
	ck_assert_uint_eq(autoscale_window_avg(&w, 900, &full), 11000);
	ck_assert(full);
	/* Old samples leave: at 1500 only 600..1500 count (6 x 10, 4 x 20). */
	for (t = 1000; t <= 1500; t += 100)
		autoscale_window_add(&w, t, 20);
	ck_assert_uint_eq(autoscale_window_avg(&w, 1500, &full), 17000);
	/* The ring wraps: 100 more samples of 3. */
	for (t = 1600; t < 11600; t += 100)
		autoscale_window_add(&w, t, 3);
	ck_assert_uint_eq(autoscale_window_avg(&w, 11500, &full), 3000);
	autoscale_window_add(&w, 11600, 4);	/* (9 x 3 + 4) / 10 */
	ck_assert_uint_eq(autoscale_window_avg(&w, 11600, &full), 3100);
	autoscale_window_reset(&w);
	autoscale_window_add(&w, 20000, 1);
	ck_assert_uint_eq(autoscale_window_avg(&w, 20000, &full), 1000);
	ck_assert(!full);
	autoscale_window_free(&w);
}
END_TEST

/* --- the autoscale group of lbd.conf ------------------------------------ */

static struct conf *
load(const char *group, struct cfg_errors *errs)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "pools = (\n"					/* 1 */
	    " { name = \"p\";\n"				/* 2 */
	    "   servers = ( { name = \"a\"; address = \"127.0.0.1:1\"; } );\n"
	    "   %s\n"						/* 4 */
	    " }\n"						/* 5 */
	    ");\n"						/* 6 */
	    "listeners = ( { name = \"l\"; bind = \"127.0.0.1:9\"; "
	    "pool = \"p\"; } );\n", group);
	return conf_load_string(text, "t.conf", errs);
}

static void
expect_error(const char *group, const char *want)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c = load(group, &errs);
	size_t			 i;
	bool			 seen = false;

	ck_assert_ptr_null(c);
	for (i = 0; i < errs.n; i++)
		if (strstr(errs.msg[i], want) != NULL)
			seen = true;
	if (!seen)
		ck_abort_msg("no error with \"%s\" (first: %s)", want,
		    errs.n ? errs.msg[0] : "none");
	cfg_errors_free(&errs);
}

#define AS_OK	"scale_out = \"/x/out\"; scale_in = \"/x/in\"; "

START_TEST(conf_defaults_and_values)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c = load("", &errs);
	const struct conf_autoscale *a;

	ck_assert_ptr_nonnull(c);
	ck_assert(!c->pools[0].autoscale.enabled);
	conf_free(c);
	c = load("autoscale = { max_servers = 4; target_active_per_server = "
	    "50; " AS_OK "};", &errs);
	ck_assert_ptr_nonnull(c);
	a = &c->pools[0].autoscale;
	ck_assert(a->enabled);
	ck_assert_uint_eq(a->min_servers, 1);
	ck_assert_uint_eq(a->max_servers, 4);
	ck_assert_uint_eq(a->target, 50);
	ck_assert_uint_eq(a->window_ms, 30000);
	ck_assert_uint_eq(a->cooldown_ms, 120000);
	ck_assert_uint_eq(a->hook_timeout_ms, 30000);
	ck_assert_str_eq(a->scale_out, "/x/out");
	ck_assert_str_eq(a->scale_in, "/x/in");
	conf_free(c);
	c = load("autoscale = { min_servers = 0; max_servers = 0; "
	    "target_active_per_server = 1; window = \"1h\"; cooldown = 0; "
	    "hook_timeout = \"1s\"; " AS_OK "};", &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->pools[0].autoscale.window_ms, 3600000);
	ck_assert_uint_eq(c->pools[0].autoscale.cooldown_ms, 0);
	conf_free(c);
}
END_TEST

START_TEST(conf_errors_with_lines)
{
	expect_error("autoscale = { max_servers = 1; min_servers = 2; "
	    "target_active_per_server = 5; " AS_OK "};",
	    "t.conf:4: autoscale 'max_servers' (1) must not be below "
	    "'min_servers' (2)");
	expect_error("autoscale = { max_servers = 257; "
	    "target_active_per_server = 5; " AS_OK "};", "t.conf:4: "
	    "'max_servers' must be between 0 and 256");
	expect_error("autoscale = { min_servers = -1; max_servers = 2; "
	    "target_active_per_server = 5; " AS_OK "};", "t.conf:4: "
	    "'min_servers' must be between 0 and 256");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 0; " AS_OK "};", "t.conf:4: "
	    "'target_active_per_server' must be between 1");
	expect_error("autoscale = { max_servers = 2; " AS_OK "};",
	    "t.conf:4: missing required setting "
	    "'pools.[0].autoscale.target_active_per_server'");
	expect_error("autoscale = { target_active_per_server = 2; " AS_OK
	    "};", "missing required setting 'pools.[0].autoscale.max_servers'");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 5; scale_out = \"/x\"; };",
	    "missing required setting 'pools.[0].autoscale.scale_in'");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 5; scale_out = \"x.sh\"; "
	    "scale_in = \"/x\"; };", "t.conf:4: autoscale 'scale_out' must be "
	    "an absolute path (got \"x.sh\")");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 5; window = \"500ms\"; " AS_OK "};",
	    "t.conf:4: 'window' must be between 1s and 1h");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 5; window = \"2h\"; " AS_OK "};",
	    "t.conf:4: 'window' must be between 1s and 1h");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 5; cooldown = \"25h\"; " AS_OK "};",
	    "t.conf:4: 'cooldown' must be between 0");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 5; hook_timeout = 0; " AS_OK "};",
	    "t.conf:4: 'hook_timeout' must be between 1s and 1h");
	expect_error("autoscale = { max_servers = 2; "
	    "target_active_per_server = 5; speed = 1; " AS_OK "};",
	    "t.conf:4: unknown setting 'pools.[0].autoscale.speed'");
	expect_error("autoscale = 3;", "t.conf:4:");
}
END_TEST

/* --- the runner, for real -------------------------------------------- */

static char	 dir[64];

/* Writes an executable shell script `name` in dir; its path into out. */
static void
script(const char *name, const char *body, char *out, size_t len)
{
	FILE *f;

	snprintf(out, len, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(out, "w"));
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	ck_assert_int_eq(chmod(out, 0755), 0);
}

/*
 * Runs the loop (reaping children like the master does) until pool p's
 * newest decision has a result other than running, at most `ms`.
 */
static bool
run_until_done(struct event_base *base, struct autoscale *a, int64_t ms,
    struct autoscale_view *v)
{
	int64_t	 end = clock_mono_ms() + ms;
	pid_t	 pid;
	int	 st;

	while (clock_mono_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			ck_assert(autoscale_reaped(a, pid, st));
		if (autoscale_view(0, v) && v->nrec > 0 &&
		    v->rec[0].result != AS_RES_RUNNING)
			return true;
		usleep(10000);
	}
	return false;
}

/* A table and config: pool "p", one server up, min 2 (so: scale out). */
static struct conf *
runner_conf(struct shm_table *t, const char *out_hook, const char *extra)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c;
	char			 g[1024];
	int			 pi;

	snprintf(g, sizeof(g), "autoscale = { min_servers = 2; max_servers "
	    "= 3; target_active_per_server = 5; window = \"1s\"; scale_out = "
	    "\"%s\"; scale_in = \"/nonexistent\"; %s };", out_hook, extra);
	ck_assert_ptr_nonnull(c = load(g, &errs));
	ck_assert_int_ge(pi = shm_pool_add(t, "p", BAL_ROUNDROBIN, 0), 0);
	ck_assert_int_ge(shm_server_add(t, (uint32_t)pi, "a", NULL, 0, 1, 0,
	    false), 0);
	return c;
}

START_TEST(runner_runs_hook)
{
	struct event_base	*base = event_base_new();
	struct shm_table	*t = shm_create();
	struct autoscale_view	 v;
	struct autoscale	*a;
	struct conf		*c;
	char			 hook[128], envf[128], line[256];
	FILE			*f;
	bool			 pool = false, server = false, sock = false;
	bool			 cur = false, des = false, why = false;

	snprintf(envf, sizeof(envf), "%s/env", dir);
	snprintf(line, sizeof(line), "env > %s; echo out; exit 7", envf);
	script("out.sh", line, hook, sizeof(hook));
	c = runner_conf(t, hook, "");
	ck_assert_ptr_nonnull(a = autoscale_start(base, t, &c, "/s/ock"));
	ck_assert(run_until_done(base, a, 5000, &v));
	ck_assert_str_eq(v.pool, "p");
	ck_assert_int_eq(v.rec[0].action, AS_SCALE_OUT);
	ck_assert_int_eq(v.rec[0].reason, AS_WHY_BELOW_MIN);
	ck_assert_uint_eq(v.rec[0].current, 1);
	ck_assert_uint_eq(v.rec[0].desired, 2);
	ck_assert_int_eq(v.rec[0].result, AS_RES_EXITED);
	ck_assert_int_eq(v.rec[0].status, 7);
	ck_assert_int_gt(v.cooldown_left_ms, 0);
	ck_assert(!v.hook_running);
	ck_assert_ptr_nonnull(f = fopen(envf, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		pool |= strcmp(line, "POOL=p\n") == 0;
		server |= strncmp(line, "SERVER=", 7) == 0;
		sock |= strcmp(line, "LBCTL_SOCKET=/s/ock\n") == 0;
		cur |= strcmp(line, "CURRENT=1\n") == 0;
		des |= strcmp(line, "DESIRED=2\n") == 0;
		why |= strcmp(line, "REASON=below_min\n") == 0;
	}
	fclose(f);
	ck_assert(pool && sock && cur && des && why && !server);
	ck_assert(!autoscale_reaped(a, 1, 0));	/* not the hook */
	autoscale_stop(a);
	ck_assert(!autoscale_view(0, &v));
	ck_assert(!autoscale_reaped(NULL, 1, 0));
	conf_free(c);
	shm_destroy(t);
	event_base_free(base);
}
END_TEST

/*
 * True when a process of group `pgid` is alive, zombies aside: an
 * orphan killed with the group waits for init to reap it, and some
 * container inits never do.
 */
static bool
group_alive(pid_t pgid)
{
	DIR		*d;
	struct dirent	*e;
	FILE		*f;
	char		 path[64], st;
	int		 pgrp;
	bool		 alive = false;

	ck_assert_ptr_nonnull(d = opendir("/proc"));
	while (!alive && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid pgrp: comm has no ") " here (sh, sleep). */
		if (fscanf(f, "%*d (%*[^)]) %c %*d %d", &st, &pgrp) == 2 &&
		    pgrp == pgid && st != 'Z')
			alive = true;
		fclose(f);
	}
	closedir(d);
	return alive;
}

START_TEST(runner_kills_hung_hook)
{
	struct event_base	*base = event_base_new();
	struct shm_table	*t = shm_create();
	struct autoscale_view	 v;
	struct autoscale	*a;
	struct conf		*c;
	char			 hook[128];
	int64_t			 end;

	script("hang.sh", "sleep 60 & sleep 60", hook, sizeof(hook));
	c = runner_conf(t, hook, "hook_timeout = \"1s\";");
	ck_assert_ptr_nonnull(a = autoscale_start(base, t, &c, "/s"));
	end = clock_mono_ms() + 5000;
	while (!(autoscale_view(0, &v) && v.hook_running) &&
	    clock_mono_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10000);
	}
	ck_assert(v.hook_running);
	ck_assert_int_gt(v.hook_pid, 0);
	ck_assert(group_alive(v.hook_pid));	/* the check can see it */
	ck_assert(run_until_done(base, a, 8000, &v));
	ck_assert_int_eq(v.rec[0].result, AS_RES_TIMEOUT);
	ck_assert_int_ge(v.rec[0].duration_ms, 1000);
	/* The whole group went: its background sleep too. */
	end = clock_mono_ms() + 3000;
	while (group_alive(v.rec[0].pid) && clock_mono_ms() < end)
		usleep(20000);
	ck_assert(!group_alive(v.rec[0].pid));
	autoscale_stop(a);
	conf_free(c);
	shm_destroy(t);
	event_base_free(base);
}
END_TEST

START_TEST(runner_missing_hook)
{
	struct event_base	*base = event_base_new();
	struct shm_table	*t = shm_create();
	struct autoscale_view	 v;
	struct autoscale	*a;
	struct conf		*c;

	c = runner_conf(t, "/nonexistent/hook", "cooldown = 0;");
	ck_assert_ptr_nonnull(a = autoscale_start(base, t, &c, "/s"));
	ck_assert(run_until_done(base, a, 5000, &v));
	ck_assert_int_eq(v.rec[0].result, AS_RES_SPAWN_FAILED);
	ck_assert_int_ne(v.rec[0].status, 0);
	/* Retried no sooner than 10 s, though the cooldown is 0. */
	ck_assert_int_gt(v.cooldown_left_ms, 9000);
	autoscale_stop(a);
	conf_free(c);
	shm_destroy(t);
	event_base_free(base);
}
END_TEST

/* Removes the scripts and files the runner tests made. */
static void
cleanup(void)
{
	static const char *const files[] = { "env", "out.sh", "hang.sh",
	    NULL };
	char	 p[128];
	size_t	 i;

	for (i = 0; files[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static Suite *
autoscale_suite(void)
{
	Suite	*s = suite_create("autoscale");
	TCase	*tc = tcase_create("decide");
	TCase	*tr = tcase_create("runner");

	tcase_add_test(tc, above_target_scales_out);
	tcase_add_test(tc, thresholds_are_strict);
	tcase_add_test(tc, bounds_hold);
	tcase_add_test(tc, cooldown_and_hook_wait);
	tcase_add_test(tc, lost_server_below_min);
	tcase_add_test(tc, above_max_scales_in);
	tcase_add_test(tc, drain_choice);
	tcase_add_test(tc, window_average);
	tcase_add_test(tc, conf_defaults_and_values);
	tcase_add_test(tc, conf_errors_with_lines);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, runner_runs_hook);
	tcase_add_test(tr, runner_kills_hung_hook);
	tcase_add_test(tr, runner_missing_hook);
	tcase_set_timeout(tr, 30);
	suite_add_tcase(s, tr);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	snprintf(dir, sizeof(dir), "/tmp/test_autoscale.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return EXIT_FAILURE;
	sr = srunner_create(autoscale_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
