/*
 * addr.c - socket address parsing and formatting (see addr.h).
 *
 * Numeric only: inet_pton, never getaddrinfo, so a typo is an error now
 * rather than a DNS lookup later.  Pure: no logging, no I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/*
 * Parses a port: 1 to 5 decimal digits, value 1..65535, nothing after.
 * Returns the port, or -1.
 */
static int
addr_parse_port(const char *s)
{
	int	 v = 0;
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v < 1 || v > 65535)
		return -1;
	return v;
}

/* "[v6]:port": `s` points at the '['. */
static int
addr_parse6(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*end;
	size_t			 hlen;
	int			 port;

	if ((end = strchr(s, ']')) == NULL || end[1] != ':')
		return -1;
	hlen = (size_t)(end - (s + 1));
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s + 1, hlen);
	host[hlen] = '\0';
	if ((port = addr_parse_port(end + 2)) == -1)
		return -1;
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	*len = sizeof(*sin6);
	return 0;
}

/* "a.b.c.d:port" or "*:port". */
static int
addr_parse4(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	char			 host[INET_ADDRSTRLEN];
	const char		*colon;
	size_t			 hlen;
	int			 port;

	/* Exactly one colon: a bare IPv6 address must use brackets. */
	if ((colon = strchr(s, ':')) == NULL || strchr(colon + 1, ':') != NULL)
		return -1;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if ((port = addr_parse_port(colon + 1)) == -1)
		return -1;
	if (strcmp(host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*len = sizeof(*sin);
	return 0;
}

/*
 * Parses "1.2.3.4:80", "*:80", "[::1]:80" into *ss (zeroed first) and
 * *len.  Returns 0, or -1 with errno EINVAL; *ss is unspecified then.
 */
int
addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	int rc;

	if (s == NULL || ss == NULL || len == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	rc = s[0] == '[' ? addr_parse6(s, ss, len) : addr_parse4(s, ss, len);
	if (rc == -1)
		errno = EINVAL;
	return rc;
}

/*
 * Formats only the host: "1.2.3.4" or "::1".  An unknown family prints
 * as "<af N>".  Always returns a NUL-terminated string (buf, or "" when
 * buflen is 0).
 */
const char *
addr_format_host(const struct sockaddr *sa, char *buf, size_t buflen)
{
	char		 tmp[INET6_ADDRSTRLEN];
	const void	*src;

	if (buf == NULL || buflen == 0)
		return "";
	if (sa == NULL) {
		snprintf(buf, buflen, "<none>");
		return buf;
	}
	if (sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else {
		snprintf(buf, buflen, "<af %d>", (int)sa->sa_family);
		return buf;
	}
	if (inet_ntop(sa->sa_family, src, tmp, sizeof(tmp)) == NULL)
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(buf, buflen, "%s", tmp);
	return buf;
}

/* Formats "1.2.3.4:80" or "[::1]:80"; other families as the host only. */
const char *
addr_format(const struct sockaddr *sa, char *buf, size_t buflen)
{
	char host[INET6_ADDRSTRLEN + 8];

	if (buf == NULL || buflen == 0)
		return "";
	addr_format_host(sa, host, sizeof(host));
	if (sa != NULL && sa->sa_family == AF_INET)
		snprintf(buf, buflen, "%s:%u", host, addr_port(sa));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		snprintf(buf, buflen, "[%s]:%u", host, addr_port(sa));
	else
		snprintf(buf, buflen, "%s", host);
	return buf;
}

unsigned
addr_port(const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

bool
addr_is_any(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}
