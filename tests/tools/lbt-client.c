/*
 * lbt-client - the test client for lb.  Every backend (lbt-backend)
 * starts a connection with "NAME\n", so the client can say who answered.
 * Every wait is bounded: --timeout MS (default 5000) per connect and per
 * read/write without progress, --max-time S (default 120) per run.
 *
 * Usage: lbt-client COMMAND ADDR:PORT [options]
 *   who       -n N [-c CONC]    N connections, CONC at a time (default
 *             1), each reads the name and closes; prints "NAME COUNT"
 *             lines then "failed F (connect= closed= timeout=)"; exit 0
 *             iff F == 0
 *   hold      -n N [-c CONC] [-t S] [--cmd]   opens N connections (all
 *             at once, or CONC at a time: -c 1 is strictly one after the
 *             other), prints "open NAME" for each and "held N failed F",
 *             keeps them S seconds (default 60) or until SIGTERM; prints
 *             "peer_closed NAME" when the other side closes one.  With
 *             --cmd it reads commands on stdin: "close NAME" (prints
 *             "closed NAME K"), "count" (prints "open K"), "quit"; EOF on
 *             stdin ends it too
 *   bulk      -b BYTES [--wait-file F]   reads the name, sends BYTES
 *             pseudo-random bytes while reading the echo back, checks the
 *             echo byte for byte and by SHA-256; exit 0 iff equal.  With
 *             --wait-file it prints "connected NAME" and waits for F to
 *             exist before sending
 *   halfclose -b BYTES   like bulk, but shuts its write side right after
 *             the last byte and needs the whole echo and then EOF
 *   servershut -b EXPECT -s SEND   for a "shutfirst" backend: reads the
 *             name, EXPECT pattern bytes and EOF, then sends SEND bytes
 *             and shuts; prints "sent N sha256=HEX", which the backend's
 *             "peer_eof" line must match
 *   idle      reads the name then waits for the peer to close; prints
 *             "closed_after_ms MS"; exit 1 if it stays open --max-time
 *   trickle   -t S [--interval MS]   sends one byte every MS (250) for S
 *             seconds, each echoed before the next; exit 0 iff it stayed
 *             open all along
 *   push      -b MAX [--wait-file F]   sends without reading until the
 *             path stalls (--timeout ms without progress): prints
 *             "stalled_after N" (exit 0) or "sent_all N" (exit 1); with
 *             --wait-file it then keeps the connection until F exists
 * Common options: --seed S (pattern seed, default 1), -q (hold: no
 * "open NAME" lines).
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lbt-util.h"

#define NAME_MAX_LEN	200
#define MAX_NAMES	64
#define CHUNK		65536

enum result {
	RES_PENDING = 0,
	RES_OK,
	RES_CONNECT,	/* connect failed (refused, unreachable) */
	RES_CLOSED,	/* EOF or reset before a full name line */
	RES_TIMEOUT,
};

enum pstate {
	P_IDLE = 0,
	P_CONNECTING,
	P_READING,
};

/* One connection that is getting (or got) its name line. */
struct probe {
	int		 fd;
	enum pstate	 state;
	enum result	 result;
	int64_t		 deadline;
	size_t		 ll;
	char		 line[NAME_MAX_LEN + 2];
};

struct opts {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	long			 n, conc;
	long long		 bytes, send_bytes;
	int			 timeout_ms;
	int			 interval_ms;
	int64_t			 max_ms;
	long			 hold_s;
	uint64_t		 seed;
	const char		*wait_file;
	bool			 cmd, quiet;
};

struct tent {
	char	name[NAME_MAX_LEN + 2];
	long	count;
};

struct tally {
	struct tent	e[MAX_NAMES];
	int		n;
	long		fail[RES_TIMEOUT + 1];
};

static struct opts	 o;
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
	fprintf(stderr, "usage: lbt-client who|hold|bulk|halfclose|servershut"
	    "|idle|trickle|push ADDR:PORT\n"
	    "       [-n N] [-c CONC] [-t S] [-b BYTES] [-s BYTES] [--cmd]\n"
	    "       [--timeout MS] [--max-time S] [--seed S] [--wait-file F]\n"
	    "       [--interval MS] [-q]\n");
	exit(2);
}

static void
tally_add(struct tally *t, const char *name)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->e[i].name, name) == 0)
			break;
	if (i == t->n) {
		if (t->n == MAX_NAMES)
			i = MAX_NAMES - 1;	/* absurd: lump the rest */
		else
			snprintf(t->e[t->n++].name, sizeof(t->e[0].name), "%s",
			    name);
	}
	t->e[i].count++;
}

static long
tally_failed(const struct tally *t)
{
	return t->fail[RES_CONNECT] + t->fail[RES_CLOSED] + t->fail[RES_TIMEOUT];
}

static int
cmp_tent(const void *a, const void *b)
{
	return strcmp(((const struct tent *)a)->name,
	    ((const struct tent *)b)->name);
}

/* Prints "NAME COUNT" sorted by name, then the failure line. */
static void
tally_print(struct tally *t)
{
	int i;

	qsort(t->e, (size_t)t->n, sizeof(t->e[0]), cmp_tent);
	for (i = 0; i < t->n; i++)
		printf("%s %ld\n", t->e[i].name, t->e[i].count);
	printf("failed %ld (connect=%ld closed=%ld timeout=%ld)\n",
	    tally_failed(t), t->fail[RES_CONNECT], t->fail[RES_CLOSED],
	    t->fail[RES_TIMEOUT]);
	fflush(stdout);
}

/* Starts a non-blocking connect.  Sets p->result on immediate failure. */
static void
probe_start(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->state = P_CONNECTING;	/* anything but P_IDLE: slot in use */
	p->deadline = lbt_now_ms() + o.timeout_ms;
	p->fd = socket(o.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (p->fd == -1) {
		perror("lbt-client: socket");
		p->result = RES_CONNECT;
		return;
	}
	if (connect(p->fd, (struct sockaddr *)&o.addr, o.addrlen) == 0)
		p->state = P_READING;
	else if (errno == EINPROGRESS)
		p->state = P_CONNECTING;
	else
		p->result = RES_CONNECT;
}

/*
 * Reads the name line without consuming anything after the newline (the
 * rest is payload for bulk and friends): peek, then take up to '\n'.
 */
static void
probe_read(struct probe *p)
{
	char tmp[NAME_MAX_LEN + 2];
	size_t room = sizeof(p->line) - 1 - p->ll, take;
	ssize_t n = recv(p->fd, tmp, room, MSG_PEEK);
	char *nl;

	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		p->result = RES_CLOSED;
		return;
	}
	if (n == -1)
		return;
	nl = memchr(tmp, '\n', (size_t)n);
	take = nl != NULL ? (size_t)(nl - tmp) + 1 : (size_t)n;
	if (recv(p->fd, p->line + p->ll, take, 0) != (ssize_t)take) {
		p->result = RES_CLOSED;
		return;
	}
	p->ll += take;
	p->line[p->ll] = '\0';
	if (nl != NULL) {
		p->line[p->ll - 1] = '\0';
		p->result = RES_OK;
	} else if (p->ll >= sizeof(p->line) - 1)
		p->result = RES_CLOSED;	/* no newline: not one of ours */
}

/* Advances a probe after poll said revents. */
static void
probe_step(struct probe *p, short revents)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (p->state == P_CONNECTING) {
		if (revents == 0)
			return;
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			err = errno;
		if (err != 0) {
			/* a reset after the handshake is a close, not a refusal */
			p->result = err == ECONNRESET || err == EPIPE ?
			    RES_CLOSED : RES_CONNECT;
			return;
		}
		p->state = P_READING;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		probe_read(p);
}

static short
probe_events(const struct probe *p)
{
	return p->state == P_CONNECTING ? POLLOUT : POLLIN;
}

/*
 * Runs n probes, at most conc at a time.  done() gets each finished probe
 * and owns its fd from then on.  Returns when all are done or on SIGTERM.
 */
static void
run_probes(long n, long conc, void (*done)(struct probe *, void *),
    void *arg)
{
	struct probe *ps = calloc((size_t)conc, sizeof(*ps));
	struct pollfd *pfd = calloc((size_t)conc, sizeof(*pfd));
	long started = 0, finished = 0, i;

	if (ps == NULL || pfd == NULL) {
		perror("lbt-client: calloc");
		exit(1);
	}
	for (i = 0; i < conc; i++)
		ps[i].fd = -1;	/* state P_IDLE from calloc */
	while (finished < n && !stop) {
		for (i = 0; i < conc; i++) {
			struct probe *p = &ps[i];

			if (p->state == P_IDLE) {
				if (started == n) {
					pfd[i].fd = -1;	/* slot stays empty */
					continue;
				}
				probe_start(p);
				started++;
			}
			if (p->result == RES_PENDING &&
			    lbt_now_ms() > p->deadline)
				p->result = RES_TIMEOUT;
			if (p->result != RES_PENDING) {
				done(p, arg);
				finished++;
				memset(p, 0, sizeof(*p));
				p->fd = -1;
				i--;	/* refill this slot now */
				continue;
			}
			pfd[i].fd = p->fd;
			pfd[i].events = p->fd == -1 ? 0 : probe_events(p);
			pfd[i].revents = 0;
		}
		if (finished >= n)
			break;
		if (poll(pfd, (nfds_t)conc, 50) > 0)
			for (i = 0; i < conc; i++)
				if (ps[i].fd != -1 && pfd[i].revents)
					probe_step(&ps[i], pfd[i].revents);
	}
	free(ps);
	free(pfd);
}

static void
who_done(struct probe *p, void *arg)
{
	struct tally *t = arg;

	if (p->result == RES_OK)
		tally_add(t, p->line);
	else
		t->fail[p->result]++;
	if (p->fd != -1)
		close(p->fd);
}

static int
cmd_who(void)
{
	static struct tally t;

	run_probes(o.n, o.conc == 0 ? 1 : o.conc < o.n ? o.conc : o.n,
	    who_done, &t);
	tally_print(&t);
	return tally_failed(&t) == 0 && !stop ? 0 : 1;
}

/* A connection that hold keeps open. */
struct held {
	int	fd;
	char	name[NAME_MAX_LEN + 2];
};

struct holdset {
	struct held	*h;
	long		 n;
	struct tally	 t;
};

static void
hold_done(struct probe *p, void *arg)
{
	struct holdset *hs = arg;

	if (p->result != RES_OK) {
		hs->t.fail[p->result]++;
		if (p->fd != -1)
			close(p->fd);
		return;
	}
	hs->h[hs->n].fd = p->fd;
	snprintf(hs->h[hs->n].name, sizeof(hs->h[0].name), "%s", p->line);
	hs->n++;
	tally_add(&hs->t, p->line);
	if (!o.quiet)
		printf("open %s\n", p->line);
}

/* Closes every open held connection named name; returns how many. */
static long
hold_close_name(struct holdset *hs, const char *name)
{
	long i, k = 0;

	for (i = 0; i < hs->n; i++)
		if (hs->h[i].fd != -1 && strcmp(hs->h[i].name, name) == 0) {
			close(hs->h[i].fd);
			hs->h[i].fd = -1;
			k++;
		}
	return k;
}

static long
hold_count(const struct holdset *hs)
{
	long i, k = 0;

	for (i = 0; i < hs->n; i++)
		k += hs->h[i].fd != -1;
	return k;
}

/*
 * Handles what is readable on stdin: one command per line.  Returns -1
 * on EOF or "quit".
 */
static int
hold_commands(struct holdset *hs, char *buf, size_t *blen, size_t cap)
{
	ssize_t n = read(0, buf + *blen, cap - 1 - *blen);
	char *nl;

	if (n <= 0)
		return n == -1 && errno == EINTR ? 0 : -1;
	*blen += (size_t)n;
	buf[*blen] = '\0';
	while ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		if (strncmp(buf, "close ", 6) == 0)
			printf("closed %s %ld\n", buf + 6,
			    hold_close_name(hs, buf + 6));
		else if (strcmp(buf, "count") == 0)
			printf("open %ld\n", hold_count(hs));
		else if (strcmp(buf, "quit") == 0)
			return -1;
		else if (buf[0] != '\0')
			printf("error unknown command '%s'\n", buf);
		fflush(stdout);
		*blen -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, *blen + 1);
	}
	if (*blen >= cap - 1)
		*blen = 0;	/* an overlong line: drop it */
	return 0;
}

/* Reads from one held connection; notes and closes it on EOF or error. */
static long
hold_read(struct held *h)
{
	char tmp[4096];
	ssize_t n = recv(h->fd, tmp, sizeof(tmp), 0);

	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return 0;
	printf("peer_closed %s\n", h->name);
	fflush(stdout);
	close(h->fd);
	h->fd = -1;
	return 1;
}

/* Keeps the held set open until the time is up, SIGTERM or quit. */
static long
hold_wait(struct holdset *hs)
{
	struct pollfd *pfd = calloc((size_t)hs->n + 1, sizeof(*pfd));
	int64_t end = lbt_now_ms() + (int64_t)o.hold_s * 1000;
	char cbuf[1024];
	size_t clen = 0;
	long i, peer_closed = 0;
	bool cmd = o.cmd;

	if (pfd == NULL)
		exit(1);
	while (!stop && lbt_now_ms() < end) {
		for (i = 0; i < hs->n; i++) {
			pfd[i].fd = hs->h[i].fd;
			pfd[i].events = POLLIN;
		}
		pfd[hs->n].fd = cmd ? 0 : -1;
		pfd[hs->n].events = POLLIN;
		if (poll(pfd, (nfds_t)hs->n + 1, 100) <= 0)
			continue;
		for (i = 0; i < hs->n; i++)
			if (hs->h[i].fd != -1 && pfd[i].revents)
				peer_closed += hold_read(&hs->h[i]);
		if (cmd && pfd[hs->n].revents &&
		    hold_commands(hs, cbuf, &clen, sizeof(cbuf)) == -1)
			break;
	}
	free(pfd);
	return peer_closed;
}

static int
cmd_hold(void)
{
	static struct holdset hs;
	long pc, i;

	hs.h = calloc((size_t)o.n, sizeof(*hs.h));
	if (hs.h == NULL)
		exit(1);
	/* all at once unless -c says otherwise (-c 1: one after another) */
	run_probes(o.n, o.conc > 0 && o.conc < o.n ? o.conc : o.n,
	    hold_done, &hs);
	printf("held %ld failed %ld (connect=%ld closed=%ld timeout=%ld)\n",
	    hs.n, tally_failed(&hs.t), hs.t.fail[RES_CONNECT],
	    hs.t.fail[RES_CLOSED], hs.t.fail[RES_TIMEOUT]);
	fflush(stdout);
	pc = hold_wait(&hs);
	printf("end open %ld peer_closed %ld\n", hold_count(&hs), pc);
	fflush(stdout);
	for (i = 0; i < hs.n; i++)
		if (hs.h[i].fd != -1)
			close(hs.h[i].fd);
	free(hs.h);
	return tally_failed(&hs.t) == 0 ? 0 : 1;
}

/* Connects one probe and waits for its name.  Returns 0 or -1. */
static int
connect_named(struct probe *p)
{
	struct pollfd pfd;

	probe_start(p);
	while (p->result == RES_PENDING && !stop) {
		if (lbt_now_ms() > p->deadline) {
			p->result = RES_TIMEOUT;
			break;
		}
		pfd.fd = p->fd;
		pfd.events = probe_events(p);
		if (poll(&pfd, 1, 50) > 0)
			probe_step(p, pfd.revents);
	}
	if (p->result == RES_OK)
		return 0;
	fprintf(stderr, "lbt-client: no name from the server (%s)\n",
	    p->result == RES_CONNECT ? "connect failed" :
	    p->result == RES_CLOSED ? "closed" : "timeout");
	printf("FAIL no name\n");
	if (p->fd != -1)
		close(p->fd);
	return -1;
}

/* Waits, bounded by --max-time, for the file named by --wait-file. */
static int
wait_for_file(const char *path, const char *name)
{
	int64_t end = lbt_now_ms() + o.max_ms;
	struct stat st;

	printf("connected %s\n", name);
	fflush(stdout);
	while (stat(path, &st) == -1) {
		if (stop || lbt_now_ms() > end)
			return -1;
		(void)poll(NULL, 0, 20);
	}
	return 0;
}

static void
print_sha(const char *label, long long n, EVP_MD_CTX *ctx)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	EVP_DigestFinal_ex(ctx, md, &len);
	printf("%s %lld sha256=", label, n);
	for (i = 0; i < len; i++)
		printf("%02x", md[i]);
	printf("\n");
}

/* One direction of a transfer: a stream of pattern bytes and a hash. */
struct stream {
	struct lbt_rng	 rng;
	EVP_MD_CTX	*sha;
	long long	 done;
	unsigned char	 buf[CHUNK];
	size_t		 off, len;
};

static void
stream_init(struct stream *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	lbt_rng_init(&s->rng, seed);
	s->sha = EVP_MD_CTX_new();
	if (s->sha == NULL ||
	    EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "lbt-client: EVP init failed\n");
		exit(1);
	}
}

/*
 * Sends from the pattern stream until total or a full socket.  Returns
 * bytes sent this call, or -1 on error.
 */
static long long
stream_send(int fd, struct stream *s, long long total)
{
	long long sent = 0;
	ssize_t n;

	while (s->done < total) {
		if (s->off == s->len) {
			long long left = total - s->done;

			s->len = left < CHUNK ? (size_t)left : CHUNK;
			s->off = 0;
			lbt_rng_fill(&s->rng, s->buf, s->len);
			EVP_DigestUpdate(s->sha, s->buf, s->len);
		}
		n = send(fd, s->buf + s->off, s->len - s->off, MSG_NOSIGNAL);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? sent : -1;
		s->off += (size_t)n;
		s->done += n;
		sent += n;
		if (s->off == s->len)
			s->off = s->len = 0;
	}
	return sent;
}

/*
 * Receives and checks against the pattern stream.  Returns bytes read
 * this call (0 with *eof set at EOF), or -1 on error or mismatch.
 */
static long long
stream_recv(int fd, struct stream *s, long long total, bool *eof)
{
	unsigned char in[CHUNK];
	ssize_t n = recv(fd, in, sizeof(in), 0);

	if (n == 0) {
		*eof = true;
		return 0;
	}
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (s->done + n > total) {
		fprintf(stderr, "lbt-client: %lld bytes more than the %lld "
		    "sent\n", s->done + n - total, total);
		return -1;
	}
	lbt_rng_fill(&s->rng, s->buf, (size_t)n);
	if (memcmp(in, s->buf, (size_t)n) != 0) {
		fprintf(stderr, "lbt-client: data differs near byte %lld\n",
		    s->done);
		return -1;
	}
	EVP_DigestUpdate(s->sha, in, (size_t)n);
	s->done += n;
	return n;
}

/*
 * The bulk / halfclose loop: send tx->total while checking the echo.
 * Returns 0 when everything came back (and EOF when half), else -1.
 */
static int
xfer_loop(int fd, struct stream *tx, struct stream *rx, bool half)
{
	int64_t start = lbt_now_ms(), last = start;
	bool eof = false, shut = false;
	struct pollfd pfd = { .fd = fd };
	long long n, m;

	while (!stop) {
		if (half && !shut && tx->done == o.bytes) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		if (rx->done == o.bytes && (!half || eof))
			return 0;
		if (eof) {
			fprintf(stderr, "lbt-client: EOF after %lld of %lld "
			    "bytes\n", rx->done, o.bytes);
			return -1;
		}
		pfd.events = POLLIN | (tx->done < o.bytes ? POLLOUT : 0);
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR)
			return -1;
		n = (pfd.revents & (POLLOUT | POLLERR)) ?
		    stream_send(fd, tx, o.bytes) : 0;
		m = (pfd.revents & (POLLIN | POLLERR | POLLHUP)) ?
		    stream_recv(fd, rx, o.bytes, &eof) : 0;
		if (n == -1 || m == -1)
			return -1;
		if (n > 0 || m > 0 || eof)
			last = lbt_now_ms();
		if (lbt_now_ms() - last > o.timeout_ms ||
		    lbt_now_ms() - start > o.max_ms) {
			fprintf(stderr, "lbt-client: stalled at sent %lld "
			    "received %lld\n", tx->done, rx->done);
			return -1;
		}
	}
	return -1;
}

static int
cmd_xfer(bool half)
{
	static struct stream tx, rx;
	struct probe p;
	int r;

	if (connect_named(&p) == -1)
		return 1;
	if (o.wait_file != NULL && wait_for_file(o.wait_file, p.line) == -1) {
		printf("FAIL wait-file\n");
		return 1;
	}
	stream_init(&tx, o.seed);
	stream_init(&rx, o.seed);
	r = xfer_loop(p.fd, &tx, &rx, half);
	close(p.fd);
	printf("name %s\n", p.line);
	print_sha("sent", tx.done, tx.sha);
	print_sha("received", rx.done, rx.sha);
	printf("%s\n", r == 0 ? "ok" : "FAIL");
	return r == 0 ? 0 : 1;
}

/* Waits (bounded) until the kernel has our sent bytes acknowledged. */
static void
wait_acked(int fd)
{
	int64_t end = lbt_now_ms() + o.timeout_ms;
	int q = 0;

	while (ioctl(fd, SIOCOUTQ, &q) == 0 && q > 0 && lbt_now_ms() < end)
		(void)poll(NULL, 0, 10);
}

/* Sends all of o.send_bytes, bounded by --timeout without progress. */
static int
xfer_send_all(int fd, struct stream *tx)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int64_t last = lbt_now_ms();
	long long n;

	while (tx->done < o.send_bytes && !stop) {
		if (lbt_now_ms() - last > o.timeout_ms)
			return -1;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = stream_send(fd, tx, o.send_bytes)) == -1)
			return -1;
		if (n > 0)
			last = lbt_now_ms();
	}
	return tx->done == o.send_bytes ? 0 : -1;
}

/*
 * idle: waits for the other side to close a connection we leave idle.
 * Prints the milliseconds from the name to the close.
 */
static int
cmd_idle(void)
{
	struct pollfd pfd;
	struct probe p;
	int64_t t0, end;
	char tmp[4096];
	ssize_t n;

	if (connect_named(&p) == -1)
		return 1;
	t0 = lbt_now_ms();
	end = t0 + o.max_ms;
	pfd.fd = p.fd;
	pfd.events = POLLIN;
	while (!stop && lbt_now_ms() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(p.fd, tmp, sizeof(tmp), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			printf("name %s\nclosed_after_ms %lld\n", p.line,
			    (long long)(lbt_now_ms() - t0));
			close(p.fd);
			return 0;
		}
	}
	printf("name %s\nFAIL still open after %lld ms\n", p.line,
	    (long long)(lbt_now_ms() - t0));
	close(p.fd);
	return 1;
}

/*
 * servershut: the backend sends o.bytes then shuts; we check them and
 * the EOF, and only then send o.send_bytes (seed + 1) and shut.
 */
static int
cmd_servershut(void)
{
	static struct stream tx, rx;
	struct pollfd pfd;
	struct probe p;
	bool eof = false;
	int64_t last;
	long long m;

	if (connect_named(&p) == -1)
		return 1;
	stream_init(&rx, o.seed);
	stream_init(&tx, o.seed + 1);
	pfd.fd = p.fd;
	last = lbt_now_ms();
	while (!eof && !stop && lbt_now_ms() - last < o.timeout_ms) {
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((m = stream_recv(p.fd, &rx, o.bytes, &eof)) == -1)
			break;
		last = lbt_now_ms();
	}
	printf("name %s\n", p.line);
	print_sha("received", rx.done, rx.sha);
	if (!eof || rx.done != o.bytes) {
		printf("FAIL no EOF after %lld of %lld bytes\n", rx.done,
		    o.bytes);
		close(p.fd);
		return 1;
	}
	if (xfer_send_all(p.fd, &tx) == -1) {
		printf("FAIL send after EOF stopped at %lld\n", tx.done);
		close(p.fd);
		return 1;
	}
	shutdown(p.fd, SHUT_WR);
	wait_acked(p.fd);
	close(p.fd);
	print_sha("sent", tx.done, tx.sha);
	printf("ok\n");
	return 0;
}

/*
 * trickle: keeps a connection busy with one byte every --interval ms for
 * -t seconds, each echoed back before the next.  Exit 0 iff the
 * connection lived through it (an idle timer must not fire on it).
 */
static int
cmd_trickle(void)
{
	static struct stream tx, rx;
	struct pollfd pfd;
	struct probe p;
	int64_t end;
	bool eof = false;

	if (connect_named(&p) == -1)
		return 1;
	stream_init(&tx, o.seed);
	stream_init(&rx, o.seed);
	end = lbt_now_ms() + (int64_t)o.hold_s * 1000;
	pfd.fd = p.fd;
	pfd.events = POLLIN;
	while (!stop && lbt_now_ms() < end) {
		int64_t due = lbt_now_ms() + o.timeout_ms;

		if (stream_send(p.fd, &tx, tx.done + 1) != 1)
			break;
		while (rx.done < tx.done && !eof && lbt_now_ms() < due)
			if (poll(&pfd, 1, 50) > 0 &&
			    stream_recv(p.fd, &rx, tx.done, &eof) == -1)
				break;
		if (rx.done < tx.done)
			break;
		(void)poll(NULL, 0, o.interval_ms);
	}
	close(p.fd);
	printf("name %s\ntrickle sent %lld echoed %lld\n%s\n", p.line,
	    tx.done, rx.done, lbt_now_ms() >= end && rx.done == tx.done ?
	    "ok" : "FAIL");
	return lbt_now_ms() >= end && rx.done == tx.done ? 0 : 1;
}

/*
 * push: sends pattern bytes and never reads, until the path stops taking
 * them (no progress for --timeout ms) or -b BYTES went out.  Prints
 * "stalled_after N" (exit 0) or "sent_all N" (exit 1): through a relay
 * that respects flow control, a backend that never reads must stall us.
 */
static int
cmd_push(void)
{
	static struct stream tx;
	struct pollfd pfd;
	struct probe p;
	int64_t last;
	long long n;

	if (connect_named(&p) == -1)
		return 1;
	stream_init(&tx, o.seed);
	pfd.fd = p.fd;
	pfd.events = POLLOUT;
	last = lbt_now_ms();
	while (!stop && tx.done < o.bytes &&
	    lbt_now_ms() - last < o.timeout_ms) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((n = stream_send(p.fd, &tx, o.bytes)) == -1) {
			printf("FAIL send error after %lld: %s\n", tx.done,
			    strerror(errno));
			close(p.fd);
			return 1;
		}
		if (n > 0)
			last = lbt_now_ms();
	}
	printf("name %s\n%s %lld\n", p.line, tx.done < o.bytes ?
	    "stalled_after" : "sent_all", tx.done);
	fflush(stdout);
	if (o.wait_file != NULL)	/* keep it open until told */
		(void)wait_for_file(o.wait_file, p.line);
	close(p.fd);
	return tx.done < o.bytes ? 0 : 1;
}

static const struct option long_opts[] = {
	{ "timeout", required_argument, NULL, 'T' },
	{ "max-time", required_argument, NULL, 'M' },
	{ "seed", required_argument, NULL, 'S' },
	{ "wait-file", required_argument, NULL, 'W' },
	{ "cmd", no_argument, NULL, 'C' },
	{ "interval", required_argument, NULL, 'I' },
	{ NULL, 0, NULL, 0 }
};

static void
parse_opts(int argc, char **argv)
{
	int ch;

	o.n = 1;
	o.conc = 0;	/* unset: who takes 1, hold takes n */
	o.timeout_ms = 5000;
	o.interval_ms = 250;
	o.max_ms = 120000;
	o.hold_s = 60;
	o.seed = 1;
	o.bytes = 1 << 20;
	o.send_bytes = 1 << 20;
	while ((ch = getopt_long(argc, argv, "n:c:t:b:s:q", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n': o.n = strtol(optarg, NULL, 10); break;
		case 'c': o.conc = strtol(optarg, NULL, 10); break;
		case 't': o.hold_s = strtol(optarg, NULL, 10); break;
		case 'b': o.bytes = lbt_parse_size(optarg); break;
		case 's': o.send_bytes = lbt_parse_size(optarg); break;
		case 'q': o.quiet = true; break;
		case 'T': o.timeout_ms = atoi(optarg); break;
		case 'M': o.max_ms = strtoll(optarg, NULL, 10) * 1000; break;
		case 'S': o.seed = strtoull(optarg, NULL, 10); break;
		case 'W': o.wait_file = optarg; break;
		case 'C': o.cmd = true; break;
		case 'I': o.interval_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (o.n < 1 || o.conc < 0 || o.bytes < 0 || o.send_bytes < 0 ||
	    o.timeout_ms < 1 || o.interval_ms < 0 || o.max_ms < 1000 || o.hold_s < 0)
		usage();
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	const char *cmd;

	if (argc < 3)
		usage();
	cmd = argv[1];
	if (lbt_parse_addr(argv[2], &o.addr, &o.addrlen) == -1) {
		fprintf(stderr, "lbt-client: bad address '%s'\n", argv[2]);
		return 2;
	}
	parse_opts(argc - 2, argv + 2);
	if (optind != argc - 2)
		usage();
	lbt_raise_nofile();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(cmd, "who") == 0)
		return cmd_who();
	if (strcmp(cmd, "hold") == 0)
		return cmd_hold();
	if (strcmp(cmd, "bulk") == 0)
		return cmd_xfer(false);
	if (strcmp(cmd, "halfclose") == 0)
		return cmd_xfer(true);
	if (strcmp(cmd, "servershut") == 0)
		return cmd_servershut();
	if (strcmp(cmd, "idle") == 0)
		return cmd_idle();
	if (strcmp(cmd, "trickle") == 0)
		return cmd_trickle();
	if (strcmp(cmd, "push") == 0)
		return cmd_push();
	usage();
	return 2;
}
