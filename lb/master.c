/*
 * master.c - the lbd master: start-up, worker supervision, signals.
 *
 * The master sleeps in its libevent loop.  Signals arrive as events:
 *   SIGCHLD  reap workers; subtract a dead worker's counts from the shared
 *            table; respawn current-generation workers with back-off;
 *   SIGTERM  graceful stop: workers stop accepting and drain until
 *            timeouts.drain, then the rest are killed; exit 0;
 *   SIGINT   fast stop: workers close everything now; exit 0;
 *   SIGHUP   reload (reload.c).
 * A 100 ms tick drives respawn back-off and drain deadlines, which keeps
 * the timer logic in one place rather than one event per worker.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "autoscale.h"
#include "clock.h"
#include "conf.h"
#include "health.h"
#include "ctl.h"
#include "listen.h"
#include "log.h"
#include "maglev.h"
#include "master-t.h"
#include "master.h"
#include "privdrop.h"
#include "sd_notify.h"
#include "shm.h"
#include "worker.h"

#define MASTER_TICK_MS		100
#define MASTER_FAST_STOP_MS	2000
#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		10000
#define CRASH_LIFETIME_MS	2000	/* dying younger than this is a crash loop */

/* Reachable from the signal callbacks and, after fork, from the child. */
static struct master	M;


/*
 * Counts live workers of the current generation.  Used by the control
 * socket's status and health commands.
 */
uint32_t
master_workers_alive(const struct master *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->nworkers; i++)
		if (m->cur[i].pid > 0)
			n++;
	return n;
}

static struct master_proc *
master_proc_find(struct master *m, pid_t pid)
{
	size_t i;

	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	return NULL;
}

/*
 * In the child after fork: closes every fd the worker must not hold (the
 * control socket, the master's event base, syslog), keeping stdio and the
 * listening sockets.  Without this a draining orphan could keep the
 * control socket path alive.
 */
static void
master_child_close_fds(const struct master *m)
{
	int	*keep;
	int	 nkeep = 0, lo = 3, i, j, t;

	if ((keep = calloc(m->nls + 1, sizeof(*keep))) == NULL)
		fatal("worker: calloc");
	for (i = 0; i < (int)m->nls; i++)
		if (m->ls[i].fd != -1)
			keep[nkeep++] = m->ls[i].fd;
	for (i = 1; i < nkeep; i++)		/* insertion sort, tiny n */
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (i = 0; i < nkeep; i++) {
		if (keep[i] > lo)
			close_range((unsigned)lo, (unsigned)keep[i] - 1, 0);
		if (keep[i] >= lo)
			lo = keep[i] + 1;
	}
	close_range((unsigned)lo, ~0U, 0);
	free(keep);
}

/*
 * Child side of a spawn: drop the master's signal handling and fds, then
 * become a worker.  Never returns.
 */
static void __attribute__((noreturn))
master_child(struct master *m, uint32_t slot)
{
	struct worker_listener	*wl;
	sigset_t		 all;
	uint32_t		 i;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Only one event base per process may own signals; the worker makes
	 * its own, so the inherited one goes (its control-socket events
	 * included: ctl_close would unlink the master's socket path).
	 * event_reinit first gives the child its own epoll instance: deleting
	 * events from the inherited one would delete them for the master.
	 */
	if (event_reinit(m->base) == -1)
		fatalx("worker: event_reinit failed");
	for (i = 0; i < 3; i++)
		event_free(m->ev_sig[i]);
	event_free(m->ev_chld);
	event_free(m->ev_tick);
	m->ev_sig[0] = m->ev_sig[1] = m->ev_sig[2] = NULL;
	m->ev_chld = m->ev_tick = NULL;
	event_base_free(m->base);
	m->base = NULL;
	master_child_close_fds(m);
	log_init("lbd", m->conf->log_facility, m->log_stderr);
	if ((wl = calloc(m->nls + 1, sizeof(*wl))) == NULL)
		fatal("worker: calloc");
	for (i = 0; i < m->nls; i++) {
		wl[i].fd = m->ls[i].fd;
		wl[i].pool_idx = m->ls[i].pool_idx;
		wl[i].name = m->ls[i].name;
	}
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	worker_main(m->conf, m->t, wl, m->nls, slot, m->generation);
}

/*
 * Forks worker number `idx` of the current generation.  Signals are
 * blocked across fork so a signal meant for the child cannot run the
 * master's libevent handler in it.  Returns 0, or -1 (logged).
 */
static int
master_spawn(struct master *m, uint32_t idx)
{
	struct master_proc	*p;
	sigset_t		 all, old;
	int			 slot;
	pid_t			 pid;

	/* Claimed under the master's pid until fork tells the child's. */
	if ((slot = shm_worker_claim(m->t, (int32_t)getpid(), m->generation)) == -1) {
		log_warnx("worker %u: no free worker slot in the shared table",
		    idx);
		return -1;
	}
	if ((p = master_proc_find(m, 0)) == NULL) {
		shm_worker_release(m->t, (uint32_t)slot);
		return -1;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0)
		master_child(m, (uint32_t)slot);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_warn("worker %u: fork", idx);
		shm_worker_release(m->t, (uint32_t)slot);
		return -1;
	}
	atomic_store(&m->t->workers[slot].pid, (int32_t)pid);
	p->pid = pid;
	p->slot = (uint32_t)slot;
	p->generation = m->generation;
	p->idx = idx;
	p->retiring = false;
	m->cur[idx].pid = pid;
	m->cur[idx].started = clock_mono_ms();
	log_info("worker %u started: pid %ld, generation %u", idx, (long)pid,
	    m->generation);
	return 0;
}

/* Spawns every current-generation worker whose back-off has run out. */
void
master_spawn_due(struct master *m, int64_t now)
{
	uint32_t i;

	if (m->stopping)
		return;
	for (i = 0; i < m->nworkers; i++) {
		if (m->cur[i].pid != 0 || m->cur[i].next_spawn > now)
			continue;
		if (master_spawn(m, i) == -1)
			m->cur[i].next_spawn = now + BACKOFF_MAX_MS;
	}
}

/*
 * Bookkeeping for one reaped worker: its leftover counts leave the shared
 * table, and a current-generation worker gets a respawn time.  Exiting
 * young doubles the back-off (crash loop); a long life resets it.
 */
static void
master_reaped(struct master *m, struct master_proc *p, int status)
{
	struct master_cur	*c;
	int64_t			 now = clock_mono_ms(), lived;
	char			 how[64];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	shm_worker_release(m->t, p->slot);
	if (p->generation != m->generation || p->retiring || m->stopping) {
		log_info("worker pid %ld (generation %u) %s", (long)p->pid,
		    p->generation, how);
		memset(p, 0, sizeof(*p));
		return;
	}
	c = &m->cur[p->idx];
	lived = now - c->started;
	if (lived < CRASH_LIFETIME_MS)
		c->backoff = c->backoff ? c->backoff * 2 : BACKOFF_MIN_MS;
	else
		c->backoff = 0;
	if (c->backoff > BACKOFF_MAX_MS)
		c->backoff = BACKOFF_MAX_MS;
	c->next_spawn = now + c->backoff;
	c->pid = 0;
	log_warnx("worker %u pid %ld %s after %lld ms; respawning in %lld ms",
	    p->idx, (long)p->pid, how, (long long)lived, (long long)c->backoff);
	memset(p, 0, sizeof(*p));
}

/* Number of worker processes still alive, any generation. */
static uint32_t
master_procs_alive(const struct master *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if (m->procs[i].pid > 0)
			n++;
	return n;
}

static void
master_on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct master		*m = arg;
	struct master_proc	*p;
	pid_t			 pid;
	int			 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((p = master_proc_find(m, pid)) != NULL)
			master_reaped(m, p, status);
		else	/* not a worker: an autoscale hook, or nobody's */
			autoscale_reaped(m->autoscale, pid, status);
	}
	if (m->stopping && master_procs_alive(m) == 0)
		event_base_loopexit(m->base, NULL);
	master_spawn_due(m, clock_mono_ms());
}

/* Sends `sig` to every worker; only_retiring limits it to old ones. */
void
master_signal_workers(struct master *m, int sig, bool only_retiring)
{
	size_t i;

	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		if (m->procs[i].pid <= 0)
			continue;
		if (only_retiring && !m->procs[i].retiring)
			continue;
		kill(m->procs[i].pid, sig);
	}
}

/* Closes the master's copies of the listening sockets. */
static void
master_close_listeners(struct master *m)
{
	uint32_t i;

	for (i = 0; i < m->nls; i++) {
		if (m->ls[i].fd != -1)
			close(m->ls[i].fd);
		m->ls[i].fd = -1;
	}
}

/*
 * Starts a stop.  Graceful: workers stop accepting and finish their
 * connections until timeouts.drain.  Fast: workers close everything now.
 * Either way the loop exits once the last worker is reaped.
 */
static void
master_stop(struct master *m, int how)
{
	uint64_t ms;

	if (m->stopping == MASTER_STOP_FAST ||
	    (m->stopping == how))
		return;
	m->stopping = how;
	sd_notify_send("STOPPING=1");
	/* No scaling while connections drain away. */
	autoscale_stop(m->autoscale);
	m->autoscale = NULL;
	master_close_listeners(m);
	ms = how == MASTER_STOP_FAST ? MASTER_FAST_STOP_MS :
	    m->conf->drain_timeout_ms;
	m->stop_deadline = clock_mono_ms() + (int64_t)ms;
	log_notice("%s stop: %u workers, deadline %llu ms",
	    how == MASTER_STOP_FAST ? "fast" : "graceful",
	    master_procs_alive(m), (unsigned long long)ms);
	master_signal_workers(m, how == MASTER_STOP_FAST ? SIGINT : SIGTERM,
	    false);
	if (master_procs_alive(m) == 0)
		event_base_loopexit(m->base, NULL);
}

static void
master_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	switch (sig) {
	case SIGTERM:
		master_stop(m, MASTER_STOP_GRACEFUL);
		break;
	case SIGINT:
		master_stop(m, MASTER_STOP_FAST);
		break;
	case SIGHUP:
		master_reload(m, NULL);
		break;
	}
}

/*
 * Every MASTER_TICK_MS: respawns due workers, enforces the stop deadline,
 * and kills old-generation workers whose drain time is over.
 */
static void
master_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;
	int64_t		 now = clock_mono_ms();
	size_t		 i;

	if (m->stopping && now >= m->stop_deadline) {
		log_warnx("stop deadline reached: killing %u workers",
		    master_procs_alive(m));
		master_signal_workers(m, SIGKILL, false);
		m->stop_deadline = INT64_MAX;
	}
	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		struct master_proc *p = &m->procs[i];

		if (p->pid > 0 && p->retiring && now >= p->kill_at) {
			log_warnx("worker pid %ld (generation %u) still "
			    "draining after timeouts.drain: killed",
			    (long)p->pid, p->generation);
			kill(p->pid, SIGKILL);
			p->kill_at = INT64_MAX;
		}
	}
	master_spawn_due(m, now);
	master_reload_tick(m);
	master_state_tick(m);
	/* Runtime add/remove/weight: rebuilt only when membership changed. */
	maglev_refresh(m->t);
}

/*
 * Raises the soft fd limit to the hard one and checks that one worker can
 * hold all of maxconn: the kernel hands connections to whichever worker
 * accepts first, so any worker may end up with most of them.  Each holds
 * 2 sockets; splice pipes come from a per-worker pool (at least
 * MASTER_PIPES_MIN, more when fds allow).  Returns 0, or -1 with the
 * reason in `why`.
 */
static int
master_check_fds(const struct conf *c, char *why, size_t whylen)
{
	struct rlimit	rl;
	uint64_t	need, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return -1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE, %llu)",
			    (unsigned long long)rl.rlim_max);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	need = 2 * (uint64_t)c->maxconn + 2 * MASTER_PIPES_MIN +
	    MASTER_FDS_RESERVE;
	if (rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
		return 0;
	fit = rl.rlim_cur > 2 * MASTER_PIPES_MIN + MASTER_FDS_RESERVE ?
	    (rl.rlim_cur - 2 * MASTER_PIPES_MIN - MASTER_FDS_RESERVE) / 2 : 0;
	snprintf(why, whylen, "maxconn %u needs %llu file descriptors per worker (2 per "
	    "connection, %d for splice pipes, %d reserved) but RLIMIT_NOFILE "
	    "is %llu: set maxconn to %llu or less, or raise the limit",
	    c->maxconn, (unsigned long long)need, 2 * MASTER_PIPES_MIN,
	    MASTER_FDS_RESERVE, (unsigned long long)rl.rlim_cur,
	    (unsigned long long)fit);
	return -1;
}

static void
master_daemonize(void)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	if (freopen("/dev/null", "r", stdin) == NULL ||
	    freopen("/dev/null", "w", stdout) == NULL ||
	    freopen("/dev/null", "w", stderr) == NULL)
		fatal("freopen /dev/null");
}

/* Reads the state file at start; a broken one is logged, never fatal. */
static void
master_state_load(struct master *m)
{
	size_t	nbad;
	int	firstbad;

	if (m->conf->state_file[0] == '\0')
		return;
	if (state_load(m->conf->state_file, &m->state, &nbad, &firstbad) == -1) {
		log_warn("state: cannot read %s; starting from the config",
		    m->conf->state_file);
		return;
	}
	if (nbad > 0)
		log_warnx("state: %s: %zu bad lines ignored (first: line %d)",
		    m->conf->state_file, nbad, firstbad);
}

/* Registers the signal events and the tick.  Fatal on failure (start-up). */
static void
master_events(struct master *m)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct timeval		 tick = { 0, MASTER_TICK_MS * 1000 };
	size_t			 i;

	for (i = 0; i < 3; i++) {
		m->ev_sig[i] = evsignal_new(m->base, sigs[i], master_on_signal, m);
		if (m->ev_sig[i] == NULL || evsignal_add(m->ev_sig[i], NULL))
			fatalx("cannot watch signal %d", sigs[i]);
	}
	m->ev_chld = evsignal_new(m->base, SIGCHLD, master_on_sigchld, m);
	if (m->ev_chld == NULL || evsignal_add(m->ev_chld, NULL))
		fatalx("cannot watch SIGCHLD");
	m->ev_tick = event_new(m->base, -1, EV_PERSIST, master_on_tick, m);
	if (m->ev_tick == NULL || event_add(m->ev_tick, &tick))
		fatalx("cannot start the master tick");
	signal(SIGPIPE, SIG_IGN);
}

static const struct conf *
master_env_conf(void *arg)
{
	return ((struct master *)arg)->conf;
}

static uint32_t
master_env_alive(void *arg)
{
	return master_workers_alive(arg);
}

static int
master_env_reload(void *arg, struct cfg_errors *errs)
{
	return master_reload(arg, errs);
}

/* Opens the control socket.  Fatal at start-up when it cannot. */
static void
master_open_ctl(struct master *m)
{
	m->env.t = m->t;
	m->env.conf = master_env_conf;
	m->env.reload = master_env_reload;
	m->env.workers_alive = master_env_alive;
	m->env.arg = m;
	m->env.started_ms = m->t->started_ms;
	m->env.config_path = m->conf_path;
	m->env.control_gid = m->conf->control_gid;
	m->ctl = ctl_open(m->base, m->conf->control_socket, &m->env);
	if (m->ctl == NULL)
		fatal("control socket %s", m->conf->control_socket);
}

/* Frees everything the master holds, in reverse order of creation. */
static void
master_free(struct master *m)
{
	size_t i;

	if (m->ctl != NULL)
		ctl_close(m->ctl);
	autoscale_stop(m->autoscale);
	health_stop(m->health);
	for (i = 0; i < 3; i++)
		if (m->ev_sig[i] != NULL)
			event_free(m->ev_sig[i]);
	if (m->ev_chld != NULL)
		event_free(m->ev_chld);
	if (m->ev_tick != NULL)
		event_free(m->ev_tick);
	if (m->base != NULL)
		event_base_free(m->base);
	master_close_listeners(m);
	free(m->ls);
	shm_destroy(m->t);
	state_free(&m->state);
	conf_free(m->conf);
	free(m->conf_path);
}

int
master_run(struct conf *conf, const struct master_opts *o)
{
	struct master		*m = &M;
	struct cfg_errors	 errs = { 0 };
	char			 why[512];
	uint32_t		 i;

	memset(m, 0, sizeof(*m));
	m->conf = conf;
	m->log_stderr = o->log_stderr;
	if ((m->conf_path = realpath(o->conf_path, NULL)) == NULL)
		m->conf_path = strdup(o->conf_path);
	log_init("lbd", conf->log_facility, o->log_stderr);
	if (master_check_fds(conf, why, sizeof(why)) == -1) {
		log_errx("%s", why);
		if (!o->log_stderr)
			fprintf(stderr, "lbd: %s\n", why);
		return 1;
	}
	if ((m->t = shm_create()) == NULL)
		fatal("shared table: mmap");
	master_state_load(m);
	if (master_table_load(m, conf, &errs) == -1 ||
	    master_listeners_open(m, conf, &errs) == -1) {
		for (i = 0; i < errs.n; i++) {
			log_errx("%s", errs.msg[i]);
			if (!o->log_stderr)
				fprintf(stderr, "lbd: %s\n", errs.msg[i]);
		}
		cfg_errors_free(&errs);
		return 1;
	}
	master_state_apply(m);
	if (!o->foreground)
		master_daemonize();
	if ((m->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	master_events(m);
	master_open_ctl(m);
	/* Listeners bound, fd limit raised, control socket open: root's work is done. */
	if (privdrop(conf->user, why, sizeof(why)) == -1)
		fatalx("cannot drop privileges: %s", why);
	if (conf->user[0] != '\0')
		log_info("running as user %s (uid %u, gid %u)", conf->user,
		    (unsigned)getuid(), (unsigned)getgid());
	/* Before the workers: "initial down" servers are down from the start. */
	if ((m->health = health_start(m->base, m->t, &m->conf)) == NULL)
		fatal("health checker");
	m->autoscale = autoscale_start(m->base, m->t, &m->conf,
	    conf->control_socket);
	if (m->autoscale == NULL)
		fatal("autoscale");
	m->generation = 1;
	atomic_store(&m->t->generation, m->generation);
	m->nworkers = conf->workers;
	for (i = 0; i < m->nworkers; i++)
		master_spawn(m, i);
	log_notice("lbd %s started: %u workers, %u listeners, %u pools, "
	    "config %s", LB_VERSION, conf->workers, conf->nlisteners,
	    conf->npools, m->conf_path);
	sd_notify_send("READY=1");
	event_base_dispatch(m->base);
	log_notice("lbd stopped");
	master_free(m);
	return 0;
}
