/*
 * health.c - lbd's active health checker (see health.h).
 *
 * Master process, on its libevent loop.  A tick every HC_TICK_MS walks
 * the shared table: it adopts new servers (and notices a reused slot by
 * its pool/name), leaves `maint` servers alone, turns the workers'
 * consecutive connect failures into a passive down, lets time act on
 * flap damping and slow start, publishes what operators see, and starts
 * the checks that are due.  The checker is the only writer of the health
 * field, so the workers' passive counts never race with check results.
 *
 * One check: non-blocking connect; then, if configured, send the bytes
 * and read until `expect` is found.  Every phase waits on one event whose
 * timeout is what is left of the check's `timeout`.  Reading is bounded
 * to HC_READ_MAX bytes per check, HC_CHUNK per read(2) and HC_READS_PER_CB
 * reads per wake-up, so a hostile responder (endless garbage, one byte a
 * second, RST) costs a fixed amount of memory and time and is simply a
 * failed check.
 *
 * Cost: O(table size) per tick (1024 slots, no system call for an idle
 * slot), one socket per check in flight, about 1 KiB of state per slot.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "conf_health.h"
#include "health.h"
#include "health_fsm.h"
#include "log.h"
#include "shm.h"

#define HC_TICK_MS		25
#define HC_READ_MAX		(16 * 1024)	/* bytes read per check, at most */
#define HC_CHUNK		4096		/* bytes per read(2) */
#define HC_READS_PER_CB		4
#define HC_FIRST_SPREAD_MS	100	/* first checks of "initial down" */
#define HC_WHY_LEN		192

enum hc_phase {
	HC_IDLE = 0,
	HC_CONNECTING = 1,
	HC_SENDING = 2,
	HC_READING = 3,
};

/* What the checker keeps per slot of the shared table. */
struct hc_srv {
	struct health		*h;
	uint32_t		 idx;
	bool			 live;		/* tracking this slot */
	bool			 ramping;	/* eff_weight is ours to set */
	char			 pool[SHM_NAME_MAX];
	char			 name[SHM_NAME_MAX];
	struct conf_health	 cfg;
	struct hfsm_params	 params;
	struct hfsm		 fsm;
	enum hc_phase		 phase;
	int			 fd;
	struct event		 ev;
	int64_t			 due;		/* next check, monotonic ms */
	int64_t			 started;	/* current check, monotonic ms */
	uint32_t		 sent;
	uint32_t		 nread;
	uint32_t		 ntail;
	uint8_t			 tail[CONF_HC_DATA_MAX]; /* carried over reads */
	int			 err;		/* errno of the last failure */
};

struct health {
	struct event_base	*base;
	struct shm_table	*t;
	struct conf *const	*confp;
	struct event		*tick;
	uint64_t		 rng;
	struct hc_srv		 srv[SHM_MAX_SERVERS];
};

static const char *const hc_result_names[SHM_CHECK__COUNT] = {
	[SHM_CHECK_NONE] = "none",
	[SHM_CHECK_OK] = "ok",
	[SHM_CHECK_REFUSED] = "refused",
	[SHM_CHECK_CONNECT_TIMEOUT] = "connect_timeout",
	[SHM_CHECK_TIMEOUT] = "timeout",
	[SHM_CHECK_CLOSED] = "closed",
	[SHM_CHECK_RESET] = "reset",
	[SHM_CHECK_TOO_LONG] = "too_long",
	[SHM_CHECK_ERROR] = "error",
};

static void	hc_io_cb(evutil_socket_t, short, void *);

const char *
health_result_name(unsigned r)
{
	return r < SHM_CHECK__COUNT ? hc_result_names[r] : "unknown";
}

/* xorshift64: jitter only, never 0. */
static uint32_t
hc_rand_below(struct health *h, uint64_t n)
{
	uint64_t x = h->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	h->rng = x;
	return n == 0 ? 0 : (uint32_t)(x % n);
}

/*
 * The settings of slot `hs` from the config in force: its own entry, or
 * for a server added at run time its pool's, or the defaults.
 */
static void
hc_resolve(struct health *h, struct hc_srv *hs)
{
	const struct conf	*c = *h->confp;
	const struct conf_pool	*cp = NULL;
	uint32_t		 i;

	conf_health_defaults(&hs->cfg);
	for (i = 0; c != NULL && i < c->npools; i++)
		if (strcmp(c->pools[i].name, hs->pool) == 0)
			cp = &c->pools[i];
	if (cp != NULL) {
		hs->cfg = cp->health;
		for (i = 0; i < cp->nservers; i++)
			if (strcmp(cp->servers[i].name, hs->name) == 0)
				hs->cfg = cp->servers[i].health;
	}
	hs->params.rise = hs->cfg.rise;
	hs->params.fall = hs->cfg.fall;
	hs->params.observe_errors = hs->cfg.observe_errors;
	hs->params.slowstart_ms = hs->cfg.slowstart_ms;
	hs->params.flap_limit = hs->cfg.flap_limit;
	hs->params.flap_window_ms = hs->cfg.flap_window_ms;
}

/* Stops the check in flight, if any. */
static void
hc_cancel(struct hc_srv *hs)
{
	if (hs->fd == -1)
		return;
	if (event_initialized(&hs->ev))
		event_del(&hs->ev);
	close(hs->fd);
	hs->fd = -1;
	hs->phase = HC_IDLE;
}

/* True when slot `hs` is probed: checks on, or passively down. */
static bool
hc_wanted(const struct hc_srv *hs)
{
	return hs->cfg.enabled || (hs->fsm.state == HFSM_DOWN &&
	    hs->fsm.why == HFSM_WHY_PASSIVE);
}

/*
 * Stores v in a shared field only when it differs: workers read these
 * cache lines on every pick, so an unchanged value is not rewritten.
 */
static void
hc_set(_Atomic uint32_t *p, uint32_t v)
{
	if (atomic_load_explicit(p, memory_order_relaxed) != v)
		atomic_store_explicit(p, v, memory_order_relaxed);
}

/*
 * Copies what operators and workers read into the table, health included
 * (the checker is its only writer, so the table always matches the state
 * machine), and drives the slow-start weight.
 */
static void
hc_publish(struct health *h, struct hc_srv *hs, int64_t now)
{
	struct shm_server	*s = &h->t->servers[hs->idx];
	uint32_t		 ramp = hfsm_ramp(&hs->fsm, &hs->params, now);
	uint32_t		 w = atomic_load(&s->weight);

	hc_set(&s->health, hs->fsm.state == HFSM_UP ? SHM_HEALTH_UP :
	    SHM_HEALTH_DOWN);
	hc_set(&s->check_succ, hs->fsm.succ);
	hc_set(&s->check_fail, hs->fsm.fail);
	hc_set(&s->flaps, hs->fsm.flaps);
	hc_set(&s->penalty, hs->fsm.penalty);
	hc_set(&s->transitions, hs->fsm.transitions);
	hc_set(&s->checked, hs->cfg.enabled ? 1u : 0u);
	hc_set(&s->on_down_shutdown, hs->cfg.on_down_shutdown ? 1u : 0u);
	hc_set(&s->ramp_permille, ramp);
	if (ramp != 0) {
		if (!hs->ramping)
			atomic_store(&s->ramp_start_ms, clock_wall_ms() -
			    (now - hs->fsm.ramp_start));
		hs->ramping = true;
		hc_set(&s->eff_weight, hfsm_weight(&hs->fsm, &hs->params, w,
		    now));
	} else if (hs->ramping) {
		/* Ramp over: full weight (the operator's, if they changed it). */
		atomic_store(&s->eff_weight, w);
		atomic_store(&s->ramp_start_ms, 0);
		hs->ramping = false;
	}
}

/*
 * Writes a state change into the table and logs it once at NOTICE:
 * pool/server, old and new state, and why.
 */
static void
hc_apply(struct health *h, struct hc_srv *hs, enum hfsm_change ch,
    const char *why, int64_t now)
{
	struct shm_server	*s = &h->t->servers[hs->idx];
	bool			 up = ch == HFSM_WENT_UP;
	char			 pen[96] = "";

	if (ch == HFSM_SAME)
		return;
	if (up)
		atomic_store(&s->consec_failures, 0);
	else
		atomic_fetch_add(&s->down_epoch, 1);
	atomic_store(&s->health, up ? SHM_HEALTH_UP : SHM_HEALTH_DOWN);
	atomic_store(&s->last_change_ms, clock_wall_ms());
	if (!up && hs->fsm.penalty > 1)
		snprintf(pen, sizeof(pen), " (flapping: %u changes in the flap "
		    "window; %u checks needed to return)", hs->fsm.flaps,
		    hfsm_need(&hs->fsm, &hs->params));
	else if (up && hs->ramping == false && hs->fsm.ramp_start != 0)
		snprintf(pen, sizeof(pen), " (slow start over %llu ms)",
		    (unsigned long long)hs->params.slowstart_ms);
	log_notice("server %s/%s %s -> %s: %s%s", hs->pool, hs->name,
	    up ? "down" : "up", up ? "up" : "down", why, pen);
	hc_publish(h, hs, now);
}

/* Starts tracking slot `idx` (a new server, or a reused slot). */
static void
hc_adopt(struct health *h, struct hc_srv *hs, uint32_t idx, int64_t now)
{
	const struct shm_server	*s = &h->t->servers[idx];
	bool			 up;
	uint64_t		 spread;

	hc_cancel(hs);
	memset(hs, 0, sizeof(*hs));
	hs->h = h;
	hs->idx = idx;
	hs->fd = -1;
	hs->live = true;
	memcpy(hs->pool, s->pool, sizeof(hs->pool));
	hs->pool[SHM_NAME_MAX - 1] = '\0';
	memcpy(hs->name, s->name, sizeof(hs->name));
	hs->name[SHM_NAME_MAX - 1] = '\0';
	hc_resolve(h, hs);
	up = hs->cfg.enabled ? hs->cfg.initial_up : true;
	hfsm_init(&hs->fsm, up, now);
	atomic_store(&h->t->servers[idx].health, up ? SHM_HEALTH_UP :
	    SHM_HEALTH_DOWN);
	/* A server waiting for its first pass is probed at once. */
	spread = up ? hs->cfg.interval_ms : HC_FIRST_SPREAD_MS;
	if (spread > hs->cfg.interval_ms)
		spread = hs->cfg.interval_ms;
	hs->due = now + hc_rand_below(h, spread + 1);
	hc_publish(h, hs, now);
}

/* The next check: one interval after this one started, +-10% jitter. */
static void
hc_reschedule(struct health *h, struct hc_srv *hs, int64_t now)
{
	uint64_t iv = hs->cfg.interval_ms, j = iv / 5;

	hs->due = hs->started + (int64_t)(iv - iv / 10) +
	    hc_rand_below(h, j + 1);
	if (hs->due <= now)
		hs->due = now + 1;
}

/* Describes a failed check for the log ("connect refused" ...). */
static void
hc_describe(const struct hc_srv *hs, unsigned r, char *buf, size_t len)
{
	unsigned long long to = (unsigned long long)hs->cfg.timeout_ms;

	switch (r) {
	case SHM_CHECK_REFUSED:
		snprintf(buf, len, "connect refused");
		break;
	case SHM_CHECK_CONNECT_TIMEOUT:
		snprintf(buf, len, "no connect after %llums", to);
		break;
	case SHM_CHECK_TIMEOUT:
		snprintf(buf, len, "expect not found after %llums", to);
		break;
	case SHM_CHECK_CLOSED:
		snprintf(buf, len, "closed before expect (%u bytes read)",
		    hs->nread);
		break;
	case SHM_CHECK_RESET:
		snprintf(buf, len, "connection reset");
		break;
	case SHM_CHECK_TOO_LONG:
		snprintf(buf, len, "expect not found in %d bytes",
		    HC_READ_MAX);
		break;
	default:
		snprintf(buf, len, "%s", strerror(hs->err));
		break;
	}
}

/*
 * Ends the check in flight with result `r` (enum shm_check): records it,
 * feeds the state machine, logs a change and schedules the next one.
 */
static void
hc_finish(struct hc_srv *hs, unsigned r)
{
	struct health		*h = hs->h;
	struct shm_server	*s = &h->t->servers[hs->idx];
	int64_t			 now = clock_mono_ms();
	enum hfsm_change	 ch;
	char			 what[HC_WHY_LEN / 2], why[HC_WHY_LEN];

	hc_cancel(hs);
	atomic_store(&s->check_result, r);
	atomic_store(&s->check_ms, (uint32_t)(now - hs->started));
	atomic_store(&s->last_check_ms, clock_wall_ms());
	ch = hfsm_check(&hs->fsm, &hs->params, r == SHM_CHECK_OK, now);
	if (ch == HFSM_WENT_DOWN) {
		hc_describe(hs, r, what, sizeof(what));
		snprintf(why, sizeof(why), "%u check%s failed: %s",
		    hs->fsm.fail, hs->fsm.fail == 1 ? "" : "s", what);
	} else if (hs->fsm.why == HFSM_WHY_FIRST)
		snprintf(why, sizeof(why), "first check passed");
	else
		snprintf(why, sizeof(why), "%u checks passed", hs->fsm.succ);
	hc_apply(h, hs, ch, why, now);
	hc_publish(h, hs, now);
	hc_reschedule(h, hs, now);
}

/* Ends the check with the result that matches errno `e`. */
static void
hc_fail_errno(struct hc_srv *hs, int e)
{
	hs->err = e;
	if (e == ECONNREFUSED)
		hc_finish(hs, SHM_CHECK_REFUSED);
	else if (e == ECONNRESET || e == EPIPE)
		hc_finish(hs, SHM_CHECK_RESET);
	else
		hc_finish(hs, SHM_CHECK_ERROR);
}

/* Waits for `what` on the check's socket for what is left of timeout. */
static void
hc_wait(struct hc_srv *hs, short what)
{
	int64_t		left;
	struct timeval	tv;

	left = hs->started + (int64_t)hs->cfg.timeout_ms - clock_mono_ms();
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	if (event_initialized(&hs->ev))
		event_del(&hs->ev);
	event_assign(&hs->ev, hs->h->base, hs->fd, what, hc_io_cb, hs);
	if (event_add(&hs->ev, &tv) == -1) {
		hs->err = ENOMEM;
		hc_finish(hs, SHM_CHECK_ERROR);
	}
}

/* Sends what is left of `send`; then reads, or passes (no expect). */
static void
hc_send(struct hc_srv *hs)
{
	ssize_t n;

	hs->phase = HC_SENDING;
	while (hs->sent < hs->cfg.send_len) {
		n = send(hs->fd, hs->cfg.send + hs->sent,
		    hs->cfg.send_len - hs->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			hc_wait(hs, EV_WRITE);
			return;
		}
		if (n == -1) {
			hc_fail_errno(hs, errno);
			return;
		}
		hs->sent += (uint32_t)n;
	}
	if (hs->cfg.expect_len == 0) {
		hc_finish(hs, SHM_CHECK_OK);
		return;
	}
	hs->phase = HC_READING;
	hc_wait(hs, EV_READ);
}

/*
 * Looks for `expect` in the bytes carried over from earlier reads plus
 * the `n` new ones, then keeps the last expect_len - 1 bytes for the
 * next read.  Returns true when found.
 */
static bool
hc_match(struct hc_srv *hs, const uint8_t *buf, size_t n)
{
	uint8_t		 win[CONF_HC_DATA_MAX + HC_CHUNK];
	size_t		 len = hs->ntail + n, keep;
	uint32_t	 elen = hs->cfg.expect_len;

	memcpy(win, hs->tail, hs->ntail);
	memcpy(win + hs->ntail, buf, n);
	if (memmem(win, len, hs->cfg.expect, elen) != NULL)
		return true;
	keep = elen - 1 < len ? elen - 1 : len;
	memcpy(hs->tail, win + len - keep, keep);
	hs->ntail = (uint32_t)keep;
	return false;
}

/* Reads what the server sent, bounded, looking for `expect`. */
static void
hc_read(struct hc_srv *hs)
{
	uint8_t	 buf[HC_CHUNK];
	size_t	 want;
	ssize_t	 n;
	int	 i;

	for (i = 0; i < HC_READS_PER_CB; i++) {
		if (hs->nread >= HC_READ_MAX) {
			hc_finish(hs, SHM_CHECK_TOO_LONG);
			return;
		}
		want = HC_READ_MAX - hs->nread;
		if (want > sizeof(buf))
			want = sizeof(buf);
		n = recv(hs->fd, buf, want, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			hc_fail_errno(hs, errno);
			return;
		}
		if (n == 0) {
			hc_finish(hs, SHM_CHECK_CLOSED);
			return;
		}
		hs->nread += (uint32_t)n;
		if (hc_match(hs, buf, (size_t)n)) {
			hc_finish(hs, SHM_CHECK_OK);
			return;
		}
	}
	hc_wait(hs, EV_READ);
}

/* The socket is connected: send, read, or pass. */
static void
hc_connected(struct hc_srv *hs)
{
	if (hs->cfg.send_len > 0) {
		hc_send(hs);
		return;
	}
	if (hs->cfg.expect_len == 0) {
		hc_finish(hs, SHM_CHECK_OK);
		return;
	}
	hs->phase = HC_READING;
	hc_wait(hs, EV_READ);
}

static void
hc_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hc_srv	*hs = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (what & EV_TIMEOUT) {
		hs->err = ETIMEDOUT;
		hc_finish(hs, hs->phase == HC_CONNECTING ?
		    SHM_CHECK_CONNECT_TIMEOUT : SHM_CHECK_TIMEOUT);
		return;
	}
	switch (hs->phase) {
	case HC_CONNECTING:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0)
			hc_fail_errno(hs, err);
		else
			hc_connected(hs);
		break;
	case HC_SENDING:
		hc_send(hs);
		break;
	case HC_READING:
		hc_read(hs);
		break;
	case HC_IDLE:
		break;
	}
}

/* The address to probe: the server's, with the check port if set. */
static void
hc_target(const struct hc_srv *hs, const struct shm_server *s,
    struct sockaddr_storage *ss, socklen_t *len)
{
	memcpy(ss, &s->addr, sizeof(*ss));
	*len = (socklen_t)s->addrlen;
	if (hs->cfg.port == 0)
		return;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port =
		    htons((uint16_t)hs->cfg.port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port =
		    htons((uint16_t)hs->cfg.port);
}

/*
 * Starts one check of slot `hs`.  A failure that is ours (no fd, no
 * memory) is not held against the server: the check is skipped and
 * tried again next interval.
 */
static void
hc_begin(struct health *h, struct hc_srv *hs, int64_t now)
{
	const struct shm_server	*s = &h->t->servers[hs->idx];
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	hs->started = now;
	hs->sent = hs->nread = hs->ntail = 0;
	hs->err = 0;
	hc_target(hs, s, &ss, &len);
	if (len == 0) {		/* no address (tests): nothing to probe */
		hc_reschedule(h, hs, now);
		return;
	}
	hs->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (hs->fd == -1) {
		hc_reschedule(h, hs, now);
		return;
	}
	hs->phase = HC_CONNECTING;
	if (connect(hs->fd, (struct sockaddr *)&ss, len) == 0)
		hc_connected(hs);
	else if (errno == EINPROGRESS || errno == EINTR)
		hc_wait(hs, EV_WRITE);
	else if (errno == EAGAIN || errno == EADDRNOTAVAIL ||
	    errno == ENOBUFS || errno == ENOMEM) {
		hc_cancel(hs);
		hc_reschedule(h, hs, now);
	} else
		hc_fail_errno(hs, errno);
}

/* The workers' failed connects: a passive down, with the reason. */
static void
hc_passive(struct health *h, struct hc_srv *hs, int64_t now)
{
	uint32_t	 n;
	char		 why[HC_WHY_LEN];

	n = atomic_load(&h->t->servers[hs->idx].consec_failures);
	if (hfsm_passive(&hs->fsm, &hs->params, n, now) != HFSM_WENT_DOWN)
		return;
	snprintf(why, sizeof(why), "%u consecutive connect failures%s", n,
	    hs->cfg.enabled ? "" : " (probing until it answers)");
	hc_apply(h, hs, HFSM_WENT_DOWN, why, now);
	/* Probe soon: the checks decide when it comes back. */
	if (hs->phase == HC_IDLE && hs->due > now + (int64_t)hs->cfg.interval_ms)
		hs->due = now + (int64_t)hs->cfg.interval_ms;
}

/* One slot of the table, once per tick. */
static void
hc_scan_one(struct health *h, uint32_t i, int64_t now)
{
	struct shm_server	*s = &h->t->servers[i];
	struct hc_srv		*hs = &h->srv[i];

	if (!atomic_load(&s->in_use)) {
		if (hs->live)
			hc_cancel(hs);
		hs->live = false;
		return;
	}
	if (!hs->live || strncmp(hs->pool, s->pool, SHM_NAME_MAX) != 0 ||
	    strncmp(hs->name, s->name, SHM_NAME_MAX) != 0)
		hc_adopt(h, hs, i, now);
	if (atomic_load(&s->admin) == SHM_ADMIN_MAINT) {
		/* Not checked; first check soon after it leaves maint. */
		hc_cancel(hs);
		hs->due = now + hc_rand_below(h, HC_FIRST_SPREAD_MS + 1);
		return;
	}
	hc_passive(h, hs, now);
	hfsm_tick(&hs->fsm, &hs->params, now);
	hc_publish(h, hs, now);
	if (hs->phase == HC_IDLE && hc_wanted(hs) && now >= hs->due)
		hc_begin(h, hs, now);
}

static void
hc_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct health	*h = arg;
	int64_t		 now = clock_mono_ms();
	uint32_t	 i;

	for (i = 0; i < SHM_MAX_SERVERS; i++)
		hc_scan_one(h, i, now);
}

struct health *
health_start(struct event_base *base, struct shm_table *t,
    struct conf *const *confp)
{
	struct timeval	 tv = { 0, HC_TICK_MS * 1000 };
	struct health	*h;
	uint32_t	 i;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->base = base;
	h->t = t;
	h->confp = confp;
	if (getrandom(&h->rng, sizeof(h->rng), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(h->rng) || h->rng == 0)
		h->rng = (uint64_t)clock_mono_ms() * 2654435761u + 1;
	for (i = 0; i < SHM_MAX_SERVERS; i++)
		h->srv[i].fd = -1;
	h->tick = event_new(base, -1, EV_PERSIST, hc_tick_cb, h);
	if (h->tick == NULL || event_add(h->tick, &tv) == -1) {
		if (h->tick != NULL)
			event_free(h->tick);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	hc_tick_cb(-1, 0, h);
	return h;
}

/*
 * After a reload: every tracked server takes its new settings, keeping
 * its state.  A server whose checks were switched off is put back up
 * unless the workers' failures took it down.
 */
void
health_reload(struct health *h)
{
	int64_t		 now = clock_mono_ms();
	struct hc_srv	*hs;
	uint32_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < SHM_MAX_SERVERS; i++) {
		hs = &h->srv[i];
		if (!hs->live)
			continue;
		hc_resolve(h, hs);
		if (hs->due > now + (int64_t)hs->cfg.interval_ms)
			hs->due = now + hc_rand_below(h,
			    hs->cfg.interval_ms + 1);
		if (!hc_wanted(hs) && hs->fsm.state == HFSM_DOWN) {
			hc_cancel(hs);
			hfsm_force(&hs->fsm, true, now);
			hc_apply(h, hs, HFSM_WENT_UP, "health checks are off",
			    now);
		}
	}
	hc_tick_cb(-1, 0, h);
}

void
health_stop(struct health *h)
{
	uint32_t i;

	if (h == NULL)
		return;
	for (i = 0; i < SHM_MAX_SERVERS; i++)
		hc_cancel(&h->srv[i]);
	if (h->tick != NULL)
		event_free(h->tick);
	free(h);
}
