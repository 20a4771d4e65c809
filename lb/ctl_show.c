/*
 * ctl_show.c - lbd's read-only control commands: status, pools, servers,
 * workers, health.  Everything shown comes from the shared table (or the
 * master's callbacks), read without locks: counts are atomics, and a pool
 * being changed concurrently may show a server twice or miss it for one
 * reply, never anything outside the table (see common/shm.c).
 *
 * Master only.  Prometheus metrics live in ctl_metrics.c, the sticky
 * commands in ctl_sticky.c, autoscale in ctl_autoscale.c.
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
#include "health.h"
#include "log.h"
#include "shm.h"
#include "srclimit.h"

bool
ctl_server_up(const struct shm_table *t, uint32_t idx)
{
	const struct shm_server *s;

	if (idx >= SHM_MAX_SERVERS)
		return false;
	s = &t->servers[idx];
	return atomic_load(&s->in_use) &&
	    atomic_load(&s->admin) == SHM_ADMIN_READY &&
	    atomic_load(&s->health) == SHM_HEALTH_UP &&
	    atomic_load(&s->weight) > 0;
}

void
ctl_pool_count(const struct shm_table *t, uint32_t pool_idx, uint32_t *up,
    uint32_t *n)
{
	uint32_t	 pi = 0, k = 0, idx;

	*up = *n = 0;
	while (ctl_next_server(t, (int)pool_idx, &pi, &k, &idx)) {
		(*n)++;
		if (ctl_server_up(t, idx))
			(*up)++;
	}
}

bool
ctl_next_server(const struct shm_table *t, int only, uint32_t *pi,
    uint32_t *k, uint32_t *idx)
{
	const struct shm_pool	*p;
	uint32_t		 n, i;

	if (only >= 0 && *pi < (uint32_t)only)
		*pi = (uint32_t)only;
	for (; *pi < SHM_MAX_POOLS; (*pi)++, *k = 0) {
		if (only >= 0 && *pi != (uint32_t)only)
			return false;
		p = &t->pools[*pi];
		if (!atomic_load(&p->in_use))
			continue;
		n = atomic_load(&p->nservers);
		while (*k < n && *k < SHM_POOL_MAX_SERVERS) {
			i = __atomic_load_n(&p->servers[(*k)++],
			    __ATOMIC_RELAXED);
			if (i < SHM_MAX_SERVERS &&
			    atomic_load(&t->servers[i].in_use)) {
				*idx = i;
				return true;
			}
		}
	}
	return false;
}

int64_t
ctl_pool_active(const struct shm_table *t, uint32_t pool_idx)
{
	uint32_t	 pi = 0, k = 0, idx;
	int64_t		 sum = 0;

	while (ctl_next_server(t, (int)pool_idx, &pi, &k, &idx))
		sum += atomic_load(&t->servers[idx].active);
	return sum;
}

const char *
ctl_iso_time(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 sec = (time_t)(ms / 1000);

	if (ms <= 0 || gmtime_r(&sec, &tm) == NULL) {
		snprintf(buf, len, "-");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* "3d04h05m06s"-style age for humans. */
static const char *
ctl_age(int64_t ms, char *buf, size_t len)
{
	int64_t	 s = ms / 1000;

	if (ms < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh%02lldm", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600), (long long)(s % 3600 / 60));
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%02lldm%02llds", (long long)(s / 3600),
		    (long long)(s % 3600 / 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	return buf;
}

/* Pools in use, and how many of them have a server up. */
static void
ctl_pools_up(const struct shm_table *t, uint32_t *up, uint32_t *total)
{
	uint32_t	 i, su, sn;

	*up = *total = 0;
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		if (!atomic_load(&t->pools[i].in_use))
			continue;
		(*total)++;
		ctl_pool_count(t, i, &su, &sn);
		if (su > 0)
			(*up)++;
	}
}

/* Facts shared by status and health. */
struct ctl_facts {
	uint32_t	 alive, configured, pools_up, pools;
};

static void
ctl_facts(const struct ctl_env *env, struct ctl_facts *f)
{
	const struct conf *c = env->conf != NULL ? env->conf(env->arg) : NULL;

	f->alive = env->workers_alive != NULL ?
	    env->workers_alive(env->arg) : 0;
	f->configured = c != NULL ? c->workers : 0;
	ctl_pools_up(env->t, &f->pools_up, &f->pools);
}

/*
 * maxconn_per_source in status: the cap, clients refused over it, client
 * addresses counted now (a 128 KiB scan of the table) and clients let in
 * uncounted because their probe run was full.
 */
static void
ctl_status_srcs(const struct shm_table *t, struct json_w *w,
    struct ctl_buf *out)
{
	const struct shm_srcs	*s = &t->srcs;

	if (w != NULL) {
		json_kv_uint(w, "maxconn_per_source",
		    atomic_load(&s->maxconn_per_source));
		json_kv_uint(w, "per_source_rejects", atomic_load(&s->rejects));
		json_kv_uint(w, "per_source_addresses", srclimit_tracked(s));
		json_kv_uint(w, "per_source_table_full",
		    atomic_load(&s->table_full));
		return;
	}
	ctl_buf_printf(out, "per source:  cap %u (0 = off), %llu refused, "
	    "%u addresses counted, %llu let in uncounted (table full)\n",
	    atomic_load(&s->maxconn_per_source),
	    (unsigned long long)atomic_load(&s->rejects), srclimit_tracked(s),
	    (unsigned long long)atomic_load(&s->table_full));
}

bool
ctl_show_status(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	const struct shm_table	*t = env->t;
	struct ctl_facts	 f;
	struct json_w		 w;
	int64_t			 now = clock_wall_ms();
	char			 age[32], iso[32];
	const char		*path = env->config_path ?
				    env->config_path : "-";

	ctl_facts(env, &f);
	if (req->json) {
		json_init(&w, out);
		json_obj_begin(&w);
		json_kv_str(&w, "version", LB_VERSION);
		json_kv_int(&w, "pid", (int64_t)getpid());
		json_kv_int(&w, "started_ms", env->started_ms);
		json_kv_str(&w, "started", ctl_iso_time(env->started_ms, iso,
		    sizeof(iso)));
		json_kv_int(&w, "uptime_s", (now - env->started_ms) / 1000);
		json_kv_str(&w, "config", path);
		json_kv_uint(&w, "workers_alive", f.alive);
		json_kv_uint(&w, "workers_configured", f.configured);
		json_kv_uint(&w, "generation", atomic_load(&t->generation));
		json_kv_int(&w, "active", atomic_load(&t->active));
		json_kv_uint(&w, "total", atomic_load(&t->conns_total));
		json_kv_uint(&w, "maxconn", atomic_load(&t->maxconn));
		json_kv_uint(&w, "maxconn_rejects",
		    atomic_load(&t->maxconn_rejects));
		ctl_status_srcs(t, &w, out);
		json_kv_uint(&w, "pools_up", f.pools_up);
		json_kv_uint(&w, "pools_total", f.pools);
		json_obj_end(&w);
		ctl_buf_append(out, "\n", 1);
		return true;
	}
	ctl_buf_printf(out, "version:     lbd %s (pid %ld)\n", LB_VERSION,
	    (long)getpid());
	ctl_buf_printf(out, "uptime:      %s (since %s)\n",
	    ctl_age(now - env->started_ms, age, sizeof(age)),
	    ctl_iso_time(env->started_ms, iso, sizeof(iso)));
	ctl_buf_printf(out, "config:      %s\n", path);
	ctl_buf_printf(out, "workers:     %u alive / %u configured\n",
	    f.alive, f.configured);
	ctl_buf_printf(out, "generation:  %u\n", atomic_load(&t->generation));
	ctl_buf_printf(out, "connections: %d active, %llu total, "
	    "%llu refused at maxconn %u\n", atomic_load(&t->active),
	    (unsigned long long)atomic_load(&t->conns_total),
	    (unsigned long long)atomic_load(&t->maxconn_rejects),
	    atomic_load(&t->maxconn));
	ctl_status_srcs(t, NULL, out);
	ctl_buf_printf(out, "pools:       %u up / %u\n", f.pools_up, f.pools);
	return true;
}

bool
ctl_show_pools(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	const struct shm_table	*t = env->t;
	const struct shm_pool	*p;
	struct ctl_tab		 tab;
	struct json_w		 w;
	uint32_t		 i, up, n;

	json_init(&w, out);
	if (req->json)
		json_arr_begin(&w);
	else
		ctl_tab_init(&tab, "POOL ALGORITHM UP> SERVERS> ACTIVE> "
		    "TOTAL> NO_SERVER>");
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		p = &t->pools[i];
		if (!atomic_load(&p->in_use))
			continue;
		ctl_pool_count(t, i, &up, &n);
		if (req->json) {
			json_obj_begin(&w);
			json_kv_str(&w, "name", p->name);
			json_kv_str(&w, "algorithm", bal_algo_name(p->algorithm));
			json_kv_uint(&w, "servers_up", up);
			json_kv_uint(&w, "servers_total", n);
			json_kv_bool(&w, "up", up > 0);
			json_kv_int(&w, "active", ctl_pool_active(t, i));
			json_kv_uint(&w, "total", atomic_load(&p->conns_total));
			json_kv_uint(&w, "no_server",
			    atomic_load(&p->no_server));
			/* Clients closed for a bad PROXY header (accept_proxy). */
			json_kv_uint(&w, "bad_proxy",
			    atomic_load(&p->proxy_bad));
			json_kv_uint(&w, "retries", p->retries);
			json_obj_end(&w);
			continue;
		}
		ctl_tab_row(&tab);
		ctl_tab_cell(&tab, 0, "%s", p->name);
		ctl_tab_cell(&tab, 1, "%s", bal_algo_name(p->algorithm));
		ctl_tab_cell(&tab, 2, "%u", up);
		ctl_tab_cell(&tab, 3, "%u", n);
		ctl_tab_cell(&tab, 4, "%lld", (long long)ctl_pool_active(t, i));
		ctl_tab_cell(&tab, 5, "%llu",
		    (unsigned long long)atomic_load(&p->conns_total));
		ctl_tab_cell(&tab, 6, "%llu",
		    (unsigned long long)atomic_load(&p->no_server));
	}
	ctl_list_end(req->json, &w, &tab, out);
	return true;
}

/*
 * The health checker's view of a server (health.c writes these): the
 * last check's result and duration, whether active checks run, the flap
 * count and penalty, and the slow-start ramp (per mille, 0 = none).
 */
static void
ctl_server_health_json(struct json_w *w, const struct shm_server *s)
{
	uint32_t pen = atomic_load(&s->penalty);

	json_kv_bool(w, "checked", atomic_load(&s->checked) != 0);
	json_kv_str(w, "check_result",
	    health_result_name(atomic_load(&s->check_result)));
	json_kv_uint(w, "check_ms", atomic_load(&s->check_ms));
	json_kv_uint(w, "check_passes", atomic_load(&s->check_succ));
	json_kv_uint(w, "check_fails", atomic_load(&s->check_fail));
	json_kv_uint(w, "flaps", atomic_load(&s->flaps));
	json_kv_uint(w, "flap_penalty", pen == 0 ? 1 : pen);
	json_kv_uint(w, "slowstart_permille", atomic_load(&s->ramp_permille));
	json_kv_uint(w, "transitions", atomic_load(&s->transitions));
}

/* One server as a JSON object. */
static void
ctl_server_json(struct json_w *w, const struct shm_table *t, uint32_t idx)
{
	const struct shm_server	*s = &t->servers[idx];
	char			 addr[ADDR_STRLEN], iso[32];
	int64_t			 lc = atomic_load(&s->last_check_ms);
	int64_t			 lch = atomic_load(&s->last_change_ms);

	json_obj_begin(w);
	json_kv_str(w, "pool", s->pool);
	json_kv_str(w, "name", s->name);
	json_kv_str(w, "address", addr_format((const struct sockaddr *)
	    &s->addr, addr, sizeof(addr)));
	json_kv_str(w, "state", shm_health_name(atomic_load(&s->health)));
	json_kv_str(w, "admin", shm_admin_name(atomic_load(&s->admin)));
	json_kv_bool(w, "usable", ctl_server_up(t, idx));
	json_kv_uint(w, "weight", atomic_load(&s->weight));
	json_kv_uint(w, "eff_weight", atomic_load(&s->eff_weight));
	json_kv_bool(w, "backup", s->backup != 0);
	json_kv_uint(w, "maxconn", atomic_load(&s->maxconn));
	json_kv_int(w, "active", atomic_load(&s->active));
	json_kv_uint(w, "total", atomic_load(&s->conns_total));
	json_kv_uint(w, "failures", atomic_load(&s->failures));
	json_kv_uint(w, "consec_failures", atomic_load(&s->consec_failures));
	json_kv_uint(w, "bytes_in", atomic_load(&s->bytes_in));
	json_kv_uint(w, "bytes_out", atomic_load(&s->bytes_out));
	json_kv_int(w, "last_check", lc);
	json_kv_str(w, "last_check_iso", lc > 0 ?
	    ctl_iso_time(lc, iso, sizeof(iso)) : NULL);
	json_kv_int(w, "last_change", lch);
	json_kv_str(w, "last_change_iso", lch > 0 ?
	    ctl_iso_time(lch, iso, sizeof(iso)) : NULL);
	ctl_server_health_json(w, s);
	json_obj_end(w);
}

/* One server as a table row. */
static void
ctl_server_row(struct ctl_tab *tab, const struct shm_table *t, uint32_t idx,
    int64_t now)
{
	const struct shm_server	*s = &t->servers[idx];
	char			 buf[ADDR_STRLEN];
	int64_t			 lch = atomic_load(&s->last_change_ms);
	uint32_t		 mc = atomic_load(&s->maxconn);

	ctl_tab_row(tab);
	ctl_tab_cell(tab, 0, "%s", s->pool);
	ctl_tab_cell(tab, 1, "%s%s", s->name, s->backup ? " (backup)" : "");
	ctl_tab_cell(tab, 2, "%s", addr_format((const struct sockaddr *)
	    &s->addr, buf, sizeof(buf)));
	ctl_tab_cell(tab, 3, "%s", shm_health_name(atomic_load(&s->health)));
	ctl_tab_cell(tab, 4, "%s", shm_admin_name(atomic_load(&s->admin)));
	ctl_tab_cell(tab, 5, "%u", atomic_load(&s->weight));
	ctl_tab_cell(tab, 6, "%d", atomic_load(&s->active));
	if (mc == 0)
		ctl_tab_cell(tab, 7, "-");
	else
		ctl_tab_cell(tab, 7, "%u", mc);
	ctl_tab_cell(tab, 8, "%llu",
	    (unsigned long long)atomic_load(&s->conns_total));
	ctl_tab_cell(tab, 9, "%llu",
	    (unsigned long long)atomic_load(&s->failures));
	ctl_tab_cell(tab, 10, "%llu",
	    (unsigned long long)atomic_load(&s->bytes_in));
	ctl_tab_cell(tab, 11, "%llu",
	    (unsigned long long)atomic_load(&s->bytes_out));
	if (lch > 0)
		ctl_tab_cell(tab, 12, "%s ago", ctl_age(now - lch, buf,
		    sizeof(buf)));
	else
		ctl_tab_cell(tab, 12, "-");
}

/*
 * servers [POOL]: every server of every pool (or of POOL), in pool order
 * then config order.  ERR when POOL does not exist.
 */
bool
ctl_show_servers(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	const struct shm_table	*t = env->t;
	struct ctl_tab		 tab;
	struct json_w		 w;
	int64_t			 now = clock_wall_ms();
	uint32_t		 i, k, idx;
	int			 only = -1;

	if (req->argc > 2) {
		ctl_buf_printf(out, "usage: servers [POOL]\n");
		return false;
	}
	if (req->argc == 2 && (only = shm_pool_find(t, req->argv[1])) == -1) {
		ctl_buf_printf(out, "no pool named '%s'\n", req->argv[1]);
		return false;
	}
	json_init(&w, out);
	if (req->json)
		json_arr_begin(&w);
	else
		ctl_tab_init(&tab, "POOL SERVER ADDRESS STATE ADMIN WEIGHT> "
		    "ACTIVE> MAXCONN> TOTAL> FAILURES> BYTES_IN> BYTES_OUT> "
		    "CHANGED");
	for (i = k = 0; ctl_next_server(t, only, &i, &k, &idx);) {
		if (req->json)
			ctl_server_json(&w, t, idx);
		else
			ctl_server_row(&tab, t, idx, now);
	}
	ctl_list_end(req->json, &w, &tab, out);
	return true;
}

bool
ctl_show_workers(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	const struct shm_table	*t = env->t;
	const struct shm_worker	*wk;
	struct ctl_tab		 tab;
	struct json_w		 w;
	char			 iso[32];
	uint32_t		 i;
	int32_t			 pid;

	json_init(&w, out);
	if (req->json)
		json_arr_begin(&w);
	else
		ctl_tab_init(&tab, "SLOT> PID> GENERATION> ACTIVE> TOTAL> "
		    "STARTED");
	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		wk = &t->workers[i];
		if ((pid = atomic_load(&wk->pid)) == 0)
			continue;
		ctl_iso_time(wk->started_ms, iso, sizeof(iso));
		if (req->json) {
			json_obj_begin(&w);
			json_kv_uint(&w, "slot", i);
			json_kv_int(&w, "pid", pid);
			json_kv_uint(&w, "generation", wk->generation);
			json_kv_int(&w, "active", atomic_load(&wk->active));
			json_kv_uint(&w, "total", atomic_load(&wk->conns_total));
			json_kv_int(&w, "started_ms", wk->started_ms);
			json_kv_str(&w, "started", iso);
			json_obj_end(&w);
			continue;
		}
		ctl_tab_row(&tab);
		ctl_tab_cell(&tab, 0, "%u", i);
		ctl_tab_cell(&tab, 1, "%d", pid);
		ctl_tab_cell(&tab, 2, "%u", wk->generation);
		ctl_tab_cell(&tab, 3, "%d", atomic_load(&wk->active));
		ctl_tab_cell(&tab, 4, "%llu",
		    (unsigned long long)atomic_load(&wk->conns_total));
		ctl_tab_cell(&tab, 5, "%s", iso);
	}
	ctl_list_end(req->json, &w, &tab, out);
	return true;
}

/*
 * First pool (in table order) without a server up, into name; false when
 * every pool has one.
 */
static bool
ctl_pool_down(const struct shm_table *t, char *name, size_t len)
{
	uint32_t	 i, up, n;

	for (i = 0; i < SHM_MAX_POOLS; i++) {
		if (!atomic_load(&t->pools[i].in_use))
			continue;
		ctl_pool_count(t, i, &up, &n);
		if (up == 0) {
			snprintf(name, len, "%s", t->pools[i].name);
			return true;
		}
	}
	return false;
}

/*
 * health: cheap enough for lb-failoverd to ask every second.  OK when at
 * least one worker is alive and every pool has a server up; "degraded"
 * (still OK) when fewer workers than configured are alive.
 */
bool
ctl_show_health(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	struct ctl_facts	 f;
	struct json_w		 w;
	char			 pool[SHM_NAME_MAX], reason[128];
	bool			 ok;

	ctl_facts(env, &f);
	if (f.alive == 0) {
		snprintf(reason, sizeof(reason), "no worker alive (0/%u)",
		    f.configured);
		ok = false;
	} else if (ctl_pool_down(env->t, pool, sizeof(pool))) {
		snprintf(reason, sizeof(reason), "pool %s has no server up",
		    pool);
		ok = false;
	} else {
		snprintf(reason, sizeof(reason), "%s: %u/%u workers, %u/%u "
		    "pools up", f.alive < f.configured ? "degraded" :
		    "healthy", f.alive, f.configured, f.pools_up, f.pools);
		ok = true;
	}
	if (!req->json || !ok) {
		ctl_buf_printf(out, "%s\n", reason);
		return ok;
	}
	json_init(&w, out);
	json_obj_begin(&w);
	json_kv_bool(&w, "ok", true);
	json_kv_bool(&w, "degraded", f.alive < f.configured);
	json_kv_uint(&w, "workers_alive", f.alive);
	json_kv_uint(&w, "workers_configured", f.configured);
	json_kv_uint(&w, "pools_up", f.pools_up);
	json_kv_uint(&w, "pools_total", f.pools);
	json_kv_str(&w, "message", reason);
	json_obj_end(&w);
	ctl_buf_append(out, "\n", 1);
	return true;
}
