/*
 * addr.h - socket address parsing and formatting.
 *
 * Accepted forms: "1.2.3.4:80", "[::1]:80", "*:80" / "0.0.0.0:80" (any
 * IPv4), "[::]:80".  Hostnames are rejected on purpose: a balancer must
 * not depend on DNS at start-up or reload.  Port 1..65535 (0 allowed only
 * with ADDR_PORT_OPTIONAL and then stored as 0).
 */
#ifndef LB_ADDR_H
#define LB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ADDR_STRLEN	64	/* "[ipv6]:port" plus NUL fits */

/* Parses `s`.  Returns 0 and fills *ss and *len, or -1 with errno EINVAL. */
int addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Formats as "1.2.3.4:80" or "[::1]:80" into buf (>= ADDR_STRLEN). */
const char *addr_format(const struct sockaddr *sa, char *buf, size_t buflen);

/* Formats only the host part ("1.2.3.4" or "::1"). */
const char *addr_format_host(const struct sockaddr *sa, char *buf,
    size_t buflen);

/* True for the IPv4 or IPv6 wildcard address (0.0.0.0, ::). */
bool addr_is_any(const struct sockaddr *sa);

/* Port in host order, 0 for non-inet families. */
unsigned addr_port(const struct sockaddr *sa);

#endif
