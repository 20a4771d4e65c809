/*
 * autoscale.c - the autoscaling evaluator and its runner (see
 * autoscale.h).
 *
 * Evaluator: pure functions over injected time and figures.
 *
 * Runner: master process, on its libevent loop.  A tick every AS_TICK_MS
 * samples each autoscaled pool that is due (every tenth of its window,
 * within 100 ms..1 s): healthy servers and their active connections, read
 * from the shared table without locks (atomics).  It then asks the
 * evaluator and, for an action, spawns the hook.
 *
 * Why SIGCHLD and not a pipe's EOF to learn a hook's end: a scale_out
 * hook starts servers that outlive it, and any of them that inherits
 * the hook's stdout would hold the pipe open forever.  The master
 * already reaps every child with waitpid(-1); it passes the pids that
 * are not workers to autoscale_reaped(), so the exit status is exact and
 * arrives once.  The pipe only carries output to the log and is closed
 * when the hook is reaped, whoever else holds its other end.
 *
 * Cost: per sample O(servers of the pool); one pipe and one event while
 * a hook runs; about 3 KiB per autoscaled pool plus its window ring
 * (window / interval samples of 16 bytes: at most 3,602).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "autoscale.h"
#include "clock.h"
#include "log.h"
#include "shm.h"

#define AS_TICK_MS		100
#define AS_SAMPLE_MIN_MS	100
#define AS_SAMPLE_MAX_MS	1000
#define AS_RETRY_MS		10000	/* after a hook that could not start */
#define AS_LINE_MAX		240	/* bytes of hook output per log line */
#define AS_LINES_MAX		100	/* lines logged per hook run */
#define AS_READS_PER_CB		4
#define AS_DRAIN_READS		64	/* pipe buffer (64 KiB) / 1 KiB */
#define AS_ENV_MAX		1024	/* inherited environment entries */
#define AS_ENV_OWN		7	/* variables lbd sets */

extern char **environ;

/* One autoscaled pool, matched by name across reloads. */
struct as_pool {
	bool			 live;
	char			 name[SHM_NAME_MAX];
	struct conf_autoscale	 cfg;
	struct as_window	 win;
	int64_t			 next_sample;	/* monotonic ms */
	int64_t			 cooldown_until;
	uint32_t		 healthy;	/* last sample */
	uint64_t		 avg_milli;
	bool			 full;
	uint8_t			 last_reason;
	uint32_t		 seq;		/* records made */
	uint32_t		 nrec, head;
	struct as_record	 rec[AS_RING];
};

/* The hook running, if any (pid 0: none). */
struct as_hook {
	pid_t			 pid;
	int			 slot;		/* pools[] index */
	uint32_t		 seq;		/* its record */
	char			 pool[SHM_NAME_MAX];
	const char		*what;		/* "scale_out" / "scale_in" */
	int64_t			 started, deadline;
	bool			 killed;
	int			 fd;		/* output pipe, -1 = closed */
	struct event		*ev;
	char			 line[AS_LINE_MAX + 1];
	size_t			 nline;
	uint32_t		 nlines;
};

struct autoscale {
	struct event_base	*base;
	struct shm_table	*t;
	struct conf *const	*confp;
	char			 ctl_socket[CONF_PATH_MAX];
	struct event		*tick;
	struct as_hook		 hook;
	struct as_pool		 pools[SHM_MAX_POOLS];
};

/* The runner of this process, for autoscale_view() (like sticky_of()). */
static struct autoscale	*as_current;

/* A new record at the head of p's ring. */
static struct as_record *
as_record_new(struct as_pool *p)
{
	struct as_record *r = &p->rec[p->head];

	memset(r, 0, sizeof(*r));
	r->seq = ++p->seq;
	p->head = (p->head + 1) % AS_RING;
	if (p->nrec < AS_RING)
		p->nrec++;
	return r;
}

/* The record numbered `seq` of p, or NULL once the ring dropped it. */
static struct as_record *
as_record_find(struct as_pool *p, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < p->nrec; i++)
		if (p->rec[i].seq == seq)
			return &p->rec[i];
	return NULL;
}

/* "12.3" from a figure x1000, into buf. */
static const char *
as_milli(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%llu", (unsigned long long)(v / 1000),
	    (unsigned long long)(v % 1000 / 100));
	return buf;
}

/* One notice line with every input of decision d about p. */
static void
as_log(const struct as_pool *p, const struct as_input *in,
    const struct as_decision *d, const char *server)
{
	const struct conf_autoscale *c = &p->cfg;
	char	 avg[32], per[32], hi[32], lo[32];
	uint64_t unit = (uint64_t)c->target * 1000;

	log_notice("autoscale %s: %s (%s): %u healthy servers, %s active on "
	    "average over %llu ms (%s per server; target %u: out above %s, "
	    "in below %s), desired %u (min %u, max %u)%s%s", p->name,
	    autoscale_action_name(d->action),
	    autoscale_reason_name(d->reason), in->healthy,
	    as_milli(in->avg_milli, avg, sizeof(avg)),
	    (unsigned long long)c->window_ms,
	    as_milli(in->healthy ? in->avg_milli / in->healthy : 0, per,
	    sizeof(per)), c->target, as_milli(unit * 6 / 5, hi, sizeof(hi)),
	    as_milli(unit * 3 / 5, lo, sizeof(lo)), d->desired,
	    c->min_servers, c->max_servers, server[0] ? ", draining " : "",
	    server);
}

/* --- runner: the hook's output ------------------------------------------ */

/* Logs the line collected so far (escaped), within AS_LINES_MAX. */
static void
as_out_flush(struct as_hook *h)
{
	char	 esc[AS_LINE_MAX * 4 + 1];

	if (h->nline == 0)
		return;
	if (h->nlines < AS_LINES_MAX) {
		log_escape(esc, sizeof(esc), h->line, h->nline);
		log_info("autoscale %s: %s hook: %s", h->pool, h->what, esc);
	} else if (h->nlines == AS_LINES_MAX)
		log_info("autoscale %s: %s hook: further output not logged",
		    h->pool, h->what);
	h->nlines++;
	h->nline = 0;
}

static void
as_out_feed(struct as_hook *h, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			as_out_flush(h);
			continue;
		}
		h->line[h->nline++] = buf[i];
		if (h->nline == AS_LINE_MAX)
			as_out_flush(h);
	}
}

static void
as_out_close(struct as_hook *h)
{
	as_out_flush(h);
	if (h->ev != NULL)
		event_free(h->ev);
	h->ev = NULL;
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
}

/*
 * Reads what is there, at most `reads` times; closes at EOF.  Returns
 * true while the pipe may have more later.
 */
static bool
as_out_read(struct as_hook *h, int reads)
{
	char	 buf[1024];
	ssize_t	 r;
	int	 i;

	for (i = 0; i < reads && h->fd != -1; i++) {
		if ((r = read(h->fd, buf, sizeof(buf))) > 0) {
			as_out_feed(h, buf, (size_t)r);
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return true;
		as_out_close(h);
		return false;
	}
	return h->fd != -1;
}

static void
as_out_cb(evutil_socket_t fd, short what, void *arg)
{
	as_out_read(arg, AS_READS_PER_CB);
}

/* --- runner: starting a hook ---------------------------------------------- */

/* The variables lbd sets for a hook; they replace inherited ones. */
struct as_env {
	char	 own[AS_ENV_OWN][CONF_PATH_MAX + 32];
	char	*envp[AS_ENV_MAX + AS_ENV_OWN + 1];
};

static bool
as_env_ours(const char *e)
{
	static const char *const names[] = { "POOL=", "ACTION=", "CURRENT=",
	    "DESIRED=", "REASON=", "SERVER=", "LBCTL_SOCKET=", NULL };
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strncmp(e, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

/* lbd's environment (bounded) without our names, then ours. */
static void
as_env_build(struct as_env *ev, const struct autoscale *a,
    const struct as_pool *p, const struct as_decision *d, const char *server)
{
	size_t	 n = 0, i;
	int	 k = 0;

	for (i = 0; environ != NULL && environ[i] != NULL && n < AS_ENV_MAX;
	    i++)
		if (!as_env_ours(environ[i]))
			ev->envp[n++] = environ[i];
	snprintf(ev->own[k++], sizeof(ev->own[0]), "POOL=%s", p->name);
	snprintf(ev->own[k++], sizeof(ev->own[0]), "ACTION=%s",
	    autoscale_action_name(d->action));
	snprintf(ev->own[k++], sizeof(ev->own[0]), "CURRENT=%u", p->healthy);
	snprintf(ev->own[k++], sizeof(ev->own[0]), "DESIRED=%u", d->desired);
	snprintf(ev->own[k++], sizeof(ev->own[0]), "REASON=%s",
	    autoscale_reason_name(d->reason));
	snprintf(ev->own[k++], sizeof(ev->own[0]), "LBCTL_SOCKET=%s",
	    a->ctl_socket);
	if (server[0] != '\0')
		snprintf(ev->own[k++], sizeof(ev->own[0]), "SERVER=%s", server);
	for (i = 0; i < (size_t)k; i++)
		ev->envp[n++] = ev->own[i];
	ev->envp[n] = NULL;
}

/*
 * posix_spawn of `path` in its own session (so its process group can be
 * killed whole, and no terminal signal reaches it), all signals default
 * and unblocked, stdin /dev/null, stdout and stderr to `outfd`, no other
 * fd (listening sockets, the control socket) inherited.  Returns 0 with
 * *pid, or an errno value (a missing or non-executable hook included).
 */
static int
as_spawn(const char *path, char *const envp[], int outfd, pid_t *pid)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 at;
	sigset_t			 none, all;
	char				*argv[2] = { (char *)path, NULL };
	int				 rc;

	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, outfd, 1)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, outfd, 2)) == 0 &&
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, &all)) == 0)
		rc = posix_spawn(pid, path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* A hook that could not start: recorded, logged, retried later. */
static void
as_run_failed(struct as_pool *p, struct as_record *r, const char *path,
    int err, int64_t now)
{
	uint64_t wait = p->cfg.cooldown_ms > AS_RETRY_MS ? p->cfg.cooldown_ms :
	    AS_RETRY_MS;

	r->result = AS_RES_SPAWN_FAILED;
	r->status = err;
	p->cooldown_until = now + (int64_t)wait;
	log_warnx("autoscale %s: cannot run %s hook %s: %s; next try in "
	    "%llu ms", p->name, autoscale_action_name(r->action), path,
	    strerror(err), (unsigned long long)wait);
}

/*
 * Runs p's hook for decision d (`server`: the one to drain, or "").
 * Recorded in p's ring either way; the hook's end comes through
 * autoscale_reaped().
 */
static void
as_run(struct autoscale *a, int slot, const struct as_decision *d,
    const char *server, int64_t now)
{
	struct as_pool		*p = &a->pools[slot];
	struct as_hook		*h = &a->hook;
	struct as_record	*r = as_record_new(p);
	struct as_env		*ev;
	const char		*path = d->action == AS_SCALE_OUT ?
				    p->cfg.scale_out : p->cfg.scale_in;
	int			 fds[2], rc;
	pid_t			 pid;

	r->wall_ms = clock_wall_ms();
	r->action = (uint8_t)d->action;
	r->reason = (uint8_t)d->reason;
	r->current = p->healthy;
	r->desired = d->desired;
	r->avg_milli = p->avg_milli;
	snprintf(r->server, sizeof(r->server), "%s", server);
	if ((ev = malloc(sizeof(*ev))) == NULL) {
		as_run_failed(p, r, path, errno, now);
		return;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		as_run_failed(p, r, path, errno, now);
		free(ev);
		return;
	}
	(void)fcntl(fds[0], F_SETFL, O_NONBLOCK);
	as_env_build(ev, a, p, d, server);
	rc = as_spawn(path, ev->envp, fds[1], &pid);
	close(fds[1]);
	free(ev);
	if (rc != 0) {
		close(fds[0]);
		as_run_failed(p, r, path, rc, now);
		return;
	}
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	h->slot = slot;
	h->seq = r->seq;
	memcpy(h->pool, p->name, sizeof(h->pool));
	h->what = autoscale_action_name(d->action);
	h->started = now;
	h->deadline = now + (int64_t)p->cfg.hook_timeout_ms;
	h->fd = fds[0];
	h->ev = event_new(a->base, h->fd, EV_READ | EV_PERSIST, as_out_cb, h);
	if (h->ev == NULL || event_add(h->ev, NULL) == -1)
		log_warnx("autoscale %s: hook output will not be logged",
		    p->name);
	r->pid = (int32_t)pid;
	log_info("autoscale %s: %s hook %s started: pid %ld", p->name,
	    h->what, path, (long)pid);
}

/* --- runner: the tick ------------------------------------------------------ */

/* Healthy: could take traffic but for load (in use, ready, up, weight). */
static bool
as_healthy(const struct shm_server *s)
{
	return atomic_load(&s->in_use) &&
	    atomic_load(&s->admin) == SHM_ADMIN_READY &&
	    atomic_load(&s->health) == SHM_HEALTH_UP &&
	    atomic_load(&s->weight) > 0;
}

/* True when pool/server is one of the config's own servers. */
static bool
as_in_config(const struct conf *c, const char *pool, const char *server)
{
	uint32_t i, k;

	for (i = 0; i < c->npools; i++) {
		if (strcmp(c->pools[i].name, pool) != 0)
			continue;
		for (k = 0; k < c->pools[i].nservers; k++)
			if (strcmp(c->pools[i].servers[k].name, server) == 0)
				return true;
	}
	return false;
}

/*
 * Reads pool `name` from the table: its servers in pool order into srv
 * and idx (*n of them), healthy ones counted, their active connections
 * summed.  False when the pool is not in the table.
 */
static bool
as_measure(const struct shm_table *t, const struct conf *c, const char *name,
    struct as_server *srv, uint32_t *idx, size_t *n, uint32_t *healthy,
    int64_t *active)
{
	const struct shm_pool	*p;
	uint32_t		 k, nsrv, i;
	int			 pi;

	*n = 0;
	*healthy = 0;
	*active = 0;
	if ((pi = shm_pool_find(t, name)) == -1)
		return false;
	p = &t->pools[pi];
	nsrv = atomic_load(&p->nservers);
	for (k = 0; k < nsrv && k < SHM_POOL_MAX_SERVERS; k++) {
		i = __atomic_load_n(&p->servers[k], __ATOMIC_RELAXED);
		if (i >= SHM_MAX_SERVERS || !atomic_load(&t->servers[i].in_use))
			continue;
		srv[*n].active = atomic_load(&t->servers[i].active);
		srv[*n].ready = as_healthy(&t->servers[i]);
		srv[*n].added = !as_in_config(c, name, t->servers[i].name);
		idx[(*n)++] = i;
		if (srv[*n - 1].ready) {
			(*healthy)++;
			*active += srv[*n - 1].active;
		}
	}
	return true;
}

/*
 * One sample of pool `slot`, the decision, and the hook when one is due.
 * A hold worth an operator's eye (at max_servers, no healthy server) is
 * logged once when it starts.
 */
static void
as_pool_tick(struct autoscale *a, int slot, int64_t now)
{
	struct as_pool		*p = &a->pools[slot];
	struct as_server	 srv[SHM_POOL_MAX_SERVERS];
	uint32_t		 idx[SHM_POOL_MAX_SERVERS];
	struct as_input		 in;
	struct as_decision	 d;
	char			 server[2 * SHM_NAME_MAX] = "";
	size_t			 n;
	int64_t			 active;
	int			 k;
	bool			 changed;

	if (!as_measure(a->t, *a->confp, p->name, srv, idx, &n, &p->healthy,
	    &active))
		return;
	autoscale_window_add(&p->win, now, active);
	p->avg_milli = autoscale_window_avg(&p->win, now, &p->full);
	memset(&in, 0, sizeof(in));
	in.now = now;
	in.healthy = p->healthy;
	in.avg_milli = p->avg_milli;
	in.window_full = p->full;
	in.hook_running = a->hook.pid != 0;
	in.cooldown_until = p->cooldown_until;
	autoscale_decide(&p->cfg, &in, &d);
	changed = p->last_reason != d.reason;
	p->last_reason = (uint8_t)d.reason;
	if (d.action == AS_KEEP) {
		if (changed && (d.reason == AS_WHY_AT_MAX ||
		    d.reason == AS_WHY_NO_SERVER))
			as_log(p, &in, &d, "");
		return;
	}
	if (d.action == AS_SCALE_IN) {
		if ((k = autoscale_pick_drain(srv, n)) == -1)
			return;
		snprintf(server, sizeof(server), "%s/%s", p->name,
		    a->t->servers[idx[k]].name);
	}
	as_log(p, &in, &d, server);
	as_run(a, slot, &d, server, now);
}

/* Kills the hook's process group once it is past its hook_timeout. */
static void
as_check_timeout(struct autoscale *a, int64_t now)
{
	struct as_hook *h = &a->hook;

	if (h->pid == 0 || h->killed || now < h->deadline)
		return;
	h->killed = true;
	if (kill(-h->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("autoscale %s: kill %s hook group %ld", h->pool,
		    h->what, (long)h->pid);
	else
		log_warnx("autoscale %s: %s hook pid %ld still running after "
		    "%lld ms: killed (SIGKILL to its process group)", h->pool,
		    h->what, (long)h->pid, (long long)(now - h->started));
}

static void
as_tick(evutil_socket_t fd, short what, void *arg)
{
	struct autoscale	*a = arg;
	int64_t			 now = clock_mono_ms();
	int			 i;

	as_check_timeout(a, now);
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		struct as_pool *p = &a->pools[i];

		if (!p->live || now < p->next_sample)
			continue;
		p->next_sample = now + (int64_t)p->win.interval_ms;
		as_pool_tick(a, i, now);
	}
}

bool
autoscale_reaped(struct autoscale *a, pid_t pid, int status)
{
	struct as_hook		*h;
	struct as_pool		*p;
	struct as_record	*r;
	int64_t			 now = clock_mono_ms();
	char			 how[64];

	if (a == NULL || a->hook.pid == 0 || a->hook.pid != pid)
		return false;
	h = &a->hook;
	p = &a->pools[h->slot];
	as_out_read(h, AS_DRAIN_READS);	/* what it wrote before exiting */
	as_out_close(h);
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	if (p->live && strcmp(p->name, h->pool) == 0) {
		if ((r = as_record_find(p, h->seq)) != NULL) {
			r->result = h->killed ? AS_RES_TIMEOUT :
			    WIFSIGNALED(status) ? AS_RES_SIGNALED :
			    AS_RES_EXITED;
			r->status = WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status);
			r->duration_ms = now - h->started;
		}
		p->cooldown_until = now + (int64_t)p->cfg.cooldown_ms;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_notice("autoscale %s: %s hook pid %ld %s after %lld ms",
		    h->pool, h->what, (long)pid, how, (long long)(now -
		    h->started));
	else
		log_warnx("autoscale %s: %s hook pid %ld %s after %lld ms%s",
		    h->pool, h->what, (long)pid, how, (long long)(now -
		    h->started), h->killed ? " (hook_timeout)" : "");
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	return true;
}

/* --- runner: life cycle ---------------------------------------------------- */

/* Sampling period of a window: a tenth of it, within 100 ms..1 s. */
static uint64_t
as_interval(uint64_t window_ms)
{
	uint64_t v = window_ms / 10;

	return v < AS_SAMPLE_MIN_MS ? AS_SAMPLE_MIN_MS :
	    v > AS_SAMPLE_MAX_MS ? AS_SAMPLE_MAX_MS : v;
}

/* Slot of live pool `name`, else a free one (never the hook's), else -1. */
static int
as_slot(const struct autoscale *a, const char *name, bool *found)
{
	int i, free_slot = -1;

	*found = false;
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		const struct as_pool *p = &a->pools[i];

		if (p->live && strcmp(p->name, name) == 0) {
			*found = true;
			return i;
		}
		if (!p->live && free_slot == -1 &&
		    (a->hook.pid == 0 || a->hook.slot != i))
			free_slot = i;
	}
	return free_slot;
}

/* Takes pool cp's settings into slot i (new, or kept with its state). */
static void
as_adopt(struct autoscale *a, int i, bool found, const struct conf_pool *cp,
    int64_t now)
{
	struct as_pool	*p = &a->pools[i];
	bool		 same = found && p->cfg.window_ms ==
			    cp->autoscale.window_ms;

	if (!found) {
		memset(p, 0, sizeof(*p));
		memcpy(p->name, cp->name, sizeof(p->name));
		p->last_reason = AS_WHY_WINDOW;
	}
	p->cfg = cp->autoscale;
	p->live = true;
	if (same)
		return;
	/* A new window length: start it again, from now. */
	autoscale_window_free(&p->win);
	if (autoscale_window_init(&p->win, p->cfg.window_ms,
	    as_interval(p->cfg.window_ms)) == -1)
		log_warn("autoscale %s: window of %llu ms", p->name,
		    (unsigned long long)p->cfg.window_ms);
	p->next_sample = now;
	log_info("autoscale %s: on: %u..%u servers, target %u active per "
	    "server, window %llu ms, cooldown %llu ms", p->name,
	    p->cfg.min_servers, p->cfg.max_servers, p->cfg.target,
	    (unsigned long long)p->cfg.window_ms,
	    (unsigned long long)p->cfg.cooldown_ms);
}

/* Matches the pools to the config in force: adopt, keep, retire. */
static void
as_sync(struct autoscale *a)
{
	const struct conf	*c = *a->confp;
	bool			 seen[SHM_MAX_POOLS] = { false }, found;
	int64_t			 now = clock_mono_ms();
	uint32_t		 k;
	int			 i;

	for (k = 0; c != NULL && k < c->npools; k++) {
		if (!c->pools[k].autoscale.enabled)
			continue;
		if ((i = as_slot(a, c->pools[k].name, &found)) == -1)
			continue;	/* cannot be: one slot per pool */
		as_adopt(a, i, found, &c->pools[k], now);
		seen[i] = true;
	}
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		if (!a->pools[i].live || seen[i])
			continue;
		a->pools[i].live = false;
		autoscale_window_free(&a->pools[i].win);
		log_info("autoscale %s: off", a->pools[i].name);
	}
}

struct autoscale *
autoscale_start(struct event_base *base, struct shm_table *t,
    struct conf *const *confp, const char *ctl_socket)
{
	struct autoscale	*a;
	struct timeval		 tv = { 0, AS_TICK_MS * 1000 };

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->base = base;
	a->t = t;
	a->confp = confp;
	a->hook.fd = -1;
	snprintf(a->ctl_socket, sizeof(a->ctl_socket), "%s", ctl_socket);
	a->tick = event_new(base, -1, EV_PERSIST, as_tick, a);
	if (a->tick == NULL || event_add(a->tick, &tv) == -1) {
		if (a->tick != NULL)
			event_free(a->tick);
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	as_sync(a);
	as_current = a;
	return a;
}

void
autoscale_reload(struct autoscale *a)
{
	if (a != NULL)
		as_sync(a);
}

void
autoscale_stop(struct autoscale *a)
{
	int i;

	if (a == NULL)
		return;
	if (a->hook.pid != 0) {
		log_notice("autoscale %s: stopping: %s hook pid %ld sent "
		    "SIGTERM", a->hook.pool, a->hook.what,
		    (long)a->hook.pid);
		(void)kill(-a->hook.pid, SIGTERM);
	}
	as_out_close(&a->hook);
	event_free(a->tick);
	for (i = 0; i < SHM_MAX_POOLS; i++)
		autoscale_window_free(&a->pools[i].win);
	if (as_current == a)
		as_current = NULL;
	free(a);
}

bool
autoscale_view(uint32_t i, struct autoscale_view *v)
{
	const struct autoscale	*a = as_current;
	const struct as_pool	*p = NULL;
	int64_t			 now = clock_mono_ms();
	uint32_t		 k, n = 0;

	for (k = 0; a != NULL && k < SHM_MAX_POOLS && p == NULL; k++)
		if (a->pools[k].live && n++ == i)
			p = &a->pools[k];
	if (p == NULL)
		return false;
	memset(v, 0, sizeof(*v));
	memcpy(v->pool, p->name, sizeof(v->pool));
	v->cfg = p->cfg;
	v->healthy = p->healthy;
	v->avg_milli = p->avg_milli;
	v->window_full = p->full;
	v->cooldown_left_ms = p->cooldown_until > now ?
	    p->cooldown_until - now : 0;
	v->hook_running = a->hook.pid != 0 && a->hook.slot == (int)(p - a->pools);
	v->hook_pid = v->hook_running ? (int32_t)a->hook.pid : 0;
	v->hook_ms = v->hook_running ? now - a->hook.started : 0;
	v->last_reason = p->last_reason;
	v->nrec = p->nrec;
	for (k = 0; k < p->nrec; k++)	/* newest first */
		v->rec[k] = p->rec[(p->head + AS_RING - 1 - k) % AS_RING];
	return true;
}
