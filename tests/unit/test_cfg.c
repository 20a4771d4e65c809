/*
 * test_cfg.c - config helpers: duration syntax (valid, invalid,
 * overflow), duration settings, error collection, and the libconfig
 * pre-scan (integer truncation, NUL bytes, @include).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libconfig.h>

#include "cfg.h"

static void
dur_ok(const char *s, uint64_t want)
{
	uint64_t ms = 12345;

	ck_assert_msg(cfg_duration_parse(s, &ms) == 0, "\"%s\" rejected", s);
	ck_assert_msg(ms == want, "\"%s\": got %llu want %llu", s,
	    (unsigned long long)ms, (unsigned long long)want);
}

static void
dur_bad(const char *s, int want_errno)
{
	uint64_t ms = 12345;

	errno = 0;
	ck_assert_msg(cfg_duration_parse(s, &ms) == -1, "\"%s\" accepted",
	    s ? s : "(null)");
	ck_assert_msg(errno == want_errno, "\"%s\": errno %d want %d",
	    s ? s : "(null)", errno, want_errno);
	ck_assert_msg(ms == 12345, "\"%s\" wrote *ms", s ? s : "(null)");
}

START_TEST(test_duration_valid)
{
	dur_ok("0ms", 0);
	dur_ok("0s", 0);
	dur_ok("250ms", 250);
	dur_ok("3s", 3000);
	dur_ok("5m", 300000);
	dur_ok("1h", 3600000);
	dur_ok("007s", 7000);
	dur_ok("18446744073709551615ms", UINT64_MAX);
	dur_ok("5124095576030h", 5124095576030ull * 3600000ull);
}
END_TEST

START_TEST(test_duration_invalid)
{
	dur_bad(NULL, EINVAL);
	dur_bad("", EINVAL);
	dur_bad("3", EINVAL);		/* a string needs a unit */
	dur_bad("-3s", EINVAL);
	dur_bad("+3s", EINVAL);
	dur_bad("1.5s", EINVAL);
	dur_bad("3 s", EINVAL);
	dur_bad(" 3s", EINVAL);
	dur_bad("3s ", EINVAL);
	dur_bad("3S", EINVAL);
	dur_bad("3d", EINVAL);
	dur_bad("3sec", EINVAL);
	dur_bad("3mss", EINVAL);
	dur_bad("s", EINVAL);
	dur_bad("ms", EINVAL);
	dur_bad("0x10s", EINVAL);
}
END_TEST

START_TEST(test_duration_overflow)
{
	dur_bad("18446744073709551616ms", ERANGE);
	dur_bad("99999999999999999999999999ms", ERANGE);
	dur_bad("18446744073709551615s", ERANGE);
	dur_bad("5124095576031h", ERANGE);
	dur_bad("307445734561825861m", ERANGE);
}
END_TEST

/* Reads `text` with libconfig and checks setting `name` as a duration. */
static int
dur_setting(const char *text, const char *name, uint64_t *ms, char *why,
    size_t whylen)
{
	config_t	 cfg;
	int		 rc;

	config_init(&cfg);
	ck_assert_int_eq(config_read_string(&cfg, text), CONFIG_TRUE);
	rc = cfg_duration_setting(config_lookup(&cfg, name), ms, why, whylen);
	config_destroy(&cfg);
	return rc;
}

START_TEST(test_duration_setting)
{
	const char *text = "a = 250; b = 3L; c = \"3s\"; d = -1; e = 1.5;\n"
	    "f = true; g = \"3 s\"; h = \"99999999999999999999h\"; i = 0;\n"
	    "j = ( 1 );\n";
	uint64_t ms;
	char why[256];

	ck_assert_int_eq(dur_setting(text, "a", &ms, why, sizeof(why)), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(dur_setting(text, "b", &ms, why, sizeof(why)), 0);
	ck_assert_uint_eq(ms, 3);
	ck_assert_int_eq(dur_setting(text, "c", &ms, why, sizeof(why)), 0);
	ck_assert_uint_eq(ms, 3000);
	ck_assert_int_eq(dur_setting(text, "i", &ms, why, sizeof(why)), 0);
	ck_assert_uint_eq(ms, 0);
	ck_assert_int_eq(dur_setting(text, "d", &ms, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "negative"));
	ck_assert_int_eq(dur_setting(text, "e", &ms, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "must be a duration"));
	ck_assert_int_eq(dur_setting(text, "f", &ms, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "must be a duration"));
	ck_assert_int_eq(dur_setting(text, "j", &ms, why, sizeof(why)), -1);
	ck_assert_int_eq(dur_setting(text, "g", &ms, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "bad duration \"3 s\""));
	ck_assert_int_eq(dur_setting(text, "h", &ms, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "too large"));
	/* A tiny buffer is truncated, never overrun. */
	ck_assert_int_eq(dur_setting(text, "g", &ms, why, 4), -1);
	ck_assert_uint_eq(strlen(why), 3);
}
END_TEST

START_TEST(test_errors)
{
	struct cfg_errors	 e;
	char			 big[3000];
	int			 i;

	memset(&e, 0, sizeof(e));
	cfg_error(&e, "f.conf", 3, "hello %d", 42);
	cfg_error(&e, "f.conf", 0, "whole file");
	cfg_error(&e, NULL, 7, "no file");
	ck_assert_uint_eq(e.n, 3);
	ck_assert_str_eq(e.msg[0], "f.conf:3: hello 42");
	ck_assert_str_eq(e.msg[1], "f.conf:0: whole file");
	ck_assert_ptr_nonnull(strstr(e.msg[2], ":7: no file"));
	for (i = 0; i < 1000; i++)
		cfg_error(&e, "f.conf", i, "n%d", i);
	ck_assert_uint_eq(e.n, 1003);
	ck_assert_str_eq(e.msg[1002], "f.conf:999: n999");
	/* A very long message is cut, not lost and not overrun. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cfg_error(&e, "f.conf", 1, "%s", big);
	ck_assert_uint_eq(e.n, 1004);
	ck_assert_ptr_nonnull(strstr(e.msg[1003], "f.conf:1: xxx"));
	cfg_error(NULL, "f.conf", 1, "no collector");
	cfg_errors_free(&e);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_ptr_null(e.msg);
	cfg_errors_free(&e);		/* twice is harmless */
	cfg_errors_free(NULL);
}
END_TEST

/* Runs the pre-scan on a C string; returns problems, fills *noparse. */
static size_t
scan(const char *text, struct cfg_errors *e, int *noparse)
{
	memset(e, 0, sizeof(*e));
	return cfg_scan_text(text, strlen(text), "s.conf", e, noparse);
}

static void
scan_clean(const char *text)
{
	struct cfg_errors	e;
	int			noparse;

	ck_assert_msg(scan(text, &e, &noparse) == 0, "flagged: %s", text);
	ck_assert_int_eq(noparse, 0);
	cfg_errors_free(&e);
}

static void
scan_flags(const char *text, const char *want)
{
	struct cfg_errors	e;
	int			noparse;

	ck_assert_msg(scan(text, &e, &noparse) == 1, "not flagged: %s", text);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_msg(strstr(e.msg[0], want) != NULL, "got %s want %s",
	    e.msg[0], want);
	cfg_errors_free(&e);
}

START_TEST(test_scan_integers)
{
	scan_clean("a = 2147483647; b = -2147483648; c = 0x7fffffff;\n");
	scan_clean("a = 5L; b = 99999999999L; c = -9223372036854775808L;\n");
	scan_clean("a = 1e20; b = 1.5; c = -3.0e+40; d = 1E-9;\n");
	scan_clean("a = \"4294967297\"; # 4294967297\n// 4294967297\n");
	scan_clean("/* 4294967297\n 99999999999 */ a-4294967297 = 1;\n");
	scan_clean("s = \"\\\" 4294967297\"; t = 1;\n");
	scan_clean("x = ( 1, 2, 3 ); y = [ 10, 20 ];\n");
	scan_flags("a = 1;\nb = 4294967297;\n", "s.conf:2: integer 4294967297");
	scan_flags("a = 2147483648;", "s.conf:1: integer 2147483648 is out");
	scan_flags("a = -2147483649;", "integer -2147483649 is out of range");
	scan_flags("a = 0x100000001;", "integer 0x100000001");
	scan_flags("a = 0x80000000;", "integer 0x80000000");
	scan_flags("a = 99999999999999999999L;", "99999999999999999999L");
	scan_flags("/* one\ntwo */\n\"x\ny\"\na = 99999999999;\n",
	    "s.conf:5: integer 99999999999");
	scan_flags("a = [ 1, 99999999999 ];", "99999999999");
}
END_TEST

START_TEST(test_scan_nul_include)
{
	static const char	 nul[] = "a = 1;\nb\0 = 2;\n";
	struct cfg_errors	 e;
	int			 noparse;

	memset(&e, 0, sizeof(e));
	ck_assert_uint_eq(cfg_scan_text(nul, sizeof(nul) - 1, "n.conf", &e,
	    &noparse), 1);
	ck_assert_int_eq(noparse, 1);
	ck_assert_str_eq(e.msg[0], "n.conf:2: NUL byte in the file");
	cfg_errors_free(&e);

	ck_assert_uint_eq(scan("a = 1;\n@include \"/etc/passwd\"\n", &e,
	    &noparse), 1);
	ck_assert_int_eq(noparse, 1);
	ck_assert_ptr_nonnull(strstr(e.msg[0], "s.conf:2: @include"));
	cfg_errors_free(&e);

	scan_clean("a = \"@include\"; # @include \"x\"\n");
	/* Unterminated string or comment: the scan ends, libconfig reports. */
	scan_clean("a = \"abc");
	scan_clean("/* abc");
	scan_clean("a = \"abc\\");
	scan_clean("");
}
END_TEST

/* Patches `text` like conf.c does; returns the copy (free it). */
static char *
defuse(const char *text)
{
	struct cfg_errors	 e;
	char			*fix;
	int			 noparse;

	memset(&e, 0, sizeof(e));
	fix = strdup(text);
	ck_assert_ptr_nonnull(fix);
	cfg_scan_text_fix(text, strlen(text), "d.conf", &e, &noparse, fix);
	cfg_errors_free(&e);
	return fix;
}

START_TEST(test_scan_defuse)
{
	static const char *const same[] = {
		"a = \"x\"; b = ( \"y\", \"z\" ); c = [ \"p\" \"q\" ];\n",
		"a : \"x\"\n  \"continued\";\n",
		"# \"comment\"\n/* \"c\" */ a = \"\\\"\";\n",
		"l = ( { a = \"x\"; }, \"y\", [ \"z\", \"w\" ] ), m = \"v\";\n",
	};
	static const struct { const char *in, *out; } fixed[] = {
		{ "\"x\"", "@  " },
		{ "a = 1 \"x\";", "a = 1 @  ;" },
		{ "a \"b\nc\" = 1;", "a @ \n   = 1;" },
		{ "g = { \"k\" };", "g = { @   };" },
		{ "a = ( \"x\"; \"y\" );", "a = ( \"x\"; @   );" },
		{ "o=5,\"\"", "o=5,@ " },
		{ "g = { a = ( 1 ), \"k\" };", "g = { a = ( 1 ), @   };" },
	};
	char	*fix;
	size_t	 i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		fix = defuse(same[i]);
		ck_assert_str_eq(fix, same[i]);
		free(fix);
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		fix = defuse(fixed[i].in);
		ck_assert_str_eq(fix, fixed[i].out);
		free(fix);
	}
}
END_TEST

/* Writes `n` copies of `unit` between `head` and `tail`; returns it. */
static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t	 len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
	char	*s = malloc(len), *p;
	size_t	 i;

	ck_assert_ptr_nonnull(s);
	p = stpcpy(s, head);
	for (i = 0; i < n; i++)
		p = stpcpy(p, unit);
	strcpy(p, tail);
	return s;
}

/* Bounds that keep libconfig linear: nesting depth and group width. */
START_TEST(test_scan_shape)
{
	struct cfg_errors	 e;
	char			*t;
	int			 noparse;

	t = repeat("a = ", "(", 64, "");
	ck_assert_uint_eq(scan(t, &e, &noparse), 0);
	cfg_errors_free(&e);
	free(t);
	t = repeat("a = ", "(", 65, "");
	ck_assert_uint_eq(scan(t, &e, &noparse), 1);
	ck_assert_int_eq(noparse, 1);
	ck_assert_str_eq(e.msg[0], "s.conf:1: nested more than 64 levels deep");
	cfg_errors_free(&e);
	free(t);

	t = repeat("g = {\n", "x = 1;\n", 1024, "};\n");
	ck_assert_uint_eq(scan(t, &e, &noparse), 0);
	cfg_errors_free(&e);
	free(t);
	t = repeat("g = {\n", "x = 1;\n", 1025, "};\n");
	ck_assert_uint_eq(scan(t, &e, &noparse), 1);
	ck_assert_int_eq(noparse, 1);
	ck_assert_str_eq(e.msg[0], "s.conf:1026: more than 1024 settings in "
	    "one group");
	cfg_errors_free(&e);
	free(t);
	/* The root counts too; lists do not (libconfig appends in O(1)). */
	t = repeat("", "x : 1;\n", 1025, "");
	ck_assert_uint_eq(scan(t, &e, &noparse), 1);
	cfg_errors_free(&e);
	free(t);
	t = repeat("l = ( ", "{ a = \"=\"; b = 2; }, ", 5000, "1 );");
	ck_assert_uint_eq(scan(t, &e, &noparse), 0);
	cfg_errors_free(&e);
	free(t);
}
END_TEST

static Suite *
cfg_suite(void)
{
	Suite	*s = suite_create("cfg");
	TCase	*tc = tcase_create("cfg");

	tcase_add_test(tc, test_duration_valid);
	tcase_add_test(tc, test_duration_invalid);
	tcase_add_test(tc, test_duration_overflow);
	tcase_add_test(tc, test_duration_setting);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_scan_integers);
	tcase_add_test(tc, test_scan_nul_include);
	tcase_add_test(tc, test_scan_defuse);
	tcase_add_test(tc, test_scan_shape);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(cfg_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
