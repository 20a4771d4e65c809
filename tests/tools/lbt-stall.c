/*
 * lbt-stall - slow, stuck and rude peers for lb's hostile-input tests
 * (tests/integ/t_hostile_*.sh).  One epoll loop; every wait is bounded
 * by --max-time S (default 120).  Prints "ready" once a server listens.
 *
 * Servers (--listen ADDR):
 *   gate --gate FILE [--conns N]   accepts and reads nothing until FILE
 *        exists; then reads every connection to EOF, checking its bytes
 *        against the pattern stream (seed 1, as `send` writes it), and
 *        closes it.  Prints "eof N bytes B bad K" each time a connection
 *        ends and "done ..." when N connections (--conns) have.
 *   stream [--sndbuf B]   writes the pattern stream to every connection
 *        as fast as it is taken, never reads; SIGUSR1 prints "written B".
 *   rstafter --bytes K   reads K bytes of a connection, then resets it
 *        (SO_LINGER 0).
 *   blackhole   listens with a backlog of 0 and fills the queue itself
 *        (never accepts), so further SYNs are dropped: a connect to it
 *        hangs until its timeout.
 * Clients (ADDR):
 *   send -n N -b BYTES   N connections, each writes BYTES of the pattern
 *        (never reads), then shuts its write side and waits for EOF.
 *        Prints "stalled sent B" after 1 s without progress (once per
 *        stall), "sent_all B" once everything is written (or the peer
 *        reset), and "done sent B eof N reset R" when every connection
 *        is over (exit 0), "unfinished ..." at --max-time (exit 1).
 *   idle -n N [--src IP] [--read] [-t S]   N connections that send
 *        nothing; --read reads and discards (so closes are seen: prints
 *        "closed K" as they go and "all_closed" at the end), otherwise
 *        nothing is read.  Prints "open N failed F" once connected; holds
 *        -t S seconds (default 60) or until SIGTERM.  --rcvbuf B sets
 *        SO_RCVBUF before connecting (keeps loopback autotuning from
 *        parking megabytes per connection in the kernel).
 *   who [--src IP]   one connection: reads the first line (a backend's
 *        name) and prints "who NAME ms MS" (connect to name), exit 0; exit
 *        1 when no line comes within --timeout MS.
 *   rstwait -n N -b K   one connection after the other: connect, write K
 *        bytes, then time how long until the peer closes or resets it;
 *        prints "closed_ms MS how" each and "max_ms M" at the end (exit 1
 *        if one stayed open past --timeout MS, default 5000).
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lbt-util.h"

#define CHUNK		65536
#define MAX_EV		256
#define PEND		16384

struct peer {
	int		fd;
	long long	done;	/* bytes written or read */
	struct lbt_rng	rng;
	bool		shut, eof;
	unsigned char	pend[PEND];	/* send: drawn, not yet written */
	size_t		poff, plen;
	size_t		idx;		/* in all_peers[] */
};

static struct sockaddr_storage	addr;
static socklen_t		addrlen;
static const char		*opt_gate, *opt_src;
static long long		opt_n = 1, opt_bytes = 1 << 20, opt_conns = -1;
static int			opt_secs = 60, opt_timeout = 5000, opt_max = 120;
static bool			opt_read;
static int			opt_rcvbuf, opt_sndbuf;
static volatile sig_atomic_t	stop, usr1;
static int			epfd = -1;

static void
on_sig(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		stop = 1;
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "lbt-stall: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
ep_add(int fd, uint32_t ev, void *p)
{
	struct epoll_event e = { .events = ev, .data.ptr = p };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) == -1)
		die("epoll_ctl");
}

static void
ep_mod(int fd, uint32_t ev, void *p)
{
	struct epoll_event e = { .events = ev, .data.ptr = p };

	epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e);
}

static int
listen_on(int backlog)
{
	int fd, one = 1;

	if ((fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, addrlen) == -1)
		die("bind");
	if (listen(fd, backlog) == -1)
		die("listen");
	return fd;
}

/*
 * Every live peer is also in all_peers[], so exit frees what is left
 * (LeakSanitizer checks the tools too under make asan).
 */
static struct peer	**all_peers;
static size_t		  nall, capall;

static struct peer *
peer_new(int fd)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		die("calloc");
	if (nall == capall) {
		capall = capall ? 2 * capall : 256;
		if ((all_peers = realloc(all_peers, capall * sizeof(*all_peers)))
		    == NULL)
			die("realloc");
	}
	p->idx = nall;
	all_peers[nall++] = p;
	p->fd = fd;
	lbt_rng_init(&p->rng, 1);
	return p;
}

/* Closes and frees one peer. */
static void
peer_free(struct peer *p)
{
	if (p->fd != -1)
		close(p->fd);
	all_peers[p->idx] = all_peers[--nall];
	all_peers[p->idx]->idx = p->idx;
	free(p);
}

static void
peers_free_all(void)
{
	while (nall > 0)
		peer_free(all_peers[nall - 1]);
	free(all_peers);
	all_peers = NULL;
	capall = 0;
}

/* Checks n received bytes against p's pattern; returns mismatches. */
static long long
check_bytes(struct peer *p, const unsigned char *buf, size_t n)
{
	unsigned char	 want[CHUNK];
	long long	 bad = 0;
	size_t		 i;

	lbt_rng_fill(&p->rng, want, n);
	for (i = 0; i < n; i++)
		bad += buf[i] != want[i];
	return bad;
}

static bool
gate_open(void)
{
	struct stat st;

	return stat(opt_gate, &st) == 0;
}

/* gate: readable connection once the gate is open. */
static void
gate_read(struct peer *p, long long *eofs, long long *bytes, long long *bad)
{
	unsigned char	buf[CHUNK];
	ssize_t		n;
	int		i;

	for (i = 0; i < 16; i++) {
		n = read(p->fd, buf, sizeof(buf));
		if (n == -1 && errno == EAGAIN)
			return;
		if (n > 0) {
			*bad += check_bytes(p, buf, (size_t)n);
			*bytes += n;
			continue;
		}
		peer_free(p);
		(*eofs)++;
		printf("eof %lld bytes %lld bad %lld\n", *eofs, *bytes, *bad);
		if (*eofs == opt_conns)
			printf("done eof %lld bytes %lld bad %lld\n", *eofs,
			    *bytes, *bad);
		fflush(stdout);
		return;
	}
}

/* Peers accepted before the gate opened, registered when it does. */
static struct peer	**held;
static size_t		  nheld, capheld;

static void
hold(struct peer *p)
{
	if (nheld == capheld) {
		capheld = capheld ? 2 * capheld : 256;
		if ((held = realloc(held, capheld * sizeof(*held))) == NULL)
			die("realloc");
	}
	held[nheld++] = p;
}

static int
run_gate(void)
{
	struct epoll_event	 ev[MAX_EV];
	long long		 eofs = 0, bytes = 0, bad = 0;
	int64_t			 end = lbt_now_ms() + opt_max * 1000LL;
	int			 lfd = listen_on(4096), i, n, cfd;
	bool			 open = false;
	static int		 lmark;
	size_t			 k;

	ep_add(lfd, EPOLLIN, &lmark);
	printf("ready\n");
	fflush(stdout);
	while (!stop && lbt_now_ms() < end) {
		if (!open && gate_open()) {
			open = true;
			for (k = 0; k < nheld; k++)
				ep_add(held[k]->fd, EPOLLIN, held[k]);
			printf("gate_open held %zu\n", nheld);
			fflush(stdout);
		}
		n = epoll_wait(epfd, ev, MAX_EV, 50);
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr != &lmark) {
				gate_read(ev[i].data.ptr, &eofs, &bytes, &bad);
				continue;
			}
			while ((cfd = accept4(lfd, NULL, NULL,
			    SOCK_NONBLOCK)) != -1) {
				if (open)
					ep_add(cfd, EPOLLIN, peer_new(cfd));
				else
					hold(peer_new(cfd));
			}
		}
	}
	return 0;
}

/* stream: writes the pattern to every writable connection. */
static int
run_stream(void)
{
	struct epoll_event	 ev[MAX_EV];
	unsigned char		 buf[CHUNK];
	long long		 written = 0;
	int64_t			 end = lbt_now_ms() + opt_max * 1000LL;
	int			 lfd = listen_on(4096), i, n, cfd;
	static int		 lmark;
	struct peer		*p;
	ssize_t			 w;

	ep_add(lfd, EPOLLIN, &lmark);
	printf("ready\n");
	fflush(stdout);
	while (!stop && lbt_now_ms() < end) {
		if (usr1) {
			usr1 = 0;
			printf("written %lld\n", written);
			fflush(stdout);
		}
		n = epoll_wait(epfd, ev, MAX_EV, 100);
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &lmark) {
				while ((cfd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					if (opt_sndbuf > 0)
						setsockopt(cfd, SOL_SOCKET,
						    SO_SNDBUF, &opt_sndbuf,
						    sizeof(opt_sndbuf));
					ep_add(cfd, EPOLLOUT, peer_new(cfd));
				}
				continue;
			}
			p = ev[i].data.ptr;
			if (ev[i].events & (EPOLLERR | EPOLLHUP)) {
				peer_free(p);
				continue;
			}
			lbt_rng_fill(&p->rng, buf, sizeof(buf));
			if ((w = write(p->fd, buf, sizeof(buf))) > 0)
				written += w;
			/* The unwritten tail is dropped: only volume matters. */
			if (w == -1 && errno != EAGAIN)
				peer_free(p);
		}
	}
	return 0;
}

/* rstafter: reads opt_bytes of each connection, then resets it. */
static int
run_rstafter(void)
{
	struct epoll_event	 ev[MAX_EV];
	unsigned char		 buf[CHUNK];
	struct linger		 lg = { 1, 0 };
	int64_t			 end = lbt_now_ms() + opt_max * 1000LL;
	int			 lfd = listen_on(4096), i, n, cfd;
	static int		 lmark;
	struct peer		*p;
	ssize_t			 r;

	ep_add(lfd, EPOLLIN, &lmark);
	printf("ready\n");
	fflush(stdout);
	while (!stop && lbt_now_ms() < end) {
		n = epoll_wait(epfd, ev, MAX_EV, 100);
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &lmark) {
				while ((cfd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1)
					ep_add(cfd, EPOLLIN, peer_new(cfd));
				continue;
			}
			p = ev[i].data.ptr;
			r = read(p->fd, buf, sizeof(buf));
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r > 0)
				p->done += r;
			if (r <= 0 || p->done >= opt_bytes) {
				setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg));
				peer_free(p);
			}
		}
	}
	return 0;
}

/* blackhole: a full accept queue; SYNs beyond it are dropped. */
static int
run_blackhole(void)
{
	int	 lfd = listen_on(0), fds[8], i, filled = 0;
	int64_t	 end;

	(void)lfd;	/* kept open, never accepted on */
	/* Backlog 0 holds one; the kernel's check (> backlog) lets a 2nd in. */
	for (i = 0; i < 8; i++) {
		if ((fds[i] = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK,
		    0)) == -1)
			die("socket");
		if (connect(fds[i], (struct sockaddr *)&addr, addrlen) == -1 &&
		    errno != EINPROGRESS)
			die("connect");
	}
	end = lbt_now_ms() + 3000;
	while (lbt_now_ms() < end) {
		struct pollfd pf[8];

		for (i = 0; i < 8; i++)
			pf[i] = (struct pollfd){ fds[i], POLLOUT, 0 };
		poll(pf, 8, 100);
		for (filled = 0, i = 0; i < 8; i++)
			filled += (pf[i].revents & POLLOUT) != 0;
		if (filled >= 1 && lbt_now_ms() > end - 2000)
			break;
	}
	printf("ready queued %d\n", filled);
	fflush(stdout);
	end = lbt_now_ms() + opt_max * 1000LL;
	while (!stop && lbt_now_ms() < end)
		poll(NULL, 0, 100);
	return 0;
}

/* A non-blocking connect to addr, from opt_src if set; -1 on failure. */
static int
dial(void)
{
	struct sockaddr_storage	src;
	socklen_t		slen;
	char			buf[80];
	int			fd;

	if ((fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	/* Before connect, so the window scale and autotuning follow it. */
	if (opt_rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt_rcvbuf,
		    sizeof(opt_rcvbuf));
	if (opt_src != NULL) {
		snprintf(buf, sizeof(buf), "%s:1", opt_src);
		if (lbt_parse_addr(buf, &src, &slen) == -1)
			die("bad --src");
		((struct sockaddr_in *)&src)->sin_port = 0;
		if (bind(fd, (struct sockaddr *)&src, slen) == -1)
			die("bind --src");
	}
	if (connect(fd, (struct sockaddr *)&addr, addrlen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * send: one writable peer; 1 when it made progress, 0 when not, -1 when
 * the peer is gone (reset, broken pipe).  Bytes are drawn
 * from the stream only once they are sure to be written, or kept in
 * p->pend until they are, so the receiver sees the stream exactly.
 */
static int
send_some(struct peer *p, long long *total, long long *nsent)
{
	long long	left;
	ssize_t		w;
	int		moved = 0;
	int		i;

	for (i = 0; i < 8; i++) {
		left = opt_bytes - p->done - (long long)(p->plen - p->poff);
		if (p->poff == p->plen && left > 0) {
			p->plen = left < PEND ? (size_t)left : PEND;
			p->poff = 0;
			lbt_rng_fill(&p->rng, p->pend, p->plen);
		}
		if (p->poff == p->plen)
			break;
		w = write(p->fd, p->pend + p->poff, p->plen - p->poff);
		if (w == -1 && errno != EAGAIN)
			return -1;
		if (w <= 0)
			break;
		p->poff += (size_t)w;
		p->done += w;
		*total += w;
		moved = 1;
	}
	if (p->done >= opt_bytes && !p->shut) {
		shutdown(p->fd, SHUT_WR);
		p->shut = true;
		(*nsent)++;
		ep_mod(p->fd, EPOLLIN, p);
	}
	return moved;
}

static int
run_send(void)
{
	struct epoll_event	 ev[MAX_EV];
	unsigned char		 buf[4096];
	long long		 total = 0, nsent = 0, neof = 0, ngone = 0, i;
	int64_t			 end = lbt_now_ms() + opt_max * 1000LL;
	int64_t			 last = lbt_now_ms();
	bool			 stalled = false, all = false;
	struct peer		*p;
	int			 fd, n, k, r;

	for (i = 0; i < opt_n; i++) {
		if ((fd = dial()) == -1)
			die("connect");
		ep_add(fd, EPOLLOUT, peer_new(fd));
	}
	while (!stop && lbt_now_ms() < end && neof < opt_n) {
		n = epoll_wait(epfd, ev, MAX_EV, 100);
		for (k = 0; k < n; k++) {
			p = ev[k].data.ptr;
			if (p->eof)
				continue;
			if (!p->shut) {
				r = send_some(p, &total, &nsent);
				if (r == 1)
					last = lbt_now_ms();
				if (r != -1)
					continue;
				nsent++;	/* reset: nothing more to send */
				ngone++;
			} else {
				r = (int)read(p->fd, buf, sizeof(buf));
				if (r > 0 || (r == -1 && errno == EAGAIN))
					continue;
			}
			p->eof = true;
			neof++;
			epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
			close(p->fd);
			p->fd = -1;
		}
		if (!all && nsent == opt_n) {
			all = true;
			printf("sent_all %lld\n", total);
			fflush(stdout);
		}
		if (!all && !stalled && lbt_now_ms() - last >= 1000) {
			stalled = true;
			printf("stalled sent %lld\n", total);
			fflush(stdout);
		}
		if (lbt_now_ms() - last < 1000)
			stalled = false;
	}
	printf("%s sent %lld eof %lld reset %lld\n", neof == opt_n ? "done" :
	    "unfinished", total, neof, ngone);
	return neof == opt_n ? 0 : 1;
}

/* idle: reads and drops what a peer sends; true once it is closed. */
static bool
idle_read(struct peer *p)
{
	unsigned char	buf[4096];
	ssize_t		r;
	int		i;

	for (i = 0; i < 4; i++) {
		r = read(p->fd, buf, sizeof(buf));
		if (r > 0)
			continue;
		if (r == -1 && errno == EAGAIN)
			return false;
		close(p->fd);
		p->fd = -1;
		p->eof = true;
		return true;
	}
	return false;
}

/* Connects opt_n peers; returns how many are established. */
static long long
idle_connect(struct peer **ps, long long *failed)
{
	struct pollfd	pf;
	long long	i, ok = 0;
	int		err;
	socklen_t	len;

	for (i = 0; i < opt_n; i++) {
		ps[i] = NULL;
		if ((pf.fd = dial()) == -1) {
			(*failed)++;
			continue;
		}
		pf.events = POLLOUT;
		err = 0;
		len = sizeof(err);
		if (poll(&pf, 1, opt_timeout) != 1 || getsockopt(pf.fd,
		    SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			close(pf.fd);
			(*failed)++;
			continue;
		}
		ps[i] = peer_new(pf.fd);
		ok++;
	}
	return ok;
}

static int
run_idle(void)
{
	struct epoll_event	  ev[MAX_EV];
	struct peer		**ps;
	long long		  nopen, failed = 0, closed = 0, shown = -1, i;
	int64_t			  end;
	int			  n, k;

	if ((ps = calloc((size_t)opt_n, sizeof(*ps))) == NULL)
		die("calloc");
	nopen = idle_connect(ps, &failed);
	printf("open %lld failed %lld\n", nopen, failed);
	fflush(stdout);
	for (i = 0; opt_read && i < opt_n; i++)
		if (ps[i] != NULL)
			ep_add(ps[i]->fd, EPOLLIN, ps[i]);
	end = lbt_now_ms() + opt_secs * 1000LL;
	while (!stop && lbt_now_ms() < end) {
		n = epoll_wait(epfd, ev, MAX_EV, 100);
		for (k = 0; k < n; k++)
			closed += idle_read(ev[k].data.ptr);
		if (opt_read && closed != shown) {
			shown = closed;
			printf("closed %lld\n", closed);
			if (closed == nopen)
				printf("all_closed\n");
			fflush(stdout);
		}
	}
	free(ps);
	return 0;
}

/* rstwait: one connection; its close time in ms, -1 if it stayed open. */
static int64_t
rstwait_one(const char **how)
{
	unsigned char	buf[CHUNK] = { 0 };
	struct pollfd	pf;
	long long	sent = 0;
	int64_t		t0, deadline = lbt_now_ms() + opt_timeout;
	ssize_t		r;

	*how = "open";
	if ((pf.fd = dial()) == -1)
		die("connect");
	pf.events = POLLOUT;
	while (sent < opt_bytes && lbt_now_ms() < deadline) {
		if (poll(&pf, 1, 100) != 1)
			continue;
		r = write(pf.fd, buf, (size_t)(opt_bytes - sent < CHUNK ?
		    opt_bytes - sent : CHUNK));
		if (r == -1 && errno != EAGAIN)
			break;	/* already reset: counts as closed now */
		sent += r > 0 ? r : 0;
	}
	t0 = lbt_now_ms();
	pf.events = POLLIN;
	while (lbt_now_ms() < deadline) {
		if (poll(&pf, 1, 50) != 1)
			continue;
		r = read(pf.fd, buf, sizeof(buf));
		if (r == 0 || (r == -1 && errno != EAGAIN)) {
			*how = r == 0 ? "eof" : "reset";
			close(pf.fd);
			return lbt_now_ms() - t0;
		}
	}
	close(pf.fd);
	return -1;
}

static int
run_rstwait(void)
{
	const char	*how;
	int64_t		 ms, max = 0;
	long long	 i;

	for (i = 0; i < opt_n && !stop; i++) {
		ms = rstwait_one(&how);
		printf("closed_ms %lld %s\n", (long long)ms, how);
		if (ms == -1) {
			printf("max_ms -1\n");
			return 1;
		}
		if (ms > max)
			max = ms;
	}
	printf("max_ms %lld\n", (long long)max);
	return 0;
}

/* who: the first line the peer sends, and how long it took. */
static int
run_who(void)
{
	char		line[256];
	struct pollfd	pf;
	size_t		got = 0;
	int64_t		t0 = lbt_now_ms(), deadline = t0 + opt_timeout;
	ssize_t		r;

	if ((pf.fd = dial()) == -1)
		die("connect");
	pf.events = POLLIN;
	while (lbt_now_ms() < deadline && got < sizeof(line) - 1) {
		if (poll(&pf, 1, 50) != 1)
			continue;
		r = read(pf.fd, line + got, 1);
		if (r == -1 && errno == EAGAIN)
			continue;
		if (r <= 0)
			break;
		if (line[got] == '\n') {
			line[got] = '\0';
			printf("who %s ms %lld\n", line,
			    (long long)(lbt_now_ms() - t0));
			return 0;
		}
		got++;
	}
	printf("who - ms -1\n");
	return 1;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: lbt-stall gate|stream|rstafter|blackhole "
	    "--listen ADDR [--gate F] [--conns N] [--bytes K]\n"
	    "       lbt-stall send|idle|rstwait|who ADDR [-n N] [-b BYTES] "
	    "[--src IP] [--read] [-t S] [--timeout MS] [--rcvbuf B]\n"
	    "       common: [--max-time S] [--sndbuf B] (stream)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "gate", required_argument, NULL, 'g' },
		{ "conns", required_argument, NULL, 'C' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "src", required_argument, NULL, 's' },
		{ "read", no_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-time", required_argument, NULL, 'M' },
		{ "rcvbuf", required_argument, NULL, 'R' },
		{ "sndbuf", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*mode, *where = NULL;
	int		 ch, rc;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "n:b:t:l:", lo, NULL)) != -1) {
		switch (ch) {
		case 'l': where = optarg; break;
		case 'g': opt_gate = optarg; break;
		case 'C': opt_conns = atoll(optarg); break;
		case 'b': opt_bytes = atoll(optarg); break;
		case 'n': opt_n = atoll(optarg); break;
		case 's': opt_src = optarg; break;
		case 'r': opt_read = true; break;
		case 't': opt_secs = atoi(optarg); break;
		case 'T': opt_timeout = atoi(optarg); break;
		case 'M': opt_max = atoi(optarg); break;
		case 'R': opt_rcvbuf = atoi(optarg); break;
		case 'S': opt_sndbuf = atoi(optarg); break;
		default: usage();
		}
	}
	if (where == NULL && optind < argc)
		where = argv[optind];
	if (where == NULL || lbt_parse_addr(where, &addr, &addrlen) == -1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGUSR1, on_sig);
	lbt_raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((epfd = epoll_create1(0)) == -1)
		die("epoll_create1");
	rc = -1;
	if (strcmp(mode, "gate") == 0 && opt_gate != NULL)
		rc = run_gate();
	else if (strcmp(mode, "stream") == 0)
		rc = run_stream();
	else if (strcmp(mode, "rstafter") == 0)
		rc = run_rstafter();
	else if (strcmp(mode, "blackhole") == 0)
		rc = run_blackhole();
	else if (strcmp(mode, "send") == 0)
		rc = run_send();
	else if (strcmp(mode, "idle") == 0)
		rc = run_idle();
	else if (strcmp(mode, "rstwait") == 0)
		rc = run_rstwait();
	else if (strcmp(mode, "who") == 0)
		rc = run_who();
	if (rc != -1) {
		peers_free_all();
		free(held);
		close(epfd);
		return rc;
	}
	usage();
}
