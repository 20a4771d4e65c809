/*
 * conf-t.h - lbd's validated configuration.
 *
 * Flat and self-contained: built by conf_load() in the master and
 * inherited by workers through fork.  Runtime state (fds, events, counts)
 * never lives here; it lives in the worker, the master, or the shared table.
 */
#ifndef LB_CONF_T_H
#define LB_CONF_T_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "shm-t.h"

#define CONF_PATH_MAX	108	/* sun_path */
#define CONF_MAX_LISTENERS	256	/* a bound, like everything else */
#define CONF_MAX_WORKERS	64
#define CONF_MAX_MAXCONN	1000000

#define CONF_USER_MAX	33	/* a user name (32) and its NUL */
#define CONF_HC_DATA_MAX	256	/* bytes of a health check send/expect */

/*
 * Health settings of a pool (health = { ... }), or of one server that
 * overrides some of them.  Parsed and validated by conf_health.c.
 */
struct conf_health {
	bool			enabled;	/* active checks configured */
	bool			initial_up;	/* before the first check */
	bool			on_down_shutdown; /* close sessions at down */
	uint32_t		rise;		/* 1..100, default 2 */
	uint32_t		fall;		/* 1..100, default 3 */
	uint32_t		port;		/* 0 = the traffic port */
	uint32_t		observe_errors;	/* 0..1000, default 5 */
	uint32_t		flap_limit;	/* 0..1000, 0 = off */
	uint64_t		interval_ms;	/* 100ms..1h, default 2s */
	uint64_t		timeout_ms;	/* 10ms..interval, default 1s */
	uint64_t		slowstart_ms;	/* 0..1h, default 0 */
	uint64_t		flap_window_ms;	/* 1s..1d, default 60s */
	uint32_t		send_len;
	uint32_t		expect_len;
	uint8_t			send[CONF_HC_DATA_MAX];
	uint8_t			expect[CONF_HC_DATA_MAX];
};

/* sticky = { timeout; capacity; fallback; } of a sticky pool. */
struct conf_sticky {
	uint64_t		timeout_ms;	/* 1s..7d, default 30m */
	uint32_t		capacity;	/* 8..1000000, default 100000 */
	enum bal_algo		fallback;	/* default leastconn */
};

/*
 * autoscale = { ... } of a pool: the master runs scale_out / scale_in
 * hooks from the pool's load (lb/autoscale.c).  Parsed by conf_autoscale.c.
 */
#define CONF_AS_HOOK_MAX	1024	/* a hook path and its NUL */

struct conf_autoscale {
	bool			enabled;	/* the group is present */
	uint32_t		min_servers;	/* 0..256, default 1 */
	uint32_t		max_servers;	/* min..256, required */
	uint32_t		target;		/* target_active_per_server >= 1 */
	uint64_t		window_ms;	/* 1s..1h, default 30s */
	uint64_t		cooldown_ms;	/* 0..1d, default 2m */
	uint64_t		hook_timeout_ms; /* 1s..1h, default 30s */
	char			scale_out[CONF_AS_HOOK_MAX];	/* absolute */
	char			scale_in[CONF_AS_HOOK_MAX];	/* absolute */
};

struct conf_server {
	char			name[SHM_NAME_MAX];
	char			address[64];	/* as written, for messages */
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	uint32_t		weight;		/* 0..256, default 1 */
	uint32_t		maxconn;	/* 0 = unlimited (default) */
	bool			backup;		/* default false */
	struct conf_health	health;		/* the pool's, overridden */
	uint32_t		send_proxy;	/* enum proxy_send, 0 = pool's */
	int			line;
};

struct conf_pool {
	char			name[SHM_NAME_MAX];
	enum bal_algo		algorithm;	/* default roundrobin */
	uint32_t		retries;	/* 0..16, default 2 */
	struct conf_health	health;		/* health = { ... } */
	uint32_t		hash_key;	/* enum maglev_key, default ip */
	uint32_t		hash_balance_factor; /* percent >= 100, 0 = off */
	struct conf_sticky	sticky;
	uint32_t		send_proxy;	/* enum proxy_send, default none */
	struct conf_autoscale	autoscale;	/* autoscale = { ... } */
	struct conf_server	*servers;
	uint32_t		nservers;	/* 1..SHM_POOL_MAX_SERVERS */
	int			line;
};

struct conf_listener {
	char			name[SHM_NAME_MAX];
	char			bind[64];	/* as written */
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	char			pool[SHM_NAME_MAX];
	uint32_t		pool_idx;	/* index into conf.pools */
	int			backlog;	/* 1..65535, default 4096 */
	bool			freebind;	/* IP_FREEBIND: bind a VIP not yet here */
	bool			accept_proxy;	/* clients start with a PROXY header */
	int			line;
};

struct conf {
	char			path[4096];	/* the file this came from */
	uint32_t		workers;	/* 0 in file = online CPUs; resolved >= 1 */
	uint32_t		maxconn;	/* 1..1000000, default 10000 */
	uint32_t		maxconn_per_source; /* 0..1000000, 0 = off */
	char			control_socket[CONF_PATH_MAX];
	char			state_file[4096]; /* "" = not persisted */
	char			control_group[CONF_USER_MAX]; /* "" = none */
	gid_t			control_gid;	/* (gid_t)-1 = none */
	char			user[CONF_USER_MAX]; /* "" = stay as started */
	int			log_facility;	/* LOG_DAEMON default */
	bool			log_connections; /* default true */
	uint64_t		connect_timeout_ms;	/* default 3s */
	uint64_t		idle_timeout_ms;	/* default 5m */
	uint64_t		drain_timeout_ms;	/* default 30s */
	struct conf_pool	*pools;
	uint32_t		npools;
	struct conf_listener	*listeners;
	uint32_t		nlisteners;
};

#endif
