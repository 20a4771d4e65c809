/*
 * proxy.c - PROXY protocol v1/v2 encoding and strict parsing (proxy.h).
 *
 * Pure code, any process.  The parser is written against two real bugs:
 * Envoy CVE-2024-23327 (a crash on a v2 LOCAL header: here LOCAL simply
 * yields has_addr = false and is checked like any other header) and
 * HAProxy's TLV length over-read (here every TLV is bounds-checked
 * against the header's own length before its length is even read).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

static const uint8_t proxy_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define PROXY_V2_VERSION	0x20
#define PROXY_V2_LOCAL		0x00
#define PROXY_V2_PROXY		0x01
#define PROXY_AF_UNSPEC		0x0
#define PROXY_AF_INET		0x1
#define PROXY_AF_INET6		0x2
#define PROXY_AF_UNIX		0x3
#define PROXY_PROTO_UNSPEC	0x0
#define PROXY_PROTO_STREAM	0x1
#define PROXY_V2_LEN_INET	12
#define PROXY_V2_LEN_INET6	36
#define PROXY_V2_LEN_UNIX	216
#define PROXY_V1_MIN		15	/* "PROXY UNKNOWN\r\n" */

static const char *const proxy_send_names[] = {
	[PROXY_SEND_INHERIT] = "inherit",
	[PROXY_SEND_NONE] = "none",
	[PROXY_SEND_V1] = "v1",
	[PROXY_SEND_V2] = "v2",
};

const char *
proxy_send_name(enum proxy_send p)
{
	if ((unsigned)p > PROXY_SEND_V2)
		return "?";
	return proxy_send_names[p];
}

int
proxy_send_lookup(const char *s)
{
	int	 i;

	for (i = PROXY_SEND_NONE; s != NULL && i <= PROXY_SEND_V2; i++)
		if (strcmp(s, proxy_send_names[i]) == 0)
			return i;
	return -1;
}

/*
 * Copies `sa` (IPv4 or IPv6) into *out as IPv6, mapping an IPv4 address
 * (::ffff:a.b.c.d), so a mixed pair can be sent as one family.
 */
static void
proxy_to_v6(const struct sockaddr *sa, struct sockaddr_in6 *out)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

	if (sa->sa_family == AF_INET6) {
		memcpy(out, sa, sizeof(*out));
		return;
	}
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = in->sin_port;
	out->sin6_addr.s6_addr[10] = 0xff;
	out->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
}

static bool
proxy_is_inet(const struct sockaddr *sa)
{
	return sa != NULL && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6);
}

/* v1: "PROXY TCP4 a b p q\r\n", or "PROXY UNKNOWN\r\n". */
static ssize_t
proxy_encode_v1(const struct sockaddr *src, const struct sockaddr *dst,
    uint8_t *buf, size_t len)
{
	struct sockaddr_in6	 s6, d6;
	char			 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	char			 out[PROXY_V1_MAX + 1];
	int			 n;

	if (!proxy_is_inet(src) || !proxy_is_inet(dst))
		n = snprintf(out, sizeof(out), "PROXY UNKNOWN\r\n");
	else if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		inet_ntop(AF_INET, &d->sin_addr, b, sizeof(b));
		n = snprintf(out, sizeof(out), "PROXY TCP4 %s %s %u %u\r\n",
		    a, b, ntohs(s->sin_port), ntohs(d->sin_port));
	} else {
		proxy_to_v6(src, &s6);
		proxy_to_v6(dst, &d6);
		inet_ntop(AF_INET6, &s6.sin6_addr, a, sizeof(a));
		inet_ntop(AF_INET6, &d6.sin6_addr, b, sizeof(b));
		n = snprintf(out, sizeof(out), "PROXY TCP6 %s %s %u %u\r\n",
		    a, b, ntohs(s6.sin6_port), ntohs(d6.sin6_port));
	}
	if (n < 0 || (size_t)n > len) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, out, (size_t)n);
	return n;
}

/* v2: PROXY command with INET or INET6 addresses, or LOCAL. */
static ssize_t
proxy_encode_v2(const struct sockaddr *src, const struct sockaddr *dst,
    uint8_t *buf, size_t len)
{
	struct sockaddr_in6	 s6, d6;
	uint8_t			*p = buf + PROXY_V2_FIXED;
	uint16_t		 alen;

	if (len < PROXY_ENC_MAX) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, proxy_sig, sizeof(proxy_sig));
	if (!proxy_is_inet(src) || !proxy_is_inet(dst)) {
		buf[12] = PROXY_V2_VERSION | PROXY_V2_LOCAL;
		buf[13] = PROXY_AF_UNSPEC << 4 | PROXY_PROTO_UNSPEC;
		alen = 0;
	} else if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		buf[12] = PROXY_V2_VERSION | PROXY_V2_PROXY;
		buf[13] = PROXY_AF_INET << 4 | PROXY_PROTO_STREAM;
		memcpy(p, &s->sin_addr, 4);
		memcpy(p + 4, &d->sin_addr, 4);
		memcpy(p + 8, &s->sin_port, 2);
		memcpy(p + 10, &d->sin_port, 2);
		alen = PROXY_V2_LEN_INET;
	} else {
		proxy_to_v6(src, &s6);
		proxy_to_v6(dst, &d6);
		buf[12] = PROXY_V2_VERSION | PROXY_V2_PROXY;
		buf[13] = PROXY_AF_INET6 << 4 | PROXY_PROTO_STREAM;
		memcpy(p, &s6.sin6_addr, 16);
		memcpy(p + 16, &d6.sin6_addr, 16);
		memcpy(p + 32, &s6.sin6_port, 2);
		memcpy(p + 34, &d6.sin6_port, 2);
		alen = PROXY_V2_LEN_INET6;
	}
	buf[14] = (uint8_t)(alen >> 8);
	buf[15] = (uint8_t)alen;
	return PROXY_V2_FIXED + alen;
}

ssize_t
proxy_encode(int version, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *buf, size_t len)
{
	if (version == 1)
		return proxy_encode_v1(src, dst, buf, len);
	if (version == 2)
		return proxy_encode_v2(src, dst, buf, len);
	errno = EINVAL;
	return -1;
}

/*
 * A v1 port: 1 to 5 decimal digits, no leading zero (but "0"), at most
 * 65535.  `s` is NUL-terminated.  Returns 0 and *port, or -1.
 */
static int
proxy_v1_port(const char *s, uint16_t *port)
{
	uint32_t	 v = 0;
	size_t		 i, n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* One v1 address of family `af` into *ss. */
static int
proxy_v1_addr(int af, const char *ip, const char *port,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	uint16_t	 p;

	memset(ss, 0, sizeof(*ss));
	if (proxy_v1_port(port, &p) == -1)
		return -1;
	if (af == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, ip, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons(p);
		*sslen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		/* inet_pton would accept a dotted quad tail; fine for TCP6. */
		if (strchr(ip, ':') == NULL ||
		    inet_pton(AF_INET6, ip, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*sslen = sizeof(*in6);
	}
	return 0;
}

/*
 * Splits the v1 line (CRLF already removed, NUL-terminated, in `line`)
 * into exactly `max` single-space separated fields.  Returns the count,
 * or -1 on an empty field (two spaces, leading or trailing space).
 */
static int
proxy_v1_split(char *line, char **f, int max)
{
	int	 n = 0;
	char	*p = line;

	for (;;) {
		if (n == max || *p == ' ' || *p == '\0')
			return -1;
		f[n++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			return n;
		*p++ = '\0';
	}
}

/* v1 body: buf[0..len) starts with "PROXY ". */
static enum proxy_rc
proxy_parse_v1(const uint8_t *buf, size_t len, struct proxy_hdr *h,
    size_t *hdrlen)
{
	char		 line[PROXY_V1_MAX + 1];
	char		*f[6];
	const uint8_t	*lf;
	size_t		 n, scan = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	int		 af;

	if ((lf = memchr(buf, '\n', scan)) == NULL)
		return len >= PROXY_V1_MAX ? PROXY_BAD : PROXY_NEED_MORE;
	n = (size_t)(lf - buf);			/* bytes before LF */
	if (n < PROXY_V1_MIN - 1 || buf[n - 1] != '\r' ||
	    memchr(buf, '\r', n - 1) != NULL || memchr(buf, '\0', n) != NULL)
		return PROXY_BAD;
	memcpy(line, buf, n - 1);
	line[n - 1] = '\0';
	*hdrlen = n + 1;
	h->version = 1;
	h->has_addr = false;
	if (strcmp(line, "PROXY UNKNOWN") == 0 ||
	    strncmp(line, "PROXY UNKNOWN ", 14) == 0)
		return PROXY_OK;
	if (proxy_v1_split(line, f, 6) != 6)
		return PROXY_BAD;
	if (strcmp(f[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		af = AF_INET6;
	else
		return PROXY_BAD;
	if (proxy_v1_addr(af, f[2], f[4], &h->src, &h->srclen) == -1 ||
	    proxy_v1_addr(af, f[3], f[5], &h->dst, &h->dstlen) == -1)
		return PROXY_BAD;
	h->has_addr = true;
	return PROXY_OK;
}

/*
 * Walks the TLVs in tlv[0..len): each is type (1), length (2, big
 * endian), value.  Every header is checked to fit before its length is
 * read, and every value to fit before the next TLV.  Returns 0 when they
 * tile the space exactly, else -1.
 */
static int
proxy_v2_tlvs(const uint8_t *tlv, size_t len)
{
	size_t	 off = 0, vlen;

	while (off < len) {
		if (len - off < 3)
			return -1;
		vlen = (size_t)tlv[off + 1] << 8 | tlv[off + 2];
		if (vlen > len - off - 3)
			return -1;
		off += 3 + vlen;
	}
	return 0;
}

/* v2 addresses of family `fam` from a[0..alen), alen already checked. */
static void
proxy_v2_addrs(int fam, const uint8_t *a, struct proxy_hdr *h)
{
	memset(&h->src, 0, sizeof(h->src));
	memset(&h->dst, 0, sizeof(h->dst));
	if (fam == PROXY_AF_INET) {
		struct sockaddr_in *s = (void *)&h->src, *d = (void *)&h->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
		h->srclen = h->dstlen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)&h->src, *d = (void *)&h->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
		h->srclen = h->dstlen = sizeof(*s);
	}
	h->has_addr = true;
}

/* v2: buf[0..len) starts with (a prefix of) the signature. */
static enum proxy_rc
proxy_parse_v2(const uint8_t *buf, size_t len, struct proxy_hdr *h,
    size_t *hdrlen)
{
	size_t	 alen, need;
	int	 cmd, fam, proto;

	if (len < PROXY_V2_FIXED)
		return PROXY_NEED_MORE;
	if ((buf[12] & 0xf0) != PROXY_V2_VERSION)
		return PROXY_BAD;
	cmd = buf[12] & 0x0f;
	fam = buf[13] >> 4;
	proto = buf[13] & 0x0f;
	alen = (size_t)buf[14] << 8 | buf[15];
	if (cmd > PROXY_V2_PROXY || fam > PROXY_AF_UNIX ||
	    proto > PROXY_PROTO_STREAM || PROXY_V2_FIXED + alen > PROXY_HDR_MAX)
		return PROXY_BAD;
	need = fam == PROXY_AF_INET ? PROXY_V2_LEN_INET :
	    fam == PROXY_AF_INET6 ? PROXY_V2_LEN_INET6 :
	    fam == PROXY_AF_UNIX ? PROXY_V2_LEN_UNIX : 0;
	/* A LOCAL header's block is skipped whole, whatever it says. */
	if (cmd == PROXY_V2_LOCAL)
		need = 0;
	else if ((fam != PROXY_AF_UNSPEC) != (proto != PROXY_PROTO_UNSPEC))
		return PROXY_BAD;	/* a family needs a protocol */
	if (alen < need)
		return PROXY_BAD;
	if (len < PROXY_V2_FIXED + alen)
		return PROXY_NEED_MORE;
	/* UNSPEC: the block is to be discarded unread (spec, 2.2). */
	if (cmd == PROXY_V2_PROXY && fam != PROXY_AF_UNSPEC &&
	    proxy_v2_tlvs(buf + PROXY_V2_FIXED + need, alen - need) == -1)
		return PROXY_BAD;
	h->version = 2;
	h->has_addr = false;
	if (cmd == PROXY_V2_PROXY &&
	    (fam == PROXY_AF_INET || fam == PROXY_AF_INET6))
		proxy_v2_addrs(fam, buf + PROXY_V2_FIXED, h);
	*hdrlen = PROXY_V2_FIXED + alen;
	return PROXY_OK;
}

enum proxy_rc
proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h,
    size_t *hdrlen)
{
	static const char v1[] = "PROXY ";
	size_t		  n;

	if (len == 0)
		return PROXY_NEED_MORE;
	if (buf[0] == 'P') {
		n = len < 6 ? len : 6;
		if (memcmp(buf, v1, n) != 0)
			return PROXY_BAD;
		return n < 6 ? PROXY_NEED_MORE : proxy_parse_v1(buf, len, h,
		    hdrlen);
	}
	n = len < sizeof(proxy_sig) ? len : sizeof(proxy_sig);
	if (memcmp(buf, proxy_sig, n) != 0)
		return PROXY_BAD;
	return proxy_parse_v2(buf, len, h, hdrlen);
}

size_t
proxy_take(const uint8_t *buf, size_t have, size_t n)
{
	const uint8_t	*lf;
	size_t		 total = have + n, need;

	if (n == 0)
		return 0;
	if (buf[0] != '\r') {
		/* v1 (or garbage the parser rejects): up to the first LF. */
		lf = memchr(buf + have, '\n', n);
		return lf == NULL ? n : (size_t)(lf - (buf + have)) + 1;
	}
	if (total < PROXY_V2_FIXED)
		return n;
	need = PROXY_V2_FIXED + ((size_t)buf[14] << 8 | buf[15]);
	if (need <= have)
		return 0;
	return need - have < n ? need - have : n;
}
