/*
 * test_shm.c - the shared table: membership, accounting that always
 * returns to 0, caps that hold under concurrent processes, dead-worker
 * cleanup and robust pool locks.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "shm.h"

static struct shm_table	*t;

static void
setup(void)
{
	t = shm_create();
	ck_assert_ptr_nonnull(t);
}

static void
teardown(void)
{
	shm_destroy(t);
	t = NULL;
}

static int
add_server(int pool, const char *name, uint32_t weight, uint32_t maxconn,
    bool backup)
{
	int	 idx;

	idx = shm_server_add(t, (uint32_t)pool, name, NULL, 0, weight,
	    maxconn, backup);
	ck_assert_int_ge(idx, 0);
	return idx;
}

/* Waits for `pid` and asserts it exited with status 0. */
static void
reap_ok(pid_t pid)
{
	int	 st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}

START_TEST(test_create_header)
{
	ck_assert_uint_eq(t->magic, SHM_MAGIC);
	ck_assert_uint_eq(t->version, SHM_VERSION);
	ck_assert_uint_eq(t->size, sizeof(struct shm_table));
	ck_assert_int_eq(atomic_load(&t->active), 0);
}
END_TEST

START_TEST(test_pool_add_find)
{
	int	 p, q, i;
	char	 name[16];

	p = shm_pool_add(t, "web", BAL_LEASTCONN, 2);
	ck_assert_int_ge(p, 0);
	ck_assert_int_eq(shm_pool_find(t, "web"), p);
	ck_assert_int_eq(shm_pool_find(t, "nope"), -1);
	ck_assert_uint_eq(t->pools[p].algorithm, BAL_LEASTCONN);
	ck_assert_uint_eq(t->pools[p].retries, 2);
	errno = 0;
	ck_assert_int_eq(shm_pool_add(t, "web", BAL_FIRST, 0), -1);
	ck_assert_int_eq(errno, EEXIST);
	q = shm_pool_add(t, "db", BAL_FIRST, 0);
	ck_assert_int_ge(q, 0);
	ck_assert_int_ne(p, q);
	for (i = 2; i < SHM_MAX_POOLS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_ge(shm_pool_add(t, name, BAL_RANDOM, 0), 0);
	}
	errno = 0;
	ck_assert_int_eq(shm_pool_add(t, "full", BAL_RANDOM, 0), -1);
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(test_server_add_find)
{
	struct sockaddr_storage	 ss;
	int			 p, a, b;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_INET;
	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 2);
	a = shm_server_add(t, (uint32_t)p, "a", (struct sockaddr *)&ss,
	    sizeof(struct sockaddr_in), 3, 10, false);
	ck_assert_int_ge(a, 0);
	b = add_server(p, "b", 1, 0, true);
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(shm_server_find(t, (uint32_t)p, "a"), a);
	ck_assert_int_eq(shm_server_find(t, (uint32_t)p, "b"), b);
	ck_assert_int_eq(shm_server_find(t, (uint32_t)p, "c"), -1);
	ck_assert_uint_eq(atomic_load(&t->pools[p].nservers), 2);
	ck_assert_uint_eq(t->pools[p].servers[0], (uint32_t)a);
	ck_assert_uint_eq(t->pools[p].servers[1], (uint32_t)b);
	ck_assert_uint_eq(atomic_load(&t->servers[a].eff_weight), 3);
	ck_assert_uint_eq(atomic_load(&t->servers[a].maxconn), 10);
	ck_assert_uint_eq(atomic_load(&t->servers[a].health), SHM_HEALTH_UP);
	ck_assert_uint_eq(atomic_load(&t->servers[a].admin), SHM_ADMIN_READY);
	ck_assert_uint_eq(t->servers[a].addrlen, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(t->servers[b].backup, 1);
	ck_assert_str_eq(t->servers[a].pool, "web");
	errno = 0;
	ck_assert_int_eq(shm_server_add(t, (uint32_t)p, "a", NULL, 0, 1, 0,
	    false), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(shm_server_add(t, 63, "x", NULL, 0, 1, 0, false), -1);
	ck_assert_int_eq(shm_server_add(t, (uint32_t)p, "w", NULL, 0, 257, 0,
	    false), -1);
}
END_TEST

START_TEST(test_server_pool_full)
{
	char	 name[16];
	int	 p, i;

	p = shm_pool_add(t, "big", BAL_ROUNDROBIN, 0);
	for (i = 0; i < SHM_POOL_MAX_SERVERS; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		add_server(p, name, 1, 0, false);
	}
	errno = 0;
	ck_assert_int_eq(shm_server_add(t, (uint32_t)p, "one-more", NULL, 0,
	    1, 0, false), -1);
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(test_usable)
{
	int	 p, a;

	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 0);
	a = add_server(p, "a", 1, 2, false);
	ck_assert(shm_server_usable(t, (uint32_t)a));
	atomic_store(&t->servers[a].health, SHM_HEALTH_DOWN);
	ck_assert(!shm_server_usable(t, (uint32_t)a));
	atomic_store(&t->servers[a].health, SHM_HEALTH_UP);
	atomic_store(&t->servers[a].admin, SHM_ADMIN_DRAIN);
	ck_assert(!shm_server_usable(t, (uint32_t)a));
	atomic_store(&t->servers[a].admin, SHM_ADMIN_MAINT);
	ck_assert(!shm_server_usable(t, (uint32_t)a));
	atomic_store(&t->servers[a].admin, SHM_ADMIN_READY);
	atomic_store(&t->servers[a].eff_weight, 0);
	ck_assert(!shm_server_usable(t, (uint32_t)a));
	atomic_store(&t->servers[a].eff_weight, 1);
	ck_assert_int_eq(shm_server_acquire(t, 0, (uint32_t)a), 0);
	ck_assert(shm_server_usable(t, (uint32_t)a));
	ck_assert_int_eq(shm_server_acquire(t, 0, (uint32_t)a), 0);
	ck_assert(!shm_server_usable(t, (uint32_t)a));	/* full */
	shm_server_release(t, 0, (uint32_t)a);
	ck_assert(shm_server_usable(t, (uint32_t)a));
	ck_assert(!shm_server_usable(t, SHM_MAX_SERVERS));
	ck_assert(!shm_server_usable(t, (uint32_t)a + 1));	/* free slot */
}
END_TEST

START_TEST(test_accounting_returns_to_zero)
{
	int	 p, a, b, w, i;

	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 0);
	a = add_server(p, "a", 1, 0, false);
	b = add_server(p, "b", 1, 0, false);
	w = shm_worker_claim(t, 4242, 1);
	ck_assert_int_ge(w, 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(shm_conn_reserve(t, (uint32_t)w), 0);
		ck_assert_int_eq(shm_server_acquire(t, (uint32_t)w,
		    (uint32_t)(i % 2 ? a : b)), 0);
	}
	ck_assert_int_eq(atomic_load(&t->active), 10);
	ck_assert_int_eq(atomic_load(&t->workers[w].active), 10);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 5);
	ck_assert_int_eq(atomic_load(&t->workers[w].server_active[a]), 5);
	ck_assert_uint_eq(atomic_load(&t->servers[b].conns_total), 5);
	ck_assert_uint_eq(atomic_load(&t->pools[p].conns_total), 10);
	ck_assert_uint_eq(atomic_load(&t->conns_total), 10);
	ck_assert_uint_eq(atomic_load(&t->workers[w].conns_total), 10);
	for (i = 0; i < 10; i++) {
		shm_server_release(t, (uint32_t)w, (uint32_t)(i % 2 ? a : b));
		shm_conn_release(t, (uint32_t)w);
	}
	ck_assert_int_eq(atomic_load(&t->active), 0);
	ck_assert_int_eq(atomic_load(&t->workers[w].active), 0);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 0);
	ck_assert_int_eq(atomic_load(&t->servers[b].active), 0);
	ck_assert_int_eq(atomic_load(&t->workers[w].server_active[a]), 0);
	ck_assert_int_eq(atomic_load(&t->workers[w].server_active[b]), 0);
	/* Totals are monotonic: they stay. */
	ck_assert_uint_eq(atomic_load(&t->conns_total), 10);
}
END_TEST

START_TEST(test_global_maxconn)
{
	int	 i;

	atomic_store(&t->maxconn, 3);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(shm_conn_reserve(t, 0), 0);
	errno = 0;
	ck_assert_int_eq(shm_conn_reserve(t, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(atomic_load(&t->active), 3);
	ck_assert_int_eq(atomic_load(&t->workers[0].active), 3);
	shm_conn_release(t, 0);
	ck_assert_int_eq(shm_conn_reserve(t, 0), 0);
	ck_assert_int_eq(shm_conn_reserve(t, 0), -1);
	for (i = 0; i < 3; i++)
		shm_conn_release(t, 0);
	ck_assert_int_eq(atomic_load(&t->active), 0);
	ck_assert_uint_eq(atomic_load(&t->conns_total), 4);
	atomic_store(&t->maxconn, 0);	/* unlimited */
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(shm_conn_reserve(t, 0), 0);
	ck_assert_int_eq(atomic_load(&t->active), 100);
}
END_TEST

START_TEST(test_server_maxconn)
{
	int	 p, a;

	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 0);
	a = add_server(p, "a", 1, 2, false);
	ck_assert_int_eq(shm_server_acquire(t, 0, (uint32_t)a), 0);
	ck_assert_int_eq(shm_server_acquire(t, 1, (uint32_t)a), 0);
	errno = 0;
	ck_assert_int_eq(shm_server_acquire(t, 0, (uint32_t)a), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 2);
	ck_assert_uint_eq(atomic_load(&t->servers[a].conns_total), 2);
	shm_server_release(t, 1, (uint32_t)a);
	shm_server_release(t, 0, (uint32_t)a);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 0);
	ck_assert_int_eq(atomic_load(&t->workers[0].server_active[a]), 0);
	ck_assert_int_eq(atomic_load(&t->workers[1].server_active[a]), 0);
}
END_TEST

#define HAMMER_ROUNDS	1000000
#define HAMMER_PROCS	3

/*
 * Child: once the parent says go (so the children overlap), acquires and
 * releases server `idx` in a loop, recording the largest active count
 * seen while holding a place.  A short pseudo-random pause after each
 * release lets the children arrive at a free place together, which is
 * when a non-atomic check-then-increment would let two in.
 * shared[0] go, [1] max seen, [2] wins.
 */
static void
hammer(uint32_t slot, uint32_t idx, _Atomic int32_t *shared)
{
	_Atomic int32_t	*max_seen = &shared[1], *wins = &shared[2];
	uint32_t	 x = 2463534242u + slot * 7919u;
	int32_t		 a, m;
	int		 i, j;

	while (atomic_load(&shared[0]) == 0)
		sched_yield();
	for (i = 0; i < HAMMER_ROUNDS; i++) {
		if (shm_server_acquire(t, slot, idx) == 0) {
			for (j = 0; j < 4; j++) {
				a = atomic_load(&t->servers[idx].active);
				m = atomic_load(max_seen);
				while (a > m && !atomic_compare_exchange_weak(
				    max_seen, &m, a))
					;
			}
			atomic_fetch_add(wins, 1);
			shm_server_release(t, slot, idx);
		}
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		for (j = (int)(x % 64); j > 0; j--)
			(void)atomic_load(&shared[0]);
	}
	_exit(0);
}

START_TEST(test_server_maxconn_concurrent)
{
	_Atomic int32_t	*shared;
	pid_t		 pid[HAMMER_PROCS];
	int32_t		 max_seen, wins;
	int		 p, a, i;

	shared = mmap(NULL, 3 * sizeof(*shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shared, MAP_FAILED);
	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 0);
	a = add_server(p, "a", 1, 1, false);
	for (i = 0; i < HAMMER_PROCS; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			hammer((uint32_t)i, (uint32_t)a, shared);
	}
	atomic_store(&shared[0], 1);	/* before any assert: never strand */
	for (i = 0; i < HAMMER_PROCS; i++) {
		ck_assert_int_ne(pid[i], -1);
		reap_ok(pid[i]);
	}
	max_seen = atomic_load(&shared[1]);
	wins = atomic_load(&shared[2]);
	ck_assert_int_eq(max_seen, 1);	/* never 2 on a maxconn-1 server */
	ck_assert_int_gt(wins, 0);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 0);
	for (i = 0; i < HAMMER_PROCS; i++)
		ck_assert_int_eq(atomic_load(
		    &t->workers[i].server_active[a]), 0);
	ck_assert_uint_eq(atomic_load(&t->servers[a].conns_total),
	    (uint64_t)wins);
	munmap(shared, 3 * sizeof(*shared));
}
END_TEST

START_TEST(test_worker_claim_find)
{
	int	 a, b;

	a = shm_worker_claim(t, 100, 1);
	b = shm_worker_claim(t, 200, 1);
	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(shm_worker_find(t, 100), a);
	ck_assert_int_eq(shm_worker_find(t, 200), b);
	ck_assert_int_eq(shm_worker_find(t, 300), -1);
	ck_assert_uint_eq(t->workers[a].generation, 1);
	shm_worker_release(t, (uint32_t)a);
	ck_assert_int_eq(shm_worker_find(t, 100), -1);
	ck_assert_int_eq(shm_worker_claim(t, 300, 2), a);	/* reused */
}
END_TEST

START_TEST(test_worker_claim_full)
{
	int	 i;

	for (i = 0; i < SHM_MAX_WORKERS; i++)
		ck_assert_int_eq(shm_worker_claim(t, 1000 + i, 1), i);
	errno = 0;
	ck_assert_int_eq(shm_worker_claim(t, 5000, 1), -1);
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(test_worker_release_subtracts_shares)
{
	int	 p, a, b, dead, live, i;

	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 0);
	a = add_server(p, "a", 1, 0, false);
	b = add_server(p, "b", 1, 0, false);
	dead = shm_worker_claim(t, 111, 1);
	live = shm_worker_claim(t, 222, 1);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(shm_conn_reserve(t, (uint32_t)dead), 0);
		ck_assert_int_eq(shm_server_acquire(t, (uint32_t)dead,
		    (uint32_t)(i < 3 ? a : b)), 0);
	}
	ck_assert_int_eq(shm_conn_reserve(t, (uint32_t)live), 0);
	ck_assert_int_eq(shm_server_acquire(t, (uint32_t)live, (uint32_t)a),
	    0);
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 4);
	ck_assert_int_eq(atomic_load(&t->active), 6);

	shm_worker_release(t, (uint32_t)dead);	/* reaped with 5 open */
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 1);
	ck_assert_int_eq(atomic_load(&t->servers[b].active), 0);
	ck_assert_int_eq(atomic_load(&t->active), 1);
	ck_assert_int_eq(atomic_load(&t->workers[dead].active), 0);
	ck_assert_int_eq(atomic_load(&t->workers[dead].server_active[a]), 0);
	ck_assert_int_eq(atomic_load(&t->workers[dead].pid), 0);

	shm_server_release(t, (uint32_t)live, (uint32_t)a);
	shm_conn_release(t, (uint32_t)live);
	shm_worker_release(t, (uint32_t)live);	/* nothing left: no-op */
	ck_assert_int_eq(atomic_load(&t->servers[a].active), 0);
	ck_assert_int_eq(atomic_load(&t->active), 0);
}
END_TEST

START_TEST(test_remove)
{
	int	 p, a, b, c, d;

	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 0);
	a = add_server(p, "a", 1, 0, false);
	b = add_server(p, "b", 1, 0, false);
	c = add_server(p, "c", 1, 0, false);
	ck_assert_int_eq(shm_server_acquire(t, 0, (uint32_t)b), 0);
	errno = 0;
	ck_assert_int_eq(shm_server_remove(t, (uint32_t)b), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_uint_eq(atomic_load(&t->servers[b].in_use), 1);
	ck_assert_uint_eq(atomic_load(&t->pools[p].nservers), 3);
	ck_assert(shm_server_usable(t, (uint32_t)b));

	shm_server_release(t, 0, (uint32_t)b);
	ck_assert_int_eq(shm_server_remove(t, (uint32_t)b), 0);
	ck_assert_uint_eq(atomic_load(&t->pools[p].nservers), 2);
	ck_assert_uint_eq(t->pools[p].servers[0], (uint32_t)a);	/* order */
	ck_assert_uint_eq(t->pools[p].servers[1], (uint32_t)c);
	ck_assert_int_eq(shm_server_find(t, (uint32_t)p, "b"), -1);
	ck_assert(!shm_server_usable(t, (uint32_t)b));
	errno = 0;
	ck_assert_int_eq(shm_server_acquire(t, 0, (uint32_t)b), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(atomic_load(&t->servers[b].active), 0);
	errno = 0;
	ck_assert_int_eq(shm_server_remove(t, (uint32_t)b), -1);
	ck_assert_int_eq(errno, ENOENT);

	d = add_server(p, "d", 1, 0, false);	/* reuses the freed slot */
	ck_assert_int_eq(d, b);
	ck_assert_uint_eq(t->pools[p].servers[2], (uint32_t)d);
	ck_assert_uint_eq(atomic_load(&t->servers[d].conns_total), 0);
}
END_TEST

START_TEST(test_robust_lock)
{
	pid_t	 pid;
	int	 p, a;

	p = shm_pool_add(t, "web", BAL_ROUNDROBIN, 0);
	a = add_server(p, "a", 1, 0, false);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		shm_pool_lock(t, (uint32_t)p);
		t->servers[a].rr_current = 12345;	/* half-done update */
		_exit(0);	/* dies holding the lock */
	}
	reap_ok(pid);
	/* Would hang forever without robust recovery; Check's timeout bounds
	 * the test. */
	shm_pool_lock(t, (uint32_t)p);
	ck_assert_int_eq(t->servers[a].rr_current, 0);	/* state reset */
	shm_pool_unlock(t, (uint32_t)p);
	shm_pool_lock(t, (uint32_t)p);	/* normal again */
	shm_pool_unlock(t, (uint32_t)p);
	ck_assert_int_ge(add_server(p, "b", 1, 0, false), 0);
}
END_TEST

START_TEST(test_names)
{
	int	 i;

	ck_assert_str_eq(shm_admin_name(SHM_ADMIN_READY), "ready");
	ck_assert_str_eq(shm_admin_name(SHM_ADMIN_DRAIN), "drain");
	ck_assert_str_eq(shm_admin_name(SHM_ADMIN_MAINT), "maint");
	ck_assert_str_eq(shm_health_name(SHM_HEALTH_UP), "up");
	ck_assert_str_eq(shm_health_name(SHM_HEALTH_DOWN), "down");
	ck_assert_str_eq(bal_algo_name(BAL_ROUNDROBIN), "roundrobin");
	ck_assert_str_eq(bal_algo_name(BAL_RANDOM), "random");
	ck_assert_str_eq(bal_algo_name(BAL_LEASTCONN), "leastconn");
	ck_assert_str_eq(bal_algo_name(BAL_P2C), "p2c");
	ck_assert_str_eq(bal_algo_name(BAL_FIRST), "first");
	for (i = 0; i < BAL__COUNT; i++)
		ck_assert_int_eq(bal_algo_lookup(bal_algo_name(i)), i);
	ck_assert_int_eq(bal_algo_lookup("leastconnx"), -1);
	ck_assert_int_eq(bal_algo_lookup(""), -1);
	ck_assert_int_eq(bal_algo_lookup(NULL), -1);
	ck_assert_str_eq(bal_algo_name(BAL__COUNT), "?");
}
END_TEST

static Suite *
shm_suite(void)
{
	Suite	*s = suite_create("shm");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_header);
	tcase_add_test(tc, test_pool_add_find);
	tcase_add_test(tc, test_server_add_find);
	tcase_add_test(tc, test_server_pool_full);
	tcase_add_test(tc, test_usable);
	tcase_add_test(tc, test_accounting_returns_to_zero);
	tcase_add_test(tc, test_global_maxconn);
	tcase_add_test(tc, test_server_maxconn);
	tcase_add_test(tc, test_server_maxconn_concurrent);
	tcase_add_test(tc, test_worker_claim_find);
	tcase_add_test(tc, test_worker_claim_full);
	tcase_add_test(tc, test_worker_release_subtracts_shares);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_robust_lock);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(shm_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
