/*
 * test_fotrack.c - lbd health tracking against a fake lbd served from
 * the same event loop: OK / ERR / silence / unreachable, through the
 * fall/rise hysteresis, and the check never stalls the loop longer than
 * track_timeout.  Every wait is bounded.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "track.h"

enum fake_mode {
	FAKE_OK = 0,
	FAKE_ERR,
	FAKE_SILENT
};

static enum fake_mode	 mode;
static int		 changes, last_healthy = -1;
static char		 last_reason[FO_TRACK_REASON];
static char		 path[108];

/* The fake lbd: answers each connection at once per `mode`. */
static void
fake_accept(evutil_socket_t lfd, short what, void *arg)
{
	static const char ok[] = "OK 3\nok\n";
	static const char err[] = "ERR 26\npool web has no server up\n";
	char	 buf[64];
	int	 fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return;
	(void)read(fd, buf, sizeof(buf));	/* "health\n" */
	if (mode == FAKE_OK)
		(void)write(fd, ok, sizeof(ok) - 1);
	else if (mode == FAKE_ERR)
		(void)write(fd, err, sizeof(err) - 1);
	if (mode == FAKE_SILENT) {
		/* keep it open past the timeout; closed at the next accept */
		static int held = -1;

		if (held != -1)
			close(held);
		held = fd;
		return;
	}
	close(fd);
}

static void
on_change(void *arg, bool healthy, const char *reason)
{
	changes++;
	last_healthy = healthy;
	snprintf(last_reason, sizeof(last_reason), "%s", reason);
}

static int
fake_listen(void)
{
	struct sockaddr_un sun;
	int	 fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(path, sizeof(path), "/tmp/test_fotrack.%d.sock", (int)getpid());
	unlink(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/* Runs the loop until `changes` reaches `want` or `ms` pass; the time. */
static int64_t
run_until(struct event_base *base, int want, int64_t ms)
{
	int64_t	 t0 = clock_mono_ms(), end = t0 + ms;
	struct timeval tv = { 0, 5000 };

	while (changes < want && clock_mono_ms() < end) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return clock_mono_ms() - t0;
}

START_TEST(hysteresis)
{
	struct event_base	*base = event_base_new();
	struct event		*lev;
	struct fo_track		 t;
	int			 lfd = fake_listen();
	int64_t			 took;

	lev = event_new(base, lfd, EV_READ | EV_PERSIST, fake_accept, NULL);
	event_add(lev, NULL);
	mode = FAKE_OK;
	ck_assert_int_eq(fo_track_start(&t, base, path, 20, 10, 3, 2,
	    on_change, NULL), 0);
	took = run_until(base, 1, 2000);
	ck_assert_int_eq(changes, 1);
	ck_assert_int_eq(last_healthy, 1);
	ck_assert_int_lt(took, 500);		/* rise = 2 checks of 20 ms */

	mode = FAKE_ERR;			/* 3 ERR replies -> unhealthy */
	run_until(base, 2, 2000);
	ck_assert_int_eq(last_healthy, 0);
	ck_assert_ptr_nonnull(strstr(last_reason, "pool web has no server up"));

	mode = FAKE_OK;
	run_until(base, 3, 2000);
	ck_assert_int_eq(last_healthy, 1);

	mode = FAKE_SILENT;			/* no answer within 10 ms */
	run_until(base, 4, 2000);
	ck_assert_int_eq(last_healthy, 0);
	ck_assert_ptr_nonnull(strstr(last_reason, "no answer"));

	mode = FAKE_OK;
	run_until(base, 5, 2000);
	event_free(lev);			/* lbd gone: unreachable */
	close(lfd);
	unlink(path);
	run_until(base, 6, 2000);
	ck_assert_int_eq(last_healthy, 0);
	ck_assert_ptr_nonnull(strstr(last_reason, "unreachable"));
	ck_assert_uint_ge(t.checks, 10);
	fo_track_stop(&t);
	event_base_free(base);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("fotrack");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, hysteresis);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
