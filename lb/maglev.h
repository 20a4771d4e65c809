/*
 * maglev.h - consistent hashing of clients for algorithm "source": a
 * Maglev lookup table per pool (Eisenbud et al., NSDI 2016, section 3.4),
 * with weights.
 *
 * The master builds each table (maglev_refresh) when the pool's
 * membership or weights change and publishes it in the shared table;
 * workers only read it (maglev_slot), never build one.  Health and admin
 * state are deliberately not part of the table: a server that is down,
 * drained or full is skipped at lookup, to the next slot in table order,
 * so only its own clients move and they come back when it does.
 */
#ifndef LB_MAGLEV_H
#define LB_MAGLEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shm-t.h"

/* Pool hash_key values (shm_pool.hash_key). */
enum maglev_key {
	MAGLEV_KEY_IP = 0,
	MAGLEV_KEY_IP_PORT = 1,
};

/*
 * Pure: fills out[0..m) with backend positions 0..n-1, each backend
 * claiming slots in the order of its own permutation (offset, skip from
 * hash[i]) and taking turns in proportion to weight[i] (> 0).  m must be
 * prime and n in 1..SHM_POOL_MAX_SERVERS.  Returns 0, or -1 (EINVAL).
 * O(m log m) expected.
 */
int maglev_populate(const uint64_t *hash, const uint32_t *weight, uint32_t n,
    uint16_t *out, uint32_t m);

/* Stable 64-bit hash of a server name (the same in every process). */
uint64_t maglev_hash_name(const char *name);
/*
 * Hash of a client address: the IP (an IPv4-mapped IPv6 address hashes
 * as the IPv4 one), and the port too for MAGLEV_KEY_IP_PORT.
 */
uint64_t maglev_hash_addr(const struct sockaddr *sa, enum maglev_key key);

/*
 * Master: rebuilds the table of every "source" pool whose members
 * (servers in use, not backup, weight > 0: index, name, weight) changed
 * since its last build.  Cheap when nothing changed (a fingerprint per
 * pool), so it runs on every master tick.
 */
void maglev_refresh(struct shm_table *t);

/*
 * Worker: the server index in pool `pool_idx`'s table `step` slots after
 * the slot of `key`, or SHM_NONE (table not built, or empty).  Lock-free.
 */
uint32_t maglev_slot(const struct shm_table *t, uint32_t pool_idx,
    uint64_t key, uint32_t step);

#endif
