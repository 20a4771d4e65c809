/*
 * test_health_fsm.c - the per-server health state machine with injected
 * time: rise and fall, the first pass of a new server, passive errors,
 * flap damping (penalty doubling, cap, decay, window), and the slow-start
 * weight as a function of time.  Also leastconn under slow start on a
 * hand-built shared table.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <check.h>

#include "balance.h"
#include "health_fsm.h"
#include "shm.h"

static struct hfsm_params
params(void)
{
	struct hfsm_params p = {
		.rise = 2, .fall = 3, .observe_errors = 5, .slowstart_ms = 0,
		.flap_limit = 0, .flap_window_ms = 10000,
	};

	return p;
}

START_TEST(test_fall_then_rise)
{
	struct hfsm_params	p = params();
	struct hfsm		f;

	hfsm_init(&f, true, 1000);
	ck_assert_int_eq(hfsm_check(&f, &p, false, 1100), HFSM_SAME);
	ck_assert_int_eq(hfsm_check(&f, &p, false, 1200), HFSM_SAME);
	ck_assert_int_eq(hfsm_check(&f, &p, false, 1300), HFSM_WENT_DOWN);
	ck_assert_int_eq(f.state, HFSM_DOWN);
	ck_assert_int_eq(f.why, HFSM_WHY_CHECKS);
	ck_assert_int_eq(hfsm_check(&f, &p, false, 1400), HFSM_SAME);
	ck_assert_int_eq(hfsm_check(&f, &p, true, 1500), HFSM_SAME);
	ck_assert_int_eq(hfsm_check(&f, &p, true, 1600), HFSM_WENT_UP);
	ck_assert_int_eq(f.state, HFSM_UP);
	ck_assert_uint_eq(f.transitions, 2);
	ck_assert_int_eq(f.last_change, 1600);
}
END_TEST

START_TEST(test_interrupted_streaks)
{
	struct hfsm_params	p = params();
	struct hfsm		f;
	int64_t			now = 0;
	int			i;

	hfsm_init(&f, true, now);
	/* fail, fail, pass, ... never 3 in a row: stays up. */
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(hfsm_check(&f, &p, i % 3 == 2, now += 100),
		    HFSM_SAME);
	ck_assert_int_eq(f.state, HFSM_UP);
	for (i = 0; i < 3; i++)
		hfsm_check(&f, &p, false, now += 100);
	ck_assert_int_eq(f.state, HFSM_DOWN);
	/* pass, fail, pass: rise 2 never reached. */
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(hfsm_check(&f, &p, i % 2 == 0, now += 100),
		    HFSM_SAME);
	ck_assert_int_eq(f.state, HFSM_DOWN);
}
END_TEST

START_TEST(test_initial_down_first_pass)
{
	struct hfsm_params	p = params();
	struct hfsm		f;

	p.slowstart_ms = 5000;
	hfsm_init(&f, false, 0);
	ck_assert_int_eq(f.state, HFSM_DOWN);
	ck_assert_uint_eq(hfsm_need(&f, &p), 1);
	ck_assert_int_eq(hfsm_check(&f, &p, false, 100), HFSM_SAME);
	ck_assert_int_eq(hfsm_check(&f, &p, true, 200), HFSM_WENT_UP);
	ck_assert_int_eq(f.why, HFSM_WHY_FIRST);
	/* Not a recovery: full weight at once, not a flap. */
	ck_assert_uint_eq(hfsm_ramp(&f, &p, 300), 0);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 10, 300), 10);
	ck_assert_uint_eq(f.flaps, 0);
	ck_assert_uint_eq(hfsm_need(&f, &p), 2);
}
END_TEST

START_TEST(test_passive)
{
	struct hfsm_params	p = params();
	struct hfsm		f;

	hfsm_init(&f, true, 0);
	ck_assert_int_eq(hfsm_passive(&f, &p, 4, 10), HFSM_SAME);
	ck_assert_int_eq(hfsm_passive(&f, &p, 5, 20), HFSM_WENT_DOWN);
	ck_assert_int_eq(f.why, HFSM_WHY_PASSIVE);
	/* Already down: nothing more. */
	ck_assert_int_eq(hfsm_passive(&f, &p, 50, 30), HFSM_SAME);
	/* Back only through rise passed checks. */
	ck_assert_int_eq(hfsm_check(&f, &p, true, 40), HFSM_SAME);
	ck_assert_int_eq(hfsm_check(&f, &p, true, 50), HFSM_WENT_UP);
	/* Passes before the passive down do not count towards rise. */
	hfsm_check(&f, &p, true, 60);
	ck_assert_int_eq(hfsm_passive(&f, &p, 5, 70), HFSM_WENT_DOWN);
	ck_assert_int_eq(hfsm_check(&f, &p, true, 80), HFSM_SAME);
	/* observe_errors 0: off. */
	p.observe_errors = 0;
	hfsm_init(&f, true, 0);
	ck_assert_int_eq(hfsm_passive(&f, &p, 1000000, 10), HFSM_SAME);
}
END_TEST

/* Drives one full down (fall fails) and up (need passes) cycle. */
static void
cycle(struct hfsm *f, const struct hfsm_params *p, int64_t *now)
{
	uint32_t i, need;

	for (i = 0; i < p->fall; i++)
		hfsm_check(f, p, false, *now += 100);
	ck_assert_int_eq(f->state, HFSM_DOWN);
	need = hfsm_need(f, p);
	for (i = 0; i + 1 < need; i++)
		ck_assert_int_eq(hfsm_check(f, p, true, *now += 100),
		    HFSM_SAME);
	ck_assert_int_eq(hfsm_check(f, p, true, *now += 100), HFSM_WENT_UP);
}

START_TEST(test_flap_penalty_doubles_and_caps)
{
	struct hfsm_params	p = params();
	struct hfsm		f;
	int64_t			now = 0;

	p.flap_limit = 3;
	p.flap_window_ms = 1000000;
	p.fall = 1;
	hfsm_init(&f, true, now);
	cycle(&f, &p, &now);			/* changes 1, 2 */
	ck_assert_uint_eq(f.flaps, 2);
	ck_assert_uint_eq(f.penalty, 1);
	hfsm_check(&f, &p, false, now += 100);	/* change 3: at the limit */
	ck_assert_uint_eq(f.penalty, 1);
	ck_assert_uint_eq(hfsm_need(&f, &p), 2);
	hfsm_check(&f, &p, true, now += 100);
	hfsm_check(&f, &p, true, now += 100);	/* change 4: over it */
	ck_assert_int_eq(f.state, HFSM_UP);
	ck_assert_uint_eq(f.penalty, 2);
	hfsm_check(&f, &p, false, now += 100);	/* change 5 */
	ck_assert_uint_eq(f.penalty, 4);
	ck_assert_uint_eq(hfsm_need(&f, &p), 8);
	/* Three passes then a fail, like a toggling backend: held out. */
	hfsm_check(&f, &p, true, now += 100);
	hfsm_check(&f, &p, true, now += 100);
	hfsm_check(&f, &p, true, now += 100);
	hfsm_check(&f, &p, false, now += 100);
	ck_assert_int_eq(f.state, HFSM_DOWN);
	cycle(&f, &p, &now);
	cycle(&f, &p, &now);
	cycle(&f, &p, &now);
	ck_assert_uint_eq(f.penalty, HFSM_PENALTY_MAX);
	ck_assert_uint_eq(hfsm_need(&f, &p), 2 * HFSM_PENALTY_MAX);
	ck_assert_uint_eq(f.transitions, 10);
}
END_TEST

START_TEST(test_flap_decay)
{
	struct hfsm_params	p = params();
	struct hfsm		f;
	int64_t			now = 0;
	int			i;

	p.flap_limit = 1;
	p.flap_window_ms = 5000;
	hfsm_init(&f, true, now);
	cycle(&f, &p, &now);
	cycle(&f, &p, &now);
	ck_assert_uint_eq(f.penalty, 8);	/* changes 2, 3, 4 doubled */
	/* Alternating results for two windows: no decay. */
	for (i = 0; i < 100; i++)
		hfsm_check(&f, &p, i % 2 == 0, now += 100);
	ck_assert_uint_eq(f.penalty, 8);
	/* Steady passes: halves once per quiet window. */
	for (i = 0; i < 50; i++)
		hfsm_check(&f, &p, true, now += 100);
	ck_assert_uint_eq(f.penalty, 8);
	hfsm_check(&f, &p, true, now += 100);
	ck_assert_uint_eq(f.penalty, 4);
	hfsm_tick(&f, &p, now += 4999);
	ck_assert_uint_eq(f.penalty, 4);
	hfsm_tick(&f, &p, now += 1);
	ck_assert_uint_eq(f.penalty, 2);
	hfsm_tick(&f, &p, now += 5000);
	ck_assert_uint_eq(f.penalty, 1);
	hfsm_tick(&f, &p, now += 50000);
	ck_assert_uint_eq(f.penalty, 1);
}
END_TEST

START_TEST(test_flap_window)
{
	struct hfsm_params	p = params();
	struct hfsm		f;
	int64_t			now = 0;

	p.flap_limit = 2;
	p.flap_window_ms = 3000;
	p.fall = 1;
	p.rise = 1;
	hfsm_init(&f, true, now);
	hfsm_check(&f, &p, false, now += 100);
	hfsm_check(&f, &p, true, now += 100);
	ck_assert_uint_eq(f.flaps, 2);
	hfsm_tick(&f, &p, now += 3000);		/* window over */
	ck_assert_uint_eq(f.flaps, 0);
	/* Two changes per window, slowly: never penalised. */
	hfsm_check(&f, &p, false, now += 100);
	hfsm_check(&f, &p, true, now += 100);
	now += 3000;
	hfsm_check(&f, &p, false, now += 100);
	hfsm_check(&f, &p, true, now += 100);
	ck_assert_uint_eq(f.penalty, 1);
	/* Three within one window: penalised. */
	hfsm_check(&f, &p, false, now += 100);
	ck_assert_uint_eq(f.penalty, 2);
	/* flap_limit 0: never. */
	p.flap_limit = 0;
	hfsm_init(&f, true, now);
	cycle(&f, &p, &now);
	cycle(&f, &p, &now);
	cycle(&f, &p, &now);
	ck_assert_uint_eq(f.penalty, 1);
}
END_TEST

START_TEST(test_slowstart_weight)
{
	struct hfsm_params	p = params();
	struct hfsm		f;
	int64_t			now = 1000, t0;

	p.slowstart_ms = 10000;
	hfsm_init(&f, true, now);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 10, now), 10);
	cycle(&f, &p, &now);
	t0 = now;
	ck_assert_uint_eq(hfsm_weight(&f, &p, 10, t0), 1);
	ck_assert_uint_eq(hfsm_ramp(&f, &p, t0), 1);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 10, t0 + 5000), 5);
	ck_assert_uint_eq(hfsm_ramp(&f, &p, t0 + 5000), 500);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 10, t0 + 9999), 9);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 10, t0 + 10000), 10);
	ck_assert_uint_eq(hfsm_ramp(&f, &p, t0 + 10000), 0);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 101, t0 + 5000), 51);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 1, t0 + 5000), 1);
	ck_assert_uint_eq(hfsm_weight(&f, &p, 0, t0 + 5000), 0);
	/* Monotonic in time. */
	{
		uint32_t prev = 0, w;
		int64_t  el;

		for (el = 0; el <= 10000; el += 250) {
			w = hfsm_weight(&f, &p, 256, t0 + el);
			ck_assert_uint_ge(w, prev);
			ck_assert_uint_ge(w, 1);
			ck_assert_uint_le(w, 256);
			prev = w;
		}
		ck_assert_uint_eq(prev, 256);
	}
	/* Going down ends the ramp; the tick clears a finished one. */
	hfsm_check(&f, &p, false, t0 + 100);
	hfsm_check(&f, &p, false, t0 + 200);
	hfsm_check(&f, &p, false, t0 + 300);
	ck_assert_int_eq(f.state, HFSM_DOWN);
	ck_assert_uint_eq(hfsm_ramp(&f, &p, t0 + 400), 0);
	ck_assert_int_eq(f.ramp_start, 0);
}
END_TEST

START_TEST(test_force)
{
	struct hfsm	f;

	hfsm_init(&f, false, 0);
	ck_assert_int_eq(hfsm_force(&f, true, 10), HFSM_WENT_UP);
	ck_assert_int_eq(hfsm_force(&f, true, 20), HFSM_SAME);
	ck_assert_int_eq(hfsm_force(&f, false, 30), HFSM_WENT_DOWN);
	ck_assert_int_eq(hfsm_force(&f, true, 40), HFSM_WENT_UP);
	ck_assert_uint_eq(f.penalty, 1);	/* policy is not flapping */
	ck_assert_uint_eq(f.flaps, 0);
}
END_TEST

/*
 * Leastconn with slow start: a recovering server with no connections
 * must not take every new connection while the others hold many.
 */
START_TEST(test_leastconn_slowstart_cap)
{
	struct shm_table	*t = shm_create();
	struct bal_ctx		 ctx;
	int			 p, a, b, c, i, idx, hits_c = 0;

	ck_assert_ptr_nonnull(t);
	bal_ctx_init(&ctx, t, 0);
	p = shm_pool_add(t, "pool", BAL_LEASTCONN, 2);
	a = shm_server_add(t, (uint32_t)p, "a", NULL, 0, 1, 0, false);
	b = shm_server_add(t, (uint32_t)p, "b", NULL, 0, 1, 0, false);
	c = shm_server_add(t, (uint32_t)p, "c", NULL, 0, 1, 0, false);
	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	ck_assert_int_ge(c, 0);
	atomic_store(&t->servers[a].active, 100);
	atomic_store(&t->servers[b].active, 100);
	/* c ramps at 10%: at most ~10 of the next connections. */
	atomic_store(&t->servers[c].ramp_permille, 100);
	for (i = 0; i < 100; i++) {
		idx = bal_pick(&ctx, (uint32_t)p, NULL, 0);
		ck_assert_int_ge(idx, 0);
		if (idx == c)
			hits_c++;
	}
	ck_assert_int_ge(hits_c, 1);
	ck_assert_int_le(hits_c, 20);
	/* Ramp over: c catches up and takes the next ones. */
	atomic_store(&t->servers[c].ramp_permille, 0);
	idx = bal_pick(&ctx, (uint32_t)p, NULL, 0);
	ck_assert_int_eq(idx, c);
	shm_destroy(t);
}
END_TEST

static Suite *
health_fsm_suite(void)
{
	Suite	*s = suite_create("health_fsm");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_fall_then_rise);
	tcase_add_test(tc, test_interrupted_streaks);
	tcase_add_test(tc, test_initial_down_first_pass);
	tcase_add_test(tc, test_passive);
	tcase_add_test(tc, test_flap_penalty_doubles_and_caps);
	tcase_add_test(tc, test_flap_decay);
	tcase_add_test(tc, test_flap_window);
	tcase_add_test(tc, test_slowstart_weight);
	tcase_add_test(tc, test_force);
	tcase_add_test(tc, test_leastconn_slowstart_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(health_fsm_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
