/*
 * session.c - the life of one proxied connection: read the client's
 * PROXY header when the listener wants one, pick a server, connect
 * without blocking (retrying other servers), send our PROXY header when
 * the server wants one, hand over to the splice data plane (relay.c),
 * enforce the idle timeout, and release everything exactly once at the
 * end (sess_end).  See session.h.
 *
 * Worker process only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "addr.h"
#include "balance.h"
#include "clock.h"
#include "log.h"
#include "proxy.h"
#include "ratelimit.h"
#include "session.h"
#include "shm.h"
#include "srclimit.h"

/* accept_proxy: a client must have sent its whole header by then. */
#define SESS_PROXY_TIMEOUT_MS	5000

/* Result of trying one server. */
enum sess_conn {
	SESS_CONN_INPROGRESS = 0,
	SESS_CONN_DONE = 1,
	SESS_CONN_FAILED = 2,	/* the server's fault: try another */
	SESS_CONN_LOCAL = 3,	/* our fault (fds, memory, ports): give up */
};

static const char *const sess_end_names[SESS_END__COUNT] = {
	[SESS_END_CLIENT_CLOSE] = "client_close",
	[SESS_END_SERVER_CLOSE] = "server_close",
	[SESS_END_IDLE_TIMEOUT] = "idle_timeout",
	[SESS_END_CONNECT_FAILED] = "connect_failed",
	[SESS_END_NO_SERVER] = "no_server",
	[SESS_END_CLIENT_RESET] = "client_reset",
	[SESS_END_SERVER_RESET] = "server_reset",
	[SESS_END_SHUTDOWN] = "shutdown",
	[SESS_END_LOCAL_ERROR] = "local_error",
	[SESS_END_MAXCONN] = "maxconn",
	[SESS_END_SERVER_DOWN] = "server_down",
	[SESS_END_BAD_PROXY] = "bad_proxy",
	[SESS_END_PER_SOURCE] = "per_source",
};

static void	sess_connect_next(struct sess *);
static void	sess_proxy_bad(struct sess *, const char *);
static void	sess_connected(struct sess *);

const char *
sess_end_name(enum sess_end e)
{
	if ((unsigned)e >= SESS_END__COUNT)
		return "unknown";
	return sess_end_names[e];
}

static void
sess_nodelay(int fd)
{
	int on = 1;

	/* Best effort: a proxy must not add Nagle delay on either side. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/*
 * Writes the one log line of a finished connection.  `server` may be
 * SHM_NONE.  Only our own formatted values reach the log, never bytes
 * from the client.
 */
static void
sess_log(struct sess_ctx *ctx, const struct sockaddr *sa,
    const struct worker_listener *l, uint32_t server, int64_t dur_ms,
    uint64_t in, uint64_t out, enum sess_end why)
{
	char		 cbuf[ADDR_STRLEN];
	const char	*pool, *srv = "-";

	/*
	 * no_server, bad_proxy and per_source have their own rate-limited
	 * lines: one source holding its cap must not flood the log.
	 */
	if (!ctx->conf->log_connections || why == SESS_END_NO_SERVER ||
	    why == SESS_END_BAD_PROXY || why == SESS_END_PER_SOURCE)
		return;
	pool = ctx->t->pools[l->pool_idx].name;
	if (server != SHM_NONE)
		srv = ctx->t->servers[server].name;
	log_info("conn client=%s listener=%s server=%s/%s duration_ms=%lld "
	    "bytes_in=%llu bytes_out=%llu end=%s",
	    addr_format(sa, cbuf, sizeof(cbuf)), l->name, pool, srv,
	    (long long)dur_ms, (unsigned long long)in,
	    (unsigned long long)out, sess_end_name(why));
}

void
sess_reject(struct sess_ctx *ctx, int cfd, const struct sockaddr *sa,
    const struct worker_listener *l, enum sess_end why)
{
	close(cfd);
	sess_log(ctx, sa, l, SHM_NONE, 0, 0, 0, why);
}

/*
 * Releases everything session `s` owns, exactly once: events, sockets,
 * pipes (a pipe still holding bytes is closed, not cached), the server's
 * active count, the global connection.  Logs the line, frees `s` and
 * tells the worker.  `s` is gone when this returns.
 */
void
sess_end(struct sess *s, enum sess_end why)
{
	struct sess_ctx	*ctx = s->ctx;

	event_del(&s->ev_cread);
	event_del(&s->ev_cwrite);
	event_del(&s->ev_sread);
	event_del(&s->ev_swrite);
	event_del(&s->ev_timer);
	close(s->cfd);
	if (s->sfd != -1)
		close(s->sfd);
	pipe_put(&ctx->pipes, s->up.pipe, s->up.inpipe == 0);
	pipe_put(&ctx->pipes, s->down.pipe, s->down.inpipe == 0);
	free(s->phdr);
	/*
	 * Log first: once released, the master may remove the server and
	 * its name with it.  A failed connect names the last server tried.
	 */
	sess_log(ctx, (struct sockaddr *)&s->caddr, s->listener,
	    s->server == SHM_NONE && s->ntried > 0 ? s->tried[s->ntried - 1] :
	    s->server, clock_mono_ms() - s->start_ms, s->up.bytes,
	    s->down.bytes, why);
	if (s->server != SHM_NONE)
		shm_server_release(ctx->t, ctx->slot, s->server);
	if (s->src != SHM_NONE)
		srclimit_release(&ctx->t->srcs, ctx->slot, s->src);
	shm_conn_release(ctx->t, ctx->slot);
	TAILQ_REMOVE(&ctx->sessions, s, entry);
	ctx->nsessions--;
	free(s);
	if (ctx->on_end != NULL)
		ctx->on_end(ctx, ctx->on_end_arg);
}

void
sess_close_down(struct sess_ctx *ctx)
{
	struct sess		*s, *next;
	const struct shm_server	*srv;

	for (s = TAILQ_FIRST(&ctx->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state != SESS_RELAYING || s->server == SHM_NONE)
			continue;
		srv = &ctx->t->servers[s->server];
		if (atomic_load_explicit(&srv->on_down_shutdown,
		    memory_order_relaxed) && atomic_load_explicit(&srv->health,
		    memory_order_relaxed) == SHM_HEALTH_DOWN)
			sess_end(s, SESS_END_SERVER_DOWN);
	}
}

void
sess_close_all(struct sess_ctx *ctx, enum sess_end why)
{
	struct sess *s;

	while ((s = TAILQ_FIRST(&ctx->sessions)) != NULL)
		sess_end(s, why);
}

/*
 * The session timer serves two purposes: it retries directions parked
 * for want of a pipe, and it enforces the idle timeout.  It is not
 * re-armed on every splice: it compares the last-activity time and
 * sleeps again for the remainder.
 */
static void
sess_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;
	uint64_t	 idle = s->ctx->conf->idle_timeout_ms;
	int64_t		 left;
	struct timeval	 tv;

	if (s->state == SESS_PROXY_RECV) {
		sess_proxy_bad(s, "no complete PROXY header in time");
		return;
	}
	if (s->up.waitpipe && sess_relay_pump(s, &s->up))
		return;
	if (s->down.waitpipe && sess_relay_pump(s, &s->down))
		return;
	left = (int64_t)idle - (clock_mono_ms() - s->last_ms);
	if (idle > 0 && left <= 0) {
		sess_end(s, SESS_END_IDLE_TIMEOUT);
		return;
	}
	if (s->up.waitpipe || s->down.waitpipe)
		left = SESS_PIPE_RETRY_MS;
	else if (idle == 0)
		return;
	sess_timeval(&tv, (uint64_t)left);
	event_add(&s->ev_timer, &tv);
}

/* Counts a failed connect against the current server and lets it go. */
static void
sess_server_failed(struct sess *s)
{
	struct sess_ctx		*ctx = s->ctx;
	struct shm_server	*srv = &ctx->t->servers[s->server];

	atomic_fetch_add_explicit(&srv->failures, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&srv->consec_failures, 1,
	    memory_order_relaxed);
	log_debug("connect to %s/%s failed: %s", srv->pool, srv->name,
	    strerror(errno));
	close(s->sfd);
	s->sfd = -1;
	shm_server_release(ctx->t, ctx->slot, s->server);
	s->server = SHM_NONE;
}

/* True when a connect error is ours (fds, memory, ports), not the server's. */
static bool
sess_local_errno(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM ||
	    e == EADDRNOTAVAIL || e == EAGAIN;
}

/*
 * Opens a non-blocking socket to s->server and starts connecting.
 * Returns a sess_conn with errno set on FAILED/LOCAL.
 */
static enum sess_conn
sess_connect_start(struct sess *s)
{
	const struct shm_server	*srv = &s->ctx->t->servers[s->server];
	int			 fd;

	fd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return SESS_CONN_LOCAL;
	s->sfd = fd;
	sess_nodelay(fd);
	if (connect(fd, (const struct sockaddr *)&srv->addr,
	    (socklen_t)srv->addrlen) == 0)
		return SESS_CONN_DONE;
	if (errno == EINPROGRESS || errno == EINTR)
		return SESS_CONN_INPROGRESS;
	return sess_local_errno(errno) ? SESS_CONN_LOCAL : SESS_CONN_FAILED;
}

/* The pending connect finished (writable) or timed out. */
static void
sess_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;
	int		 err = ETIMEDOUT;
	socklen_t	 len = sizeof(err);

	if (what & EV_WRITE) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
	}
	if (err == 0) {
		sess_connected(s);
		return;
	}
	errno = err;
	if (sess_local_errno(err)) {
		sess_end(s, SESS_END_LOCAL_ERROR);
		return;
	}
	sess_server_failed(s);
	sess_connect_next(s);
}

/*
 * Counts a client closed because pool `pool` had no usable server, and
 * logs it at most once a second across all workers, with how many were
 * not logged: an all-down pool under load must not flood syslog.
 */
static void
sess_no_server(struct shm_pool *pool)
{
	uint64_t	 n, skipped;

	n = atomic_fetch_add_explicit(&pool->no_server, 1,
	    memory_order_relaxed) + 1;
	if (ratelimit_shared(&pool->nosrv_next_ms, &pool->nosrv_logged, n,
	    clock_mono_ms(), 1000, &skipped))
		log_warnx("pool %s: no usable server, client closed (%llu "
		    "more since the last such line, %llu in all)", pool->name,
		    (unsigned long long)skipped, (unsigned long long)n);
}

/*
 * Picks the next server not yet tried and connects to it, trying again
 * on immediate failures, up to 1 + the pool's retries servers.  Ends the
 * session when nothing is left (no_server when nothing was usable at
 * all, connect_failed when every try failed).
 */
static void
sess_connect_next(struct sess *s)
{
	struct sess_ctx	*ctx = s->ctx;
	struct shm_pool	*pool = &ctx->t->pools[s->listener->pool_idx];
	uint32_t	 maxtries = 1 + pool->retries;
	struct timeval	 tv;
	int		 idx;

	if (maxtries > BAL_MAX_TRIES)
		maxtries = BAL_MAX_TRIES;
	while (s->ntried < maxtries) {
		idx = bal_pick_for(&ctx->bal, s->listener->pool_idx, s->tried,
		    s->ntried, (const struct sockaddr *)&s->caddr);
		if (idx == -1)
			break;
		s->server = (uint32_t)idx;
		s->tried[s->ntried++] = (uint32_t)idx;
		switch (sess_connect_start(s)) {
		case SESS_CONN_INPROGRESS:
			event_assign(&s->ev_swrite, ctx->base, s->sfd, EV_WRITE,
			    sess_connect_cb, s);
			sess_timeval(&tv, ctx->conf->connect_timeout_ms);
			event_add(&s->ev_swrite,
			    ctx->conf->connect_timeout_ms > 0 ? &tv : NULL);
			return;
		case SESS_CONN_DONE:
			sess_connected(s);
			return;
		case SESS_CONN_LOCAL:
			sess_end(s, SESS_END_LOCAL_ERROR);
			return;
		case SESS_CONN_FAILED:
			sess_server_failed(s);
			break;
		}
	}
	if (s->ntried == 0) {
		sess_no_server(pool);
		sess_end(s, SESS_END_NO_SERVER);
	} else {
		sess_end(s, SESS_END_CONNECT_FAILED);
	}
}

void
sess_retry_server(struct sess *s)
{
	event_del(&s->ev_cread);
	event_del(&s->ev_cwrite);
	event_del(&s->ev_sread);
	event_del(&s->ev_swrite);
	s->up.waitpipe = s->down.waitpipe = false;
	s->up.dst = s->down.src = -1;
	/* A client EOF already forwarded must reach the next server too. */
	s->up.done = false;
	s->down.eof = s->down.done = false;
	s->first_eof = s->up.eof ? 1 : 0;
	s->state = SESS_CONNECTING;
	errno = ECONNRESET;
	sess_server_failed(s);
	sess_connect_next(s);
}

/* Sets up the embedded events of a fresh session (nothing added yet). */
static void
sess_init_events(struct sess *s)
{
	struct event_base *base = s->ctx->base;

	event_assign(&s->ev_cread, base, s->cfd, EV_READ | EV_PERSIST,
	    sess_relay_up_cb, s);
	event_assign(&s->ev_cwrite, base, s->cfd, EV_WRITE | EV_PERSIST,
	    sess_relay_down_cb, s);
	/* Server events get their fd once connected; valid for event_del. */
	event_assign(&s->ev_sread, base, -1, 0, sess_relay_down_cb, s);
	event_assign(&s->ev_swrite, base, -1, 0, sess_relay_up_cb, s);
	evtimer_assign(&s->ev_timer, base, sess_timer_cb, s);
	s->up.rev = &s->ev_cread;
	s->up.wev = &s->ev_swrite;
	s->down.rev = &s->ev_sread;
	s->down.wev = &s->ev_cwrite;
}

/* True when listener `name` of this generation has accept_proxy set. */
static bool
sess_accepts_proxy(const struct conf *c, const char *name)
{
	uint32_t	 i;

	/* O(listeners) per accept; a config has a handful. */
	for (i = 0; i < c->nlisteners; i++)
		if (strcmp(c->listeners[i].name, name) == 0)
			return c->listeners[i].accept_proxy;
	return false;
}

/*
 * accept_proxy: closes a client whose PROXY header is malformed, missing
 * or late, counts it in the pool and logs it at most once a second
 * across all workers (the peer is our own, not a forged, address).
 */
static void
sess_proxy_bad(struct sess *s, const char *why)
{
	struct shm_pool	*pool = &s->ctx->t->pools[s->listener->pool_idx];
	char		 cbuf[ADDR_STRLEN];
	uint64_t	 n, skipped;

	n = atomic_fetch_add_explicit(&pool->proxy_bad, 1,
	    memory_order_relaxed) + 1;
	if (ratelimit_shared(&pool->proxy_next_ms, &pool->proxy_logged, n,
	    clock_mono_ms(), 1000, &skipped))
		log_warnx("listener %s: client %s closed: %s (%llu more since "
		    "the last such line, %llu in all)", s->listener->name,
		    addr_format((struct sockaddr *)&s->caddr, cbuf,
		    sizeof(cbuf)), why, (unsigned long long)skipped,
		    (unsigned long long)n);
	sess_end(s, SESS_END_BAD_PROXY);
}

/*
 * The client's socket is readable while its PROXY header is awaited.
 * Peeks, consumes only the bytes that belong to the header (proxy_take),
 * so no payload is ever taken, and parses what it has.  On a whole
 * header the client's address becomes the header's source, for the log,
 * hashing and the sticky table, and the session goes on to connect.
 */
static void
sess_proxy_recv_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess		*s = arg;
	struct proxy_hdr	 h;
	size_t			 take, hl;
	ssize_t			 n;

	n = recv(fd, s->phdr + s->phave, PROXY_HDR_MAX - s->phave, MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sess_proxy_bad(s, n == 0 ? "closed before its PROXY header" :
		    "read error before its PROXY header");
		return;
	}
	take = proxy_take(s->phdr, s->phave, (size_t)n);
	if (take > 0 && recv(fd, s->phdr + s->phave, take, 0) !=
	    (ssize_t)take) {
		sess_proxy_bad(s, "read error in its PROXY header");
		return;
	}
	s->phave += take;
	switch (proxy_parse(s->phdr, s->phave, &h, &hl)) {
	case PROXY_NEED_MORE:
		if (s->phave < PROXY_HDR_MAX)
			return;
		/* FALLTHROUGH */
	case PROXY_BAD:
		sess_proxy_bad(s, "malformed PROXY header");
		return;
	case PROXY_OK:
		break;
	}
	if (h.has_addr) {
		memcpy(&s->caddr, &h.src, h.srclen);
		memcpy(&s->daddr, &h.dst, h.dstlen);
		s->has_daddr = true;
	}
	free(s->phdr);
	s->phdr = NULL;
	event_del(&s->ev_cread);
	event_del(&s->ev_timer);
	event_assign(&s->ev_cread, s->ctx->base, s->cfd, EV_READ | EV_PERSIST,
	    sess_relay_up_cb, s);
	s->state = SESS_CONNECTING;
	sess_connect_next(s);
}

/* accept_proxy: waits for the client's header, SESS_PROXY_TIMEOUT_MS. */
static void
sess_proxy_recv_start(struct sess *s)
{
	struct timeval	 tv;

	if ((s->phdr = malloc(PROXY_HDR_MAX)) == NULL) {
		sess_end(s, SESS_END_LOCAL_ERROR);
		return;
	}
	s->state = SESS_PROXY_RECV;
	event_assign(&s->ev_cread, s->ctx->base, s->cfd, EV_READ | EV_PERSIST,
	    sess_proxy_recv_cb, s);
	event_add(&s->ev_cread, NULL);
	sess_timeval(&tv, SESS_PROXY_TIMEOUT_MS);
	event_add(&s->ev_timer, &tv);
}

/*
 * Writes what is left of our PROXY header to the server.  Returns 1 when
 * all of it is written, 0 when the socket would block, -1 on error.
 */
static int
sess_proxy_write(struct sess *s)
{
	ssize_t	 n;

	while (s->poff < s->plen) {
		n = send(s->sfd, s->psend + s->poff, s->plen - s->poff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN ? 0 : -1;
		s->poff += (size_t)n;
	}
	return 1;
}

/* The server took the header, or the send failed or timed out. */
static void
sess_proxy_send_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;
	int		 rc = (what & EV_WRITE) ? sess_proxy_write(s) : -1;

	if (rc == 0)
		return;
	event_del(&s->ev_swrite);
	if (rc == 1) {
		sess_relay_start(s);
		return;
	}
	if (!(what & EV_WRITE))
		errno = ETIMEDOUT;
	sess_server_failed(s);
	sess_connect_next(s);
}

/*
 * The connect to s->server succeeded.  With send_proxy (the server's
 * own, else its pool's) the PROXY header goes first, before any client
 * byte is spliced; a partial write waits for EV_WRITE (bounded by the
 * connect timeout).  A server that fails it is tried like a failed
 * connect: nothing of the client's has been sent yet.
 */
static void
sess_connected(struct sess *s)
{
	struct sess_ctx		*ctx = s->ctx;
	const struct shm_server	*srv = &ctx->t->servers[s->server];
	struct sockaddr_storage	 dst;
	socklen_t		 dlen = sizeof(dst);
	struct timeval		 tv;
	uint32_t		 mode;
	ssize_t			 n;
	int			 rc;

	mode = atomic_load_explicit(&srv->send_proxy, memory_order_relaxed);
	if (mode == PROXY_SEND_INHERIT)
		mode = ctx->t->pools[s->listener->pool_idx].send_proxy;
	if (mode != PROXY_SEND_V1 && mode != PROXY_SEND_V2) {
		sess_relay_start(s);
		return;
	}
	if (s->has_daddr)
		dst = s->daddr;
	else if (getsockname(s->cfd, (struct sockaddr *)&dst, &dlen) == -1)
		dst.ss_family = AF_UNSPEC;	/* sent as UNKNOWN / LOCAL */
	n = proxy_encode(mode == PROXY_SEND_V1 ? 1 : 2,
	    (struct sockaddr *)&s->caddr, (struct sockaddr *)&dst, s->psend,
	    sizeof(s->psend));
	s->plen = n > 0 ? (size_t)n : 0;
	s->poff = 0;
	if ((rc = sess_proxy_write(s)) == 1) {
		sess_relay_start(s);
		return;
	}
	if (rc == -1) {
		sess_server_failed(s);
		sess_connect_next(s);
		return;
	}
	s->state = SESS_PROXY_SEND;
	event_assign(&s->ev_swrite, ctx->base, s->sfd, EV_WRITE | EV_PERSIST,
	    sess_proxy_send_cb, s);
	sess_timeval(&tv, ctx->conf->connect_timeout_ms);
	event_add(&s->ev_swrite, ctx->conf->connect_timeout_ms > 0 ? &tv :
	    NULL);
}

void
sess_start(struct sess_ctx *ctx, int cfd, const struct sockaddr *sa,
    socklen_t salen, const struct worker_listener *l, uint32_t src)
{
	struct sess *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("session for %s", l->name);
		close(cfd);
		if (src != SHM_NONE)
			srclimit_release(&ctx->t->srcs, ctx->slot, src);
		shm_conn_release(ctx->t, ctx->slot);
		return;
	}
	s->ctx = ctx;
	s->state = SESS_CONNECTING;
	s->cfd = cfd;
	s->sfd = -1;
	if (salen > sizeof(s->caddr))
		salen = sizeof(s->caddr);
	memcpy(&s->caddr, sa, salen);
	s->listener = l;
	s->server = SHM_NONE;
	s->src = src;
	s->start_ms = s->last_ms = clock_mono_ms();
	s->up.src = cfd;
	s->down.dst = cfd;
	s->up.dst = s->down.src = -1;
	s->up.pipe[0] = s->up.pipe[1] = -1;
	s->down.pipe[0] = s->down.pipe[1] = -1;
	sess_init_events(s);
	sess_nodelay(cfd);
	TAILQ_INSERT_TAIL(&ctx->sessions, s, entry);
	ctx->nsessions++;
	if (sess_accepts_proxy(ctx->conf, l->name))
		sess_proxy_recv_start(s);
	else
		sess_connect_next(s);
}
