/*
 * ctl_cmd.h - the control commands of lbd, apart from the socket that
 * carries them (lb/ctl.c), so they can be run and tested without one.
 *
 *   ctl_cmd.c   dispatch, help, and the write commands (enable, drain,
 *               disable, weight, add, remove, reload)
 *   ctl_show.c  the read commands (status, pools, servers, workers,
 *               health, metrics)
 *   ctl_tab.c   aligned text tables
 *
 * Master only: commands read the shared table and change the fields the
 * master owns.
 */
#ifndef LB_CTL_CMD_H
#define LB_CTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "ctl_proto.h"

/*
 * Runs one parsed request for peer `uid`, writing the reply body to `out`
 * (text, or JSON when req->json).  Runtime changes are logged with the
 * uid.  Returns true for an OK reply, false for ERR (the body says why).
 */
bool ctl_cmd_run(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out);

/* Read commands (ctl_show.c); same contract as ctl_cmd_run(). */
bool ctl_show_status(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out);
bool ctl_show_pools(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out);
bool ctl_show_servers(const struct ctl_env *env,
    const struct ctl_request *req, struct ctl_buf *out);
bool ctl_show_workers(const struct ctl_env *env,
    const struct ctl_request *req, struct ctl_buf *out);
bool ctl_show_health(const struct ctl_env *env, const struct ctl_request *req,
    struct ctl_buf *out);
bool ctl_show_metrics(const struct ctl_env *env,
    const struct ctl_request *req, struct ctl_buf *out);
/* autoscale [POOL]: figures and last decisions of the autoscaled pools. */
bool ctl_show_autoscale(const struct ctl_env *env,
    const struct ctl_request *req, struct ctl_buf *out);
/* sticky [POOL] | sticky show POOL [ADDR] | sticky clear POOL [ADDR]. */
bool ctl_sticky(const struct ctl_env *env, const struct ctl_request *req,
    uint32_t uid, struct ctl_buf *out);

/*
 * True when server `idx` could take traffic but for load: in use, admin
 * ready, health up, weight > 0.  Unlike shm_server_usable() it ignores
 * maxconn, so a busy pool does not read as down.
 */
bool ctl_server_up(const struct shm_table *t, uint32_t idx);
/* Servers of pool `pool_idx` that are up, and their total, into up and n. */
void ctl_pool_count(const struct shm_table *t, uint32_t pool_idx,
    uint32_t *up, uint32_t *n);
/*
 * Iterates the servers in use, pool by pool (table order) and in config
 * order within a pool; only pool `only` when it is >= 0.  Start with
 * *pi = *k = 0; each call sets *idx and returns true, false at the end.
 */
bool ctl_next_server(const struct shm_table *t, int only, uint32_t *pi,
    uint32_t *k, uint32_t *idx);
/* Active connections of pool `pool_idx`: the sum over its servers. */
int64_t ctl_pool_active(const struct shm_table *t, uint32_t pool_idx);
/* Formats wall-clock ms as "2026-12-04T17:06:45Z" ("-" for 0) into buf. */
const char *ctl_iso_time(int64_t ms, char *buf, size_t len);

/* An aligned text table: cells are copied, widths computed at print. */
#define CTL_TAB_COLS	16
#define CTL_TAB_CELL	72

struct ctl_tab {
	int	  ncols;
	bool	  right[CTL_TAB_COLS];	/* right-align (numbers) */
	size_t	  nrows;
	size_t	  cap;
	char	(*cells)[CTL_TAB_CELL];	/* nrows * ncols, row 0 = header */
	bool	  failed;		/* out of memory: print says so */
};

/*
 * Starts a table whose header row is `spec`: column names separated by
 * spaces; a name ending in '>' is right-aligned (the '>' is dropped).
 */
void ctl_tab_init(struct ctl_tab *tab, const char *spec);
/* Adds a row; then ctl_tab_cell() fills each column in order. */
void ctl_tab_row(struct ctl_tab *tab);
void ctl_tab_cell(struct ctl_tab *tab, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints every row, columns padded to their widest cell; frees tab. */
void ctl_tab_print(struct ctl_tab *tab, struct ctl_buf *out);
/*
 * Ends a listing: closes the JSON array (and the line) when `json`, else
 * prints the aligned table.
 */
void ctl_list_end(bool json, struct json_w *w, struct ctl_tab *tab,
    struct ctl_buf *out);

#endif
