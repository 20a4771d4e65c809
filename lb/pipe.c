/*
 * pipe.c - the per-worker pool of splice pipes (see pipe.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pipe.h"

int
pipe_pool_init(struct pipe_pool *pp, uint32_t max, uint32_t keep)
{
	if (keep > max)
		keep = max;
	pp->cache = NULL;
	if (keep > 0 && (pp->cache = calloc(keep, sizeof(*pp->cache))) == NULL)
		return -1;
	pp->ncache = 0;
	pp->keep = keep;
	pp->max = max;
	pp->nalive = 0;
	pp->nfail = 0;
	return 0;
}

void
pipe_pool_free(struct pipe_pool *pp)
{
	while (pp->ncache > 0) {
		pp->ncache--;
		close(pp->cache[pp->ncache][0]);
		close(pp->cache[pp->ncache][1]);
		pp->nalive--;
	}
	free(pp->cache);
	pp->cache = NULL;
	pp->keep = 0;
}

int
pipe_get(struct pipe_pool *pp, int fds[2])
{
	if (pp->ncache > 0) {
		pp->ncache--;
		fds[0] = pp->cache[pp->ncache][0];
		fds[1] = pp->cache[pp->ncache][1];
		return 0;
	}
	if (pp->nalive >= pp->max) {
		pp->nfail++;
		errno = EAGAIN;
		return -1;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
		pp->nfail++;
		fds[0] = fds[1] = -1;
		return -1;
	}
	pp->nalive++;
	return 0;
}

void
pipe_put(struct pipe_pool *pp, int fds[2], bool empty)
{
	if (fds[0] == -1)
		return;
	if (empty && pp->ncache < pp->keep) {
		pp->cache[pp->ncache][0] = fds[0];
		pp->cache[pp->ncache][1] = fds[1];
		pp->ncache++;
	} else {
		close(fds[0]);
		close(fds[1]);
		pp->nalive--;
	}
	fds[0] = fds[1] = -1;
}
