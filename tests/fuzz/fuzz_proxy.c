/*
 * fuzz_proxy.c - libFuzzer target for the PROXY protocol parser
 * (proxy_parse, proxy_take; lb/proxy.c), which reads bytes straight from
 * clients before anything else does.
 *
 * The input is copied to a buffer of exactly its size, so ASan sees any
 * read past it (HAProxy's TLV over-read, commit 488ee7fb).  Invariants:
 *   - OK: the header fits the input and PROXY_HDR_MAX (v1: 107 bytes);
 *     the header alone parses to the same result (payload after it does
 *     not matter) and one byte less of it is NEED_MORE or BAD, never OK;
 *     an address it carries, encoded again by proxy_encode, parses back
 *     to the same addresses;
 *   - NEED_MORE: only while shorter than PROXY_HDR_MAX;
 *   - proxy_take never claims more than the bytes it was offered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_addr(const struct sockaddr_storage *a, socklen_t al,
    const struct sockaddr_storage *b, socklen_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

/* An address-carrying header, encoded again, must parse back the same. */
static void
round_trip(const struct proxy_hdr *h)
{
	uint8_t			 buf[PROXY_ENC_MAX];
	struct proxy_hdr	 h2;
	size_t			 len2;
	ssize_t			 n;

	if (!h->has_addr || h->src.ss_family != h->dst.ss_family)
		return;
	n = proxy_encode(h->version, (const struct sockaddr *)&h->src,
	    (const struct sockaddr *)&h->dst, buf, sizeof(buf));
	if (n <= 0 || proxy_parse(buf, (size_t)n, &h2, &len2) != PROXY_OK ||
	    len2 != (size_t)n || !h2.has_addr ||
	    !same_addr(&h->src, h->srclen, &h2.src, h2.srclen) ||
	    !same_addr(&h->dst, h->dstlen, &h2.dst, h2.dstlen))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr	 h, h2;
	enum proxy_rc		 rc;
	size_t			 hdrlen = 0, len2, have;
	uint8_t			*buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = proxy_parse(buf, size, &h, &hdrlen);
	if (rc == PROXY_OK) {
		if (hdrlen == 0 || hdrlen > size || hdrlen > PROXY_HDR_MAX ||
		    (h.version == 1 && hdrlen > PROXY_V1_MAX) ||
		    (h.version != 1 && h.version != 2))
			abort();
		if (proxy_parse(buf, hdrlen, &h2, &len2) != PROXY_OK ||
		    len2 != hdrlen || h2.has_addr != h.has_addr)
			abort();
		if (proxy_parse(buf, hdrlen - 1, &h2, &len2) == PROXY_OK)
			abort();
		round_trip(&h);
	} else if (rc == PROXY_NEED_MORE && size >= PROXY_HDR_MAX)
		abort();
	else if (rc != PROXY_NEED_MORE && rc != PROXY_BAD)
		abort();
	/* The first byte splits the rest into consumed and peeked. */
	if (size > 1) {
		have = data[0] % size;
		if (proxy_take(buf + 1, have > size - 1 ? size - 1 : have,
		    size - 1 - (have > size - 1 ? size - 1 : have)) >
		    size - 1 - (have > size - 1 ? size - 1 : have))
			abort();
	}
	free(buf);
	return 0;
}
