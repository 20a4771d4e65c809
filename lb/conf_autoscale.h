/*
 * conf_autoscale.h - the `autoscale = { ... }` group of a pool in
 * lbd.conf: bounds, target load, hooks, window, cooldown, hook timeout.
 *
 * Master (start-up, reload) and `lbd -n`; never logs: problems are
 * reported as FILE:LINE through the conf_ctx like the rest of conf.c.
 * Whether a hook exists is checked when it runs, not here, so a config
 * can be validated on a host that does not have the hooks yet.
 */
#ifndef LB_CONF_AUTOSCALE_H
#define LB_CONF_AUTOSCALE_H

#include <libconfig.h>

#include "conf-t.h"
#include "conf_setting.h"

/* A pool without the group: autoscaling off, defaults in place. */
void	conf_autoscale_defaults(struct conf_autoscale *a);
/*
 * Reads member `autoscale` of pool element `pool`, if any, into *a.
 * Every problem is reported and counted in ctx.
 */
void	conf_autoscale_parse(struct conf_ctx *ctx,
	    const config_setting_t *pool, struct conf_autoscale *a);

#endif
