/*
 * test_addr.c - numeric socket addresses: IPv4, IPv6, wildcards, ports,
 * hostnames rejected, formatting round trips and small buffers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <check.h>

#include "addr.h"

/* Parses `s`, expects success, and checks it formats back as `want`. */
static void
round_trip(const char *s, int family, unsigned port, const char *want)
{
	struct sockaddr_storage	ss;
	socklen_t		len = 0;
	char			buf[ADDR_STRLEN];

	ck_assert_msg(addr_parse(s, &ss, &len) == 0, "\"%s\" rejected", s);
	ck_assert_int_eq(ss.ss_family, family);
	ck_assert_uint_eq(len, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(addr_port((struct sockaddr *)&ss), port);
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), want);
}

static void
bad(const char *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len = 0;

	errno = 0;
	ck_assert_msg(addr_parse(s, &ss, &len) == -1, "\"%s\" accepted",
	    s ? s : "(null)");
	ck_assert_int_eq(errno, EINVAL);
}

START_TEST(test_ipv4)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	round_trip("1.2.3.4:80", AF_INET, 80, "1.2.3.4:80");
	round_trip("127.0.0.1:9001", AF_INET, 9001, "127.0.0.1:9001");
	round_trip("255.255.255.255:65535", AF_INET, 65535,
	    "255.255.255.255:65535");
	round_trip("10.0.0.1:1", AF_INET, 1, "10.0.0.1:1");
	ck_assert_int_eq(addr_parse("10.1.2.3:443", &ss, &len), 0);
	ck_assert_uint_eq(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr),
	    0x0a010203u);
}
END_TEST

START_TEST(test_ipv6)
{
	round_trip("[::1]:80", AF_INET6, 80, "[::1]:80");
	round_trip("[2001:db8::1]:443", AF_INET6, 443, "[2001:db8::1]:443");
	round_trip("[2001:0db8:0000::0001]:443", AF_INET6, 443,
	    "[2001:db8::1]:443");
	round_trip("[::ffff:1.2.3.4]:8080", AF_INET6, 8080,
	    "[::ffff:1.2.3.4]:8080");
	/* The longest form fits ADDR_STRLEN. */
	round_trip("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535",
	    AF_INET6, 65535,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	round_trip("[1111:2222:3333:4444:5555:6666:7777:8888]:65535",
	    AF_INET6, 65535, "[1111:2222:3333:4444:5555:6666:7777:8888]:65535");
}
END_TEST

START_TEST(test_any)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	round_trip("*:80", AF_INET, 80, "0.0.0.0:80");
	round_trip("0.0.0.0:80", AF_INET, 80, "0.0.0.0:80");
	round_trip("[::]:443", AF_INET6, 443, "[::]:443");
	ck_assert_int_eq(addr_parse("*:80", &ss, &len), 0);
	ck_assert_uint_eq(((struct sockaddr_in *)&ss)->sin_addr.s_addr,
	    htonl(INADDR_ANY));
	ck_assert(addr_is_any((struct sockaddr *)&ss));
	ck_assert_int_eq(addr_parse("[::]:80", &ss, &len), 0);
	ck_assert(addr_is_any((struct sockaddr *)&ss));
	ck_assert_int_eq(addr_parse("127.0.0.1:80", &ss, &len), 0);
	ck_assert(!addr_is_any((struct sockaddr *)&ss));
	ck_assert_int_eq(addr_parse("[::1]:80", &ss, &len), 0);
	ck_assert(!addr_is_any((struct sockaddr *)&ss));
}
END_TEST

START_TEST(test_bad_ports)
{
	bad("1.2.3.4");
	bad("1.2.3.4:");
	bad("1.2.3.4:0");
	bad("1.2.3.4:00000");
	bad("1.2.3.4:65536");
	bad("1.2.3.4:100000");
	bad("1.2.3.4:-1");
	bad("1.2.3.4:+80");
	bad("1.2.3.4:80x");
	bad("1.2.3.4: 80");
	bad("1.2.3.4:80 ");
	bad("1.2.3.4:0x50");
	bad("*:");
	bad("*");
	bad("[::1]:");
	bad("[::1]:0");
	bad("[::1]:65536");
	bad("[::]");
}
END_TEST

START_TEST(test_hostnames_rejected)
{
	bad("localhost:80");
	bad("example.com:80");
	bad("db-1:5432");
	bad("[localhost]:80");
	bad("1.2.3:80");
	bad("1.2.3.4.5:80");
	bad("256.1.1.1:80");
	bad("01.2.3.4:80");
	bad(" 1.2.3.4:80");
	bad("1.2.3.4 :80");
}
END_TEST

START_TEST(test_brackets)
{
	bad("::1:80");			/* IPv6 needs brackets */
	bad("::1");
	bad("2001:db8::1:443");
	bad("[::1]");
	bad("[::1]80");
	bad("[::1:80");
	bad("::1]:80");
	bad("[]:80");
	bad("[1.2.3.4]:80");		/* IPv4 must not have them */
	bad("[::1]]:80");
	bad("[[::1]]:80");
	bad("[*]:80");
	bad("[fe80::1%eth0]:80");	/* no scoped addresses */
	bad("");
	bad(":80");
	bad(NULL);
}
END_TEST

START_TEST(test_format)
{
	struct sockaddr_storage	ss;
	struct sockaddr_un	sun;
	socklen_t		len;
	char			buf[ADDR_STRLEN], small[6];

	ck_assert_int_eq(addr_parse("[2001:db8::7]:8443", &ss, &len), 0);
	ck_assert_str_eq(addr_format_host((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "2001:db8::7");
	ck_assert_int_eq(addr_parse("192.168.1.20:22", &ss, &len), 0);
	ck_assert_str_eq(addr_format_host((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.168.1.20");
	/* Truncated but terminated. */
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, small,
	    sizeof(small)), "192.1");
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, buf, 0), "");
	ck_assert_str_eq(addr_format_host((struct sockaddr *)&ss, buf, 0), "");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_eq(addr_port((struct sockaddr *)&sun), 0);
	ck_assert_str_eq(addr_format((struct sockaddr *)&sun, buf,
	    sizeof(buf)), "<af 1>");
	ck_assert_uint_eq(addr_port(NULL), 0);
	ck_assert_str_eq(addr_format(NULL, buf, sizeof(buf)), "<none>");
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc = tcase_create("addr");

	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_any);
	tcase_add_test(tc, test_bad_ports);
	tcase_add_test(tc, test_hostnames_rejected);
	tcase_add_test(tc, test_brackets);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(addr_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
