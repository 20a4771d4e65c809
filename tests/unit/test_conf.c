/*
 * test_conf.c - lbd config loading: the sample loads, defaults apply,
 * every validation rule reports its error at the right LINE, several
 * errors are all reported, and a bad file never yields a config.
 * Also runs every tests/configs/{good,bad} file through conf_load.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "addr.h"
#include "conf.h"

/* A valid pool (line 1 of its text) and listener (line 1 of its text). */
#define POOL	"pools = ( { name = \"p\"; servers = ( { name = \"a\"; " \
		"address = \"127.0.0.1:9001\"; } ); } );\n"
#define LSN	"listeners = ( { name = \"l\"; bind = \"127.0.0.1:8080\"; " \
		"pool = \"p\"; } );\n"

static struct cfg_errors	 errs;
static struct conf		*conf;

static void
reset(void)
{
	conf_free(conf);
	conf = NULL;
	cfg_errors_free(&errs);
}

static void
teardown(void)
{
	reset();
}

/* All collected messages, one per line, for failure output. */
static const char *
dump(void)
{
	static char	buf[8192];
	size_t		i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < errs.n && off < sizeof(buf) - 1; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "  %s\n",
		    errs.msg[i]);
	return buf;
}

/* True when some message is exactly "FILE:LINE: ..." containing `sub`. */
static int
has_err(const char *file, int line, const char *sub)
{
	char	prefix[256];
	size_t	i, plen;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	for (i = 0; i < errs.n; i++)
		if (strncmp(errs.msg[i], prefix, plen) == 0 &&
		    strstr(errs.msg[i] + plen, sub) != NULL)
			return 1;
	return 0;
}

static struct conf *
load(const char *text)
{
	reset();
	conf = conf_load_string(text, "t.conf", &errs);
	return conf;
}

static void
load_ok(const char *text)
{
	ck_assert_msg(load(text) != NULL, "rejected:\n%s\n%s", text, dump());
	ck_assert_uint_eq(errs.n, 0);
}

/* Loads `text`, expects rejection and "t.conf:LINE: ...SUB...". */
static void
expect(const char *text, int line, const char *sub)
{
	ck_assert_msg(load(text) == NULL, "accepted:\n%s", text);
	ck_assert_msg(has_err("t.conf", line, sub),
	    "want t.conf:%d: ...%s...\nin:\n%sgot:\n%s", line, sub, text,
	    dump());
}

/* The source tree: tests run from the top (make) or from build/tests. */
static const char *
src_path(const char *rel)
{
	static char	 buf[PATH_MAX];
	const char	*up[] = { "", "../", "../../", "../../../" };
	size_t		 i;

	for (i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", up[i], rel);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return rel;
}

START_TEST(test_sample_loads)
{
	const char *path = src_path("etc/lbd.conf");

	reset();
	conf = conf_load(path, &errs);
	ck_assert_msg(conf != NULL, "%s rejected:\n%s", path, dump());
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_str_eq(conf->path, path);
	ck_assert_uint_eq(conf->workers, 2);
	ck_assert_uint_eq(conf->npools, 1);
	ck_assert_str_eq(conf->pools[0].name, "web");
	ck_assert_int_eq(conf->pools[0].algorithm, BAL_LEASTCONN);
	ck_assert_uint_eq(conf->pools[0].nservers, 3);
	ck_assert_str_eq(conf->pools[0].servers[2].address, "127.0.0.1:9003");
	ck_assert_uint_eq(conf->nlisteners, 1);
	ck_assert_uint_eq(conf->listeners[0].pool_idx, 0);
}
END_TEST

START_TEST(test_defaults)
{
	const struct conf_server *s;

	load_ok(POOL LSN);
	ck_assert_uint_ge(conf->workers, 1);	/* 0 resolved */
	ck_assert_uint_le(conf->workers, 64);
	ck_assert_uint_eq(conf->maxconn, 10000);
	ck_assert_uint_eq(conf->maxconn_per_source, 0);
	ck_assert_str_eq(conf->control_socket, "/run/lbd/lbd.sock");
	ck_assert_int_eq(conf->log_facility, LOG_DAEMON);
	ck_assert(conf->log_connections);
	ck_assert_uint_eq(conf->connect_timeout_ms, 3000);
	ck_assert_uint_eq(conf->idle_timeout_ms, 300000);
	ck_assert_uint_eq(conf->drain_timeout_ms, 30000);
	ck_assert_int_eq(conf->pools[0].algorithm, BAL_ROUNDROBIN);
	ck_assert_uint_eq(conf->pools[0].retries, 2);
	s = &conf->pools[0].servers[0];
	ck_assert_uint_eq(s->weight, 1);
	ck_assert_uint_eq(s->maxconn, 0);
	ck_assert(!s->backup);
	ck_assert_uint_eq(addr_port((const struct sockaddr *)&s->addr), 9001);
	ck_assert_int_eq(conf->listeners[0].backlog, 4096);
	ck_assert(!conf->listeners[0].freebind);
	ck_assert_uint_eq(conf->listeners[0].line, 2);
}
END_TEST

START_TEST(test_every_setting)
{
	load_ok("workers = 5;\n"
	    "maxconn = 5000L;\n"
	    "control_socket = \"/tmp/x.sock\";\n"
	    "log = { facility = \"local3\"; connections = false; };\n"
	    "timeouts = { connect = 250; idle = \"1h\"; drain = 0; };\n"
	    "pools = ( { name = \"p-1.x_y\"; algorithm = \"p2c\"; retries = 0;\n"
	    "  servers = ( { name = \"a\"; address = \"[::1]:9001\"; weight = 0;\n"
	    "    maxconn = 7; backup = true; } ); } );\n"
	    "listeners = ( { name = \"l\"; bind = \"[::]:8080\"; pool = \"p-1.x_y\";\n"
	    "  backlog = 65535; freebind = true; } );\n");
	ck_assert_uint_eq(conf->workers, 5);
	ck_assert_uint_eq(conf->maxconn, 5000);
	ck_assert_str_eq(conf->control_socket, "/tmp/x.sock");
	ck_assert_int_eq(conf->log_facility, LOG_LOCAL3);
	ck_assert(!conf->log_connections);
	ck_assert_uint_eq(conf->connect_timeout_ms, 250);
	ck_assert_uint_eq(conf->idle_timeout_ms, 3600000);
	ck_assert_uint_eq(conf->drain_timeout_ms, 0);
	ck_assert_int_eq(conf->pools[0].algorithm, BAL_P2C);
	ck_assert_uint_eq(conf->pools[0].retries, 0);
	ck_assert_uint_eq(conf->pools[0].servers[0].weight, 0);
	ck_assert_uint_eq(conf->pools[0].servers[0].maxconn, 7);
	ck_assert(conf->pools[0].servers[0].backup);
	ck_assert_int_eq(conf->pools[0].servers[0].addr.ss_family, AF_INET6);
	ck_assert_uint_eq(conf->pools[0].servers[0].line, 7);
	ck_assert_uint_eq(conf->pools[0].line, 6);
	ck_assert_int_eq(conf->listeners[0].backlog, 65535);
	ck_assert(conf->listeners[0].freebind);
}
END_TEST

START_TEST(test_algorithms)
{
	static const struct { const char *name; enum bal_algo a; } t[] = {
		{ "roundrobin", BAL_ROUNDROBIN }, { "random", BAL_RANDOM },
		{ "leastconn", BAL_LEASTCONN }, { "p2c", BAL_P2C },
		{ "first", BAL_FIRST },
	};
	char	text[512];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "pools = ( { name = \"p\"; "
		    "algorithm = \"%s\";\nservers = ( { name = \"a\"; address = "
		    "\"1.2.3.4:5\"; } ); } );\n" LSN, t[i].name);
		load_ok(text);
		ck_assert_int_eq(conf->pools[0].algorithm, t[i].a);
	}
	expect("pools = ( { name = \"p\";\n algorithm = \"wrr\";\n"
	    "servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); } );\n"
	    LSN, 2, "unknown algorithm \"wrr\"");
	expect("pools = ( { name = \"p\";\n algorithm = \"RoundRobin\";\n"
	    "servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); } );\n"
	    LSN, 2, "unknown algorithm");
}
END_TEST

START_TEST(test_workers_resolve)
{
	load_ok("workers = 0;\n" POOL LSN);
	ck_assert_uint_ge(conf->workers, 1);
	ck_assert_uint_le(conf->workers, 64);
	load_ok("workers = 64;\n" POOL LSN);
	ck_assert_uint_eq(conf->workers, 64);
}
END_TEST

START_TEST(test_unknown_keys)
{
	expect(POOL LSN "colour = \"blue\";\n", 3, "unknown setting 'colour'");
	expect("log = {\n facility = \"daemon\";\n level = 3; };\n" POOL LSN,
	    3, "unknown setting 'log.level'");
	expect("timeouts = { connect = 1;\n\n client = \"3s\"; };\n" POOL LSN,
	    3, "unknown setting 'timeouts.client'");
	expect("pools = ( { name = \"p\"; balance = \"rr\";\n"
	    "servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); } );\n"
	    LSN, 1, "unknown setting 'pools.[0].balance'");
	expect("pools = ( { name = \"p\";\n"
	    "  servers = (\n"
	    "    { name = \"a\"; address = \"1.2.3.4:5\"; },\n"
	    "    { name = \"b\"; address = \"1.2.3.4:6\"; wieght = 3; }\n"
	    "  ); } );\n" LSN, 4,
	    "unknown setting 'pools.[0].servers.[1].wieght'");
	expect(POOL "listeners = ( { name = \"l\"; bind = \"1.2.3.4:5\";\n"
	    "pool = \"p\"; reuseport = true; } );\n", 3,
	    "unknown setting 'listeners.[0].reuseport'");
}
END_TEST

START_TEST(test_types)
{
	expect("workers = \"2\";\n" POOL LSN, 1, "'workers' must be an integer");
	expect("workers = 2.0;\n" POOL LSN, 1, "'workers' must be an integer");
	expect("\nmaxconn = true;\n" POOL LSN, 2, "'maxconn' must be an integer");
	expect("maxconn = [ 1 ];\n" POOL LSN, 1, "'maxconn' must be an integer");
	expect("control_socket = 5;\n" POOL LSN, 1,
	    "'control_socket' must be a string");
	expect("log = \"daemon\";\n" POOL LSN, 1, "'log' must be a group");
	expect("log = { connections = \"yes\"; };\n" POOL LSN, 1,
	    "'connections' must be a boolean");
	expect("log = { facility = 3; };\n" POOL LSN, 1,
	    "'facility' must be a string");
	expect("timeouts = ( 1 );\n" POOL LSN, 1, "'timeouts' must be a group");
	expect("timeouts = { idle = true; };\n" POOL LSN, 1,
	    "'idle' must be a duration");
	expect("timeouts = { idle = 1.5; };\n" POOL LSN, 1,
	    "'idle' must be a duration");
	expect("pools = { name = \"p\"; };\n" LSN, 1, "'pools' must be a list");
	expect("pools = ( 5 );\n" LSN, 1, "'pools.[0]' must be a group");
	expect(POOL "listeners = \"l\";\n", 2, "'listeners' must be a list");
	expect(POOL "listeners = ( \"l\" );\n", 2,
	    "'listeners.[0]' must be a group");
	expect("pools = ( { name = \"p\"; servers = { a = 1; }; } );\n" LSN, 1,
	    "'servers' must be a list");
	expect("pools = ( { name = \"p\"; servers = ( [ 1 ] ); } );\n" LSN, 1,
	    "'pools.[0].servers.[0]' must be a group");
	expect("pools = ( { name = p; } );\n" LSN, 1, "syntax error");
	expect("pools = ( { name = 5;\n servers = ( { name = \"a\"; address ="
	    " \"1.2.3.4:5\"; } ); } );\n" LSN, 1, "'name' must be a string");
	expect("pools = ( { name = \"p\"; retries = \"2\";\n servers = ( { name "
	    "= \"a\"; address = \"1.2.3.4:5\"; } ); } );\n" LSN, 1,
	    "'retries' must be an integer");
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a\"; address "
	    "= \"1.2.3.4:5\";\n weight = 1.5; } ); } );\n" LSN, 3,
	    "'weight' must be an integer");
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a\"; address "
	    "= \"1.2.3.4:5\";\n backup = 0; } ); } );\n" LSN, 3,
	    "'backup' must be a boolean");
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a\"; address "
	    "= 1234; } ); } );\n" LSN, 2, "'address' must be a string");
	expect(POOL "listeners = ( { name = \"l\"; bind = \"1.2.3.4:5\";\n"
	    "pool = \"p\"; backlog = \"10\"; freebind = \"no\"; } );\n", 3,
	    "'freebind' must be a boolean");
	expect(POOL "listeners = ( { name = \"l\"; bind = \"1.2.3.4:5\";\n"
	    "pool = \"p\"; backlog = \"10\"; freebind = \"no\"; } );\n", 3,
	    "'backlog' must be an integer");
}
END_TEST

START_TEST(test_ranges)
{
	expect("workers = 65;\n" POOL LSN, 1,
	    "'workers' must be between 0 and 64 (got 65)");
	expect("workers = -1;\n" POOL LSN, 1, "'workers' must be between");
	expect("maxconn = 0;\n" POOL LSN, 1, "'maxconn' must be between 1 and "
	    "1000000 (got 0)");
	expect("maxconn = 1000001;\n" POOL LSN, 1, "'maxconn' must be between");
	expect("maxconn = 99999999999L;\n" POOL LSN, 1,
	    "'maxconn' must be between");
	expect("pools = ( { name = \"p\"; retries = 17;\n servers = ( { name "
	    "= \"a\"; address = \"1.2.3.4:5\"; } ); } );\n" LSN, 1,
	    "'retries' must be between 0 and 16 (got 17)");
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a\"; address "
	    "= \"1.2.3.4:5\";\n weight = 257; } ); } );\n" LSN, 3,
	    "'weight' must be between 0 and 256 (got 257)");
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a\"; address "
	    "= \"1.2.3.4:5\";\n maxconn = -1; } ); } );\n" LSN, 3,
	    "'maxconn' must be between 0 and");
	expect(POOL "listeners = ( { name = \"l\"; bind = \"1.2.3.4:5\";\n"
	    "pool = \"p\"; backlog = 0; } );\n", 3,
	    "'backlog' must be between 1 and 65535 (got 0)");
	expect(POOL "listeners = ( { name = \"l\"; bind = \"1.2.3.4:5\";\n"
	    "pool = \"p\";\n backlog = 65536; } );\n", 4, "'backlog' must be");
	expect("timeouts = { connect = 0; };\n" POOL LSN, 1,
	    "'connect' must be between 1ms and 1h (got 0ms)");
	expect("timeouts = {\n connect = \"61m\"; };\n" POOL LSN, 2,
	    "'connect' must be between 1ms and 1h (got 61m)");
	expect("timeouts = {\n idle = \"169h\"; };\n" POOL LSN, 2,
	    "'idle' must be between 1ms and 168h (got 169h)");
	expect("timeouts = {\n idle = \"0s\"; };\n" POOL LSN, 2,
	    "'idle' must be between");
	expect("timeouts = {\n drain = \"25h\"; };\n" POOL LSN, 2,
	    "'drain' must be between 0ms and 24h (got 25h)");
	expect("timeouts = {\n drain = -5; };\n" POOL LSN, 2,
	    "'drain' must not be negative");
	expect("maxconn = 10;\nmaxconn_per_source = 1000001;\n" POOL LSN, 2,
	    "'maxconn_per_source' must be between 0 and 1000000 (got 1000001)");
	expect("maxconn_per_source = -1;\n" POOL LSN, 1,
	    "'maxconn_per_source' must be between");
	load_ok("maxconn_per_source = 0;\n" POOL LSN);
	ck_assert_uint_eq(conf->maxconn_per_source, 0);
	load_ok("maxconn_per_source = 1000000;\n" POOL LSN);
	ck_assert_uint_eq(conf->maxconn_per_source, 1000000);
	/* Edges that are fine. */
	load_ok("maxconn = 1000000;\ntimeouts = { connect = \"1h\"; idle = "
	    "\"168h\"; drain = \"24h\"; };\n" POOL LSN);
	load_ok("maxconn = 1;\ntimeouts = { connect = 1; idle = \"1ms\"; };\n"
	    POOL LSN);
}
END_TEST

START_TEST(test_int_literals)
{
	/* libconfig would read 4294967297 as 1 without this check. */
	expect("\nmaxconn = 4294967297;\n" POOL LSN, 2,
	    "integer 4294967297 is out of range");
	load_ok("maxconn = 0x10;\n" POOL LSN);
	ck_assert_uint_eq(conf->maxconn, 16);
	load_ok("maxconn = 77L;\n" POOL LSN);
	ck_assert_uint_eq(conf->maxconn, 77);
}
END_TEST

START_TEST(test_durations)
{
	expect("timeouts = { connect = \"3 s\"; };\n" POOL LSN, 1,
	    "'connect' has a bad duration \"3 s\"");
	expect("timeouts = { connect = \"1.5s\"; };\n" POOL LSN, 1,
	    "bad duration \"1.5s\"");
	expect("timeouts = { connect = \"3\"; };\n" POOL LSN, 1,
	    "bad duration \"3\"");
	expect("timeouts = { connect = \"\"; };\n" POOL LSN, 1,
	    "bad duration \"\"");
	expect("timeouts = { connect = \"-3s\"; };\n" POOL LSN, 1,
	    "bad duration \"-3s\"");
	expect("timeouts = { connect = \"2d\"; };\n" POOL LSN, 1,
	    "bad duration \"2d\"");
	expect("timeouts = { idle = \"99999999999999999999h\"; };\n" POOL LSN,
	    1, "'idle' has a duration too large");
	load_ok("timeouts = { connect = \"250ms\"; idle = \"5m\"; drain = "
	    "\"30s\"; };\n" POOL LSN);
	ck_assert_uint_eq(conf->connect_timeout_ms, 250);
}
END_TEST

START_TEST(test_missing)
{
	expect(LSN, 1, "missing required setting 'pools'");
	expect(POOL, 1, "missing required setting 'listeners'");
	expect("", 1, "missing required setting 'pools'");
	expect("pools = (\n { servers = ( { name = \"a\"; address = \"1.2.3.4:5\";"
	    " } ); } );\n" LSN, 2, "missing required setting 'pools.[0].name'");
	expect("pools = (\n\n { name = \"p\"; } );\n" LSN, 3,
	    "missing required setting 'pools.[0].servers'");
	expect("pools = ( { name = \"p\"; servers = (\n"
	    "  { name = \"a\"; address = \"1.2.3.4:5\"; },\n"
	    "  { address = \"1.2.3.4:6\"; }\n"
	    "); } );\n" LSN, 3,
	    "missing required setting 'pools.[0].servers.[1].name'");
	expect("pools = ( { name = \"p\"; servers = (\n"
	    "  { name = \"a\"; }\n"
	    "); } );\n" LSN, 2,
	    "missing required setting 'pools.[0].servers.[0].address'");
	expect(POOL "listeners = (\n { bind = \"1.2.3.4:5\"; pool = \"p\"; } );\n",
	    3, "missing required setting 'listeners.[0].name'");
	expect(POOL "listeners = (\n { name = \"l\"; pool = \"p\"; } );\n",
	    3, "missing required setting 'listeners.[0].bind'");
	expect(POOL "listeners = (\n { name = \"l\";\n bind = \"1.2.3.4:5\"; } );\n",
	    3, "missing required setting 'listeners.[0].pool'");
}
END_TEST

START_TEST(test_counts)
{
	char	*text;
	size_t	 i, off = 0, cap = 1 << 16;

	expect("pools = ();\n" LSN, 1, "'pools' must list 1 to 64 pools (got 0)");
	expect(POOL "listeners = ();\n", 2,
	    "'listeners' must list 1 to 256 listeners (got 0)");
	expect("pools = ( { name = \"p\";\n servers = (); } );\n" LSN, 2,
	    "'servers' must list 1 to 256 servers (got 0)");

	/* 257 servers in one pool. */
	text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	off += (size_t)snprintf(text + off, cap - off,
	    "pools = ( { name = \"p\";\nservers = (\n");
	for (i = 0; i < 257; i++)
		off += (size_t)snprintf(text + off, cap - off, "%s{ name = \"s%zu\";"
		    " address = \"10.0.%zu.%zu:80\"; }\n", i ? "," : "", i,
		    i / 256, i % 256);
	snprintf(text + off, cap - off, "); } );\n" LSN);
	expect(text, 2, "'servers' must list 1 to 256 servers (got 257)");

	/* 65 pools. */
	off = (size_t)snprintf(text, cap, "pools = (\n");
	for (i = 0; i < 65; i++)
		off += (size_t)snprintf(text + off, cap - off, "%s{ name = \"p%zu\";"
		    " servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); }\n",
		    i ? "," : "", i);
	snprintf(text + off, cap - off, ");\n" LSN);
	expect(text, 1, "'pools' must list 1 to 64 pools (got 65)");

	/* 5 pools of 205 servers: 1025 in all. */
	off = (size_t)snprintf(text, cap, "pools = (\n");
	for (i = 0; i < 5 * 205; i++) {
		if (i % 205 == 0)
			off += (size_t)snprintf(text + off, cap - off,
			    "%s{ name = \"p%zu\"; servers = (\n",
			    i ? "); }," : "", i / 205);
		off += (size_t)snprintf(text + off, cap - off, "%s{ name = \"s%zu\";"
		    " address = \"10.0.0.1:%zu\"; }\n", i % 205 ? "," : "", i,
		    i + 1);
	}
	snprintf(text + off, cap - off, "); } );\n" LSN);
	expect(text, 1, "too many servers in all pools: 1025 (max 1024)");
	free(text);
}
END_TEST

START_TEST(test_names)
{
	char text[1024];

	expect("pools = ( { name = \"we/b\";\n servers = ( { name = \"a\"; "
	    "address = \"1.2.3.4:5\"; } ); } );\n" LSN, 1,
	    "'name' must be 1 to 47 characters of A-Z a-z 0-9 _ . - "
	    "(got \"we/b\")");
	expect("pools = ( { name = \"\";\n servers = ( { name = \"a\"; "
	    "address = \"1.2.3.4:5\"; } ); } );\n" LSN, 1, "'name' must be");
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a b\"; "
	    "address = \"1.2.3.4:5\"; } ); } );\n" LSN, 2, "'name' must be");
	expect(POOL "listeners = ( { name = \"l\\n\"; bind = \"1.2.3.4:5\";"
	    " pool = \"p\"; } );\n", 2, "(got \"l\\x0a\")");
	/* 47 characters are fine, 48 are not. */
	snprintf(text, sizeof(text), "pools = ( { name = \"%047d\";\n servers = "
	    "( { name = \"a\"; address = \"1.2.3.4:5\"; } ); } );\n"
	    "listeners = ( { name = \"l\"; bind = \"1.2.3.4:5\"; pool = "
	    "\"%047d\"; } );\n", 7, 7);
	load_ok(text);
	snprintf(text, sizeof(text), "pools = ( { name = \"p\";\n servers = "
	    "( { name = \"%048d\"; address = \"1.2.3.4:5\"; } ); } );\n" LSN, 7);
	expect(text, 2, "'name' must be 1 to 47 characters");
}
END_TEST

START_TEST(test_duplicates)
{
	expect("pools = (\n"
	    " { name = \"p\"; servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); },\n"
	    " { name = \"q\"; servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); },\n"
	    " { name = \"p\"; servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); }\n"
	    ");\n" LSN, 4, "duplicate pool name 'p' (first at line 2)");
	expect("pools = ( { name = \"p\"; servers = (\n"
	    " { name = \"a\"; address = \"1.2.3.4:5\"; },\n"
	    " { name = \"b\"; address = \"1.2.3.4:6\"; },\n"
	    " { name = \"a\"; address = \"1.2.3.4:7\"; }\n"
	    "); } );\n" LSN, 4, "duplicate server name 'a' in pool "
	    "(first at line 2)");
	/* The same server name in two pools is fine. */
	load_ok("pools = (\n"
	    " { name = \"p\"; servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); },\n"
	    " { name = \"q\"; servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); }\n"
	    ");\n" LSN);
	expect(POOL "listeners = (\n"
	    " { name = \"l\"; bind = \"1.2.3.4:5\"; pool = \"p\"; },\n"
	    " { name = \"l\"; bind = \"1.2.3.4:6\"; pool = \"p\"; }\n"
	    ");\n", 4, "duplicate listener name 'l' (first at line 3)");
	expect(POOL "listeners = (\n"
	    " { name = \"l\"; bind = \"1.2.3.4:5\"; pool = \"p\"; },\n"
	    " { name = \"m\"; bind = \"1.2.3.4:5\"; pool = \"p\"; }\n"
	    ");\n", 4, "duplicate bind address: '1.2.3.4:5'");
	expect(POOL "listeners = (\n"
	    " { name = \"l\"; bind = \"*:80\"; pool = \"p\"; },\n"
	    " { name = \"m\"; bind = \"10.0.0.1:80\"; pool = \"p\"; }\n"
	    ");\n", 4, "'10.0.0.1:80' clashes with '*:80' (line 3)");
	expect(POOL "listeners = (\n"
	    " { name = \"l\"; bind = \"[::1]:80\"; pool = \"p\"; },\n"
	    " { name = \"m\"; bind = \"[0::1]:80\"; pool = \"p\"; }\n"
	    ");\n", 4, "duplicate bind address");
	/* Other port, other address, other family: fine. */
	load_ok(POOL "listeners = (\n"
	    " { name = \"l\"; bind = \"1.2.3.4:5\"; pool = \"p\"; },\n"
	    " { name = \"m\"; bind = \"1.2.3.4:6\"; pool = \"p\"; },\n"
	    " { name = \"n\"; bind = \"1.2.3.5:5\"; pool = \"p\"; },\n"
	    " { name = \"o\"; bind = \"[::]:5\"; pool = \"p\"; }\n"
	    ");\n");
	ck_assert_uint_eq(conf->nlisteners, 4);
}
END_TEST

START_TEST(test_listener_pool)
{
	expect(POOL "listeners = ( { name = \"l\"; bind = \"1.2.3.4:5\";\n"
	    " pool = \"q\"; } );\n", 3, "pool 'q' is not defined");
	load_ok("pools = (\n"
	    " { name = \"p\"; servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); },\n"
	    " { name = \"q\"; servers = ( { name = \"a\"; address = \"1.2.3.4:5\"; } ); }\n"
	    ");\nlisteners = ( { name = \"l\"; bind = \"1.2.3.4:5\"; pool = \"q\"; } );\n");
	ck_assert_uint_eq(conf->listeners[0].pool_idx, 1);
}
END_TEST

START_TEST(test_addresses)
{
	static const char *const bad[] = { "localhost:9001", "1.2.3.4",
	    "1.2.3.4:0", "1.2.3.4:65536", "::1:80", "[::1]", "", "host" };
	char	text[512];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "pools = ( { name = \"p\";\n"
		    "servers = ( { name = \"a\";\naddress = \"%s\"; } ); } );\n"
		    LSN, bad[i]);
		expect(text, 3, "'address' must be a numeric IP:PORT");
		snprintf(text, sizeof(text), POOL "listeners = ( { name = \"l\";"
		    "\nbind = \"%s\"; pool = \"p\"; } );\n", bad[i]);
		expect(text, 3, "'bind' must be a numeric IP:PORT");
	}
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a\"; address "
	    "= \"*:80\"; } ); } );\n" LSN, 2, "is a wildcard");
	expect("pools = ( { name = \"p\";\n servers = ( { name = \"a\"; address "
	    "= \"[::]:80\"; } ); } );\n" LSN, 2, "is a wildcard");
	load_ok(POOL "listeners = ( { name = \"l\"; bind = \"*:80\"; "
	    "pool = \"p\"; } );\n");
	load_ok(POOL "listeners = ( { name = \"l\"; bind = \"0.0.0.0:80\"; "
	    "pool = \"p\"; } );\n");
}
END_TEST

START_TEST(test_log_and_socket)
{
	char	text[1024];

	expect("log = {\n facility = \"kern\"; };\n" POOL LSN, 2,
	    "unknown log facility \"kern\"");
	expect("control_socket = \"run/lbd.sock\";\n" POOL LSN, 1,
	    "'control_socket' must be an absolute path");
	expect("control_socket = \"\";\n" POOL LSN, 1,
	    "'control_socket' must be an absolute path");
	/* sun_path holds 107 characters and the NUL. */
	snprintf(text, sizeof(text), "control_socket = \"/%0106d\";\n" POOL LSN,
	    1);
	load_ok(text);
	snprintf(text, sizeof(text), "control_socket = \"/%0107d\";\n" POOL LSN,
	    1);
	expect(text, 1, "'control_socket' is too long (108 bytes, max 107)");
}
END_TEST

START_TEST(test_control_group_and_state_file)
{
	load_ok("control_group = \"root\";\n" POOL LSN);
	ck_assert_str_eq(conf->control_group, "root");
	ck_assert_uint_eq(conf->control_gid, 0);
	load_ok(POOL LSN);
	ck_assert_uint_eq(conf->control_gid, (gid_t)-1);
	ck_assert_str_eq(conf->state_file, "");
	expect("\ncontrol_group = \"no-such-group-here\";\n" POOL LSN, 2,
	    "no group named \"no-such-group-here\"");
	expect("control_group = \"a b\";\n" POOL LSN, 1,
	    "'control_group' must be a group name");
	load_ok("state_file = \"/var/lib/lbd/state\";\n" POOL LSN);
	ck_assert_str_eq(conf->state_file, "/var/lib/lbd/state");
	expect("state_file = \"state\";\n" POOL LSN, 1,
	    "'state_file' must be an absolute path");
}
END_TEST

START_TEST(test_many_errors)
{
	expect("workers = 100;\n"				/* 1 */
	    "color = 1;\n"					/* 2 */
	    "log = { facility = \"nope\"; };\n"			/* 3 */
	    "timeouts = { connect = \"3x\"; };\n"		/* 4 */
	    "pools = (\n"					/* 5 */
	    " { name = \"p\"; algorithm = \"x\";\n"		/* 6 */
	    "   servers = ( { name = \"a\"; address = \"h:1\"; } ); },\n" /* 7 */
	    " { name = \"p\"; servers = ( { name = \"b\";\n"	/* 8 */
	    "   address = \"1.2.3.4:5\"; weight = -1; } ); }\n"	/* 9 */
	    ");\n"						/* 10 */
	    "listeners = (\n"					/* 11 */
	    " { name = \"l\"; bind = \"1.2.3.4:5\"; pool = \"zz\"; }\n" /* 12 */
	    ");\n", 1, "'workers' must be between");
	ck_assert(has_err("t.conf", 2, "unknown setting 'color'"));
	ck_assert(has_err("t.conf", 3, "unknown log facility"));
	ck_assert(has_err("t.conf", 4, "bad duration \"3x\""));
	ck_assert(has_err("t.conf", 6, "unknown algorithm"));
	ck_assert(has_err("t.conf", 7, "'address' must be a numeric"));
	ck_assert(has_err("t.conf", 8, "duplicate pool name 'p'"));
	ck_assert(has_err("t.conf", 9, "'weight' must be between"));
	ck_assert(has_err("t.conf", 12, "pool 'zz' is not defined"));
	ck_assert_uint_eq(errs.n, 9);
	/* Sorted by line. */
	ck_assert(strncmp(errs.msg[0], "t.conf:1:", 9) == 0);
	ck_assert(strncmp(errs.msg[8], "t.conf:12:", 10) == 0);
}
END_TEST

START_TEST(test_syntax_error)
{
	expect("workers = 2;\nmaxconn = ;\n" POOL LSN, 2, "syntax error");
	expect("workers = 2;\nworkers = 3;\n" POOL LSN, 2,
	    "duplicate setting name");
	expect("a = \"unterminated;\nb = 1;\n", 3, "syntax error");
	expect("@include \"/etc/passwd\"\n" POOL LSN, 1, "@include is not");
	/* A misplaced string: libconfig 1.5 would leak it (ASan checks). */
	expect(POOL LSN "\n\"x\" = 1;\n", 4, "syntax error");
	expect(POOL LSN "log = { \"facility\" };\n", 3, "syntax error");
}
END_TEST

START_TEST(test_files)
{
	char	path[] = "/tmp/test_conf.XXXXXX";
	FILE	*f;
	int	 fd;

	/* A NUL byte: libconfig would stop there silently. */
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fputs(POOL LSN, f);
	fputc('\0', f);
	fputs("workers = 1000;\n", f);
	fclose(f);
	reset();
	ck_assert_ptr_null(conf_load(path, &errs));
	ck_assert(has_err(path, 3, "NUL byte"));
	unlink(path);

	reset();
	ck_assert_ptr_null(conf_load("/nonexistent/lbd.conf", &errs));
	ck_assert(has_err("/nonexistent/lbd.conf", 0, "cannot read"));
	reset();
	ck_assert_ptr_null(conf_load("/", &errs));
	ck_assert_uint_eq(errs.n, 1);

	/* No collector, NULL text: still no crash, still NULL. */
	ck_assert_ptr_null(conf_load_string("x = 1;", NULL, NULL));
	ck_assert_ptr_null(conf_load_string(NULL, "t.conf", NULL));
	conf_free(NULL);
}
END_TEST

/* Reads "# expect: LINE: SUBSTRING" from the first line of `path`. */
static int
read_expect(const char *path, int *line, char *sub, size_t sublen)
{
	char	 buf[512], *p;
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || sscanf(buf, "# expect: %d: ", line) != 1 ||
	    (p = strstr(buf + 10, ": ")) == NULL)
		return -1;
	p[strcspn(p, "\n")] = '\0';
	snprintf(sub, sublen, "%s", p + 2);
	return 0;
}

/* Every tests/configs/bad/ file fails as its first line says; good pass. */
START_TEST(test_config_dirs)
{
	char		 dir[PATH_MAX], path[PATH_MAX + 256], sub[256];
	struct dirent	*de;
	DIR		*d;
	int		 line, nbad = 0, ngood = 0;

	snprintf(dir, sizeof(dir), "%s", src_path("tests/configs/bad"));
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".conf") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_msg(read_expect(path, &line, sub, sizeof(sub)) == 0,
		    "%s: no '# expect: LINE: TEXT' first line", path);
		reset();
		ck_assert_msg(conf_load(path, &errs) == NULL, "%s accepted",
		    path);
		ck_assert_msg(has_err(path, line, sub), "%s: want line %d "
		    "\"%s\", got:\n%s", path, line, sub, dump());
		nbad++;
	}
	closedir(d);
	ck_assert_int_ge(nbad, 20);

	snprintf(dir, sizeof(dir), "%s", src_path("tests/configs/good"));
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".conf") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		reset();
		conf = conf_load(path, &errs);
		ck_assert_msg(conf != NULL, "%s rejected:\n%s", path, dump());
		ngood++;
	}
	closedir(d);
	ck_assert_int_ge(ngood, 3);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_sample_loads);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_setting);
	tcase_add_test(tc, test_algorithms);
	tcase_add_test(tc, test_workers_resolve);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_int_literals);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_listener_pool);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_log_and_socket);
	tcase_add_test(tc, test_control_group_and_state_file);
	tcase_add_test(tc, test_many_errors);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_config_dirs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(conf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
