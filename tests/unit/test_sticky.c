/*
 * test_sticky.c - the shared sticky table: expiry refreshed on use, LRU
 * replacement at capacity (memory never grows), clear and walk, keeping
 * or moving entries across a reload's setup, and several forked
 * processes hammering one table: no entry is ever corrupted and the
 * counters add up.  Time is injected.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "balance.h"
#include "shm.h"
#include "sticky.h"

static struct sockaddr_in
cli(uint32_t i)
{
	struct sockaddr_in	 a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x0a000000u + i);
	a.sin_port = htons((uint16_t)(1000 + i));
	return a;
}

#define SA(x)	((const struct sockaddr *)&(x))

START_TEST(expiry_refreshed_on_use)
{
	struct sticky_table	*st = sticky_create(100, 1000);
	struct sockaddr_in	 a = cli(1), a2 = cli(1);

	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(sticky_get(st, SA(a), 0), SHM_NONE);
	sticky_put(st, SA(a), 7, 0);
	ck_assert_uint_eq(sticky_get(st, SA(a), 999), 7);
	a2.sin_port = htons(9);			/* the port is not the key */
	ck_assert_uint_eq(sticky_get(st, SA(a2), 1998), 7);	/* refreshed */
	ck_assert_uint_eq(sticky_get(st, SA(a), 2998), SHM_NONE);
	ck_assert_uint_eq(sticky_walk(st, NULL, 2998, NULL, NULL), 0);
	sticky_put(st, SA(a), 8, 3000);		/* the expired slot reused */
	ck_assert_uint_eq(atomic_load(&st->entries), 1);
	ck_assert_uint_eq(sticky_get(st, SA(a), 3001), 8);
	sticky_destroy(st);
}
END_TEST

START_TEST(lru_at_capacity)
{
	struct sticky_table	*st = sticky_create(8, 100000);
	struct sockaddr_in	 a;
	uint32_t		 i;

	ck_assert_uint_eq(st->capacity, 8);	/* one bucket */
	for (i = 1; i <= 8; i++) {
		a = cli(i);
		sticky_put(st, SA(a), i, (int64_t)i);
	}
	a = cli(1);
	ck_assert_uint_eq(sticky_get(st, SA(a), 9), 1);	/* 1 now recent */
	a = cli(9);
	sticky_put(st, SA(a), 9, 10);
	ck_assert_uint_eq(atomic_load(&st->evictions), 1);
	ck_assert_uint_eq(atomic_load(&st->entries), 8);
	a = cli(2);				/* the least recently used */
	ck_assert_uint_eq(sticky_get(st, SA(a), 11), SHM_NONE);
	a = cli(1);
	ck_assert_uint_eq(sticky_get(st, SA(a), 11), 1);
	/* 1000 more clients: still 8 entries, never more memory. */
	for (i = 100; i < 1100; i++) {
		a = cli(i);
		sticky_put(st, SA(a), i, 20 + (int64_t)i);
	}
	ck_assert_uint_eq(atomic_load(&st->entries), 8);
	ck_assert_uint_eq(sticky_walk(st, NULL, 2000, NULL, NULL), 8);
	ck_assert_uint_eq(atomic_load(&st->evictions), 1001);
	sticky_destroy(st);
}
END_TEST

static void
count_cb(const struct sticky_entry *e, int64_t left, void *arg)
{
	ck_assert_int_gt(left, 0);
	(*(uint32_t *)arg) += e->server;
}

START_TEST(clear_and_walk)
{
	struct sticky_table	*st = sticky_create(1000, 60000);
	struct sockaddr_in6	 v6;
	struct sockaddr_in	 a;
	uint32_t		 i, sum = 0;

	for (i = 0; i < 100; i++) {
		a = cli(i);
		sticky_put(st, SA(a), 1, 0);
	}
	memset(&v6, 0, sizeof(v6));
	v6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", &v6.sin6_addr);
	sticky_put(st, SA(v6), 5, 0);
	ck_assert_uint_eq(sticky_walk(st, NULL, 1, count_cb, &sum), 101);
	ck_assert_uint_eq(sum, 105);
	ck_assert_uint_eq(sticky_walk(st, SA(v6), 1, NULL, NULL), 1);
	a = cli(3);
	ck_assert_uint_eq(sticky_clear(st, SA(a)), 1);
	ck_assert_uint_eq(sticky_get(st, SA(a), 2), SHM_NONE);
	ck_assert_uint_eq(sticky_clear(st, NULL), 100);
	ck_assert_uint_eq(atomic_load(&st->entries), 0);
	sticky_destroy(st);
}
END_TEST

START_TEST(setup_keeps_or_moves)
{
	struct conf_pool	 cp;
	struct sticky_table	*st;
	struct sockaddr_in	 a = cli(42);

	memset(&cp, 0, sizeof(cp));
	cp.algorithm = BAL_STICKY;
	cp.sticky.capacity = 64;
	cp.sticky.timeout_ms = 1000;
	ck_assert_int_eq(sticky_pool_setup(3, &cp, 0), 0);
	st = sticky_of(3);
	ck_assert_ptr_nonnull(st);
	sticky_put(st, SA(a), 9, 0);
	cp.sticky.timeout_ms = 5000;		/* same capacity: same table */
	ck_assert_int_eq(sticky_pool_setup(3, &cp, 10), 0);
	ck_assert_ptr_eq(sticky_of(3), st);
	ck_assert_uint_eq(atomic_load(&st->timeout_ms), 5000);
	cp.sticky.capacity = 4096;		/* new table, entry moved */
	ck_assert_int_eq(sticky_pool_setup(3, &cp, 20), 0);
	ck_assert_ptr_ne(sticky_of(3), NULL);
	ck_assert_uint_eq(sticky_get(sticky_of(3), SA(a), 30), 9);
	cp.algorithm = BAL_LEASTCONN;
	ck_assert_int_eq(sticky_pool_setup(3, &cp, 40), 0);
	ck_assert_ptr_null(sticky_of(3));
}
END_TEST

/* What client i must map to, if it maps to anything. */
static uint32_t
want(uint32_t i)
{
	return 100 + i % 13;
}

#define NPROC		4
#define NOPS		40000
#define NADDR		3000

/*
 * Child: random gets and puts over NADDR clients, all processes agreeing
 * on want(i).  Exits 1 if any get returns another server.
 */
static void
child(struct sticky_table *st, uint32_t seed)
{
	struct sockaddr_in	 a;
	uint32_t		 x = seed * 2654435761u + 1, i, n, srv;

	for (n = 0; n < NOPS; n++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		i = x % NADDR;
		a = cli(i);
		srv = sticky_get(st, SA(a), (int64_t)n);
		if (srv != SHM_NONE && srv != want(i))
			_exit(1);
		sticky_count(st, srv != SHM_NONE);
		if (srv == SHM_NONE)
			sticky_put(st, SA(a), want(i), (int64_t)n);
	}
	_exit(0);
}

START_TEST(concurrent_processes)
{
	struct sticky_table	*st = sticky_create(1024, 1000000);
	struct sockaddr_in	 a;
	pid_t			 pid[NPROC];
	int			 i, status;
	uint32_t		 k, srv;

	for (i = 0; i < NPROC; i++) {
		pid[i] = fork();
		ck_assert_int_ne(pid[i], -1);
		if (pid[i] == 0)
			child(st, (uint32_t)i + 1);
	}
	for (i = 0; i < NPROC; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_uint_eq(atomic_load(&st->hits) + atomic_load(&st->misses),
	    (uint64_t)NPROC * NOPS);
	ck_assert_uint_eq(atomic_load(&st->entries), st->capacity);
	ck_assert_uint_eq(sticky_walk(st, NULL, NOPS, NULL, NULL),
	    st->capacity);
	for (k = 0; k < NADDR; k++) {
		a = cli(k);
		srv = sticky_get(st, SA(a), NOPS);
		ck_assert(srv == SHM_NONE || srv == want(k));
	}
	sticky_destroy(st);
}
END_TEST

/* Picks for client `a` and releases at once. */
static int
pick1(struct bal_ctx *ctx, int p, struct sockaddr_in *a)
{
	int	 idx;

	idx = bal_pick_for(ctx, (uint32_t)p, NULL, 0, (struct sockaddr *)a);
	ck_assert_int_ge(idx, 0);
	shm_server_release(ctx->t, ctx->slot, (uint32_t)idx);
	return idx;
}

START_TEST(pick_sticky)
{
	struct shm_table	*t = shm_create();
	struct conf_pool	 cp;
	struct bal_ctx		 ctx;
	struct sockaddr_in	 a = cli(5), b = cli(6);
	struct sticky_table	*st;
	int			 p, first, again, other;

	memset(&cp, 0, sizeof(cp));
	cp.algorithm = BAL_STICKY;
	cp.sticky.capacity = 100;
	cp.sticky.timeout_ms = 60000;
	bal_ctx_init(&ctx, t, 0);
	p = shm_pool_add(t, "st", BAL_STICKY, 2);
	t->pools[p].sticky_fallback = BAL_ROUNDROBIN;
	shm_server_add(t, (uint32_t)p, "a", NULL, 0, 1, 0, false);
	shm_server_add(t, (uint32_t)p, "b", NULL, 0, 1, 0, false);
	shm_server_add(t, (uint32_t)p, "c", NULL, 0, 1, 0, false);
	ck_assert_int_eq(sticky_pool_setup((uint32_t)p, &cp, 0), 0);
	st = sticky_of((uint32_t)p);
	first = pick1(&ctx, p, &a);
	other = pick1(&ctx, p, &b);		/* round robin: another */
	ck_assert_int_ne(first, other);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(pick1(&ctx, p, &a), first);
	ck_assert_uint_eq(atomic_load(&st->hits), 10);
	ck_assert_uint_eq(atomic_load(&st->misses), 2);
	/* Draining: keeps its sticky client. */
	atomic_store(&t->servers[first].admin, SHM_ADMIN_DRAIN);
	ck_assert_int_eq(pick1(&ctx, p, &a), first);
	/* Maintenance or down: re-placed, and the new home remembered. */
	atomic_store(&t->servers[first].admin, SHM_ADMIN_MAINT);
	again = pick1(&ctx, p, &a);
	ck_assert_int_ne(again, first);
	atomic_store(&t->servers[first].admin, SHM_ADMIN_READY);
	ck_assert_int_eq(pick1(&ctx, p, &a), again);
	atomic_store(&t->servers[again].health, SHM_HEALTH_DOWN);
	first = pick1(&ctx, p, &a);
	ck_assert_int_ne(first, again);
	ck_assert_uint_eq(sticky_get(st, (struct sockaddr *)&a, 1),
	    (uint32_t)first);
	cp.algorithm = BAL_LEASTCONN;
	sticky_pool_setup((uint32_t)p, &cp, 0);
	shm_destroy(t);
}
END_TEST

static Suite *
sticky_suite(void)
{
	Suite	*s = suite_create("sticky");
	TCase	*tc = tcase_create("sticky");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, expiry_refreshed_on_use);
	tcase_add_test(tc, lru_at_capacity);
	tcase_add_test(tc, clear_and_walk);
	tcase_add_test(tc, setup_keeps_or_moves);
	tcase_add_test(tc, concurrent_processes);
	tcase_add_test(tc, pick_sticky);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(sticky_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
