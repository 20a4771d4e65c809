/*
 * notify.c - serialised, time-bounded notify hook (see notify.h).
 *
 * The child runs in its own process group so a timeout kills the script
 * and anything it started.  SIGCHLD comes through libevent, so reaping
 * happens in the loop like any other event.  Logging is the one
 * exception to "low level does not log" here: a failing hook has nobody
 * else to report it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "notify.h"

static void fo_notify_next(struct fo_notify *n);

/* Forks and execs the head of the queue. */
static void
fo_notify_spawn(struct fo_notify *n)
{
	struct fo_notify_item	*it = &n->q[n->head];
	struct timeval		 tv;
	char			 prio[16];
	pid_t			 pid;

	snprintf(prio, sizeof(prio), "%u", it->priority);
	if ((pid = fork()) == -1) {
		log_warn("notify: fork");
		n->failures++;
		return;
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setpgid(0, 0);
		execl(n->path, n->path, it->state, prio, it->reason, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	n->running = pid;
	n->runs++;
	tv.tv_sec = n->timeout_ms / 1000;
	tv.tv_usec = (n->timeout_ms % 1000) * 1000;
	evtimer_add(n->timer, &tv);
}

/* Starts the next queued run, when idle. */
static void
fo_notify_next(struct fo_notify *n)
{
	while (n->running == 0 && n->count > 0) {
		fo_notify_spawn(n);
		if (n->running != 0)
			return;
		n->head = (n->head + 1) % FO_NOTIFY_QUEUE;	/* fork failed */
		n->count--;
	}
}

static void
fo_notify_reap(evutil_socket_t sig, short what, void *arg)
{
	struct fo_notify	*n = arg;
	int			 st;
	pid_t			 pid;

	for (int i = 0; i < 64; i++) {
		if ((pid = waitpid(-1, &st, WNOHANG)) <= 0)
			break;
		if (pid != n->running)
			continue;
		evtimer_del(n->timer);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			n->failures++;
			log_warnx("notify: %s %s: %s %d", n->path,
			    n->q[n->head].state, WIFEXITED(st) ? "exit" :
			    "signal", WIFEXITED(st) ? WEXITSTATUS(st) :
			    WTERMSIG(st));
		}
		n->running = 0;
		n->head = (n->head + 1) % FO_NOTIFY_QUEUE;
		n->count--;
	}
	fo_notify_next(n);
}

static void
fo_notify_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct fo_notify *n = arg;

	if (n->running == 0)
		return;
	log_warnx("notify: %s %s: still running after %lld ms, killed",
	    n->path, n->q[n->head].state, (long long)n->timeout_ms);
	kill(-n->running, SIGKILL);	/* reaped by fo_notify_reap */
}

int
fo_notify_init(struct fo_notify *n, struct event_base *base, const char *path,
    int64_t timeout_ms)
{
	memset(n, 0, sizeof(*n));
	n->base = base;
	snprintf(n->path, sizeof(n->path), "%s", path);
	n->timeout_ms = timeout_ms;
	if ((n->timer = evtimer_new(base, fo_notify_timeout, n)) == NULL ||
	    (n->sigchld = evsignal_new(base, SIGCHLD, fo_notify_reap, n)) == NULL ||
	    event_add(n->sigchld, NULL) == -1)
		return -1;
	return 0;
}

void
fo_notify_push(struct fo_notify *n, const char *state, unsigned priority,
    const char *reason)
{
	struct fo_notify_item *it;

	if (n->path[0] == '\0')
		return;
	if (n->count == FO_NOTIFY_QUEUE) {
		n->dropped++;
		log_warnx("notify: queue full, %s not run", state);
		return;
	}
	it = &n->q[(n->head + n->count) % FO_NOTIFY_QUEUE];
	snprintf(it->state, sizeof(it->state), "%s", state);
	it->priority = priority;
	snprintf(it->reason, sizeof(it->reason), "%s", reason ? reason : "");
	n->count++;
	fo_notify_next(n);
}

void
fo_notify_drain_and_free(struct fo_notify *n, int64_t ms)
{
	int64_t	 end = clock_mono_ms() + ms;
	int	 st;

	while (n->running != 0 && clock_mono_ms() < end) {
		if (waitpid(n->running, &st, WNOHANG) == n->running) {
			n->running = 0;
			n->head = (n->head + 1) % FO_NOTIFY_QUEUE;
			n->count--;
			fo_notify_next(n);	/* keep order: run the rest */
			continue;
		}
		usleep(10000);
	}
	if (n->running != 0)
		kill(-n->running, SIGKILL);
	if (n->timer != NULL)
		event_free(n->timer);
	if (n->sigchld != NULL)
		event_free(n->sigchld);
	n->timer = n->sigchld = NULL;
}
