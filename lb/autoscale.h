/*
 * autoscale.h - autoscaling of pools by hooks (`autoscale = { ... }` in a
 * pool, settings in conf_autoscale.h).
 *
 * Two layers:
 *   - the evaluator: pure functions with time and inputs passed in (the
 *     window average, the decision, the choice of server to drain), so
 *     unit tests drive them without a clock or a table;
 *   - the runner: master only, on the master's libevent loop.  A tick
 *     samples each autoscaled pool in the shared table, asks the
 *     evaluator, and starts the pool's scale_out or scale_in hook with
 *     posix_spawn (own session and process group, output logged line by
 *     line through a pipe).  One hook runs at a time; the master never
 *     waits for it.  Its exit is learnt from the master's SIGCHLD reaper,
 *     which passes pids it does not know to autoscale_reaped(); a hook
 *     past hook_timeout gets SIGKILL on its process group.
 */
#ifndef LB_AUTOSCALE_H
#define LB_AUTOSCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "conf-t.h"
#include "shm-t.h"

#define AS_RING		8	/* decisions kept per pool */

enum as_action {
	AS_KEEP = 0,
	AS_SCALE_OUT = 1,
	AS_SCALE_IN = 2,
};

/* Why the evaluator decided what it did. */
enum as_reason {
	AS_WHY_IN_BAND = 0,	/* load within the band */
	AS_WHY_ABOVE_TARGET = 1,	/* > target + 20%: scale out */
	AS_WHY_BELOW_MIN = 2,	/* fewer healthy than min_servers: out */
	AS_WHY_BELOW_TARGET = 3,	/* < target - 40%: scale in */
	AS_WHY_ABOVE_MAX = 4,	/* more healthy than max_servers: in */
	AS_WHY_HOOK_RUNNING = 5,	/* one hook at a time */
	AS_WHY_COOLDOWN = 6,
	AS_WHY_WINDOW = 7,	/* less than a window of samples yet */
	AS_WHY_AT_MAX = 8,	/* above target, already max_servers */
	AS_WHY_AT_MIN = 9,	/* below target, already min_servers */
	AS_WHY_NO_SERVER = 10,	/* no healthy server: no load to measure */
	AS_WHY__COUNT
};

/* One pool at one instant, as the decision sees it. */
struct as_input {
	int64_t		now;		/* monotonic ms */
	uint32_t	healthy;	/* healthy servers now */
	uint64_t	avg_milli;	/* active conns, window average, x1000 */
	bool		window_full;	/* the samples span the window */
	bool		hook_running;	/* any pool's */
	int64_t		cooldown_until;	/* monotonic ms */
};

struct as_decision {
	enum as_action	action;
	enum as_reason	reason;
	uint32_t	desired;	/* servers wanted (action != KEEP) */
};

/* A server as the choice of the one to drain sees it. */
struct as_server {
	int32_t		active;
	bool		ready;		/* healthy: may be named */
	bool		added;		/* not in the config: added at run time */
};

/* Time-stamped samples of a pool's active connections, a ring. */
struct as_sample {
	int64_t		t;		/* monotonic ms */
	int64_t		active;
};

struct as_window {
	struct as_sample *s;
	uint32_t	 cap, head, n;
	uint64_t	 window_ms;
	uint64_t	 interval_ms;	/* sampling period */
	int64_t		 first;		/* first sample since reset */
};

enum as_result {
	AS_RES_RUNNING = 0,
	AS_RES_EXITED = 1,	/* status = exit code */
	AS_RES_SIGNALED = 2,	/* status = signal */
	AS_RES_TIMEOUT = 3,	/* killed at hook_timeout */
	AS_RES_SPAWN_FAILED = 4,	/* status = errno */
};

/* One decision that ran a hook. */
struct as_record {
	int64_t		wall_ms;	/* when it was decided */
	uint32_t	seq;		/* per pool, from 1 */
	uint8_t		action;		/* enum as_action */
	uint8_t		reason;		/* enum as_reason */
	uint8_t		result;		/* enum as_result */
	int32_t		status;
	int32_t		pid;
	uint32_t	current, desired;
	uint64_t	avg_milli;
	int64_t		duration_ms;	/* hook run time, when done */
	char		server[2 * SHM_NAME_MAX]; /* scale_in: POOL/NAME */
};

/* What `lbctl autoscale` shows of one pool. */
struct autoscale_view {
	char			 pool[SHM_NAME_MAX];
	struct conf_autoscale	 cfg;
	uint32_t		 healthy;
	uint64_t		 avg_milli;
	bool			 window_full;
	int64_t			 cooldown_left_ms;
	bool			 hook_running;	/* this pool's hook */
	int32_t			 hook_pid;
	int64_t			 hook_ms;	/* running for */
	uint8_t			 last_reason;	/* enum as_reason */
	uint32_t		 nrec;
	struct as_record	 rec[AS_RING];	/* newest first */
};

struct autoscale;

/* --- evaluator (pure) --- */

/*
 * Decides for one pool: keep, or scale out / in with the number of
 * servers wanted.  Order: a running hook, the cooldown, a server lost
 * below min_servers, more than max_servers, a full window, then the
 * load against target_active_per_server (+20% / -40%).
 */
void	autoscale_decide(const struct conf_autoscale *c,
	    const struct as_input *in, struct as_decision *d);
/* Index of the least loaded ready server, the last among equals; -1. */
int	autoscale_pick_drain(const struct as_server *s, size_t n);
/*
 * Window of `window_ms` sampled every `interval_ms`.  0, or -1 with
 * errno (ENOMEM).
 */
int	autoscale_window_init(struct as_window *w, uint64_t window_ms,
	    uint64_t interval_ms);
void	autoscale_window_free(struct as_window *w);
/* Forgets every sample (the next one starts a new window). */
void	autoscale_window_reset(struct as_window *w);
void	autoscale_window_add(struct as_window *w, int64_t now,
	    int64_t active);
/*
 * Average of the samples taken within window_ms before `now`, x1000;
 * *full tells whether they span the window (less one interval).
 */
uint64_t autoscale_window_avg(const struct as_window *w, int64_t now,
	    bool *full);
/* "above_target", ... for the environment, the log and lbctl. */
const char *autoscale_reason_name(unsigned r);
/* "keep", "scale_out", "scale_in". */
const char *autoscale_action_name(unsigned a);

/* --- runner (master only) --- */

/*
 * Starts watching the autoscaled pools of *confp on `base`; hooks get
 * LBCTL_SOCKET = `ctl_socket` (the socket actually open).  Registers the
 * runner for autoscale_view().  Returns it, or NULL with errno.
 */
struct autoscale *autoscale_start(struct event_base *base,
	    struct shm_table *t, struct conf *const *confp,
	    const char *ctl_socket);
/* Re-reads the pools' settings after a reload (kept pools keep state). */
void	autoscale_reload(struct autoscale *a);
/*
 * Stops evaluating; a hook still running gets SIGTERM on its process
 * group.  NULL is fine.
 */
void	autoscale_stop(struct autoscale *a);
/*
 * From the master's SIGCHLD reaper: true when `pid` was the hook (its
 * end is recorded and logged), false otherwise.  NULL is fine.
 */
bool	autoscale_reaped(struct autoscale *a, pid_t pid, int status);
/*
 * The i-th autoscaled pool (0, 1, ...) of the running master into *v;
 * false past the last one or when no runner is started.
 */
bool	autoscale_view(uint32_t i, struct autoscale_view *v);

#endif
