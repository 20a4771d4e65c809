/*
 * latency.c - the persistent-connection engine: `conns` kept-alive
 * connections, requests of `size` bytes sent on a fixed open-loop schedule
 * (one every 1/rate seconds, round robin over the connections, pipelined
 * when a connection still waits for an earlier answer), each latency
 * measured from its scheduled send time to the last byte of its echo.
 * The echo keeps order, so a FIFO of scheduled times per connection is
 * enough to match answers to requests.  A request that finds its
 * connection's FIFO full (RING requests outstanding) or dead is dropped
 * and counted as an error; a connection whose oldest request is older
 * than the timeout is closed and its requests counted as errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "lbbench.h"

#define RING		256
#define MAX_EVENTS	256
#define SWEEP_NS	5000000u
#define WBUF		65536u

struct pconn {
	int		fd;
	bool		out;		/* EPOLLOUT wanted */
	uint32_t	head, n;	/* FIFO of scheduled times */
	uint64_t	wpend;		/* request bytes still to write */
	uint64_t	rgot;		/* bytes of the current answer read */
	uint64_t	ring[RING];
};

struct lat {
	const struct lbb_opts	*o;
	struct lbb_result	*r;
	struct pconn		*c;
	int			ep;
	uint64_t		seq, t0, t_rec, t_end, t_stop;
	uint64_t		outstanding;
	char			wbuf[WBUF];
};

static void
account(struct lat *l, uint64_t sched, bool ok, uint64_t now)
{
	if (sched < l->t_rec)
		return;
	if (ok) {
		l->r->ok++;
		lbb_hist_add(&l->r->hist, now - sched);
	} else
		l->r->errors++;
}

/* Closes a broken connection; its outstanding requests are errors. */
static void
kill_conn(struct lat *l, struct pconn *p, uint64_t now)
{
	while (p->n > 0) {
		account(l, p->ring[p->head], false, now);
		p->head = (p->head + 1) % RING;
		p->n--;
		l->outstanding--;
	}
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
}

static void
want_out(struct lat *l, struct pconn *p, bool on)
{
	struct epoll_event ev;

	if (p->out == on)
		return;
	p->out = on;
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.ptr = p;
	epoll_ctl(l->ep, EPOLL_CTL_MOD, p->fd, &ev);
}

/* Writes pending request bytes until done or the socket is full. */
static void
flush(struct lat *l, struct pconn *p)
{
	ssize_t w;

	while (p->wpend > 0) {
		w = write(p->fd, l->wbuf, p->wpend < WBUF ? p->wpend : WBUF);
		if (w == -1) {
			if (errno == EAGAIN) {
				want_out(l, p, true);
				return;
			}
			kill_conn(l, p, lbb_now());
			return;
		}
		p->wpend -= (uint64_t)w;
	}
	want_out(l, p, false);
}

static void
send_req(struct lat *l, uint64_t sched)
{
	struct pconn *p = &l->c[l->seq++ % l->o->conns];

	if (sched >= l->t_rec)
		l->r->scheduled++;
	if (p->fd == -1 || p->n == RING) {
		if (sched >= l->t_rec) {
			l->r->errors++;
			l->r->dropped++;
		}
		return;
	}
	p->ring[(p->head + p->n) % RING] = sched;
	p->n++;
	l->outstanding++;
	p->wpend += l->o->size;
	flush(l, p);
}

static void
on_read(struct lat *l, struct pconn *p)
{
	char tmp[65536];
	ssize_t n;
	uint64_t now, take;

	n = read(p->fd, tmp, sizeof(tmp));
	if (n == -1 && errno == EAGAIN)
		return;
	now = lbb_now();
	if (n <= 0) {
		kill_conn(l, p, now);
		return;
	}
	while (n > 0 && p->n > 0) {
		take = l->o->size - p->rgot;
		if (take > (uint64_t)n)
			take = (uint64_t)n;
		p->rgot += take;
		n -= (ssize_t)take;
		if (p->rgot == l->o->size) {
			account(l, p->ring[p->head], true, now);
			p->head = (p->head + 1) % RING;
			p->n--;
			l->outstanding--;
			p->rgot = 0;
		}
	}
}

static void
sweep(struct lat *l, uint64_t now)
{
	uint64_t i;

	for (i = 0; i < l->o->conns; i++) {
		struct pconn *p = &l->c[i];

		if (p->fd != -1 && p->n > 0 &&
		    now - p->ring[p->head] > l->o->timeout_ns)
			kill_conn(l, p, now);
	}
}

/*
 * Opens every connection and waits (bounded by the timeout) until all are
 * established.  Returns 0, or -1 after printing why.
 */
static int
open_all(struct lat *l)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t i, up = 0, deadline = lbb_now() + l->o->timeout_ns;
	int n, k, err;
	socklen_t el;

	for (i = 0; i < l->o->conns; i++) {
		struct pconn *p = &l->c[i];

		p->fd = lbb_connect(l->o, i);
		if (p->fd == -1) {
			perror("lbbench: connect");
			return -1;
		}
		p->out = true;
		ev[0].events = EPOLLOUT;
		ev[0].data.ptr = p;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, p->fd, &ev[0]) == -1)
			return -1;
	}
	while (up < l->o->conns && lbb_now() < deadline && !lbb_stop) {
		n = epoll_wait(l->ep, ev, MAX_EVENTS, 10);
		for (k = 0; k < n; k++) {
			struct pconn *p = ev[k].data.ptr;

			el = sizeof(err);
			if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err,
			    &el) == -1 || err != 0) {
				fprintf(stderr, "lbbench: connect: %s\n",
				    strerror(err));
				return -1;
			}
			want_out(l, p, false);
			up++;
		}
	}
	if (up < l->o->conns)
		fprintf(stderr, "lbbench: %llu of %llu connections up\n",
		    (unsigned long long)up, (unsigned long long)l->o->conns);
	return up == l->o->conns ? 0 : -1;
}

static void
lat_free(struct lat *l)
{
	uint64_t i;

	for (i = 0; l->c != NULL && i < l->o->conns; i++)
		if (l->c[i].fd != -1)
			close(l->c[i].fd);
	free(l->c);
	if (l->ep != -1)
		close(l->ep);
	free(l);
}

static void
lat_loop(struct lat *l)
{
	struct epoll_event ev[MAX_EVENTS];
	struct timespec ts;
	double per = 1e9 / l->o->rate;
	uint64_t now, due = l->t0, last_sweep = 0;
	bool open_sched = true;
	int n, k;

	for (;;) {
		now = lbb_now();
		while (open_sched) {
			due = l->t0 + (uint64_t)((double)l->seq * per);
			if (due >= l->t_end || l->r->scheduled >= l->o->max_requests ||
			    lbb_stop) {
				open_sched = false;
				l->t_stop = now < l->t_end ? now : l->t_end;
			} else if (due > now)
				break;
			else
				send_req(l, due);
		}
		if (!open_sched && (l->outstanding == 0 ||
		    now > l->t_stop + l->o->timeout_ns))
			break;
		if (now - last_sweep > SWEEP_NS) {
			sweep(l, now);
			last_sweep = now;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = open_sched && due > now ? (long)(due - now) : 0;
		if (!open_sched || ts.tv_nsec > (long)SWEEP_NS)
			ts.tv_nsec = SWEEP_NS;
		n = epoll_pwait2(l->ep, ev, MAX_EVENTS, &ts, NULL);
		for (k = 0; k < n; k++) {
			struct pconn *p = ev[k].data.ptr;

			if (p->fd == -1)
				continue;
			if (ev[k].events & EPOLLOUT)
				flush(l, p);
			if (p->fd != -1 && (ev[k].events & ~EPOLLOUT))
				on_read(l, p);
		}
	}
}

/*
 * Runs one measurement on persistent connections at o->rate (open loop).
 * Returns 0 with *r filled, or -1 when the connections could not be set
 * up.
 */
int
lbb_latency_run(const struct lbb_opts *o, struct lbb_result *r)
{
	struct lat *l;
	uint64_t i;

	memset(r, 0, sizeof(*r));
	lbb_hist_init(&r->hist);
	if (o->rate <= 0 || o->conns == 0 || o->size == 0)
		return -1;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->o = o;
	l->r = r;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->c = calloc(o->conns, sizeof(*l->c));
	if (l->ep == -1 || l->c == NULL) {
		lat_free(l);
		return -1;
	}
	memset(l->wbuf, 'q', sizeof(l->wbuf));
	for (i = 0; i < o->conns; i++)
		l->c[i].fd = -1;
	if (open_all(l) == -1) {
		lat_free(l);
		return -1;
	}
	l->t0 = lbb_now();
	l->t_rec = l->t0 + o->warmup_ns;
	l->t_end = l->t_rec + o->duration_ns;
	lat_loop(l);
	for (i = 0; i < o->conns; i++)
		kill_conn(l, &l->c[i], lbb_now());	/* leftovers: errors */
	r->seconds = l->t_stop > l->t_rec ?
	    (double)(l->t_stop - l->t_rec) / 1e9 : 0;
	lat_free(l);
	return 0;
}
