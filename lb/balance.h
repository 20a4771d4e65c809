/*
 * balance.h - choosing a server for a new connection.
 *
 * Every algorithm reads the shared table, so decisions are global across
 * workers.  A pick also counts the connection on the chosen server
 * (shm_server_acquire), atomically with the maxconn check, so two workers
 * can never both take a server's last free place.
 */
#ifndef LB_BALANCE_H
#define LB_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "shm-t.h"

#define BAL_MAX_TRIES	17	/* 1 + the largest `retries` allowed */

/* Per-worker balancing context. */
struct bal_ctx {
	struct shm_table	*t;
	uint32_t		 slot;	/* this worker's slot */
	uint64_t		 rng;	/* xorshift state, never 0 */
};

/* Seeds ctx->rng from getrandom(), falling back to time and pid. */
void bal_ctx_init(struct bal_ctx *ctx, struct shm_table *t, uint32_t slot);

/*
 * Picks a usable server of pool `pool_idx` that is not in exclude[0..n),
 * using the pool's algorithm; backups are considered only when no primary
 * server is usable.  On success the connection is already counted on the
 * server (release it with shm_server_release) and its index is returned.
 * Returns -1 when nothing is usable; the caller counts no_server.
 */
int bal_pick(struct bal_ctx *ctx, uint32_t pool_idx,
    const uint32_t *exclude, size_t nexclude);

#endif
