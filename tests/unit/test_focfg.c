/*
 * test_focfg.c - lb-failoverd config validation: a good file loads with
 * the right values, and each kind of mistake is reported with its line.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "focfg.h"

static char	 path[64];

static const char good[] =
    "failover = {\n"				/* 1 */
    "  vrid = 51;\n"				/* 2 */
    "  priority = 150;\n"			/* 3 */
    "  preempt = true;\n"			/* 4 */
    "  preempt_delay = \"0s\";\n"		/* 5 */
    "  advert_interval = \"100ms\";\n"		/* 6 */
    "  down_adverts = 3;\n"			/* 7 */
    "  bind = \"10.77.1.1:5405\";\n"		/* 8 */
    "  peers = [ \"10.77.1.2:5405\" ];\n"	/* 9 */
    "  interface = \"eth0\";\n"			/* 10 */
    "  vips = [ \"10.77.0.100/24\" ];\n"	/* 11 */
    "  auth_key_file = \"/etc/lb/failover.key\";\n"
    "  track_lbd = \"/run/lbd/lbd.sock\";\n"
    "  notify = \"/etc/lb/notify.sh\";\n"
    "  control_socket = \"/run/lb-failoverd/lb-failoverd.sock\";\n"
    "};\n";

/* Writes `text` to a temp file, loads it, returns the load result. */
static int
load(const char *text, struct fo_config *c, struct cfg_errors *e)
{
	FILE	*f;
	int	 fd;

	snprintf(path, sizeof(path), "/tmp/test_focfgXXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	memset(e, 0, sizeof(*e));
	fd = fo_config_load(path, c, e);
	unlink(path);
	return fd;
}

/* Does some error contain ":LINE: " and `needle`? */
static int
has_err(const struct cfg_errors *e, int line, const char *needle)
{
	char	 tag[96];

	snprintf(tag, sizeof(tag), "%s:%d: ", path, line);
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->msg[i], tag, strlen(tag)) == 0 &&
		    strstr(e->msg[i], needle) != NULL)
			return 1;
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "  got: %s\n", e->msg[i]);
	return 0;
}

START_TEST(good_file)
{
	struct fo_config	 c;
	struct cfg_errors	 e;

	ck_assert_int_eq(load(good, &c, &e), 0);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_uint_eq(c.vrid, 51);
	ck_assert_uint_eq(c.priority, 150);
	ck_assert(c.preempt);
	ck_assert_uint_eq(c.advert_ms, 100);
	ck_assert_uint_eq(c.down_adverts, 3);
	ck_assert_uint_eq(c.npeers, 1);
	ck_assert_uint_eq(c.nvips, 1);
	ck_assert_str_eq(c.vips[0].text, "10.77.0.100/24");
	ck_assert_uint_eq(c.vips[0].prefix, 24);
	ck_assert_str_eq(c.interface, "eth0");
	ck_assert_str_eq(c.track_lbd, "/run/lbd/lbd.sock");
	ck_assert_uint_eq(c.track_interval_ms, 100);
	ck_assert_uint_eq(c.track_timeout_ms, 50);
	ck_assert_uint_eq(c.node_id, 0x0a4d0101);
	cfg_errors_free(&e);
}
END_TEST

/* Replaces line `line` (1-based) of good with `repl`. */
static const char *
with_line(int line, const char *repl)
{
	static char	 out[4096];
	const char	*p = good;
	size_t		 off = 0;

	for (int l = 1; *p != '\0'; l++) {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p) + 1;

		if (l == line)
			off += (size_t)snprintf(out + off, sizeof(out) - off,
			    "%s\n", repl);
		else {
			memcpy(out + off, p, n);
			off += n;
		}
		p += n;
	}
	out[off] = '\0';
	return out;
}

static const struct bad {
	int		 line;
	const char	*text;
	const char	*needle;
} bads[] = {
	{ 2, "  vrid = 0;", "vrid must be 1..255" },
	{ 2, "  vrid = \"51\";", "vrid must be an integer" },
	{ 3, "  priority = 255;", "priority must be 1..254" },
	{ 4, "  preempt = 1;", "preempt must be true or false" },
	{ 5, "  preempt_delay = \"3 s\";", "bad duration" },
	{ 6, "  advert_interval = \"5ms\";", "advert_interval must be 10ms" },
	{ 7, "  down_adverts = 1;", "down_adverts must be 2..255" },
	{ 8, "  bind = \"10.77.1.1\";", "bind: bad address" },
	{ 8, "  bind = \"lb1.example:5405\";", "bind: bad address" },
	{ 9, "  peers = [ \"10.77.1.2:99999\" ];", "peers: bad address" },
	{ 9, "  peers = [ ];", "peers must have 1.." },
	{ 11, "  vips = [ \"10.77.0.100/33\" ];", "vips: bad address" },
	{ 11, "  vips = [ \"fe80::1/64\" ];", "vips: bad address" },
	{ 11, "  vips = [ \"10.0.0.1\", \"10.0.0.1/32\" ];", "listed twice" },
	{ 10, "  interfaces = \"eth0\";", "unknown setting \"failover.interfaces\"" },
	{ 1, "failover = { vrid = 5;", "failover.priority is required" },
	{ 3, "  priority = 4294967297;", "out of range" },
	{ 2, "  vrid = = 51;", "syntax error" },
};

START_TEST(bad_file)
{
	const struct bad *b = &bads[_i];
	struct fo_config	 c;
	struct cfg_errors	 e;
	const char		*text = with_line(b->line, b->text);

	if (b->line == 1)	/* whole-group replacement */
		text = "failover = {\n  vrid = 5;\n};\n";
	ck_assert_int_eq(load(text, &c, &e), -1);
	ck_assert_msg(has_err(&e, b->line == 1 ? 1 : b->line, b->needle),
	    "case %d: no error \"%s\" at line %d", _i, b->needle, b->line);
	cfg_errors_free(&e);
}
END_TEST

START_TEST(cross_checks)
{
	struct fo_config	 c;
	struct cfg_errors	 e;

	ck_assert_int_eq(load(with_line(9, "  peers = [ \"10.77.1.1:5405\" ];"),
	    &c, &e), -1);
	ck_assert(has_err(&e, 1, "is the bind address itself"));
	cfg_errors_free(&e);
	ck_assert_int_eq(load(with_line(9, "  peers = [ \"[::1]:5405\" ];"),
	    &c, &e), -1);
	ck_assert(has_err(&e, 1, "same address family"));
	cfg_errors_free(&e);
	ck_assert_int_eq(load(with_line(9, "  peers = [ \"10.77.1.2:5405\", "
	    "\"10.77.1.2:5405\" ];"), &c, &e), -1);
	ck_assert(has_err(&e, 1, "peers[1] repeats peers[0]"));
	cfg_errors_free(&e);
	ck_assert_int_eq(load(with_line(8, "  bind = \"0.0.0.0:5405\";"), &c, &e), -1);
	ck_assert(has_err(&e, 1, "bind must be a specific address"));
	cfg_errors_free(&e);
	ck_assert_int_eq(load("other = 1;\n", &c, &e), -1);
	ck_assert(has_err(&e, 1, "unknown top-level setting \"other\""));
	cfg_errors_free(&e);
}
END_TEST

START_TEST(hash_ignores_vip_order)
{
	struct fo_config	 a, b;
	struct cfg_errors	 e;

	ck_assert_int_eq(load(with_line(11,
	    "  vips = [ \"10.0.0.1/24\", \"10.0.0.2/24\" ];"), &a, &e), 0);
	ck_assert_int_eq(load(with_line(11,
	    "  vips = [ \"10.0.0.2/24\", \"10.0.0.1/24\" ];"), &b, &e), 0);
	ck_assert_mem_eq(a.config_hash, b.config_hash, PKT_HASH_LEN);
	ck_assert_int_eq(load(with_line(2, "  vrid = 52;"), &b, &e), 0);
	ck_assert(memcmp(a.config_hash, b.config_hash, PKT_HASH_LEN) != 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("focfg");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, good_file);
	tcase_add_loop_test(tc, bad_file, 0, (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, cross_checks);
	tcase_add_test(tc, hash_ignores_vip_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
