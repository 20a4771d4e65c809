/*
 * lbt-hcresp.c - hostile (and one friendly) health-check responders for
 * the integration tests of lbd's checker.
 *
 *   lbt-hcresp --listen ADDR:PORT --mode MODE [--bytes N]
 *
 * Modes, for every accepted connection:
 *   pong    answers "PONG\r\n" to each read that contains "PING"
 *   flood   sends N bytes of garbage (default 10M) as fast as it can
 *   drip    sends one byte a second, forever
 *   rst     resets the connection at once (SO_LINGER 0)
 *   silent  accepts and never sends anything
 *
 * Prints "ready" once listening.  One process, poll(2), at most
 * HCR_MAX_CONNS connections (the oldest is dropped beyond that), so the
 * tool itself stays bounded whatever the checker does.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "lbt-util.h"

#define HCR_MAX_CONNS	64
#define HCR_CHUNK	65536

enum hcr_mode {
	HCR_PONG = 0,
	HCR_FLOOD = 1,
	HCR_DRIP = 2,
	HCR_RST = 3,
	HCR_SILENT = 4,
};

struct hcr_conn {
	int		fd;
	uint64_t	sent;
};

static enum hcr_mode	mode;
static uint64_t		flood_bytes = 10ull * 1024 * 1024;
static struct hcr_conn	conns[HCR_MAX_CONNS];

static void
usage(void)
{
	fprintf(stderr, "usage: lbt-hcresp --listen ADDR:PORT --mode "
	    "pong|flood|drip|rst|silent [--bytes N]\n");
	exit(2);
}

static int
hcr_listen(const char *addr)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, on = 1;

	if (lbt_parse_addr(addr, &ss, &len) == -1)
		usage();
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 128) == -1 || lbt_nonblock(fd) == -1) {
		fprintf(stderr, "lbt-hcresp: listen %s: %s\n", addr,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static void
hcr_close(struct hcr_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->sent = 0;
}

/* Accepts what is pending; rst mode resets each one at once. */
static void
hcr_accept(int lfd)
{
	struct linger	lg = { 1, 0 };
	int		fd, i, k;

	for (k = 0; k < 32; k++) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			return;
		if (mode == HCR_RST) {
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			continue;
		}
		lbt_nonblock(fd);
		for (i = 0; i < HCR_MAX_CONNS && conns[i].fd != -1; i++)
			;
		if (i == HCR_MAX_CONNS) {
			i = 0;
			hcr_close(&conns[0]);
		}
		conns[i].fd = fd;
		conns[i].sent = 0;
	}
}

/* One connection is readable or writable.  Returns -1 to close it. */
static int
hcr_serve(struct hcr_conn *c, short rev, bool drip_due)
{
	static unsigned char	 buf[HCR_CHUNK];
	ssize_t			 n;
	size_t			 want;

	if (rev & POLLIN) {
		n = read(c->fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (n > 0 && mode == HCR_PONG &&
		    memmem(buf, (size_t)n, "PING", 4) != NULL &&
		    write(c->fd, "PONG\r\n", 6) == -1)
			return -1;
	}
	if (mode == HCR_FLOOD && (rev & POLLOUT) && c->sent < flood_bytes) {
		want = flood_bytes - c->sent < sizeof(buf) ?
		    (size_t)(flood_bytes - c->sent) : sizeof(buf);
		memset(buf, 'g', want);
		n = send(c->fd, buf, want, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0)
			c->sent += (uint64_t)n;
	}
	if (mode == HCR_DRIP && drip_due &&
	    send(c->fd, "x", 1, MSG_NOSIGNAL) == -1 && errno != EAGAIN)
		return -1;
	return 0;
}

static void
hcr_loop(int lfd)
{
	struct pollfd	 pfd[HCR_MAX_CONNS + 1];
	int		 map[HCR_MAX_CONNS + 1];
	int64_t		 next_drip = lbt_now_ms() + 1000;
	int		 i, n;
	bool		 due;

	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		n = 1;
		for (i = 0; i < HCR_MAX_CONNS; i++) {
			if (conns[i].fd == -1)
				continue;
			pfd[n].fd = conns[i].fd;
			pfd[n].events = POLLIN;
			if (mode == HCR_FLOOD && conns[i].sent < flood_bytes)
				pfd[n].events |= POLLOUT;
			map[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, 100) == -1 && errno != EINTR)
			exit(1);
		due = lbt_now_ms() >= next_drip;
		if (due)
			next_drip = lbt_now_ms() + 1000;
		if (pfd[0].revents & POLLIN)
			hcr_accept(lfd);
		for (i = 1; i < n; i++)
			if (hcr_serve(&conns[map[i]], pfd[i].revents, due) == -1 ||
			    (pfd[i].revents & (POLLERR | POLLHUP)))
				hcr_close(&conns[map[i]]);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "bytes", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "pong", "flood", "drip", "rst",
	    "silent" };
	const char	*listen_at = NULL, *m = "pong";
	int		 c, i, lfd;
	bool		 found = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			listen_at = optarg;
		else if (c == 'm')
			m = optarg;
		else if (c == 'b') {
			if (lbt_parse_size(optarg) < 0)
				usage();
			flood_bytes = (uint64_t)lbt_parse_size(optarg);
		}
		else
			usage();
	}
	if (listen_at == NULL)
		usage();
	for (i = 0; i < 5; i++)
		if (strcmp(m, names[i]) == 0) {
			mode = (enum hcr_mode)i;
			found = true;
		}
	if (!found)
		usage();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < HCR_MAX_CONNS; i++)
		conns[i].fd = -1;
	lfd = hcr_listen(listen_at);
	printf("ready\n");
	fflush(stdout);
	hcr_loop(lfd);
	return 0;
}
