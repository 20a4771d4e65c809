/*
 * ctl.c - lbd's control socket: a unix stream socket served by the
 * master on its libevent loop (bufferevents: this is not the hot path).
 *
 * Who may talk: uid 0, lbd's own euid, and members of the optional
 * control group, checked once per connection with SO_PEERCRED (and
 * SO_PEERGROUPS for supplementary groups).  Everyone else gets one ERR
 * line, is logged (rate-limited) and is closed.
 *
 * Bounds: CTL_CLIENTS_MAX concurrent clients, CTL_LINE_MAX per request
 * line (a longer one gets ERR and the connection is closed), an idle
 * timeout, CTL_REPLY_MAX per reply, and reading pauses while a client
 * leaves more than CTL_REPLY_MAX of replies unread.  A malformed or
 * unknown command gets ERR and the connection stays usable.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "clock.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "ctl_proto.h"
#include "log.h"

#define CTL_CLIENTS_MAX		64
#define CTL_IDLE_MS		30000	/* default; ctl_env.idle_ms */
#define CTL_LINES_PER_READ	64	/* then yield to the loop */
#define CTL_INPUT_MAX		(64 * CTL_LINE_MAX)	/* buffered requests */
#define CTL_REFUSE_LOGS		10	/* refusals logged per window */
#define CTL_REFUSE_WINDOW_MS	10000

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct ctl_server	*cs;
	struct bufferevent	*bev;
	uid_t			 uid;
	pid_t			 pid;
	bool			 closing;	/* free once output is flushed */
	bool			 paused;	/* reading stopped: output full */
	bool			 eof;		/* the client sent everything */
};

struct ctl_server {
	struct event_base		*base;
	struct evconnlistener		*lev;
	struct ctl_env			 env;
	char				 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct event			*resume;	/* after accept errors */
	TAILQ_HEAD(, ctl_client)	 clients;
	int				 nclients;
	int64_t				 refuse_window;	/* mono ms */
	unsigned			 refuse_logged;
	unsigned			 refuse_dropped;
};

static void ctl_on_read(struct bufferevent *, void *);
static void ctl_on_write(struct bufferevent *, void *);
static void ctl_on_event(struct bufferevent *, short, void *);

static void
ctl_client_free(struct ctl_client *c)
{
	TAILQ_REMOVE(&c->cs->clients, c, entry);
	c->cs->nclients--;
	bufferevent_free(c->bev);
	free(c);
}

/* Queues one framed reply: header, then body. */
static void
ctl_reply(struct ctl_client *c, bool ok, const char *body, size_t len)
{
	struct evbuffer	*o = bufferevent_get_output(c->bev);
	char		 hdr[32];
	size_t		 n;

	n = ctl_reply_header(hdr, sizeof(hdr), ok, len);
	evbuffer_add(o, hdr, n);
	if (len > 0)
		evbuffer_add(o, body, len);
}

/*
 * Sends a last ERR and closes once it is written: no more reads, the
 * write callback frees the client when the output is empty.
 */
static void
ctl_reply_close(struct ctl_client *c, const char *msg)
{
	ctl_reply(c, false, msg, strlen(msg));
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
}

/* Runs one request line; the reply is queued on the client. */
static void
ctl_line(struct ctl_client *c, const char *line, size_t len)
{
	struct ctl_request	 req;
	struct ctl_buf		 out;
	char			 why[128];
	bool			 ok;

	ctl_buf_init(&out);
	if (ctl_request_parse(line, len, &req, why, sizeof(why)) == -1) {
		ctl_buf_printf(&out, "%s; try 'help'\n", why);
		ok = false;
	} else
		ok = ctl_cmd_run(&c->cs->env, &req, (uint32_t)c->uid, &out);
	if (out.overflow) {
		ctl_buf_free(&out);
		ctl_buf_printf(&out, "reply larger than %u bytes; narrow the "
		    "request (e.g. servers POOL)\n", CTL_REPLY_MAX);
		ok = false;
	}
	ctl_reply(c, ok, out.data, out.len);
	ctl_buf_free(&out);
}

/*
 * Done with input (EOF seen, every complete line answered): free the
 * client now, or once its replies are written.  May free c.
 */
static void
ctl_finish(struct ctl_client *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		ctl_client_free(c);
		return;
	}
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
}

/*
 * Answers the complete lines buffered: at most CTL_LINES_PER_READ per
 * call (the rest on the next loop turn, so one client cannot hog the
 * master), and none while the client leaves more than CTL_REPLY_MAX of
 * replies unread (the write callback resumes).  A partial line at
 * CTL_LINE_MAX closes the client; a shorter one waits for more bytes, or
 * is dropped at EOF.  May free c.
 */
static void
ctl_on_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	char			 line[CTL_LINE_MAX + 1];
	size_t			 eol_len;
	int			 i;

	for (i = 0; i < CTL_LINES_PER_READ && !c->closing; i++) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CTL_REPLY_MAX) {
			c->paused = true;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos == -1 || (size_t)eol.pos + 1 > CTL_LINE_MAX) {
			if (eol.pos != -1 ||
			    evbuffer_get_length(in) >= CTL_LINE_MAX)
				ctl_reply_close(c, "request line too long\n");
			else if (c->eof)
				ctl_finish(c);
			return;
		}
		evbuffer_remove(in, line, (size_t)eol.pos + 1);
		ctl_line(c, line, (size_t)eol.pos + 1);
	}
	/* Lines left over: come back on the next loop turn. */
	if (!c->closing)
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS |
		    BEV_TRIG_IGNORE_WATERMARKS);
}

/* Output flushed: free a closing client, or resume a paused reader. */
static void
ctl_on_write(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;

	if (c->closing) {
		ctl_client_free(c);
		return;
	}
	if (c->paused) {
		c->paused = false;
		if (!c->eof)
			bufferevent_enable(bev, EV_READ);
		ctl_on_read(bev, c);
	}
}

/*
 * EOF, error or idle timeout.  A client that half-closed after its last
 * commands still gets every answer: the buffered lines are run first,
 * then the client is closed once the replies are written.
 */
static void
ctl_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		c->eof = true;
		bufferevent_disable(bev, EV_READ);
		if (!c->paused && !c->closing)
			ctl_on_read(bev, c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("ctl: uid=%u idle, closed", (unsigned)c->uid);
	ctl_client_free(c);
}

/* True when gid is the control group and the group is set. */
static bool
ctl_group_match(const struct ctl_server *cs, gid_t gid)
{
	return cs->env.control_gid != (gid_t)-1 && cs->env.control_gid != 0 &&
	    gid == cs->env.control_gid;
}

/*
 * Peer check: uid 0, our euid, or a member of the control group (primary
 * or supplementary, per SO_PEERGROUPS).  Fills *cred.  True when allowed.
 */
static bool
ctl_peer_allowed(const struct ctl_server *cs, int fd, struct ucred *cred)
{
	gid_t		 groups[256];
	socklen_t	 len = sizeof(*cred);
	size_t		 i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) == -1)
		return false;
	if (cred->uid == 0 || cred->uid == geteuid() ||
	    ctl_group_match(cs, cred->gid))
		return true;
	if (cs->env.control_gid == (gid_t)-1 || cs->env.control_gid == 0)
		return false;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (ctl_group_match(cs, groups[i]))
			return true;
	return false;
}

/* Logs a refusal, at most CTL_REFUSE_LOGS per window. */
static void
ctl_log_refusal(struct ctl_server *cs, const struct ucred *cred,
    const char *why)
{
	int64_t	 now = clock_mono_ms();

	if (now - cs->refuse_window >= CTL_REFUSE_WINDOW_MS) {
		if (cs->refuse_dropped > 0)
			log_warnx("ctl: %u more refusal(s) not logged",
			    cs->refuse_dropped);
		cs->refuse_window = now;
		cs->refuse_logged = cs->refuse_dropped = 0;
	}
	if (cs->refuse_logged++ >= CTL_REFUSE_LOGS) {
		cs->refuse_dropped++;
		return;
	}
	log_warnx("ctl: refused uid=%u gid=%u pid=%d: %s",
	    (unsigned)cred->uid, (unsigned)cred->gid, (int)cred->pid, why);
}

/* Best-effort last word to a client we will not serve, then close. */
static void
ctl_refuse(int fd, const char *msg)
{
	char	 buf[128];
	size_t	 n, m = strlen(msg);

	n = ctl_reply_header(buf, sizeof(buf), false, m);
	if (n + m <= sizeof(buf)) {
		memcpy(buf + n, msg, m);
		(void)send(fd, buf, n + m, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(fd);
}

static void
ctl_on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctl_server	*cs = arg;
	struct ctl_client	*c;
	struct ucred		 cred;
	uint32_t		 ms = cs->env.idle_ms ? cs->env.idle_ms :
				    CTL_IDLE_MS;
	struct timeval		 idle = { ms / 1000, (ms % 1000) * 1000 };

	memset(&cred, 0, sizeof(cred));
	if (!ctl_peer_allowed(cs, fd, &cred)) {
		ctl_log_refusal(cs, &cred, "not root, lbd's user or in the "
		    "control group");
		ctl_refuse(fd, "permission denied\n");
		return;
	}
	if (cs->nclients >= CTL_CLIENTS_MAX) {
		ctl_log_refusal(cs, &cred, "too many control clients");
		ctl_refuse(fd, "too many control clients; try again\n");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(cs->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warn("ctl: cannot serve a client");
		free(c);
		close(fd);
		return;
	}
	c->cs = cs;
	c->uid = cred.uid;
	c->pid = cred.pid;
	TAILQ_INSERT_TAIL(&cs->clients, c, entry);
	cs->nclients++;
	bufferevent_setcb(c->bev, ctl_on_read, ctl_on_write, ctl_on_event, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	/* Bounded input: reading stops while this much waits unanswered. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_INPUT_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Accepting again after a pause. */
static void
ctl_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_server *cs = arg;

	evconnlistener_enable(cs->lev);
}

/*
 * accept(2) failed for another reason than a client that went away:
 * usually out of fds.  The listening socket stays readable, so pause it
 * for a second instead of spinning; logged once per pause.
 */
static void
ctl_on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct ctl_server	*cs = arg;
	struct timeval		 pause = { 1, 0 };

	log_warn("ctl: accept on %s; pausing the control socket 1 s",
	    cs->path);
	evconnlistener_disable(lev);
	evtimer_add(cs->resume, &pause);
}

/*
 * Makes the socket's directory (mode 0750, group = control group) when
 * it is missing.  0 or -1 with errno.
 */
static int
ctl_mkdir(const struct ctl_env *env, const char *path)
{
	char	 dir[PATH_MAX];
	char	*slash;

	if (strlen(path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) == -1)
		return errno == EEXIST ? 0 : -1;
	if (env->control_gid != (gid_t)-1 && env->control_gid != 0 &&
	    chown(dir, (uid_t)-1, env->control_gid) == -1)
		return -1;
	return 0;
}

/*
 * Clears the way for bind: nothing there is fine; a socket nobody
 * answers on is stale and unlinked; a live socket is EADDRINUSE; any
 * other kind of file is left alone (EEXIST).
 */
static int
ctl_clear_stale(const struct sockaddr_un *sun)
{
	struct stat	 st;
	int		 fd, rc, err;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	err = errno;
	close(fd);
	if (rc == 0) {
		errno = EADDRINUSE;
		return -1;
	}
	if (err != ECONNREFUSED) {
		errno = err;
		return -1;
	}
	return unlink(sun->sun_path);
}

/*
 * Binds and listens on path with mode 0660 (umask tightened around bind
 * so the socket is never reachable with looser bits).  fd or -1.
 */
static int
ctl_bind(const struct ctl_env *env, const struct sockaddr_un *sun)
{
	mode_t	 old;
	int	 fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	old = umask(0117);
	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) == -1) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(sun->sun_path, 0660) == -1 ||
	    (env->control_gid != (gid_t)-1 && env->control_gid != 0 &&
	    chown(sun->sun_path, (uid_t)-1, env->control_gid) == -1) ||
	    listen(fd, 16) == -1) {
		err = errno;
		unlink(sun->sun_path);
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

struct ctl_server *
ctl_open(struct event_base *base, const char *path, const struct ctl_env *env)
{
	struct ctl_server	*cs;
	struct sockaddr_un	 sun;
	int			 fd, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || *path == '\0' ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		errno = path == NULL || *path == '\0' ? EINVAL : ENAMETOOLONG;
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if (ctl_mkdir(env, path) == -1 || ctl_clear_stale(&sun) == -1 ||
	    (fd = ctl_bind(env, &sun)) == -1)
		return NULL;
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		goto fail;
	cs->base = base;
	cs->env = *env;
	strcpy(cs->path, path);
	TAILQ_INIT(&cs->clients);
	cs->lev = evconnlistener_new(base, ctl_on_accept, cs,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (cs->lev == NULL)
		goto fail;
	if ((cs->resume = evtimer_new(base, ctl_on_resume, cs)) == NULL) {
		err = errno;
		evconnlistener_free(cs->lev);	/* closes fd */
		free(cs);
		unlink(path);
		errno = err != 0 ? err : ENOMEM;
		return NULL;
	}
	evconnlistener_set_error_cb(cs->lev, ctl_on_accept_error);
	return cs;
fail:
	err = errno;
	free(cs);
	close(fd);
	unlink(path);
	errno = err != 0 ? err : ENOMEM;
	return NULL;
}

void
ctl_close(struct ctl_server *cs)
{
	struct ctl_client *c;

	if (cs == NULL)
		return;
	while ((c = TAILQ_FIRST(&cs->clients)) != NULL)
		ctl_client_free(c);
	event_free(cs->resume);
	evconnlistener_free(cs->lev);
	unlink(cs->path);
	free(cs);
}
