/*
 * conf.c - loading and validating lbd's libconfig file (see conf.h).
 *
 * One function per group (globals, log, timeouts, pool, server,
 * listener), each with its table of allowed keys.  Validation never stops
 * at the first problem: every getter reports and counts its own, the
 * walk goes on, and only a file with no problem at all becomes a struct
 * conf.  Runs in the master (start-up, reload) and in `lbd -n`; never
 * logs.
 */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "addr.h"
#include "cfg.h"
#include "conf.h"
#include "conf_autoscale.h"
#include "conf_health.h"
#include "conf_setting.h"
#include "log.h"
#include "maglev.h"
#include "proxy.h"
#include "shm.h"
#include "sticky-t.h"

#define CONF_FILE_MAX		(4 * 1024 * 1024)	/* bytes */
#define CONF_DEF_MAXCONN	10000
#define CONF_DEF_SOCKET		"/run/lbd/lbd.sock"
#define CONF_DEF_CONNECT_MS	(3 * 1000)
#define CONF_DEF_IDLE_MS	(5 * 60 * 1000)
#define CONF_DEF_DRAIN_MS	(30 * 1000)
#define CONF_DEF_RETRIES	2
#define CONF_MAX_RETRIES	16
#define CONF_MAX_WEIGHT		256
#define CONF_DEF_BACKLOG	4096
#define CONF_HOUR_MS		(60ull * 60 * 1000)
#define CONF_DAY_MS		(24 * CONF_HOUR_MS)
#define CONF_DEF_STICKY_MS	(30 * 60 * 1000)
#define CONF_DEF_STICKY_CAP	100000

static const char *const conf_keys_root[] = { "workers", "maxconn",
    "maxconn_per_source", "control_socket", "control_group", "state_file", "log", "timeouts",
    "pools", "listeners", "user", NULL };
static const char *const conf_keys_log[] = { "facility", "connections",
    NULL };
static const char *const conf_keys_timeouts[] = { "connect", "idle",
    "drain", NULL };
static const char *const conf_keys_pool[] = { "name", "algorithm",
    "retries", "servers", "health", "hash_key", "hash_balance_factor",
    "sticky", "send_proxy", "autoscale", NULL };
static const char *const conf_keys_server[] = { "name", "address",
    "weight", "maxconn", "backup", "health", "send_proxy", NULL };
static const char *const conf_keys_listener[] = { "name", "bind", "pool",
    "backlog", "freebind", "accept_proxy", NULL };
static const char *const conf_keys_sticky[] = { "timeout", "capacity",
    "fallback", NULL };

/* Everything a file may leave out. */
static void
conf_defaults(struct conf *c)
{
	c->workers = 0;
	c->maxconn = CONF_DEF_MAXCONN;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s",
	    CONF_DEF_SOCKET);
	c->log_facility = LOG_DAEMON;
	c->log_connections = true;
	c->connect_timeout_ms = CONF_DEF_CONNECT_MS;
	c->idle_timeout_ms = CONF_DEF_IDLE_MS;
	c->drain_timeout_ms = CONF_DEF_DRAIN_MS;
}

/*
 * An absolute path setting `key` that fits dst (control_socket must fit
 * sun_path; state_file PATH_MAX).
 */
static void
conf_abs_path(struct conf_ctx *ctx, const config_setting_t *root,
    const char *key, char *dst, size_t dstlen)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	int		 line;

	if (conf_get_string(ctx, root, key, &s) != CONF_GET_OK)
		return;
	line = conf_line(config_setting_get_member(root, key));
	if (s[0] != '/')
		conf_err(ctx, line, "'%s' must be an absolute path (got \"%s\")",
		    key, conf_echo(s, esc, sizeof(esc)));
	else if (strlen(s) >= dstlen)
		conf_err(ctx, line, "'%s' is too long (%zu bytes, max %zu)",
		    key, strlen(s), dstlen - 1);
	else
		memcpy(dst, s, strlen(s) + 1);
}

/*
 * user = "lbd": the user the master switches to once its sockets are
 * open (privdrop.c).  Only the spelling is checked here (1..32 of
 * [A-Za-z0-9._-], not starting with '-'), so `lbd -n` works on a host
 * without that user; start-up names a missing one.
 */
static void
conf_user(struct conf_ctx *ctx, struct conf *c, const config_setting_t *root)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	size_t		 n;

	if (conf_get_string(ctx, root, "user", &s) != CONF_GET_OK)
		return;
	n = strlen(s);
	if (n == 0 || n >= sizeof(c->user) || s[0] == '-' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != n) {
		conf_err(ctx, conf_line(config_setting_get_member(root, "user")),
		    "'user' must be a user name: 1 to %zu of A-Z a-z 0-9 . _ - "
		    "(got \"%s\")", sizeof(c->user) - 1,
		    conf_echo(s, esc, sizeof(esc)));
		return;
	}
	memcpy(c->user, s, n + 1);
}

/*
 * control_group = "lbadmin": members may use the control socket besides
 * root and lbd's own user.  The group must exist when the file is read,
 * so a typo is a config error, not a silently closed door.
 */
static void
conf_control_group(struct conf_ctx *ctx, struct conf *c,
    const config_setting_t *root)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	struct group	*gr;
	int		 line;

	c->control_gid = (gid_t)-1;
	if (conf_get_string(ctx, root, "control_group", &s) != CONF_GET_OK)
		return;
	line = conf_line(config_setting_get_member(root, "control_group"));
	if (s[0] == '\0' || strlen(s) >= sizeof(c->control_group) ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != strlen(s)) {
		conf_err(ctx, line, "'control_group' must be a group name "
		    "(got \"%s\")", conf_echo(s, esc, sizeof(esc)));
		return;
	}
	if ((gr = getgrnam(s)) == NULL) {
		conf_err(ctx, line, "'control_group': no group named \"%s\"",
		    s);
		return;
	}
	memcpy(c->control_group, s, strlen(s) + 1);
	c->control_gid = gr->gr_gid;
}

/* log = { facility = "daemon"; connections = true; }; */
static void
conf_log(struct conf_ctx *ctx, struct conf *c, const config_setting_t *root)
{
	const config_setting_t	*g;
	const char		*s;
	char			 esc[CONF_ECHO_LEN];
	int			 f;

	if ((g = conf_get_aggregate(ctx, root, "log", CONFIG_TYPE_GROUP,
	    false)) == NULL)
		return;
	conf_check_keys(ctx, g, conf_keys_log);
	if (conf_get_string(ctx, g, "facility", &s) == CONF_GET_OK) {
		if ((f = log_facility_lookup(s)) == -1)
			conf_err(ctx, conf_line(config_setting_get_member(g,
			    "facility")), "unknown log facility \"%s\" "
			    "(expected daemon, user or local0 to local7)",
			    conf_echo(s, esc, sizeof(esc)));
		else
			c->log_facility = f;
	}
	conf_get_bool(ctx, g, "connections", &c->log_connections);
}

/* timeouts = { connect = "3s"; idle = "5m"; drain = "30s"; }; */
static void
conf_timeouts(struct conf_ctx *ctx, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t *g;

	if ((g = conf_get_aggregate(ctx, root, "timeouts", CONFIG_TYPE_GROUP,
	    false)) == NULL)
		return;
	conf_check_keys(ctx, g, conf_keys_timeouts);
	conf_get_duration(ctx, g, "connect", 1, CONF_HOUR_MS,
	    &c->connect_timeout_ms);
	conf_get_duration(ctx, g, "idle", 1, 7 * CONF_DAY_MS,
	    &c->idle_timeout_ms);
	conf_get_duration(ctx, g, "drain", 0, CONF_DAY_MS,
	    &c->drain_timeout_ms);
}

/* Top-level scalars and the log and timeouts groups. */
static void
conf_globals(struct conf_ctx *ctx, struct conf *c,
    const config_setting_t *root)
{
	int64_t v;

	conf_check_keys(ctx, root, conf_keys_root);
	if (conf_get_int(ctx, root, "workers", 0, CONF_MAX_WORKERS, &v) ==
	    CONF_GET_OK)
		c->workers = (uint32_t)v;
	if (conf_get_int(ctx, root, "maxconn", 1, CONF_MAX_MAXCONN, &v) ==
	    CONF_GET_OK)
		c->maxconn = (uint32_t)v;
	if (conf_get_int(ctx, root, "maxconn_per_source", 0, CONF_MAX_MAXCONN,
	    &v) == CONF_GET_OK)
		c->maxconn_per_source = (uint32_t)v;
	conf_abs_path(ctx, root, "control_socket", c->control_socket,
	    sizeof(c->control_socket));
	conf_abs_path(ctx, root, "state_file", c->state_file,
	    sizeof(c->state_file));
	conf_user(ctx, c, root);
	conf_control_group(ctx, c, root);
	conf_log(ctx, c, root);
	conf_timeouts(ctx, c, root);
}

/* send_proxy = "v1" | "v2" | "none" of a pool or server into *out. */
static void
conf_send_proxy(struct conf_ctx *ctx, const config_setting_t *grp,
    uint32_t *out)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	int		 v;

	if (conf_get_string(ctx, grp, "send_proxy", &s) != CONF_GET_OK)
		return;
	if ((v = proxy_send_lookup(s)) == -1)
		conf_err(ctx, conf_line(config_setting_get_member(grp,
		    "send_proxy")), "'send_proxy' must be \"v1\", \"v2\" or "
		    "\"none\" (got \"%s\")", conf_echo(s, esc, sizeof(esc)));
	else
		*out = (uint32_t)v;
}

/* sticky = { timeout = "30m"; capacity = 100000; fallback = "leastconn"; } */
static void
conf_sticky(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_pool *p)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	int64_t		 v;
	int		 a;

	conf_check_keys(ctx, g, conf_keys_sticky);
	if (p->algorithm != BAL_STICKY)
		conf_err(ctx, conf_line(g), "'sticky' needs algorithm = "
		    "\"sticky\"");
	conf_get_duration(ctx, g, "timeout", 1000, 7 * CONF_DAY_MS,
	    &p->sticky.timeout_ms);
	if (conf_get_int(ctx, g, "capacity", STICKY_WAYS, STICKY_MAX_CAPACITY,
	    &v) == CONF_GET_OK)
		p->sticky.capacity = (uint32_t)v;
	if (conf_get_string(ctx, g, "fallback", &s) != CONF_GET_OK)
		return;
	a = bal_algo_lookup(s);
	if (a == -1 || a == BAL_SOURCE || a == BAL_STICKY)
		conf_err(ctx, conf_line(config_setting_get_member(g,
		    "fallback")), "'fallback' must be roundrobin, random, "
		    "leastconn, p2c or first (got \"%s\")",
		    conf_echo(s, esc, sizeof(esc)));
	else
		p->sticky.fallback = (enum bal_algo)a;
}

/* hash_key, hash_balance_factor, sticky and send_proxy of a pool. */
static void
conf_pool_client(struct conf_ctx *ctx, const config_setting_t *el,
    struct conf_pool *p)
{
	const config_setting_t	*g;
	const char		*s;
	char			 esc[CONF_ECHO_LEN];
	int64_t			 v;
	int			 line;

	p->sticky.timeout_ms = CONF_DEF_STICKY_MS;
	p->sticky.capacity = CONF_DEF_STICKY_CAP;
	p->sticky.fallback = BAL_LEASTCONN;
	p->send_proxy = PROXY_SEND_NONE;
	if (conf_get_string(ctx, el, "hash_key", &s) == CONF_GET_OK) {
		line = conf_line(config_setting_get_member(el, "hash_key"));
		if (strcmp(s, "ip") == 0 || strcmp(s, "ip_port") == 0)
			p->hash_key = s[2] == '\0' ? MAGLEV_KEY_IP :
			    MAGLEV_KEY_IP_PORT;
		else
			conf_err(ctx, line, "'hash_key' must be \"ip\" or "
			    "\"ip_port\" (got \"%s\")",
			    conf_echo(s, esc, sizeof(esc)));
		if (p->algorithm != BAL_SOURCE)
			conf_err(ctx, line, "'hash_key' needs algorithm = "
			    "\"source\"");
	}
	if (conf_get_int(ctx, el, "hash_balance_factor", 100, 10000, &v) ==
	    CONF_GET_OK) {
		p->hash_balance_factor = (uint32_t)v;
		if (p->algorithm != BAL_SOURCE)
			conf_err(ctx, conf_line(config_setting_get_member(el,
			    "hash_balance_factor")), "'hash_balance_factor' "
			    "needs algorithm = \"source\"");
	}
	if ((g = conf_get_aggregate(ctx, el, "sticky", CONFIG_TYPE_GROUP,
	    false)) != NULL)
		conf_sticky(ctx, g, p);
	conf_send_proxy(ctx, el, &p->send_proxy);
}

/* One element of a pool's servers list. */
static void
conf_server(struct conf_ctx *ctx, const config_setting_t *el,
    struct conf_server *srv)
{
	int64_t v;

	srv->line = conf_line(el);
	srv->weight = 1;
	if (!conf_is_group(ctx, el))
		return;
	conf_check_keys(ctx, el, conf_keys_server);
	conf_get_name(ctx, el, "name", srv->name, sizeof(srv->name));
	if (conf_get_addr(ctx, el, "address", srv->address,
	    sizeof(srv->address), &srv->addr, &srv->addrlen) == 0 &&
	    addr_is_any((const struct sockaddr *)&srv->addr))
		conf_err(ctx, conf_line(config_setting_get_member(el,
		    "address")), "'address' \"%s\" is a wildcard: a server "
		    "needs a real address", srv->address);
	if (conf_get_int(ctx, el, "weight", 0, CONF_MAX_WEIGHT, &v) ==
	    CONF_GET_OK)
		srv->weight = (uint32_t)v;
	if (conf_get_int(ctx, el, "maxconn", 0, CONF_MAX_MAXCONN, &v) ==
	    CONF_GET_OK)
		srv->maxconn = (uint32_t)v;
	conf_get_bool(ctx, el, "backup", &srv->backup);
	conf_send_proxy(ctx, el, &srv->send_proxy);
	conf_health_parse(ctx, el, &srv->health);	/* over the pool's */
}

/* A pool's servers list: 1..SHM_POOL_MAX_SERVERS, unique names. */
static void
conf_servers(struct conf_ctx *ctx, const config_setting_t *list,
    struct conf_pool *p)
{
	int	 n = config_setting_length(list);
	int	 i, j;

	if (n == 0 || n > SHM_POOL_MAX_SERVERS) {
		conf_err(ctx, conf_line(list), "'servers' must list 1 to %d "
		    "servers (got %d)", SHM_POOL_MAX_SERVERS, n);
		return;
	}
	if ((p->servers = calloc((size_t)n, sizeof(*p->servers))) == NULL) {
		conf_err(ctx, conf_line(list), "out of memory");
		return;
	}
	p->nservers = (uint32_t)n;
	for (i = 0; i < n; i++) {
		struct conf_server *s = &p->servers[i];

		s->health = p->health;
		conf_server(ctx, config_setting_get_elem(list, (unsigned)i), s);
		for (j = 0; j < i && s->name[0] != '\0'; j++)
			if (strcmp(p->servers[j].name, s->name) == 0) {
				conf_err(ctx, s->line, "duplicate server name "
				    "'%s' in pool (first at line %d)", s->name,
				    p->servers[j].line);
				break;
			}
	}
}

/* One element of the pools list. */
static void
conf_pool(struct conf_ctx *ctx, const config_setting_t *el,
    struct conf_pool *p)
{
	const config_setting_t	*list;
	const char		*s;
	char			 esc[CONF_ECHO_LEN];
	int64_t			 v;
	int			 a;

	p->line = conf_line(el);
	p->algorithm = BAL_ROUNDROBIN;
	p->retries = CONF_DEF_RETRIES;
	conf_health_defaults(&p->health);
	if (!conf_is_group(ctx, el))
		return;
	conf_check_keys(ctx, el, conf_keys_pool);
	conf_get_name(ctx, el, "name", p->name, sizeof(p->name));
	if (conf_get_string(ctx, el, "algorithm", &s) == CONF_GET_OK) {
		if ((a = bal_algo_lookup(s)) == -1)
			conf_err(ctx, conf_line(config_setting_get_member(el,
			    "algorithm")), "unknown algorithm \"%s\" (expected "
			    "roundrobin, random, leastconn, p2c, first, source "
			    "or sticky)",
			    conf_echo(s, esc, sizeof(esc)));
		else
			p->algorithm = (enum bal_algo)a;
	}
	if (conf_get_int(ctx, el, "retries", 0, CONF_MAX_RETRIES, &v) ==
	    CONF_GET_OK)
		p->retries = (uint32_t)v;
	conf_pool_client(ctx, el, p);
	conf_autoscale_parse(ctx, el, &p->autoscale);
	conf_health_parse(ctx, el, &p->health);	/* before the servers */
	if ((list = conf_get_aggregate(ctx, el, "servers", CONFIG_TYPE_LIST,
	    true)) != NULL)
		conf_servers(ctx, list, p);
}

/* pools = ( ... ): 1..SHM_MAX_POOLS, unique names, bounded servers. */
static void
conf_pools(struct conf_ctx *ctx, struct conf *c, const config_setting_t *root)
{
	const config_setting_t	*list;
	uint32_t		 total = 0;
	int			 n, i, j;

	if ((list = conf_get_aggregate(ctx, root, "pools", CONFIG_TYPE_LIST,
	    true)) == NULL)
		return;
	n = config_setting_length(list);
	if (n == 0 || n > SHM_MAX_POOLS) {
		conf_err(ctx, conf_line(list), "'pools' must list 1 to %d pools "
		    "(got %d)", SHM_MAX_POOLS, n);
		return;
	}
	if ((c->pools = calloc((size_t)n, sizeof(*c->pools))) == NULL) {
		conf_err(ctx, conf_line(list), "out of memory");
		return;
	}
	c->npools = (uint32_t)n;
	for (i = 0; i < n; i++) {
		struct conf_pool *p = &c->pools[i];

		conf_pool(ctx, config_setting_get_elem(list, (unsigned)i), p);
		total += p->nservers;
		for (j = 0; j < i && p->name[0] != '\0'; j++)
			if (strcmp(c->pools[j].name, p->name) == 0) {
				conf_err(ctx, p->line, "duplicate pool name '%s' "
				    "(first at line %d)", p->name,
				    c->pools[j].line);
				break;
			}
	}
	if (total > SHM_MAX_SERVERS)
		conf_err(ctx, conf_line(list), "too many servers in all pools: "
		    "%u (max %d)", total, SHM_MAX_SERVERS);
}

/*
 * The listener's pool, by name, among the pools already read.  When the
 * pools themselves are broken (list missing, a name missing or bad) that
 * is reported already, and "not defined" would only be an echo of it.
 */
static void
conf_listener_pool(struct conf_ctx *ctx, const struct conf *c,
    const config_setting_t *el, struct conf_listener *l)
{
	uint32_t i;

	if (conf_get_name(ctx, el, "pool", l->pool, sizeof(l->pool)) !=
	    CONF_GET_OK)
		return;
	for (i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].name, l->pool) == 0) {
			l->pool_idx = i;
			return;
		}
	for (i = 0; i < c->npools; i++)
		if (c->pools[i].name[0] == '\0')
			return;
	if (c->npools == 0)
		return;
	conf_err(ctx, conf_line(config_setting_get_member(el, "pool")),
	    "pool '%s' is not defined", l->pool);
}

/* One element of the listeners list. */
static void
conf_listener(struct conf_ctx *ctx, const struct conf *c,
    const config_setting_t *el, struct conf_listener *l)
{
	int64_t v;

	l->line = conf_line(el);
	l->backlog = CONF_DEF_BACKLOG;
	if (!conf_is_group(ctx, el))
		return;
	conf_check_keys(ctx, el, conf_keys_listener);
	conf_get_name(ctx, el, "name", l->name, sizeof(l->name));
	conf_get_addr(ctx, el, "bind", l->bind, sizeof(l->bind), &l->addr,
	    &l->addrlen);
	conf_listener_pool(ctx, c, el, l);
	if (conf_get_int(ctx, el, "backlog", 1, 65535, &v) == CONF_GET_OK)
		l->backlog = (int)v;
	conf_get_bool(ctx, el, "freebind", &l->freebind);
	conf_get_bool(ctx, el, "accept_proxy", &l->accept_proxy);
}

/*
 * True when binding both would collide: same family and port, and the
 * same address or one of them the wildcard.  (IPv4 against IPv6 depends
 * on IPV6_V6ONLY, which is the listener's business, not the config's.)
 */
static bool
conf_bind_clash(const struct conf_listener *a, const struct conf_listener *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->addrlen == 0 || b->addrlen == 0 ||
	    a->addr.ss_family != b->addr.ss_family ||
	    addr_port((const struct sockaddr *)&a->addr) !=
	    addr_port((const struct sockaddr *)&b->addr))
		return false;
	if (addr_is_any((const struct sockaddr *)&a->addr) ||
	    addr_is_any((const struct sockaddr *)&b->addr))
		return true;
	if (a->addr.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->addr;
		b4 = (const struct sockaddr_in *)&b->addr;
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)&a->addr;
	b6 = (const struct sockaddr_in6 *)&b->addr;
	return memcmp(&a6->sin6_addr, &b6->sin6_addr,
	    sizeof(a6->sin6_addr)) == 0;
}

/* Listener i against the ones before it: names and bind addresses. */
static void
conf_listener_dups(struct conf_ctx *ctx, const struct conf *c, uint32_t i)
{
	const struct conf_listener	*l = &c->listeners[i], *o;
	uint32_t			 j;
	bool				 name_done = false, bind_done = false;

	for (j = 0; j < i; j++) {
		o = &c->listeners[j];
		if (!name_done && l->name[0] != '\0' &&
		    strcmp(l->name, o->name) == 0) {
			conf_err(ctx, l->line, "duplicate listener name '%s' "
			    "(first at line %d)", l->name, o->line);
			name_done = true;
		}
		if (!bind_done && conf_bind_clash(l, o)) {
			conf_err(ctx, l->line, "duplicate bind address: '%s' "
			    "clashes with '%s' (line %d)", l->bind, o->bind,
			    o->line);
			bind_done = true;
		}
	}
}

/* listeners = ( ... ): 1..CONF_MAX_LISTENERS, read after the pools. */
static void
conf_listeners(struct conf_ctx *ctx, struct conf *c,
    const config_setting_t *root)
{
	const config_setting_t	*list;
	int			 n, i;

	if ((list = conf_get_aggregate(ctx, root, "listeners",
	    CONFIG_TYPE_LIST, true)) == NULL)
		return;
	n = config_setting_length(list);
	if (n == 0 || n > CONF_MAX_LISTENERS) {
		conf_err(ctx, conf_line(list), "'listeners' must list 1 to %d "
		    "listeners (got %d)", CONF_MAX_LISTENERS, n);
		return;
	}
	c->listeners = calloc((size_t)n, sizeof(*c->listeners));
	if (c->listeners == NULL) {
		conf_err(ctx, conf_line(list), "out of memory");
		return;
	}
	c->nlisteners = (uint32_t)n;
	for (i = 0; i < n; i++) {
		conf_listener(ctx, c, config_setting_get_elem(list,
		    (unsigned)i), &c->listeners[i]);
		conf_listener_dups(ctx, c, (uint32_t)i);
	}
}

/* workers = 0 means one per online CPU, within 1..CONF_MAX_WORKERS. */
static void
conf_resolve_workers(struct conf *c)
{
	long n;

	if (c->workers != 0)
		return;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > CONF_MAX_WORKERS)
		n = CONF_MAX_WORKERS;
	c->workers = (uint32_t)n;
}

/* Parses `text` with libconfig and validates the tree into `c`. */
static void
conf_parse(struct conf_ctx *ctx, struct conf *c, const char *text)
{
	config_t		 cfg;
	const config_setting_t	*root;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		conf_err(ctx, config_error_line(&cfg) > 0 ?
		    config_error_line(&cfg) : 1, "%s",
		    config_error_text(&cfg) ? config_error_text(&cfg) :
		    "syntax error");
		config_destroy(&cfg);
		return;
	}
	root = config_root_setting(&cfg);
	conf_globals(ctx, c, root);
	conf_pools(ctx, c, root);
	conf_listeners(ctx, c, root);
	config_destroy(&cfg);
}

struct conf_msg {
	long	 line;
	size_t	 idx;
	char	*msg;
};

static int
conf_msg_cmp(const void *a, const void *b)
{
	const struct conf_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Orders this load's messages (errs->msg[from..]) by line, keeping the
 * order of messages on the same line, so a reader can walk the file top
 * to bottom: the pre-scan and the tree walk report in separate passes.
 * Best effort: without memory the order stays as it was.
 */
static void
conf_sort_errors(struct cfg_errors *errs, size_t from, const char *name)
{
	struct conf_msg	*m;
	size_t		 n, i, skip = strlen(name) + 1;

	if (errs == NULL || errs->n <= from + 1)
		return;
	n = errs->n - from;
	if ((m = calloc(n, sizeof(*m))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		m[i].msg = errs->msg[from + i];
		m[i].idx = i;
		if (strlen(m[i].msg) > skip)
			m[i].line = strtol(m[i].msg + skip, NULL, 10);
	}
	qsort(m, n, sizeof(*m), conf_msg_cmp);
	for (i = 0; i < n; i++)
		errs->msg[from + i] = m[i].msg;
	free(m);
}

/*
 * The whole load from text in memory: `len` bytes, text[len] == '\0'.
 * Returns a complete struct conf, or NULL with every problem in `errs`.
 */
static struct conf *
conf_load_text(const char *text, size_t len, const char *name,
    struct cfg_errors *errs)
{
	struct conf_ctx	 ctx = { name, errs, 0 };
	struct conf	*c;
	size_t		 from = errs ? errs->n : 0;
	char		*fix;
	int		 noparse;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		conf_err(&ctx, 0, "out of memory");
		return NULL;
	}
	conf_defaults(c);
	if (strlen(name) >= sizeof(c->path))
		conf_err(&ctx, 0, "file name too long");
	else
		memcpy(c->path, name, strlen(name) + 1);
	/* libconfig reads a patched copy: see cfg_scan_text_fix(). */
	if ((fix = malloc(len + 1)) == NULL) {
		conf_err(&ctx, 0, "out of memory");
	} else {
		memcpy(fix, text, len + 1);
		ctx.nerr += cfg_scan_text_fix(text, len, name, errs, &noparse,
		    fix);
		if (!noparse)
			conf_parse(&ctx, c, fix);
		free(fix);
	}
	if (ctx.nerr > 0) {
		conf_sort_errors(errs, from, name);
		conf_free(c);
		return NULL;
	}
	conf_resolve_workers(c);
	return c;
}

struct conf *
conf_load_string(const char *text, const char *name, struct cfg_errors *errs)
{
	if (name == NULL)
		name = "(string)";
	if (text == NULL)
		text = "";
	return conf_load_text(text, strlen(text), name, errs);
}

/*
 * Reads the whole file into a NUL-terminated buffer (at most
 * CONF_FILE_MAX bytes).  Returns it (free it) with *len, or NULL with
 * errno (EFBIG when too large).
 */
static char *
conf_read_file(const char *path, size_t *len)
{
	char	*buf = NULL, *nbuf;
	size_t	 n = 0, cap = 0;
	ssize_t	 r;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (cap - n < 2) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CONF_FILE_MAX + 2)
				cap = CONF_FILE_MAX + 2;
			if (cap - n < 2) {
				errno = EFBIG;
				goto fail;
			}
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		if ((r = read(fd, buf + n, cap - n - 1)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

struct conf *
conf_load(const char *path, struct cfg_errors *errs)
{
	struct conf	*c;
	char		*text;
	size_t		 len;

	if ((text = conf_read_file(path, &len)) == NULL) {
		cfg_error(errs, path, 0, "cannot read: %s", errno == EFBIG ?
		    "file larger than 4 MiB" : strerror(errno));
		return NULL;
	}
	c = conf_load_text(text, len, path, errs);
	free(text);
	return c;
}

void
conf_free(struct conf *c)
{
	uint32_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npools; i++)
		free(c->pools[i].servers);
	free(c->pools);
	free(c->listeners);
	free(c);
}
