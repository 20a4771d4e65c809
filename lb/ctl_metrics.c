/*
 * ctl_metrics.c - the `metrics` command: the shared table in Prometheus
 * text exposition format (version 0.0.4), so a cron job can write it into
 * node_exporter's textfile collector directory:
 *
 *     lbctl metrics > /var/lib/node_exporter/lb.prom.$$ &&
 *         mv /var/lib/node_exporter/lb.prom.$$ /var/lib/node_exporter/lb.prom
 *
 * The format wants every sample of one metric family together, after its
 * # HELP and # TYPE lines, so each family is one pass over the table:
 * O(families x servers), a few thousand lines at most.  Master only.
 */
#include <stdatomic.h>
#include <string.h>

#include "ctl_cmd.h"
#include "shm.h"

/* Which servers field a family reads. */
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

static void
ctl_family_head(struct ctl_buf *out, const char *name, const char *type,
    const char *help)
{
	ctl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* The value of field f of server idx, as printed. */
static void
ctl_server_value(struct ctl_buf *out, const struct shm_table *t,
    uint32_t idx, enum ctl_sfield f)
{
	const struct shm_server	*s = &t->servers[idx];
	uint64_t		 v = 0;
	int64_t			 ms;

	switch (f) {
	case CTL_SF_UP:	v = ctl_server_up(t, idx); break;
	case CTL_SF_HEALTHY:
		v = atomic_load(&s->health) == SHM_HEALTH_UP;
		break;
	case CTL_SF_WEIGHT:	v = atomic_load(&s->weight); break;
	case CTL_SF_ACTIVE:
		ms = atomic_load(&s->active);
		v = ms > 0 ? (uint64_t)ms : 0;
		break;
	case CTL_SF_MAXCONN:	v = atomic_load(&s->maxconn); break;
	case CTL_SF_CONNS:	v = atomic_load(&s->conns_total); break;
	case CTL_SF_FAILURES:	v = atomic_load(&s->failures); break;
	case CTL_SF_BYTES_IN:	v = atomic_load(&s->bytes_in); break;
	case CTL_SF_BYTES_OUT:	v = atomic_load(&s->bytes_out); break;
	case CTL_SF_LAST_CHECK:
	case CTL_SF_LAST_CHANGE:
		ms = atomic_load(f == CTL_SF_LAST_CHECK ? &s->last_check_ms :
		    &s->last_change_ms);
		ctl_buf_printf(out, "%lld.%03lld\n", (long long)(ms / 1000),
		    (long long)(ms % 1000));
		return;
	}
	ctl_buf_printf(out, "%llu\n", (unsigned long long)v);
}

/* One server family: a sample per server in use, in pool order. */
static void
ctl_server_family(struct ctl_buf *out, const struct shm_table *t,
    const struct ctl_family *fam)
{
	const struct shm_pool	*p;
	uint32_t		 i, k, n, idx;

	ctl_family_head(out, fam->name, fam->type, fam->help);
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		p = &t->pools[i];
		if (!atomic_load(&p->in_use))
			continue;
		n = atomic_load(&p->nservers);
		for (k = 0; k < n && k < SHM_POOL_MAX_SERVERS; k++) {
			idx = __atomic_load_n(&p->servers[k], __ATOMIC_RELAXED);
			if (idx >= SHM_MAX_SERVERS ||
			    !atomic_load(&t->servers[idx].in_use))
				continue;
			ctl_buf_printf(out, "%s{pool=\"", fam->name);
			ctl_label(out, t->servers[idx].pool);
			ctl_buf_printf(out, "\",server=\"");
			ctl_label(out, t->servers[idx].name);
			ctl_buf_printf(out, "\"} ");
			ctl_server_value(out, t, idx, fam->field);
		}
	}
}

/*
 * lb_server_admin: one series per admin state, 1 for the current one (the
 * usual way to expose an enum, so a state change does not rename the
 * other series).
 */
static void
ctl_admin_family(struct ctl_buf *out, const struct shm_table *t)
{
	const struct shm_pool	*p;
	uint32_t		 i, k, n, idx, a, cur;

	ctl_family_head(out, "lb_server_admin", "gauge",
	    "Administrative state: ready, drain or maint");
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		p = &t->pools[i];
		if (!atomic_load(&p->in_use))
			continue;
		n = atomic_load(&p->nservers);
		for (k = 0; k < n && k < SHM_POOL_MAX_SERVERS; k++) {
			idx = __atomic_load_n(&p->servers[k], __ATOMIC_RELAXED);
			if (idx >= SHM_MAX_SERVERS ||
			    !atomic_load(&t->servers[idx].in_use))
				continue;
			cur = atomic_load(&t->servers[idx].admin);
			for (a = SHM_ADMIN_READY; a <= SHM_ADMIN_MAINT; a++) {
				ctl_buf_printf(out, "lb_server_admin{pool=\"");
				ctl_label(out, t->servers[idx].pool);
				ctl_buf_printf(out, "\",server=\"");
				ctl_label(out, t->servers[idx].name);
				ctl_buf_printf(out, "\",state=\"%s\"} %d\n",
				    shm_admin_name(a), a == cur);
			}
		}
	}
}

/* Pool families: servers up, servers, connections, no_server. */
static void
ctl_pool_families(struct ctl_buf *out, const struct shm_table *t)
{
	static const char *const names[][3] = {
		{ "lb_pool_servers_up", "gauge", "Servers taking connections" },
		{ "lb_pool_servers", "gauge", "Servers in the pool" },
		{ "lb_pool_connections_total", "counter",
		  "Connections balanced to the pool" },
		{ "lb_pool_no_server_total", "counter",
		  "Clients closed because no server was usable" },
	};
	uint32_t	 f, i, up, n;
	uint64_t	 v;

	for (f = 0; f < 4; f++) {
		ctl_family_head(out, names[f][0], names[f][1], names[f][2]);
		for (i = 0; i < SHM_MAX_POOLS; i++) {
			if (!atomic_load(&t->pools[i].in_use))
				continue;
			ctl_pool_count(t, i, &up, &n);
			v = f == 0 ? up : f == 1 ? n : f == 2 ?
			    atomic_load(&t->pools[i].conns_total) :
			    atomic_load(&t->pools[i].no_server);
			ctl_buf_printf(out, "%s{pool=\"", names[f][0]);
			ctl_label(out, t->pools[i].name);
			ctl_buf_printf(out, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

/* Process-wide families. */
static void
ctl_global_families(struct ctl_buf *out, const struct ctl_env *env)
{
	const struct shm_table	*t = env->t;
	const struct conf	*c = env->conf != NULL ? env->conf(env->arg) :
				    NULL;
	int32_t			 act = atomic_load(&t->active);

	ctl_family_head(out, "lb_info", "gauge", "lbd version");
	ctl_buf_printf(out, "lb_info{version=\"%s\"} 1\n", LB_VERSION);
	ctl_family_head(out, "lb_start_time_seconds", "gauge",
	    "Start of the master, Unix time");
	ctl_buf_printf(out, "lb_start_time_seconds %lld.%03lld\n",
	    (long long)(env->started_ms / 1000),
	    (long long)(env->started_ms % 1000));
	ctl_family_head(out, "lb_workers_alive", "gauge",
	    "Workers of the current generation alive");
	ctl_buf_printf(out, "lb_workers_alive %u\n", env->workers_alive ?
	    env->workers_alive(env->arg) : 0);
	ctl_family_head(out, "lb_workers_configured", "gauge",
	    "Workers configured");
	ctl_buf_printf(out, "lb_workers_configured %u\n",
	    c != NULL ? c->workers : 0);
	ctl_family_head(out, "lb_generation", "gauge",
	    "Worker generation (raised by each reload)");
	ctl_buf_printf(out, "lb_generation %u\n", atomic_load(&t->generation));
	ctl_family_head(out, "lb_connections_active", "gauge",
	    "Proxied connections open now");
	ctl_buf_printf(out, "lb_connections_active %d\n", act > 0 ? act : 0);
	ctl_family_head(out, "lb_connections_total", "counter",
	    "Connections accepted");
	ctl_buf_printf(out, "lb_connections_total %llu\n",
	    (unsigned long long)atomic_load(&t->conns_total));
	ctl_family_head(out, "lb_maxconn_rejects_total", "counter",
	    "Clients closed at the global maxconn");
	ctl_buf_printf(out, "lb_maxconn_rejects_total %llu\n",
	    (unsigned long long)atomic_load(&t->maxconn_rejects));
}

/*
 * metrics: always text (the exposition format is the machine format; a
 * "json" prefix is ignored).
 */
bool
ctl_show_metrics(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out)
{
	size_t	 i;

	ctl_global_families(out, env);
	ctl_pool_families(out, env->t);
	for (i = 0; i < sizeof(ctl_server_families) /
	    sizeof(ctl_server_families[0]); i++)
		ctl_server_family(out, env->t, &ctl_server_families[i]);
	ctl_admin_family(out, env->t);
	return true;
}
