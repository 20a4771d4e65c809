/*
 * master-t.h - the master's runtime state (never crosses a process
 * boundary; workers get what they need through worker_main's arguments).
 */
#ifndef LB_MASTER_T_H
#define LB_MASTER_T_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/event.h>

#include "cfg.h"
#include "conf-t.h"
#include "ctl.h"
#include "shm-t.h"
#include "state.h"

#define MASTER_PIPES_MIN	64	/* a worker's pipe pool floor (worker.c) */
#define MASTER_FDS_RESERVE	64	/* listeners, syslog, event base ... */
#define MASTER_MAX_WORKERS	64	/* per generation */

struct health;
struct autoscale;

enum master_stop {
	MASTER_RUNNING = 0,
	MASTER_STOP_GRACEFUL = 1,
	MASTER_STOP_FAST = 2,
};

/* A listening socket the master keeps open across reloads. */
struct master_listener {
	char			name[SHM_NAME_MAX];
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	int			fd;
	uint32_t		pool_idx;	/* shared-table pool index */
};

/* A worker process, any generation. pid 0 = free entry. */
struct master_proc {
	pid_t		pid;
	uint32_t	slot;		/* shared-table worker slot */
	uint32_t	generation;
	uint32_t	idx;		/* position within its generation */
	bool		retiring;	/* old generation, draining */
	int64_t		kill_at;	/* monotonic ms: drain deadline */
};

/* A position in the current generation: who fills it, when to respawn. */
struct master_cur {
	pid_t		pid;		/* 0 = vacant */
	int64_t		started;	/* monotonic ms */
	int64_t		next_spawn;	/* monotonic ms */
	int64_t		backoff;	/* ms */
};

struct master {
	struct conf		*conf;		/* in force */
	char			*conf_path;	/* absolute */
	bool			 log_stderr;
	struct shm_table	*t;
	struct event_base	*base;
	struct master_listener	*ls;
	uint32_t		 nls;
	struct master_proc	 procs[SHM_MAX_WORKERS];
	struct master_cur	 cur[MASTER_MAX_WORKERS];
	uint32_t		 nworkers;	/* of the current generation */
	uint32_t		 generation;
	int			 stopping;	/* enum master_stop */
	int64_t			 stop_deadline;
	struct event		*ev_sig[3];
	struct event		*ev_chld;
	struct event		*ev_tick;
	struct ctl_env		 env;
	struct ctl_server	*ctl;
	struct health		*health;	/* active checker (health.c) */
	struct autoscale	*autoscale;	/* scaling hooks (autoscale.c) */
	struct state		 state;		/* last saved runtime changes */
	uint64_t		 state_fp;	/* table fingerprint when saved */
	uint32_t		 pending_remove[SHM_MAX_SERVERS];
	uint32_t		 npending_remove;
};

/* master.c */
uint32_t master_workers_alive(const struct master *m);
void	 master_signal_workers(struct master *m, int sig, bool only_retiring);
/* Forks the current generation's vacant workers whose back-off is over. */
void	 master_spawn_due(struct master *m, int64_t now);

/* reload.c */
/*
 * Makes the shared table match `c` (pools and servers matched by name;
 * new ones added, gone ones removed once idle).  0, or -1 with errors.
 */
int	 master_table_load(struct master *m, const struct conf *c,
	    struct cfg_errors *errs);
/* Opens c's listeners, keeping already-open sockets with the same address. */
int	 master_listeners_open(struct master *m, const struct conf *c,
	    struct cfg_errors *errs);
/*
 * Reloads the config file: validate, then new listeners and table, a new
 * generation of workers, and the old one drained.  On any error the old
 * config stays in force untouched.  Errors go to the log and, when errs is
 * not NULL, to the caller (the control socket).  Returns 0 or -1.
 */
int	 master_reload(struct master *m, struct cfg_errors *errs);
/* Retries removals of servers that were busy at reload time. */
void	 master_reload_tick(struct master *m);
/* Re-applies the saved runtime changes after a start or reload. */
void	 master_state_apply(struct master *m);
/* Saves runtime changes when the table's steering state changed. */
void	 master_state_tick(struct master *m);

#endif
