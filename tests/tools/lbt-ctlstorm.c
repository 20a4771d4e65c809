/*
 * lbt-ctlstorm - a seeded storm of control-socket requests, valid and
 * hostile, with every answer checked.
 *
 *   lbt-ctlstorm SOCKET [-n N] [--seed S] [--timeout MS]
 *
 * N requests (default 100000) on one connection, reconnecting whenever
 * the daemon closes it or the storm abandons it.  Each request is, by a
 * seeded draw (same seed, same storm):
 *   valid     status, servers, pools, workers, health, help, metrics,
 *             with or without "json ": must get "OK <len>\n" and exactly
 *             len bytes (a JSON body must start with '{' or '[');
 *   garbage   1..12 random printable words: a framed ERR;
 *   binary    a line with control characters: a framed ERR;
 *   oversized 1025..16384 bytes without a newline in the first 1024:
 *             ERR and close, or close;
 *   partial   a prefix of a valid command, then the connection is
 *             dropped without its newline.
 * Prints one line: "requests N valid V garbage G binary B oversized O
 * partial P reconnects R bad X" and exits 0 iff X (wrong or missing
 * answers) is 0.  Every wait is bounded by --timeout (default 5000 ms)
 * per answer.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/un.h>
#include <unistd.h>

#include "lbt-util.h"

#define STORM_LINE	1024	/* the daemon's request bound (CTL_LINE_MAX) */
#define STORM_BIG	16384

enum kind { K_VALID = 0, K_GARBAGE, K_BINARY, K_OVERSIZED, K_PARTIAL,
	K__COUNT };

static const char *const valid_cmds[] = { "status", "servers", "pools",
    "workers", "health", "help", "metrics" };

static const char	*sock_path;
static int		 opt_timeout = 5000;
static uint64_t		 rng_state = 1;
static int		 fd = -1;
static long long	 nkind[K__COUNT], reconnects, bad;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void
drop(void)
{
	if (fd != -1)
		close(fd);
	fd = -1;
}

static int
dial(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (fd != -1)
		return 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		drop();
		return -1;
	}
	reconnects++;
	return 0;
}

static int
send_all(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes (or up to a '\n' when line) within the deadline. */
static ssize_t
recv_some(char *buf, size_t n, bool line, int64_t deadline)
{
	struct pollfd	pf = { .fd = fd, .events = POLLIN };
	size_t		got = 0;
	ssize_t		r;

	while (got < n) {
		if (lbt_now_ms() >= deadline ||
		    poll(&pf, 1, (int)(deadline - lbt_now_ms())) != 1)
			return -1;
		r = recv(fd, buf + got, line ? 1 : n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (line && buf[got - 1] == '\n')
			break;
	}
	return (ssize_t)got;
}

/*
 * Reads one framed answer.  Returns 1 for OK, 0 for ERR, -1 when the
 * connection closed or the frame is broken.  The body's first byte goes
 * to *first.
 */
static int
read_answer(char *first)
{
	static char	 body[1 << 22];
	char		 hdr[64];
	int64_t		 deadline = lbt_now_ms() + opt_timeout;
	ssize_t		 n;
	unsigned long	 len;
	int		 ok;

	n = recv_some(hdr, sizeof(hdr) - 1, true, deadline);
	if (n <= 0 || hdr[n - 1] != '\n')
		return -1;
	hdr[n] = '\0';
	if (sscanf(hdr, "OK %lu\n", &len) == 1)
		ok = 1;
	else if (sscanf(hdr, "ERR %lu\n", &len) == 1)
		ok = 0;
	else
		return -1;
	if (len > sizeof(body) || (len > 0 &&
	    recv_some(body, len, false, deadline) != (ssize_t)len))
		return -1;
	*first = len > 0 ? body[0] : '\0';
	return ok;
}

/* A valid command: must be answered OK with a well-framed body. */
static void
do_valid(void)
{
	char	line[64], first;
	bool	json = rnd() % 2;
	int	r;

	snprintf(line, sizeof(line), "%s%s\n", json ? "json " : "",
	    valid_cmds[rnd() % (sizeof(valid_cmds) / sizeof(valid_cmds[0]))]);
	if (dial() == -1 || send_all(line, strlen(line)) == -1) {
		bad++;
		drop();
		return;
	}
	r = read_answer(&first);
	/* health may say ERR when a pool is down; the frame must hold. */
	if (r == -1 || (r == 0 && strncmp(line + (json ? 5 : 0), "health", 6)) ||
	    (r == 1 && json && first != '{' && first != '[')) {
		fprintf(stderr, "bad answer to %s", line);
		bad++;
		drop();
	}
}

/* garbage or binary: a line the daemon must refuse with a framed ERR. */
static void
do_refused(bool binary)
{
	char	line[STORM_LINE], first;
	size_t	n = 0, words = 1 + rnd() % 12, i, wl;

	for (i = 0; i < words && n < 200; i++) {
		wl = 1 + rnd() % 16;
		while (wl-- > 0 && n < 200)
			line[n++] = (char)('!' + rnd() % 94);
		line[n++] = ' ';
	}
	/* A leading 'Z' keeps the first word off every real command. */
	line[0] = 'Z';
	if (binary) {
		/* Any control byte but tab (a separator) and newline. */
		char c = (char)(rnd() % 32);

		line[1 + rnd() % (n - 1)] = c == '\t' || c == '\n' ? 1 : c;
	}
	if (line[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = 3;
	line[n++] = '\n';
	if (dial() == -1 || send_all(line, n) == -1 || read_answer(&first) != 0) {
		fprintf(stderr, "no ERR for a %s line\n", binary ? "binary" :
		    "garbage");
		bad++;
		drop();
	}
}

/* oversized: ERR then close, or close; never an OK. */
static void
do_oversized(void)
{
	static char	buf[STORM_BIG];
	size_t		n = STORM_LINE + 1 + rnd() % (STORM_BIG - STORM_LINE - 1), i;
	char		first;

	for (i = 0; i < n; i++)
		buf[i] = (char)('a' + rnd() % 26);
	if (dial() == -1) {
		bad++;
		return;
	}
	(void)send_all(buf, n);	/* the daemon may close mid-way */
	if (read_answer(&first) == 1) {
		fprintf(stderr, "OK for an oversized line\n");
		bad++;
	}
	drop();
}

static void
do_partial(void)
{
	const char	*c = valid_cmds[rnd() % 7];
	size_t		 n = 1 + rnd() % strlen(c);

	if (dial() == -1 || send_all(c, n) == -1)
		bad++;
	drop();
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	long long	n = 100000, i;
	uint64_t	r;
	int		ch;

	while ((ch = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': n = atoll(optarg); break;
		case 's': rng_state = strtoull(optarg, NULL, 10) * 2654435761u + 1; break;
		case 't': opt_timeout = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: lbt-ctlstorm SOCKET [-n N] "
			    "[--seed S] [--timeout MS]\n");
			return 2;
		}
	}
	if (optind + 1 != argc)
		return 2;
	sock_path = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++) {
		r = rnd() % 100;
		if (r < 50) {
			nkind[K_VALID]++;
			do_valid();
		} else if (r < 75) {
			nkind[K_GARBAGE]++;
			do_refused(false);
		} else if (r < 85) {
			nkind[K_BINARY]++;
			do_refused(true);
		} else if (r < 92) {
			nkind[K_OVERSIZED]++;
			do_oversized();
		} else {
			nkind[K_PARTIAL]++;
			do_partial();
		}
		if (bad > 100)
			break;
	}
	printf("requests %lld valid %lld garbage %lld binary %lld oversized "
	    "%lld partial %lld reconnects %lld bad %lld\n", i,
	    nkind[K_VALID], nkind[K_GARBAGE], nkind[K_BINARY],
	    nkind[K_OVERSIZED], nkind[K_PARTIAL], reconnects, bad);
	return bad == 0 ? 0 : 1;
}
