/*
 * worker.c - an lbd worker process: one libevent loop (epoll) that
 * accepts clients on the listening sockets it inherited from the master
 * and hands each one to a session (session.c).  See worker.h.
 *
 * Every worker polls the same listening fds; the kernel wakes them and
 * whoever accepts first serves the client.  Each wake-up accepts a bounded
 * batch so one worker cannot starve its own sessions.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "addr.h"
#include "balance.h"
#include "clock.h"
#include "log.h"
#include "pipe.h"
#include "ratelimit.h"
#include "session.h"
#include "shm.h"
#include "srclimit.h"
#include "worker.h"

#define WORKER_ACCEPT_BATCH	32	/* accepts per listener wake-up */
#define WORKER_ACCEPT_PAUSE_MS	100	/* back-off when out of fds/memory */
#define WORKER_PIPES_MIN	64	/* = MASTER_PIPES_MIN (master-t.h) */
#define WORKER_PIPES_KEEP	64	/* empty pipes cached for reuse */
#define WORKER_FD_RESERVE	64	/* = MASTER_FDS_RESERVE: logs, ... */
#define WORKER_WARN_EVERY_MS	10000	/* rate limit for accept warnings */
#define WORKER_DOWN_SWEEP_MS	200	/* on_down = "shutdown" latency */

struct worker;

/* One listening socket and its accept event. */
struct worker_lis {
	struct worker			*w;
	const struct worker_listener	*l;
	int				 fd;	/* -1 once closed (drain) */
	struct event			*ev;
};

struct worker {
	struct sess_ctx		 ctx;
	struct worker_lis	*lis;
	uint32_t		 nlis;
	pid_t			 ppid;		/* the master, at start */
	bool			 draining;	/* SIGTERM seen */
	bool			 paused;	/* accept back-off running */
	bool			 capped;	/* at maxsess: others accept */
	bool			 listening;	/* accept events added */
	uint32_t		 maxsess;	/* sessions the fds allow */
	int64_t			 last_warn_ms;
	struct event		*ev_pause;
	struct event		*ev_term;
	struct event		*ev_int;
	struct event		*ev_drain;	/* orphaned drain deadline */
	struct event		*ev_down;	/* on_down = "shutdown" sweep */
};

/*
 * Exits at once when the master is already gone: the parent changed
 * since start, or we were re-parented to init (unless init is lbd itself,
 * as when the master runs as PID 1 in a container).
 */
static void
worker_check_parent(pid_t ppid)
{
	char	 mine[64] = "", init[64] = "";
	FILE	*f;

	if (getppid() != ppid)
		_exit(0);
	if (ppid != 1)
		return;
	if ((f = fopen("/proc/self/comm", "r")) != NULL) {
		if (fgets(mine, sizeof(mine), f) == NULL)
			mine[0] = '\0';
		fclose(f);
	}
	if ((f = fopen("/proc/1/comm", "r")) != NULL) {
		if (fgets(init, sizeof(init), f) == NULL)
			init[0] = '\0';
		fclose(f);
	}
	if (mine[0] == '\0' || strcmp(mine, init) != 0)
		_exit(0);
}

/*
 * Undoes what the master's signal set-up left behind: nothing blocked,
 * SIGPIPE (writes to reset peers) and SIGHUP (reload is the master's)
 * ignored, the rest default until libevent takes SIGTERM and SIGINT.
 */
static void
worker_signals_reset(void)
{
	static const int	 deflt[] = {
		SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM
	};
	struct sigaction	 sa;
	sigset_t		 all;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(deflt) / sizeof(deflt[0]); i++)
		sigaction(deflt[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/*
 * Raises the soft fd limit to the hard one and splits it.  Sessions come
 * first: the master checked that one worker can hold all of maxconn (the
 * kernel may hand any worker most clients), 2 fds each.  The pipe pool
 * gets maxconn / 4 pipes (HAProxy's maxpipes default) out of what is left,
 * never fewer than a small floor (MASTER_PIPES_MIN, counted by the master)
 * nor more than a quarter of the fds.  w->maxsess is what remains for
 * sessions, so a worker stops accepting before clients take the fds its
 * pipes need.  Returns the pool bound.
 */
static uint32_t
worker_fd_budget(struct worker *w, const struct conf *conf)
{
	struct rlimit	rl;
	uint64_t	fds, pipes, spare, reserve, left;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	fds = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fds = rl.rlim_cur == RLIM_INFINITY ? 1024 * 1024 : rl.rlim_cur;
	reserve = fds / 4 < WORKER_FD_RESERVE ? fds / 4 : WORKER_FD_RESERVE;
	spare = fds > reserve + 2 * (uint64_t)conf->maxconn ?
	    (fds - reserve - 2 * (uint64_t)conf->maxconn) / 2 : 0;
	pipes = conf->maxconn / 4 < spare ? conf->maxconn / 4 : spare;
	if (pipes < WORKER_PIPES_MIN)
		pipes = WORKER_PIPES_MIN;
	if (pipes > fds / 8)
		pipes = fds / 8 > 0 ? fds / 8 : 1;
	left = fds > 2 * pipes + reserve ? fds - 2 * pipes - reserve : 0;
	w->maxsess = left / 2 > 1 ? (uint32_t)(left / 2) : 1;
	return (uint32_t)pipes;
}

/*
 * Adds or removes every open listener's accept event, so that the worker
 * accepts exactly when it is not draining, not backing off and not at
 * its session cap.  Cheap when nothing changes (it runs after every
 * session end).
 */
static void
worker_accept_update(struct worker *w)
{
	bool		on = !w->draining && !w->paused && !w->capped;
	uint32_t	i;

	if (on == w->listening)
		return;
	w->listening = on;
	for (i = 0; i < w->nlis; i++) {
		if (w->lis[i].fd == -1)
			continue;
		if (on)
			event_add(w->lis[i].ev, NULL);
		else
			event_del(w->lis[i].ev);
	}
}

static void
worker_pause_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	w->paused = false;
	worker_accept_update(w);
}

/*
 * accept4 ran out of fds or memory: stop accepting on every listener for
 * a moment instead of spinning on a socket we cannot take.
 */
static void
worker_accept_pause(struct worker *w, int err)
{
	struct timeval	tv = { 0, WORKER_ACCEPT_PAUSE_MS * 1000 };
	int64_t		now = clock_mono_ms();

	if (now - w->last_warn_ms >= WORKER_WARN_EVERY_MS) {
		w->last_warn_ms = now;
		errno = err;
		log_warn("worker %u: accept paused %d ms", w->ctx.slot,
		    WORKER_ACCEPT_PAUSE_MS);
	}
	if (w->paused)
		return;
	w->paused = true;
	worker_accept_update(w);
	evtimer_add(w->ev_pause, &tv);
}

/*
 * accept4 says the listening socket itself is unusable (shut down or not
 * listening any more): a level-triggered event would fire forever, so
 * this worker stops polling it and closes its copy.
 */
static void
worker_listener_broken(struct worker_lis *wl)
{
	log_warn("worker %u: listener %s unusable, no longer accepting on it",
	    wl->w->ctx.slot, wl->l->name);
	event_del(wl->ev);
	close(wl->fd);
	wl->fd = -1;
}

/*
 * Closes client `cfd`, whose address already holds maxconn_per_source
 * connections: counts it and logs at most one line a second across all
 * workers, with how many were not logged (a source hammering its cap
 * must not flood syslog).
 */
static void
worker_per_source_reject(struct worker *w, struct worker_lis *wl, int cfd,
    const struct sockaddr *sa, uint32_t cap)
{
	struct shm_srcs	*s = &w->ctx.t->srcs;
	char		 cbuf[ADDR_STRLEN];
	uint64_t	 n, skipped;

	n = atomic_fetch_add_explicit(&s->rejects, 1,
	    memory_order_relaxed) + 1;
	if (ratelimit_shared(&s->log_next_ms, &s->logged, n, clock_mono_ms(),
	    1000, &skipped))
		log_warnx("listener %s: client %s closed: its address holds "
		    "maxconn_per_source %u (%llu more since the last such "
		    "line, %llu in all)", wl->l->name,
		    addr_format(sa, cbuf, sizeof(cbuf)), cap,
		    (unsigned long long)skipped, (unsigned long long)n);
	sess_reject(&w->ctx, cfd, sa, wl->l, SESS_END_PER_SOURCE);
}

/*
 * Admits accepted client `cfd`: one place under the global maxconn, then
 * one under maxconn_per_source for its address (when set), then a
 * session that owns both.  Over either cap the client is closed at once
 * and nothing stays counted.
 */
static void
worker_admit(struct worker *w, struct worker_lis *wl, int cfd,
    const struct sockaddr *sa, socklen_t len)
{
	struct shm_table	*t = w->ctx.t;
	uint32_t		 cap, src = SHM_NONE;

	if (shm_conn_reserve(t, w->ctx.slot) == -1) {
		atomic_fetch_add_explicit(&t->maxconn_rejects, 1,
		    memory_order_relaxed);
		sess_reject(&w->ctx, cfd, sa, wl->l, SESS_END_MAXCONN);
		return;
	}
	cap = atomic_load_explicit(&t->srcs.maxconn_per_source,
	    memory_order_relaxed);
	if (cap > 0 && srclimit_acquire(&t->srcs, w->ctx.slot, sa, cap,
	    &src) == SRC_OVER) {
		shm_conn_release(t, w->ctx.slot);
		worker_per_source_reject(w, wl, cfd, sa, cap);
		return;
	}
	sess_start(&w->ctx, cfd, sa, len, wl->l, src);
}

/*
 * Listener readable: accepts up to a batch of clients, each admitted
 * (worker_admit) or closed at once.
 */
static void
worker_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_lis	*wl = arg;
	struct worker		*w = wl->w;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 i, cfd;

	for (i = 0; i < WORKER_ACCEPT_BATCH && w->listening; i++) {
		if (w->ctx.nsessions >= w->maxsess) {
			/* Out of fds for more: leave clients to the others. */
			w->capped = true;
			worker_accept_update(w);
			return;
		}
		len = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				worker_accept_pause(w, errno);
			else if (errno == EINVAL || errno == EBADF ||
			    errno == ENOTSOCK) {
				worker_listener_broken(wl);
				return;
			}
			continue;	/* ECONNABORTED, EPERM, EINTR ... */
		}
		worker_admit(w, wl, cfd, (struct sockaddr *)&ss, len);
	}
}

/* Called by the session layer after each session ends. */
static void
worker_on_end(struct sess_ctx *ctx, void *arg)
{
	struct worker *w = arg;

	if (w->capped && ctx->nsessions < w->maxsess) {
		w->capped = false;
		worker_accept_update(w);
	}
	if (ctx->nsessions == 0 && w->draining)
		event_base_loopbreak(ctx->base);
}

/* Closes this worker's copies of the listening sockets (for good). */
static void
worker_close_listeners(struct worker *w)
{
	uint32_t i;

	for (i = 0; i < w->nlis; i++) {
		if (w->lis[i].fd == -1)
			continue;
		event_del(w->lis[i].ev);
		close(w->lis[i].fd);
		w->lis[i].fd = -1;
	}
	w->listening = false;
}

static void
worker_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	log_notice("worker %u: master gone, drain timeout, closing %u sessions",
	    w->ctx.slot, w->ctx.nsessions);
	sess_close_all(&w->ctx, SESS_END_SHUTDOWN);
	event_base_loopbreak(w->ctx.base);
}

/*
 * SIGTERM: graceful.  Stop accepting, let sessions finish, exit when none
 * is left.  The master enforces the drain timeout; if the master is gone
 * (this SIGTERM came from PR_SET_PDEATHSIG), the worker enforces it.
 */
static void
worker_term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv;
	uint64_t	 ms = w->ctx.conf->drain_timeout_ms;

	if (w->draining)
		return;
	w->draining = true;
	log_info("worker %u: stopping, draining %u sessions", w->ctx.slot,
	    w->ctx.nsessions);
	worker_close_listeners(w);
	if (w->ctx.nsessions == 0) {
		event_base_loopbreak(w->ctx.base);
		return;
	}
	if (getppid() != w->ppid && ms > 0) {
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		evtimer_add(w->ev_drain, &tv);
	}
}

/* SIGINT: fast.  Close every session now and leave. */
static void
worker_int_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	log_info("worker %u: fast stop, closing %u sessions", w->ctx.slot,
	    w->ctx.nsessions);
	w->draining = true;
	worker_close_listeners(w);
	sess_close_all(&w->ctx, SESS_END_SHUTDOWN);
	event_base_loopbreak(w->ctx.base);
}

/* A new epoll-backed event base (never select/poll: O(1) per event). */
static struct event_base *
worker_base_new(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_avoid_method(cfg, "select");
	event_config_avoid_method(cfg, "poll");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* Closes the sessions of servers marked down with on_down = "shutdown". */
static void
worker_down_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	sess_close_down(&w->ctx);
}

/* Creates the listener, signal and timer events.  0, or -1. */
static int
worker_events_new(struct worker *w, const struct worker_listener *ls)
{
	struct event_base	*base = w->ctx.base;
	uint32_t		 i;

	if ((w->lis = calloc(w->nlis ? w->nlis : 1, sizeof(*w->lis))) == NULL)
		return -1;
	for (i = 0; i < w->nlis; i++) {
		w->lis[i].w = w;
		w->lis[i].l = &ls[i];
		w->lis[i].fd = ls[i].fd;
		w->lis[i].ev = event_new(base, ls[i].fd, EV_READ | EV_PERSIST,
		    worker_accept_cb, &w->lis[i]);
		if (w->lis[i].ev == NULL)
			return -1;
	}
	w->ev_pause = evtimer_new(base, worker_pause_cb, w);
	w->ev_drain = evtimer_new(base, worker_drain_cb, w);
	w->ev_term = evsignal_new(base, SIGTERM, worker_term_cb, w);
	w->ev_int = evsignal_new(base, SIGINT, worker_int_cb, w);
	w->ev_down = event_new(base, -1, EV_PERSIST, worker_down_cb, w);
	if (w->ev_pause == NULL || w->ev_drain == NULL ||
	    w->ev_term == NULL || w->ev_int == NULL || w->ev_down == NULL)
		return -1;
	if (event_add(w->ev_term, NULL) == -1 ||
	    event_add(w->ev_int, NULL) == -1 ||
	    event_add(w->ev_down, &(struct timeval){ 0,
	    WORKER_DOWN_SWEEP_MS * 1000 }) == -1)
		return -1;
	worker_accept_update(w);
	return 0;
}

/* Frees what worker_events_new made (NULL-safe), then the base. */
static void
worker_free(struct worker *w)
{
	uint32_t i;

	for (i = 0; w->lis != NULL && i < w->nlis; i++)
		if (w->lis[i].ev != NULL)
			event_free(w->lis[i].ev);
	free(w->lis);
	if (w->ev_pause != NULL)
		event_free(w->ev_pause);
	if (w->ev_drain != NULL)
		event_free(w->ev_drain);
	if (w->ev_term != NULL)
		event_free(w->ev_term);
	if (w->ev_int != NULL)
		event_free(w->ev_int);
	if (w->ev_down != NULL)
		event_free(w->ev_down);
	pipe_pool_free(&w->ctx.pipes);
	event_base_free(w->ctx.base);
}

/*
 * Start-up failure: log and leave without running the master's atexit
 * handlers.  The master sees status 1 and backs off before respawning.
 */
static void __attribute__((noreturn))
worker_die(uint32_t slot, const char *what)
{
	log_err("worker %u: %s", slot, what);
	_exit(1);
}

/*
 * Worker entry point (see worker.h).  Exits with _exit so that nothing
 * the master registered with atexit() (pid file, control socket) runs in
 * the child.
 */
void
worker_main(const struct conf *conf, struct shm_table *t,
    const struct worker_listener *ls, uint32_t nls, uint32_t slot,
    uint32_t generation)
{
	struct worker	w;

	memset(&w, 0, sizeof(w));
	w.ppid = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		worker_die(slot, "prctl(PR_SET_PDEATHSIG)");
	worker_check_parent(w.ppid);
	worker_signals_reset();
	w.ctx.conf = conf;
	w.ctx.t = t;
	w.ctx.slot = slot;
	w.ctx.on_end = worker_on_end;
	w.ctx.on_end_arg = &w;
	w.nlis = nls;
	TAILQ_INIT(&w.ctx.sessions);
	bal_ctx_init(&w.ctx.bal, t, slot);
	if (pipe_pool_init(&w.ctx.pipes, worker_fd_budget(&w, conf),
	    WORKER_PIPES_KEEP) == -1)
		worker_die(slot, "pipe pool");
	if ((w.ctx.base = worker_base_new()) == NULL)
		worker_die(slot, "event base");
	if (worker_events_new(&w, ls) == -1)
		worker_die(slot, "event set-up");
	log_debug("worker %u (generation %u) pid %ld ready, %s backend, "
	    "up to %u sessions and %u pipes", slot, generation,
	    (long)getpid(), event_base_get_method(w.ctx.base), w.maxsess,
	    w.ctx.pipes.max);
	event_base_dispatch(w.ctx.base);
	sess_close_all(&w.ctx, SESS_END_SHUTDOWN);
	worker_close_listeners(&w);
	worker_free(&w);
	log_debug("worker %u pid %ld exits", slot, (long)getpid());
	_exit(0);
}
