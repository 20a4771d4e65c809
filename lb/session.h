/*
 * session.h - one proxied connection in an lbd worker.
 *
 * A session owns the client socket, the server socket, up to two pipes
 * (borrowed from the worker's pool only while bytes are in flight), five
 * libevent events embedded in it, one global connection reserved in the
 * shared table and, once a server is picked, that server's active count.
 * Everything it owns is released exactly once, in sess_end().
 *
 * Life: CONNECTING (pick, non-blocking connect, retry on failure) ->
 * RELAYING (splice both ways, half-close propagated, idle timeout) -> end.
 * Worker process only.
 */
#ifndef LB_SESSION_H
#define LB_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "balance.h"
#include "conf-t.h"
#include "pipe.h"
#include "proxy.h"
#include "shm-t.h"
#include "worker.h"

/* How a session ended; names are what the log line says. */
enum sess_end {
	SESS_END_CLIENT_CLOSE = 0,	/* client finished first, both done */
	SESS_END_SERVER_CLOSE = 1,	/* server finished first, both done */
	SESS_END_IDLE_TIMEOUT = 2,
	SESS_END_CONNECT_FAILED = 3,	/* every try failed */
	SESS_END_NO_SERVER = 4,		/* nothing usable in the pool */
	SESS_END_CLIENT_RESET = 5,	/* error/RST on the client side */
	SESS_END_SERVER_RESET = 6,	/* error/RST on the server side */
	SESS_END_SHUTDOWN = 7,		/* worker fast stop (SIGINT) */
	SESS_END_LOCAL_ERROR = 8,	/* out of fds/memory here */
	SESS_END_MAXCONN = 9,		/* global maxconn reached at accept */
	SESS_END_SERVER_DOWN = 10,	/* on_down = "shutdown": server down */
	SESS_END_BAD_PROXY = 11,	/* accept_proxy: bad/missing header */
	SESS_END_PER_SOURCE = 12,	/* maxconn_per_source reached */
	SESS_END__COUNT
};

enum sess_state {
	SESS_CONNECTING = 0,
	SESS_RELAYING = 1,
	SESS_PROXY_RECV = 2,	/* reading the client's PROXY header */
	SESS_PROXY_SEND = 3,	/* connected, writing our PROXY header */
};

/* One direction: bytes read from `src` go through `pipe` to `dst`. */
struct sess_dir {
	int		 src;
	int		 dst;
	int		 pipe[2];	/* -1 when none is borrowed */
	size_t		 inpipe;	/* bytes sitting in pipe */
	uint64_t	 bytes;		/* delivered to dst */
	bool		 eof;		/* src said EOF */
	bool		 done;		/* EOF forwarded (shutdown(dst)) */
	bool		 waitpipe;	/* parked: no pipe was available */
	struct event	*rev;		/* EV_READ on src */
	struct event	*wev;		/* EV_WRITE on dst */
};

struct sess_ctx;

struct sess {
	TAILQ_ENTRY(sess)	 entry;
	struct sess_ctx		*ctx;
	enum sess_state		 state;
	int			 cfd;
	int			 sfd;
	struct sockaddr_storage	 caddr;
	const struct worker_listener *listener;
	uint32_t		 server;	/* SHM_NONE until picked */
	uint32_t		 src;		/* srclimit slot, or SHM_NONE */
	uint32_t		 tried[BAL_MAX_TRIES];
	uint32_t		 ntried;
	int64_t			 start_ms;	/* monotonic */
	int64_t			 last_ms;	/* last byte moved, monotonic */
	int			 first_eof;	/* 0 none, 1 client, 2 server */
	struct sess_dir		 up;		/* client -> server */
	struct sess_dir		 down;		/* server -> client */
	struct event		 ev_cread;
	struct event		 ev_cwrite;
	struct event		 ev_sread;
	struct event		 ev_swrite;	/* also the connect wait */
	struct event		 ev_timer;	/* idle timeout, pipe wait */
	/* PROXY protocol: the header read (malloc'd only while reading). */
	uint8_t			*phdr;
	size_t			 phave;
	struct sockaddr_storage	 daddr;		/* the header's destination */
	bool			 has_daddr;
	uint8_t			 psend[PROXY_ENC_MAX];	/* header to send */
	size_t			 plen;
	size_t			 poff;		/* bytes of psend written */
};

TAILQ_HEAD(sess_list, sess);

/* What every session of one worker shares; owned by the worker. */
struct sess_ctx {
	struct event_base	*base;
	const struct conf	*conf;
	struct shm_table	*t;
	uint32_t		 slot;
	struct bal_ctx		 bal;
	struct pipe_pool	 pipes;
	struct sess_list	 sessions;
	uint32_t		 nsessions;
	/* Called after a session ended (the worker's drain check). */
	void			(*on_end)(struct sess_ctx *, void *);
	void			*on_end_arg;
};

/*
 * Starts proxying accepted client `cfd` (non-blocking) from listener `l`.
 * The caller has reserved one global connection (shm_conn_reserve) and,
 * unless `src` is SHM_NONE, counted the client's address in srclimit
 * slot `src`; the session takes ownership of both and of cfd in every
 * case, including failure (client closed, counts released, line logged).
 */
void sess_start(struct sess_ctx *ctx, int cfd, const struct sockaddr *sa,
    socklen_t salen, const struct worker_listener *l, uint32_t src);

/*
 * Closes accepted client `cfd` without proxying it (e.g. `why` =
 * SESS_END_MAXCONN) and logs the line; nothing in the table is released
 * because nothing was reserved.
 */
void sess_reject(struct sess_ctx *ctx, int cfd, const struct sockaddr *sa,
    const struct worker_listener *l, enum sess_end why);

/* Ends every session of ctx with `why` (worker fast stop). */
void sess_close_all(struct sess_ctx *ctx, enum sess_end why);

/* "client_close", ... for the log line. */
const char *sess_end_name(enum sess_end e);
/*
 * Ends every relaying session whose server is marked down and has
 * on_down = "shutdown" (health.c sets both in the table).  O(sessions);
 * the worker calls it on a short timer.
 */
void sess_close_down(struct sess_ctx *ctx);

/*
 * Shared by session.c (life of a session) and relay.c (its data plane);
 * not for the worker.
 */

/* How long a direction waits before asking the pipe pool again. */
#define SESS_PIPE_RETRY_MS	20

static inline void
sess_timeval(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/* Releases all `s` owns, logs its line, frees it (session.c). */
void sess_end(struct sess *s, enum sess_end why);
/*
 * The server failed before any byte moved either way (reset or closed
 * right after accepting: a backend killed with connections in its accept
 * queue).  Nothing of the client's reached it, so the session counts a
 * failure and tries another server like a failed connect (session.c).
 */
void sess_retry_server(struct sess *s);
/* The server is ready: start relaying both ways (relay.c). */
void sess_relay_start(struct sess *s);
/* Pumps direction `d`; true when the session ended (relay.c). */
bool sess_relay_pump(struct sess *s, struct sess_dir *d);
/* EV_READ on the client / EV_WRITE on the server: pump up (relay.c). */
void sess_relay_up_cb(evutil_socket_t fd, short what, void *arg);
/* EV_READ on the server / EV_WRITE on the client: pump down (relay.c). */
void sess_relay_down_cb(evutil_socket_t fd, short what, void *arg);

#endif
