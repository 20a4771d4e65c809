/*
 * conf_health.c - parsing and validating health settings (see
 * conf_health.h).  Ranges are checked by the typed getters; what needs
 * two keys (timeout within interval) is checked on the merged result, so
 * a server that overrides only `interval` is still held to its pool's
 * `timeout`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "conf_health.h"
#include "conf_setting.h"

#define HC_DEF_INTERVAL_MS	2000
#define HC_DEF_TIMEOUT_MS	1000
#define HC_DEF_RISE		2
#define HC_DEF_FALL		3
#define HC_DEF_OBSERVE		5
#define HC_DEF_FLAP_LIMIT	5
#define HC_DEF_FLAP_WINDOW_MS	60000
#define HC_HOUR_MS		(60ull * 60 * 1000)
#define HC_DAY_MS		(24 * HC_HOUR_MS)

static const char *const conf_keys_health[] = { "interval", "timeout",
    "rise", "fall", "send", "expect", "port", "observe_errors",
    "slowstart", "flap_limit", "flap_window", "on_down", "initial", NULL };

void
conf_health_defaults(struct conf_health *h)
{
	memset(h, 0, sizeof(*h));
	h->enabled = false;
	h->initial_up = true;
	h->rise = HC_DEF_RISE;
	h->fall = HC_DEF_FALL;
	h->observe_errors = HC_DEF_OBSERVE;
	h->flap_limit = HC_DEF_FLAP_LIMIT;
	h->interval_ms = HC_DEF_INTERVAL_MS;
	h->timeout_ms = HC_DEF_TIMEOUT_MS;
	h->flap_window_ms = HC_DEF_FLAP_WINDOW_MS;
}

static int
conf_health_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
conf_health_data(const char *s, uint8_t *out, size_t max, uint32_t *len,
    char *why, size_t whylen)
{
	size_t	 n, i;
	int	 hi, lo;

	if (strncmp(s, "hex:", 4) != 0) {
		n = strlen(s);
		if (n == 0 || n > max) {
			snprintf(why, whylen, "must be 1 to %zu bytes (got %zu)",
			    max, n);
			return -1;
		}
		memcpy(out, s, n);
		*len = (uint32_t)n;
		return 0;
	}
	s += 4;
	n = strlen(s);
	if (n == 0 || n % 2 != 0 || n / 2 > max) {
		snprintf(why, whylen, "hex: needs an even number of hex digits, "
		    "1 to %zu bytes (got %zu digits)", max, n);
		return -1;
	}
	for (i = 0; i < n; i += 2) {
		if ((hi = conf_health_hexval(s[i])) == -1 ||
		    (lo = conf_health_hexval(s[i + 1])) == -1) {
			snprintf(why, whylen, "hex: '%c%c' at digit %zu is not "
			    "hex", s[i], s[i + 1], i + 1);
			return -1;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = (uint32_t)(n / 2);
	return 0;
}

/* send or expect: string or hex: into buf/len. */
static void
conf_health_get_data(struct conf_ctx *ctx, const config_setting_t *g,
    const char *key, uint8_t *buf, uint32_t *len)
{
	const char	*s;
	char		 why[128];

	if (conf_get_string(ctx, g, key, &s) != CONF_GET_OK)
		return;
	if (conf_health_data(s, buf, CONF_HC_DATA_MAX, len, why,
	    sizeof(why)) == -1)
		conf_err(ctx, conf_line(config_setting_get_member(g, key)),
		    "'%s' %s", key, why);
}

/*
 * A string member that must be one of two words; *out is set to whether
 * it is the first.  Absent leaves *out as it was.
 */
static void
conf_health_choice(struct conf_ctx *ctx, const config_setting_t *g,
    const char *key, const char *yes, const char *no, bool *out)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];

	if (conf_get_string(ctx, g, key, &s) != CONF_GET_OK)
		return;
	if (strcmp(s, yes) == 0)
		*out = true;
	else if (strcmp(s, no) == 0)
		*out = false;
	else
		conf_err(ctx, conf_line(config_setting_get_member(g, key)),
		    "'%s' must be \"%s\" or \"%s\" (got \"%s\")", key, yes, no,
		    conf_echo(s, esc, sizeof(esc)));
}

/* The integer keys: rise, fall, port, observe_errors, flap_limit. */
static void
conf_health_ints(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_health *h)
{
	int64_t v;

	if (conf_get_int(ctx, g, "rise", 1, 100, &v) == CONF_GET_OK)
		h->rise = (uint32_t)v;
	if (conf_get_int(ctx, g, "fall", 1, 100, &v) == CONF_GET_OK)
		h->fall = (uint32_t)v;
	if (conf_get_int(ctx, g, "port", 1, 65535, &v) == CONF_GET_OK)
		h->port = (uint32_t)v;
	if (conf_get_int(ctx, g, "observe_errors", 0, 1000, &v) ==
	    CONF_GET_OK)
		h->observe_errors = (uint32_t)v;
	if (conf_get_int(ctx, g, "flap_limit", 0, 1000, &v) == CONF_GET_OK)
		h->flap_limit = (uint32_t)v;
}

void
conf_health_parse(struct conf_ctx *ctx, const config_setting_t *grp,
    struct conf_health *h)
{
	const config_setting_t	*g;
	bool			 timeout_set = false;

	if ((g = conf_get_aggregate(ctx, grp, "health", CONFIG_TYPE_GROUP,
	    false)) == NULL)
		return;
	conf_check_keys(ctx, g, conf_keys_health);
	/* Checks on: a server is only trusted after its first pass. */
	if (!h->enabled)
		h->initial_up = false;
	h->enabled = true;
	conf_get_duration(ctx, g, "interval", 100, HC_HOUR_MS, &h->interval_ms);
	if (conf_get_duration(ctx, g, "timeout", 10, HC_HOUR_MS,
	    &h->timeout_ms) == CONF_GET_OK)
		timeout_set = true;
	conf_health_ints(ctx, g, h);
	conf_health_get_data(ctx, g, "send", h->send, &h->send_len);
	conf_health_get_data(ctx, g, "expect", h->expect, &h->expect_len);
	conf_get_duration(ctx, g, "slowstart", 0, HC_HOUR_MS,
	    &h->slowstart_ms);
	conf_get_duration(ctx, g, "flap_window", 1000, HC_DAY_MS,
	    &h->flap_window_ms);
	conf_health_choice(ctx, g, "on_down", "shutdown", "keep",
	    &h->on_down_shutdown);
	conf_health_choice(ctx, g, "initial", "up", "down", &h->initial_up);
	/* A timeout written here must fit; an inherited one is clamped. */
	if (h->timeout_ms > h->interval_ms && !timeout_set)
		h->timeout_ms = h->interval_ms;
	else if (h->timeout_ms > h->interval_ms)
		conf_err(ctx, conf_line(config_setting_get_member(g,
		    "timeout")), "health 'timeout' (%llu ms) must not exceed "
		    "'interval' (%llu ms)", (unsigned long long)h->timeout_ms,
		    (unsigned long long)h->interval_ms);
}
