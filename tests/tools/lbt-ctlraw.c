/*
 * lbt-ctlraw - writes raw bytes to a unix stream socket and prints what
 * comes back, for testing control sockets with garbage, oversized and
 * half-written requests that lbctl would never send.
 *
 *   lbt-ctlraw SOCKET [-t MS] [--keep] [--split N --pause MS] < BYTES
 *
 * Reads all of stdin (at most 1 MiB), connects, writes it (with --split N:
 * the first N bytes, a pause of --pause MS, then the rest), shuts down
 * its writing side unless --keep, then copies the reply to stdout until
 * EOF or -t MS (default 3000) pass without an end.  Exit 0 when the
 * daemon closed the connection (EOF), 1 on timeout, 3 when the socket
 * could not be reached, 2 on usage errors.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lbt-util.h"

#define RAW_MAX	(1u << 20)

static int
raw_usage(void)
{
	fprintf(stderr, "usage: lbt-ctlraw SOCKET [-t MS] [--keep] "
	    "[--split N --pause MS] < BYTES\n");
	return 2;
}

/* Writes all of p (blocking socket); 0 or -1. */
static int
raw_write(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copies the reply to stdout until EOF (0) or the deadline (1). */
static int
raw_read(int fd, int64_t deadline)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 buf[65536];
	ssize_t		 r;
	int64_t		 left;

	for (;;) {
		left = deadline - lbt_now_ms();
		if (left <= 0)
			return 1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;	/* EOF or reset: the daemon closed */
		fwrite(buf, 1, (size_t)r, stdout);
		fflush(stdout);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	char			*in;
	size_t			 n = 0, split = 0;
	long			 tmo = 3000, pause_ms = 0;
	int			 i, fd, keep = 0;
	ssize_t			 r;

	if (argc < 2)
		return raw_usage();
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0)
			keep = 1;
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			tmo = atol(argv[++i]);
		else if (strcmp(argv[i], "--split") == 0 && i + 1 < argc)
			split = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--pause") == 0 && i + 1 < argc)
			pause_ms = atol(argv[++i]);
		else
			return raw_usage();
	}
	if ((in = malloc(RAW_MAX)) == NULL)
		return 1;
	while (n < RAW_MAX && (r = read(0, in + n, RAW_MAX - n)) > 0)
		n += (size_t)r;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path))
		return raw_usage();
	strcpy(sun.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		fprintf(stderr, "lbt-ctlraw: %s: %s\n", argv[1],
		    strerror(errno));
		return 3;
	}
	if (split > n)
		split = n;
	/* A peer that closes early makes later writes fail: keep reading. */
	if (split > 0) {
		(void)raw_write(fd, in, split);
		(void)poll(NULL, 0, (int)pause_ms);
	}
	(void)raw_write(fd, in + split, n - split);
	if (!keep)
		shutdown(fd, SHUT_WR);
	free(in);
	return raw_read(fd, lbt_now_ms() + tmo);
}
