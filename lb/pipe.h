/*
 * pipe.h - a bounded per-worker pool of pipes for splice(2).
 *
 * A session takes a pipe only while one direction has bytes in flight and
 * gives it back as soon as that pipe is empty again, so idle connections
 * hold no pipe (HAProxy's splice-auto idea).  Empty pipes are cached for
 * reuse up to `keep`; at most `max` pipes exist at once, so 2 * max fds is
 * the pool's worst case.  A pipe is an int[2]: [0] read end, [1] write end,
 * both O_NONBLOCK|O_CLOEXEC.  Worker process only; never logs.
 */
#ifndef LB_PIPE_H
#define LB_PIPE_H

#include <stdbool.h>
#include <stdint.h>

struct pipe_pool {
	int		(*cache)[2];	/* empty pipes ready for reuse */
	uint32_t	 ncache;
	uint32_t	 keep;		/* capacity of cache[] */
	uint32_t	 max;		/* alive at once (cached + lent) */
	uint32_t	 nalive;
	uint64_t	 nfail;		/* pipe_get refusals, for debugging */
};

/* Sets up an empty pool.  Returns 0, or -1 with errno ENOMEM. */
int pipe_pool_init(struct pipe_pool *pp, uint32_t max, uint32_t keep);
/* Closes every cached pipe and frees the cache (lent pipes stay open). */
void pipe_pool_free(struct pipe_pool *pp);

/*
 * Fills fds with an empty pipe, cached or new.  Returns 0, or -1 with
 * errno EAGAIN (pool at its bound), EMFILE/ENFILE/ENOMEM (pipe2 failed).
 */
int pipe_get(struct pipe_pool *pp, int fds[2]);

/*
 * Gives a lent pipe back and sets fds to -1.  A pipe that still holds
 * bytes (`empty` false) is closed instead of cached, so no stale bytes
 * can ever reach another connection.  No-op when fds[0] is -1.
 */
void pipe_put(struct pipe_pool *pp, int fds[2], bool empty);

#endif
