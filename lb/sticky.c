/*
 * sticky.c - the shared sticky table (sticky.h, layout in sticky-t.h).
 *
 * Concurrency: one robust process-shared mutex per bucket of 8 entries,
 * no global lock.  A lookup or an update takes only its bucket's lock,
 * for one scan of the bucket; counters are relaxed atomics.  The master
 * scans (lbctl) bucket by bucket under the same locks, so it never sees a
 * half-written entry.  Time is always passed in (monotonic ms).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "maglev.h"
#include "shm-t.h"
#include "sticky.h"

/* The process's view of each pool's table; copied into workers by fork. */
static struct sticky_table	*sticky_tabs[SHM_MAX_POOLS];

/* The 16-byte key of `sa`: IPv6 as is, IPv4 mapped.  -1 otherwise. */
static int
sticky_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static struct sticky_bucket *
sticky_bucket_of(struct sticky_table *st, const struct sockaddr *sa)
{
	uint64_t	 h = maglev_hash_addr(sa, MAGLEV_KEY_IP);

	return &st->b[h % st->nbuckets];
}

/*
 * Locks bucket `b`.  If its previous holder died mid-update, the bucket
 * may hold a torn entry: it is emptied (forgetting up to 8 clients, who
 * are simply placed again) and the mutex marked consistent.
 */
static void
sticky_lock(struct sticky_table *st, struct sticky_bucket *b)
{
	int	 rc, i, n = 0;

	if ((rc = pthread_mutex_lock(&b->lock)) == 0)
		return;
	if (rc != EOWNERDEAD)
		fatalx("sticky: pthread_mutex_lock: %s", strerror(rc));
	for (i = 0; i < STICKY_WAYS; i++) {
		if (b->e[i].server != SHM_NONE)
			n++;
		b->e[i].server = SHM_NONE;
	}
	atomic_fetch_sub(&st->entries, (uint64_t)n);
	pthread_mutex_consistent(&b->lock);
}

static bool
sticky_live(const struct sticky_table *st, const struct sticky_entry *e,
    int64_t now)
{
	return e->server != SHM_NONE && now - e->last_ms <
	    (int64_t)atomic_load_explicit(&st->timeout_ms,
	    memory_order_relaxed);
}

struct sticky_table *
sticky_create(uint32_t capacity, uint64_t timeout_ms)
{
	struct sticky_table	*st;
	pthread_mutexattr_t	 attr;
	uint32_t		 nb, i, k;
	size_t			 size;

	if (capacity == 0 || capacity > STICKY_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	nb = (capacity + STICKY_WAYS - 1) / STICKY_WAYS;
	size = sizeof(*st) + (size_t)nb * sizeof(struct sticky_bucket);
	st = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		return NULL;
	st->magic = STICKY_MAGIC;
	st->nbuckets = nb;
	st->capacity = nb * STICKY_WAYS;
	st->size = size;
	atomic_store(&st->timeout_ms, timeout_ms);
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0) {
		munmap(st, size);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < nb; i++) {
		pthread_mutex_init(&st->b[i].lock, &attr);
		for (k = 0; k < STICKY_WAYS; k++)
			st->b[i].e[k].server = SHM_NONE;
	}
	pthread_mutexattr_destroy(&attr);
	return st;
}

void
sticky_destroy(struct sticky_table *st)
{
	if (st != NULL)
		munmap(st, st->size);
}

uint32_t
sticky_get(struct sticky_table *st, const struct sockaddr *sa, int64_t now)
{
	struct sticky_bucket	*b;
	uint8_t			 key[16];
	uint32_t		 srv = SHM_NONE;
	int			 i;

	if (sticky_key(sa, key) == -1)
		return SHM_NONE;
	b = sticky_bucket_of(st, sa);
	sticky_lock(st, b);
	for (i = 0; i < STICKY_WAYS; i++) {
		struct sticky_entry *e = &b->e[i];

		if (e->server == SHM_NONE || memcmp(e->addr, key, 16) != 0)
			continue;
		if (sticky_live(st, e, now)) {
			e->last_ms = now;
			srv = e->server;
		}
		break;
	}
	pthread_mutex_unlock(&b->lock);
	return srv;
}

/*
 * The slot of bucket `b` for `key`: its own entry, else a free one, else
 * an expired one, else the least recently used (*evict set).
 */
static struct sticky_entry *
sticky_slot(struct sticky_table *st, struct sticky_bucket *b,
    const uint8_t *key, int64_t now, bool *evict)
{
	struct sticky_entry	*free_e = NULL, *old = NULL, *lru = &b->e[0];
	int			 i;

	*evict = false;
	for (i = 0; i < STICKY_WAYS; i++) {
		struct sticky_entry *e = &b->e[i];

		if (e->server == SHM_NONE) {
			if (free_e == NULL)
				free_e = e;
			continue;
		}
		if (memcmp(e->addr, key, 16) == 0)
			return e;
		if (old == NULL && !sticky_live(st, e, now))
			old = e;
		if (e->last_ms < lru->last_ms || lru->server == SHM_NONE)
			lru = e;
	}
	if (free_e != NULL)
		return free_e;
	if (old != NULL)
		return old;
	*evict = true;
	return lru;
}

void
sticky_put(struct sticky_table *st, const struct sockaddr *sa,
    uint32_t server, int64_t now)
{
	struct sticky_bucket	*b;
	struct sticky_entry	*e;
	uint8_t			 key[16];
	bool			 evict;

	if (server == SHM_NONE || sticky_key(sa, key) == -1)
		return;
	b = sticky_bucket_of(st, sa);
	sticky_lock(st, b);
	e = sticky_slot(st, b, key, now, &evict);
	if (e->server == SHM_NONE)
		atomic_fetch_add_explicit(&st->entries, 1,
		    memory_order_relaxed);
	if (evict)
		atomic_fetch_add_explicit(&st->evictions, 1,
		    memory_order_relaxed);
	memcpy(e->addr, key, 16);
	e->server = server;
	e->last_ms = now;
	pthread_mutex_unlock(&b->lock);
}

size_t
sticky_clear(struct sticky_table *st, const struct sockaddr *sa)
{
	uint8_t		 key[16];
	uint32_t	 i, lo = 0, hi = st->nbuckets;
	size_t		 n = 0;
	int		 k;

	if (sa != NULL) {
		if (sticky_key(sa, key) == -1)
			return 0;
		lo = (uint32_t)(sticky_bucket_of(st, sa) - st->b);
		hi = lo + 1;
	}
	for (i = lo; i < hi; i++) {
		sticky_lock(st, &st->b[i]);
		for (k = 0; k < STICKY_WAYS; k++) {
			struct sticky_entry *e = &st->b[i].e[k];

			if (e->server == SHM_NONE || (sa != NULL &&
			    memcmp(e->addr, key, 16) != 0))
				continue;
			e->server = SHM_NONE;
			n++;
		}
		pthread_mutex_unlock(&st->b[i].lock);
	}
	atomic_fetch_sub(&st->entries, (uint64_t)n);
	return n;
}

void
sticky_count(struct sticky_table *st, bool hit)
{
	atomic_fetch_add_explicit(hit ? &st->hits : &st->misses, 1,
	    memory_order_relaxed);
}

size_t
sticky_walk(struct sticky_table *st, const struct sockaddr *sa, int64_t now,
    void (*fn)(const struct sticky_entry *, int64_t, void *), void *arg)
{
	struct sticky_entry	 copy[STICKY_WAYS];
	uint8_t			 key[16];
	int64_t			 tmo = (int64_t)atomic_load(&st->timeout_ms);
	uint32_t		 i;
	size_t			 n = 0;
	int			 k;

	if (sa != NULL && sticky_key(sa, key) == -1)
		return 0;
	for (i = 0; i < st->nbuckets; i++) {
		/* Copy under the lock; call fn (which may be slow) after. */
		sticky_lock(st, &st->b[i]);
		memcpy(copy, st->b[i].e, sizeof(copy));
		pthread_mutex_unlock(&st->b[i].lock);
		for (k = 0; k < STICKY_WAYS; k++) {
			if (!sticky_live(st, &copy[k], now) || (sa != NULL &&
			    memcmp(copy[k].addr, key, 16) != 0))
				continue;
			n++;
			if (fn != NULL)
				fn(&copy[k], copy[k].last_ms + tmo - now, arg);
		}
	}
	return n;
}

struct sticky_table *
sticky_of(uint32_t pool_idx)
{
	return pool_idx < SHM_MAX_POOLS ? sticky_tabs[pool_idx] : NULL;
}

/*
 * Moves every live entry of `from` into `to` (capacity change).  Each
 * bucket is copied under its lock: old workers may still be using it.
 */
static void
sticky_move(struct sticky_table *from, struct sticky_table *to, int64_t now)
{
	struct sticky_entry	 copy[STICKY_WAYS];
	struct sockaddr_in6	 a;
	uint32_t		 i;
	int			 k;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	for (i = 0; i < from->nbuckets; i++) {
		sticky_lock(from, &from->b[i]);
		memcpy(copy, from->b[i].e, sizeof(copy));
		pthread_mutex_unlock(&from->b[i].lock);
		for (k = 0; k < STICKY_WAYS; k++) {
			if (!sticky_live(from, &copy[k], now))
				continue;
			memcpy(&a.sin6_addr, copy[k].addr, 16);
			sticky_put(to, (struct sockaddr *)&a, copy[k].server,
			    copy[k].last_ms);
		}
	}
	atomic_store(&to->hits, atomic_load(&from->hits));
	atomic_store(&to->misses, atomic_load(&from->misses));
	atomic_store(&to->evictions, atomic_load(&from->evictions));
}

int
sticky_pool_setup(uint32_t pool_idx, const struct conf_pool *cp, int64_t now)
{
	struct sticky_table	*old, *st;
	uint32_t		 want;

	if (pool_idx >= SHM_MAX_POOLS) {
		errno = EINVAL;
		return -1;
	}
	old = sticky_tabs[pool_idx];
	if (cp == NULL || cp->algorithm != BAL_STICKY) {
		sticky_destroy(old);
		sticky_tabs[pool_idx] = NULL;
		return 0;
	}
	want = (cp->sticky.capacity + STICKY_WAYS - 1) / STICKY_WAYS;
	if (old != NULL && old->nbuckets == want) {
		atomic_store(&old->timeout_ms, cp->sticky.timeout_ms);
		return 0;
	}
	if ((st = sticky_create(cp->sticky.capacity,
	    cp->sticky.timeout_ms)) == NULL)
		return -1;
	if (old != NULL) {
		sticky_move(old, st, now);
		sticky_destroy(old);	/* old workers keep their mapping */
	}
	sticky_tabs[pool_idx] = st;
	return 0;
}
