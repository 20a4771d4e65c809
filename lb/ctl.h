/*
 * ctl.h - lbd's control socket, served by the master on its event loop.
 *
 * Wire protocol (common/ctl_proto.h): one command per line; each reply is
 * framed "OK <len>\n" or "ERR <len>\n" followed by exactly <len> bytes of
 * body (text table, or JSON when the command was prefixed with "json ").
 */
#ifndef LB_CTL_H
#define LB_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "cfg.h"
#include "conf-t.h"
#include "shm-t.h"

/* What the control server needs from the master. */
struct ctl_env {
	struct shm_table	*t;
	/* The config in force now (changes on reload). */
	const struct conf	*(*conf)(void *arg);
	/* Reloads the config file; 0, or -1 with errors appended to errs. */
	int			 (*reload)(void *arg, struct cfg_errors *errs);
	/* Workers alive of the current generation / configured. */
	uint32_t		 (*workers_alive)(void *arg);
	void			*arg;
	int64_t			 started_ms;	/* wall clock */
	const char		*config_path;
	/*
	 * Members of this group may use the socket too (besides uid 0 and
	 * lbd's euid); (gid_t)-1 = none.  0 also means none: a zeroed env
	 * must not open the socket to the root group.
	 */
	gid_t			 control_gid;
	/* Idle clients are closed after this long; 0 = 30 s. */
	uint32_t		 idle_ms;
};

struct ctl_server;

/*
 * Creates the socket directory (0750) if missing, binds `path` (mode 0660,
 * replacing a stale socket but refusing a live one) and serves it on
 * `base`.  Returns NULL with errno on failure.  Master only.
 */
struct ctl_server *ctl_open(struct event_base *base, const char *path,
    const struct ctl_env *env);
/* Closes every client and the socket, and unlinks the path. */
void ctl_close(struct ctl_server *cs);

#endif
