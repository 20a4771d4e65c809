/*
 * track.c - lbd health tracking (see track.h).
 *
 * One exchange per tick: connect (unix sockets connect at once or fail),
 * send "health\n", read "OK <len>\n" or "ERR <len>\n" + body.  A reply
 * slower than timeout_ms counts as a failure, as does an unreachable
 * socket; the next tick aborts anything still in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "ctl_proto.h"
#include "track.h"

static void
fo_track_close(struct fo_track *t)
{
	if (t->io != NULL) {
		event_free(t->io);
		t->io = NULL;
	}
	if (t->fd != -1) {
		close(t->fd);
		t->fd = -1;
	}
}

/* Applies one result through the fall/rise hysteresis. */
static void
fo_track_result(struct fo_track *t, bool ok, const char *why)
{
	fo_track_close(t);
	t->checks++;
	if (ok) {
		t->ok_streak++;
		t->fail_streak = 0;
		t->last_ok_ms = clock_mono_ms();
		if (!t->healthy && t->ok_streak >= t->rise) {
			t->healthy = true;
			t->cb(t->arg, true, "lbd healthy");
		}
		return;
	}
	t->failures++;
	t->fail_streak++;
	t->ok_streak = 0;
	snprintf(t->reason, sizeof(t->reason), "%s", why);
	if (t->healthy && t->fail_streak >= t->fall) {
		t->healthy = false;
		t->cb(t->arg, false, t->reason);
	}
}

/*
 * Looks at what has arrived: 1 = done (result applied), 0 = need more.
 */
static int
fo_track_parse(struct fo_track *t)
{
	char	*nl = memchr(t->rbuf, '\n', t->rlen), why[FO_TRACK_REASON];
	size_t	 len, have;
	bool	 ok;

	if (nl == NULL)
		return t->rlen == sizeof(t->rbuf) ?
		    (fo_track_result(t, false, "lbd: malformed reply"), 1) : 0;
	if (ctl_reply_header_parse(t->rbuf, (size_t)(nl - t->rbuf) + 1, &ok,
	    &len) == -1) {
		fo_track_result(t, false, "lbd: malformed reply");
		return 1;
	}
	if (ok) {
		fo_track_result(t, true, NULL);
		return 1;
	}
	have = t->rlen - (size_t)(nl + 1 - t->rbuf);
	if (have < len && t->rlen < sizeof(t->rbuf))
		return 0;	/* wait for the reason */
	have = have < len ? have : len;
	while (have > 0 && (nl[have] == '\n' || nl[have] == '\r'))
		have--;
	snprintf(why, sizeof(why), "lbd unhealthy: %.*s", (int)have, nl + 1);
	for (char *p = why; *p != '\0'; p++)
		if (*p < ' ' || *p > '~')
			*p = ' ';
	fo_track_result(t, false, why);
	return 1;
}

static void
fo_track_io(evutil_socket_t fd, short what, void *arg)
{
	struct fo_track	*t = arg;
	struct timeval	 tv;
	int64_t		 left;
	ssize_t		 n;

	if (what & EV_TIMEOUT) {
		fo_track_result(t, false, "lbd: no answer within track_timeout");
		return;
	}
	n = recv(fd, t->rbuf + t->rlen, sizeof(t->rbuf) - t->rlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fo_track_result(t, false, n == 0 ? "lbd: closed without answer" :
		    "lbd: read error");
		return;
	}
	t->rlen += (size_t)n;
	if (fo_track_parse(t) == 1)
		return;
	left = t->deadline - clock_mono_ms();
	if (left < 1)
		left = 1;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	event_add(t->io, &tv);
}

/* Opens the connection and sends the command; -1 with a reason. */
static int
fo_track_send(struct fo_track *t, char *why, size_t whylen)
{
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, t->path, strlen(t->path));
	t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd == -1 ||
	    connect(t->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    send(t->fd, "health\n", 7, MSG_NOSIGNAL) != 7) {
		snprintf(why, whylen, "lbd unreachable: %s: %s", t->path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
fo_track_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fo_track	*t = arg;
	struct timeval	 tv;
	char		 why[FO_TRACK_REASON];

	if (t->io != NULL)	/* previous one never finished */
		fo_track_result(t, false, "lbd: no answer within track_timeout");
	t->rlen = 0;
	if (fo_track_send(t, why, sizeof(why)) == -1) {
		fo_track_result(t, false, why);
		return;
	}
	t->deadline = clock_mono_ms() + t->timeout_ms;
	t->io = event_new(t->base, t->fd, EV_READ | EV_PERSIST, fo_track_io, t);
	tv.tv_sec = t->timeout_ms / 1000;
	tv.tv_usec = (t->timeout_ms % 1000) * 1000;
	if (t->io == NULL || event_add(t->io, &tv) == -1)
		fo_track_result(t, false, "lbd: out of memory");
}

int
fo_track_start(struct fo_track *t, struct event_base *base, const char *path,
    int64_t interval_ms, int64_t timeout_ms, unsigned fall, unsigned rise,
    void (*cb)(void *, bool, const char *), void *arg)
{
	struct timeval	 tv;

	memset(t, 0, sizeof(*t));
	t->base = base;
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->interval_ms = interval_ms;
	t->timeout_ms = timeout_ms;
	t->fall = fall;
	t->rise = rise;
	t->cb = cb;
	t->arg = arg;
	t->fd = -1;
	t->last_ok_ms = -1;
	snprintf(t->reason, sizeof(t->reason), "lbd health not checked yet");
	if ((t->tick = event_new(base, -1, EV_PERSIST, fo_track_tick, t)) == NULL)
		return -1;
	tv.tv_sec = interval_ms / 1000;
	tv.tv_usec = (interval_ms % 1000) * 1000;
	if (event_add(t->tick, &tv) == -1)
		return -1;
	fo_track_tick(-1, 0, t);	/* first check right away */
	return 0;
}

void
fo_track_stop(struct fo_track *t)
{
	fo_track_close(t);
	if (t->tick != NULL) {
		event_free(t->tick);
		t->tick = NULL;
	}
}
