/*
 * lbt-proxyecho - PROXY protocol test tool: a backend that reads the
 * PROXY header lbd sends and answers with the addresses it saw, and a
 * client that connects from a chosen source address (127.0.0.N) and may
 * send a PROXY header, or any raw bytes, first.
 *
 * Its header parser and encoder are written independently of
 * lb/proxy.c, so a test checks lbd against a second reading of the spec.
 *
 * Usage:
 *   lbt-proxyecho serve --listen ADDR:PORT --name NAME
 *       Accepts connections one after the other.  For each it reads a
 *       v1 or v2 header (5 s bound) and answers one line, then echoes:
 *         "NAME v1 src=IP:PORT dst=IP:PORT"   (or v2)
 *         "NAME v2 local"  / "NAME v1 unknown"
 *         "NAME bad"       (no valid header: then it closes)
 *       The same line goes to stdout.  Prints "ready" once listening.
 *   lbt-proxyecho get ADDR:PORT [-n N] [--bind IP] [--proxy v1|v2
 *       --src IP:PORT --dst IP:PORT] [--raw TEXT] [--timeout MS]
 *       N connections (default 1), one after the other, each from IP if
 *       given.  Sends the header (or TEXT, with \r \n \0 \xHH escapes)
 *       first, then prints the first line it reads, or "closed" when the
 *       peer closes without one, or "timeout".  Exit 0 iff every
 *       connection got a line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lbt-util.h"

static const uint8_t SIG[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a,
    0x51, 0x55, 0x49, 0x54, 0x0a };

/* Blocking read of exactly n bytes.  0, or -1 (EOF, error, timeout). */
static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t	 r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
set_timeouts(int fd, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* "IP:PORT" of 4 or 16 address bytes and a network-order port. */
static void
fmt_addr(char *out, size_t len, int af, const uint8_t *a, const uint8_t *p)
{
	char	 ip[INET6_ADDRSTRLEN];

	inet_ntop(af, a, ip, sizeof(ip));
	snprintf(out, len, "%s:%u", ip, (unsigned)(p[0] << 8 | p[1]));
}

/* Reads a v2 header after its first byte; fills line. */
static int
serve_v2(int fd, uint8_t *b, char *line, size_t len)
{
	char	 s[80], d[80];
	size_t	 alen;
	uint8_t	 body[2048];

	if (read_full(fd, b + 1, 15) == -1 || memcmp(b, SIG, 12) != 0 ||
	    (b[12] >> 4) != 2)
		return -1;
	alen = (size_t)b[14] << 8 | b[15];
	if (alen > sizeof(body) || read_full(fd, body, alen) == -1)
		return -1;
	if ((b[12] & 0xf) == 0) {
		snprintf(line, len, "v2 local");
		return 0;
	}
	if (b[13] == 0x11 && alen >= 12) {
		fmt_addr(s, sizeof(s), AF_INET, body, body + 8);
		fmt_addr(d, sizeof(d), AF_INET, body + 4, body + 10);
	} else if (b[13] == 0x21 && alen >= 36) {
		fmt_addr(s, sizeof(s), AF_INET6, body, body + 32);
		fmt_addr(d, sizeof(d), AF_INET6, body + 16, body + 34);
	} else
		return -1;
	snprintf(line, len, "v2 src=%s dst=%s", s, d);
	return 0;
}

/* Reads a v1 line after its first byte; fills line. */
static int
serve_v1(int fd, uint8_t *b, char *line, size_t len)
{
	char	 proto[8], s[64], d[64];
	unsigned sp, dp;
	size_t	 n = 1;

	while (n < 107 && b[n - 1] != '\n')
		if (read_full(fd, b + n++, 1) == -1)
			return -1;
	if (b[n - 1] != '\n' || n < 2 || b[n - 2] != '\r')
		return -1;
	b[n - 2] = '\0';
	if (strcmp((char *)b, "PROXY UNKNOWN") == 0 ||
	    strncmp((char *)b, "PROXY UNKNOWN ", 14) == 0) {
		snprintf(line, len, "v1 unknown");
		return 0;
	}
	if (sscanf((char *)b, "PROXY %7s %63s %63s %u %u", proto, s, d, &sp,
	    &dp) != 5)
		return -1;
	if (strcmp(proto, "TCP6") == 0)
		snprintf(line, len, "v1 src=[%s]:%u dst=[%s]:%u", s, sp, d, dp);
	else
		snprintf(line, len, "v1 src=%s:%u dst=%s:%u", s, sp, d, dp);
	return 0;
}

/* Echoes until EOF (bounded by the socket timeouts). */
static void
echo(int fd)
{
	char	 buf[4096];
	ssize_t	 r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)r) != r)
			break;
}

static int
serve(const char *listen_at, const char *name)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 line[256], out[320];
	uint8_t			 b[2048];
	int			 lfd, fd, on = 1, rc;

	if (lbt_parse_addr(listen_at, &ss, &sl) == -1)
		return 2;
	if ((lfd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(lfd, 128) == -1) {
		perror("listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		set_timeouts(fd, 5000);
		rc = -1;
		if (read_full(fd, b, 1) == 0)
			rc = b[0] == 'P' ? serve_v1(fd, b, line, sizeof(line)) :
			    serve_v2(fd, b, line, sizeof(line));
		snprintf(out, sizeof(out), "%s %s\n", name, rc == 0 ? line :
		    "bad");
		printf("%s", out);
		fflush(stdout);
		if (write(fd, out, strlen(out)) > 0 && rc == 0)
			echo(fd);
		close(fd);
	}
}

/* Our own encoding of a header from --src/--dst. */
static size_t
encode(const char *ver, const char *src, const char *dst, uint8_t *out)
{
	struct sockaddr_storage	 s, d;
	socklen_t		 l;
	struct sockaddr_in	*s4 = (void *)&s, *d4 = (void *)&d;
	char			 a[64], b[64];

	if (lbt_parse_addr(src, &s, &l) == -1 ||
	    lbt_parse_addr(dst, &d, &l) == -1 || s.ss_family != AF_INET ||
	    d.ss_family != AF_INET) {
		fprintf(stderr, "--src/--dst: IPv4 IP:PORT\n");
		exit(2);
	}
	if (strcmp(ver, "v1") == 0) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		inet_ntop(AF_INET, &d4->sin_addr, b, sizeof(b));
		return (size_t)sprintf((char *)out, "PROXY TCP4 %s %s %u %u\r\n",
		    a, b, ntohs(s4->sin_port), ntohs(d4->sin_port));
	}
	memcpy(out, SIG, 12);
	out[12] = 0x21;
	out[13] = 0x11;
	out[14] = 0;
	out[15] = 12;
	memcpy(out + 16, &s4->sin_addr, 4);
	memcpy(out + 20, &d4->sin_addr, 4);
	memcpy(out + 24, &s4->sin_port, 2);
	memcpy(out + 26, &d4->sin_port, 2);
	return 28;
}

/* Decodes \r \n \0 \\ \xHH escapes of `s` into out; returns the length. */
static size_t
unescape(const char *s, uint8_t *out, size_t max)
{
	size_t		 n = 0;
	unsigned	 v;

	while (*s != '\0' && n < max) {
		if (*s != '\\' || s[1] == '\0') {
			out[n++] = (uint8_t)*s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r': out[n++] = '\r'; s++; break;
		case 'n': out[n++] = '\n'; s++; break;
		case '0': out[n++] = '\0'; s++; break;
		case 'x':
			if (sscanf(s + 1, "%2x", &v) != 1)
				return n;
			out[n++] = (uint8_t)v;
			s += 3;
			break;
		default: out[n++] = (uint8_t)*s++; break;
		}
	}
	return n;
}

/* One connection of `get`; prints its line.  0 when a line came. */
static int
get_one(const struct sockaddr_storage *to, socklen_t tl, const char *bindip,
    const uint8_t *pre, size_t prelen, int tmo)
{
	struct sockaddr_in	 b;
	char			 line[512];
	size_t			 n = 0;
	ssize_t			 r;
	int			 fd;

	if ((fd = socket(to->ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	set_timeouts(fd, tmo);
	if (bindip != NULL) {
		memset(&b, 0, sizeof(b));
		b.sin_family = AF_INET;
		if (inet_pton(AF_INET, bindip, &b.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&b, sizeof(b)) == -1) {
			perror("bind");
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (const struct sockaddr *)to, tl) == -1 ||
	    (prelen > 0 && write(fd, pre, prelen) != (ssize_t)prelen)) {
		printf("connect_failed\n");
		close(fd);
		return -1;
	}
	while (n < sizeof(line) - 1) {
		r = read(fd, line + n, 1);
		if (r <= 0)
			break;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (n == 0 || r <= 0)
		printf("%s\n", r == 0 ? "closed" : r == -1 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout" :
		    "closed");
	else
		printf("%s\n", line);
	close(fd);
	return n > 0 && r > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'N' },
		{ "bind", required_argument, NULL, 'B' },
		{ "proxy", required_argument, NULL, 'P' },
		{ "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'D' },
		{ "raw", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*listen_at = NULL, *name = "proxyecho";
	const char		*bindip = NULL, *ver = NULL, *src = NULL;
	const char		*dst = NULL, *raw = NULL;
	struct sockaddr_storage	 to;
	socklen_t		 tl;
	uint8_t			 pre[2048];
	size_t			 prelen = 0;
	int			 ch, n = 1, tmo = 5000, i, bad = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen_at = optarg; break;
		case 'N': name = optarg; break;
		case 'B': bindip = optarg; break;
		case 'P': ver = optarg; break;
		case 'S': src = optarg; break;
		case 'D': dst = optarg; break;
		case 'R': raw = optarg; break;
		case 'T': tmo = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "serve") == 0 && listen_at)
		return serve(listen_at, name);
	if (optind + 1 >= argc || strcmp(argv[optind], "get") != 0 ||
	    lbt_parse_addr(argv[optind + 1], &to, &tl) == -1 || n < 1 ||
	    n > 100000 || tmo < 1) {
		fprintf(stderr, "usage: see the header of lbt-proxyecho.c\n");
		return 2;
	}
	if (ver != NULL)
		prelen = encode(ver, src ? src : "", dst ? dst : "", pre);
	else if (raw != NULL)
		prelen = unescape(raw, pre, sizeof(pre));
	for (i = 0; i < n; i++)
		if (get_one(&to, tl, bindip, pre, prelen, tmo) == -1)
			bad++;
	return bad == 0 ? 0 : 1;
}
