/*
 * shm.h - the shared-memory table: creation and the accounting every
 * process uses.  Layout in shm-t.h.
 */
#ifndef LB_SHM_H
#define LB_SHM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shm-t.h"

/* Master, before fork: maps and initialises the table.  NULL + errno. */
struct shm_table *shm_create(void);
void shm_destroy(struct shm_table *t);

/*
 * Master: adds a pool; returns its index or -1 (errno ENOSPC when full,
 * EEXIST when the name is taken).
 */
int shm_pool_add(struct shm_table *t, const char *name, enum bal_algo algo,
    uint32_t retries);
/* Index of the pool called `name`, or -1. */
int shm_pool_find(const struct shm_table *t, const char *name);

/*
 * Master: adds a server to pool `pool_idx` (appended, so config order is
 * kept); health starts UP, admin READY, eff_weight = weight.  Returns the
 * server index, or -1 with errno ENOSPC or EEXIST.
 */
int shm_server_add(struct shm_table *t, uint32_t pool_idx, const char *name,
    const struct sockaddr *sa, socklen_t salen, uint32_t weight,
    uint32_t maxconn, bool backup);
/* Index of server `name` in pool `pool_idx`, or -1. */
int shm_server_find(const struct shm_table *t, uint32_t pool_idx,
    const char *name);
/*
 * Master: takes a server out of its pool and frees its slot.  Refused
 * (-1, EBUSY) while it has active connections.
 */
int shm_server_remove(struct shm_table *t, uint32_t server_idx);

/* Master: claims a free worker slot for `pid`; -1 (ENOSPC) when full. */
int shm_worker_claim(struct shm_table *t, int32_t pid, uint32_t generation);
/*
 * Master, after reaping a worker: subtracts whatever that worker still had
 * counted (global, per server) and frees the slot.
 */
void shm_worker_release(struct shm_table *t, uint32_t slot);
/* Slot of `pid`, or -1. */
int shm_worker_find(const struct shm_table *t, int32_t pid);

/*
 * Worker: reserves one global connection under maxconn.  Returns 0, or -1
 * when the global cap is reached (nothing counted then).
 */
int shm_conn_reserve(struct shm_table *t, uint32_t slot);
void shm_conn_release(struct shm_table *t, uint32_t slot);

/*
 * Worker: counts one more active connection on server `idx` if it is below
 * its maxconn.  Returns 0, or -1 when the server is full (nothing counted).
 */
int shm_server_acquire(struct shm_table *t, uint32_t slot, uint32_t idx);
/* Worker: the connection on server `idx` ended. */
void shm_server_release(struct shm_table *t, uint32_t slot, uint32_t idx);

/*
 * True when server `idx` may take a new connection right now: in use,
 * admin READY, health UP, effective weight > 0 and below its maxconn.
 */
bool shm_server_usable(const struct shm_table *t, uint32_t idx);

/* Locks a pool's mutex, recovering it if a dead process held it. */
void shm_pool_lock(struct shm_table *t, uint32_t pool_idx);
void shm_pool_unlock(struct shm_table *t, uint32_t pool_idx);

const char *shm_admin_name(enum shm_admin a);	/* "ready" ... */
const char *shm_health_name(enum shm_health h);	/* "up" / "down" */
const char *bal_algo_name(enum bal_algo a);	/* "roundrobin" ... */
/* enum bal_algo for `name`, or -1. */
int bal_algo_lookup(const char *name);

#endif
