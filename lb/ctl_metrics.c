/*
 * ctl_metrics.c - the `metrics` command: the shared table in Prometheus
 * text exposition format (version 0.0.4), so a cron job can write it into
 * node_exporter's textfile collector directory:
 *
 *     lbctl metrics > /var/lib/node_exporter/lb.prom.$$ &&
 *         mv /var/lib/node_exporter/lb.prom.$$ /var/lib/node_exporter/lb.prom
 *
 * With the "json" prefix the same samples come as a JSON array of
 * {"name","type","labels":{...},"value"} objects.
 *
 * The text format wants every sample of one metric family together,
 * after its # HELP and # TYPE lines, so each family is one pass over the
 * table: O(families x servers), a few thousand lines at most.  Master
 * only.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "ctl_cmd.h"
#include "shm.h"

/* Where samples go: text lines, or JSON objects when w is set. */
struct ctl_msink {
	struct ctl_buf	*out;
	struct json_w	*w;
	const char	*name;	/* current family */
	const char	*type;
};

/* Which server field a family reads. */
enum ctl_sfield {
	CTL_SF_UP = 0,
	CTL_SF_HEALTHY,
	CTL_SF_WEIGHT,
	CTL_SF_ACTIVE,
	CTL_SF_MAXCONN,
	CTL_SF_CONNS,
	CTL_SF_FAILURES,
	CTL_SF_BYTES_IN,
	CTL_SF_BYTES_OUT,
	CTL_SF_LAST_CHECK,
	CTL_SF_LAST_CHANGE,
};

struct ctl_family {
	const char	*name;
	const char	*type;
	const char	*help;
	enum ctl_sfield	 field;
};

static const struct ctl_family ctl_server_families[] = {
	{ "lb_server_up", "gauge",
	  "1 when the server takes new connections (ready, healthy, weight > 0)",
	  CTL_SF_UP },
	{ "lb_server_healthy", "gauge", "1 when health checks pass",
	  CTL_SF_HEALTHY },
	{ "lb_server_weight", "gauge", "Configured weight (0..256)",
	  CTL_SF_WEIGHT },
	{ "lb_server_active", "gauge", "Active proxied connections",
	  CTL_SF_ACTIVE },
	{ "lb_server_maxconn", "gauge", "Connection cap, 0 = unlimited",
	  CTL_SF_MAXCONN },
	{ "lb_server_connections_total", "counter",
	  "Connections sent to the server", CTL_SF_CONNS },
	{ "lb_server_failures_total", "counter", "Failed connects",
	  CTL_SF_FAILURES },
	{ "lb_server_bytes_in_total", "counter", "Bytes client to server",
	  CTL_SF_BYTES_IN },
	{ "lb_server_bytes_out_total", "counter", "Bytes server to client",
	  CTL_SF_BYTES_OUT },
	{ "lb_server_last_check_timestamp_seconds", "gauge",
	  "Last health check, Unix time, 0 = never", CTL_SF_LAST_CHECK },
	{ "lb_server_last_change_timestamp_seconds", "gauge",
	  "Last state change, Unix time", CTL_SF_LAST_CHANGE },
};

/*
 * Writes s as a label value: backslash, double quote and newline escaped
 * as the exposition format requires.
 */
static void
ctl_label(struct ctl_buf *out, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\' && *s != '"' && *s != '\n')
			continue;
		ctl_buf_append(out, run, (size_t)(s - run));
		ctl_buf_append(out, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" :
		    "\\\\", 2);
		run = s + 1;
	}
	ctl_buf_append(out, run, (size_t)(s - run));
}

/* Starts a family: # HELP and # TYPE in text; remembered for JSON. */
static void
ctl_family(struct ctl_msink *k, const char *name, const char *type,
    const char *help)
{
	k->name = name;
	k->type = type;
	if (k->w == NULL)
		ctl_buf_printf(k->out, "# HELP %s %s\n# TYPE %s %s\n", name,
		    help, name, type);
}

/*
 * One sample of the current family.  labels holds up to three key/value
 * pairs (NULL-terminated keys); value is already formatted as a number.
 */
static void
ctl_sample(struct ctl_msink *k, const char *const *labels,
    const char *value)
{
	int	 i;

	if (k->w != NULL) {
		json_obj_begin(k->w);
		json_kv_str(k->w, "name", k->name);
		json_kv_str(k->w, "type", k->type);
		json_key(k->w, "labels");
		json_obj_begin(k->w);
		for (i = 0; labels != NULL && labels[i] != NULL; i += 2)
			json_kv_str(k->w, labels[i], labels[i + 1]);
		json_obj_end(k->w);
		json_key(k->w, "value");
		json_number(k->w, value);
		json_obj_end(k->w);
		return;
	}
	ctl_buf_printf(k->out, "%s", k->name);
	for (i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		ctl_buf_printf(k->out, "%s%s=\"", i == 0 ? "{" : ",",
		    labels[i]);
		ctl_label(k->out, labels[i + 1]);
		ctl_buf_append(k->out, "\"", 1);
	}
	ctl_buf_printf(k->out, "%s %s\n", labels != NULL &&
	    labels[0] != NULL ? "}" : "", value);
}

/* An unlabelled sample with an unsigned value. */
static void
ctl_sample_u(struct ctl_msink *k, uint64_t v)
{
	char	 num[32];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	ctl_sample(k, NULL, num);
}

/* Formats wall-clock ms as seconds with 3 decimals. */
static void
ctl_seconds(char *num, size_t len, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	snprintf(num, len, "%lld.%03lld", (long long)(ms / 1000),
	    (long long)(ms % 1000));
}

/* The value of field f of server idx, formatted. */
static void
ctl_server_value(char *num, size_t len, const struct shm_table *t,
    uint32_t idx, enum ctl_sfield f)
{
	const struct shm_server	*s = &t->servers[idx];
	uint64_t		 v = 0;
	int32_t			 act;

	switch (f) {
	case CTL_SF_UP:		v = ctl_server_up(t, idx); break;
	case CTL_SF_HEALTHY:
		v = atomic_load(&s->health) == SHM_HEALTH_UP;
		break;
	case CTL_SF_WEIGHT:	v = atomic_load(&s->weight); break;
	case CTL_SF_ACTIVE:
		act = atomic_load(&s->active);
		v = act > 0 ? (uint64_t)act : 0;
		break;
	case CTL_SF_MAXCONN:	v = atomic_load(&s->maxconn); break;
	case CTL_SF_CONNS:	v = atomic_load(&s->conns_total); break;
	case CTL_SF_FAILURES:	v = atomic_load(&s->failures); break;
	case CTL_SF_BYTES_IN:	v = atomic_load(&s->bytes_in); break;
	case CTL_SF_BYTES_OUT:	v = atomic_load(&s->bytes_out); break;
	case CTL_SF_LAST_CHECK:
		ctl_seconds(num, len, atomic_load(&s->last_check_ms));
		return;
	case CTL_SF_LAST_CHANGE:
		ctl_seconds(num, len, atomic_load(&s->last_change_ms));
		return;
	}
	snprintf(num, len, "%llu", (unsigned long long)v);
}

/*
 * Server families, each a sample per server in pool order; then
 * lb_server_admin, one series per admin state with 1 for the current one
 * (the usual way to expose an enum: a change does not rename a series).
 */
static void
ctl_server_families_emit(struct ctl_msink *k, const struct shm_table *t)
{
	const struct shm_server	*s;
	const char		*lab[7] = { "pool", NULL, "server", NULL,
				    NULL, NULL, NULL };
	char			 num[32];
	uint32_t		 pi, kk, idx, a;
	size_t			 f;

	for (f = 0; f < sizeof(ctl_server_families) /
	    sizeof(ctl_server_families[0]); f++) {
		ctl_family(k, ctl_server_families[f].name,
		    ctl_server_families[f].type, ctl_server_families[f].help);
		for (pi = kk = 0; ctl_next_server(t, -1, &pi, &kk, &idx);) {
			s = &t->servers[idx];
			lab[1] = s->pool;
			lab[3] = s->name;
			ctl_server_value(num, sizeof(num), t, idx,
			    ctl_server_families[f].field);
			ctl_sample(k, lab, num);
		}
	}
	ctl_family(k, "lb_server_admin", "gauge",
	    "Administrative state: ready, drain or maint");
	lab[4] = "state";
	for (pi = kk = 0; ctl_next_server(t, -1, &pi, &kk, &idx);) {
		s = &t->servers[idx];
		lab[1] = s->pool;
		lab[3] = s->name;
		for (a = SHM_ADMIN_READY; a <= SHM_ADMIN_MAINT; a++) {
			lab[5] = shm_admin_name(a);
			ctl_sample(k, lab, a == atomic_load(&s->admin) ?
			    "1" : "0");
		}
	}
}

/* Pool families: servers up, servers, connections, no_server. */
static void
ctl_pool_families_emit(struct ctl_msink *k, const struct shm_table *t)
{
	static const char *const fam[][3] = {
		{ "lb_pool_servers_up", "gauge", "Servers taking connections" },
		{ "lb_pool_servers", "gauge", "Servers in the pool" },
		{ "lb_pool_connections_total", "counter",
		  "Connections balanced to the pool" },
		{ "lb_pool_no_server_total", "counter",
		  "Clients closed because no server was usable" },
	};
	const char	*lab[3] = { "pool", NULL, NULL };
	char		 num[32];
	uint32_t	 f, i, up, n;
	uint64_t	 v;

	for (f = 0; f < 4; f++) {
		ctl_family(k, fam[f][0], fam[f][1], fam[f][2]);
		for (i = 0; i < SHM_MAX_POOLS; i++) {
			if (!atomic_load(&t->pools[i].in_use))
				continue;
			ctl_pool_count(t, i, &up, &n);
			v = f == 0 ? up : f == 1 ? n : f == 2 ?
			    atomic_load(&t->pools[i].conns_total) :
			    atomic_load(&t->pools[i].no_server);
			lab[1] = t->pools[i].name;
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)v);
			ctl_sample(k, lab, num);
		}
	}
}

/* Process-wide families. */
static void
ctl_global_families_emit(struct ctl_msink *k, const struct ctl_env *env)
{
	const struct shm_table	*t = env->t;
	const struct conf	*c = env->conf != NULL ? env->conf(env->arg) :
				    NULL;
	const char		*lab[3] = { "version", LB_VERSION, NULL };
	int32_t			 act = atomic_load(&t->active);
	char			 num[32];

	ctl_family(k, "lb_info", "gauge", "lbd version");
	ctl_sample(k, lab, "1");
	ctl_family(k, "lb_start_time_seconds", "gauge",
	    "Start of the master, Unix time");
	ctl_seconds(num, sizeof(num), env->started_ms);
	ctl_sample(k, NULL, num);
	ctl_family(k, "lb_workers_alive", "gauge",
	    "Workers of the current generation alive");
	ctl_sample_u(k, env->workers_alive ? env->workers_alive(env->arg) : 0);
	ctl_family(k, "lb_workers_configured", "gauge", "Workers configured");
	ctl_sample_u(k, c != NULL ? c->workers : 0);
	ctl_family(k, "lb_generation", "gauge",
	    "Worker generation (raised by each reload)");
	ctl_sample_u(k, atomic_load(&t->generation));
	ctl_family(k, "lb_connections_active", "gauge",
	    "Proxied connections open now");
	ctl_sample_u(k, act > 0 ? (uint64_t)act : 0);
	ctl_family(k, "lb_connections_total", "counter",
	    "Connections accepted");
	ctl_sample_u(k, atomic_load(&t->conns_total));
	ctl_family(k, "lb_maxconn_rejects_total", "counter",
	    "Clients closed at the global maxconn");
	ctl_sample_u(k, atomic_load(&t->maxconn_rejects));
	ctl_family(k, "lb_per_source_rejects_total", "counter",
	    "Clients closed at maxconn_per_source");
	ctl_sample_u(k, atomic_load(&t->srcs.rejects));
	ctl_family(k, "lb_per_source_table_full_total", "counter",
	    "Clients let in uncounted: no per-source slot free near their hash");
	ctl_sample_u(k, atomic_load(&t->srcs.table_full));
}

bool
ctl_show_metrics(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	struct ctl_msink	 k;
	struct json_w		 w;

	memset(&k, 0, sizeof(k));
	k.out = out;
	if (req->json) {
		json_init(&w, out);
		json_arr_begin(&w);
		k.w = &w;
	}
	ctl_global_families_emit(&k, env);
	ctl_pool_families_emit(&k, env->t);
	ctl_server_families_emit(&k, env->t);
	if (req->json) {
		json_arr_end(&w);
		ctl_buf_append(out, "\n", 1);
	}
	return true;
}
