/*
 * ratelimit.h - at most one log line per period for an event that every
 * worker may see many times a second (a pool with no usable server),
 * shared by all processes through the table, with the number of lines
 * suppressed since the last one.
 */
#ifndef LB_RATELIMIT_H
#define LB_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Any process.  `next_ms` (shared) holds when the next line is allowed;
 * `logged` (shared) the event count at the last line; `count` is the
 * event count now, this event included.  Returns true when the caller
 * may log now (one process wins a race), with *suppressed = events not
 * logged since the last line.
 */
static inline bool
ratelimit_shared(_Atomic int64_t *next_ms, _Atomic uint64_t *logged,
    uint64_t count, int64_t now, int64_t period_ms, uint64_t *suppressed)
{
	int64_t		next = atomic_load_explicit(next_ms,
			    memory_order_relaxed);
	uint64_t	prev;

	if (now < next || !atomic_compare_exchange_strong(next_ms, &next,
	    now + period_ms))
		return false;
	prev = atomic_exchange(logged, count);
	*suppressed = count > prev + 1 ? count - prev - 1 : 0;
	return true;
}

#endif
