/*
 * conf_autoscale.c - parsing and validating a pool's autoscale group (see
 * conf_autoscale.h).  Ranges of single keys are checked by the typed
 * getters; what needs two keys (max_servers against min_servers) is
 * checked once the group is read, at the line of the key that is wrong.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "conf_autoscale.h"
#include "conf_setting.h"
#include "shm-t.h"

#define AS_DEF_MIN		1
#define AS_DEF_WINDOW_MS	(30 * 1000)
#define AS_DEF_COOLDOWN_MS	(2 * 60 * 1000)
#define AS_DEF_TIMEOUT_MS	(30 * 1000)
#define AS_MAX_TARGET		1000000	/* maxconn's own bound */
#define AS_HOUR_MS		(60ull * 60 * 1000)
#define AS_DAY_MS		(24 * AS_HOUR_MS)

static const char *const conf_keys_autoscale[] = { "min_servers",
    "max_servers", "target_active_per_server", "scale_out", "scale_in",
    "window", "cooldown", "hook_timeout", NULL };

void
conf_autoscale_defaults(struct conf_autoscale *a)
{
	memset(a, 0, sizeof(*a));
	a->min_servers = AS_DEF_MIN;
	a->max_servers = SHM_POOL_MAX_SERVERS;
	a->window_ms = AS_DEF_WINDOW_MS;
	a->cooldown_ms = AS_DEF_COOLDOWN_MS;
	a->hook_timeout_ms = AS_DEF_TIMEOUT_MS;
}

/*
 * A hook: required, an absolute path that fits dst.  Its existence is
 * checked when it runs (and logged then), not at load time.
 */
static void
conf_autoscale_hook(struct conf_ctx *ctx, const config_setting_t *g,
    const char *key, char *dst, size_t dstlen)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	int		 line;

	if (conf_get_string(ctx, g, key, &s) != CONF_GET_OK) {
		if (config_setting_get_member(g, key) == NULL)
			conf_missing(ctx, g, key);
		return;
	}
	line = conf_line(config_setting_get_member(g, key));
	if (s[0] != '/')
		conf_err(ctx, line, "autoscale '%s' must be an absolute path "
		    "(got \"%s\")", key, conf_echo(s, esc, sizeof(esc)));
	else if (strlen(s) >= dstlen)
		conf_err(ctx, line, "autoscale '%s' is too long (%zu bytes, "
		    "max %zu)", key, strlen(s), dstlen - 1);
	else
		memcpy(dst, s, strlen(s) + 1);
}

/* min_servers, max_servers, target_active_per_server. */
static void
conf_autoscale_ints(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_autoscale *a)
{
	enum conf_get	 got;
	int64_t		 v;

	if (conf_get_int(ctx, g, "min_servers", 0, SHM_POOL_MAX_SERVERS,
	    &v) == CONF_GET_OK)
		a->min_servers = (uint32_t)v;
	got = conf_get_int(ctx, g, "max_servers", 0, SHM_POOL_MAX_SERVERS,
	    &v);
	if (got == CONF_GET_OK) {
		a->max_servers = (uint32_t)v;
		if (a->max_servers < a->min_servers)
			conf_err(ctx, conf_line(config_setting_get_member(g,
			    "max_servers")), "autoscale 'max_servers' (%u) "
			    "must not be below 'min_servers' (%u)",
			    a->max_servers, a->min_servers);
	} else if (got == CONF_GET_ABSENT)
		conf_missing(ctx, g, "max_servers");
	got = conf_get_int(ctx, g, "target_active_per_server", 1,
	    AS_MAX_TARGET, &v);
	if (got == CONF_GET_OK)
		a->target = (uint32_t)v;
	else if (got == CONF_GET_ABSENT)
		conf_missing(ctx, g, "target_active_per_server");
}

void
conf_autoscale_parse(struct conf_ctx *ctx, const config_setting_t *pool,
    struct conf_autoscale *a)
{
	const config_setting_t *g;

	conf_autoscale_defaults(a);
	if ((g = conf_get_aggregate(ctx, pool, "autoscale", CONFIG_TYPE_GROUP,
	    false)) == NULL)
		return;
	a->enabled = true;
	conf_check_keys(ctx, g, conf_keys_autoscale);
	conf_autoscale_ints(ctx, g, a);
	conf_autoscale_hook(ctx, g, "scale_out", a->scale_out,
	    sizeof(a->scale_out));
	conf_autoscale_hook(ctx, g, "scale_in", a->scale_in,
	    sizeof(a->scale_in));
	conf_get_duration(ctx, g, "window", 1000, AS_HOUR_MS, &a->window_ms);
	conf_get_duration(ctx, g, "cooldown", 0, AS_DAY_MS, &a->cooldown_ms);
	conf_get_duration(ctx, g, "hook_timeout", 1000, AS_HOUR_MS,
	    &a->hook_timeout_ms);
}
