/*
 * fuzz_ctl_proto.c - libFuzzer target for the control-socket request
 * parser (ctl_request_parse) and the client's reply-header parser
 * (ctl_reply_header_parse), both in common/ctl_proto.c.
 *
 * Invariants checked on every accepted request: 1..CTL_ARGS_MAX words,
 * each non-empty, inside req.buf, without spaces or control characters;
 * and a reply header that parses is at most CTL_REPLY_MAX and prints
 * back (ctl_reply_header) to the same status and length.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_request(const struct ctl_request *req)
{
	const char	*p;
	int		 i;

	if (req->argc < 1 || req->argc > CTL_ARGS_MAX)
		abort();
	for (i = 0; i < req->argc; i++) {
		p = req->argv[i];
		if (p < req->buf || p >= req->buf + sizeof(req->buf))
			abort();
		if (*p == '\0')
			abort();
		for (; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				abort();
	}
}

static void
check_reply_header(const uint8_t *data, size_t size)
{
	char	 hdr[32];
	bool	 ok, ok2;
	size_t	 len, len2, n;

	if (ctl_reply_header_parse((const char *)data, size, &ok, &len) == -1)
		return;
	if (len > CTL_REPLY_MAX)
		abort();
	n = ctl_reply_header(hdr, sizeof(hdr), ok, len);
	if (ctl_reply_header_parse(hdr, n, &ok2, &len2) == -1 ||
	    ok2 != ok || len2 != len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request	 req;
	char			 why[128];

	if (ctl_request_parse((const char *)data, size, &req, why,
	    sizeof(why)) == 0)
		check_request(&req);
	else if (why[0] == '\0')
		abort();
	check_reply_header(data, size);
	return 0;
}
