/*
 * test_state.c - the state file: parsing, formatting, capture against a
 * config, re-applying, and the atomic save.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cfg.h"
#include "conf.h"
#include "shm.h"
#include "state.h"

static const char *conf_text =
    "control_socket = \"/tmp/unused.sock\";\n"
    "pools = ( { name = \"web\"; servers = (\n"
    "  { name = \"a\"; address = \"127.0.0.1:9001\"; weight = 1; },\n"
    "  { name = \"b\"; address = \"127.0.0.1:9002\"; weight = 2; } ); } );\n"
    "listeners = ( { name = \"l\"; bind = \"127.0.0.1:8080\"; "
    "pool = \"web\"; } );\n";

/* A table loaded from conf_text, the way the master builds it. */
static struct shm_table *
table_from(const struct conf *c)
{
	struct shm_table	*t = shm_create();
	uint32_t		 i;
	int			 p;

	ck_assert_ptr_nonnull(t);
	p = shm_pool_add(t, c->pools[0].name, c->pools[0].algorithm,
	    c->pools[0].retries);
	ck_assert_int_ge(p, 0);
	for (i = 0; i < c->pools[0].nservers; i++) {
		const struct conf_server *s = &c->pools[0].servers[i];

		ck_assert_int_ge(shm_server_add(t, (uint32_t)p, s->name,
		    (const struct sockaddr *)&s->addr, s->addrlen, s->weight,
		    s->maxconn, s->backup), 0);
	}
	return t;
}

static struct conf *
conf_get(void)
{
	struct cfg_errors	 e = { 0 };
	struct conf		*c = conf_load_string(conf_text, "t.conf", &e);

	ck_assert_msg(c != NULL, "%s", e.n ? e.msg[0] : "?");
	cfg_errors_free(&e);
	return c;
}

START_TEST(parse_good_and_bad)
{
	const char *text =
	    "# comment\n"
	    "\n"
	    "server web a admin=drain weight=5 cfgweight=1\n"
	    "added web c 127.0.0.1:9003 weight=3 maxconn=10 backup=1 "
	    "admin=ready\n"
	    "removed web b\n"
	    "server web a admin=bogus\n"
	    "frobnicate web a\n"
	    "added web d not-an-address\n"
	    "server web a weight=999\n"
	    "server web/x a\n";
	struct state	st;
	size_t		nbad;
	int		firstbad;

	ck_assert_int_eq(state_parse(text, strlen(text), &st, &nbad,
	    &firstbad), 0);
	ck_assert_uint_eq(st.n, 3);
	ck_assert_uint_eq(nbad, 5);
	ck_assert_int_eq(firstbad, 6);
	ck_assert_int_eq(st.e[0].kind, STATE_SERVER);
	ck_assert_uint_eq(st.e[0].admin, SHM_ADMIN_DRAIN);
	ck_assert_uint_eq(st.e[0].weight, 5);
	ck_assert_int_eq(st.e[1].kind, STATE_ADDED);
	ck_assert_uint_eq(st.e[1].maxconn, 10);
	ck_assert(st.e[1].backup);
	ck_assert_uint_eq(addr_port((struct sockaddr *)&st.e[1].addr), 9003);
	ck_assert_int_eq(st.e[2].kind, STATE_REMOVED);
	ck_assert(state_is_added(&st, "web", "c"));
	ck_assert(!state_is_added(&st, "web", "a"));
	state_free(&st);
}
END_TEST

START_TEST(long_line_and_no_newline)
{
	char		text[2048];
	struct state	st;
	size_t		nbad;
	int		firstbad;

	memset(text, 'x', 1000);
	strcpy(text + 1000, "\nremoved web a");
	ck_assert_int_eq(state_parse(text, strlen(text), &st, &nbad,
	    &firstbad), 0);
	ck_assert_uint_eq(nbad, 1);
	ck_assert_uint_eq(st.n, 1);
	state_free(&st);
}
END_TEST

START_TEST(capture_format_parse_roundtrip)
{
	struct conf		*c = conf_get();
	struct shm_table	*t = table_from(c);
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct state		 st, back;
	size_t			 flen, nbad;
	char			*text;
	int			 firstbad, a;

	/* Nothing differs from the config: nothing to keep. */
	ck_assert_int_eq(state_capture(t, c, &st), 0);
	ck_assert_uint_eq(st.n, 0);
	state_free(&st);

	a = shm_server_find(t, 0, "a");
	atomic_store(&t->servers[a].admin, SHM_ADMIN_DRAIN);
	atomic_store(&t->servers[a].weight, 7);
	ck_assert_int_eq(addr_parse("[::1]:9009", &ss, &len), 0);
	ck_assert_int_ge(shm_server_add(t, 0, "c", (struct sockaddr *)&ss,
	    len, 4, 0, false), 0);
	ck_assert_int_eq(shm_server_remove(t,
	    (uint32_t)shm_server_find(t, 0, "b")), 0);

	ck_assert_int_eq(state_capture(t, c, &st), 0);
	ck_assert_uint_eq(st.n, 3);
	text = state_format(&st, &flen);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "server web a admin=drain "
	    "weight=7 cfgweight=1\n"));
	ck_assert_ptr_nonnull(strstr(text, "added web c [::1]:9009 "));
	ck_assert_ptr_nonnull(strstr(text, "removed web b\n"));
	ck_assert_int_eq(state_parse(text, flen, &back, &nbad, &firstbad), 0);
	ck_assert_uint_eq(nbad, 0);
	ck_assert_uint_eq(back.n, 3);
	free(text);
	state_free(&back);
	state_free(&st);
	shm_destroy(t);
	conf_free(c);
}
END_TEST

START_TEST(apply_to_fresh_table)
{
	const char *text =
	    "server web a admin=maint weight=9 cfgweight=1\n"
	    "server web b admin=drain weight=9 cfgweight=5\n"
	    "added web c 127.0.0.1:9003 weight=3 maxconn=0 backup=0 "
	    "admin=ready\n"
	    "added web a 127.0.0.1:9999 weight=3\n"
	    "added nopool z 127.0.0.1:9004\n"
	    "removed web b\n";
	struct conf		*c = conf_get();
	struct shm_table	*t = table_from(c);
	struct state		 st;
	uint32_t		 busy[4];
	size_t			 nbad, skipped, nbusy;
	int			 firstbad, a, cidx;

	ck_assert_int_eq(state_parse(text, strlen(text), &st, &nbad,
	    &firstbad), 0);
	ck_assert_uint_eq(state_apply(&st, t, c, &skipped, busy, 4, &nbusy),
	    4);
	ck_assert_uint_eq(skipped, 2);	/* "added web a": config has it */
	ck_assert_uint_eq(nbusy, 0);
	a = shm_server_find(t, 0, "a");
	ck_assert_uint_eq(atomic_load(&t->servers[a].admin), SHM_ADMIN_MAINT);
	ck_assert_uint_eq(atomic_load(&t->servers[a].weight), 9);
	ck_assert_int_eq(shm_server_find(t, 0, "b"), -1);
	cidx = shm_server_find(t, 0, "c");
	ck_assert_int_ge(cidx, 0);
	ck_assert_uint_eq(atomic_load(&t->servers[cidx].weight), 3);
	state_free(&st);
	shm_destroy(t);
	conf_free(c);
}
END_TEST

START_TEST(config_weight_change_wins)
{
	const char *text = "server web b admin=ready weight=9 cfgweight=1\n";
	struct conf		*c = conf_get();	/* b has weight 2 */
	struct shm_table	*t = table_from(c);
	struct state		 st;
	uint32_t		 busy[1];
	size_t			 nbad, skipped, nbusy;
	int			 firstbad, b;

	ck_assert_int_eq(state_parse(text, strlen(text), &st, &nbad,
	    &firstbad), 0);
	state_apply(&st, t, c, &skipped, busy, 1, &nbusy);
	b = shm_server_find(t, 0, "b");
	ck_assert_uint_eq(atomic_load(&t->servers[b].weight), 2);
	state_free(&st);
	shm_destroy(t);
	conf_free(c);
}
END_TEST

START_TEST(busy_removal_is_deferred)
{
	const char *text = "removed web a\n";
	struct conf		*c = conf_get();
	struct shm_table	*t = table_from(c);
	struct state		 st;
	uint32_t		 busy[2];
	size_t			 nbad, skipped, nbusy;
	int			 firstbad, slot, a;

	slot = shm_worker_claim(t, getpid(), 1);
	a = shm_server_find(t, 0, "a");
	ck_assert_int_eq(shm_server_acquire(t, (uint32_t)slot, (uint32_t)a),
	    0);
	ck_assert_int_eq(state_parse(text, strlen(text), &st, &nbad,
	    &firstbad), 0);
	state_apply(&st, t, c, &skipped, busy, 2, &nbusy);
	ck_assert_uint_eq(nbusy, 1);
	ck_assert_uint_eq(busy[0], (uint32_t)a);
	ck_assert_uint_eq(atomic_load(&t->servers[a].admin), SHM_ADMIN_MAINT);
	shm_server_release(t, (uint32_t)slot, (uint32_t)a);
	ck_assert_int_eq(shm_server_remove(t, (uint32_t)a), 0);
	state_free(&st);
	shm_destroy(t);
	conf_free(c);
}
END_TEST

START_TEST(save_is_atomic_and_safe)
{
	char		 dir[] = "/tmp/lbstate.XXXXXX", path[256], tmp[300];
	char		 buf[512];
	const char	*text = "removed web a\n";
	struct state	 st, back;
	struct stat	 sb;
	size_t		 nbad;
	ssize_t		 n;
	int		 firstbad, fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* A planted symlink at the temp path must not be followed. */
	ck_assert_int_eq(symlink("/etc/passwd", tmp), 0);
	ck_assert_int_eq(state_parse(text, strlen(text), &st, &nbad,
	    &firstbad), 0);
	ck_assert_int_eq(state_save(path, &st), 0);
	ck_assert_int_eq(lstat(tmp, &sb), -1);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0640 & ~0);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "removed web a\n"));
	ck_assert_int_eq(state_load(path, &back, &nbad, &firstbad), 0);
	ck_assert_uint_eq(back.n, 1);
	state_free(&back);
	/* A missing file is an empty state, not an error. */
	unlink(path);
	ck_assert_int_eq(state_load(path, &back, &nbad, &firstbad), 0);
	ck_assert_uint_eq(back.n, 0);
	state_free(&st);
	rmdir(dir);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, parse_good_and_bad);
	tcase_add_test(tc, long_line_and_no_newline);
	tcase_add_test(tc, capture_format_parse_roundtrip);
	tcase_add_test(tc, apply_to_fresh_table);
	tcase_add_test(tc, config_weight_change_wins);
	tcase_add_test(tc, busy_removal_is_deferred);
	tcase_add_test(tc, save_is_atomic_and_safe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(state_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
