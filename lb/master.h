/*
 * master.h - the lbd master process: owns the config, the listening
 * sockets, the shared table and the control socket; forks and supervises
 * the workers; handles signals and reloads.
 */
#ifndef LB_MASTER_H
#define LB_MASTER_H

#include <stdbool.h>

#include "cfg.h"
#include "conf-t.h"

struct master_opts {
	const char	*conf_path;
	bool		 foreground;	/* -d or -D: do not daemonize */
	bool		 log_stderr;	/* -d: mirror logs to stderr */
};

/*
 * Runs the master on the validated config `conf` (ownership passes to the
 * master).  Returns the process exit status: 0 after a clean stop.
 */
int master_run(struct conf *conf, const struct master_opts *o);

#endif
