/*
 * test_ctl.c - lbd's control commands (lb/ctl_cmd.c, ctl_show.c,
 * ctl_metrics.c) run directly against a hand-built shared table, without
 * a socket; and the socket server (lb/ctl.c) on a private event loop:
 * stale and live sockets, framing, oversized lines, permissions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "cfg.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "ctl_proto.h"
#include "shm.h"

static struct shm_table	*T;
static struct conf	 C;
static uint32_t		 alive;
static int		 reload_rc;
static struct ctl_env	 E;

static const struct conf *
t_conf(void *arg)
{
	return &C;
}

static uint32_t
t_alive(void *arg)
{
	return alive;
}

static int
t_reload(void *arg, struct cfg_errors *errs)
{
	if (reload_rc == -1) {
		cfg_error(errs, "/etc/lbd.conf", 12, "unknown setting \"x\"");
		cfg_error(errs, "/etc/lbd.conf", 20, "bad port");
	}
	return reload_rc;
}

static void
add_server(int pool, const char *name, const char *ip, int port,
    uint32_t weight)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	ck_assert_int_ge(shm_server_add(T, (uint32_t)pool, name,
	    (struct sockaddr *)&sin, sizeof(sin), weight, 0, false), 0);
}

/* Pools web (a, b) and db (m, backup-less), 2 workers configured. */
static void
setup(void)
{
	int web, db;

	T = shm_create();
	ck_assert_ptr_nonnull(T);
	web = shm_pool_add(T, "web", BAL_ROUNDROBIN, 2);
	db = shm_pool_add(T, "db", BAL_LEASTCONN, 1);
	ck_assert_int_ge(web, 0);
	ck_assert_int_ge(db, 0);
	add_server(web, "a", "127.0.0.1", 8081, 1);
	add_server(web, "b", "127.0.0.1", 8082, 2);
	add_server(db, "m", "127.0.0.2", 5432, 1);
	memset(&C, 0, sizeof(C));
	C.workers = 2;
	alive = 2;
	reload_rc = 0;
	memset(&E, 0, sizeof(E));
	E.t = T;
	E.conf = t_conf;
	E.reload = t_reload;
	E.workers_alive = t_alive;
	E.started_ms = 1700000000000;
	E.config_path = "/etc/lbd.conf";
	E.control_gid = (gid_t)-1;
}

static void
teardown(void)
{
	shm_destroy(T);
	T = NULL;
}

/* Runs `line`; the body goes to *out (caller frees with ctl_buf_free). */
static bool
run(const char *line, struct ctl_buf *out)
{
	struct ctl_request req;
	char why[128];

	ctl_buf_init(out);
	ck_assert_msg(ctl_request_parse(line, strlen(line), &req, why,
	    sizeof(why)) == 0, "parse %s: %s", line, why);
	return ctl_cmd_run(&E, &req, 0, out);
}

/* Runs `line`, asserts the outcome, and checks `needle` is in the body. */
static void
expect(const char *line, bool ok, const char *needle)
{
	struct ctl_buf out;
	bool r = run(line, &out);

	ck_assert_msg(r == ok, "%s: expected %s, body: %s", line,
	    ok ? "OK" : "ERR", out.data ? out.data : "");
	if (needle != NULL)
		ck_assert_msg(out.data != NULL && strstr(out.data, needle),
		    "%s: '%s' not in: %s", line, needle,
		    out.data ? out.data : "");
	ctl_buf_free(&out);
}

static int
server(const char *pool, const char *name)
{
	int idx = shm_server_find(T, (uint32_t)shm_pool_find(T, pool), name);

	ck_assert_int_ge(idx, 0);
	return idx;
}

START_TEST(servers_json_fields)
{
	static const char *keys[] = {
		"\"pool\":\"web\"", "\"name\":\"a\"",
		"\"address\":\"127.0.0.1:8081\"", "\"state\":\"up\"",
		"\"admin\":\"ready\"", "\"weight\":1", "\"active\":0",
		"\"total\":0", "\"failures\":0", "\"bytes_in\":0",
		"\"bytes_out\":0", "\"last_check\":0", "\"last_change\":",
		"\"backup\":false", "\"maxconn\":0",
	};
	struct ctl_buf out;
	size_t i;

	ck_assert(run("json servers", &out));
	ck_assert_int_eq(out.data[0], '[');
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(strstr(out.data, keys[i]) != NULL, "%s missing",
		    keys[i]);
	ck_assert_ptr_nonnull(strstr(out.data, "\"name\":\"m\""));
	ctl_buf_free(&out);
	/* Only one pool. */
	ck_assert(run("json servers db", &out));
	ck_assert_ptr_null(strstr(out.data, "\"pool\":\"web\""));
	ck_assert_ptr_nonnull(strstr(out.data, "\"name\":\"m\""));
	ctl_buf_free(&out);
	expect("servers nosuch", false, "no pool named 'nosuch'");
	expect("servers", true, "ADDRESS");
}
END_TEST

START_TEST(text_tables_aligned)
{
	struct ctl_buf out;
	char *l1, *l2;

	ck_assert(run("pools", &out));
	/* Header and rows share column positions: "UP" ends where "2" does. */
	l1 = out.data;
	l2 = strchr(l1, '\n') + 1;
	ck_assert_int_eq((int)(strchr(l2, '\n') - l2),
	    (int)(strchr(l1, '\n') - l1));
	ck_assert_ptr_nonnull(strstr(out.data, "roundrobin"));
	ck_assert_ptr_nonnull(strstr(out.data, "leastconn"));
	ctl_buf_free(&out);
}
END_TEST

START_TEST(status_and_pools)
{
	expect("status", true, "2 alive / 2 configured");
	expect("status", true, "pools:       2 up / 2");
	expect("json status", true, "\"workers_alive\":2");
	expect("json status", true, "\"version\":\"" LB_VERSION "\"");
	expect("json status", true, "\"config\":\"/etc/lbd.conf\"");
	expect("json pools", true, "\"name\":\"web\",\"algorithm\":"
	    "\"roundrobin\",\"servers_up\":2,\"servers_total\":2");
	expect("json workers", true, "[]");
	ck_assert_int_ge(shm_worker_claim(T, 4242, 1), 0);
	expect("json workers", true, "\"pid\":4242,\"generation\":1");
	expect("workers", true, "4242");
	expect("status extra", false, "usage: status");
}
END_TEST

START_TEST(drain_disable_enable)
{
	int a = server("web", "a");

	atomic_store(&T->servers[a].last_change_ms, 1);
	expect("drain web/a", true, "web/a: drain (was ready)");
	ck_assert_uint_eq(atomic_load(&T->servers[a].admin), SHM_ADMIN_DRAIN);
	ck_assert(!shm_server_usable(T, (uint32_t)a));
	ck_assert_int_gt(atomic_load(&T->servers[a].last_change_ms), 1);
	expect("json servers web", true, "\"admin\":\"drain\"");
	expect("json disable web/a", true, "{\"ok\":true,\"pool\":\"web\","
	    "\"server\":\"a\",\"result\":\"maint\",\"was\":\"drain\"}");
	ck_assert_uint_eq(atomic_load(&T->servers[a].admin), SHM_ADMIN_MAINT);
	expect("enable web/a", true, "ready");
	ck_assert(shm_server_usable(T, (uint32_t)a));
	expect("drain web/zz", false, "no server named 'zz' in pool web");
	expect("drain nopool/a", false, "no pool named 'nopool'");
	expect("drain web", false, "expected POOL/SERVER");
	expect("drain /a", false, "expected POOL/SERVER");
	expect("drain web/", false, "expected POOL/SERVER");
	expect("drain", false, "usage: drain POOL/SERVER");
	expect("drain web/a web/b", false, "usage");
}
END_TEST

START_TEST(health)
{
	int m = server("db", "m");

	expect("health", true, "healthy: 2/2 workers");
	expect("json health", true, "\"ok\":true");
	alive = 1;
	expect("health", true, "degraded");
	alive = 0;
	expect("health", false, "no worker alive");
	alive = 2;
	atomic_store(&T->servers[m].health, SHM_HEALTH_DOWN);
	expect("health", false, "pool db has no server up");
	expect("status", true, "1 up / 2");
	atomic_store(&T->servers[m].health, SHM_HEALTH_UP);
	expect("drain db/m", true, NULL);
	expect("health", false, "pool db");
	expect("enable db/m", true, NULL);
	expect("weight db/m 0", true, NULL);
	expect("health", false, "pool db");
}
END_TEST

START_TEST(weight)
{
	int b = server("web", "b");

	expect("weight web/b 7", true, "web/b: weight 7 (was 2)");
	ck_assert_uint_eq(atomic_load(&T->servers[b].weight), 7);
	ck_assert_uint_eq(atomic_load(&T->servers[b].eff_weight), 7);
	expect("weight web/b 256", true, NULL);
	expect("weight web/b 0", true, NULL);
	expect("weight web/b 257", false, "expected 0..256");
	expect("weight web/b -1", false, "expected 0..256");
	expect("weight web/b 1x", false, "expected 0..256");
	expect("weight web/b", false, "usage: weight POOL/SERVER N");
	expect("json weight web/b 3", true, "\"result\":\"weight 3\"");
	ck_assert_uint_eq(atomic_load(&T->servers[b].weight), 3);
}
END_TEST

START_TEST(add_remove)
{
	int c;

	expect("add web/c 127.0.0.1:8083 weight 5 maxconn 10 backup", true,
	    "web/c: added");
	c = server("web", "c");
	ck_assert_uint_eq(atomic_load(&T->servers[c].weight), 5);
	ck_assert_uint_eq(atomic_load(&T->servers[c].maxconn), 10);
	ck_assert_uint_eq(T->servers[c].backup, 1);
	ck_assert_uint_eq(atomic_load(&T->servers[c].health), SHM_HEALTH_UP);
	expect("json servers web", true, "\"name\":\"c\",\"address\":"
	    "\"127.0.0.1:8083\"");
	expect("add web/c 127.0.0.1:8084", false, "exists");
	expect("add web/d [::1]:80", true, NULL);
	expect("add web/e 127.0.0.1", false, "bad address");
	expect("add web/e 0.0.0.0:80", false, "bad address");
	expect("add web/e *:80", false, "bad address");
	expect("add web/e host.example:80", false, "bad address");
	expect("add web/e 127.0.0.1:80 weight", false, "bad option");
	expect("add web/e 127.0.0.1:80 weight 300", false, "bad option");
	expect("add web/e 127.0.0.1:80 color red", false, "bad option");
	expect("add web/e\"x 127.0.0.1:80", false, "expected POOL/SERVER");
	expect("add nopool/e 127.0.0.1:80", false, "no pool named");
	expect("add web/e", false, "usage");

	/* Remove refused while active, accepted at 0. */
	atomic_store(&T->servers[c].active, 2);
	expect("remove web/c", false, "lbctl drain --wait SECONDS web/c");
	ck_assert_int_eq(server("web", "c"), c);
	atomic_store(&T->servers[c].active, 0);
	expect("json remove web/c", true, "{\"ok\":true,\"pool\":\"web\","
	    "\"server\":\"c\",\"result\":\"removed\"}");
	ck_assert_int_eq(shm_server_find(T, (uint32_t)shm_pool_find(T, "web"),
	    "c"), -1);
	expect("remove web/c", false, "no server named 'c'");
	/* The name can be used again. */
	expect("add web/c 127.0.0.1:8085", true, NULL);
}
END_TEST

START_TEST(reload)
{
	expect("reload", true, "reloaded");
	expect("json reload", true, "{\"ok\":true");
	reload_rc = -1;
	expect("reload", false, "/etc/lbd.conf:12: unknown setting \"x\"\n"
	    "/etc/lbd.conf:20: bad port\n");
	E.reload = NULL;
	expect("reload", false, "not available");
}
END_TEST

START_TEST(unknown_and_help)
{
	expect("frobnicate", false, "unknown command 'frobnicate'");
	expect("json frobnicate", false, "unknown command");
	expect("help", true, "remove POOL/SERVER");
	expect("json help", true, "\"command\":\"metrics\"");
}
END_TEST

START_TEST(metrics_format)
{
	struct ctl_buf out;
	char *line, *save, *copy;
	int a = server("web", "a");

	atomic_store(&T->servers[a].active, 3);
	atomic_store(&T->servers[a].conns_total, 10);
	ck_assert(run("metrics", &out));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "# TYPE lb_server_active gauge\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "lb_server_active{pool=\"web\",server=\"a\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "# TYPE lb_server_connections_total counter\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "lb_server_connections_total{pool=\"web\",server=\"a\"} 10\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "lb_server_admin{pool=\"web\",server=\"a\",state=\"ready\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "lb_workers_alive 2\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "lb_pool_servers_up{pool=\"db\"} 1\n"));
	/* Every line is a comment or "name{labels} value" / "name value". */
	copy = strdup(out.data);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			ck_assert(strncmp(line, "# HELP lb_", 10) == 0 ||
			    strncmp(line, "# TYPE lb_", 10) == 0);
			continue;
		}
		ck_assert_msg(strncmp(line, "lb_", 3) == 0, "%s", line);
		ck_assert_msg(strchr(line, ' ') != NULL, "%s", line);
	}
	free(copy);
	/* Each family's TYPE appears once. */
	line = strstr(out.data, "# TYPE lb_server_up ");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_null(strstr(line + 1, "# TYPE lb_server_up "));
	ctl_buf_free(&out);

	/* The same samples as JSON objects. */
	expect("json metrics", true, "{\"name\":\"lb_server_active\","
	    "\"type\":\"gauge\",\"labels\":{\"pool\":\"web\","
	    "\"server\":\"a\"},\"value\":3}");
	expect("json metrics", true, "{\"name\":\"lb_workers_alive\","
	    "\"type\":\"gauge\",\"labels\":{},\"value\":2}");
}
END_TEST

/*
 * Random sentences from the commands' own vocabulary: every one gets an
 * answer with a body, nothing crashes (run it under make asan), and the
 * table stays within its bounds.
 */
START_TEST(commands_random)
{
	static const char *const words[] = {
		"json", "status", "pools", "servers", "workers", "health",
		"metrics", "enable", "drain", "disable", "weight", "add",
		"remove", "reload", "help", "web", "db", "web/a", "web/b",
		"db/m", "web/n", "web/", "/a", "a/b/c", "0", "1", "256", "257",
		"-1", "99999999999999999999", "127.0.0.1:80", "[::1]:9",
		"0.0.0.0:1", "*:80", "weight", "maxconn", "backup", "x",
	};
	const size_t nw = sizeof(words) / sizeof(words[0]);
	struct ctl_request req;
	struct ctl_buf out;
	char line[256], why[128];
	uint64_t seed = 42;
	uint32_t i, k, idx, n;
	int it, w, nwords, oks = 0;

	for (it = 0; it < 5000; it++) {
		line[0] = '\0';
		nwords = 1 + (int)(seed % 6);
		for (w = 0; w < nwords; w++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			strcat(line, words[seed % nw]);
			strcat(line, " ");
		}
		if (ctl_request_parse(line, strlen(line), &req, why,
		    sizeof(why)) == -1)
			continue;
		ctl_buf_init(&out);
		if (ctl_cmd_run(&E, &req, 0, &out))
			oks++;
		ck_assert_msg(out.len > 0, "no answer to '%s'", line);
		ck_assert(!out.overflow);
		ctl_buf_free(&out);
	}
	/* Both outcomes were exercised. */
	ck_assert_int_gt(oks, 50);
	ck_assert_int_lt(oks, 4900);
	n = 0;
	for (i = k = 0; ctl_next_server(T, -1, &i, &k, &idx);) {
		ck_assert_uint_lt(idx, SHM_MAX_SERVERS);
		ck_assert_uint_le(atomic_load(&T->servers[idx].weight), 256);
		n++;
	}
	ck_assert_uint_ge(n, 1);
}
END_TEST

/* The server: live on an event loop in this process. */

static char sockpath[108];

static void
sock_setup(void)
{
	setup();
	snprintf(sockpath, sizeof(sockpath), "/tmp/test_ctl.%ld/lbd.sock",
	    (long)getpid());
}

static void
sock_teardown(void)
{
	char dir[108];

	unlink(sockpath);
	snprintf(dir, sizeof(dir), "/tmp/test_ctl.%ld", (long)getpid());
	rmdir(dir);
	teardown();
}

/*
 * Forks a client that sends `req` (n bytes) and reads until EOF or 2 s;
 * the parent runs the loop until the child exits.  The reply bytes come
 * back through a pipe into buf.
 */
static size_t
exchange(struct event_base *base, const void *req, size_t n, char *buf,
    size_t cap, bool half_close)
{
	struct sockaddr_un sun;
	int p[2], fd, st = 0, i;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct timeval tv = { 2, 0 };
		char b[65536];

		close(p[0]);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, sockpath);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(2);
		if (n > 0 && write(fd, req, n) == -1)
			_exit(3);
		if (half_close)
			shutdown(fd, SHUT_WR);
		while ((r = read(fd, b, sizeof(b))) > 0)
			if (write(p[1], b, (size_t)r) == -1)
				_exit(4);
		_exit(0);
	}
	close(p[1]);
	/* Bounded: the child gives up reading after 2 s. */
	for (i = 0; i < 10000 && waitpid(pid, &st, WNOHANG) == 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_int_lt(i, 10000);
	while (got < cap - 1 && (r = read(p[0], buf + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(p[0]);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client %d", st);
	return got;
}

START_TEST(sock_basic)
{
	struct event_base *base = event_base_new();
	struct ctl_server *cs;
	static const char garbage[] = "\x01\x02\n\nnope\nstatus\n";
	struct stat st;
	char buf[8192], dir[108];

	cs = ctl_open(base, sockpath, &E);
	ck_assert_ptr_nonnull(cs);
	ck_assert_int_eq(stat(sockpath, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	snprintf(dir, sizeof(dir), "/tmp/test_ctl.%ld", (long)getpid());
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0750);
	/* Two commands on one connection; half-close still gets replies. */
	exchange(base, "health\njson weight web/a 4\n", 27, buf, sizeof(buf),
	    true);
	ck_assert_msg(strncmp(buf, "OK ", 3) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "healthy"));
	ck_assert_ptr_nonnull(strstr(buf, "{\"ok\":true"));
	ck_assert_uint_eq(atomic_load(&T->servers[server("web", "a")].weight),
	    4);
	/* Garbage gets ERR and the connection goes on. */
	exchange(base, garbage, sizeof(garbage) - 1, buf, sizeof(buf), true);
	ck_assert_msg(strncmp(buf, "ERR ", 4) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "control character"));
	ck_assert_ptr_nonnull(strstr(buf, "empty command"));
	ck_assert_ptr_nonnull(strstr(buf, "unknown command 'nope'"));
	ck_assert_ptr_nonnull(strstr(buf, "OK "));
	ck_assert_ptr_nonnull(strstr(buf, "generation"));
	/* A live socket is not taken over. */
	ck_assert_ptr_null(ctl_open(base, sockpath, &E));
	ck_assert_int_eq(errno, EADDRINUSE);
	ctl_close(cs);
	ck_assert_int_eq(stat(sockpath, &st), -1);
	event_base_free(base);
}
END_TEST

START_TEST(sock_long_line)
{
	struct event_base *base = event_base_new();
	struct ctl_server *cs;
	char buf[8192], *big;
	size_t n = 3 * CTL_LINE_MAX;

	cs = ctl_open(base, sockpath, &E);
	ck_assert_ptr_nonnull(cs);
	big = malloc(n);
	memset(big, 'x', n);
	/* No newline at all: answered once the limit is passed, closed. */
	exchange(base, big, n, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, "ERR 22\nrequest line too long\n");
	/* Exactly at the limit is fine. */
	memcpy(big, "help ", 5);
	big[CTL_LINE_MAX - 1] = '\n';
	exchange(base, big, CTL_LINE_MAX, buf, sizeof(buf), true);
	ck_assert_msg(strncmp(buf, "ERR ", 4) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "usage: help"));
	free(big);
	ctl_close(cs);
	event_base_free(base);
}
END_TEST

START_TEST(sock_stale)
{
	struct event_base *base = event_base_new();
	struct ctl_server *cs;
	struct sockaddr_un sun;
	char buf[256];
	int fd;

	/* Leave a bound socket nobody listens on: stale, replaced. */
	cs = ctl_open(base, sockpath, &E);
	ck_assert_ptr_nonnull(cs);
	ctl_close(cs);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sockpath);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	cs = ctl_open(base, sockpath, &E);
	ck_assert_ptr_nonnull(cs);
	exchange(base, "health\n", 7, buf, sizeof(buf), true);
	ck_assert_ptr_nonnull(strstr(buf, "healthy"));
	ctl_close(cs);
	/* A regular file is not ours to delete. */
	fd = open(sockpath, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_ptr_null(ctl_open(base, sockpath, &E));
	ck_assert_int_eq(errno, EEXIST);
	event_base_free(base);
}
END_TEST

/*
 * 500 commands and EOF in one go: the 64-lines-per-turn limit and the
 * early EOF must not lose any answer.
 */
START_TEST(sock_pipelined_eof)
{
	struct event_base *base = event_base_new();
	struct ctl_server *cs;
	static char req[500 * 7 + 1], buf[500 * 64];
	char *p;
	int i, n = 0;

	cs = ctl_open(base, sockpath, &E);
	ck_assert_ptr_nonnull(cs);
	for (i = 0; i < 500; i++)
		memcpy(req + i * 7, "health\n", 7);
	exchange(base, req, 500 * 7, buf, sizeof(buf), true);
	for (p = buf; (p = strstr(p, "OK ")) != NULL; p += 3)
		n++;
	ck_assert_int_eq(n, 500);
	ctl_close(cs);
	event_base_free(base);
}
END_TEST

START_TEST(sock_idle)
{
	struct event_base *base = event_base_new();
	struct ctl_server *cs;
	struct sockaddr_un sun;
	struct timeval tv = { 3, 0 };
	char c;
	int fd, st = 0, i;
	pid_t pid;

	E.idle_ms = 200;
	cs = ctl_open(base, sockpath, &E);
	ck_assert_ptr_nonnull(cs);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/* Says nothing: EOF from lbd (0) or a 3 s timeout (5). */
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, sockpath);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(2);
		_exit(read(fd, &c, 1) == 0 ? 0 : 5);
	}
	for (i = 0; i < 10000 && waitpid(pid, &st, WNOHANG) == 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "idle client not closed (status %d)", st);
	ctl_close(cs);
	event_base_free(base);
}
END_TEST

static Suite *
ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc;

	tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, servers_json_fields);
	tcase_add_test(tc, text_tables_aligned);
	tcase_add_test(tc, status_and_pools);
	tcase_add_test(tc, drain_disable_enable);
	tcase_add_test(tc, health);
	tcase_add_test(tc, weight);
	tcase_add_test(tc, add_remove);
	tcase_add_test(tc, reload);
	tcase_add_test(tc, unknown_and_help);
	tcase_add_test(tc, metrics_format);
	tcase_add_test(tc, commands_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_checked_fixture(tc, sock_setup, sock_teardown);
	tcase_add_test(tc, sock_basic);
	tcase_add_test(tc, sock_long_line);
	tcase_add_test(tc, sock_stale);
	tcase_add_test(tc, sock_idle);
	tcase_add_test(tc, sock_pipelined_eof);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
