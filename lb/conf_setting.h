/*
 * conf_setting.h - typed, checked access to libconfig settings, for the
 * lbd config loader only (lb/conf.c).  Every getter reports its own
 * problem as "FILE:LINE: message" and counts it in the context, so the
 * loader can keep going and report every problem of a file at once.
 */
#ifndef LB_CONF_SETTING_H
#define LB_CONF_SETTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <libconfig.h>

#include "cfg.h"

#define CONF_PATH_LEN	256	/* "pools.[3].servers.[12].weight" */
#define CONF_ECHO_LEN	(64 * 4 + 1)	/* an escaped user string */

/* One load in progress. */
struct conf_ctx {
	const char		*file;	/* FILE in messages */
	struct cfg_errors	*errs;
	size_t			 nerr;	/* counted here: cfg_error may drop */
};

/* What a getter found. */
enum conf_get {
	CONF_GET_ABSENT = 0,	/* not set: the default stands */
	CONF_GET_OK = 1,	/* set and valid: stored */
	CONF_GET_BAD = 2,	/* set but wrong: reported */
};

void conf_err(struct conf_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int conf_line(const config_setting_t *s);
const char *conf_path(const config_setting_t *s, char *buf, size_t len);
const char *conf_echo(const char *s, char *buf, size_t len);

void conf_check_keys(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *const *keys);
void conf_missing(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key);

enum conf_get conf_get_int(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, int64_t min, int64_t max, int64_t *out);
enum conf_get conf_get_bool(struct conf_ctx *ctx,
    const config_setting_t *grp, const char *key, bool *out);
enum conf_get conf_get_string(struct conf_ctx *ctx,
    const config_setting_t *grp, const char *key, const char **out);
enum conf_get conf_get_duration(struct conf_ctx *ctx,
    const config_setting_t *grp, const char *key, uint64_t min,
    uint64_t max, uint64_t *out);
enum conf_get conf_get_name(struct conf_ctx *ctx,
    const config_setting_t *grp, const char *key, char *out, size_t outlen);
const config_setting_t *conf_get_aggregate(struct conf_ctx *ctx,
    const config_setting_t *grp, const char *key, int type, bool required);
bool conf_is_group(struct conf_ctx *ctx, const config_setting_t *s);
int conf_get_addr(struct conf_ctx *ctx, const config_setting_t *grp,
    const char *key, char *text, size_t textlen,
    struct sockaddr_storage *ss, socklen_t *len);

#endif
