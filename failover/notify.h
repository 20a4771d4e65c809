/*
 * notify.h - the notify hook: runs `notify STATE PRIORITY REASON` on
 * every transition, one at a time, in order, each bounded by a timeout
 * (then its process group is killed).  Asynchronous: pushing never waits
 * for a script, so the state machine never blocks on one.
 */
#ifndef LB_NOTIFY_H
#define LB_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#define FO_NOTIFY_QUEUE	64
#define FO_NOTIFY_REASON 128

struct fo_notify_item {
	char		state[12];
	unsigned	priority;
	char		reason[FO_NOTIFY_REASON];
};

struct fo_notify {
	struct event_base	*base;
	char			 path[4096];
	int64_t			 timeout_ms;
	struct fo_notify_item	 q[FO_NOTIFY_QUEUE];
	unsigned		 head;		/* next to run */
	unsigned		 count;
	pid_t			 running;	/* 0 = idle */
	struct event		*timer;		/* timeout of the running one */
	struct event		*sigchld;
	uint64_t		 runs;
	uint64_t		 failures;	/* non-zero exit, timeout, exec */
	uint64_t		 dropped;	/* queue full */
};

/* Sets up; an empty `path` makes every push a no-op.  0 or -1. */
int fo_notify_init(struct fo_notify *n, struct event_base *base,
    const char *path, int64_t timeout_ms);

/* Queues one run; starts it when idle. */
void fo_notify_push(struct fo_notify *n, const char *state, unsigned priority,
    const char *reason);

/* Waits up to `ms` for the queue to drain (used on shutdown), then frees. */
void fo_notify_drain_and_free(struct fo_notify *n, int64_t ms);

#endif
