/*
 * sticky.h - the sticky table of algorithm "sticky": client address ->
 * server, with an expiry refreshed on use, shared by all workers.
 * Layout and concurrency in sticky-t.h.
 *
 * Every function that reads time takes `now` (monotonic ms), so tests
 * inject it.
 */
#ifndef LB_STICKY_H
#define LB_STICKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf-t.h"
#include "sticky-t.h"

/*
 * Maps and initialises a table of at least `capacity` entries (rounded
 * up to whole buckets).  Created before fork, so children share it.
 * Returns NULL with errno.
 */
struct sticky_table *sticky_create(uint32_t capacity, uint64_t timeout_ms);
void sticky_destroy(struct sticky_table *st);

/*
 * The server remembered for the client at `sa` (its IP; the port is not
 * part of the key), refreshing its expiry; SHM_NONE when there is none
 * or it has expired.
 */
uint32_t sticky_get(struct sticky_table *st, const struct sockaddr *sa,
    int64_t now);
/*
 * Remembers `server` for the client at `sa`: updates its entry, or takes
 * a free or expired slot of its bucket, or else evicts the bucket's
 * least recently used entry.  Memory never grows.
 */
void sticky_put(struct sticky_table *st, const struct sockaddr *sa,
    uint32_t server, int64_t now);
/* Forgets the client at `sa`, or every client when sa is NULL; count. */
size_t sticky_clear(struct sticky_table *st, const struct sockaddr *sa);
/* Counts one pick: hit (remembered server used) or miss. */
void sticky_count(struct sticky_table *st, bool hit);

/* Calls fn for each live entry (matching sa if not NULL); returns count. */
size_t sticky_walk(struct sticky_table *st, const struct sockaddr *sa,
    int64_t now, void (*fn)(const struct sticky_entry *, int64_t left_ms,
    void *), void *arg);

/*
 * Per-process registry: the table of shared-table pool `pool_idx`, or
 * NULL.  Set by the master before fork, so each worker sees the tables
 * of its own generation (an old worker keeps its own mapping).
 */
struct sticky_table *sticky_of(uint32_t pool_idx);
/*
 * Master, at start and reload: gives pool `pool_idx` a table when `cp`
 * is sticky (keeping the existing one, entries and counters, when the
 * capacity is unchanged; moving live entries to a new one when it
 * changed), or drops it when not.  Returns 0, or -1 with errno.
 */
int sticky_pool_setup(uint32_t pool_idx, const struct conf_pool *cp,
    int64_t now);

#endif
