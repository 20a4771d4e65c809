/*
 * ctl_cmd.c - dispatch of lbd's control commands, help, and the commands
 * that change the running state: enable, drain, disable, weight, add,
 * remove, reload.  The read commands are in ctl_show.c and
 * ctl_metrics.c; the socket in ctl.c.
 *
 * Master only.  Every change is logged at notice level with the peer's
 * uid, so syslog tells who did what.  Changes live in the shared table
 * only: persisting them across restarts is the master's state file.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cfg.h"
#include "clock.h"
#include "ctl_cmd.h"
#include "log.h"
#include "shm.h"

struct ctl_cmd {
	const char	*name;
	int		 min, max;	/* argument count, command excluded */
	bool		(*fn)(const struct ctl_env *, const struct ctl_request *,
			    uint32_t, struct ctl_buf *);
	const char	*usage;
	const char	*help;
};

static const struct ctl_cmd ctl_cmds[];

/* Adapters: read commands do not need the uid. */
#define CTL_READ(name, show)						\
static bool								\
name(const struct ctl_env *env, const struct ctl_request *req,		\
    uint32_t uid, struct ctl_buf *out)					\
{									\
	(void)uid;							\
	return show(env, req, out);					\
}
CTL_READ(ctl_do_status, ctl_show_status)
CTL_READ(ctl_do_pools, ctl_show_pools)
CTL_READ(ctl_do_servers, ctl_show_servers)
CTL_READ(ctl_do_workers, ctl_show_workers)
CTL_READ(ctl_do_health, ctl_show_health)
CTL_READ(ctl_do_metrics, ctl_show_metrics)
CTL_READ(ctl_do_autoscale, ctl_show_autoscale)

/* help: the command list, also as JSON for tools. */
static bool
ctl_do_help(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	const struct ctl_cmd	*c;
	struct ctl_tab		 tab;
	struct json_w		 w;

	json_init(&w, out);
	if (req->json)
		json_arr_begin(&w);
	else
		ctl_tab_init(&tab, "COMMAND DESCRIPTION");
	for (c = ctl_cmds; c->name != NULL; c++) {
		if (req->json) {
			json_obj_begin(&w);
			json_kv_str(&w, "command", c->name);
			json_kv_str(&w, "usage", c->usage);
			json_kv_str(&w, "help", c->help);
			json_obj_end(&w);
			continue;
		}
		ctl_tab_row(&tab);
		ctl_tab_cell(&tab, 0, "%s", c->usage);
		ctl_tab_cell(&tab, 1, "%s", c->help);
	}
	if (req->json) {
		json_arr_end(&w);
		ctl_buf_append(out, "\n", 1);
	} else {
		ctl_tab_print(&tab, out);
		ctl_buf_printf(out, "Prefix a read command with \"json \" "
		    "for JSON.\n");
	}
	return true;
}

/*
 * Resolves "POOL/SERVER" to a server index.  Returns it, or -1 with the
 * reason written to out.
 */
static int
ctl_target(const struct ctl_env *env, const char *arg, struct ctl_buf *out)
{
	char		 pool[SHM_NAME_MAX];
	const char	*slash = strchr(arg, '/');
	size_t		 n;
	int		 pi, si;

	if (slash == NULL || slash == arg || slash[1] == '\0') {
		ctl_buf_printf(out, "'%s': expected POOL/SERVER\n", arg);
		return -1;
	}
	n = (size_t)(slash - arg);
	if (n >= sizeof(pool)) {
		ctl_buf_printf(out, "no pool named '%.*s'\n", (int)n, arg);
		return -1;
	}
	memcpy(pool, arg, n);
	pool[n] = '\0';
	if ((pi = shm_pool_find(env->t, pool)) == -1) {
		ctl_buf_printf(out, "no pool named '%s'\n", pool);
		return -1;
	}
	if ((si = shm_server_find(env->t, (uint32_t)pi, slash + 1)) == -1) {
		ctl_buf_printf(out, "no server named '%s' in pool %s\n",
		    slash + 1, pool);
		return -1;
	}
	return si;
}

/* Replies to a successful change: text line or {"ok":true,...}. */
static void
ctl_done(const struct ctl_request *req, struct ctl_buf *out,
    const struct shm_server *s, const char *what, const char *was)
{
	struct json_w	 w;

	if (!req->json) {
		ctl_buf_printf(out, "%s/%s: %s%s%s%s\n", s->pool, s->name, what,
		    was ? " (was " : "", was ? was : "", was ? ")" : "");
		return;
	}
	json_init(&w, out);
	json_obj_begin(&w);
	json_kv_bool(&w, "ok", true);
	json_kv_str(&w, "pool", s->pool);
	json_kv_str(&w, "server", s->name);
	json_kv_str(&w, "result", what);
	if (was != NULL)
		json_kv_str(&w, "was", was);
	json_obj_end(&w);
	ctl_buf_append(out, "\n", 1);
}

/* enable / drain / disable: set the admin state. */
static bool
ctl_do_admin(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	struct shm_server	*s;
	enum shm_admin		 to, from;
	int			 idx;

	if ((idx = ctl_target(env, req->argv[1], out)) == -1)
		return false;
	s = &env->t->servers[idx];
	if (strcmp(req->argv[0], "enable") == 0)
		to = SHM_ADMIN_READY;
	else if (strcmp(req->argv[0], "drain") == 0)
		to = SHM_ADMIN_DRAIN;
	else
		to = SHM_ADMIN_MAINT;
	from = atomic_exchange(&s->admin, to);
	if (from != to) {
		atomic_store(&s->last_change_ms, clock_wall_ms());
		log_notice("ctl: uid=%u %s %s/%s (was %s)", uid, req->argv[0],
		    s->pool, s->name, shm_admin_name(from));
	}
	ctl_done(req, out, s, shm_admin_name(to), shm_admin_name(from));
	return true;
}

/*
 * Parses a decimal number in 0..max (no sign, no spaces).  Returns 0 or
 * -1.
 */
static int
ctl_number(const char *s, uint32_t max, uint32_t *v)
{
	char		*end;
	unsigned long	 n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

/* weight POOL/SERVER N: configured and effective weight at once. */
static bool
ctl_do_weight(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	struct shm_server	*s;
	uint32_t		 wt, old;
	char			 what[32], was[32];
	int			 idx;

	if (ctl_number(req->argv[2], 256, &wt) == -1) {
		ctl_buf_printf(out, "weight '%s': expected 0..256\n",
		    req->argv[2]);
		return false;
	}
	if ((idx = ctl_target(env, req->argv[1], out)) == -1)
		return false;
	s = &env->t->servers[idx];
	old = atomic_exchange(&s->weight, wt);
	atomic_store(&s->eff_weight, wt);
	if (old != wt) {
		atomic_store(&s->last_change_ms, clock_wall_ms());
		log_notice("ctl: uid=%u weight %s/%s %u (was %u)", uid, s->pool,
		    s->name, wt, old);
	}
	snprintf(what, sizeof(what), "weight %u", wt);
	snprintf(was, sizeof(was), "%u", old);
	ctl_done(req, out, s, what, was);
	return true;
}

/*
 * A name for a new server: what the config loader would accept as a
 * name and safe in logs, JSON and metrics labels: letters, digits, '-',
 * '_', '.', ':'.
 */
static bool
ctl_name_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n >= SHM_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.:") == n;
}

/* Options after the address of `add`; 0 or -1 with out written. */
static int
ctl_add_opts(const struct ctl_request *req, uint32_t *wt, uint32_t *mc,
    bool *backup, struct ctl_buf *out)
{
	int	 i;

	for (i = 3; i < req->argc; i++) {
		if (strcmp(req->argv[i], "backup") == 0) {
			*backup = true;
			continue;
		}
		if (i + 1 >= req->argc)
			goto bad;
		if (strcmp(req->argv[i], "weight") == 0) {
			if (ctl_number(req->argv[++i], 256, wt) == -1)
				goto bad;
		} else if (strcmp(req->argv[i], "maxconn") == 0) {
			if (ctl_number(req->argv[++i], 1000000, mc) == -1)
				goto bad;
		} else
			goto bad;
	}
	return 0;
bad:
	ctl_buf_printf(out, "bad option '%s'; usage: %s\n", req->argv[i],
	    "add POOL/SERVER ADDRESS [weight 0..256] [maxconn N] [backup]");
	return -1;
}

/* add POOL/SERVER ADDRESS [weight N] [maxconn N] [backup] */
static bool
ctl_do_add(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 pool[SHM_NAME_MAX];
	const char		*arg = req->argv[1], *slash = strchr(arg, '/');
	uint32_t		 wt = 1, mc = 0;
	bool			 backup = false;
	int			 pi, idx;

	if (slash == NULL || (size_t)(slash - arg) >= sizeof(pool) ||
	    !ctl_name_ok(slash + 1)) {
		ctl_buf_printf(out, "'%s': expected POOL/SERVER, SERVER made "
		    "of letters, digits, '-', '_', '.', ':'\n", arg);
		return false;
	}
	memcpy(pool, arg, (size_t)(slash - arg));
	pool[slash - arg] = '\0';
	if ((pi = shm_pool_find(env->t, pool)) == -1) {
		ctl_buf_printf(out, "no pool named '%s'\n", pool);
		return false;
	}
	/* A backend address names one host and port: no wildcard. */
	if (addr_parse(req->argv[2], &ss, &sl) == -1 ||
	    addr_is_any((struct sockaddr *)&ss)) {
		ctl_buf_printf(out, "bad address '%s': expected IPv4:PORT or "
		    "[IPv6]:PORT\n", req->argv[2]);
		return false;
	}
	if (ctl_add_opts(req, &wt, &mc, &backup, out) == -1)
		return false;
	idx = shm_server_add(env->t, (uint32_t)pi, slash + 1,
	    (struct sockaddr *)&ss, sl, wt, mc, backup);
	if (idx == -1) {
		ctl_buf_printf(out, "cannot add %s: %s\n", arg, errno == EEXIST ?
		    "a server by that name exists" : errno == ENOSPC ?
		    "the pool or the server table is full" : strerror(errno));
		return false;
	}
	log_notice("ctl: uid=%u add %s %s weight %u maxconn %u%s", uid, arg,
	    req->argv[2], wt, mc, backup ? " backup" : "");
	ctl_done(req, out, &env->t->servers[idx], "added", NULL);
	return true;
}

/* remove POOL/SERVER: only once it has no active connection. */
static bool
ctl_do_remove(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	struct shm_server	*s;
	char			 pool[SHM_NAME_MAX], name[SHM_NAME_MAX];
	int32_t			 act;
	int			 idx;

	if ((idx = ctl_target(env, req->argv[1], out)) == -1)
		return false;
	s = &env->t->servers[idx];
	memcpy(pool, s->pool, sizeof(pool));
	memcpy(name, s->name, sizeof(name));
	act = atomic_load(&s->active);
	if (act > 0 || shm_server_remove(env->t, (uint32_t)idx) == -1) {
		if (act > 0 || errno == EBUSY)
			ctl_buf_printf(out, "%s/%s has %d active connection(s); "
			    "drain it first: lbctl drain --wait SECONDS %s/%s\n",
			    pool, name, act > 0 ? act : 1, pool, name);
		else
			ctl_buf_printf(out, "cannot remove %s/%s: %s\n", pool,
			    name, strerror(errno));
		return false;
	}
	log_notice("ctl: uid=%u remove %s/%s", uid, pool, name);
	if (req->json) {
		struct json_w w;

		json_init(&w, out);
		json_obj_begin(&w);
		json_kv_bool(&w, "ok", true);
		json_kv_str(&w, "pool", pool);
		json_kv_str(&w, "server", name);
		json_kv_str(&w, "result", "removed");
		json_obj_end(&w);
		ctl_buf_append(out, "\n", 1);
	} else
		ctl_buf_printf(out, "%s/%s: removed\n", pool, name);
	return true;
}

/* reload: the master re-reads its file; errors are "FILE:LINE: msg". */
static bool
ctl_do_reload(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	struct cfg_errors	 errs;
	size_t			 i;
	int			 rc;

	if (env->reload == NULL) {
		ctl_buf_printf(out, "reload is not available\n");
		return false;
	}
	memset(&errs, 0, sizeof(errs));
	log_notice("ctl: uid=%u reload", uid);
	rc = env->reload(env->arg, &errs);
	if (rc == -1) {
		for (i = 0; i < errs.n; i++)
			ctl_buf_printf(out, "%s\n", errs.msg[i]);
		if (errs.n == 0)
			ctl_buf_printf(out, "reload failed\n");
		log_warnx("ctl: reload requested by uid=%u failed (%zu "
		    "error(s)); the running configuration is kept", uid, errs.n);
	} else if (req->json)
		ctl_buf_printf(out, "{\"ok\":true,\"result\":\"reloaded\"}\n");
	else
		ctl_buf_printf(out, "reloaded\n");
	cfg_errors_free(&errs);
	return rc != -1;
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", 0, 0, ctl_do_status, "status",
	  "version, uptime, workers, connections" },
	{ "pools", 0, 0, ctl_do_pools, "pools", "pools and their counters" },
	{ "servers", 0, 1, ctl_do_servers, "servers [POOL]",
	  "servers, their state and counters" },
	{ "workers", 0, 0, ctl_do_workers, "workers",
	  "worker processes" },
	{ "health", 0, 0, ctl_do_health, "health",
	  "OK when workers run and every pool has a server up" },
	{ "metrics", 0, 0, ctl_do_metrics, "metrics",
	  "Prometheus text format" },
	{ "enable", 1, 1, ctl_do_admin, "enable POOL/SERVER",
	  "admin ready: take new connections" },
	{ "drain", 1, 1, ctl_do_admin, "drain POOL/SERVER",
	  "no new connections, keep existing ones" },
	{ "disable", 1, 1, ctl_do_admin, "disable POOL/SERVER",
	  "admin maint: no traffic, no health checks" },
	{ "weight", 2, 2, ctl_do_weight, "weight POOL/SERVER N",
	  "set the weight (0..256)" },
	{ "add", 2, 7, ctl_do_add,
	  "add POOL/SERVER ADDRESS [weight N] [maxconn N] [backup]",
	  "add a server (not kept across restart without a state file)" },
	{ "remove", 1, 1, ctl_do_remove, "remove POOL/SERVER",
	  "remove a server with no active connection" },
	{ "reload", 0, 0, ctl_do_reload, "reload",
	  "re-read the config file" },
	{ "sticky", 0, 3, ctl_sticky,
	  "sticky [POOL] | sticky show|clear POOL [ADDR]",
	  "sticky tables: counters; list or forget clients" },
	{ "autoscale", 0, 1, ctl_do_autoscale, "autoscale [POOL]",
	  "autoscaling: load, bounds, cooldown, hook, last decisions" },
	{ "help", 0, 0, ctl_do_help, "help", "this list" },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

bool
ctl_cmd_run(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out)
{
	const struct ctl_cmd	*c;
	char			 esc[64];

	for (c = ctl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, req->argv[0]) == 0)
			break;
	if (c->name == NULL) {
		log_escape(esc, sizeof(esc), req->argv[0],
		    strlen(req->argv[0]));
		ctl_buf_printf(out, "unknown command '%s'; try 'help'\n", esc);
		return false;
	}
	if (req->argc - 1 < c->min || req->argc - 1 > c->max) {
		ctl_buf_printf(out, "usage: %s\n", c->usage);
		return false;
	}
	return c->fn(env, req, uid, out);
}
