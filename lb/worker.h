/*
 * worker.h - an lbd worker process: a libevent loop that accepts clients
 * and proxies them to servers (sessions, see session.h).
 */
#ifndef LB_WORKER_H
#define LB_WORKER_H

#include <stdint.h>

#include "conf-t.h"
#include "shm-t.h"

/* One listening socket as the worker sees it. */
struct worker_listener {
	int		 fd;		/* non-blocking, already listening */
	uint32_t	 pool_idx;	/* index into shm->pools */
	const char	*name;		/* listener name, for logs */
};

/*
 * Runs in the child right after fork; never returns.
 *   SIGTERM: stop accepting, let sessions finish, exit 0 (the master
 *            enforces the drain timeout).
 *   SIGINT:  close everything, exit 0 at once.
 * It also exits when the master dies (PR_SET_PDEATHSIG and a getppid()
 * check), so no orphan keeps a port.  Exit status 0 means a clean stop.
 */
void worker_main(const struct conf *conf, struct shm_table *t,
    const struct worker_listener *ls, uint32_t nls, uint32_t slot,
    uint32_t generation) __attribute__((noreturn));

#endif
