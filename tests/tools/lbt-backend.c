/*
 * lbt-backend - a test backend for lb: a single-threaded epoll TCP server
 * that answers every connection with its own name, so a client can tell
 * which backend lbd picked.
 *
 * Usage:
 *   lbt-backend --listen ADDR:PORT --name NAME [--mode MODE]
 *               [--bytes N] [--seed S] [--pidfile FILE]
 *
 * On accept it always sends "NAME\n" first, then by MODE:
 *   echo       echo every byte; on the client's EOF finish echoing, shut
 *              the write side and close (the default)
 *   sink       read and discard everything
 *   hold       never read (fills the client's path: flow-control tests);
 *              closes when the client closes
 *   rst        close at once with SO_LINGER 0 (the client sees a reset)
 *   shutfirst  send N (--bytes) pseudo-random bytes from seed S, shut the
 *              write side, keep reading until the client's EOF, then print
 *              "peer_eof name=NAME bytes=B sha256=HEX" and close
 *
 * It prints "ready" on stdout once listening, and "accepted N" when it
 * exits on SIGTERM or SIGINT (exit status 0).  One slow client never
 * blocks the others: every socket is non-blocking and each wake-up does a
 * bounded amount of work per connection.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lbt-util.h"

#define BUF_SIZE	65536
#define MAX_EVENTS	256
#define ROUNDS		16	/* read/write rounds per wake-up, for fairness */

enum mode {
	MODE_ECHO = 0,
	MODE_SINK,
	MODE_HOLD,
	MODE_RST,
	MODE_SHUTFIRST,
};

struct conn {
	int		 fd;
	uint32_t	 events;	/* interest currently registered */
	unsigned char	*buf;		/* pending output */
	size_t		 off, len;
	bool		 rd_eof;
	bool		 wr_shut;
	long long	 tosend;	/* shutfirst: pattern bytes left */
	long long	 nread;
	struct lbt_rng	 rng;
	EVP_MD_CTX	*sha;		/* shutfirst: hash of what came in */
	struct conn	*prev, *next;	/* all open ones, freed at exit */
};

static const char	*name = "backend";
static enum mode	 mode = MODE_ECHO;
static long long	 opt_bytes = 1 << 20;
static uint64_t		 opt_seed = 1;
static int		 epfd = -1;
static long long	 accepted;
static struct conn	*conns;		/* list head */
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: lbt-backend --listen ADDR:PORT --name NAME "
	    "[--mode echo|sink|hold|rst|shutfirst] [--bytes N] [--seed S] "
	    "[--pidfile FILE]\n");
	exit(2);
}

static void
conn_close(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	close(c->fd);	/* also drops it from the epoll set */
	if (c->sha != NULL)
		EVP_MD_CTX_free(c->sha);
	free(c->buf);
	free(c);
}

/*
 * Registers the interest this connection needs now.  Echo reads only with
 * an empty buffer, which is what gives the client back-pressure.
 */
static void
conn_want(struct conn *c)
{
	/* Only hold wants RDHUP: level-triggered, it would spin the rest. */
	uint32_t ev = mode == MODE_HOLD ? EPOLLRDHUP : 0;
	bool out = c->off < c->len || (c->tosend > 0 && !c->wr_shut);

	if (out)
		ev |= EPOLLOUT;
	switch (mode) {
	case MODE_ECHO:
		if (!out && !c->rd_eof)
			ev |= EPOLLIN;
		break;
	case MODE_SINK:
	case MODE_SHUTFIRST:
		if (!c->rd_eof)
			ev |= EPOLLIN;
		break;
	default:
		break;
	}
	if (ev != c->events) {
		struct epoll_event e = { .events = ev, .data.ptr = c };

		(void)epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
		c->events = ev;
	}
}

/*
 * Writes pending output, refilling from the pattern in shutfirst mode.
 * Returns 1 when all is written, 0 when the socket is full, -1 on error.
 */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->off == c->len && c->tosend > 0 && !c->wr_shut) {
			size_t k = c->tosend < BUF_SIZE ? (size_t)c->tosend :
			    BUF_SIZE;

			lbt_rng_fill(&c->rng, c->buf, k);
			c->off = 0;
			c->len = k;
			c->tosend -= (long long)k;
		}
		if (c->off == c->len)
			return 1;
		n = send(c->fd, c->buf + c->off, c->len - c->off,
		    MSG_NOSIGNAL);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->off += (size_t)n;
		if (c->off == c->len)
			c->off = c->len = 0;
	}
}

/* Echo mode: one wake-up.  Returns -1 when the connection is done. */
static int
handle_echo(struct conn *c)
{
	ssize_t n;
	int i, r;

	for (i = 0; i < ROUNDS; i++) {
		if ((r = conn_flush(c)) <= 0)
			return r;
		if (c->rd_eof) {
			(void)shutdown(c->fd, SHUT_WR);
			return -1;
		}
		n = recv(c->fd, c->buf, BUF_SIZE, 0);
		if (n == 0)
			c->rd_eof = true;
		else if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		else {
			c->off = 0;
			c->len = (size_t)n;
			c->nread += n;
		}
	}
	/* EOF seen in the last round with nothing left: no event would come */
	if (c->rd_eof && c->off == c->len) {
		(void)shutdown(c->fd, SHUT_WR);
		return -1;
	}
	return 0;
}

/*
 * Reads and discards (sink) or hashes (shutfirst) what the client sends.
 * Returns 1 at EOF, 0 when drained for now, -1 on error.
 */
static int
drain_input(struct conn *c)
{
	unsigned char tmp[BUF_SIZE];
	ssize_t n;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		n = recv(c->fd, tmp, sizeof(tmp), 0);
		if (n == 0) {
			c->rd_eof = true;
			return 1;
		}
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->nread += n;
		if (c->sha != NULL)
			EVP_DigestUpdate(c->sha, tmp, (size_t)n);
	}
	return 0;
}

/* Prints the shutfirst result line for a client that sent its EOF. */
static void
report_peer_eof(struct conn *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	EVP_DigestFinal_ex(c->sha, md, &mdlen);
	printf("peer_eof name=%s bytes=%lld sha256=", name, c->nread);
	for (i = 0; i < mdlen; i++)
		printf("%02x", md[i]);
	printf("\n");
	fflush(stdout);
}

/* Sink and shutfirst: one wake-up.  Returns -1 when done. */
static int
handle_sink(struct conn *c)
{
	int r;

	if ((r = conn_flush(c)) == -1)
		return -1;
	if (mode == MODE_SHUTFIRST && r == 1 && !c->wr_shut) {
		(void)shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	if (!c->rd_eof && drain_input(c) == -1)
		return -1;
	if (!c->rd_eof)
		return 0;
	if (mode == MODE_SINK)
		return -1;
	if (!c->wr_shut)
		return 0;	/* still sending our part */
	report_peer_eof(c);
	return -1;
}

static void
handle_conn(struct conn *c, uint32_t ev)
{
	int r;

	switch (mode) {
	case MODE_ECHO:
		r = handle_echo(c);
		break;
	case MODE_SINK:
	case MODE_SHUTFIRST:
		r = handle_sink(c);
		break;
	default:
		/* hold: only wakes for the peer's close or an error */
		r = (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? -1 : 0;
		if (r == 0 && conn_flush(c) == -1)
			r = -1;
		break;
	}
	if (r == -1)
		conn_close(c);
	else
		conn_want(c);
}

/* Sends the name and resets the connection (rst mode). */
static void
reset_conn(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", name);

	(void)send(fd, line, (size_t)n, MSG_NOSIGNAL);
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Sets up one accepted socket.  Returns -1 when out of memory. */
static int
conn_new(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event e;

	if (c == NULL || (c->buf = malloc(BUF_SIZE)) == NULL) {
		free(c);
		return -1;
	}
	c->fd = fd;
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	c->len = (size_t)snprintf((char *)c->buf, BUF_SIZE, "%s\n", name);
	if (mode == MODE_SHUTFIRST) {
		c->tosend = opt_bytes;
		lbt_rng_init(&c->rng, opt_seed);
		c->sha = EVP_MD_CTX_new();
		if (c->sha == NULL ||
		    EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL) != 1) {
			conn_close(c);
			return -1;
		}
	}
	c->events = 0;
	e.events = 0;
	e.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) == -1) {
		conn_close(c);
		return -1;
	}
	handle_conn(c, 0);
	return 0;
}

/* Accepts what is queued, at most a batch per wake-up. */
static void
accept_some(int lfd)
{
	int i, fd;

	for (i = 0; i < MAX_EVENTS; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				perror("lbt-backend: accept");
			return;
		}
		accepted++;
		if (mode == MODE_RST)
			reset_conn(fd);
		else if (conn_new(fd) == -1)
			close(fd);
	}
}

/* Opens the listening socket.  Exits on failure (a test setup error). */
static int
open_listener(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	if (lbt_parse_addr(addr, &ss, &sl) == -1) {
		fprintf(stderr, "lbt-backend: bad address '%s'\n", addr);
		exit(2);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, 4096) == -1) {
		fprintf(stderr, "lbt-backend: listen %s: %s\n", addr,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static enum mode
parse_mode(const char *s)
{
	static const char *names[] = { "echo", "sink", "hold", "rst",
	    "shutfirst" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum mode)i;
	usage();
	return MODE_ECHO;
}

static void
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "lbt-backend: pidfile %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
}

static void
parse_args(int argc, char **argv, const char **listen_addr,
    const char **pidfile)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "l:n:m:b:s:p:", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l': *listen_addr = optarg; break;
		case 'n': name = optarg; break;
		case 'm': mode = parse_mode(optarg); break;
		case 'b':
			if ((opt_bytes = lbt_parse_size(optarg)) < 0)
				usage();
			break;
		case 's': opt_seed = strtoull(optarg, NULL, 10); break;
		case 'p': *pidfile = optarg; break;
		default: usage();
		}
	}
	if (*listen_addr == NULL || optind != argc || strlen(name) > 200)
		usage();
}

int
main(int argc, char **argv)
{
	const char *listen_addr = NULL, *pidfile = NULL;
	struct epoll_event evs[MAX_EVENTS], e;
	struct sigaction sa;
	int lfd, n, i;

	parse_args(argc, argv, &listen_addr, &pidfile);
	lbt_raise_nofile();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: epoll_wait wakes */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = open_listener(listen_addr);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("lbt-backend: epoll_create1");
		return 1;
	}
	e.events = EPOLLIN;
	e.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e);
	if (pidfile != NULL)
		write_pidfile(pidfile);
	printf("ready\n");
	fflush(stdout);

	/* The timeout only bounds how late a signal can be noticed. */
	while (!stop) {
		n = epoll_wait(epfd, evs, MAX_EVENTS, 500);
		for (i = 0; i < n && !stop; i++) {
			if (evs[i].data.ptr == NULL)
				accept_some(lfd);
			else
				handle_conn(evs[i].data.ptr, evs[i].events);
		}
	}
	printf("accepted %lld\n", accepted);
	fflush(stdout);
	while (conns != NULL)
		conn_close(conns);
	close(epfd);
	close(lfd);
	return 0;
}
