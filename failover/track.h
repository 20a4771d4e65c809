/*
 * track.h - watches the local lbd through its control socket: every
 * interval, a non-blocking "health" exchange bounded by a timeout, with
 * fall/rise hysteresis.  Runs inside the agent's libevent loop and never
 * blocks it.  Reports changes through a callback; does not log.
 */
#ifndef LB_TRACK_H
#define LB_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#define FO_TRACK_REASON	160

struct fo_track {
	struct event_base *base;
	char		   path[108];
	int64_t		   interval_ms;
	int64_t		   timeout_ms;
	unsigned	   fall;
	unsigned	   rise;
	void		 (*cb)(void *arg, bool healthy, const char *reason);
	void		  *arg;

	struct event	  *tick;	/* every interval */
	struct event	  *io;		/* the exchange in flight, or NULL */
	int		   fd;
	int64_t		   deadline;
	char		   rbuf[512];
	size_t		   rlen;

	bool		   healthy;	/* judged state, after hysteresis */
	unsigned	   ok_streak;
	unsigned	   fail_streak;
	uint64_t	   checks;
	uint64_t	   failures;
	int64_t		   last_ok_ms;	/* mono ms of last success, -1 */
	char		   reason[FO_TRACK_REASON];	/* last failure */
};

/*
 * Starts checking `path`; starts unhealthy until `rise` successes.
 * Returns 0 or -1.
 */
int fo_track_start(struct fo_track *t, struct event_base *base,
    const char *path, int64_t interval_ms, int64_t timeout_ms, unsigned fall,
    unsigned rise, void (*cb)(void *, bool, const char *), void *arg);

void fo_track_stop(struct fo_track *t);

#endif
