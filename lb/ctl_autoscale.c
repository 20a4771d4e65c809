/*
 * ctl_autoscale.c - the control command `autoscale [POOL]`.  Master only.
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
#include "autoscale.h"

/*
 * autoscale [POOL]: the autoscale runner's figures per pool (from the
 * master's runner, lb/autoscale.c) and its last decisions, newest first.
 */

/* A figure x1000 as "12.3" (also valid JSON). */
static const char *
ctl_milli(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%llu", (unsigned long long)(v / 1000),
	    (unsigned long long)(v % 1000 / 100));
	return buf;
}

/* "running", "exit 0", "signal 9", "timeout", "spawn failed: ..." */
static const char *
ctl_as_result(const struct as_record *r, char *buf, size_t len)
{
	static const char *const what[] = { "running", "exit", "signal",
	    "timeout", "spawn failed:" };

	if (r->result == AS_RES_RUNNING || r->result == AS_RES_TIMEOUT)
		snprintf(buf, len, "%s", what[r->result]);
	else if (r->result == AS_RES_SPAWN_FAILED)
		snprintf(buf, len, "%s %s", what[r->result],
		    strerror(r->status));
	else
		snprintf(buf, len, "%s %d", what[r->result % 5], r->status);
	return buf;
}

static void
ctl_as_json(struct json_w *w, const struct autoscale_view *v)
{
	char	 num[32], ts[32], res[96];
	uint32_t i;

	json_obj_begin(w);
	json_kv_str(w, "pool", v->pool);
	json_kv_uint(w, "healthy", v->healthy);
	json_key(w, "avg_active");
	json_number(w, ctl_milli(v->avg_milli, num, sizeof(num)));
	json_key(w, "avg_active_per_server");
	json_number(w, ctl_milli(v->healthy ? v->avg_milli / v->healthy : 0,
	    num, sizeof(num)));
	json_kv_bool(w, "window_full", v->window_full);
	json_kv_uint(w, "target_active_per_server", v->cfg.target);
	json_kv_uint(w, "min_servers", v->cfg.min_servers);
	json_kv_uint(w, "max_servers", v->cfg.max_servers);
	json_kv_uint(w, "window_ms", v->cfg.window_ms);
	json_kv_uint(w, "cooldown_ms", v->cfg.cooldown_ms);
	json_kv_int(w, "cooldown_left_ms", v->cooldown_left_ms);
	json_kv_bool(w, "hook_running", v->hook_running);
	json_kv_int(w, "hook_pid", v->hook_pid);
	json_kv_int(w, "hook_running_ms", v->hook_ms);
	json_kv_str(w, "state", autoscale_reason_name(v->last_reason));
	json_key(w, "decisions");
	json_arr_begin(w);
	for (i = 0; i < v->nrec; i++) {
		const struct as_record *r = &v->rec[i];

		json_obj_begin(w);
		json_kv_str(w, "time", ctl_iso_time(r->wall_ms, ts,
		    sizeof(ts)));
		json_kv_int(w, "time_ms", r->wall_ms);
		json_kv_str(w, "action", autoscale_action_name(r->action));
		json_kv_str(w, "reason", autoscale_reason_name(r->reason));
		json_kv_uint(w, "current", r->current);
		json_kv_uint(w, "desired", r->desired);
		json_key(w, "avg_active");
		json_number(w, ctl_milli(r->avg_milli, num, sizeof(num)));
		json_kv_str(w, "server", r->server);
		json_kv_int(w, "pid", r->pid);
		json_kv_str(w, "result", ctl_as_result(r, res, sizeof(res)));
		json_kv_int(w, "duration_ms", r->duration_ms);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
}

/* The figures row of one pool. */
static void
ctl_as_row(struct ctl_tab *tab, const struct autoscale_view *v)
{
	char	 num[32];

	ctl_tab_row(tab);
	ctl_tab_cell(tab, 0, "%s", v->pool);
	ctl_tab_cell(tab, 1, "%u", v->healthy);
	ctl_tab_cell(tab, 2, "%s", ctl_milli(v->avg_milli, num, sizeof(num)));
	ctl_tab_cell(tab, 3, "%s", ctl_milli(v->healthy ? v->avg_milli /
	    v->healthy : 0, num, sizeof(num)));
	ctl_tab_cell(tab, 4, "%u", v->cfg.target);
	ctl_tab_cell(tab, 5, "%u", v->cfg.min_servers);
	ctl_tab_cell(tab, 6, "%u", v->cfg.max_servers);
	ctl_tab_cell(tab, 7, "%s", ctl_milli(v->cfg.window_ms, num,
	    sizeof(num)));
	ctl_tab_cell(tab, 8, "%s", ctl_milli((uint64_t)v->cooldown_left_ms,
	    num, sizeof(num)));
	if (v->hook_running)
		ctl_tab_cell(tab, 9, "pid %d, %llds", v->hook_pid,
		    (long long)(v->hook_ms / 1000));
	else
		ctl_tab_cell(tab, 9, "-");
	ctl_tab_cell(tab, 10, "%s", autoscale_reason_name(v->last_reason));
}

/* The decisions of every pool shown, as a second table. */
static void
ctl_as_decisions(struct ctl_buf *out, const struct autoscale_view *vs,
    size_t n)
{
	struct ctl_tab	 tab;
	char		 ts[32], num[32], res[96];
	size_t		 i, k;

	ctl_buf_printf(out, "\n");
	ctl_tab_init(&tab, "TIME POOL ACTION REASON CURRENT> DESIRED> "
	    "AVG_ACTIVE> SERVER RESULT");
	for (i = 0; i < n; i++)
		for (k = 0; k < vs[i].nrec; k++) {
			const struct as_record *r = &vs[i].rec[k];

			ctl_tab_row(&tab);
			ctl_tab_cell(&tab, 0, "%s", ctl_iso_time(r->wall_ms,
			    ts, sizeof(ts)));
			ctl_tab_cell(&tab, 1, "%s", vs[i].pool);
			ctl_tab_cell(&tab, 2, "%s",
			    autoscale_action_name(r->action));
			ctl_tab_cell(&tab, 3, "%s",
			    autoscale_reason_name(r->reason));
			ctl_tab_cell(&tab, 4, "%u", r->current);
			ctl_tab_cell(&tab, 5, "%u", r->desired);
			ctl_tab_cell(&tab, 6, "%s", ctl_milli(r->avg_milli,
			    num, sizeof(num)));
			ctl_tab_cell(&tab, 7, "%s", r->server[0] ? r->server :
			    "-");
			ctl_tab_cell(&tab, 8, "%s", ctl_as_result(r, res,
			    sizeof(res)));
		}
	ctl_tab_print(&tab, out);
}

bool
ctl_show_autoscale(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	static struct autoscale_view	 vs[SHM_MAX_POOLS];	/* 200 KiB */
	const char			*only = req->argc == 2 ?
					    req->argv[1] : NULL;
	struct ctl_tab			 tab;
	struct json_w			 w;
	size_t				 n = 0, i;
	uint32_t			 k;

	if (only != NULL && shm_pool_find(env->t, only) == -1) {
		ctl_buf_printf(out, "no pool '%s'\n", only);
		return false;
	}
	for (k = 0; n < SHM_MAX_POOLS && autoscale_view(k, &vs[n]); k++)
		if (only == NULL || strcmp(vs[n].pool, only) == 0)
			n++;
	if (only != NULL && n == 0) {
		ctl_buf_printf(out, "pool '%s' has no autoscale group\n", only);
		return false;
	}
	json_init(&w, out);
	if (req->json) {
		json_arr_begin(&w);
		for (i = 0; i < n; i++)
			ctl_as_json(&w, &vs[i]);
		json_arr_end(&w);
		ctl_buf_append(out, "\n", 1);
		return true;
	}
	ctl_tab_init(&tab, "POOL HEALTHY> AVG_ACTIVE> PER_SERVER> TARGET> "
	    "MIN> MAX> WINDOW_S> COOLDOWN_S> HOOK STATE");
	for (i = 0; i < n; i++)
		ctl_as_row(&tab, &vs[i]);
	ctl_tab_print(&tab, out);
	ctl_as_decisions(out, vs, n);
	return true;
}
