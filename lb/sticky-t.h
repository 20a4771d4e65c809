/*
 * sticky-t.h - layout of a pool's sticky table (algorithm "sticky"), one
 * MAP_SHARED region per pool created by the master before it forks the
 * workers that use it.
 *
 * Set-associative: a client hashes to one bucket of STICKY_WAYS entries,
 * guarded by its own robust, process-shared mutex.  A bucket's lock is
 * held for one scan of 8 entries (a few hundred bytes, no system call),
 * so workers contend only when two clients of the same bucket arrive at
 * once, and a worker killed while holding one does not wedge the others
 * (EOWNERDEAD: the bucket is emptied, which only forgets 8 clients).
 * Replacement is least-recently-used within the bucket, which
 * approximates global LRU without any shared list to lock.
 */
#ifndef LB_STICKY_T_H
#define LB_STICKY_T_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define STICKY_MAGIC	0x4c425354u	/* "LBST" */
#define STICKY_WAYS	8
#define STICKY_MAX_CAPACITY	1000000	/* per pool: 40 MB */

struct sticky_entry {
	uint8_t		 addr[16];	/* IPv6, or IPv4 mapped */
	uint32_t	 server;	/* server index; SHM_NONE = free */
	uint32_t	 pad;
	int64_t		 last_ms;	/* monotonic: last placed or used */
};

struct sticky_bucket {
	pthread_mutex_t		lock;	/* robust, process-shared */
	uint8_t			lock_pad[64 - sizeof(pthread_mutex_t) % 64];
	struct sticky_entry	e[STICKY_WAYS];
};

struct sticky_table {
	uint32_t		magic;
	uint32_t		nbuckets;
	uint32_t		capacity;	/* nbuckets * STICKY_WAYS */
	uint32_t		pad0;
	uint64_t		size;		/* bytes mapped */
	_Atomic uint64_t	timeout_ms;	/* master may change it */
	_Atomic uint64_t	entries;	/* occupied slots */
	_Atomic uint64_t	hits;		/* returned to remembered server */
	_Atomic uint64_t	misses;		/* placed by the fallback */
	_Atomic uint64_t	evictions;	/* live entries replaced (LRU) */
	struct sticky_bucket	b[];
};

_Static_assert(sizeof(struct sticky_entry) == 32, "sticky_entry layout");
_Static_assert(sizeof(struct sticky_bucket) % 64 == 0, "buckets aligned");
_Static_assert(sizeof(struct sticky_table) == 64, "sticky_table header");

#endif
