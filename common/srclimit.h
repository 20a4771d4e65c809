/*
 * srclimit.h - connections per client address, counted across every
 * worker in the shared table (maxconn_per_source).  Layout (struct
 * shm_srcs) and its reasoning in shm-t.h; the algorithm in srclimit.c.
 *
 * Lock-free: every function is one or a few compare-and-swaps on one
 * 64-bit slot, safe from any process that maps the table.  Nothing here
 * logs.
 */
#ifndef LB_SRCLIMIT_H
#define LB_SRCLIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#include "shm-t.h"

/* What srclimit_acquire() did with one new client. */
enum src_result {
	SRC_OK = 0,		/* counted: *idx is its slot */
	SRC_OVER = 1,		/* the address is at the cap: nothing counted */
	SRC_UNCOUNTED = 2,	/* no slot free near its hash: let through */
};

/* Master, before fork: sets the hash key every process then agrees on. */
void srclimit_init(struct shm_srcs *s, uint64_t seed);

/*
 * Worker `wslot`: counts one more connection from the address of `sa`
 * if it holds fewer than `cap` (1..SHM_SRC_COUNT_MAX).  On SRC_OK *idx
 * is the slot to give back with srclimit_release(); otherwise *idx is
 * SHM_NONE.  A non-IP address is SRC_UNCOUNTED.  SRC_UNCOUNTED because
 * the table is full near the hash also counts s->table_full.
 */
enum src_result srclimit_acquire(struct shm_srcs *s, uint32_t wslot,
    const struct sockaddr *sa, uint32_t cap, uint32_t *idx);

/* Worker `wslot`: the connection counted in slot `idx` ended. */
void srclimit_release(struct shm_srcs *s, uint32_t wslot, uint32_t idx);

/*
 * Master, after reaping the worker of `wslot`: subtracts that worker's
 * share of every slot, so its clients no longer count.  O(SHM_SRC_SLOTS).
 */
void srclimit_worker_release(struct shm_srcs *s, uint32_t wslot);

/* Any process: the home slot of the address of `sa` (tests), or SHM_NONE. */
uint32_t srclimit_home(const struct shm_srcs *s, const struct sockaddr *sa);

/* Any process: connections counted now for the address of `sa`. */
uint32_t srclimit_held(const struct shm_srcs *s, const struct sockaddr *sa);

/* Any process: slots counting at least one connection (addresses now). */
uint32_t srclimit_tracked(const struct shm_srcs *s);

#endif
