/*
 * fuzz_ctl_cmd.c - libFuzzer target for lbd's control commands
 * (ctl_cmd_run, lb/ctl_cmd.c and ctl_show.c) on a hand-built shared
 * table: two pools, three servers, a zeroed config, as the unit test
 * test_ctl.c builds it.
 *
 * The input is a list of request lines ('\n'-separated, at most 8 per
 * input) run in order against one fresh table, so a sequence such as
 * "add", "weight", "remove" is reachable.  Every reply must be bounded
 * (CTL_REPLY_MAX), an ERR must say why (non-empty body), and the shared
 * table must keep its invariants: no negative active count, every pool's
 * servers in use.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cfg.h"
#include "conf-t.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "ctl_proto.h"
#include "log.h"
#include "shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CMDS_MAX	8

static struct conf	C;

static const struct conf *
f_conf(void *arg)
{
	return &C;
}

static uint32_t
f_alive(void *arg)
{
	return 2;
}

static int
f_reload(void *arg, struct cfg_errors *errs)
{
	cfg_error(errs, "/etc/lbd.conf", 3, "unknown setting \"x\"");
	return -1;
}

static void
f_server(struct shm_table *t, int pool, const char *name, int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (shm_server_add(t, (uint32_t)pool, name, (struct sockaddr *)&sin,
	    sizeof(sin), 1, 0, false) < 0)
		abort();
}

static struct shm_table *
f_table(void)
{
	struct shm_table	*t;
	int			 web, db;

	if ((t = shm_create()) == NULL)
		abort();
	web = shm_pool_add(t, "web", BAL_ROUNDROBIN, 2);
	db = shm_pool_add(t, "db", BAL_LEASTCONN, 1);
	if (web < 0 || db < 0)
		abort();
	f_server(t, web, "a", 8081);
	f_server(t, web, "b", 8082);
	f_server(t, db, "m", 5432);
	return t;
}

static void
f_check_table(const struct shm_table *t)
{
	uint32_t i;

	if (atomic_load(&t->active) < 0)
		abort();
	for (i = 0; i < SHM_MAX_SERVERS; i++)
		if (atomic_load(&t->servers[i].active) < 0 ||
		    atomic_load(&t->servers[i].weight) > 256)
			abort();
}

/* Runs one request line; checks the reply's bounds. */
static void
f_run(const struct ctl_env *env, const char *line, size_t len)
{
	struct ctl_request	 req;
	struct ctl_buf		 out;
	char			 why[128];
	bool			 ok;

	if (ctl_request_parse(line, len, &req, why, sizeof(why)) == -1)
		return;
	ctl_buf_init(&out);
	ok = ctl_cmd_run(env, &req, 0, &out);
	if (out.len > CTL_REPLY_MAX || (!ok && out.len == 0))
		abort();
	ctl_buf_free(&out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Runtime changes are logged; keep them off the fuzzer's output. */
	log_init("fuzz_ctl_cmd", LOG_USER, 0);
	log_set_level(LOG_CRIT);
	C.workers = 2;
	C.maxconn = 1000;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_env		 env;
	const char		*p = (const char *)data, *end = p + size, *nl;
	int			 k;

	memset(&env, 0, sizeof(env));
	env.t = f_table();
	env.conf = f_conf;
	env.reload = f_reload;
	env.workers_alive = f_alive;
	env.started_ms = 1700000000000;
	env.config_path = "/etc/lbd.conf";
	env.control_gid = (gid_t)-1;
	for (k = 0; k < FUZZ_CMDS_MAX && p < end; k++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		f_run(&env, p, (size_t)(nl - p));
		p = nl + 1;
	}
	f_check_table(env.t);
	shm_destroy(env.t);
	return 0;
}
