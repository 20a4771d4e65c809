/*
 * lbt-util.h - small helpers shared by the lb test tools (lbt-backend,
 * lbt-client).  Header-only (static inline) because the Makefile turns
 * every .c file in tests/tools/ into its own program; a helper .c would
 * become a binary of its own.
 *
 * Usage: #include "lbt-util.h" from a tool in tests/tools/.
 *
 * It holds: address parsing ("1.2.3.4:80", "[::1]:80"), non-blocking
 * sockets, a monotonic millisecond clock, the fd limit raise, and the
 * deterministic pseudo-random byte stream both ends of a test can
 * regenerate to check what they received.
 */
#ifndef LBT_UTIL_H
#define LBT_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

/*
 * Parses "1.2.3.4:port" or "[v6]:port" into *ss.  Returns 0, or -1 when
 * the text is not a numeric address with a port in 1..65535.
 */
static inline int
lbt_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon, *hb, *he;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		hb = s + 1;
		he = strchr(s, ']');
		if (he == NULL || he[1] != ':')
			return -1;
		colon = he + 1;
	} else {
		hb = s;
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		he = colon;
	}
	if ((size_t)(he - hb) >= sizeof(host))
		return -1;
	memcpy(host, hb, (size_t)(he - hb));
	host[he - hb] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	if (s[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	}
	return 0;
}

/* Sets O_NONBLOCK.  Returns 0 or -1 with errno. */
static inline int
lbt_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Monotonic milliseconds, for timeouts and measured durations. */
static inline int64_t
lbt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Raises the soft fd limit to the hard one so thousands of sockets fit. */
static inline void
lbt_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Deterministic byte stream (xorshift64*), so a receiver can regenerate
 * what the sender sent from the seed alone.  Fills n bytes at buf.
 */
struct lbt_rng {
	uint64_t	s;
	uint64_t	v;	/* current 8-byte word */
	unsigned	used;	/* bytes of v already handed out, 0..8 */
};

static inline void
lbt_rng_init(struct lbt_rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ULL + 1;
	r->v = 0;
	r->used = 8;
}

/* Chunk sizes do not matter: any split of the stream gives equal bytes. */
static inline void
lbt_rng_fill(struct lbt_rng *r, unsigned char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (r->used == 8) {
			r->s ^= r->s >> 12;
			r->s ^= r->s << 25;
			r->s ^= r->s >> 27;
			r->v = r->s * 0x2545F4914F6CDD1DULL;
			r->used = 0;
		}
		buf[i] = (unsigned char)(r->v >> (r->used * 8));
		r->used++;
	}
}

/* Parses a byte count with an optional K/M/G suffix (powers of 1024). */
static inline long long
lbt_parse_size(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0 || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	return *end == '\0' ? v : -1;
}

#endif
