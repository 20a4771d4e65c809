/*
 * test_conf_health.c - the health group of lbd.conf: defaults, a pool's
 * settings inherited and overridden by a server, hex data, and every
 * validation error reported as FILE:LINE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cfg.h"
#include "conf.h"
#include "conf_health.h"

/* A config whose pool has `pool_h` and whose server "a" has `srv_h`. */
static struct conf *
load(const char *pool_h, const char *srv_h, struct cfg_errors *errs)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "pools = (\n"				/* 1 */
	    " {\n"					/* 2 */
	    "  name = \"p\";\n"				/* 3 */
	    "  %s\n"					/* 4 */
	    "  servers = (\n"				/* 5 */
	    "   { name = \"a\"; address = \"127.0.0.1:1\";\n"	/* 6 */
	    "     %s\n"					/* 7 */
	    "   },\n"					/* 8 */
	    "   { name = \"b\"; address = \"127.0.0.1:2\"; }\n"	/* 9 */
	    "  );\n"					/* 10 */
	    " }\n"					/* 11 */
	    ");\n"					/* 12 */
	    "listeners = ( { name = \"l\"; bind = \"127.0.0.1:9\"; "
	    "pool = \"p\"; } );\n",			/* 13 */
	    pool_h, srv_h);
	return conf_load_string(text, "t.conf", errs);
}

/* The config must be rejected with exactly one message starting `want`. */
static void
expect_error(const char *pool_h, const char *srv_h, const char *want)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c = load(pool_h, srv_h, &errs);

	ck_assert_ptr_null(c);
	ck_assert_uint_ge(errs.n, 1);
	if (strncmp(errs.msg[0], want, strlen(want)) != 0)
		ck_abort_msg("got \"%s\", want \"%s...\"", errs.msg[0], want);
	cfg_errors_free(&errs);
}

START_TEST(test_no_group_defaults)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c = load("", "", &errs);
	const struct conf_health *h;

	ck_assert_ptr_nonnull(c);
	h = &c->pools[0].servers[0].health;
	ck_assert(!h->enabled);
	ck_assert(h->initial_up);
	ck_assert_uint_eq(h->observe_errors, 5);
	ck_assert_uint_eq(h->rise, 2);
	ck_assert_uint_eq(h->fall, 3);
	ck_assert_uint_eq(h->slowstart_ms, 0);
	ck_assert(!h->on_down_shutdown);
	conf_free(c);
}
END_TEST

START_TEST(test_pool_group_and_override)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c;
	const struct conf_health *a, *b;

	c = load("health = { interval = \"200ms\"; timeout = \"100ms\"; "
	    "rise = 3; fall = 4; send = \"PING\\r\\n\"; expect = \"PONG\"; "
	    "slowstart = \"30s\"; flap_limit = 7; flap_window = \"2m\"; "
	    "observe_errors = 0; on_down = \"shutdown\"; };",
	    "health = { port = 8081; rise = 5; initial = \"up\"; "
	    "expect = \"hex:00ff0A\"; };", &errs);
	if (c == NULL)
		ck_abort_msg("%s", errs.msg[0]);
	a = &c->pools[0].servers[0].health;
	b = &c->pools[0].servers[1].health;
	ck_assert(b->enabled);
	ck_assert(!b->initial_up);		/* checks on: down first */
	ck_assert_uint_eq(b->interval_ms, 200);
	ck_assert_uint_eq(b->timeout_ms, 100);
	ck_assert_uint_eq(b->rise, 3);
	ck_assert_uint_eq(b->fall, 4);
	ck_assert_uint_eq(b->send_len, 6);
	ck_assert(memcmp(b->send, "PING\r\n", 6) == 0);
	ck_assert_uint_eq(b->expect_len, 4);
	ck_assert_uint_eq(b->slowstart_ms, 30000);
	ck_assert_uint_eq(b->flap_limit, 7);
	ck_assert_uint_eq(b->flap_window_ms, 120000);
	ck_assert_uint_eq(b->observe_errors, 0);
	ck_assert(b->on_down_shutdown);
	ck_assert_uint_eq(b->port, 0);
	/* a: the pool's, with its own port, rise, initial and expect. */
	ck_assert(a->enabled);
	ck_assert(a->initial_up);
	ck_assert_uint_eq(a->port, 8081);
	ck_assert_uint_eq(a->rise, 5);
	ck_assert_uint_eq(a->fall, 4);
	ck_assert_uint_eq(a->interval_ms, 200);
	ck_assert_uint_eq(a->expect_len, 3);
	ck_assert(memcmp(a->expect, "\x00\xff\x0a", 3) == 0);
	ck_assert_uint_eq(a->send_len, 6);
	conf_free(c);
}
END_TEST

START_TEST(test_server_only_group)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c;

	c = load("", "health = { interval = \"300ms\"; };", &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert(c->pools[0].servers[0].health.enabled);
	ck_assert(!c->pools[0].servers[0].health.initial_up);
	/* The default 1s timeout does not fit 300ms: clamped, not an error. */
	ck_assert_uint_eq(c->pools[0].servers[0].health.timeout_ms, 300);
	ck_assert(!c->pools[0].servers[1].health.enabled);
	conf_free(c);
}
END_TEST

START_TEST(test_errors_with_lines)
{
	expect_error("health = { interval = \"50ms\"; };", "",
	    "t.conf:4: 'interval' must be between 100ms and 1h");
	expect_error("health = { interval = \"2h\"; };", "",
	    "t.conf:4: 'interval' must be between");
	expect_error("health = { interval = \"1s\"; timeout = \"2s\"; };", "",
	    "t.conf:4: health 'timeout' (2000 ms) must not exceed 'interval'");
	expect_error("health = { timeout = \"5ms\"; };", "",
	    "t.conf:4: 'timeout' must be between 10ms");
	expect_error("health = { rise = 0; };", "",
	    "t.conf:4: 'rise' must be between 1 and 100");
	expect_error("", "health = { fall = 101; };",
	    "t.conf:7: 'fall' must be between 1 and 100");
	expect_error("", "health = { port = 0; };",
	    "t.conf:7: 'port' must be between 1 and 65535");
	expect_error("", "health = { port = 65536; };",
	    "t.conf:7: 'port' must be between 1 and 65535");
	expect_error("health = { observe_errors = 1001; };", "",
	    "t.conf:4: 'observe_errors' must be between 0 and 1000");
	expect_error("health = { slowstart = \"2h\"; };", "",
	    "t.conf:4: 'slowstart' must be between 0ms and 1h");
	expect_error("health = { flap_limit = -1; };", "",
	    "t.conf:4: 'flap_limit' must be between 0 and 1000");
	expect_error("health = { flap_window = \"500ms\"; };", "",
	    "t.conf:4: 'flap_window' must be between 1s and 24h");
	expect_error("health = { on_down = \"kill\"; };", "",
	    "t.conf:4: 'on_down' must be \"shutdown\" or \"keep\"");
	expect_error("health = { initial = \"maybe\"; };", "",
	    "t.conf:4: 'initial' must be \"up\" or \"down\"");
	expect_error("health = { bogus = 1; };", "",
	    "t.conf:4: unknown setting 'pools.[0].health.bogus'");
	expect_error("health = 3;", "", "t.conf:4: 'health' must be a group");
	expect_error("health = { rise = \"2\"; };", "",
	    "t.conf:4: 'rise' must be an integer");
}
END_TEST

START_TEST(test_data_errors)
{
	char	 big[400];

	expect_error("health = { send = \"\"; };", "",
	    "t.conf:4: 'send' must be 1 to 256 bytes");
	expect_error("health = { expect = \"hex:abc\"; };", "",
	    "t.conf:4: 'expect' hex: needs an even number");
	expect_error("health = { expect = \"hex:\"; };", "",
	    "t.conf:4: 'expect' hex: needs an even number");
	expect_error("", "health = { expect = \"hex:zz\"; };",
	    "t.conf:7: 'expect' hex: 'zz' at digit 1 is not hex");
	memset(big, 'x', sizeof(big));
	memcpy(big, "health = { send = \"", 19);
	memcpy(big + 19 + 257, "\"; };", 6);
	expect_error(big, "", "t.conf:4: 'send' must be 1 to 256 bytes");
}
END_TEST

START_TEST(test_data_decode)
{
	uint8_t		out[8];
	uint32_t	len = 0;
	char		why[128];

	ck_assert_int_eq(conf_health_data("hex:DEADbeef", out, sizeof(out),
	    &len, why, sizeof(why)), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert(memcmp(out, "\xde\xad\xbe\xef", 4) == 0);
	ck_assert_int_eq(conf_health_data("abc", out, sizeof(out), &len, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(conf_health_data("hex:0011223344556677", out,
	    sizeof(out), &len, why, sizeof(why)), 0);
	ck_assert_int_eq(conf_health_data("hex:001122334455667788", out,
	    sizeof(out), &len, why, sizeof(why)), -1);
	ck_assert_int_eq(conf_health_data("123456789", out, sizeof(out),
	    &len, why, sizeof(why)), -1);
}
END_TEST

static Suite *
conf_health_suite(void)
{
	Suite	*s = suite_create("conf_health");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_no_group_defaults);
	tcase_add_test(tc, test_pool_group_and_override);
	tcase_add_test(tc, test_server_only_group);
	tcase_add_test(tc, test_errors_with_lines);
	tcase_add_test(tc, test_data_errors);
	tcase_add_test(tc, test_data_decode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(conf_health_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
