/*
 * shm.c - the shared-memory table: creation, membership and accounting.
 *
 * Concurrency model (see shm-t.h for who writes what):
 *   - membership (pools, servers, pool lists) changes only in the master,
 *     under the pool lock;
 *   - readers (workers balancing, lbctl output via the master) scan a pool
 *     WITHOUT the lock: they load nservers with acquire ordering, then each
 *     servers[k] entry, then the server's in_use.  Every entry ever written
 *     is a valid index (< SHM_MAX_SERVERS), so a reader racing with an add
 *     or remove may see a server twice or miss one for a moment, but it
 *     never reads outside the table, and a removed server has in_use == 0,
 *     which both shm_server_usable() and shm_server_acquire() check;
 *   - counts are plain atomic adds, except where a cap applies: there a
 *     compare-and-swap loop makes the check and the increment one step, so
 *     two workers can never both take the last free place.
 *
 * Nothing here logs: errors are -1 with errno, the caller logs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "clock.h"
#include "log.h"
#include "shm.h"
#include "srclimit.h"

/*
 * Pool list entries are plain uint32_t in the layout; they are read by
 * workers while the master may rewrite them, so both sides use the
 * compiler's atomic builtins on them (relaxed: the acquire load of
 * nservers / the release store of nservers order them).
 */
#define SHM_LIST_LOAD(p, k)	__atomic_load_n(&(p)->servers[(k)], \
				    __ATOMIC_RELAXED)
#define SHM_LIST_STORE(p, k, v)	__atomic_store_n(&(p)->servers[(k)], (v), \
				    __ATOMIC_RELAXED)

static const char *const shm_admin_names[] = {
	[SHM_ADMIN_READY] = "ready",
	[SHM_ADMIN_DRAIN] = "drain",
	[SHM_ADMIN_MAINT] = "maint",
};

static const char *const shm_health_names[] = {
	[SHM_HEALTH_UP] = "up",
	[SHM_HEALTH_DOWN] = "down",
};

static const char *const bal_algo_names[BAL__COUNT] = {
	[BAL_ROUNDROBIN] = "roundrobin",
	[BAL_RANDOM] = "random",
	[BAL_LEASTCONN] = "leastconn",
	[BAL_P2C] = "p2c",
	[BAL_FIRST] = "first",
	[BAL_SOURCE] = "source",
	[BAL_STICKY] = "sticky",
};

/*
 * Initialises one pool mutex as process-shared and robust, so a worker
 * killed while holding it does not wedge the others.  Master, in
 * shm_create().  Returns 0, or -1 with errno.
 */
static int
shm_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t	 attr;
	int			 rc;

	if ((rc = pthread_mutexattr_init(&attr)) != 0)
		goto fail;
	if ((rc = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rc = pthread_mutexattr_setrobust(&attr,
	    PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (rc = pthread_mutex_init(m, &attr)) != 0) {
		pthread_mutexattr_destroy(&attr);
		goto fail;
	}
	pthread_mutexattr_destroy(&attr);
	return 0;
fail:
	errno = rc;
	return -1;
}

/*
 * Master, before fork: maps one anonymous shared region holding the whole
 * table (zero-filled by the kernel), stamps magic/version/size and sets up
 * every pool lock.  Returns the table, or NULL with errno.
 */
struct shm_table *
shm_create(void)
{
	struct shm_table	*t;
	uint64_t		 seed;
	int			 saved;
	uint32_t		 i;

	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	t->magic = SHM_MAGIC;
	t->version = SHM_VERSION;
	t->size = sizeof(*t);
	t->started_ms = clock_wall_ms();
	/*
	 * A key an outsider cannot guess, so nobody can pick addresses that
	 * crowd one probe run of the per-source table; workers inherit it.
	 */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)t->started_ms ^ (uint64_t)getpid() << 32;
	srclimit_init(&t->srcs, seed);
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		if (shm_mutex_init(&t->pools[i].lock) == -1)
			goto fail;
	}
	return t;
fail:
	saved = errno;
	munmap(t, sizeof(*t));
	errno = saved;
	return NULL;
}

/* Unmaps the table in this process (others keep their mapping). */
void
shm_destroy(struct shm_table *t)
{
	if (t != NULL)
		munmap(t, sizeof(*t));
}

/* True when `name` fits a name field (non-empty, with its NUL). */
static bool
shm_name_ok(const char *name)
{
	size_t	 n;

	if (name == NULL)
		return false;
	n = strnlen(name, SHM_NAME_MAX);
	return n > 0 && n < SHM_NAME_MAX;
}

/*
 * Master: adds pool `name` in the first free slot.  Returns its index, or
 * -1 with errno ENOSPC (table full), EEXIST (name taken) or EINVAL.
 */
int
shm_pool_add(struct shm_table *t, const char *name, enum bal_algo algo,
    uint32_t retries)
{
	struct shm_pool	*p;
	int		 i, free_idx = -1;

	if (!shm_name_ok(name) || (unsigned)algo >= BAL__COUNT) {
		errno = EINVAL;
		return -1;
	}
	if (shm_pool_find(t, name) != -1) {
		errno = EEXIST;
		return -1;
	}
	for (i = 0; i < SHM_MAX_POOLS && free_idx == -1; i++)
		if (atomic_load(&t->pools[i].in_use) == 0)
			free_idx = i;
	if (free_idx == -1) {
		errno = ENOSPC;
		return -1;
	}
	p = &t->pools[free_idx];
	shm_pool_lock(t, (uint32_t)free_idx);
	memset(p->name, 0, sizeof(p->name));
	memcpy(p->name, name, strlen(name));
	p->algorithm = algo;
	p->retries = retries;
	atomic_store(&p->nservers, 0);
	atomic_store(&p->rr_seq, 0);
	atomic_store(&p->conns_total, 0);
	atomic_store(&p->no_server, 0);
	atomic_store_explicit(&p->in_use, 1, memory_order_release);
	shm_pool_unlock(t, (uint32_t)free_idx);
	return free_idx;
}

/* Any process: index of pool `name`, or -1. */
int
shm_pool_find(const struct shm_table *t, const char *name)
{
	int	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < SHM_MAX_POOLS; i++) {
		const struct shm_pool *p = &t->pools[i];

		if (atomic_load_explicit(&p->in_use, memory_order_acquire) &&
		    strncmp(p->name, name, SHM_NAME_MAX) == 0)
			return i;
	}
	return -1;
}

/* The pool at `pool_idx` if it exists and is in use, else NULL (EINVAL). */
static struct shm_pool *
shm_pool_get(struct shm_table *t, uint32_t pool_idx)
{
	if (pool_idx >= SHM_MAX_POOLS ||
	    !atomic_load_explicit(&t->pools[pool_idx].in_use,
	    memory_order_acquire)) {
		errno = EINVAL;
		return NULL;
	}
	return &t->pools[pool_idx];
}

/* First free server slot, or -1. */
static int
shm_server_slot_free(const struct shm_table *t)
{
	int	 i;

	for (i = 0; i < SHM_MAX_SERVERS; i++)
		if (atomic_load(&t->servers[i].in_use) == 0)
			return i;
	return -1;
}

/*
 * Fills server slot `s` for a fresh server.  `active` is deliberately not
 * written: it is 0 for a free slot, and a worker that raced with the
 * previous owner's removal undoes its own transient increment.
 */
static void
shm_server_fill(struct shm_server *s, const struct shm_pool *p,
    uint32_t pool_idx, const char *name, const struct sockaddr *sa,
    socklen_t salen, uint32_t weight, uint32_t maxconn, bool backup)
{
	memset(s->pool, 0, sizeof(s->pool));
	memcpy(s->pool, p->name, strnlen(p->name, SHM_NAME_MAX - 1));
	memset(s->name, 0, sizeof(s->name));
	memcpy(s->name, name, strlen(name));
	memset(&s->addr, 0, sizeof(s->addr));
	if (sa != NULL)
		memcpy(&s->addr, sa, salen);
	s->addrlen = sa != NULL ? salen : 0;
	s->pool_idx = pool_idx;
	s->backup = backup ? 1 : 0;
	atomic_store(&s->admin, SHM_ADMIN_READY);
	atomic_store(&s->health, SHM_HEALTH_UP);
	atomic_store(&s->weight, weight);
	atomic_store(&s->eff_weight, weight);
	atomic_store(&s->maxconn, maxconn);
	atomic_store(&s->consec_failures, 0);
	atomic_store(&s->conns_total, 0);
	atomic_store(&s->failures, 0);
	atomic_store(&s->bytes_in, 0);
	atomic_store(&s->bytes_out, 0);
	atomic_store(&s->last_check_ms, 0);
	atomic_store(&s->last_change_ms, clock_wall_ms());
	s->rr_current = 0;
	memset(s->reserved, 0, sizeof(s->reserved));
}

/*
 * Master: appends server `name` to pool `pool_idx`, keeping config order.
 * The slot is fully written and marked in_use before its index is
 * published in the pool list, and nservers is raised last (release), so
 * a lock-free reader never sees a half-written server.  Returns the
 * server index, or -1 with errno ENOSPC, EEXIST or EINVAL.
 */
int
shm_server_add(struct shm_table *t, uint32_t pool_idx, const char *name,
    const struct sockaddr *sa, socklen_t salen, uint32_t weight,
    uint32_t maxconn, bool backup)
{
	struct shm_pool	*p;
	uint32_t	 n;
	int		 idx;

	if ((p = shm_pool_get(t, pool_idx)) == NULL)
		return -1;
	if (!shm_name_ok(name) || weight > 256 ||
	    (sa != NULL && salen > sizeof(struct sockaddr_storage))) {
		errno = EINVAL;
		return -1;
	}
	if (shm_server_find(t, pool_idx, name) != -1) {
		errno = EEXIST;
		return -1;
	}
	shm_pool_lock(t, pool_idx);
	n = atomic_load(&p->nservers);
	idx = n < SHM_POOL_MAX_SERVERS ? shm_server_slot_free(t) : -1;
	if (idx == -1) {
		shm_pool_unlock(t, pool_idx);
		errno = ENOSPC;
		return -1;
	}
	shm_server_fill(&t->servers[idx], p, pool_idx, name, sa, salen,
	    weight, maxconn, backup);
	atomic_store(&t->servers[idx].in_use, 1);
	SHM_LIST_STORE(p, n, (uint32_t)idx);
	atomic_store_explicit(&p->nservers, n + 1, memory_order_release);
	shm_pool_unlock(t, pool_idx);
	return idx;
}

/* Any process: index of server `name` in pool `pool_idx`, or -1. */
int
shm_server_find(const struct shm_table *t, uint32_t pool_idx,
    const char *name)
{
	const struct shm_pool	*p;
	uint32_t		 k, n, idx;

	if (pool_idx >= SHM_MAX_POOLS || name == NULL)
		return -1;
	p = &t->pools[pool_idx];
	if (!atomic_load_explicit(&p->in_use, memory_order_acquire))
		return -1;
	n = atomic_load_explicit(&p->nservers, memory_order_acquire);
	for (k = 0; k < n && k < SHM_POOL_MAX_SERVERS; k++) {
		idx = SHM_LIST_LOAD(p, k);
		if (idx < SHM_MAX_SERVERS &&
		    atomic_load(&t->servers[idx].in_use) &&
		    strncmp(t->servers[idx].name, name, SHM_NAME_MAX) == 0)
			return (int)idx;
	}
	return -1;
}

/*
 * Drops index `idx` from pool `p`'s list, shifting the tail down so config
 * order is kept.  Caller holds the pool lock.  Entries are shifted before
 * nservers is lowered, so a concurrent reader sees only valid indexes.
 */
static void
shm_pool_list_drop(struct shm_pool *p, uint32_t idx)
{
	uint32_t	 k, n;

	n = atomic_load(&p->nservers);
	for (k = 0; k < n; k++)
		if (SHM_LIST_LOAD(p, k) == idx)
			break;
	if (k == n)
		return;
	for (; k + 1 < n; k++)
		SHM_LIST_STORE(p, k, SHM_LIST_LOAD(p, k + 1));
	atomic_store_explicit(&p->nservers, n - 1, memory_order_release);
}

/*
 * Master: removes server `idx` from its pool and frees the slot.  Refused
 * with EBUSY while it has active connections.
 *
 * in_use is cleared BEFORE active is checked, and shm_server_acquire()
 * increments active BEFORE it checks in_use (all sequentially consistent):
 * so either we see the worker's increment and refuse, or the worker sees
 * in_use == 0 and undoes its increment.  A refused remove briefly shows
 * in_use == 0, which at worst makes one concurrent pick choose another
 * server.  Returns 0, or -1 with errno EBUSY or ENOENT.
 */
int
shm_server_remove(struct shm_table *t, uint32_t server_idx)
{
	struct shm_server	*s;
	uint32_t		 pool_idx;

	if (server_idx >= SHM_MAX_SERVERS ||
	    !atomic_load(&t->servers[server_idx].in_use)) {
		errno = ENOENT;
		return -1;
	}
	s = &t->servers[server_idx];
	pool_idx = s->pool_idx;
	shm_pool_lock(t, pool_idx);
	atomic_store(&s->in_use, 0);
	if (atomic_load(&s->active) > 0) {
		atomic_store(&s->in_use, 1);
		shm_pool_unlock(t, pool_idx);
		errno = EBUSY;
		return -1;
	}
	shm_pool_list_drop(&t->pools[pool_idx], server_idx);
	shm_pool_unlock(t, pool_idx);
	return 0;
}

/*
 * Master: claims the first free worker slot for `pid`.  The slot is taken
 * with a compare-and-swap on pid (0 -> pid), so even two processes
 * claiming at once never share a slot.  Its counts are already zero (a
 * released slot is always left zeroed).  Returns the slot, or -1 with
 * errno ENOSPC.
 */
int
shm_worker_claim(struct shm_table *t, int32_t pid, uint32_t generation)
{
	struct shm_worker	*w;
	int32_t			 zero;
	uint32_t		 i;

	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		w = &t->workers[i];
		zero = 0;
		if (!atomic_compare_exchange_strong(&w->pid, &zero, pid))
			continue;
		w->generation = generation;
		w->started_ms = clock_wall_ms();
		return (int)i;
	}
	errno = ENOSPC;
	return -1;
}

/*
 * Master, after reaping a worker: takes back every share the dead worker
 * still had counted (its global reservations, each server's active
 * count and each client address's, srclimit.c) and frees the slot.  Each share is swapped to 0 and subtracted
 * once, so the global counts end exactly where they would have been had
 * the worker released its connections itself.
 * O(SHM_MAX_SERVERS + SHM_SRC_SLOTS).
 */
void
shm_worker_release(struct shm_table *t, uint32_t slot)
{
	struct shm_worker	*w;
	int32_t			 n;
	uint32_t		 i;

	if (slot >= SHM_MAX_WORKERS)
		return;
	w = &t->workers[slot];
	for (i = 0; i < SHM_MAX_SERVERS; i++) {
		if (atomic_load_explicit(&w->server_active[i],
		    memory_order_relaxed) == 0)
			continue;
		n = atomic_exchange(&w->server_active[i], 0);
		atomic_fetch_sub(&t->servers[i].active, n);
	}
	srclimit_worker_release(&t->srcs, slot);
	n = atomic_exchange(&w->active, 0);
	atomic_fetch_sub(&t->active, n);
	atomic_store(&w->conns_total, 0);
	w->generation = 0;
	w->started_ms = 0;
	atomic_store(&w->pid, 0);
}

/* Any process: slot of `pid`, or -1. */
int
shm_worker_find(const struct shm_table *t, int32_t pid)
{
	uint32_t	 i;

	if (pid <= 0)
		return -1;
	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if (atomic_load(&t->workers[i].pid) == pid)
			return (int)i;
	return -1;
}

/*
 * Increments `*count` only if it stays within `max` (0 = unlimited).  The
 * compare-and-swap makes check and increment one step, so concurrent
 * callers can never push the count past `max`, and, unlike add-then-undo,
 * a caller never sees a transient overshoot and refuses for nothing.
 * Returns 0, or -1 when full.
 */
static int
shm_count_take(_Atomic int32_t *count, uint32_t max)
{
	int32_t	 cur;

	if (max == 0) {
		atomic_fetch_add(count, 1);
		return 0;
	}
	cur = atomic_load(count);
	do {
		if (cur >= 0 && (uint32_t)cur >= max)
			return -1;
	} while (!atomic_compare_exchange_weak(count, &cur, cur + 1));
	return 0;
}

/*
 * Worker: reserves one connection under the global maxconn, counted in
 * the table and in the worker's slot (so the master can take it back if
 * the worker dies).  Does not count maxconn_rejects: the caller does, as
 * it does for no_server.  Returns 0, or -1 (EAGAIN) at the cap.
 */
int
shm_conn_reserve(struct shm_table *t, uint32_t slot)
{
	struct shm_worker	*w;

	if (slot >= SHM_MAX_WORKERS) {
		errno = EINVAL;
		return -1;
	}
	w = &t->workers[slot];
	if (shm_count_take(&t->active, atomic_load(&t->maxconn)) == -1) {
		errno = EAGAIN;
		return -1;
	}
	atomic_fetch_add(&w->active, 1);
	atomic_fetch_add_explicit(&t->conns_total, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->conns_total, 1, memory_order_relaxed);
	return 0;
}

/* Worker: undoes one shm_conn_reserve(). */
void
shm_conn_release(struct shm_table *t, uint32_t slot)
{
	if (slot >= SHM_MAX_WORKERS)
		return;
	atomic_fetch_sub(&t->workers[slot].active, 1);
	atomic_fetch_sub(&t->active, 1);
}

/*
 * Worker: counts one connection on server `idx` if it is below its
 * maxconn, in the server, in the worker's slot, and in the totals.  After
 * the increment it re-checks in_use (see shm_server_remove()): a server
 * being removed is never counted.  Returns 0, or -1 with errno EAGAIN
 * (full), ENOENT (removed) or EINVAL.
 */
int
shm_server_acquire(struct shm_table *t, uint32_t slot, uint32_t idx)
{
	struct shm_server	*s;

	if (slot >= SHM_MAX_WORKERS || idx >= SHM_MAX_SERVERS) {
		errno = EINVAL;
		return -1;
	}
	s = &t->servers[idx];
	if (shm_count_take(&s->active, atomic_load(&s->maxconn)) == -1) {
		errno = EAGAIN;
		return -1;
	}
	if (!atomic_load(&s->in_use)) {
		atomic_fetch_sub(&s->active, 1);
		errno = ENOENT;
		return -1;
	}
	atomic_fetch_add(&t->workers[slot].server_active[idx], 1);
	atomic_fetch_add_explicit(&s->conns_total, 1, memory_order_relaxed);
	if (s->pool_idx < SHM_MAX_POOLS)
		atomic_fetch_add_explicit(&t->pools[s->pool_idx].conns_total,
		    1, memory_order_relaxed);
	return 0;
}

/* Worker: undoes one successful shm_server_acquire(). */
void
shm_server_release(struct shm_table *t, uint32_t slot, uint32_t idx)
{
	if (slot >= SHM_MAX_WORKERS || idx >= SHM_MAX_SERVERS)
		return;
	atomic_fetch_sub(&t->workers[slot].server_active[idx], 1);
	atomic_fetch_sub(&t->servers[idx].active, 1);
}

/*
 * Any process, lock-free: true when server `idx` may take a new
 * connection now.  A snapshot: shm_server_acquire() is what enforces
 * maxconn.
 */
bool
shm_server_usable(const struct shm_table *t, uint32_t idx)
{
	const struct shm_server	*s;
	uint32_t		 max;

	if (idx >= SHM_MAX_SERVERS)
		return false;
	s = &t->servers[idx];
	if (!atomic_load_explicit(&s->in_use, memory_order_acquire))
		return false;
	if (atomic_load_explicit(&s->admin, memory_order_relaxed) !=
	    SHM_ADMIN_READY ||
	    atomic_load_explicit(&s->health, memory_order_relaxed) !=
	    SHM_HEALTH_UP ||
	    atomic_load_explicit(&s->eff_weight, memory_order_relaxed) == 0)
		return false;
	max = atomic_load_explicit(&s->maxconn, memory_order_relaxed);
	return max == 0 ||
	    atomic_load_explicit(&s->active, memory_order_relaxed) <
	    (int64_t)max;
}

/*
 * Any process: locks pool `pool_idx`.  If the previous owner died holding
 * it (EOWNERDEAD) the lock is ours but what it protects may be half
 * updated: we mark the mutex consistent and reset the pool's smooth
 * round-robin state, the only thing guarded by it that a picker writes,
 * which restores its invariant (the currents sum to 0).  Any other error
 * means the shared table is broken: fatal.
 */
void
shm_pool_lock(struct shm_table *t, uint32_t pool_idx)
{
	struct shm_pool	*p;
	uint32_t	 k, n, idx;
	int		 rc;

	if (pool_idx >= SHM_MAX_POOLS)
		fatalx("%s: pool index %u out of range", __func__, pool_idx);
	p = &t->pools[pool_idx];
	rc = pthread_mutex_lock(&p->lock);
	if (rc == 0)
		return;
	if (rc != EOWNERDEAD)
		fatalx("%s: pool %u: pthread_mutex_lock: %s", __func__,
		    pool_idx, strerror(rc));
	n = atomic_load(&p->nservers);
	for (k = 0; k < n && k < SHM_POOL_MAX_SERVERS; k++) {
		idx = SHM_LIST_LOAD(p, k);
		if (idx < SHM_MAX_SERVERS)
			t->servers[idx].rr_current = 0;
	}
	if ((rc = pthread_mutex_consistent(&p->lock)) != 0)
		fatalx("%s: pool %u: pthread_mutex_consistent: %s", __func__,
		    pool_idx, strerror(rc));
}

/* Any process: unlocks pool `pool_idx` (held by this thread). */
void
shm_pool_unlock(struct shm_table *t, uint32_t pool_idx)
{
	if (pool_idx < SHM_MAX_POOLS)
		pthread_mutex_unlock(&t->pools[pool_idx].lock);
}

const char *
shm_admin_name(enum shm_admin a)
{
	if ((unsigned)a >= sizeof(shm_admin_names) / sizeof(*shm_admin_names))
		return "?";
	return shm_admin_names[a];
}

const char *
shm_health_name(enum shm_health h)
{
	if ((unsigned)h >= sizeof(shm_health_names) /
	    sizeof(*shm_health_names))
		return "?";
	return shm_health_names[h];
}

const char *
bal_algo_name(enum bal_algo a)
{
	if ((unsigned)a >= BAL__COUNT)
		return "?";
	return bal_algo_names[a];
}

/* enum bal_algo for `name` (exact, lower case), or -1. */
int
bal_algo_lookup(const char *name)
{
	int	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < BAL__COUNT; i++)
		if (strcmp(bal_algo_names[i], name) == 0)
			return i;
	return -1;
}
