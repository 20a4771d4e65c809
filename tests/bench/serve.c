/*
 * serve.c - `lbbench serve`: a pure echo backend (no greeting, unlike
 * tests/tools/lbt-backend) on one or more loopback addresses in a single
 * epoll thread, so the four benchmark backends cost one process pinned to
 * one CPU.  What it cannot write at once it keeps and stops reading that
 * connection until the peer drains it (back-pressure instead of unbounded
 * buffering).  Stops on SIGINT/SIGTERM or after --duration.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lbbench.h"

#define MAX_EVENTS	256
#define BUF		65536
#define ROUNDS		4	/* reads per wake-up: fairness */

enum ent_kind {
	E_LISTEN = 0,
	E_CONN,
};

struct ent {
	int		fd;
	enum ent_kind	kind;
	char		*pend;		/* unsent echo, or NULL */
	size_t		off, len;
};

struct srv {
	int		ep;
	uint64_t	accepted, open, maxconn;
	char		buf[BUF];
};

static void
conn_close(struct srv *s, struct ent *e)
{
	close(e->fd);
	free(e->pend);
	free(e);
	s->open--;
}

static void
set_events(struct srv *s, struct ent *e, uint32_t evs)
{
	struct epoll_event ev;

	ev.events = evs;
	ev.data.ptr = e;
	epoll_ctl(s->ep, EPOLL_CTL_MOD, e->fd, &ev);
}

/* Writes the kept remainder; 0 when all gone, 1 when blocked, -1 error. */
static int
drain(struct srv *s, struct ent *e)
{
	ssize_t w;

	while (e->off < e->len) {
		w = write(e->fd, e->pend + e->off, e->len - e->off);
		if (w == -1)
			return errno == EAGAIN ? 1 : -1;
		e->off += (size_t)w;
	}
	free(e->pend);
	e->pend = NULL;
	set_events(s, e, EPOLLIN);
	return 0;
}

/* Echoes what is readable; keeps any unwritten tail and waits for OUT. */
static void
on_conn(struct srv *s, struct ent *e, uint32_t evs)
{
	ssize_t n, w;
	int i, rc;

	if (e->pend != NULL) {
		rc = drain(s, e);
		if (rc == -1)
			conn_close(s, e);
		if (rc != 0)
			return;
	}
	for (i = 0; i < ROUNDS; i++) {
		n = read(e->fd, s->buf, sizeof(s->buf));
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0)
			goto gone;
		w = write(e->fd, s->buf, (size_t)n);
		if (w == -1 && errno != EAGAIN)
			goto gone;
		if (w == -1)
			w = 0;
		if (w < n) {
			e->len = (size_t)(n - w);
			e->off = 0;
			if ((e->pend = malloc(e->len)) == NULL)
				goto gone;
			memcpy(e->pend, s->buf + w, e->len);
			set_events(s, e, EPOLLOUT);
			return;
		}
	}
	(void)evs;
	return;
gone:
	conn_close(s, e);
}

static void
on_listen(struct srv *s, struct ent *l)
{
	struct epoll_event ev;
	struct ent *e;
	int fd, i, one = 1;

	for (i = 0; i < 64; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		if (s->open >= s->maxconn || (e = calloc(1, sizeof(*e))) == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		e->fd = fd;
		e->kind = E_CONN;
		ev.events = EPOLLIN;
		ev.data.ptr = e;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(e);
			continue;
		}
		s->accepted++;
		s->open++;
		/* The request often arrived with the handshake: echo it now. */
		on_conn(s, e, EPOLLIN);
	}
}

static int
add_listener(struct srv *s, const char *text, int backlog)
{
	struct sockaddr_storage ss;
	struct epoll_event ev;
	struct ent *e;
	socklen_t len;
	int fd, one = 1;

	if (lbb_parse_addr(text, &ss, &len) == -1) {
		fprintf(stderr, "lbbench serve: bad address '%s'\n", text);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, backlog) == -1) {
		fprintf(stderr, "lbbench serve: bind/listen %s: %s\n", text,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->fd = fd;
	e->kind = E_LISTEN;
	ev.events = EPOLLIN;
	ev.data.ptr = e;
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void
serve_usage(void)
{
	fprintf(stderr, "usage: lbbench serve --listen ADDR:PORT[,ADDR:PORT...] "
	    "[--echo] [--duration 30m] [--backlog 4096] [--maxconn 19000]\n");
}

/* Parses the options and opens the listeners; 0 or -1. */
static int
serve_setup(struct srv *s, int argc, char **argv, uint64_t *dur)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "echo", no_argument, NULL, 'e' },
		{ "duration", required_argument, NULL, 'd' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "maxconn", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char *listen_arg = NULL, *tok, *save;
	uint64_t backlog = 4096;
	int ch;

	*dur = 1800ull * 1000000000ull;
	s->maxconn = 19000;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if ((ch == 'l' && (listen_arg = optarg) == NULL) ||
		    (ch == 'd' && lbb_parse_dur(optarg, dur) == -1) ||
		    (ch == 'b' && lbb_parse_uint(optarg, 65535, &backlog) == -1) ||
		    (ch == 'm' && lbb_parse_uint(optarg, 1000000, &s->maxconn) == -1) ||
		    ch == '?') {
			serve_usage();
			return -1;
		}
	}
	if (listen_arg == NULL || optind != argc) {
		serve_usage();
		return -1;
	}
	for (tok = strtok_r(listen_arg, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if (add_listener(s, tok, (int)backlog) == -1)
			return -1;
	return 0;
}

int
lbb_cmd_serve(int argc, char **argv)
{
	struct epoll_event ev[MAX_EVENTS];
	struct srv *s;
	uint64_t dur, end;
	int n, k;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return 1;
	lbb_signals();
	lbb_raise_nofile();
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep == -1 || serve_setup(s, argc, argv, &dur) == -1)
		return 1;
	printf("ready\n");
	fflush(stdout);
	end = lbb_now() + dur;
	while (!lbb_stop && lbb_now() < end) {
		n = epoll_wait(s->ep, ev, MAX_EVENTS, 100);
		for (k = 0; k < n; k++) {
			struct ent *e = ev[k].data.ptr;

			if (e->kind == E_LISTEN)
				on_listen(s, e);
			else
				on_conn(s, e, ev[k].events);
		}
	}
	printf("served %llu connections\n", (unsigned long long)s->accepted);
	return 0;
}
