/*
 * test_proxy.c - PROXY protocol v1/v2: the spec's examples, encode/parse
 * round trips, every prefix of a valid header reading as "need more",
 * the byte-exact take() rule, malformed headers (v1 grammar, v2 version,
 * command, family, lengths, truncated TLVs, LOCAL), and random input
 * that must never crash or over-read (run under ASan).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "proxy.h"

static const uint8_t SIG[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a,
    0x51, 0x55, 0x49, 0x54, 0x0a };

static enum proxy_rc
parse_str(const char *s, struct proxy_hdr *h, size_t *hl)
{
	return proxy_parse((const uint8_t *)s, strlen(s), h, hl);
}

static struct sockaddr_in
in4(const char *ip, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6
in6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

/* A v2 header: fixed part with ver_cmd, fam, then `blen` body bytes. */
static size_t
v2(uint8_t *out, uint8_t vc, uint8_t fam, const uint8_t *body, size_t blen)
{
	memcpy(out, SIG, 12);
	out[12] = vc;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

START_TEST(v1_spec_examples)
{
	struct proxy_hdr	 h;
	size_t			 hl;
	const char *tcp4 = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 "
	    "65535\r\n";
	const char *tcp6 = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	const char *unk = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";

	ck_assert_uint_eq(strlen(tcp6), 104);
	ck_assert_uint_eq(strlen(unk), 107);	/* the worst case */
	ck_assert_int_eq(parse_str(tcp4, &h, &hl), PROXY_OK);
	ck_assert_uint_eq(hl, strlen(tcp4));
	ck_assert(h.has_addr);
	ck_assert_int_eq(h.src.ss_family, AF_INET);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&h.src)->sin_port),
	    65535);
	ck_assert_int_eq(parse_str(tcp6, &h, &hl), PROXY_OK);
	ck_assert_int_eq(h.src.ss_family, AF_INET6);
	ck_assert_int_eq(parse_str(unk, &h, &hl), PROXY_OK);
	ck_assert(!h.has_addr);
	ck_assert_uint_eq(hl, 107);
	ck_assert_int_eq(parse_str("PROXY UNKNOWN\r\n", &h, &hl), PROXY_OK);
	ck_assert_uint_eq(hl, 15);
	ck_assert(!h.has_addr);
}
END_TEST

START_TEST(v1_fields)
{
	struct proxy_hdr	 h;
	size_t			 hl;
	const char *s = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /";
	const struct sockaddr_in *src = (const void *)&h.src;
	const struct sockaddr_in *dst = (const void *)&h.dst;

	ck_assert_int_eq(parse_str(s, &h, &hl), PROXY_OK);
	ck_assert_uint_eq(hl, strlen(s) - 5);	/* payload not taken */
	ck_assert_int_eq(h.version, 1);
	ck_assert_uint_eq(ntohl(src->sin_addr.s_addr), 0xc0a80001);
	ck_assert_uint_eq(ntohl(dst->sin_addr.s_addr), 0xc0a8000b);
	ck_assert_uint_eq(ntohs(src->sin_port), 56324);
	ck_assert_uint_eq(ntohs(dst->sin_port), 443);
	ck_assert_uint_eq(h.srclen, sizeof(struct sockaddr_in));
}
END_TEST

START_TEST(v1_malformed)
{
	static const char *const bad[] = {
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",		/* no CR */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
		"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",		/* two spaces */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",		/* trailing */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",		/* 5 fields */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",		/* 7 fields */
		"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 ::1 ::1 1 2\r\n",			/* family */
		"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",		/* leading 0 */
		"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1a 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n",
		"PROXY\r\n",
		"PROXY \r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"GET / HTTP/1.0\r\n",
		"\r\n\r\nX",
		NULL
	};
	struct proxy_hdr	 h;
	size_t			 hl, i;
	char			 big[200];

	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(parse_str(bad[i], &h, &hl) == PROXY_BAD,
		    "accepted: %s", bad[i]);
	/* 108 bytes without LF: past the bound. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxy_parse((uint8_t *)big, 108, &h, &hl), PROXY_BAD);
	ck_assert_int_eq(proxy_parse((uint8_t *)big, 106, &h, &hl),
	    PROXY_NEED_MORE);
	/* 108 bytes ending in CRLF: one too many. */
	big[106] = '\r';
	big[107] = '\n';
	ck_assert_int_eq(proxy_parse((uint8_t *)big, 108, &h, &hl), PROXY_BAD);
	/* A NUL inside the line. */
	ck_assert_int_eq(proxy_parse((const uint8_t *)"PROXY UNKNOWN \0x\r\n",
	    18, &h, &hl), PROXY_BAD);
}
END_TEST

START_TEST(v2_local)
{
	uint8_t			 b[64];
	struct proxy_hdr	 h;
	size_t			 hl, n;
	const uint8_t		 junk[5] = { 1, 2, 3, 4, 5 };

	/* Envoy CVE-2024-23327: LOCAL must be handled, not crash. */
	n = v2(b, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_OK);
	ck_assert_uint_eq(hl, 16);
	ck_assert(!h.has_addr);
	ck_assert_int_eq(h.version, 2);
	/* LOCAL with a family and a short block: skipped whole. */
	n = v2(b, 0x20, 0x11, junk, sizeof(junk));
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_OK);
	ck_assert_uint_eq(hl, 21);
	ck_assert(!h.has_addr);
	/* PROXY + UNSPEC: accepted, no address. */
	n = v2(b, 0x21, 0x00, junk, sizeof(junk));
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_OK);
	ck_assert(!h.has_addr);
}
END_TEST

START_TEST(v2_addresses_and_tlvs)
{
	uint8_t			 b[128], body[64];
	struct proxy_hdr	 h;
	size_t			 hl, n;
	const struct sockaddr_in *s4 = (const void *)&h.src;

	/* 10.0.0.1:1234 -> 10.0.0.2:80, then a TLV (ALPN "h2") and NOOP. */
	memcpy(body, "\x0a\x00\x00\x01\x0a\x00\x00\x02\x04\xd2\x00\x50", 12);
	memcpy(body + 12, "\x01\x00\x02h2\x04\x00\x00", 8);
	n = v2(b, 0x21, 0x11, body, 20);
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_OK);
	ck_assert_uint_eq(hl, 36);
	ck_assert(h.has_addr);
	ck_assert_uint_eq(ntohl(s4->sin_addr.s_addr), 0x0a000001);
	ck_assert_uint_eq(ntohs(s4->sin_port), 1234);
	/* HAProxy 488ee7fb: a TLV whose length runs past the header. */
	memcpy(body + 12, "\x01\x00\x09h2\x04\x00\x00", 8);
	n = v2(b, 0x21, 0x11, body, 20);
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	/* A TLV header cut short (2 of 3 bytes). */
	memcpy(body + 12, "\x04\x00", 2);
	n = v2(b, 0x21, 0x11, body, 14);
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	/* INET6 over STREAM. */
	memset(body, 0, 36);
	body[15] = 1;
	body[31] = 2;
	body[33] = 7;
	n = v2(b, 0x21, 0x21, body, 36);
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_OK);
	ck_assert_int_eq(h.src.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&h.src)->sin6_port),
	    7);
}
END_TEST

START_TEST(v2_malformed)
{
	uint8_t			 b[2048], body[1100];
	struct proxy_hdr	 h;
	size_t			 hl, n;

	memset(body, 0, sizeof(body));
	n = v2(b, 0x11, 0x11, body, 12);	/* version 1 */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	n = v2(b, 0x22, 0x11, body, 12);	/* command 2 */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	n = v2(b, 0x21, 0x41, body, 12);	/* family 4 */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	n = v2(b, 0x21, 0x12, body, 12);	/* DGRAM */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	n = v2(b, 0x21, 0x10, body, 12);	/* INET without protocol */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	n = v2(b, 0x21, 0x11, body, 11);	/* too short for INET */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	n = v2(b, 0x21, 0x21, body, 35);	/* too short for INET6 */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	n = v2(b, 0x21, 0x31, body, 215);	/* too short for UNIX */
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	/* Over our bound: rejected from the fixed part alone. */
	v2(b, 0x21, 0x11, body, PROXY_HDR_MAX - 15);
	ck_assert_int_eq(proxy_parse(b, 16, &h, &hl), PROXY_BAD);
	/* A damaged signature. */
	n = v2(b, 0x21, 0x11, body, 12);
	b[7] = 'q';
	ck_assert_int_eq(proxy_parse(b, n, &h, &hl), PROXY_BAD);
	ck_assert_int_eq(proxy_parse(b, 7, &h, &hl), PROXY_NEED_MORE);
	ck_assert_int_eq(proxy_parse(b, 8, &h, &hl), PROXY_BAD);
}
END_TEST

/* Every prefix of a valid header needs more; take() never over-reads. */
static void
check_prefixes_and_take(const uint8_t *hdr, size_t hlen)
{
	uint8_t			 buf[256], sock[300];
	struct proxy_hdr	 h;
	size_t			 hl, i, have, chunk, t, avail;

	for (i = 0; i < hlen; i++)
		ck_assert_int_eq(proxy_parse(hdr, i, &h, &hl), PROXY_NEED_MORE);
	memcpy(sock, hdr, hlen);
	memcpy(sock + hlen, "PAYLOAD\r\n", 9);	/* looks like more header */
	for (chunk = 1; chunk <= 40; chunk++) {
		have = 0;
		for (i = 0; i < 200; i++) {
			avail = hlen + 9 - have;
			if (avail > chunk)
				avail = chunk;
			memcpy(buf + have, sock + have, avail);	/* the peek */
			t = proxy_take(buf, have, avail);
			have += t;
			if (proxy_parse(buf, have, &h, &hl) == PROXY_OK)
				break;
		}
		ck_assert_uint_eq(have, hlen);
		ck_assert_uint_eq(hl, hlen);
	}
}

START_TEST(encode_roundtrip)
{
	struct sockaddr_in	 a = in4("127.0.0.5", 40000), b = in4("10.1.2.3",
	    8080);
	struct sockaddr_in6	 c = in6("2001:db8::1", 5), d = in6("::1", 443);
	struct proxy_hdr	 h;
	uint8_t			 buf[PROXY_ENC_MAX];
	ssize_t			 n;
	size_t			 hl;
	int			 v;

	for (v = 1; v <= 2; v++) {
		n = proxy_encode(v, (void *)&a, (void *)&b, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(proxy_parse(buf, (size_t)n, &h, &hl),
		    PROXY_OK);
		ck_assert_uint_eq(hl, (size_t)n);
		ck_assert_int_eq(h.version, v);
		ck_assert_mem_eq(&h.src, &a, sizeof(a));
		ck_assert_mem_eq(&h.dst, &b, sizeof(b));
		check_prefixes_and_take(buf, (size_t)n);
		n = proxy_encode(v, (void *)&c, (void *)&d, buf, sizeof(buf));
		ck_assert_int_eq(proxy_parse(buf, (size_t)n, &h, &hl),
		    PROXY_OK);
		ck_assert_mem_eq(&((struct sockaddr_in6 *)&h.src)->sin6_addr,
		    &c.sin6_addr, 16);
		check_prefixes_and_take(buf, (size_t)n);
		/* Mixed families: the IPv4 side is mapped. */
		n = proxy_encode(v, (void *)&a, (void *)&d, buf, sizeof(buf));
		ck_assert_int_eq(proxy_parse(buf, (size_t)n, &h, &hl),
		    PROXY_OK);
		ck_assert_int_eq(h.src.ss_family, AF_INET6);
		/* No inet address: UNKNOWN / LOCAL. */
		n = proxy_encode(v, NULL, (void *)&b, buf, sizeof(buf));
		ck_assert_int_eq(proxy_parse(buf, (size_t)n, &h, &hl),
		    PROXY_OK);
		ck_assert(!h.has_addr);
	}
	n = proxy_encode(1, (void *)&a, (void *)&b, buf, 10);
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(proxy_encode(3, (void *)&a, (void *)&b, buf,
	    sizeof(buf)), -1);
	n = proxy_encode(1, (void *)&a, (void *)&b, buf, sizeof(buf));
	ck_assert_mem_eq(buf, "PROXY TCP4 127.0.0.5 10.1.2.3 40000 8080\r\n",
	    (size_t)n);
}
END_TEST

/* Random bytes behind each prefix: no crash, no over-read (ASan). */
START_TEST(random_input)
{
	uint8_t			*buf;
	struct proxy_hdr	 h;
	size_t			 hl, len, i, j;
	uint64_t		 x = 88172645463325252ull;
	enum proxy_rc		 rc;

	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = x % 140;
		/* Exact-size heap buffer: ASan catches any over-read. */
		buf = malloc(len + 1);
		ck_assert_ptr_nonnull(buf);
		for (j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[j] = (uint8_t)(x >> 11);
			if ((x & 7) < 3)
				buf[j] = "0 .:\r\nP4"[x >> 40 & 7];
		}
		if (len >= 12 && (i & 1))
			memcpy(buf, SIG, 12);
		else if (len >= 11 && (i & 2))
			memcpy(buf, "PROXY TCP4 ", 11);
		rc = proxy_parse(buf, len, &h, &hl);
		if (rc == PROXY_OK)
			ck_assert_uint_le(hl, len);
		(void)proxy_take(buf, 0, len);
		free(buf);
	}
}
END_TEST

START_TEST(send_names)
{
	ck_assert_int_eq(proxy_send_lookup("v1"), PROXY_SEND_V1);
	ck_assert_int_eq(proxy_send_lookup("v2"), PROXY_SEND_V2);
	ck_assert_int_eq(proxy_send_lookup("none"), PROXY_SEND_NONE);
	ck_assert_int_eq(proxy_send_lookup("inherit"), -1);
	ck_assert_int_eq(proxy_send_lookup("v3"), -1);
	ck_assert_str_eq(proxy_send_name(PROXY_SEND_V2), "v2");
}
END_TEST

static Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc = tcase_create("proxy");

	tcase_add_test(tc, v1_spec_examples);
	tcase_add_test(tc, v1_fields);
	tcase_add_test(tc, v1_malformed);
	tcase_add_test(tc, v2_local);
	tcase_add_test(tc, v2_addresses_and_tlvs);
	tcase_add_test(tc, v2_malformed);
	tcase_add_test(tc, encode_roundtrip);
	tcase_add_test(tc, random_input);
	tcase_add_test(tc, send_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(proxy_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
