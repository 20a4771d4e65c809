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
#include <sys/socket.h>

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

/*
 * bal_pick() for the connection of `client` (may be NULL: then source
 * and sticky pools pick as their fallback would).  "source" walks the
 * pool's Maglev table from the client's slot to the first usable server
 * (within hash_balance_factor, if set); "sticky" returns the client to
 * its remembered server while that server is up and not in maintenance
 * (a draining one keeps its clients), else places it with the fallback
 * algorithm and remembers the choice.
 */
int bal_pick_for(struct bal_ctx *ctx, uint32_t pool_idx,
    const uint32_t *exclude, size_t nexclude, const struct sockaddr *client);

#endif
