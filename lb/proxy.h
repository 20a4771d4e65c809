/*
 * proxy.h - the PROXY protocol (HAProxy, versions 1 and 2): encoding the
 * header lbd sends to a server (send_proxy) and strictly parsing the one
 * a client sends (accept_proxy).
 *
 * Pure: no I/O, no logging, no allocation, so every function can be
 * unit-tested and fuzzed on byte buffers.  The session (session.c) does
 * the reading and writing.
 *
 * Parsing rules (strict on purpose; a balancer in front of us that sends
 * anything else is misconfigured or hostile):
 *   v1: "PROXY" SP ("TCP4" | "TCP6") SP srcip SP dstip SP sport SP dport
 *       CRLF, single spaces, addresses as inet_pton reads them for the
 *       named family, ports decimal 0..65535 without leading zeros; or
 *       "PROXY UNKNOWN" followed by anything up to CRLF.  At most 107
 *       bytes, CRLF included.
 *   v2: the 12-byte signature, version 2, command LOCAL or PROXY, family
 *       UNSPEC/INET/INET6/UNIX with protocol UNSPEC or STREAM, a length
 *       that covers the addresses of the family, and TLVs that each fit
 *       inside that length exactly (skipped, never interpreted).  LOCAL
 *       and UNSPEC/UNIX carry no usable address: the connection's own
 *       addresses stand.  The whole header is at most PROXY_HDR_MAX.
 */
#ifndef LB_PROXY_H
#define LB_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PROXY_V1_MAX	107	/* the spec's bound, CRLF included */
#define PROXY_V2_FIXED	16	/* signature, ver/cmd, family, length */
#define PROXY_HDR_MAX	1024	/* what we accept in all, TLVs included */
#define PROXY_ENC_MAX	(PROXY_V2_FIXED + 36)	/* what we ever send */

/* What a session sends to its server; values as stored in the table. */
enum proxy_send {
	PROXY_SEND_INHERIT = 0,	/* server: use the pool's setting */
	PROXY_SEND_NONE = 1,
	PROXY_SEND_V1 = 2,
	PROXY_SEND_V2 = 3,
};

enum proxy_rc {
	PROXY_OK = 0,		/* a whole, valid header */
	PROXY_NEED_MORE = 1,	/* valid so far, incomplete */
	PROXY_BAD = 2,		/* malformed: close the connection */
};

/* A parsed header. */
struct proxy_hdr {
	int			 version;	/* 1 or 2 */
	bool			 has_addr;	/* false: LOCAL / UNKNOWN / UNSPEC */
	struct sockaddr_storage	 src;		/* valid when has_addr */
	struct sockaddr_storage	 dst;
	socklen_t		 srclen;
	socklen_t		 dstlen;
};

/*
 * Encodes a version `version` (1 or 2) header for a connection from `src`
 * to `dst` into buf (len bytes; PROXY_ENC_MAX always suffices).  Address
 * families other than IPv4/IPv6 give v1 "UNKNOWN" / v2 LOCAL; an IPv4 and
 * an IPv6 address together are sent as IPv6 (the IPv4 one mapped).
 * Returns the header length, or -1 with errno EINVAL (bad version) or
 * ENOSPC (buf too small).
 */
ssize_t proxy_encode(int version, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *buf, size_t len);

/*
 * Parses a header at the start of buf[0..len).  On PROXY_OK, *hdrlen is
 * the header's length (bytes after it are payload) and *h is filled.
 * Never reads past buf[len - 1].
 */
enum proxy_rc proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *h,
    size_t *hdrlen);

/*
 * Reading without over-reading: buf[0..have) has been consumed from the
 * socket and buf[have..have + n) was peeked after it.  Returns how many of
 * those n bytes certainly belong to the header, so they may be consumed
 * without taking any payload that follows it.  Every v1 and v2 header is
 * at least 15 bytes, a v1 header ends at its first LF, a v2 one after 16
 * + its length field.
 */
size_t proxy_take(const uint8_t *buf, size_t have, size_t n);

/* "none", "v1", "v2" (and "inherit") for lbctl and logs. */
const char *proxy_send_name(enum proxy_send p);
/* enum proxy_send for "none", "v1" or "v2"; -1 otherwise. */
int proxy_send_lookup(const char *s);

#endif
