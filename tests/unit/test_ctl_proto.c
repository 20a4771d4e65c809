/*
 * test_ctl_proto.c - the control protocol's pure parts: request parsing,
 * reply headers, the bounded buffer, the JSON writer; and ctl_call()
 * against a tiny forked server on a unix socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "ctl_proto.h"

static int
parse(const char *s, struct ctl_request *r, char *why)
{
	return ctl_request_parse(s, strlen(s), r, why, 128);
}

START_TEST(req_simple)
{
	struct ctl_request r;
	char why[128];

	ck_assert_int_eq(parse("status\n", &r, why), 0);
	ck_assert(!r.json);
	ck_assert_int_eq(r.argc, 1);
	ck_assert_str_eq(r.argv[0], "status");

	ck_assert_int_eq(parse("  weight\tweb/a   7  \r\n", &r, why), 0);
	ck_assert_int_eq(r.argc, 3);
	ck_assert_str_eq(r.argv[0], "weight");
	ck_assert_str_eq(r.argv[1], "web/a");
	ck_assert_str_eq(r.argv[2], "7");
}
END_TEST

START_TEST(req_json)
{
	struct ctl_request r;
	char why[128];

	ck_assert_int_eq(parse("json servers web", &r, why), 0);
	ck_assert(r.json);
	ck_assert_int_eq(r.argc, 2);
	ck_assert_str_eq(r.argv[0], "servers");
	ck_assert_str_eq(r.argv[1], "web");
	/* "json" alone is an empty command; "jsonx" is just a word. */
	ck_assert_int_eq(parse("json\n", &r, why), -1);
	ck_assert_str_eq(why, "empty command");
	ck_assert_int_eq(parse("jsonx", &r, why), 0);
	ck_assert(!r.json);
	ck_assert_str_eq(r.argv[0], "jsonx");
}
END_TEST

START_TEST(req_empty)
{
	struct ctl_request r;
	char why[128];

	ck_assert_int_eq(parse("", &r, why), -1);
	ck_assert_int_eq(parse("\n", &r, why), -1);
	ck_assert_int_eq(parse("  \t \n", &r, why), -1);
	ck_assert_str_eq(why, "empty command");
	/* A NULL reason buffer is allowed. */
	ck_assert_int_eq(ctl_request_parse("", 0, &r, NULL, 0), -1);
}
END_TEST

START_TEST(req_too_long)
{
	struct ctl_request r;
	char why[128];
	char line[CTL_LINE_MAX + 2];

	/* CTL_LINE_MAX - 1 bytes plus '\n' fit exactly. */
	memset(line, 'a', sizeof(line));
	line[CTL_LINE_MAX - 1] = '\n';
	ck_assert_int_eq(ctl_request_parse(line, CTL_LINE_MAX, &r, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(strlen(r.argv[0]), CTL_LINE_MAX - 1);
	ck_assert_int_eq(ctl_request_parse(line, CTL_LINE_MAX - 1, &r, why,
	    sizeof(why)), 0);
	/* One more is too long, with or without a newline. */
	line[CTL_LINE_MAX] = '\n';
	line[CTL_LINE_MAX - 1] = 'a';
	ck_assert_int_eq(ctl_request_parse(line, CTL_LINE_MAX + 1, &r, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, "request line too long");
	ck_assert_int_eq(ctl_request_parse(line, CTL_LINE_MAX, &r, why,
	    sizeof(why)), -1);
}
END_TEST

START_TEST(req_args)
{
	struct ctl_request r;
	char why[128], line[256];
	int i;

	/* CTL_ARGS_MAX words are fine, also behind "json". */
	line[0] = '\0';
	for (i = 0; i < CTL_ARGS_MAX; i++)
		strcat(line, "w ");
	ck_assert_int_eq(parse(line, &r, why), 0);
	ck_assert_int_eq(r.argc, CTL_ARGS_MAX);
	memmove(line + 5, line, strlen(line) + 1);
	memcpy(line, "json ", 5);
	ck_assert_int_eq(parse(line, &r, why), 0);
	ck_assert(r.json);
	ck_assert_int_eq(r.argc, CTL_ARGS_MAX);
	strcat(line, "x");
	ck_assert_int_eq(parse(line, &r, why), -1);
	ck_assert_str_eq(why, "too many arguments");
	strcat(line, " y z");
	ck_assert_int_eq(parse(line, &r, why), -1);
}
END_TEST

START_TEST(req_control_chars)
{
	struct ctl_request r;
	char why[128];

	ck_assert_int_eq(parse("sta\x1btus", &r, why), -1);
	ck_assert_str_eq(why, "control character in request");
	ck_assert_int_eq(parse("status\x7f", &r, why), -1);
	ck_assert_int_eq(parse("a\nb\n", &r, why), -1);
	ck_assert_int_eq(parse("a\rb", &r, why), -1);
	/* An embedded NUL. */
	ck_assert_int_eq(ctl_request_parse("ab\0cd", 5, &r, why, 128), -1);
	/* UTF-8 is not a control character. */
	ck_assert_int_eq(parse("drain caf\xc3\xa9/a", &r, why), 0);
}
END_TEST

START_TEST(hdr_build_parse)
{
	char hdr[32];
	size_t n, len;
	bool ok;

	n = ctl_reply_header(hdr, sizeof(hdr), true, 42);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(hdr, "OK 42\n");
	ck_assert_int_eq(ctl_reply_header_parse(hdr, n, &ok, &len), 0);
	ck_assert(ok);
	ck_assert_uint_eq(len, 42);
	n = ctl_reply_header(hdr, sizeof(hdr), false, 0);
	ck_assert_str_eq(hdr, "ERR 0\n");
	ck_assert_int_eq(ctl_reply_header_parse(hdr, n, &ok, &len), 0);
	ck_assert(!ok);
	ck_assert_uint_eq(len, 0);
	/* Without its newline it parses too. */
	ck_assert_int_eq(ctl_reply_header_parse("OK 7", 4, &ok, &len), 0);
	ck_assert_uint_eq(len, 7);
}
END_TEST

START_TEST(hdr_malformed)
{
	static const char *bad[] = {
		"", "\n", "OK", "OK \n", "OK  5\n", "OK 5 \n", "OK -5\n",
		"OK +5\n", "ok 5\n", "ERR\n", "ERR x\n", "FOO 5\n",
		"OK 5\n\n", "OK 12345678901\n", "OK 5x\n", " OK 5\n", "OK 05\n",
		"OK 00\n",
	};
	size_t i, len;
	bool ok;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ctl_reply_header_parse(bad[i], strlen(bad[i]),
		    &ok, &len) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(hdr_too_big)
{
	char hdr[32];
	size_t n, len;
	bool ok;

	n = ctl_reply_header(hdr, sizeof(hdr), true, CTL_REPLY_MAX);
	ck_assert_int_eq(ctl_reply_header_parse(hdr, n, &ok, &len), 0);
	ck_assert_uint_eq(len, CTL_REPLY_MAX);
	n = ctl_reply_header(hdr, sizeof(hdr), true, CTL_REPLY_MAX + 1);
	ck_assert_int_eq(ctl_reply_header_parse(hdr, n, &ok, &len), -1);
	ck_assert_int_eq(ctl_reply_header_parse("OK 9999999999\n", 14, &ok,
	    &len), -1);
}
END_TEST

START_TEST(buf_basic)
{
	struct ctl_buf b;

	ctl_buf_init(&b);
	ck_assert_uint_eq(b.len, 0);
	ctl_buf_printf(&b, "%s-%d", "abc", 12);
	ctl_buf_append(&b, "xyz", 3);
	ck_assert_uint_eq(b.len, 9);
	ck_assert_str_eq(b.data, "abc-12xyz");
	ck_assert(!b.overflow);
	ctl_buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(buf_long_printf)
{
	struct ctl_buf b;
	char big[5000];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ctl_buf_init(&b);
	ctl_buf_printf(&b, "<%s>", big);
	ck_assert_uint_eq(b.len, sizeof(big) + 1);
	ck_assert_int_eq(b.data[0], '<');
	ck_assert_int_eq(b.data[b.len - 1], '>');
	ck_assert_int_eq(b.data[b.len], '\0');
	ctl_buf_free(&b);
}
END_TEST

START_TEST(buf_bound)
{
	struct ctl_buf b;
	char *chunk;
	size_t i, n = 64 * 1024;

	chunk = malloc(n);
	ck_assert_ptr_nonnull(chunk);
	memset(chunk, 'z', n);
	ctl_buf_init(&b);
	for (i = 0; i < CTL_REPLY_MAX / n + 4; i++)
		ctl_buf_append(&b, chunk, n);
	ck_assert(b.overflow);
	ck_assert_uint_eq(b.len, CTL_REPLY_MAX);
	ck_assert_uint_le(b.cap, CTL_REPLY_MAX + 1);
	ck_assert_int_eq(b.data[b.len], '\0');
	ctl_buf_printf(&b, "more");
	ck_assert_uint_eq(b.len, CTL_REPLY_MAX);
	ctl_buf_free(&b);
	free(chunk);
}
END_TEST

START_TEST(json_nesting)
{
	struct ctl_buf b;
	struct json_w w;

	ctl_buf_init(&b);
	json_init(&w, &b);
	json_obj_begin(&w);
	json_kv_bool(&w, "ok", true);
	json_key(&w, "list");
	json_arr_begin(&w);
	json_int(&w, -1);
	json_uint(&w, 18446744073709551615ull);
	json_obj_begin(&w);
	json_obj_end(&w);
	json_arr_begin(&w);
	json_arr_end(&w);
	json_null(&w);
	json_str(&w, NULL);
	json_number(&w, "1.5");
	json_arr_end(&w);
	json_kv_str(&w, "s", "x");
	json_kv_int(&w, "i", 3);
	json_kv_uint(&w, "u", 4);
	json_key(&w, "o");
	json_obj_begin(&w);
	json_kv_bool(&w, "f", false);
	json_obj_end(&w);
	json_obj_end(&w);
	ck_assert_str_eq(b.data, "{\"ok\":true,\"list\":[-1,"
	    "18446744073709551615,{},[],null,null,1.5],\"s\":\"x\",\"i\":3,"
	    "\"u\":4,\"o\":{\"f\":false}}");
	ck_assert_int_eq(w.depth, 0);
	ctl_buf_free(&b);
}
END_TEST

START_TEST(json_top_array)
{
	struct ctl_buf b;
	struct json_w w;

	ctl_buf_init(&b);
	json_init(&w, &b);
	json_arr_begin(&w);
	json_obj_begin(&w);
	json_kv_str(&w, "a", "1");
	json_obj_end(&w);
	json_obj_begin(&w);
	json_kv_str(&w, "a", "2");
	json_obj_end(&w);
	json_arr_end(&w);
	ck_assert_str_eq(b.data, "[{\"a\":\"1\"},{\"a\":\"2\"}]");
	ctl_buf_free(&b);
}
END_TEST

START_TEST(json_escape)
{
	struct ctl_buf b;
	struct json_w w;

	ctl_buf_init(&b);
	json_init(&w, &b);
	json_obj_begin(&w);
	json_kv_str(&w, "q\"k", "a\"b\\c\nd\te\rf\x01g\x1fh\x7fi");
	json_kv_str(&w, "utf8", "caf\xc3\xa9 \xe2\x82\xac");
	json_kv_str(&w, "empty", "");
	json_obj_end(&w);
	ck_assert_str_eq(b.data, "{\"q\\\"k\":\"a\\\"b\\\\c\\nd\\te\\rf"
	    "\\u0001g\\u001fh\\u007fi\",\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac\","
	    "\"empty\":\"\"}");
	ctl_buf_free(&b);
}
END_TEST

/* Deterministic xorshift, so a failure can be replayed. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random lines, biased to what a parser must split: its invariants. */
START_TEST(req_random)
{
	static const char alphabet[] = "ab json/ \t\n\r\x01\x7f\xc3\xa9-";
	struct ctl_request r;
	char line[CTL_LINE_MAX + 64], why[128];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t n, i;
	int it, a, ok = 0;

	for (it = 0; it < 50000; it++) {
		n = rnd(&seed) % (it % 10 == 0 ? sizeof(line) : 64);
		for (i = 0; i < n; i++)
			line[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
		if (ctl_request_parse(line, n, &r, why, sizeof(why)) == -1) {
			ck_assert(why[0] != '\0');
			continue;
		}
		ok++;
		ck_assert(r.argc >= 1 && r.argc <= CTL_ARGS_MAX);
		for (a = 0; a < r.argc; a++) {
			ck_assert(r.argv[a] >= r.buf &&
			    r.argv[a] < r.buf + sizeof(r.buf));
			ck_assert(r.argv[a][0] != '\0');
			ck_assert(strpbrk(r.argv[a], " \t\n\r\x01\x7f") == NULL);
		}
		ck_assert(!r.json || strcmp(r.argv[0], "") != 0);
	}
	/* Both outcomes were exercised. */
	ck_assert_int_gt(ok, 100);
	ck_assert_int_lt(ok, 50000);
}
END_TEST

START_TEST(hdr_random)
{
	static const char alphabet[] = "OKER 0123456789\n+-x";
	static const char digits[] = "0123456789\n";
	char line[24], again[32];
	uint64_t seed = 12345;
	size_t n, i, len, p;
	bool ok;
	int it, parsed = 0;

	for (it = 0; it < 50000; it++) {
		n = rnd(&seed) % sizeof(line);
		/* Half start right, so the digits get exercised. */
		p = it % 2 == 0 ? 0 : it % 4 == 1 ? 3 : 4;
		memcpy(line, p == 3 ? "OK " : "ERR ", p);
		for (i = p; i < n; i++)
			line[i] = p > 0 ? digits[rnd(&seed) % 11] :
			    alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
		if (n < p || ctl_reply_header_parse(line, n, &ok, &len) == -1)
			continue;
		parsed++;
		/* Whatever parses is exactly what the builder writes. */
		ck_assert_uint_le(len, CTL_REPLY_MAX);
		i = ctl_reply_header(again, sizeof(again), ok, len);
		ck_assert(i == n || i == n + 1);
		ck_assert(memcmp(again, line, i - 1) == 0);
	}
	ck_assert_int_gt(parsed, 100);
}
END_TEST

/* A server that sends `reply` (n bytes) after reading one line. */
static pid_t
serve_once(const char *path, const char *reply, size_t n)
{
	struct sockaddr_un sun;
	int lfd, fd;
	char c;
	pid_t pid;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ne(lfd, -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		alarm(10);
		fd = accept(lfd, NULL, NULL);
		while (read(fd, &c, 1) == 1 && c != '\n')
			;
		if (n > 0 && write(fd, reply, n) == -1)
			_exit(1);
		if (n == 0)
			sleep(5);	/* say nothing: the client times out */
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void
sock_path(char *p, size_t n)
{
	snprintf(p, n, "/tmp/test_ctl_proto.%ld.sock", (long)getpid());
}

START_TEST(call_ok_err)
{
	char path[108], *body;
	size_t len;
	pid_t pid;

	sock_path(path, sizeof(path));
	pid = serve_once(path, "OK 6\nhello\n", 11);
	ck_assert_int_eq(ctl_call(path, "status", 2000, &body, &len), 1);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(body, "hello\n");
	free(body);
	waitpid(pid, NULL, 0);

	pid = serve_once(path, "ERR 4\nnope", 10);
	ck_assert_int_eq(ctl_call(path, "x", 2000, &body, &len), 0);
	ck_assert_str_eq(body, "nope");
	free(body);
	waitpid(pid, NULL, 0);
	unlink(path);
}
END_TEST

START_TEST(call_bad_reply)
{
	char path[108], *body;
	pid_t pid;

	sock_path(path, sizeof(path));
	pid = serve_once(path, "HELLO\n", 6);
	ck_assert_int_eq(ctl_call(path, "status", 2000, &body, NULL), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_ptr_null(body);
	waitpid(pid, NULL, 0);

	/* Body cut short. */
	pid = serve_once(path, "OK 10\nabc", 9);
	ck_assert_int_eq(ctl_call(path, "status", 2000, &body, NULL), -1);
	ck_assert_int_eq(errno, EPROTO);
	waitpid(pid, NULL, 0);

	/* Silence: the whole exchange is bounded by the timeout. */
	pid = serve_once(path, NULL, 0);
	ck_assert_int_eq(ctl_call(path, "status", 200, &body, NULL), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	kill(pid, SIGKILL);	/* Check's SIGTERM handler is inherited */
	waitpid(pid, NULL, 0);
	unlink(path);
}
END_TEST

/* A refusing server: answers and closes without reading the request. */
START_TEST(call_refused_early)
{
	struct sockaddr_un sun;
	char path[108], *body, big[CTL_LINE_MAX - 1];
	int lfd, fd;
	pid_t pid;

	sock_path(path, sizeof(path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		fd = accept(lfd, NULL, NULL);
		if (write(fd, "ERR 7\ndenied\n", 13) != 13)
			_exit(1);
		close(fd);
		_exit(0);
	}
	close(lfd);
	/*
	 * Whether the request is written before or after the server closes
	 * (then send fails with EPIPE), the answer must come through.
	 */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(ctl_call(path, big, 2000, &body, NULL), 0);
	ck_assert_str_eq(body, "denied\n");
	free(body);
	waitpid(pid, NULL, 0);
	unlink(path);
}
END_TEST

START_TEST(call_unreachable)
{
	char *body;
	char longpath[200];

	ck_assert_int_eq(ctl_call("/nonexistent/dir/x.sock", "status", 500,
	    &body, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(ctl_call(longpath, "status", 500, &body, NULL), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	/* A request holding a newline is refused before connecting. */
	ck_assert_int_eq(ctl_call("/nonexistent", "a\nb", 500, &body, NULL),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *
ctl_proto_suite(void)
{
	Suite *s = suite_create("ctl_proto");
	TCase *tc;

	tc = tcase_create("request");
	tcase_add_test(tc, req_simple);
	tcase_add_test(tc, req_json);
	tcase_add_test(tc, req_empty);
	tcase_add_test(tc, req_too_long);
	tcase_add_test(tc, req_args);
	tcase_add_test(tc, req_control_chars);
	tcase_add_test(tc, req_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_test(tc, hdr_build_parse);
	tcase_add_test(tc, hdr_malformed);
	tcase_add_test(tc, hdr_too_big);
	tcase_add_test(tc, hdr_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("buf");
	tcase_add_test(tc, buf_basic);
	tcase_add_test(tc, buf_long_printf);
	tcase_add_test(tc, buf_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, json_nesting);
	tcase_add_test(tc, json_top_array);
	tcase_add_test(tc, json_escape);
	suite_add_tcase(s, tc);

	tc = tcase_create("call");
	tcase_add_test(tc, call_ok_err);
	tcase_add_test(tc, call_bad_reply);
	tcase_add_test(tc, call_refused_early);
	tcase_add_test(tc, call_unreachable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ctl_proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
