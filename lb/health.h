/*
 * health.h - the active health checker of lbd.
 *
 * One checker for all workers, run by the master on its libevent loop.
 * It probes every server of the shared table (TCP connect, or send bytes
 * and look for an expected answer), watches the workers' passive failure
 * counts, and writes each server's health, last check, flap state and
 * slow-start weight into the table.  Servers are found by rescanning the
 * table on every tick, so servers added at run time (lbctl add) are
 * checked without telling the checker.  The rules of the state itself are
 * in health_fsm.h; the settings in conf_health.h.
 *
 * Master process only.
 */
#ifndef LB_HEALTH_H
#define LB_HEALTH_H

#include <event2/event.h>

#include "conf-t.h"
#include "shm-t.h"

struct health;

/*
 * Starts checking every server of `t` on `base`.  `confp` points at the
 * master's pointer to the config in force, so a reload is seen without a
 * stale pointer; call health_reload() after one to apply new settings.
 * Scans the table once before returning, so servers whose policy is
 * "initial down" are down before any worker starts.  Returns the
 * checker, or NULL with errno.
 */
struct health	*health_start(struct event_base *base, struct shm_table *t,
		    struct conf *const *confp);
/* Re-reads every server's settings from the config in force. */
void		 health_reload(struct health *h);
/* Cancels every check in flight and frees the checker.  NULL is fine. */
void		 health_stop(struct health *h);
/* "ok", "refused", "timeout" ... for enum shm_check. */
const char	*health_result_name(unsigned r);

#endif
