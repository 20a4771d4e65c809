/*
 * shm-t.h - layout of the shared-memory table.
 *
 * One fixed-size region, mapped MAP_SHARED|MAP_ANONYMOUS by the lbd master
 * before it forks workers, so every process sees the same bytes at the same
 * address.  It is the single source of global truth: every balancing
 * decision reads it and every connection is counted in it.
 *
 * Who writes what:
 *   - identity fields (names, address, pool membership, algorithm): the
 *     master only, while holding the pool lock;
 *   - admin, weight, maxconn: the master (config, control socket);
 *   - health: the master's checker (and workers for passive detection);
 *   - active counts and totals: workers, with atomic adds;
 *   - smooth round-robin state (rr_current): whoever holds the pool lock.
 *
 * Every worker has a slot; it counts its own share of each server's active
 * connections in that slot, so when a worker dies the master subtracts the
 * dead slot's shares from the global counts and the table never drifts.
 *
 * Servers are never moved: a server is an index into servers[] that stays
 * valid for the life of the master.  A pool lists its servers by index in
 * config order.
 */
#ifndef LB_SHM_T_H
#define LB_SHM_T_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#define SHM_MAGIC		0x4c425348u	/* "LBSH" */
#define SHM_VERSION		1u
#define SHM_NAME_MAX		48	/* pool/server/listener names, with NUL */
#define SHM_MAX_POOLS		64
#define SHM_MAX_SERVERS		1024	/* across all pools */
#define SHM_POOL_MAX_SERVERS	256
#define SHM_MAX_WORKERS		128	/* slots; old + new generation on reload */
#define SHM_NONE		UINT32_MAX

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "lock-free 32-bit atomics");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "lock-free 64-bit atomics");

enum shm_admin {
	SHM_ADMIN_READY = 0,	/* takes new connections */
	SHM_ADMIN_DRAIN = 1,	/* keeps existing ones, takes no new ones */
	SHM_ADMIN_MAINT = 2,	/* no traffic, no health checks */
};

enum shm_health {
	SHM_HEALTH_UP = 0,
	SHM_HEALTH_DOWN = 1,
};

/* Outcome of the last active health check of a server. */
enum shm_check {
	SHM_CHECK_NONE = 0,		/* never checked */
	SHM_CHECK_OK = 1,
	SHM_CHECK_REFUSED = 2,		/* connect refused */
	SHM_CHECK_CONNECT_TIMEOUT = 3,	/* no connect within timeout */
	SHM_CHECK_TIMEOUT = 4,		/* expect not seen within timeout */
	SHM_CHECK_CLOSED = 5,		/* closed before expect was seen */
	SHM_CHECK_RESET = 6,		/* reset by the server */
	SHM_CHECK_TOO_LONG = 7,		/* read bound hit without expect */
	SHM_CHECK_ERROR = 8,		/* any other socket error */
	SHM_CHECK__COUNT
};

enum bal_algo {
	BAL_ROUNDROBIN = 0,	/* smooth weighted, one global sequence */
	BAL_RANDOM = 1,		/* uniform weighted */
	BAL_LEASTCONN = 2,	/* fewest active / weight, ties round-robin */
	BAL_P2C = 3,		/* power of two random choices */
	BAL_FIRST = 4,		/* first usable in config order */
	BAL_SOURCE = 5,		/* consistent hash of the client (Maglev) */
	BAL_STICKY = 6,		/* remembered per client, else a fallback */
	BAL__COUNT
};

struct shm_server {
	/* Identity: master only. */
	char			pool[SHM_NAME_MAX];
	char			name[SHM_NAME_MAX];
	struct sockaddr_storage	addr;
	uint32_t		addrlen;
	uint32_t		pool_idx;
	_Atomic uint32_t	in_use;		/* 0: free slot / removed */
	uint32_t		backup;		/* 1: used only when no primary is */

	/* Steering: master. */
	_Atomic uint32_t	admin;		/* enum shm_admin */
	_Atomic uint32_t	health;		/* enum shm_health */
	_Atomic uint32_t	weight;		/* configured, 0..256 */
	_Atomic uint32_t	eff_weight;	/* what balancing uses (slow start) */
	_Atomic uint32_t	maxconn;	/* 0 = unlimited */
	_Atomic uint32_t	consec_failures; /* passive detection */

	/* Load: workers, atomic adds. */
	_Atomic int32_t		active;		/* across all workers */
	uint32_t		pad0;
	_Atomic uint64_t	conns_total;
	_Atomic uint64_t	failures;	/* failed connects */
	_Atomic uint64_t	bytes_in;	/* client -> server */
	_Atomic uint64_t	bytes_out;	/* server -> client */
	_Atomic int64_t		last_check_ms;	/* wall clock, 0 = never */
	_Atomic int64_t		last_change_ms;	/* wall clock */

	/* Smooth weighted round robin: under the pool lock. */
	int64_t			rr_current;

	/*
	 * Health check state: written by the master's checker (health.c),
	 * read by lbctl and, for the slow-start ramp and down_epoch, by
	 * workers.  Every field is valid at zero, because shm_server_fill()
	 * clears `reserved` when a slot is (re)used.
	 */
	union {
		struct {
			_Atomic uint32_t check_result;	/* enum shm_check */
			_Atomic uint32_t check_ms;	/* last check's duration */
			_Atomic uint32_t check_succ;	/* consecutive passes */
			_Atomic uint32_t check_fail;	/* consecutive failures */
			_Atomic uint32_t flaps;		/* changes in flap window */
			_Atomic uint32_t penalty;	/* rise multiplier, 0 = 1 */
			_Atomic uint32_t ramp_permille;	/* slow start 1..999, 0 = off */
			_Atomic uint32_t down_epoch;	/* +1 at each down */
			_Atomic uint32_t on_down_shutdown; /* 1: close sessions */
			_Atomic uint32_t checked;	/* 1: active checks run */
			_Atomic int64_t	 ramp_start_ms;	/* wall clock, 0 = none */
			_Atomic uint32_t transitions;	/* state changes, total */
			/* enum proxy_send (lb/proxy.h), 0 = the pool's. */
			_Atomic uint32_t send_proxy;
			uint32_t	 hc_pad[2];
		};
		uint8_t		reserved[64];
	};
};

struct shm_pool {
	char			name[SHM_NAME_MAX];
	_Atomic uint32_t	in_use;
	uint32_t		algorithm;	/* enum bal_algo */
	uint32_t		retries;
	_Atomic uint32_t	nservers;	/* valid entries in servers[] */
	uint32_t		servers[SHM_POOL_MAX_SERVERS]; /* server indexes */
	pthread_mutex_t		lock;		/* robust, process-shared */
	uint8_t			lock_pad[64 - sizeof(pthread_mutex_t) % 64];
	_Atomic uint64_t	rr_seq;		/* tie-break offset for leastconn */
	_Atomic uint64_t	conns_total;
	_Atomic uint64_t	no_server;	/* clients closed: nothing usable */
	union {
		struct {
			/* Rate limit of the no_server log line, all workers. */
			_Atomic int64_t	 nosrv_next_ms;	/* monotonic */
			_Atomic uint64_t nosrv_logged;	/* no_server then */
			/* Balancing by client (maglev.c, sticky.c): master. */
			uint32_t	 hash_key;	/* 0 = ip, 1 = ip_port */
			uint32_t	 hash_factor;	/* percent, 0 = off */
			uint32_t	 sticky_fallback; /* enum bal_algo */
			uint32_t	 send_proxy;	/* enum proxy_send */
			/* Malformed PROXY headers from clients: workers. */
			_Atomic uint64_t proxy_bad;
			_Atomic int64_t	 proxy_next_ms;	/* log rate limit */
			_Atomic uint64_t proxy_logged;
		};
		uint8_t		reserved[64];
	};
};

struct shm_worker {
	_Atomic int32_t		pid;		/* 0 = free slot */
	uint32_t		generation;
	int64_t			started_ms;	/* wall clock */
	_Atomic int32_t		active;		/* this worker's sessions */
	uint32_t		pad0;
	_Atomic uint64_t	conns_total;
	/* This worker's share of servers[i].active. */
	_Atomic int32_t		server_active[SHM_MAX_SERVERS];
};

/*
 * Maglev lookup table of one pool (algorithm "source"), built by the
 * master (lb/maglev.c) and read by workers without a lock.  Two buffers:
 * the master fills the one workers are not reading, then flips `cur`
 * (release), so a reader never sees a half-built table.  Entries are
 * server indexes (or SHM_MAGLEV_EMPTY); a reader racing two flips may
 * mix entries of two tables, each a valid index it re-checks anyway.
 * Pages of pools that never use "source" are never touched, so the
 * 16 MiB for 64 pools cost no memory until used.
 */
#define SHM_MAGLEV_SIZE		65537	/* prime, as in the Maglev paper */
#define SHM_MAGLEV_EMPTY	0xffffu

struct shm_maglev {
	_Atomic uint32_t	cur;		/* buffer workers read: 0 or 1 */
	uint32_t		nservers;	/* members in the current one */
	uint64_t		fp;		/* membership it was built from */
	_Atomic uint64_t	builds;		/* 0 = never built */
	uint16_t		slot[2][SHM_MAGLEV_SIZE];
	uint16_t		pad[2];
};

_Static_assert(sizeof(struct shm_maglev) % 8 == 0, "shm_maglev aligned");
_Static_assert(SHM_MAX_SERVERS < SHM_MAGLEV_EMPTY, "indexes fit uint16");

/*
 * Per-source connection counts (maxconn_per_source, common/srclimit.c).
 * Each slot is one 64-bit word, (40-bit tag of the client address's hash)
 * << 24 | (24-bit count), so a slot is claimed, counted and freed with a
 * single compare-and-swap: no lock, and a count of 0 is a free slot
 * whatever its tag.  An address lives in one of SHM_SRC_PROBES slots from
 * its hash (linear probing); when all of them hold other addresses the
 * client is let through uncounted (table_full).
 *
 * share[w][i] is worker slot w's part of slot i's count (written by that
 * worker only), so the master takes a dead worker's part back
 * (shm_worker_release) and the counts never drift.  The shares are
 * 8 MiB of address space, but a page costs memory only once a worker
 * counts a client in it.
 */
#define SHM_SRC_SLOTS		16384	/* power of two */
#define SHM_SRC_PROBES		16
#define SHM_SRC_COUNT_BITS	24
#define SHM_SRC_COUNT_MAX	((1u << SHM_SRC_COUNT_BITS) - 1)

struct shm_srcs {
	_Atomic uint32_t	maxconn_per_source; /* 0 = off: master */
	uint32_t		pad0;
	uint64_t		seed;		/* hash key, set at start */
	_Atomic uint64_t	rejects;	/* clients closed over the cap */
	_Atomic uint64_t	table_full;	/* let through uncounted */
	_Atomic int64_t		log_next_ms;	/* rate limit of the log line */
	_Atomic uint64_t	logged;
	uint8_t			reserved[16];
	_Atomic uint64_t	slot[SHM_SRC_SLOTS];
	_Atomic int32_t		share[SHM_MAX_WORKERS][SHM_SRC_SLOTS];
};

_Static_assert((SHM_SRC_SLOTS & (SHM_SRC_SLOTS - 1)) == 0,
    "SHM_SRC_SLOTS is a power of two");
_Static_assert(sizeof(struct shm_srcs) == 64 + 8 * SHM_SRC_SLOTS +
    4 * SHM_MAX_WORKERS * SHM_SRC_SLOTS, "shm_srcs layout");

struct shm_table {
	uint32_t		magic;
	uint32_t		version;
	uint64_t		size;		/* sizeof(struct shm_table) */
	_Atomic int32_t		active;		/* all proxied connections */
	_Atomic uint32_t	maxconn;	/* global cap, 0 = unlimited */
	_Atomic uint64_t	conns_total;
	_Atomic uint64_t	maxconn_rejects; /* clients closed at global cap */
	_Atomic uint32_t	generation;
	uint32_t		pad0;
	int64_t			started_ms;	/* wall clock */
	uint8_t			reserved[64];
	struct shm_pool		pools[SHM_MAX_POOLS];
	struct shm_server	servers[SHM_MAX_SERVERS];
	struct shm_worker	workers[SHM_MAX_WORKERS];
	struct shm_maglev	maglev[SHM_MAX_POOLS];	/* by pool index */
	struct shm_srcs		srcs;		/* maxconn_per_source */
};

_Static_assert(sizeof(struct shm_server) % 8 == 0, "shm_server aligned");
_Static_assert(sizeof(((struct shm_pool *)0)->reserved) == 64,
    "pool extras fit their 64 bytes");
_Static_assert(sizeof(((struct shm_server *)0)->reserved) == 64,
    "health state fits the 64 bytes shm_server_fill clears");
_Static_assert(sizeof(struct shm_worker) ==
    24 + 8 + 4 * SHM_MAX_SERVERS, "shm_worker layout");

#endif
