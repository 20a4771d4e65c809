/*
 * conf_setting.c - typed, checked access to libconfig settings for the
 * lbd config loader (see conf_setting.h).  Runs in the master and in
 * `lbd -n`; never logs: every problem becomes one collected message.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "addr.h"
#include "cfg.h"
#include "conf_setting.h"
#include "log.h"

#define CONF_PATH_DEPTH	16	/* our schema is 4 deep; libconfig's may be more */
#define CONF_ECHO_MAX	64	/* bytes of a user string echoed back */

/* Appends one "FILE:LINE: message" and counts it. */
void
conf_err(struct conf_ctx *ctx, int line, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_error(ctx->errs, ctx->file, line, "%s", msg);
	ctx->nerr++;
}

/*
 * Source line of a setting.  The root group has none (0); a problem with
 * the file as a whole is reported at line 1 rather than at "line 0".
 */
int
conf_line(const config_setting_t *s)
{
	int line = s ? (int)config_setting_source_line(s) : 0;

	return line > 0 ? line : 1;
}

/*
 * Writes the libconfig path of `s` ("pools.[0].servers.[1].weight") into
 * buf, truncated if it must be.  Returns buf.
 */
const char *
conf_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t	*chain[CONF_PATH_DEPTH];
	const char		*name;
	size_t			 n = 0, off = 0;
	int			 w;

	buf[0] = '\0';
	for (; s != NULL && config_setting_parent(s) != NULL &&
	    n < CONF_PATH_DEPTH; s = config_setting_parent(s))
		chain[n++] = s;
	while (n-- > 0) {
		name = config_setting_name(chain[n]);
		if (name != NULL)
			w = snprintf(buf + off, len - off, "%s%s",
			    off ? "." : "", name);
		else
			w = snprintf(buf + off, len - off, "%s[%d]",
			    off ? "." : "", config_setting_index(chain[n]));
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
	return buf;
}

/* A user string made safe to print: escaped, at most CONF_ECHO_MAX bytes. */
const char *
conf_echo(const char *s, char *buf, size_t len)
{
	log_escape(buf, len, s, strnlen(s, CONF_ECHO_MAX));
	return buf;
}

/* Reports every member of `grp` whose name is not in NULL-ended `keys`. */
void
conf_check_keys(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *const *keys)
{
	const config_setting_t	*s;
	const char		*name;
	char			 path[CONF_PATH_LEN];
	int			 i, k;

	for (i = 0; (s = config_setting_get_elem(grp, (unsigned)i)); i++) {
		if ((name = config_setting_name(s)) == NULL)
			continue;
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], name) == 0)
				break;
		if (keys[k] == NULL)
			conf_err(ctx, conf_line(s), "unknown setting '%s'",
			    conf_path(s, path, sizeof(path)));
	}
}

/* Reports a required `key` missing from `grp`, at the line of `grp`. */
void
conf_missing(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key)
{
	char path[CONF_PATH_LEN];

	conf_path(grp, path, sizeof(path));
	conf_err(ctx, conf_line(grp), "missing required setting '%s%s%s'",
	    path, path[0] ? "." : "", key);
}

/*
 * Integer member `key` of `grp` in [min, max].  int and int64 settings
 * are both accepted; anything else (float, string, bool) is an error.
 */
enum conf_get
conf_get_int(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, int64_t min, int64_t max, int64_t *out)
{
	const config_setting_t	*s;
	long long		 v;

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return CONF_GET_ABSENT;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_err(ctx, conf_line(s), "'%s' must be an integer", key);
		return CONF_GET_BAD;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		conf_err(ctx, conf_line(s), "'%s' must be between %" PRId64
		    " and %" PRId64 " (got %lld)", key, min, max, v);
		return CONF_GET_BAD;
	}
	*out = v;
	return CONF_GET_OK;
}

enum conf_get
conf_get_bool(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, bool *out)
{
	const config_setting_t *s;

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return CONF_GET_ABSENT;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_err(ctx, conf_line(s), "'%s' must be a boolean (true or "
		    "false)", key);
		return CONF_GET_BAD;
	}
	*out = config_setting_get_bool(s) != 0;
	return CONF_GET_OK;
}

/* String member; *out points into libconfig's tree (valid until destroy). */
enum conf_get
conf_get_string(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, const char **out)
{
	const config_setting_t *s;

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return CONF_GET_ABSENT;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(ctx, conf_line(s), "'%s' must be a string", key);
		return CONF_GET_BAD;
	}
	*out = config_setting_get_string(s);
	return CONF_GET_OK;
}

/* Formats milliseconds in the largest unit that divides them exactly. */
static const char *
conf_fmt_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / 3600000);
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / 60000);
	else if (ms != 0 && ms % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	return buf;
}

/* Duration member (cfg_duration_setting syntax) in [min, max] ms. */
enum conf_get
conf_get_duration(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	const config_setting_t	*s;
	char			 why[256], a[32], b[32], c[32];
	uint64_t		 ms;

	if ((s = config_setting_get_member(grp, key)) == NULL)
		return CONF_GET_ABSENT;
	if (cfg_duration_setting(s, &ms, why, sizeof(why)) == -1) {
		conf_err(ctx, conf_line(s), "'%s' %s", key, why);
		return CONF_GET_BAD;
	}
	if (ms < min || ms > max) {
		conf_err(ctx, conf_line(s), "'%s' must be between %s and %s "
		    "(got %s)", key, conf_fmt_ms(min, a, sizeof(a)),
		    conf_fmt_ms(max, b, sizeof(b)),
		    conf_fmt_ms(ms, c, sizeof(c)));
		return CONF_GET_BAD;
	}
	*out = ms;
	return CONF_GET_OK;
}

/* A name: 1..outlen-1 characters of [A-Za-z0-9_.-]. */
static bool
conf_name_ok(const char *s, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= outlen)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	}
	return i > 0;
}

/*
 * Required name member `key`, copied into out (size outlen, which sets
 * the maximum length).  Absent is reported as missing.
 */
enum conf_get
conf_get_name(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, char *out, size_t outlen)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	enum conf_get	 rc;

	out[0] = '\0';
	if ((rc = conf_get_string(ctx, grp, key, &s)) == CONF_GET_ABSENT)
		conf_missing(ctx, grp, key);
	if (rc != CONF_GET_OK)
		return rc;
	if (!conf_name_ok(s, outlen)) {
		conf_err(ctx, conf_line(config_setting_get_member(grp, key)),
		    "'%s' must be 1 to %zu characters of A-Z a-z 0-9 _ . - "
		    "(got \"%s\")", key, outlen - 1,
		    conf_echo(s, esc, sizeof(esc)));
		return CONF_GET_BAD;
	}
	memcpy(out, s, strlen(s) + 1);
	return CONF_GET_OK;
}

/*
 * Group or list member `key` of type `type` (CONFIG_TYPE_GROUP or
 * CONFIG_TYPE_LIST).  Returns it, or NULL when absent (reported only if
 * `required`) or of the wrong type (reported).
 */
const config_setting_t *
conf_get_aggregate(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, int type, bool required)
{
	const config_setting_t *s;

	if ((s = config_setting_get_member(grp, key)) == NULL) {
		if (required)
			conf_missing(ctx, grp, key);
		return NULL;
	}
	if (config_setting_type(s) != type) {
		conf_err(ctx, conf_line(s), "'%s' must be a %s", key,
		    type == CONFIG_TYPE_GROUP ? "group { ... }" :
		    "list ( ... )");
		return NULL;
	}
	return s;
}

/* Reports `s` (an element of a list) when it is not a group. */
bool
conf_is_group(struct conf_ctx *ctx, const config_setting_t *s)
{
	char path[CONF_PATH_LEN];

	if (config_setting_type(s) == CONFIG_TYPE_GROUP)
		return true;
	conf_err(ctx, conf_line(s), "'%s' must be a group { ... }",
	    conf_path(s, path, sizeof(path)));
	return false;
}

/*
 * Required address member `key`: copied as written into text (size
 * textlen) and parsed into *ss / *len.  Returns 0, or -1 (reported).
 */
int
conf_get_addr(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, char *text, size_t textlen,
    struct sockaddr_storage *ss, socklen_t *len)
{
	const char	*s;
	char		 esc[CONF_ECHO_LEN];
	enum conf_get	 rc;

	if ((rc = conf_get_string(ctx, grp, key, &s)) == CONF_GET_ABSENT)
		conf_missing(ctx, grp, key);
	if (rc != CONF_GET_OK)
		return -1;
	if (strlen(s) >= textlen || addr_parse(s, ss, len) == -1) {
		conf_err(ctx, conf_line(config_setting_get_member(grp, key)),
		    "'%s' must be a numeric IP:PORT, [IPv6]:PORT or *:PORT "
		    "with port 1-65535; hostnames are not resolved "
		    "(got \"%s\")", key, conf_echo(s, esc, sizeof(esc)));
		return -1;
	}
	memcpy(text, s, strlen(s) + 1);
	return 0;
}
