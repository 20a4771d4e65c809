/*
 * lbt-chaos - seeded random churn of client connections, to check that
 * lbd's connection counts follow reality.
 *
 *   lbt-chaos ADDR [--actions N] [--seed S] [--max-open M]
 *             [--sample-every K] [--timeout MS]
 *
 * N actions (default 10000), each drawn from the seed (same seed, same
 * sequence): open a connection (up to M, default 200, at once), send a
 * few bytes on one, close one (FIN), half-close one (shutdown SHUT_WR),
 * or reset one (SO_LINGER 0, then close).  Whatever the peers send is
 * read and dropped between actions; a connection the peer closed is
 * closed here too.
 *
 * Every K actions (default 500) and at the end it stops, prints
 * "sample I actions A open O" and waits for a line on stdin before going
 * on, so the caller can compare lbd's counts with the kernel's while
 * nothing moves.  After the last action it closes everything left (the
 * same mix of FIN and RST), prints "end opened X fin F half H rst R
 * peer_closed P" and waits for stdin once more.  --timeout bounds each
 * connect and each wait on stdin (default 10000 ms); exit 1 if one ran
 * out.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "lbt-util.h"

#define MAX_OPEN	4096

struct slot {
	int	fd;
	bool	half;
};

static struct sockaddr_storage	addr;
static socklen_t		addrlen;
static struct slot		slots[MAX_OPEN];
static int			nopen, max_open = 200, opt_timeout = 10000;
static uint64_t			rs = 1;
static long long		n_open, n_fin, n_half, n_rst, n_peer;

static uint64_t
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 0x2545F4914F6CDD1DULL;
}

static void
forget(int i)
{
	slots[i] = slots[--nopen];
}

/* Opens one connection and waits (bounded) for the handshake. */
static int
act_open(void)
{
	struct pollfd	pf;
	int		err = 0;
	socklen_t	len = sizeof(err);

	if ((pf.fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	if (connect(pf.fd, (struct sockaddr *)&addr, addrlen) == -1 &&
	    errno != EINPROGRESS) {
		close(pf.fd);
		return -1;
	}
	pf.events = POLLOUT;
	if (poll(&pf, 1, opt_timeout) != 1 || getsockopt(pf.fd, SOL_SOCKET,
	    SO_ERROR, &err, &len) == -1 || err != 0) {
		close(pf.fd);
		return -1;
	}
	slots[nopen++] = (struct slot){ pf.fd, false };
	n_open++;
	return 0;
}

static void
act_close(int i, bool rst)
{
	struct linger lg = { 1, 0 };

	if (rst) {
		setsockopt(slots[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		n_rst++;
	} else
		n_fin++;
	close(slots[i].fd);
	forget(i);
}

/* Reads and drops what every connection has; closes those at EOF. */
static void
drain_all(void)
{
	char	buf[4096];
	ssize_t	r;
	int	i;

	for (i = nopen - 1; i >= 0; i--) {
		r = read(slots[i].fd, buf, sizeof(buf));
		if (r > 0 || (r == -1 && errno == EAGAIN))
			continue;
		close(slots[i].fd);
		forget(i);
		n_peer++;
	}
}

static void
act_send(int i)
{
	char	buf[256];
	size_t	n = 1 + rnd() % sizeof(buf), k;

	for (k = 0; k < n; k++)
		buf[k] = (char)rnd();
	if (!slots[i].half)
		(void)send(slots[i].fd, buf, n, MSG_NOSIGNAL);
}

/* One action drawn from the seed. */
static int
act(void)
{
	uint64_t	r = rnd() % 100;
	int		i;

	if (nopen == 0 || (r < 35 && nopen < max_open))
		return act_open();
	i = (int)(rnd() % (uint64_t)nopen);
	if (r < 55)
		act_send(i);
	else if (r < 72)
		act_close(i, false);
	else if (r < 86) {
		if (!slots[i].half) {
			shutdown(slots[i].fd, SHUT_WR);
			slots[i].half = true;
			n_half++;
		}
	} else
		act_close(i, true);
	return 0;
}

/* Waits for a line on stdin; -1 on timeout or EOF. */
static int
wait_go(void)
{
	struct pollfd	pf = { .fd = 0, .events = POLLIN };
	char		c;

	if (poll(&pf, 1, opt_timeout) != 1)
		return -1;
	while (read(0, &c, 1) == 1)
		if (c == '\n')
			return 0;
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "actions", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "max-open", required_argument, NULL, 'm' },
		{ "sample-every", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	long long	actions = 10000, every = 500, a, sample = 0;
	int		ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'a': actions = atoll(optarg); break;
		case 's': rs = strtoull(optarg, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1; break;
		case 'm': max_open = atoi(optarg); break;
		case 'k': every = atoll(optarg); break;
		case 't': opt_timeout = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || max_open < 1 || max_open > MAX_OPEN ||
	    every < 1 || lbt_parse_addr(argv[optind], &addr, &addrlen) == -1) {
		fprintf(stderr, "usage: lbt-chaos ADDR [--actions N] [--seed S] "
		    "[--max-open M] [--sample-every K] [--timeout MS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	lbt_raise_nofile();
	for (a = 1; a <= actions; a++) {
		if (act() == -1) {
			fprintf(stderr, "lbt-chaos: connect failed at action %lld\n", a);
			return 1;
		}
		drain_all();
		if (a % every == 0) {
			printf("sample %lld actions %lld open %d\n", ++sample, a,
			    nopen);
			if (wait_go() == -1)
				return 1;
		}
	}
	while (nopen > 0)
		act_close((int)(rnd() % (uint64_t)nopen), rnd() % 2);
	printf("end opened %lld fin %lld half %lld rst %lld peer_closed %lld\n",
	    n_open, n_fin, n_half, n_rst, n_peer);
	return wait_go() == -1 ? 1 : 0;
}
