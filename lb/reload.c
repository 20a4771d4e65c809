/*
 * reload.c - applying a config to the running master: the shared table,
 * the listening sockets, and the hand-over from one generation of workers
 * to the next.  Start-up is the first "reload" onto an empty table.
 *
 * Hitless: a listener whose address stays in the config keeps its socket
 * (the kernel's accept queue survives), new workers start before old ones
 * are told to stop, and servers are matched by pool/name so their counts
 * (including the draining old generation's connections) stay in place.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "autoscale.h"
#include "clock.h"
#include "conf.h"
#include "health.h"
#include "listen.h"
#include "log.h"
#include "maglev.h"
#include "master-t.h"
#include "sd_notify.h"
#include "shm.h"
#include "sticky.h"

static bool
reload_same_addr(const struct sockaddr_storage *a, socklen_t alen,
    const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Queues a busy server for removal once its last connection ends. */
static void
reload_remove_later(struct master *m, uint32_t sidx)
{
	uint32_t i;

	for (i = 0; i < m->npending_remove; i++)
		if (m->pending_remove[i] == sidx)
			return;
	if (m->npending_remove < SHM_MAX_SERVERS)
		m->pending_remove[m->npending_remove++] = sidx;
}

/*
 * Takes server `sidx` out of traffic: removed now when idle, otherwise
 * put in maintenance (no new connections) and removed when drained.
 */
static void
reload_retire_server(struct master *m, uint32_t sidx)
{
	struct shm_server *s = &m->t->servers[sidx];

	atomic_store(&s->admin, SHM_ADMIN_MAINT);
	if (shm_server_remove(m->t, sidx) == 0) {
		log_info("server %s/%s removed", s->pool, s->name);
		return;
	}
	log_info("server %s/%s removed from config: in maintenance until its "
	    "%d connections end", s->pool, s->name, atomic_load(&s->active));
	reload_remove_later(m, sidx);
}

/* Updates an existing server from its config entry, under the pool lock. */
static void
reload_update_server(struct master *m, uint32_t pidx, uint32_t sidx,
    const struct conf_server *cs)
{
	struct shm_server *s = &m->t->servers[sidx];

	shm_pool_lock(m->t, pidx);
	if (!reload_same_addr(&s->addr, s->addrlen, &cs->addr, cs->addrlen)) {
		memcpy(&s->addr, &cs->addr, cs->addrlen);
		s->addrlen = cs->addrlen;
	}
	s->backup = cs->backup;
	atomic_store(&s->send_proxy, cs->send_proxy);
	shm_pool_unlock(m->t, pidx);
	/* An unchanged weight keeps eff_weight: a slow-start ramp goes on. */
	if (atomic_exchange(&s->weight, cs->weight) != cs->weight)
		atomic_store(&s->eff_weight, cs->weight);
	atomic_store(&s->maxconn, cs->maxconn);
}

/* Servers of pool `pidx` in the table but not in `cp` (NULL: none kept). */
static void
reload_prune_pool(struct master *m, uint32_t pidx, const struct conf_pool *cp)
{
	struct shm_pool	*p = &m->t->pools[pidx];
	uint32_t	 gone[SHM_POOL_MAX_SERVERS], ngone = 0, n, i, k;

	n = atomic_load(&p->nservers);
	for (i = 0; i < n; i++) {
		struct shm_server *s = &m->t->servers[p->servers[i]];
		bool keep = false;

		for (k = 0; cp != NULL && k < cp->nservers; k++)
			if (strcmp(cp->servers[k].name, s->name) == 0)
				keep = true;
		/* Added at run time: the state file keeps it. */
		if (cp != NULL && state_is_added(&m->state, s->pool, s->name))
			keep = true;
		if (!keep)
			gone[ngone++] = p->servers[i];
	}
	for (i = 0; i < ngone; i++)
		reload_retire_server(m, gone[i]);
}

/* Free server slots in the table. */
static uint32_t
reload_free_servers(const struct shm_table *t)
{
	uint32_t i, n = 0;

	for (i = 0; i < SHM_MAX_SERVERS; i++)
		if (!atomic_load(&t->servers[i].in_use))
			n++;
	return n;
}

/*
 * Checks that `c` fits the table before touching it, so a reload either
 * applies whole or not at all.
 */
static int
reload_table_fits(struct master *m, const struct conf *c,
    struct cfg_errors *errs)
{
	uint32_t	 i, k, newpools = 0, newservers = 0, freepools = 0;
	int		 pidx;

	for (i = 0; i < SHM_MAX_POOLS; i++)
		if (!atomic_load(&m->t->pools[i].in_use))
			freepools++;
	for (i = 0; i < c->npools; i++) {
		pidx = shm_pool_find(m->t, c->pools[i].name);
		if (pidx == -1)
			newpools++;
		for (k = 0; k < c->pools[i].nservers; k++)
			if (pidx == -1 || shm_server_find(m->t, (uint32_t)pidx,
			    c->pools[i].servers[k].name) == -1)
				newservers++;
	}
	if (newpools > freepools || newservers > reload_free_servers(m->t)) {
		cfg_error(errs, c->path, 0, "the shared table is full: %u new "
		    "pools and %u new servers do not fit (restart lbd)",
		    newpools, newservers);
		return -1;
	}
	return 0;
}

int
master_table_load(struct master *m, const struct conf *c,
    struct cfg_errors *errs)
{
	const struct conf_pool	*cp;
	uint32_t		 i, k;
	int			 pidx, sidx;

	if (reload_table_fits(m, c, errs) == -1)
		return -1;
	atomic_store(&m->t->maxconn, c->maxconn);
	atomic_store(&m->t->srcs.maxconn_per_source, c->maxconn_per_source);
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		const struct conf_pool *keep = NULL;

		if (!atomic_load(&m->t->pools[i].in_use))
			continue;
		for (k = 0; k < c->npools; k++)
			if (strcmp(c->pools[k].name, m->t->pools[i].name) == 0)
				keep = &c->pools[k];
		reload_prune_pool(m, i, keep);
	}
	for (i = 0; i < c->npools; i++) {
		cp = &c->pools[i];
		pidx = shm_pool_find(m->t, cp->name);
		if (pidx == -1)
			pidx = shm_pool_add(m->t, cp->name, cp->algorithm,
			    cp->retries);
		if (pidx == -1) {
			cfg_error(errs, c->path, cp->line, "pool %s: %s",
			    cp->name, strerror(errno));
			return -1;
		}
		m->t->pools[pidx].algorithm = cp->algorithm;
		m->t->pools[pidx].retries = cp->retries;
		/* Client-keyed balancing and PROXY (maglev.c, sticky.c). */
		m->t->pools[pidx].hash_key = cp->hash_key;
		m->t->pools[pidx].hash_factor = cp->hash_balance_factor;
		m->t->pools[pidx].sticky_fallback = cp->sticky.fallback;
		m->t->pools[pidx].send_proxy = cp->send_proxy;
		if (sticky_pool_setup((uint32_t)pidx, cp, clock_mono_ms()) ==
		    -1) {
			cfg_error(errs, c->path, cp->line, "pool %s: sticky "
			    "table: %s", cp->name, strerror(errno));
			return -1;
		}
		for (k = 0; k < cp->nservers; k++) {
			const struct conf_server *cs = &cp->servers[k];

			sidx = shm_server_find(m->t, (uint32_t)pidx, cs->name);
			if (sidx != -1) {
				reload_update_server(m, (uint32_t)pidx,
				    (uint32_t)sidx, cs);
				continue;
			}
			if ((sidx = shm_server_add(m->t, (uint32_t)pidx,
			    cs->name, (const struct sockaddr *)&cs->addr,
			    cs->addrlen, cs->weight, cs->maxconn,
			    cs->backup)) == -1) {
				cfg_error(errs, c->path, cs->line,
				    "server %s/%s: %s", cp->name, cs->name,
				    strerror(errno));
				return -1;
			}
			atomic_store(&m->t->servers[sidx].send_proxy,
			    cs->send_proxy);
		}
	}
	maglev_refresh(m->t);	/* before any worker of this config runs */
	return 0;
}

/* The open socket bound to `l`'s address, or -1. */
static int
reload_find_fd(const struct master *m, const struct conf_listener *l)
{
	uint32_t i;

	for (i = 0; i < m->nls; i++)
		if (m->ls[i].fd != -1 && reload_same_addr(&m->ls[i].addr,
		    m->ls[i].addrlen, &l->addr, l->addrlen))
			return m->ls[i].fd;
	return -1;
}

/* Closes fds of `ls` that are not in `keep`; frees nothing. */
static void
reload_close_unused(struct master_listener *ls, uint32_t n,
    const struct master_listener *keep, uint32_t nkeep)
{
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		bool used = false;

		for (k = 0; k < nkeep; k++)
			if (keep[k].fd == ls[i].fd)
				used = true;
		if (!used && ls[i].fd != -1)
			close(ls[i].fd);
	}
}

int
master_listeners_open(struct master *m, const struct conf *c,
    struct cfg_errors *errs)
{
	struct master_listener	*nls;
	char			 why[64], a[ADDR_STRLEN];
	uint32_t		 i;
	int			 fd, pidx;

	if ((nls = calloc(c->nlisteners, sizeof(*nls))) == NULL) {
		cfg_error(errs, c->path, 0, "out of memory");
		return -1;
	}
	for (i = 0; i < c->nlisteners; i++) {
		const struct conf_listener *l = &c->listeners[i];

		pidx = shm_pool_find(m->t, l->pool);
		if ((fd = reload_find_fd(m, l)) != -1)
			listen(fd, l->backlog);	/* a new backlog applies */
		else if ((fd = listen_open(l, why, sizeof(why))) == -1) {
			addr_format((const struct sockaddr *)&l->addr, a,
			    sizeof(a));
			cfg_error(errs, c->path, l->line, "listener %s: %s %s: "
			    "%s", l->name, why, a, strerror(errno));
			nls[i].fd = -1;
			reload_close_unused(nls, i, m->ls, m->nls);
			free(nls);
			return -1;
		}
		memcpy(nls[i].name, l->name, sizeof(nls[i].name));
		nls[i].addr = l->addr;
		nls[i].addrlen = l->addrlen;
		nls[i].fd = fd;
		nls[i].pool_idx = pidx == -1 ? 0 : (uint32_t)pidx;
	}
	reload_close_unused(m->ls, m->nls, nls, c->nlisteners);
	free(m->ls);
	m->ls = nls;
	m->nls = c->nlisteners;
	return 0;
}

/* Logs each error of a failed reload. */
static void
reload_report(const struct cfg_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		log_errx("reload failed: %s", e->msg[i]);
}

/*
 * Retires the running generation: its workers get SIGTERM (stop accepting,
 * finish connections) and SIGKILL at the drain deadline.
 */
static void
reload_retire_generation(struct master *m, uint64_t drain_ms)
{
	int64_t		 kill_at = clock_mono_ms() + (int64_t)drain_ms;
	size_t		 i;

	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		if (m->procs[i].pid <= 0 || m->procs[i].retiring)
			continue;
		m->procs[i].retiring = true;
		m->procs[i].kill_at = kill_at;
	}
}

int
master_reload(struct master *m, struct cfg_errors *errs)
{
	struct cfg_errors	 local = { 0 };
	struct cfg_errors	*e = errs != NULL ? errs : &local;
	struct conf		*nc;
	uint32_t		 i;

	if (m->stopping)
		return -1;
	sd_notify_send("RELOADING=1");
	log_notice("reloading %s", m->conf_path);
	if ((nc = conf_load(m->conf_path, e)) == NULL ||
	    master_listeners_open(m, nc, e) == -1 ||
	    master_table_load(m, nc, e) == -1) {
		reload_report(e);
		cfg_errors_free(&local);
		if (nc != NULL)
			conf_free(nc);
		sd_notify_send("READY=1");
		return -1;
	}
	if (strcmp(nc->control_socket, m->conf->control_socket) != 0 ||
	    nc->control_gid != m->conf->control_gid)
		log_warnx("control_socket or control_group changed: that "
		    "takes effect at the next restart");
	reload_retire_generation(m, nc->drain_timeout_ms);
	conf_free(m->conf);
	m->conf = nc;
	log_set_facility(nc->log_facility);
	m->generation++;
	atomic_store(&m->t->generation, m->generation);
	memset(m->cur, 0, sizeof(m->cur));
	m->nworkers = nc->workers;
	for (i = 0; i < m->nworkers; i++)
		m->cur[i].next_spawn = 0;
	master_state_apply(m);
	master_reload_tick(m);
	health_reload(m->health);	/* new settings; new servers checked */
	autoscale_reload(m->autoscale);
	/* New workers first, so there is never a moment with no acceptor. */
	master_spawn_due(m, clock_mono_ms());
	master_signal_workers(m, SIGTERM, true);
	log_notice("reloaded: generation %u, %u workers", m->generation,
	    m->nworkers);
	sd_notify_send("READY=1");
	return 0;
}

void
master_reload_tick(struct master *m)
{
	uint32_t i = 0;

	while (i < m->npending_remove) {
		uint32_t sidx = m->pending_remove[i];

		if (shm_server_remove(m->t, sidx) == 0 || errno != EBUSY) {
			log_info("server %s/%s removed after draining",
			    m->t->servers[sidx].pool, m->t->servers[sidx].name);
			m->pending_remove[i] =
			    m->pending_remove[--m->npending_remove];
			continue;
		}
		i++;
	}
}

void
master_state_apply(struct master *m)
{
	uint32_t	busy[64];
	size_t		applied, skipped, nbusy, i;

	applied = state_apply(&m->state, m->t, m->conf, &skipped, busy, 64,
	    &nbusy);
	for (i = 0; i < nbusy; i++)
		reload_remove_later(m, busy[i]);
	if (applied > 0 || skipped > 0)
		log_info("state: %zu runtime changes re-applied, %zu no longer "
		    "apply", applied, skipped);
	m->state_fp = state_fingerprint(m->t);
}

void
master_state_tick(struct master *m)
{
	struct state	st;
	uint64_t	fp = state_fingerprint(m->t);

	if (fp == m->state_fp)
		return;
	m->state_fp = fp;
	if (state_capture(m->t, m->conf, &st) == -1) {
		log_warn("state: capture");
		return;
	}
	state_free(&m->state);
	m->state = st;
	if (m->conf->state_file[0] == '\0')
		return;
	if (state_save(m->conf->state_file, &m->state) == -1)
		log_warn("state: cannot save %s", m->conf->state_file);
}
