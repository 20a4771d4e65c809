/*
 * util.c - clock, unit parsing, socket helpers and the RESULT line of
 * lbbench.  Nothing here logs: helpers return -1 and the caller says what
 * went wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lbbench.h"

volatile sig_atomic_t lbb_stop;

uint64_t
lbb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "1.2.3.4:port" or "[v6]:port", numeric only. */
int
lbb_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon, *hb;
	size_t hl;
	uint64_t port;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(s, ':');
	if (colon == NULL || lbb_parse_uint(colon + 1, 65535, &port) == -1 ||
	    port == 0)
		return -1;
	hb = s;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 2 || colon[-1] != ']')
			return -1;
		hb = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, hb, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

int
lbb_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || x > max)
		return -1;
	*v = x;
	return 0;
}

/* A positive number with an optional k/M multiplier; *rest gets the tail. */
static int
parse_num(const char *s, double *v, const char **rest)
{
	char *end;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	*v = strtod(s, &end);
	if (end == s || !isfinite(*v) || *v < 0)
		return -1;
	if (*end == 'k' || *end == 'K') {
		*v *= 1e3;
		end++;
	} else if (*end == 'M') {
		*v *= 1e6;
		end++;
	}
	*rest = end;
	return 0;
}

int
lbb_parse_dur(const char *s, uint64_t *ns)
{
	static const struct { const char *u; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "", 1e9 },
	};
	const char *rest;
	double v;
	size_t i;

	if (parse_num(s, &v, &rest) == -1)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].u) == 0) {
			v *= units[i].mul;
			if (v > 1e15)
				return -1;
			*ns = (uint64_t)v;
			return 0;
		}
	}
	return -1;
}

int
lbb_parse_rate(const char *s, double *per_s)
{
	const char *rest;

	if (parse_num(s, per_s, &rest) == -1)
		return -1;
	if (*rest != '\0' && strcmp(rest, "/s") != 0)
		return -1;
	return *per_s > 0 && *per_s <= 1e8 ? 0 : -1;
}

/* "30%" is 0.30; a bare number is already a fraction and must be < 1. */
int
lbb_parse_frac(const char *s, double *frac)
{
	const char *rest;

	if (parse_num(s, frac, &rest) == -1)
		return -1;
	if (strcmp(rest, "%") == 0)
		*frac /= 100.0;
	else if (*rest != '\0')
		return -1;
	return *frac < 1.0 ? 0 : -1;
}

int
lbb_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Soft RLIMIT_NOFILE up to the hard limit: connections cost fds. */
int
lbb_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static void
on_signal(int sig)
{
	(void)sig;
	lbb_stop = 1;
}

void
lbb_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Source address number i for a connection to dst: 127.0.0.(2 + i % nsrc)
 * for IPv4 targets when --sources is set.  Spreading sources multiplies
 * the 4-tuples available, so short connections do not run out of ports
 * while thousands sit in TIME_WAIT.  Returns 1 when *src is set, else 0.
 */
int
lbb_src_addr(const struct lbb_opts *o, uint64_t i,
    const struct sockaddr_storage *dst, struct sockaddr_storage *src,
    socklen_t *srclen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)src;

	if (o->nsrc <= 0 || dst->ss_family != AF_INET)
		return 0;
	memset(src, 0, sizeof(*src));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % (uint64_t)o->nsrc));
	*srclen = sizeof(*s4);
	return 1;
}

/*
 * Starts a non-blocking connect for connection number i (target i %
 * ntarget, source i % nsrc).  Returns the fd (connect in progress or
 * done), or -1 with errno.
 */
int
lbb_connect(const struct lbb_opts *o, uint64_t i)
{
	const struct sockaddr_storage *dst = &o->target[i % (uint64_t)o->ntarget];
	socklen_t dlen = o->target_len[i % (uint64_t)o->ntarget];
	struct sockaddr_storage src;
	socklen_t slen;
	int fd, one = 1, save;

	fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (lbb_src_addr(o, i / (uint64_t)o->ntarget, dst, &src, &slen)) {
		/* Let connect() pick the port per 4-tuple, not bind(). */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, slen) == -1)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)dst, dlen) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

static double
us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/*
 * Prints a human summary (unless quiet) and one machine-readable line:
 * "RESULT test=T label=L ok=.. errors=.. rate=.. p50_us=.. ..." that
 * tests/bench/run.sh collects.
 */
void
lbb_result_print(const char *test, const struct lbb_opts *o,
    const struct lbb_result *r)
{
	const struct lbb_hist *h = &r->hist;
	double rate = r->seconds > 0 ? (double)r->ok / r->seconds : 0;

	if (!o->quiet)
		printf("%s: %llu ok, %llu errors (%llu dropped) in %.2f s = "
		    "%.0f/s; latency us: p50 %.1f p90 %.1f p99 %.1f "
		    "p99.9 %.1f max %.1f\n", test,
		    (unsigned long long)r->ok, (unsigned long long)r->errors,
		    (unsigned long long)r->dropped, r->seconds, rate,
		    us(lbb_hist_pct(h, 0.5)), us(lbb_hist_pct(h, 0.9)),
		    us(lbb_hist_pct(h, 0.99)), us(lbb_hist_pct(h, 0.999)),
		    us(h->max));
	printf("RESULT test=%s label=%s ok=%llu errors=%llu dropped=%llu "
	    "seconds=%.3f rate=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	    "p999_us=%.1f max_us=%.1f mean_us=%.1f\n", test,
	    o->label ? o->label : "-", (unsigned long long)r->ok,
	    (unsigned long long)r->errors, (unsigned long long)r->dropped,
	    r->seconds, rate, us(lbb_hist_pct(h, 0.5)),
	    us(lbb_hist_pct(h, 0.9)), us(lbb_hist_pct(h, 0.99)),
	    us(lbb_hist_pct(h, 0.999)), us(h->max), lbb_hist_mean(h) / 1000.0);
	fflush(stdout);
}
