/*
 * conf.h - loading and validating lbd's libconfig file.
 */
#ifndef LB_CONF_H
#define LB_CONF_H

#include "cfg.h"
#include "conf-t.h"

/*
 * Reads and validates `path` completely (every rule, not just the first
 * failure).  On success returns a new struct conf (free with conf_free) and
 * leaves `errs` empty.  On failure returns NULL and appends one
 * "FILE:LINE: message" per problem to `errs`.  Runs in the master (and in
 * `lbd -n`); never logs.
 */
struct conf *conf_load(const char *path, struct cfg_errors *errs);

/* Same, from a string (unit tests, fuzzing); `name` stands in for FILE. */
struct conf *conf_load_string(const char *text, const char *name,
    struct cfg_errors *errs);

void conf_free(struct conf *c);

#endif
