/*
 * ctl_sticky.c - the control commands `sticky [POOL]`, `sticky show POOL
 * [ADDR]` and `sticky clear POOL [ADDR]`.  Master only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "ctl_cmd.h"
#include "log.h"
#include "shm.h"
#include "sticky.h"

/*
 * sticky: the sticky tables of the master (the same shared regions the
 * workers use, see sticky.c).  Entries counts only live ones (a scan
 * under the bucket locks: O(capacity), for an operator's command).
 */

/* Pool `name` if it exists and is sticky with a table, else -1 (said). */
static int
ctl_sticky_pool(const struct ctl_env *env, const char *name,
    struct ctl_buf *out)
{
	int	 pi;

	if ((pi = shm_pool_find(env->t, name)) == -1) {
		ctl_buf_printf(out, "no pool '%s'\n", name);
		return -1;
	}
	if (sticky_of((uint32_t)pi) == NULL) {
		ctl_buf_printf(out, "pool '%s' is not sticky\n", name);
		return -1;
	}
	return pi;
}

/* "sticky [POOL]": entries, capacity, hits, misses, evictions. */
static bool
ctl_sticky_stats(const struct ctl_env *env, const struct ctl_request *req,
    int only, struct ctl_buf *out)
{
	struct sticky_table	*st;
	struct ctl_tab		 tab;
	struct json_w		 w;
	int64_t			 now = clock_mono_ms();
	uint32_t		 i;
	size_t			 live;

	json_init(&w, out);
	if (req->json)
		json_arr_begin(&w);
	else
		ctl_tab_init(&tab, "POOL ENTRIES> CAPACITY> HITS> MISSES> "
		    "EVICTIONS> TIMEOUT_S>");
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		if ((only >= 0 && i != (uint32_t)only) ||
		    !atomic_load(&env->t->pools[i].in_use) ||
		    (st = sticky_of(i)) == NULL)
			continue;
		live = sticky_walk(st, NULL, now, NULL, NULL);
		if (req->json) {
			json_obj_begin(&w);
			json_kv_str(&w, "pool", env->t->pools[i].name);
			json_kv_uint(&w, "entries", live);
			json_kv_uint(&w, "capacity", st->capacity);
			json_kv_uint(&w, "hits", atomic_load(&st->hits));
			json_kv_uint(&w, "misses", atomic_load(&st->misses));
			json_kv_uint(&w, "evictions",
			    atomic_load(&st->evictions));
			json_kv_uint(&w, "timeout_ms",
			    atomic_load(&st->timeout_ms));
			json_obj_end(&w);
			continue;
		}
		ctl_tab_row(&tab);
		ctl_tab_cell(&tab, 0, "%s", env->t->pools[i].name);
		ctl_tab_cell(&tab, 1, "%zu", live);
		ctl_tab_cell(&tab, 2, "%u", st->capacity);
		ctl_tab_cell(&tab, 3, "%llu", (unsigned long long)
		    atomic_load(&st->hits));
		ctl_tab_cell(&tab, 4, "%llu", (unsigned long long)
		    atomic_load(&st->misses));
		ctl_tab_cell(&tab, 5, "%llu", (unsigned long long)
		    atomic_load(&st->evictions));
		ctl_tab_cell(&tab, 6, "%llu", (unsigned long long)
		    atomic_load(&st->timeout_ms) / 1000);
	}
	ctl_list_end(req->json, &w, &tab, out);
	return true;
}

/* A client IP (no port) as a sockaddr.  -1 if it is not one. */
static int
ctl_sticky_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*in = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

struct ctl_sticky_show {
	const struct ctl_env	*env;
	bool			 json;
	struct json_w		*w;
	struct ctl_tab		*tab;
};

static void
ctl_sticky_row(const struct sticky_entry *e, int64_t left, void *arg)
{
	struct ctl_sticky_show	*sh = arg;
	char			 ip[INET6_ADDRSTRLEN];
	const char		*srv = "?";

	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)e->addr))
		inet_ntop(AF_INET, e->addr + 12, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, e->addr, ip, sizeof(ip));
	if (e->server < SHM_MAX_SERVERS &&
	    atomic_load(&sh->env->t->servers[e->server].in_use))
		srv = sh->env->t->servers[e->server].name;
	if (sh->json) {
		json_obj_begin(sh->w);
		json_kv_str(sh->w, "client", ip);
		json_kv_str(sh->w, "server", srv);
		json_kv_int(sh->w, "expires_ms", left);
		json_obj_end(sh->w);
		return;
	}
	ctl_tab_row(sh->tab);
	ctl_tab_cell(sh->tab, 0, "%s", ip);
	ctl_tab_cell(sh->tab, 1, "%s", srv);
	ctl_tab_cell(sh->tab, 2, "%lld", (long long)(left / 1000));
}

/* "sticky show POOL [ADDR]" and "sticky clear POOL [ADDR]". */
static bool
ctl_sticky_entries(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	struct sockaddr_storage	 ss;
	struct ctl_sticky_show	 sh = { env, req->json, NULL, NULL };
	struct sticky_table	*st;
	struct ctl_tab		 tab;
	struct json_w		 w;
	bool			 clear = strcmp(req->argv[1], "clear") == 0;
	size_t			 n;
	int			 pi;

	if (req->argc < 3 || (pi = ctl_sticky_pool(env, req->argv[2],
	    out)) == -1) {
		if (req->argc < 3)
			ctl_buf_printf(out, "usage: sticky %s POOL [ADDR]\n",
			    req->argv[1]);
		return false;
	}
	st = sticky_of((uint32_t)pi);
	if (req->argc == 4 && ctl_sticky_addr(req->argv[3], &ss) == -1) {
		ctl_buf_printf(out, "'%s' is not an IP address\n", "ADDR");
		return false;
	}
	if (clear) {
		n = sticky_clear(st, req->argc == 4 ? (struct sockaddr *)&ss :
		    NULL);
		log_notice("ctl: uid=%u sticky clear %s%s%s: %zu entries", uid,
		    req->argv[2], req->argc == 4 ? " " : "",
		    req->argc == 4 ? req->argv[3] : "", n);
		if (req->json)
			ctl_buf_printf(out, "{\"ok\":true,\"cleared\":%zu}\n", n);
		else
			ctl_buf_printf(out, "cleared %zu\n", n);
		return true;
	}
	json_init(&w, out);
	sh.w = &w;
	sh.tab = &tab;
	if (req->json)
		json_arr_begin(&w);
	else
		ctl_tab_init(&tab, "CLIENT SERVER EXPIRES_S>");
	sticky_walk(st, req->argc == 4 ? (struct sockaddr *)&ss : NULL,
	    clock_mono_ms(), ctl_sticky_row, &sh);
	ctl_list_end(req->json, &w, &tab, out);
	return true;
}

bool
ctl_sticky(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	int	 pi = -1;

	if (req->argc >= 2 && (strcmp(req->argv[1], "show") == 0 ||
	    strcmp(req->argv[1], "clear") == 0))
		return ctl_sticky_entries(env, req, uid, out);
	if (req->argc > 2) {
		ctl_buf_printf(out, "usage: sticky [POOL] | sticky show POOL "
		    "[ADDR] | sticky clear POOL [ADDR]\n");
		return false;
	}
	if (req->argc == 2 && (pi = ctl_sticky_pool(env, req->argv[1],
	    out)) == -1)
		return false;
	return ctl_sticky_stats(env, req, pi, out);
}
