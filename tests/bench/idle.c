/*
 * idle.c - `lbbench idle`: opens --conns connections through a target,
 * proves each reaches a backend (one byte sent, the same byte echoed
 * back: a balancer that accepted but never connected upstream would not
 * answer), prints "ready HELD" and holds them, idle, until SIGINT/SIGTERM
 * or --duration.  The benchmark measures the balancer's memory and fds
 * while they are held.  At most PENDING connects are in progress at once,
 * so the target's accept queue is never the thing being measured.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lbbench.h"

#define PENDING		256
#define MAX_EVENTS	256

enum idle_state {
	I_NEW = 0,
	I_CONNECTING,
	I_PROBING,	/* byte sent, waiting for its echo */
	I_HELD,
	I_DONE,		/* failed or closed */
};

struct idle {
	const struct lbb_opts	*o;
	int			ep;
	int			*fd;
	enum idle_state		*st;
	uint64_t		*t0;		/* connect start */
	uint64_t		next, pending, held, failed, closed;
};

static void
drop(struct idle *d, uint32_t i, bool was_held)
{
	close(d->fd[i]);
	d->fd[i] = -1;
	if (d->st[i] != I_HELD && d->st[i] != I_DONE)
		d->pending--;
	d->st[i] = I_DONE;
	if (was_held) {
		d->closed++;
		d->held--;
	} else
		d->failed++;
}

static void
start_more(struct idle *d)
{
	struct epoll_event ev;
	uint32_t i;

	while (d->pending < PENDING && d->next < d->o->conns) {
		i = (uint32_t)d->next++;
		d->fd[i] = lbb_connect(d->o, i);
		if (d->fd[i] == -1) {
			d->st[i] = I_DONE;
			d->failed++;
			continue;
		}
		d->st[i] = I_CONNECTING;
		d->t0[i] = lbb_now();
		d->pending++;
		ev.events = EPOLLOUT | EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->fd[i], &ev) == -1)
			drop(d, i, false);
	}
}

static void
on_event(struct idle *d, uint32_t i)
{
	struct epoll_event ev;
	int err = 0;
	socklen_t el = sizeof(err);
	char c = 'i';

	switch (d->st[i]) {
	case I_CONNECTING:
		if (getsockopt(d->fd[i], SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
		    err != 0 || write(d->fd[i], &c, 1) != 1) {
			drop(d, i, false);
			return;
		}
		d->st[i] = I_PROBING;
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		epoll_ctl(d->ep, EPOLL_CTL_MOD, d->fd[i], &ev);
		return;
	case I_PROBING:
		if (read(d->fd[i], &c, 1) != 1) {
			if (errno != EAGAIN)
				drop(d, i, false);
			return;
		}
		d->st[i] = I_HELD;
		d->pending--;
		d->held++;
		return;
	case I_HELD:
		/* An idle connection only wakes when the peer closes it. */
		if (read(d->fd[i], &c, 1) <= 0 && errno != EAGAIN)
			drop(d, i, true);
		return;
	default:
		return;
	}
}

/* Set-up that takes longer than the timeout fails that connection. */
static void
sweep(struct idle *d, uint64_t now)
{
	uint64_t i;

	for (i = 0; i < d->next; i++)
		if ((d->st[i] == I_CONNECTING || d->st[i] == I_PROBING) &&
		    now - d->t0[i] > d->o->timeout_ns)
			drop(d, (uint32_t)i, false);
}

/* Until every connection is held or failed, the deadline, or a signal. */
static void
idle_loop(struct idle *d, uint64_t deadline, bool setup)
{
	struct epoll_event ev[MAX_EVENTS];
	int n, k;

	while (!lbb_stop && lbb_now() < deadline) {
		if (setup) {
			sweep(d, lbb_now());
			start_more(d);
			if (d->next == d->o->conns && d->pending == 0)
				return;
		}
		n = epoll_wait(d->ep, ev, MAX_EVENTS, 50);
		for (k = 0; k < n; k++)
			on_event(d, ev[k].data.u32);
	}
}

int
lbb_cmd_idle(int argc, char **argv)
{
	struct lbb_opts o;
	struct idle d;
	uint64_t t0, setup_ns, i;

	if (lbb_opts_parse(LBB_CMD_IDLE, argc, argv, &o, NULL) == -1)
		return 1;
	memset(&d, 0, sizeof(d));
	d.o = &o;
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	d.fd = calloc(o.conns, sizeof(*d.fd));
	d.st = calloc(o.conns, sizeof(*d.st));
	d.t0 = calloc(o.conns, sizeof(*d.t0));
	if (d.ep == -1 || d.fd == NULL || d.st == NULL || d.t0 == NULL)
		return 1;
	t0 = lbb_now();
	/* Set-up and hold share one deadline: the run is bounded. */
	idle_loop(&d, t0 + o.duration_ns, true);
	setup_ns = lbb_now() - t0;
	for (i = d.next; i < o.conns; i++)
		d.failed++;
	printf("ready %llu\n", (unsigned long long)d.held);
	fflush(stdout);
	idle_loop(&d, t0 + o.duration_ns, false);
	printf("RESULT test=idle label=%s conns=%llu held=%llu failed=%llu "
	    "closed=%llu setup_s=%.3f\n", o.label ? o.label : "-",
	    (unsigned long long)o.conns, (unsigned long long)d.held,
	    (unsigned long long)d.failed, (unsigned long long)d.closed,
	    (double)setup_ns / 1e9);
	for (i = 0; i < o.conns; i++)
		if (d.st[i] != I_DONE && d.st[i] != I_NEW)
			close(d.fd[i]);
	return 0;
}
