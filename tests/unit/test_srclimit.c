/*
 * test_srclimit.c - connections per client address (common/srclimit.c):
 * the cap holds exactly, other addresses are unaffected, release frees
 * the slot for any address, a full probe run lets clients through, a
 * dead worker's shares are taken back, and three processes racing on
 * cap 1 never hold two (nor, each holding up to 4, more than 5 on cap 5).
 */
#include <arpa/inet.h>
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
#include "srclimit.h"

#define RACE_PROCS	3
#define RACE_ROUNDS	20000

static struct shm_srcs	*s;

static void
setup(void)
{
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(s, MAP_FAILED);
	srclimit_init(s, UINT64_C(0x1234567890abcdef));
}

static void
teardown(void)
{
	munmap(s, sizeof(*s));
	s = NULL;
}

/* 10.x.y.z from n, port 1234 (the port never matters). */
static struct sockaddr *
v4(struct sockaddr_storage *ss, uint32_t n)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(1234);
	in->sin_addr.s_addr = htonl(0x0a000000u | (n & 0xffffffu));
	return (struct sockaddr *)ss;
}

START_TEST(test_cap_exact)
{
	struct sockaddr_storage	 a, b;
	uint32_t		 idx[5], other, i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, 1), 3,
		    &idx[i]), SRC_OK);
	ck_assert_uint_eq(idx[0], idx[1]);
	ck_assert_uint_eq(idx[1], idx[2]);
	ck_assert_int_eq(srclimit_acquire(s, 1, v4(&a, 1), 3, &idx[3]),
	    SRC_OVER);
	ck_assert_uint_eq(idx[3], SHM_NONE);
	ck_assert_uint_eq(srclimit_held(s, v4(&a, 1)), 3);
	/* Another address is unaffected. */
	ck_assert_int_eq(srclimit_acquire(s, 1, v4(&b, 2), 3, &other),
	    SRC_OK);
	ck_assert_uint_eq(srclimit_held(s, v4(&b, 2)), 1);
	/* A release frees one place, and only one. */
	srclimit_release(s, 0, idx[0]);
	ck_assert_int_eq(srclimit_acquire(s, 1, v4(&a, 1), 3, &idx[4]),
	    SRC_OK);
	ck_assert_int_eq(srclimit_acquire(s, 1, v4(&a, 1), 3, &idx[3]),
	    SRC_OVER);
	srclimit_release(s, 0, idx[1]);
	srclimit_release(s, 0, idx[2]);
	srclimit_release(s, 1, idx[4]);
	srclimit_release(s, 1, other);
	ck_assert_uint_eq(srclimit_held(s, v4(&a, 1)), 0);
	ck_assert_uint_eq(srclimit_tracked(s), 0);
	ck_assert_int_eq(atomic_load(&s->share[0][idx[0]]), 0);
	ck_assert_int_eq(atomic_load(&s->share[1][idx[0]]), 0);
}
END_TEST

START_TEST(test_v4mapped_is_v4)
{
	struct sockaddr_storage	 a, m;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&m;
	uint32_t		 i1, i2;

	memset(&m, 0, sizeof(m));
	in6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:10.0.0.7",
	    &in6->sin6_addr), 1);
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, 7), 2, &i1), SRC_OK);
	ck_assert_int_eq(srclimit_acquire(s, 0, (struct sockaddr *)&m, 2,
	    &i2), SRC_OK);
	ck_assert_uint_eq(i1, i2);
	ck_assert_int_eq(srclimit_acquire(s, 0, (struct sockaddr *)&m, 2,
	    &i2), SRC_OVER);
}
END_TEST

/*
 * Fills `want` addresses whose home slot is `home` into out[] (numbers
 * for v4()), searching from `from`.  Returns the next number to try.
 */
static uint32_t
same_home(uint32_t home, uint32_t *out, uint32_t want, uint32_t from)
{
	struct sockaddr_storage	 a;
	uint32_t		 n = from, got = 0;

	while (got < want) {
		ck_assert_uint_lt(n, 1u << 24);
		if (srclimit_home(s, v4(&a, n)) == home)
			out[got++] = n;
		n++;
	}
	return n;
}

START_TEST(test_slot_reused)
{
	struct sockaddr_storage	 a;
	uint32_t		 ips[2], i1, i2, home;

	home = srclimit_home(s, v4(&a, 100));
	same_home(home, ips, 2, 101);
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, 100), 1, &i1),
	    SRC_OK);
	ck_assert_uint_eq(i1, home);
	srclimit_release(s, 0, i1);
	/* Count 0: the slot is free for another address of that home. */
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[0]), 1, &i2),
	    SRC_OK);
	ck_assert_uint_eq(i2, home);
	ck_assert_uint_eq(srclimit_held(s, v4(&a, 100)), 0);
	ck_assert_uint_eq(srclimit_held(s, v4(&a, ips[0])), 1);
	srclimit_release(s, 0, i2);
}
END_TEST

/*
 * An address placed behind a busy slot stays in its slot when the busy
 * one frees: it is found before a free slot is claimed.
 */
START_TEST(test_one_slot_per_address)
{
	struct sockaddr_storage	 a;
	uint32_t		 ips[2], ic, ia, ia2, home;

	home = srclimit_home(s, v4(&a, 5));
	same_home(home, ips, 2, 6);
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[0]), 2, &ic),
	    SRC_OK);
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[1]), 2, &ia),
	    SRC_OK);
	ck_assert_uint_ne(ic, ia);
	srclimit_release(s, 0, ic);
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[1]), 2, &ia2),
	    SRC_OK);
	ck_assert_uint_eq(ia2, ia);
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[1]), 2, &ia2),
	    SRC_OVER);
}
END_TEST

START_TEST(test_full_fails_open)
{
	struct sockaddr_storage	 a;
	uint32_t		 ips[SHM_SRC_PROBES + 1], idx, home, i;

	home = srclimit_home(s, v4(&a, 9));
	ips[0] = 9;
	same_home(home, ips + 1, SHM_SRC_PROBES, 10);
	for (i = 0; i < SHM_SRC_PROBES; i++)
		ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[i]), 1,
		    &idx), SRC_OK);
	ck_assert_uint_eq(srclimit_tracked(s), SHM_SRC_PROBES);
	/* The 17th address of that home: let in, uncounted, counted full. */
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[SHM_SRC_PROBES]),
	    1, &idx), SRC_UNCOUNTED);
	ck_assert_uint_eq(idx, SHM_NONE);
	ck_assert_int_eq(srclimit_acquire(s, 0, v4(&a, ips[SHM_SRC_PROBES]),
	    1, &idx), SRC_UNCOUNTED);
	ck_assert_uint_eq(atomic_load(&s->table_full), 2);
	/* The 16 counted ones are still capped. */
	ck_assert_int_eq(srclimit_acquire(s, 1, v4(&a, ips[3]), 1, &idx),
	    SRC_OVER);
}
END_TEST

START_TEST(test_worker_death)
{
	struct sockaddr_storage	 a;
	uint32_t		 idx, i6, i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(srclimit_acquire(s, 5, v4(&a, 42), 10, &idx),
		    SRC_OK);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(srclimit_acquire(s, 6, v4(&a, 42), 10, &i6),
		    SRC_OK);
	ck_assert_int_eq(srclimit_acquire(s, 5, v4(&a, 43), 10, &idx),
	    SRC_OK);
	ck_assert_uint_eq(srclimit_held(s, v4(&a, 42)), 7);
	srclimit_worker_release(s, 5);	/* worker 5 was killed with 5 open */
	ck_assert_uint_eq(srclimit_held(s, v4(&a, 42)), 3);
	ck_assert_uint_eq(srclimit_held(s, v4(&a, 43)), 0);
	ck_assert_uint_eq(srclimit_tracked(s), 1);
	srclimit_worker_release(s, 5);	/* nothing left: no-op */
	ck_assert_uint_eq(srclimit_held(s, v4(&a, 42)), 3);
	for (i = 0; i < 3; i++)
		srclimit_release(s, 6, i6);
	ck_assert_uint_eq(srclimit_tracked(s), 0);
}
END_TEST

/*
 * One racer: acquires on cap 1 and, while it holds, bumps the shared
 * holder count and records the highest seen.  shared[0] = go,
 * [1] = holders now, [2] = most at once, [3] = wins.
 */
static void __attribute__((noreturn))
racer(uint32_t wslot, _Atomic int32_t *shared, uint32_t cap, int hold)
{
	struct sockaddr_storage	 a;
	uint32_t		 idx[8];
	int32_t			 now, max;
	int			 r, h, got;

	while (atomic_load(&shared[0]) == 0)
		;
	for (r = 0; r < RACE_ROUNDS; r++) {
		for (got = 0, h = 0; h < hold; h++) {
			if (srclimit_acquire(s, wslot, v4(&a, 77), cap,
			    &idx[got]) != SRC_OK)
				continue;
			got++;
			now = atomic_fetch_add(&shared[1], 1) + 1;
			max = atomic_load(&shared[2]);
			while (now > max && !atomic_compare_exchange_weak(
			    &shared[2], &max, now))
				;
			atomic_fetch_add(&shared[3], 1);
		}
		while (got > 0) {
			atomic_fetch_sub(&shared[1], 1);
			srclimit_release(s, wslot, idx[--got]);
		}
	}
	_exit(0);
}

/*
 * RACE_PROCS processes, each taking up to `hold` connections of one
 * address at a time on cap `cap`.  Returns the most held at once.
 */
static int32_t
race(uint32_t cap, int hold)
{
	_Atomic int32_t	*shared;
	pid_t		 pid[RACE_PROCS];
	int32_t		 max;
	int		 i, st;

	shared = mmap(NULL, 4 * sizeof(*shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shared, MAP_FAILED);
	for (i = 0; i < RACE_PROCS; i++)
		if ((pid[i] = fork()) == 0)
			racer((uint32_t)i, shared, cap, hold);
	atomic_store(&shared[0], 1);	/* before any assert: never strand */
	for (i = 0; i < RACE_PROCS; i++) {
		ck_assert_int_ne(pid[i], -1);
		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	max = atomic_load(&shared[2]);
	ck_assert_int_gt(atomic_load(&shared[3]), 0);
	/* Everything given back: no slot counts, no share is left. */
	ck_assert_uint_eq(srclimit_tracked(s), 0);
	ck_assert_uint_eq(atomic_load(&s->table_full), 0);
	for (i = 0; i < RACE_PROCS; i++)
		srclimit_worker_release(s, (uint32_t)i);
	ck_assert_uint_eq(srclimit_tracked(s), 0);
	printf("cap %u, %d processes x %d rounds holding up to %d: %d "
	    "acquired, at most %d at once\n", cap, RACE_PROCS, RACE_ROUNDS,
	    hold, atomic_load(&shared[3]), max);
	munmap(shared, 4 * sizeof(*shared));
	return max;
}

START_TEST(test_concurrent_cap1)
{
	ck_assert_int_eq(race(1, 1), 1);
}
END_TEST

START_TEST(test_concurrent_cap5)
{
	ck_assert_int_le(race(5, 4), 5);
}
END_TEST

/* The table inside shm_create's region, keyed, and released with a worker. */
START_TEST(test_in_table)
{
	struct shm_table	*t = shm_create();
	struct sockaddr_storage	 a;
	uint32_t		 idx;
	int			 w;

	ck_assert_ptr_nonnull(t);
	w = shm_worker_claim(t, 4242, 1);
	ck_assert_int_ge(w, 0);
	ck_assert_int_eq(srclimit_acquire(&t->srcs, (uint32_t)w, v4(&a, 3), 5,
	    &idx), SRC_OK);
	ck_assert_uint_eq(srclimit_held(&t->srcs, v4(&a, 3)), 1);
	shm_worker_release(t, (uint32_t)w);
	ck_assert_uint_eq(srclimit_held(&t->srcs, v4(&a, 3)), 0);
	shm_destroy(t);
}
END_TEST

static Suite *
srclimit_suite(void)
{
	Suite	*su = suite_create("srclimit");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cap_exact);
	tcase_add_test(tc, test_v4mapped_is_v4);
	tcase_add_test(tc, test_slot_reused);
	tcase_add_test(tc, test_one_slot_per_address);
	tcase_add_test(tc, test_full_fails_open);
	tcase_add_test(tc, test_worker_death);
	tcase_add_test(tc, test_concurrent_cap1);
	tcase_add_test(tc, test_concurrent_cap5);
	tcase_add_test(tc, test_in_table);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	SRunner	*sr = srunner_create(srclimit_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
