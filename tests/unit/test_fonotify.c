/*
 * test_fonotify.c - the notify hook runner: pushes never wait for the
 * script, runs happen one at a time in push order, and a script that
 * overruns notify_timeout is killed.  Real processes, a real event loop;
 * every wait is bounded.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "notify.h"

static char	 dir[] = "/tmp/test_fonotifyXXXXXX";
static char	 script[128], out[128];

/* Writes the hook: append "STATE PRIO REASON" after `delay` seconds. */
static void
write_script(const char *delay)
{
	FILE	*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/hook.sh", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\nsleep %s\necho \"$1 $2 $3\" >>%s\n", delay, out);
	fclose(f);
	chmod(script, 0755);
}

static void
cleanup(void)
{
	unlink(out);
	unlink(script);
	rmdir(dir);
}

/* Runs the loop until the queue is empty or `ms` pass. */
static void
run_until_idle(struct event_base *base, struct fo_notify *n, int64_t ms)
{
	int64_t	 end = clock_mono_ms() + ms;

	while (n->count > 0 && clock_mono_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(2000);
	}
}

START_TEST(in_order_never_blocks)
{
	static const char *st[] = { "BACKUP", "MASTER", "FAULT", "BACKUP",
	    "MASTER" };
	struct event_base	*base = event_base_new();
	struct fo_notify	 n;
	char			 line[128];
	int64_t			 t0;
	FILE			*f;
	int			 i = 0;

	write_script("0.05");
	ck_assert_int_eq(fo_notify_init(&n, base, script, 5000), 0);
	t0 = clock_mono_ms();
	for (i = 0; i < 5; i++)
		fo_notify_push(&n, st[i], (unsigned)i, "why not");
	ck_assert_int_lt(clock_mono_ms() - t0, 40);	/* 5 x 50 ms otherwise */
	ck_assert_uint_eq(n.count, 5);
	run_until_idle(base, &n, 5000);
	ck_assert_uint_eq(n.count, 0);
	ck_assert_uint_eq(n.runs, 5);
	ck_assert_uint_eq(n.failures, 0);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	for (i = 0; fgets(line, sizeof(line), f) != NULL; i++) {
		char want[64];

		snprintf(want, sizeof(want), "%s %d why not\n", st[i], i);
		ck_assert_str_eq(line, want);
	}
	fclose(f);
	ck_assert_int_eq(i, 5);
	fo_notify_drain_and_free(&n, 100);
	event_base_free(base);
	cleanup();
}
END_TEST

START_TEST(timeout_kills)
{
	struct event_base	*base = event_base_new();
	struct fo_notify	 n;
	int64_t			 t0;

	write_script("10");
	ck_assert_int_eq(fo_notify_init(&n, base, script, 200), 0);
	t0 = clock_mono_ms();
	fo_notify_push(&n, "MASTER", 150, "slow hook");
	fo_notify_push(&n, "BACKUP", 150, "next one still runs");
	run_until_idle(base, &n, 5000);
	ck_assert_uint_eq(n.count, 0);
	ck_assert_uint_eq(n.failures, 2);
	ck_assert_int_lt(clock_mono_ms() - t0, 3000);
	ck_assert_int_eq(access(out, F_OK), -1);	/* killed before echo */
	fo_notify_drain_and_free(&n, 100);
	event_base_free(base);
	cleanup();
}
END_TEST

START_TEST(no_path_is_noop)
{
	struct event_base	*base = event_base_new();
	struct fo_notify	 n;

	ck_assert_int_eq(fo_notify_init(&n, base, "", 1000), 0);
	fo_notify_push(&n, "MASTER", 1, "x");
	ck_assert_uint_eq(n.count, 0);
	ck_assert_uint_eq(n.runs, 0);
	fo_notify_drain_and_free(&n, 10);
	event_base_free(base);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("fonotify");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, in_order_never_blocks);
	tcase_add_test(tc, timeout_kills);
	tcase_add_test(tc, no_path_is_noop);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
