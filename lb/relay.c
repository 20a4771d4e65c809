/*
 * relay.c - the data plane of a session: bytes both ways with splice(2),
 * socket -> pipe -> socket, never copied into user space.  The session's
 * life (accept, connect, retries, end) is in session.c.
 *
 * Flow control: a direction reads from its source into its pipe only while
 * the pipe is empty or draining; as soon as the destination would block,
 * the source's read event is removed and the destination's write event is
 * added, so at most one pipe's worth (64 KiB by default) is ever buffered
 * per direction and nothing spins.  All events are level-triggered.  A
 * pipe is borrowed from the worker's pool only while a direction has
 * bytes in flight.  Half-close: a source's EOF becomes shutdown(dst,
 * SHUT_WR) once its pipe is drained; the session ends when both
 * directions are done, or at the first error on either side.
 *
 * Worker process only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "clock.h"
#include "pipe.h"
#include "session.h"
#include "shm.h"

/* Asked of each splice from a socket; the pipe's free space bounds it. */
#define SESS_SPLICE_MAX		(1 << 20)
/* Read+write rounds per callback, so one busy session cannot hog a loop. */
#define SESS_PUMP_ROUNDS	16
#define SESS_SPLICE_FLAGS	(SPLICE_F_NONBLOCK | SPLICE_F_MOVE)

/* Result of one read+write round of a direction. */
enum sess_step {
	SESS_STEP_PROGRESS = 0,	/* moved bytes or saw EOF: go again */
	SESS_STEP_BLOCKED = 1,	/* nothing moved: wait for an event */
	SESS_STEP_NOPIPE = 2,	/* data waits but no pipe could be had */
	SESS_STEP_ERR_SRC = 3,	/* error/RST reading the source */
	SESS_STEP_ERR_DST = 4,	/* error/RST writing the destination */
};

/*
 * One round of direction `d`: read what the source has into the pipe
 * (borrowing one if needed), then write what the pipe holds to the
 * destination.  Adds bytes delivered to *moved.  See enum sess_step.
 */
static enum sess_step
sess_step(struct sess_ctx *ctx, struct sess_dir *d, uint64_t *moved)
{
	ssize_t	n;
	bool	progress = false;

	if (!d->eof) {
		if (d->pipe[0] == -1 && pipe_get(&ctx->pipes, d->pipe) == -1)
			return SESS_STEP_NOPIPE;	/* inpipe is 0 here */
		n = splice(d->src, NULL, d->pipe[1], NULL, SESS_SPLICE_MAX,
		    SESS_SPLICE_FLAGS);
		if (n > 0) {
			d->inpipe += (size_t)n;
			progress = true;
		} else if (n == 0) {
			d->eof = true;
			progress = true;
		} else if (errno != EAGAIN && errno != EINTR) {
			return SESS_STEP_ERR_SRC;
		}
	}
	if (d->inpipe > 0) {
		n = splice(d->pipe[0], NULL, d->dst, NULL, d->inpipe,
		    SESS_SPLICE_FLAGS);
		if (n > 0) {
			d->inpipe -= (size_t)n;
			*moved += (uint64_t)n;
			progress = true;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			return SESS_STEP_ERR_DST;
		}
	}
	return progress ? SESS_STEP_PROGRESS : SESS_STEP_BLOCKED;
}

/*
 * Sets direction `d`'s events after pumping: the source is read only
 * while the pipe is empty, the destination is waited on only while the
 * pipe holds bytes, and a direction that forwarded its EOF waits on
 * nothing.  Returns true when the session ended (both directions done).
 */
static bool
sess_settle(struct sess *s, struct sess_dir *d, enum sess_step r)
{
	struct sess_ctx	*ctx = s->ctx;
	struct timeval	 tv;

	if (d->inpipe == 0)
		pipe_put(&ctx->pipes, d->pipe, true);
	/* Who closed first is who sent EOF first, drained or not. */
	if (d->eof && s->first_eof == 0)
		s->first_eof = d == &s->up ? 1 : 2;
	if (d->eof && d->inpipe == 0) {
		event_del(d->rev);
		event_del(d->wev);
		if (d->done)
			return false;
		d->done = true;
		/*
		 * Propagate the FIN; the other direction keeps running.  When
		 * it is done too, close() right after sends the FIN: skip the
		 * syscall.
		 */
		if (!s->up.done || !s->down.done) {
			(void)shutdown(d->dst, SHUT_WR);
			return false;
		}
		sess_end(s, s->first_eof == 1 ? SESS_END_CLIENT_CLOSE :
		    SESS_END_SERVER_CLOSE);
		return true;
	}
	if (r == SESS_STEP_NOPIPE) {
		/* Level-triggered read would spin: park and ask again soon. */
		event_del(d->rev);
		d->waitpipe = true;
		sess_timeval(&tv, SESS_PIPE_RETRY_MS);
		event_add(&s->ev_timer, &tv);
	} else if (d->inpipe > 0) {
		event_del(d->rev);
		event_add(d->wev, NULL);
	} else {
		event_del(d->wev);
		event_add(d->rev, NULL);
	}
	return false;
}

/*
 * True when the server failed (reset, or EOF) before a single byte was
 * delivered either way and before it sent anything: then retrying
 * another server is invisible to the client.  Bytes the client sent may
 * sit in our pipe; they were not delivered, so they go to the next one.
 */
static bool
sess_relay_early_fail(const struct sess *s, const struct sess_dir *d,
    enum sess_step r)
{
	bool server_failed;

	if (s->up.bytes != 0 || s->down.bytes != 0 || s->down.inpipe != 0)
		return false;
	if (d == &s->down)
		server_failed = r == SESS_STEP_ERR_SRC || d->eof;
	else
		server_failed = r == SESS_STEP_ERR_DST;
	return server_failed;
}

/*
 * Moves bytes in direction `d` until it blocks, up to a round budget,
 * counts them in the table and re-arms its events.  Returns true when
 * the session ended (then `s` is freed) or went back to connecting.
 */
bool
sess_relay_pump(struct sess *s, struct sess_dir *d)
{
	struct sess_ctx		*ctx = s->ctx;
	struct shm_server	*srv = &ctx->t->servers[s->server];
	enum sess_step		 r = SESS_STEP_BLOCKED;
	uint64_t		 moved = 0;
	int			 i;

	d->waitpipe = false;
	for (i = 0; i < SESS_PUMP_ROUNDS; i++) {
		r = sess_step(ctx, d, &moved);
		if (r != SESS_STEP_PROGRESS)
			break;
	}
	if (moved > 0) {
		d->bytes += moved;
		atomic_fetch_add_explicit(d == &s->up ? &srv->bytes_in :
		    &srv->bytes_out, moved, memory_order_relaxed);
		s->last_ms = clock_mono_ms();
	}
	if (sess_relay_early_fail(s, d, r)) {
		sess_retry_server(s);
		return true;
	}
	if (r == SESS_STEP_ERR_SRC || r == SESS_STEP_ERR_DST) {
		/* up reads the client; down writes it. */
		bool client = (d == &s->up) == (r == SESS_STEP_ERR_SRC);

		sess_end(s, client ? SESS_END_CLIENT_RESET :
		    SESS_END_SERVER_RESET);
		return true;
	}
	return sess_settle(s, d, r);
}

void
sess_relay_up_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess *s = arg;

	(void)sess_relay_pump(s, &s->up);
}

void
sess_relay_down_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess *s = arg;

	(void)sess_relay_pump(s, &s->down);
}

/*
 * The server answered: start relaying.  The client may already have sent
 * bytes (or EOF); level-triggered events pick that up at once.
 */
void
sess_relay_start(struct sess *s)
{
	struct sess_ctx	*ctx = s->ctx;
	struct event_base *base = ctx->base;
	struct timeval	 tv;

	atomic_store_explicit(&ctx->t->servers[s->server].consec_failures, 0,
	    memory_order_relaxed);
	s->state = SESS_RELAYING;
	s->up.dst = s->sfd;
	s->down.src = s->sfd;
	event_assign(&s->ev_sread, base, s->sfd, EV_READ | EV_PERSIST,
	    sess_relay_down_cb, s);
	event_assign(&s->ev_swrite, base, s->sfd, EV_WRITE | EV_PERSIST,
	    sess_relay_up_cb, s);
	s->last_ms = clock_mono_ms();
	event_add(&s->ev_cread, NULL);
	event_add(&s->ev_sread, NULL);
	if (ctx->conf->idle_timeout_ms > 0) {
		sess_timeval(&tv, ctx->conf->idle_timeout_ms);
		event_add(&s->ev_timer, &tv);
	}
}
