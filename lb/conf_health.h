/*
 * conf_health.h - the `health = { ... }` group of a pool or a server in
 * lbd.conf: active checks, passive detection, slow start, flap damping.
 *
 * Master (start-up, reload) and `lbd -n`; never logs: problems are
 * reported as FILE:LINE through the conf_ctx like the rest of conf.c.
 */
#ifndef LB_CONF_HEALTH_H
#define LB_CONF_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "conf-t.h"
#include "conf_setting.h"

/* Settings of a pool without a health group: no active checks. */
void	conf_health_defaults(struct conf_health *h);
/*
 * Reads member `health` of `grp` (a pool or a server element), if any,
 * over *h: keys it sets replace h's, the others stay (a server inherits
 * its pool's).  A group present turns active checks on.  Every problem is
 * reported and counted in ctx.
 */
void	conf_health_parse(struct conf_ctx *ctx, const config_setting_t *grp,
	    struct conf_health *h);
/*
 * Decodes a send/expect value: "hex:" followed by an even number of hex
 * digits, or the string's own bytes.  1..max bytes into out, *len.
 * Returns 0, or -1 with a reason in why.
 */
int	conf_health_data(const char *s, uint8_t *out, size_t max,
	    uint32_t *len, char *why, size_t whylen);

#endif
