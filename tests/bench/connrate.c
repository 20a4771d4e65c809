/*
 * connrate.c - the connection-per-request engine: each request is a new
 * TCP connection (connect, send `size` bytes, read the same number back,
 * close).  Closed loop keeps `concurrency` requests in flight; open loop
 * starts one every 1/rate seconds on a fixed schedule whatever the
 * answers do, and measures each latency from its scheduled start, so a
 * stall shows up as latency instead of as fewer requests ("coordinated
 * omission").  When every slot is busy an open-loop start is dropped and
 * counted as an error.  Single thread, epoll, non-blocking.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "lbbench.h"

#define MAX_EVENTS	512
#define SWEEP_NS	5000000u	/* timeout scan period */
#define MAX_SIZE	65536u

enum slot_state {
	S_FREE = 0,
	S_SENDING,	/* connect in progress or request partly written */
	S_READING,
};

struct slot {
	int		fd;
	enum slot_state	state;
	uint32_t	done;	/* bytes sent (SENDING) or read (READING) */
	uint64_t	sched;	/* scheduled start, ns */
};

struct cr {
	const struct lbb_opts	*o;
	struct lbb_result	*r;
	struct slot		*slot;
	uint32_t		*freel;
	size_t			nslot, nfree;
	int			ep;
	uint64_t		seq;		/* connections started */
	uint64_t		t0, t_rec, t_end, t_stop;
	uint64_t		inflight;
	bool			sched_open;	/* still starting requests */
	char			*buf;
};

/* Accounts a request that ended (ok or not) and frees its slot. */
static void
finish(struct cr *c, uint32_t i, bool ok, uint64_t now)
{
	struct slot *s = &c->slot[i];

	if (s->fd != -1)
		close(s->fd);
	if (s->sched >= c->t_rec) {
		if (ok) {
			c->r->ok++;
			lbb_hist_add(&c->r->hist, now - s->sched);
		} else
			c->r->errors++;
	}
	s->state = S_FREE;
	s->fd = -1;
	c->freel[c->nfree++] = i;
	c->inflight--;
}

/* Starts request number c->seq scheduled at sched.  */
static void
start(struct cr *c, uint64_t sched)
{
	struct epoll_event ev;
	struct slot *s;
	uint32_t i;
	uint64_t seq = c->seq++;
	ssize_t n;

	if (sched >= c->t_rec)
		c->r->scheduled++;
	if (c->nfree == 0) {
		if (sched >= c->t_rec) {
			c->r->errors++;
			c->r->dropped++;
		}
		return;
	}
	i = c->freel[--c->nfree];
	s = &c->slot[i];
	s->sched = sched;
	s->done = 0;
	s->state = S_SENDING;
	c->inflight++;
	s->fd = lbb_connect(c->o, seq);
	if (s->fd == -1) {
		finish(c, i, false, lbb_now());
		return;
	}
	/*
	 * On loopback the handshake usually completes inside connect(), so
	 * try the request now: it saves a wake-up and two syscalls per
	 * connection on the CPU the load shares with the backends.
	 */
	n = write(s->fd, c->buf, c->o->size);
	if (n > 0)
		s->done = (uint32_t)n;
	if (s->done == c->o->size) {
		s->state = S_READING;
		s->done = 0;
	}
	ev.events = s->state == S_READING ? EPOLLIN : EPOLLOUT | EPOLLIN;
	ev.data.u32 = i;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, s->fd, &ev) == -1)
		finish(c, i, false, lbb_now());
}

/* Writable: the connect finished (or failed); send what is left. */
static void
on_send(struct cr *c, uint32_t i)
{
	struct slot *s = &c->slot[i];
	struct epoll_event ev;
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 || err) {
		finish(c, i, false, lbb_now());
		return;
	}
	n = write(s->fd, c->buf + s->done, c->o->size - s->done);
	if (n == -1) {
		if (errno != EAGAIN)
			finish(c, i, false, lbb_now());
		return;
	}
	s->done += (uint32_t)n;
	if (s->done < c->o->size)
		return;
	s->state = S_READING;
	s->done = 0;
	ev.events = EPOLLIN;
	ev.data.u32 = i;
	if (epoll_ctl(c->ep, EPOLL_CTL_MOD, s->fd, &ev) == -1)
		finish(c, i, false, lbb_now());
}

static void
on_read(struct cr *c, uint32_t i)
{
	struct slot *s = &c->slot[i];
	char tmp[MAX_SIZE];
	ssize_t n;

	n = read(s->fd, tmp, sizeof(tmp));
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		finish(c, i, false, lbb_now());
		return;
	}
	s->done += (uint32_t)n;
	if (s->done >= c->o->size)
		finish(c, i, true, lbb_now());
}

static void
on_event(struct cr *c, const struct epoll_event *ev)
{
	uint32_t i = ev->data.u32;

	if (i >= c->nslot || c->slot[i].state == S_FREE)
		return;
	if (c->slot[i].state == S_SENDING)
		on_send(c, i);
	else
		on_read(c, i);
}

/* Ends requests older than the timeout. */
static void
sweep(struct cr *c, uint64_t now)
{
	size_t i;

	for (i = 0; i < c->nslot; i++)
		if (c->slot[i].state != S_FREE &&
		    now - c->slot[i].sched > c->o->timeout_ns)
			finish(c, (uint32_t)i, false, now);
}

/*
 * Starts what the schedule asks for up to now: in open loop every start
 * whose time has come, in closed loop enough to refill the slots.  Returns
 * the time of the next scheduled start (open loop) or now + SWEEP_NS.
 */
static uint64_t
fill(struct cr *c, uint64_t now)
{
	double per = c->o->rate > 0 ? 1e9 / c->o->rate : 0;
	uint64_t due, k;

	if (!c->sched_open)
		return now + SWEEP_NS;
	if (now >= c->t_end || c->r->scheduled >= c->o->max_requests ||
	    lbb_stop) {
		c->sched_open = false;
		c->t_stop = now < c->t_end ? now : c->t_end;
		return now + SWEEP_NS;
	}
	if (per == 0) {
		/* Bounded: a refused connect frees its slot at once. */
		for (k = 0; k < c->o->concurrency &&
		    c->inflight < c->o->concurrency &&
		    c->r->scheduled < c->o->max_requests; k++)
			start(c, now);
		return now + SWEEP_NS;
	}
	for (;;) {
		due = c->t0 + (uint64_t)((double)c->seq * per);
		if (due > now || due >= c->t_end ||
		    c->r->scheduled >= c->o->max_requests)
			return due;
		start(c, due);
	}
}

static int
cr_setup(struct cr *c, const struct lbb_opts *o, struct lbb_result *r)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->ep = -1;
	c->o = o;
	c->r = r;
	c->nslot = o->rate > 0 ? o->max_inflight : o->concurrency;
	if (c->nslot == 0 || o->size == 0 || o->size > MAX_SIZE)
		return -1;
	c->slot = calloc(c->nslot, sizeof(*c->slot));
	c->freel = calloc(c->nslot, sizeof(*c->freel));
	c->buf = malloc(o->size);
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->slot == NULL || c->freel == NULL || c->buf == NULL ||
	    c->ep == -1)
		return -1;
	memset(c->buf, 'q', o->size);
	for (i = 0; i < c->nslot; i++)
		c->freel[c->nfree++] = (uint32_t)(c->nslot - 1 - i);
	return 0;
}

static void
cr_free(struct cr *c)
{
	size_t i;

	for (i = 0; c->slot != NULL && i < c->nslot; i++)
		if (c->slot[i].state != S_FREE)
			close(c->slot[i].fd);
	if (c->ep != -1)
		close(c->ep);
	free(c->slot);
	free(c->freel);
	free(c->buf);
}

/*
 * Runs one measurement: warm-up, then duration (or max_requests starts),
 * then waits up to the timeout for the requests in flight; any left then
 * count as errors.  Fills *r.  Returns 0, or -1 when set-up failed.
 */
int
lbb_connrate_run(const struct lbb_opts *o, struct lbb_result *r)
{
	struct epoll_event ev[MAX_EVENTS];
	struct timespec ts;
	struct cr c;
	uint64_t now, next, last_sweep = 0;
	int n, k;

	memset(r, 0, sizeof(*r));
	lbb_hist_init(&r->hist);
	if (cr_setup(&c, o, r) == -1) {
		cr_free(&c);
		return -1;
	}
	c.t0 = lbb_now();
	c.t_rec = c.t0 + o->warmup_ns;
	c.t_end = c.t_rec + o->duration_ns;
	c.sched_open = true;
	for (;;) {
		now = lbb_now();
		next = fill(&c, now);
		if (!c.sched_open && (c.inflight == 0 ||
		    now > c.t_stop + o->timeout_ns))
			break;
		if (now - last_sweep > SWEEP_NS) {
			sweep(&c, now);
			last_sweep = now;
		}
		if (next > now + SWEEP_NS)
			next = now + SWEEP_NS;
		ts.tv_sec = 0;
		ts.tv_nsec = next > now ? (long)(next - now) : 0;
		n = epoll_pwait2(c.ep, ev, MAX_EVENTS, &ts, NULL);
		for (k = 0; k < n; k++)
			on_event(&c, &ev[k]);
	}
	for (k = 0; k < (int)c.nslot; k++)
		if (c.slot[k].state != S_FREE && c.slot[k].sched >= c.t_rec)
			r->errors++;
	r->seconds = c.t_stop > c.t_rec ? (double)(c.t_stop - c.t_rec) / 1e9 : 0;
	cr_free(&c);
	return 0;
}
