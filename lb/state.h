/*
 * state.h - runtime changes that outlive a reload and a restart.
 *
 * What an operator changes through lbctl (admin state, weight, servers
 * added or removed) lives in the shared table; the master writes the part
 * of it that differs from the config to `state_file` and applies it again
 * after every start and reload.  The file is line-based text:
 *
 *   # comment
 *   server POOL NAME admin=drain weight=5 cfgweight=1
 *   added POOL NAME ADDRESS weight=1 maxconn=0 backup=0 admin=ready
 *   removed POOL NAME
 *
 * `cfgweight` is the config's weight when the override was made: when the
 * config's weight has changed since, the config wins (the operator edited
 * it on purpose).  Master process only.
 */
#ifndef LB_STATE_H
#define LB_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf-t.h"
#include "shm-t.h"

enum state_kind {
	STATE_SERVER = 0,	/* override of a config server */
	STATE_ADDED = 1,	/* added at run time */
	STATE_REMOVED = 2,	/* a config server removed at run time */
};

struct state_entry {
	enum state_kind		kind;
	char			pool[SHM_NAME_MAX];
	char			name[SHM_NAME_MAX];
	struct sockaddr_storage	addr;		/* STATE_ADDED */
	socklen_t		addrlen;
	uint32_t		admin;		/* enum shm_admin */
	uint32_t		weight;
	uint32_t		cfgweight;	/* STATE_SERVER */
	uint32_t		maxconn;	/* STATE_ADDED */
	bool			backup;		/* STATE_ADDED */
};

struct state {
	struct state_entry	*e;
	size_t			 n;
};

/*
 * Parses `text` (len bytes).  Bad lines are skipped and counted in
 * *nbad (their first line number in *firstbad).  Returns 0, or -1 with
 * errno ENOMEM.  Pure; unit-tested.
 */
int state_parse(const char *text, size_t len, struct state *st,
    size_t *nbad, int *firstbad);

/* Reads and parses `path`; a missing file is an empty state.  0 / -1. */
int state_load(const char *path, struct state *st, size_t *nbad,
    int *firstbad);
void state_free(struct state *st);

/* True when `st` lists pool/name as added at run time. */
bool state_is_added(const struct state *st, const char *pool,
    const char *name);

/*
 * Builds the state of table `t` against config `c` (what differs) into
 * *st.  Returns 0 or -1 (ENOMEM).
 */
int state_capture(const struct shm_table *t, const struct conf *c,
    struct state *st);

/* Formats `st` as the file's text into a malloc'd buffer; NULL on ENOMEM. */
char *state_format(const struct state *st, size_t *len);

/*
 * Writes `st` to `path` atomically: a temp file beside it (O_NOFOLLOW,
 * mode 0640), fsync, rename, fsync of the directory.  0, or -1 with errno.
 */
int state_save(const char *path, const struct state *st);

/*
 * Applies `st` to table `t` built from config `c`: overrides, added and
 * removed servers.  Servers that no longer make sense (pool gone, name
 * taken) are skipped and counted in *nskipped.  Returns the number of
 * entries applied.  Removal of a busy server is left to the caller:
 * busy[] receives their indexes (up to nbusy_max), *nbusy their count.
 */
size_t state_apply(const struct state *st, struct shm_table *t,
    const struct conf *c, size_t *nskipped, uint32_t *busy,
    size_t nbusy_max, size_t *nbusy);

/* A cheap fingerprint of what state_capture looks at, to notice changes. */
uint64_t state_fingerprint(const struct shm_table *t);

#endif
