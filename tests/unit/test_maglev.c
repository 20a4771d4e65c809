/*
 * test_maglev.c - Maglev table properties over 100,000 synthetic client
 * addresses: balance for equal weights, the weight ratio, the disruption
 * bound when one server is removed or added (and that clients of the
 * other servers barely move), then the master's refresh in a real shared
 * table: built once, rebuilt only when the membership changes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "balance.h"
#include "maglev.h"
#include "shm.h"

#define M		SHM_MAGLEV_SIZE
#define NCLIENTS	100000

static uint16_t	 tab_a[M], tab_b[M];

/* Client i as 10.x.y.z:port, hashed as algorithm source does. */
static uint64_t
client_key(uint32_t i)
{
	struct sockaddr_in	 a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x0a000000u + i * 7919u);
	a.sin_port = htons((uint16_t)(1024 + i % 50000));
	return maglev_hash_addr((struct sockaddr *)&a, MAGLEV_KEY_IP);
}

/* Builds a table of servers named s<ids[i]> with weights w into out. */
static void
build(const uint32_t *ids, const uint32_t *w, uint32_t n, uint16_t *out)
{
	uint64_t	 h[64];
	char		 name[16];
	uint32_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%u", ids[i]);
		h[i] = maglev_hash_name(name);
	}
	ck_assert_int_eq(maglev_populate(h, w, n, out, M), 0);
	for (i = 0; i < (uint32_t)M; i++) {
		ck_assert_uint_lt(out[i], n);
		out[i] = (uint16_t)ids[out[i]];		/* position -> id */
	}
}

static void
count_clients(const uint16_t *tab, uint32_t *cnt, uint32_t ncnt)
{
	uint32_t	 i;

	memset(cnt, 0, ncnt * sizeof(*cnt));
	for (i = 0; i < NCLIENTS; i++)
		cnt[tab[client_key(i) % M]]++;
}

static uint32_t
minmax(const uint32_t *c, uint32_t n, int max)
{
	uint32_t	 i, v = c[0];

	for (i = 1; i < n; i++)
		if (max ? c[i] > v : c[i] < v)
			v = c[i];
	return v;
}

START_TEST(balance_equal)
{
	uint32_t	 ids[10], w[10], cnt[10], slots[10] = { 0 }, i;

	for (i = 0; i < 10; i++) {
		ids[i] = i;
		w[i] = 1;
	}
	build(ids, w, 10, tab_a);
	for (i = 0; i < (uint32_t)M; i++)
		slots[tab_a[i]]++;
	count_clients(tab_a, cnt, 10);
	for (i = 0; i < 10; i++) {
		/* Slots: strict turns, so M/N give or take one. */
		ck_assert_uint_ge(slots[i], M / 10 - 1);
		ck_assert_uint_le(slots[i], M / 10 + 1);
		/* Clients: within 5% of the mean (about 3 sigma is 1%). */
		ck_assert_uint_ge(cnt[i], NCLIENTS / 10 * 95 / 100);
		ck_assert_uint_le(cnt[i], NCLIENTS / 10 * 105 / 100);
	}
	printf("maglev balance, 10 equal servers, %d clients: min %u max %u\n",
	    NCLIENTS, minmax(cnt, 10, 0), minmax(cnt, 10, 1));
}
END_TEST

START_TEST(balance_weights)
{
	uint32_t	 ids[3] = { 0, 1, 2 }, w[3] = { 1, 2, 3 }, cnt[3];
	uint32_t	 slots[3] = { 0 }, i;

	build(ids, w, 3, tab_a);
	for (i = 0; i < (uint32_t)M; i++)
		slots[tab_a[i]]++;
	count_clients(tab_a, cnt, 3);
	for (i = 0; i < 3; i++) {
		double	 want = (double)(i + 1) / 6;

		ck_assert_double_le(slots[i] / (double)M, want + 0.002);
		ck_assert_double_ge(slots[i] / (double)M, want - 0.002);
		ck_assert_double_le(cnt[i] / (double)NCLIENTS, want * 1.05);
		ck_assert_double_ge(cnt[i] / (double)NCLIENTS, want * 0.95);
	}
	printf("maglev weights 1:2:3: clients %u %u %u\n", cnt[0], cnt[1],
	    cnt[2]);
}
END_TEST

/*
 * Moves between table a and b: all clients that changed server, and
 * those that changed although their old server is in both.
 */
static void
moved(const uint16_t *a, const uint16_t *b, uint32_t gone, uint32_t *all,
    uint32_t *others)
{
	uint32_t	 i, sa, sb;

	*all = *others = 0;
	for (i = 0; i < NCLIENTS; i++) {
		uint64_t k = client_key(i) % M;

		sa = a[k];
		sb = b[k];
		if (sa == sb)
			continue;
		(*all)++;
		if (sa != gone)
			(*others)++;
	}
}

START_TEST(disruption_remove_add)
{
	uint32_t	 ids[32], w[32], all, others, n, drop, i;

	for (n = 5; n <= 20; n += 5) {
		for (i = 0; i < n + 1; i++) {
			ids[i] = i;
			w[i] = 1;
		}
		build(ids, w, n, tab_a);
		/* Remove server `drop` (not the last: order must not matter). */
		drop = n / 2;
		for (i = drop; i + 1 < n; i++)
			ids[i] = ids[i + 1];
		build(ids, w, n - 1, tab_b);
		moved(tab_a, tab_b, drop, &all, &others);
		printf("maglev remove 1 of %u: %.2f%% of clients moved "
		    "(bound %.2f%%), %.2f%% of the others' clients\n", n,
		    100.0 * all / NCLIENTS, 100.0 / n + 2,
		    100.0 * others / NCLIENTS);
		ck_assert_double_le((double)all / NCLIENTS, 1.0 / n + 0.02);
		/* Add server n (a new name) to the original n. */
		for (i = 0; i <= n; i++)
			ids[i] = i;
		build(ids, w, n, tab_a);
		build(ids, w, n + 1, tab_b);
		moved(tab_a, tab_b, UINT32_MAX, &all, &others);
		printf("maglev add 1 to %u: %.2f%% moved (bound %.2f%%)\n", n,
		    100.0 * all / NCLIENTS, 100.0 / (n + 1) + 2);
		ck_assert_double_le((double)all / NCLIENTS,
		    1.0 / (n + 1) + 0.02);
		if (n == 20)
			break;
	}
}
END_TEST

START_TEST(populate_rejects)
{
	uint64_t	 h[2] = { 1, 2 };
	uint32_t	 w[2] = { 1, 0 };

	ck_assert_int_eq(maglev_populate(h, w, 2, tab_a, M), -1);
	ck_assert_int_eq(maglev_populate(h, w, 0, tab_a, M), -1);
	w[1] = 256;
	ck_assert_int_eq(maglev_populate(h, w, 2, tab_a, M), 0);
}
END_TEST

START_TEST(hash_addr)
{
	struct sockaddr_in	 a;
	struct sockaddr_in6	 b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &a.sin_addr);
	a.sin_port = htons(1000);
	b.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &b.sin6_addr);
	b.sin6_port = htons(2000);
	/* A v4-mapped address hashes as the IPv4 one; ports only for ip_port. */
	ck_assert_uint_eq(maglev_hash_addr((void *)&a, MAGLEV_KEY_IP),
	    maglev_hash_addr((void *)&b, MAGLEV_KEY_IP));
	ck_assert_uint_ne(maglev_hash_addr((void *)&a, MAGLEV_KEY_IP_PORT),
	    maglev_hash_addr((void *)&b, MAGLEV_KEY_IP_PORT));
}
END_TEST

START_TEST(refresh_in_table)
{
	struct shm_table	*t = shm_create();
	uint32_t		 i, v, seen[3] = { 0 };
	int			 p, s[4];

	ck_assert_ptr_nonnull(t);
	p = shm_pool_add(t, "web", BAL_SOURCE, 2);
	s[0] = shm_server_add(t, (uint32_t)p, "a", NULL, 0, 1, 0, false);
	s[1] = shm_server_add(t, (uint32_t)p, "b", NULL, 0, 1, 0, false);
	s[2] = shm_server_add(t, (uint32_t)p, "bk", NULL, 0, 1, 0, true);
	ck_assert_uint_eq(maglev_slot(t, (uint32_t)p, 1, 0), SHM_NONE);
	maglev_refresh(t);
	ck_assert_uint_eq(atomic_load(&t->maglev[p].builds), 1);
	maglev_refresh(t);			/* unchanged: not rebuilt */
	ck_assert_uint_eq(atomic_load(&t->maglev[p].builds), 1);
	for (i = 0; i < 1000; i++) {
		v = maglev_slot(t, (uint32_t)p, client_key(i), 0);
		ck_assert(v == (uint32_t)s[0] || v == (uint32_t)s[1]);
		seen[v == (uint32_t)s[0] ? 0 : 1]++;
	}
	ck_assert_uint_gt(seen[0], 400);	/* the backup is not in it */
	ck_assert_uint_gt(seen[1], 400);
	/* Health is not membership: no rebuild. */
	atomic_store(&t->servers[s[0]].health, SHM_HEALTH_DOWN);
	maglev_refresh(t);
	ck_assert_uint_eq(atomic_load(&t->maglev[p].builds), 1);
	/* A new server is. */
	s[3] = shm_server_add(t, (uint32_t)p, "c", NULL, 0, 2, 0, false);
	maglev_refresh(t);
	ck_assert_uint_eq(atomic_load(&t->maglev[p].builds), 2);
	ck_assert_uint_eq(t->maglev[p].nservers, 3);
	atomic_store(&t->servers[s[3]].weight, 0);	/* and a weight */
	maglev_refresh(t);
	ck_assert_uint_eq(atomic_load(&t->maglev[p].builds), 3);
	ck_assert_uint_eq(t->maglev[p].nservers, 2);
	shm_destroy(t);
}
END_TEST

static struct sockaddr_in
caddr(uint32_t i)
{
	struct sockaddr_in	 a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000000u + i);
	a.sin_port = htons((uint16_t)(2000 + i));
	return a;
}

/* Picks for client i and releases at once; returns the server. */
static int
pick1(struct bal_ctx *ctx, int p, uint32_t i)
{
	struct sockaddr_in	 a = caddr(i);
	int			 idx;

	idx = bal_pick_for(ctx, (uint32_t)p, NULL, 0, (struct sockaddr *)&a);
	ck_assert_int_ge(idx, 0);
	shm_server_release(ctx->t, ctx->slot, (uint32_t)idx);
	return idx;
}

START_TEST(pick_source_down_moves_only_its_clients)
{
	struct shm_table	*t = shm_create();
	struct bal_ctx		 ctx;
	int			 p, s[5], before[2000], after, i, moved = 0;
	char			 name[16];

	bal_ctx_init(&ctx, t, 0);
	p = shm_pool_add(t, "src", BAL_SOURCE, 2);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		s[i] = shm_server_add(t, (uint32_t)p, name, NULL, 0, 1, 0,
		    false);
	}
	maglev_refresh(t);
	for (i = 0; i < 2000; i++) {
		before[i] = pick1(&ctx, p, (uint32_t)i);
		ck_assert_int_eq(pick1(&ctx, p, (uint32_t)i), before[i]);
	}
	atomic_store(&t->servers[s[2]].health, SHM_HEALTH_DOWN);
	maglev_refresh(t);
	for (i = 0; i < 2000; i++) {
		after = pick1(&ctx, p, (uint32_t)i);
		ck_assert_int_ne(after, s[2]);
		if (before[i] != s[2])
			ck_assert_int_eq(after, before[i]);
		else
			moved++;
	}
	ck_assert_int_gt(moved, 2000 / 5 * 8 / 10);
	/* Back up: every client is home again. */
	atomic_store(&t->servers[s[2]].health, SHM_HEALTH_UP);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(pick1(&ctx, p, (uint32_t)i), before[i]);
	/* Excluded after a failed connect: the next in table order. */
	{
		struct sockaddr_in a = caddr(7);
		uint32_t ex = (uint32_t)before[7];
		int idx = bal_pick_for(&ctx, (uint32_t)p, &ex, 1,
		    (struct sockaddr *)&a);

		ck_assert_int_ge(idx, 0);
		ck_assert_int_ne(idx, before[7]);
		shm_server_release(t, 0, (uint32_t)idx);
	}
	shm_destroy(t);
}
END_TEST

START_TEST(pick_source_bounded_load)
{
	struct shm_table	*t = shm_create();
	struct bal_ctx		 ctx;
	struct sockaddr_in	 a = caddr(1);
	int			 p, i, idx, cnt[2] = { 0, 0 }, s0;

	bal_ctx_init(&ctx, t, 0);
	p = shm_pool_add(t, "src", BAL_SOURCE, 2);
	s0 = shm_server_add(t, (uint32_t)p, "a", NULL, 0, 1, 0, false);
	shm_server_add(t, (uint32_t)p, "b", NULL, 0, 1, 0, false);
	t->pools[p].hash_factor = 150;
	maglev_refresh(t);
	/* One client, 100 connections held: the factor spreads them. */
	for (i = 0; i < 100; i++) {
		idx = bal_pick_for(&ctx, (uint32_t)p, NULL, 0,
		    (struct sockaddr *)&a);
		ck_assert_int_ge(idx, 0);
		cnt[idx == s0 ? 0 : 1]++;
	}
	/* Home server at most 150% of the average (50) plus one. */
	ck_assert_int_le(cnt[0] > cnt[1] ? cnt[0] : cnt[1], 76);
	ck_assert_int_ge(cnt[0] < cnt[1] ? cnt[0] : cnt[1], 24);
	shm_destroy(t);
}
END_TEST

static Suite *
maglev_suite(void)
{
	Suite	*s = suite_create("maglev");
	TCase	*tc = tcase_create("maglev");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, balance_equal);
	tcase_add_test(tc, balance_weights);
	tcase_add_test(tc, disruption_remove_add);
	tcase_add_test(tc, populate_rejects);
	tcase_add_test(tc, hash_addr);
	tcase_add_test(tc, refresh_in_table);
	tcase_add_test(tc, pick_source_down_moves_only_its_clients);
	tcase_add_test(tc, pick_source_bounded_load);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(maglev_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
