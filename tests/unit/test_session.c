/*
 * test_session.c - the splice data plane in one process: real loopback
 * TCP sockets, a real shared table and bal_pick, the test playing both
 * client and server while it turns the session's event loop by hand.
 * Covers bytes both ways with half-close, retry past a refused server,
 * no_server, connect_failed, idle timeout, flow control against a server
 * that never reads, fast close, and the pipe pool's bounds.  Every test
 * ends by checking that all counts are back to 0 (a leak would one day
 * stop the proxy).  Never sleeps to wait: polls a condition with a bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <check.h>
#include <event2/event.h>

#include "balance.h"
#include "conf-t.h"
#include "log.h"
#include "pipe.h"
#include "session.h"
#include "shm.h"

#define WAIT_MS	5000	/* bound on every poll for a condition */

static struct shm_table		*t;
static struct conf		 conf;
static struct sess_ctx		 ctx;
static struct worker_listener	 wl = { -1, 0, "front" };
static int			 front = -1;	/* the listener clients use */
static int			 ends;		/* sessions ended so far */

static void
on_end(struct sess_ctx *c, void *arg)
{
	ends++;
}

/* A loopback listener on an ephemeral port; its port in *port. */
static int
listener(uint16_t *port, int backlog)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);
	int			fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Adds server `name` at 127.0.0.1:port to pool 0. */
static int
server(const char *name, uint16_t port)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	int			idx;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	idx = shm_server_add(t, 0, name, (struct sockaddr *)&sin, sizeof(sin),
	    1, 0, false);
	ck_assert_int_ge(idx, 0);
	return idx;
}

/* A port nobody listens on (bound once, then closed). */
static uint16_t
dead_port(void)
{
	uint16_t	port;
	int		fd = listener(&port, 1);

	close(fd);
	return port;
}

static void
setup(void)
{
	uint16_t port;

	log_init("test_session", LOG_USER, 0);
	log_set_level(LOG_EMERG);
	t = shm_create();
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(shm_pool_add(t, "pool", BAL_FIRST, 2), 0);
	atomic_store(&t->maxconn, 100);
	memset(&conf, 0, sizeof(conf));
	conf.maxconn = 100;
	conf.connect_timeout_ms = 2000;
	conf.idle_timeout_ms = 10000;
	conf.log_connections = true;
	memset(&ctx, 0, sizeof(ctx));
	ctx.base = event_base_new();
	ck_assert_ptr_nonnull(ctx.base);
	ctx.conf = &conf;
	ctx.t = t;
	ctx.slot = (uint32_t)shm_worker_claim(t, getpid(), 1);
	ctx.on_end = on_end;
	bal_ctx_init(&ctx.bal, t, ctx.slot);
	ck_assert_int_eq(pipe_pool_init(&ctx.pipes, 64, 8), 0);
	TAILQ_INIT(&ctx.sessions);
	front = listener(&port, 16);
	wl.fd = front;
	wl.pool_idx = 0;
	ends = 0;
}

static void
teardown(void)
{
	sess_close_all(&ctx, SESS_END_SHUTDOWN);
	pipe_pool_free(&ctx.pipes);
	event_base_free(ctx.base);
	close(front);
	shm_destroy(t);
}

/* Connects a client to `front` and hands the accepted end to a session. */
static int
client(void)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			c, a;

	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(c, -1);
	ck_assert_int_eq(getsockname(front, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&ss, len), 0);
	len = sizeof(ss);
	a = accept4(front, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK);
	ck_assert_int_ne(a, -1);
	ck_assert_int_eq(shm_conn_reserve(t, ctx.slot), 0);
	sess_start(&ctx, a, (struct sockaddr *)&ss, len, &wl, SHM_NONE);
	return c;
}

/* Turns the loop until fd is readable (or, fd -1, until cond holds). */
static bool
spin_until_readable(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	int		i;

	for (i = 0; i < WAIT_MS; i++) {
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 1) == 1)
			return true;
	}
	return false;
}

static bool
spin_until_ended(int n)
{
	int i;

	for (i = 0; i < WAIT_MS && ends < n; i++) {
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
		poll(NULL, 0, 1);
	}
	return ends >= n;
}

/* Reads exactly n bytes (turning the loop), then returns them in buf. */
static void
read_exact(int fd, char *buf, size_t n)
{
	size_t	got = 0;
	ssize_t	r;

	while (got < n) {
		ck_assert(spin_until_readable(fd));
		r = read(fd, buf + got, n - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
}

static void
expect_eof(int fd)
{
	char	c;

	ck_assert(spin_until_readable(fd));
	ck_assert_int_eq(read(fd, &c, 1), 0);
}

/* The invariant every test ends with: nothing stays counted. */
static void
assert_counts_zero(void)
{
	uint32_t i;

	ck_assert_uint_eq(ctx.nsessions, 0);
	ck_assert_int_eq(atomic_load(&t->active), 0);
	ck_assert_int_eq(atomic_load(&t->workers[ctx.slot].active), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(atomic_load(&t->servers[i].active), 0);
		ck_assert_int_eq(atomic_load(
		    &t->workers[ctx.slot].server_active[i]), 0);
	}
	ck_assert_uint_eq(ctx.pipes.nalive, ctx.pipes.ncache);
}

START_TEST(both_ways_half_close)
{
	uint16_t	port;
	int		ls = listener(&port, 4), c, s, idx;
	char		buf[8];

	idx = server("a", port);
	c = client();
	s = -1;
	/* The client sends and shuts its write side at once. */
	ck_assert_int_eq(write(c, "hello", 5), 5);
	ck_assert_int_eq(shutdown(c, SHUT_WR), 0);
	ck_assert(spin_until_readable(ls));
	s = accept(ls, NULL, NULL);
	ck_assert_int_ne(s, -1);
	read_exact(s, buf, 5);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	expect_eof(s);
	/* The client half-closed: it must still get the whole reply. */
	ck_assert_int_eq(write(s, "world!", 6), 6);
	read_exact(c, buf, 6);
	ck_assert(memcmp(buf, "world!", 6) == 0);
	close(s);
	expect_eof(c);
	ck_assert(spin_until_ended(1));
	ck_assert_uint_eq(atomic_load(&t->servers[idx].bytes_in), 5);
	ck_assert_uint_eq(atomic_load(&t->servers[idx].bytes_out), 6);
	assert_counts_zero();
	close(c);
	close(ls);
}
END_TEST

START_TEST(refused_server_retried)
{
	uint16_t	port;
	int		ls = listener(&port, 4), c, s, dead, live;
	char		buf[4];

	dead = server("dead", dead_port());
	live = server("live", port);
	c = client();
	ck_assert(spin_until_readable(ls));
	s = accept(ls, NULL, NULL);
	ck_assert_int_ne(s, -1);
	ck_assert_int_eq(write(s, "ok\n", 3), 3);
	read_exact(c, buf, 3);
	ck_assert_uint_eq(atomic_load(&t->servers[dead].failures), 1);
	ck_assert_uint_eq(atomic_load(&t->servers[dead].consec_failures), 1);
	ck_assert_uint_eq(atomic_load(&t->servers[live].failures), 0);
	ck_assert_int_eq(atomic_load(&t->servers[live].active), 1);
	close(c);
	close(s);
	ck_assert(spin_until_ended(1));
	assert_counts_zero();
	close(ls);
}
END_TEST

/*
 * A server that accepts and resets before any byte (a backend killed with
 * connections in its accept queue): the session tries the next server,
 * and the client never notices.  (Had the client's bytes already been
 * delivered to the dead server, retrying would not be safe, and lbd does
 * not.)
 */
START_TEST(reset_before_data_retried)
{
	struct linger	lg = { 1, 0 };
	uint16_t	pflaky, plive;
	int		lflaky = listener(&pflaky, 4), llive = listener(&plive, 4);
	int		c, f, s, flaky, live;
	char		buf[4];

	flaky = server("flaky", pflaky);
	live = server("live", plive);
	c = client();
	ck_assert(spin_until_readable(lflaky));
	f = accept(lflaky, NULL, NULL);
	ck_assert_int_ne(f, -1);
	ck_assert_int_eq(setsockopt(f, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(f);			/* RST, nothing read or written */
	ck_assert(spin_until_readable(llive));
	s = accept(llive, NULL, NULL);
	ck_assert_int_ne(s, -1);
	ck_assert_int_eq(write(c, "hi", 2), 2);
	read_exact(s, buf, 2);
	ck_assert(memcmp(buf, "hi", 2) == 0);
	ck_assert_int_eq(write(s, "ok\n", 3), 3);
	read_exact(c, buf, 3);
	ck_assert(memcmp(buf, "ok\n", 3) == 0);
	ck_assert_uint_eq(atomic_load(&t->servers[flaky].failures), 1);
	ck_assert_int_eq(atomic_load(&t->servers[flaky].active), 0);
	ck_assert_int_eq(atomic_load(&t->servers[live].active), 1);
	close(c);
	close(s);
	ck_assert(spin_until_ended(1));
	assert_counts_zero();
	close(lflaky);
	close(llive);
}
END_TEST

START_TEST(no_server_closes_client)
{
	int	c, idx;

	idx = server("down", dead_port());
	atomic_store(&t->servers[idx].admin, SHM_ADMIN_MAINT);
	c = client();
	ck_assert_int_eq(ends, 1);	/* closed at once, no wait */
	expect_eof(c);
	ck_assert_uint_eq(atomic_load(&t->pools[0].no_server), 1);
	assert_counts_zero();
	close(c);
}
END_TEST

START_TEST(all_refused_connect_failed)
{
	int	c, a, b;

	a = server("a", dead_port());
	b = server("b", dead_port());
	c = client();
	ck_assert(spin_until_ended(1));
	expect_eof(c);
	/* retries 2 but only two servers: each tried once. */
	ck_assert_uint_eq(atomic_load(&t->servers[a].failures), 1);
	ck_assert_uint_eq(atomic_load(&t->servers[b].failures), 1);
	ck_assert_uint_eq(atomic_load(&t->pools[0].no_server), 0);
	assert_counts_zero();
	close(c);
}
END_TEST

START_TEST(idle_timeout)
{
	uint16_t	port;
	int		ls = listener(&port, 4), c, s;

	conf.idle_timeout_ms = 100;
	server("a", port);
	c = client();
	ck_assert(spin_until_readable(ls));
	s = accept(ls, NULL, NULL);
	ck_assert(spin_until_ended(1));
	expect_eof(c);
	assert_counts_zero();
	close(c);
	close(s);
	close(ls);
}
END_TEST

/*
 * The server never reads: the session must stop reading the client once
 * its pipe cannot drain, so what it holds stays bounded by one pipe.
 */
START_TEST(flow_control_bounded)
{
	static char	chunk[65536];
	uint16_t	port;
	int		ls = listener(&port, 4), c, s, i, small = 4096;
	struct sess	*se;
	size_t		sent = 0;
	ssize_t		n;

	server("a", port);
	c = client();
	ck_assert(spin_until_readable(ls));
	s = accept(ls, NULL, NULL);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fcntl(c, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 2000; i++) {
		n = write(c, chunk, sizeof(chunk));
		if (n > 0)
			sent += (size_t)n;
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	}
	se = TAILQ_FIRST(&ctx.sessions);
	ck_assert_ptr_nonnull(se);
	ck_assert(se->up.inpipe > 0);
	ck_assert(!event_pending(&se->ev_cread, EV_READ, NULL));
	ck_assert(event_pending(&se->ev_swrite, EV_WRITE, NULL));
	ck_assert(sent < sizeof(chunk) * 2000);	/* the client was stopped */
	close(s);	/* the server goes away with bytes unread */
	close(c);
	ck_assert(spin_until_ended(1));
	assert_counts_zero();
	close(ls);
}
END_TEST

START_TEST(close_all_releases)
{
	uint16_t	port;
	int		ls = listener(&port, 8), c[3], i;

	server("a", port);
	for (i = 0; i < 3; i++)
		c[i] = client();
	for (i = 0; i < 20; i++)
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(ctx.nsessions, 3);
	sess_close_all(&ctx, SESS_END_SHUTDOWN);
	ck_assert_int_eq(ends, 3);
	assert_counts_zero();
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(ls);
}
END_TEST

START_TEST(pipe_pool_bounds)
{
	struct pipe_pool	pp;
	int			a[2], b[2], x[2];

	ck_assert_int_eq(pipe_pool_init(&pp, 2, 1), 0);
	ck_assert_int_eq(pipe_get(&pp, a), 0);
	ck_assert_int_eq(pipe_get(&pp, b), 0);
	ck_assert_int_eq(pipe_get(&pp, x), -1);
	ck_assert_int_eq(errno, EAGAIN);
	pipe_put(&pp, a, true);			/* cached */
	ck_assert_int_eq(a[0], -1);
	ck_assert_uint_eq(pp.ncache, 1);
	ck_assert_int_eq(write(b[1], "z", 1), 1);
	pipe_put(&pp, b, false);		/* holds a byte: closed */
	ck_assert_uint_eq(pp.nalive, 1);
	ck_assert_int_eq(pipe_get(&pp, x), 0);	/* the cached one */
	ck_assert_uint_eq(pp.ncache, 0);
	pipe_put(&pp, x, true);
	pipe_pool_free(&pp);
	ck_assert_uint_eq(pp.nalive, 0);
}
END_TEST

static Suite *
session_suite(void)
{
	Suite	*s = suite_create("session");
	TCase	*tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, both_ways_half_close);
	tcase_add_test(tc, refused_server_retried);
	tcase_add_test(tc, reset_before_data_retried);
	tcase_add_test(tc, no_server_closes_client);
	tcase_add_test(tc, all_refused_connect_failed);
	tcase_add_test(tc, idle_timeout);
	tcase_add_test(tc, flow_control_bounded);
	tcase_add_test(tc, close_all_releases);
	suite_add_tcase(s, tc);
	tc = tcase_create("pipe");
	tcase_add_test(tc, pipe_pool_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(session_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
