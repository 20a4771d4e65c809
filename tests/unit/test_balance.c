/*
 * test_balance.c - every algorithm's choice on hand-built tables: weights,
 * ties, full/down/drained servers, backups, exclusions, exact round-robin
 * cycles, loose statistical bounds for the random ones (fixed seed), and
 * maxconn holding while two processes pick concurrently.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "balance.h"
#include "shm.h"

#define SEED	UINT64_C(0x5eed1234abcd)

static struct shm_table	*t;
static struct bal_ctx	 ctx;

static void
setup(void)
{
	t = shm_create();
	ck_assert_ptr_nonnull(t);
	bal_ctx_init(&ctx, t, 0);
	ctx.rng = SEED;		/* reproducible distributions */
}

static void
teardown(void)
{
	shm_destroy(t);
	t = NULL;
}

static int
mkpool(enum bal_algo algo)
{
	int	 p;

	p = shm_pool_add(t, "pool", algo, 2);
	ck_assert_int_ge(p, 0);
	return p;
}

static int
mksrv(int pool, const char *name, uint32_t weight, uint32_t maxconn,
    bool backup)
{
	int	 idx;

	idx = shm_server_add(t, (uint32_t)pool, name, NULL, 0, weight,
	    maxconn, backup);
	ck_assert_int_ge(idx, 0);
	return idx;
}

/* One pick that must succeed; released at once when `release`. */
static int
pick(int pool, bool release)
{
	int	 idx;

	idx = bal_pick(&ctx, (uint32_t)pool, NULL, 0);
	ck_assert_int_ge(idx, 0);
	if (release)
		shm_server_release(t, ctx.slot, (uint32_t)idx);
	return idx;
}

/* `n` released picks; hits[idx] counts where they landed. */
static void
pick_n(int pool, int n, int *hits)
{
	int	 i;

	for (i = 0; i < n; i++)
		hits[pick(pool, true)]++;
}

static void
assert_all_released(void)
{
	int	 i;

	for (i = 0; i < SHM_MAX_SERVERS; i++)
		ck_assert_int_eq(atomic_load(&t->servers[i].active), 0);
}

START_TEST(test_ctx_init)
{
	struct bal_ctx	 c;

	bal_ctx_init(&c, t, 7);
	ck_assert_ptr_eq(c.t, t);
	ck_assert_uint_eq(c.slot, 7);
	ck_assert_uint_ne(c.rng, 0);
}
END_TEST

START_TEST(test_rr_equal_exact)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c;

	p = mkpool(BAL_ROUNDROBIN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	pick_n(p, 3000, hits);
	ck_assert_int_eq(hits[a], 1000);
	ck_assert_int_eq(hits[b], 1000);
	ck_assert_int_eq(hits[c], 1000);
	assert_all_released();
	ck_assert_uint_eq(atomic_load(&t->pools[p].conns_total), 3000);
}
END_TEST

START_TEST(test_rr_weights_smooth)
{
	int	 p, a, b, i, k, na;

	p = mkpool(BAL_ROUNDROBIN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 3, 0, false);
	/* Every cycle of 4 picks: a once, b three times, never b four in
	 * a row across cycles either (smooth: b a b b). */
	for (k = 0; k < 250; k++) {
		na = 0;
		for (i = 0; i < 4; i++) {
			int idx = pick(p, true);

			ck_assert(idx == a || idx == b);
			if (idx == a)
				na++;
			ck_assert_int_eq(idx, i == 1 ? a : b);
		}
		ck_assert_int_eq(na, 1);
	}
}
END_TEST

START_TEST(test_rr_nginx_sequence)
{
	/* The sequence nginx documents for weights 5, 1, 1. */
	const char	*want = "aabacaa";
	char		 got[8] = { 0 };
	int		 p, i, idx, ids[3];

	p = mkpool(BAL_ROUNDROBIN);
	ids[0] = mksrv(p, "a", 5, 0, false);
	ids[1] = mksrv(p, "b", 1, 0, false);
	ids[2] = mksrv(p, "c", 1, 0, false);
	for (i = 0; i < 7; i++) {
		idx = pick(p, true);
		got[i] = idx == ids[0] ? 'a' : idx == ids[1] ? 'b' : 'c';
	}
	ck_assert_str_eq(got, want);
	/* A cycle leaves the state where it started: it repeats. */
	for (i = 0; i < 7; i++) {
		idx = pick(p, true);
		got[i] = idx == ids[0] ? 'a' : idx == ids[1] ? 'b' : 'c';
	}
	ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_rr_skips_unusable)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c, d, e;

	p = mkpool(BAL_ROUNDROBIN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	d = mksrv(p, "d", 1, 0, false);
	e = mksrv(p, "e", 0, 0, false);		/* weight 0: never */
	atomic_store(&t->servers[b].health, SHM_HEALTH_DOWN);
	atomic_store(&t->servers[c].admin, SHM_ADMIN_DRAIN);
	atomic_store(&t->servers[d].admin, SHM_ADMIN_MAINT);
	pick_n(p, 100, hits);
	ck_assert_int_eq(hits[a], 100);
	ck_assert_int_eq(hits[b] + hits[c] + hits[d] + hits[e], 0);
}
END_TEST

START_TEST(test_maxconn_full_skipped)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, i;

	p = mkpool(BAL_ROUNDROBIN);
	a = mksrv(p, "a", 1, 2, false);
	b = mksrv(p, "b", 1, 0, false);
	for (i = 0; i < 10; i++)	/* kept open: a fills up at 2 */
		hits[pick(p, false)]++;
	ck_assert_int_eq(hits[a], 2);
	ck_assert_int_eq(hits[b], 8);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 2);
	ck_assert_int_eq(atomic_load(&t->workers[0].server_active[b]), 8);
}
END_TEST

START_TEST(test_backup_only_when_no_primary)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, k, idx;

	p = mkpool(BAL_ROUNDROBIN);
	a = mksrv(p, "a", 1, 1, false);
	k = mksrv(p, "k", 5, 0, true);		/* heavier, still unused */
	b = mksrv(p, "b", 1, 0, false);
	pick_n(p, 100, hits);
	ck_assert_int_eq(hits[k], 0);
	ck_assert_int_eq(hits[a] + hits[b], 100);

	atomic_store(&t->servers[a].health, SHM_HEALTH_DOWN);
	atomic_store(&t->servers[b].admin, SHM_ADMIN_DRAIN);
	ck_assert_int_eq(pick(p, true), k);
	atomic_store(&t->servers[b].admin, SHM_ADMIN_MAINT);
	ck_assert_int_eq(pick(p, true), k);

	/* a back up but full, b in maintenance: still the backup. */
	atomic_store(&t->servers[a].health, SHM_HEALTH_UP);
	ck_assert_int_eq(shm_server_acquire(t, 1, (uint32_t)a), 0);
	ck_assert_int_eq(pick(p, true), k);
	shm_server_release(t, 1, (uint32_t)a);
	ck_assert_int_eq(pick(p, true), a);	/* primary again */

	/* Every primary excluded (failed this connection): the backup. */
	atomic_store(&t->servers[b].admin, SHM_ADMIN_READY);
	{
		uint32_t ex[2] = { (uint32_t)a, (uint32_t)b };

		idx = bal_pick(&ctx, (uint32_t)p, ex, 2);
		ck_assert_int_eq(idx, k);
		shm_server_release(t, 0, (uint32_t)idx);
	}
	assert_all_released();
}
END_TEST

START_TEST(test_exclude)
{
	uint32_t ex[1];
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c, i, idx;

	p = mkpool(BAL_LEASTCONN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	ex[0] = (uint32_t)b;
	for (i = 0; i < 100; i++) {
		idx = bal_pick(&ctx, (uint32_t)p, ex, 1);
		ck_assert_int_ge(idx, 0);
		hits[idx]++;
		shm_server_release(t, 0, (uint32_t)idx);
	}
	ck_assert_int_eq(hits[b], 0);
	ck_assert_int_eq(hits[a], 50);
	ck_assert_int_eq(hits[c], 50);
}
END_TEST

START_TEST(test_nothing_usable)
{
	uint32_t ex[1];
	int	 p, q, a, b, algo;

	for (algo = 0; algo < BAL__COUNT; algo++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", algo);
		p = shm_pool_add(t, name, (enum bal_algo)algo, 0);
		ck_assert_int_ge(p, 0);
		errno = 0;
		ck_assert_int_eq(bal_pick(&ctx, (uint32_t)p, NULL, 0), -1);
		ck_assert_int_eq(errno, ENOENT);	/* empty pool */
		a = mksrv(p, "a", 1, 1, false);
		b = mksrv(p, "b", 1, 0, true);
		atomic_store(&t->servers[b].health, SHM_HEALTH_DOWN);
		ck_assert_int_eq(shm_server_acquire(t, 1, (uint32_t)a), 0);
		ck_assert_int_eq(bal_pick(&ctx, (uint32_t)p, NULL, 0), -1);
		shm_server_release(t, 1, (uint32_t)a);
		ex[0] = (uint32_t)a;
		ck_assert_int_eq(bal_pick(&ctx, (uint32_t)p, ex, 1), -1);
	}
	q = SHM_MAX_POOLS - 1;		/* not in use */
	errno = 0;
	ck_assert_int_eq(bal_pick(&ctx, (uint32_t)q, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(bal_pick(&ctx, SHM_MAX_POOLS, NULL, 0), -1);
	assert_all_released();
}
END_TEST

START_TEST(test_leastconn_away_from_loaded)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c;

	p = mkpool(BAL_LEASTCONN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	atomic_store(&t->servers[b].active, 5);	/* another worker's load */
	pick_n(p, 100, hits);
	ck_assert_int_eq(hits[b], 0);
	ck_assert_int_eq(hits[a], 50);		/* ties shared exactly */
	ck_assert_int_eq(hits[c], 50);
}
END_TEST

START_TEST(test_leastconn_fills_evenly)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c, i;

	p = mkpool(BAL_LEASTCONN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	atomic_store(&t->servers[a].active, 4);
	for (i = 0; i < 11; i++)	/* kept open */
		hits[pick(p, false)]++;
	/* b and c catch up with a's 4, then all three share: 5 5 5. */
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 5);
	ck_assert_int_eq(atomic_load(&t->servers[b].active), 5);
	ck_assert_int_eq(atomic_load(&t->servers[c].active), 5);
	ck_assert_int_eq(hits[a], 1);
}
END_TEST

START_TEST(test_leastconn_weighted)
{
	int	 p, a, b, i;

	p = mkpool(BAL_LEASTCONN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 3, 0, false);
	for (i = 0; i < 40; i++)	/* kept open */
		pick(p, false);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 10);
	ck_assert_int_eq(atomic_load(&t->servers[b].active), 30);
	/* a at 15 per unit of weight, b at 10: b. */
	atomic_fetch_add(&t->servers[a].active, 5);
	ck_assert_int_eq(pick(p, true), b);
}
END_TEST

START_TEST(test_random_distribution)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c, d;

	p = mkpool(BAL_RANDOM);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 2, 0, false);
	d = mksrv(p, "d", 1, 0, false);
	atomic_store(&t->servers[d].health, SHM_HEALTH_DOWN);
	pick_n(p, 40000, hits);
	/* Expected 10000 / 10000 / 20000; sd is about 90: +-10% is loose. */
	ck_assert_int_ge(hits[a], 9000);
	ck_assert_int_le(hits[a], 11000);
	ck_assert_int_ge(hits[b], 9000);
	ck_assert_int_le(hits[b], 11000);
	ck_assert_int_ge(hits[c], 18000);
	ck_assert_int_le(hits[c], 22000);
	ck_assert_int_eq(hits[d], 0);
}
END_TEST

START_TEST(test_p2c_distribution)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c;

	p = mkpool(BAL_P2C);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	pick_n(p, 30000, hits);		/* all idle: ties, random spread */
	ck_assert_int_ge(hits[a], 9000);
	ck_assert_int_le(hits[a], 11000);
	ck_assert_int_ge(hits[b], 9000);
	ck_assert_int_le(hits[b], 11000);
	ck_assert_int_ge(hits[c], 9000);
	ck_assert_int_le(hits[c], 11000);
}
END_TEST

START_TEST(test_p2c_avoids_loaded)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c, i, ids[3];

	p = mkpool(BAL_P2C);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	atomic_store(&t->servers[a].active, 100);
	/* Two distinct draws: the loaded one always loses its duel. */
	pick_n(p, 3000, hits);
	ck_assert_int_eq(hits[a], 0);
	ck_assert_int_gt(hits[b], 1000);
	ck_assert_int_gt(hits[c], 1000);
	/* Kept open, p2c keeps the spread tight. */
	atomic_store(&t->servers[a].active, 0);
	ids[0] = a;
	ids[1] = b;
	ids[2] = c;
	for (i = 0; i < 300; i++)
		pick(p, false);
	for (i = 0; i < 3; i++) {
		int32_t n = atomic_load(&t->servers[ids[i]].active);

		ck_assert_int_ge(n, 90);
		ck_assert_int_le(n, 110);
	}
}
END_TEST

START_TEST(test_first)
{
	int	 p, a, b, c;

	p = mkpool(BAL_FIRST);
	a = mksrv(p, "a", 1, 2, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	ck_assert_int_eq(pick(p, true), a);
	ck_assert_int_eq(pick(p, true), a);
	ck_assert_int_eq(pick(p, false), a);
	ck_assert_int_eq(pick(p, false), a);
	ck_assert_int_eq(pick(p, false), b);	/* a full */
	atomic_store(&t->servers[b].health, SHM_HEALTH_DOWN);
	ck_assert_int_eq(pick(p, true), c);
	shm_server_release(t, 0, (uint32_t)a);
	ck_assert_int_eq(pick(p, true), a);
}
END_TEST

START_TEST(test_removed_server_not_picked)
{
	int	 hits[SHM_MAX_SERVERS] = { 0 };
	int	 p, a, b, c;

	p = mkpool(BAL_ROUNDROBIN);
	a = mksrv(p, "a", 1, 0, false);
	b = mksrv(p, "b", 1, 0, false);
	c = mksrv(p, "c", 1, 0, false);
	ck_assert_int_eq(shm_server_remove(t, (uint32_t)b), 0);
	pick_n(p, 100, hits);
	ck_assert_int_eq(hits[b], 0);
	ck_assert_int_eq(hits[a], 50);
	ck_assert_int_eq(hits[c], 50);
}
END_TEST

#define RACE_ROUNDS	200000

/*
 * Child: picks (leastconn) and releases in a loop, recording the largest
 * active count seen on the picked server.  shared[0] go, [1] max seen,
 * [2] picks that found nothing (both servers full).
 */
static void
racer(uint32_t slot, int pool, _Atomic int32_t *shared)
{
	struct bal_ctx	 c;
	int32_t		 a, m;
	int		 i, idx;

	bal_ctx_init(&c, t, slot);
	while (atomic_load(&shared[0]) == 0)
		sched_yield();
	for (i = 0; i < RACE_ROUNDS; i++) {
		idx = bal_pick(&c, (uint32_t)pool, NULL, 0);
		if (idx == -1) {
			atomic_fetch_add(&shared[2], 1);
			continue;
		}
		a = atomic_load(&t->servers[idx].active);
		m = atomic_load(&shared[1]);
		while (a > m && !atomic_compare_exchange_weak(&shared[1], &m,
		    a))
			;
		shm_server_release(t, slot, (uint32_t)idx);
	}
	_exit(0);
}

START_TEST(test_concurrent_picks_respect_maxconn)
{
	_Atomic int32_t	*shared;
	pid_t		 pid[3];
	int		 p, a, b, i, st;

	shared = mmap(NULL, 3 * sizeof(*shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shared, MAP_FAILED);
	p = mkpool(BAL_LEASTCONN);
	a = mksrv(p, "a", 1, 1, false);
	b = mksrv(p, "b", 1, 1, false);
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			racer((uint32_t)i, p, shared);
	}
	atomic_store(&shared[0], 1);
	for (i = 0; i < 3; i++) {
		ck_assert_int_ne(pid[i], -1);
		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	ck_assert_int_eq(atomic_load(&shared[1]), 1);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 0);
	ck_assert_int_eq(atomic_load(&t->servers[b].active), 0);
	ck_assert_uint_eq(atomic_load(&t->servers[a].conns_total) +
	    atomic_load(&t->servers[b].conns_total) +
	    (uint64_t)atomic_load(&shared[2]), 3 * RACE_ROUNDS);
	munmap(shared, 3 * sizeof(*shared));
}
END_TEST

static Suite *
balance_suite(void)
{
	Suite	*s = suite_create("balance");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ctx_init);
	tcase_add_test(tc, test_rr_equal_exact);
	tcase_add_test(tc, test_rr_weights_smooth);
	tcase_add_test(tc, test_rr_nginx_sequence);
	tcase_add_test(tc, test_rr_skips_unusable);
	tcase_add_test(tc, test_maxconn_full_skipped);
	tcase_add_test(tc, test_backup_only_when_no_primary);
	tcase_add_test(tc, test_exclude);
	tcase_add_test(tc, test_nothing_usable);
	tcase_add_test(tc, test_leastconn_away_from_loaded);
	tcase_add_test(tc, test_leastconn_fills_evenly);
	tcase_add_test(tc, test_leastconn_weighted);
	tcase_add_test(tc, test_random_distribution);
	tcase_add_test(tc, test_p2c_distribution);
	tcase_add_test(tc, test_p2c_avoids_loaded);
	tcase_add_test(tc, test_first);
	tcase_add_test(tc, test_removed_server_not_picked);
	tcase_add_test(tc, test_concurrent_picks_respect_maxconn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(balance_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
