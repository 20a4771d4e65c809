/*
 * balance.c - choosing a server for a new connection.
 *
 * Runs in workers.  Every algorithm reads the shared table, so its
 * decisions are global: fewest connections means fewest across all
 * workers, and round robin is one sequence for all of them.
 *
 * Cost of one pick: one lock-free scan of the pool's list (O(servers in
 * the pool)) to gather the candidates on the stack, then O(candidates) for
 * the choice.  No allocation and no system call; only roundrobin takes
 * the pool lock (a futex, uncontended in the common case), because its
 * state is a read-modify-write of every candidate.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "clock.h"
#include "maglev.h"
#include "shm.h"
#include "sticky.h"

/*
 * How many times a pick may lose the race for a server's last free place
 * (another worker filled it between our choice and our acquire) before it
 * gives up.  Each loss makes that server look full to the next scan, so a
 * handful is plenty.
 */
#define BAL_ACQUIRE_TRIES	8
/*
 * Slots a "source" lookup walks past unusable or overloaded servers
 * before it falls back to rendezvous hashing over the candidates; with
 * half the servers down the expected walk is 2 slots.
 */
#define BAL_MAGLEV_WALK		1024

struct bal_cand {
	uint32_t	 idx;		/* server index */
	uint32_t	 weight;	/* eff_weight snapshot, > 0 */
	int64_t		 active;	/* active snapshot, for comparisons */
	uint32_t	 ramp;		/* slow start permille, 0 = full */
};

/* The candidates of one pick, in config order. */
struct bal_set {
	struct bal_cand	 c[SHM_POOL_MAX_SERVERS];
	uint32_t	 n;
	uint32_t	 total;		/* sum of weights, <= 256 * 256 */
};

/* xorshift64*: fast, good enough for spreading load, state never 0. */
static uint64_t
bal_rand(struct bal_ctx *ctx)
{
	uint64_t	 x = ctx->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ctx->rng = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform-enough integer in [0, n), n > 0 and < 2^32, without division. */
static uint32_t
bal_rand_below(struct bal_ctx *ctx, uint32_t n)
{
	return (uint32_t)(((bal_rand(ctx) >> 32) * (uint64_t)n) >> 32);
}

/*
 * Worker, once after fork: binds ctx to the table and the worker's slot
 * and seeds the generator from getrandom(), or from time and pid if that
 * fails, so workers do not share a sequence.
 */
void
bal_ctx_init(struct bal_ctx *ctx, struct shm_table *t, uint32_t slot)
{
	uint64_t	 seed = 0;

	ctx->t = t;
	ctx->slot = slot;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)ts.tv_nsec;
	}
	/* splitmix64 finaliser: spreads close seeds (time^pid) apart. */
	seed ^= seed >> 30;
	seed *= UINT64_C(0xBF58476D1CE4E5B9);
	seed ^= seed >> 27;
	seed *= UINT64_C(0x94D049BB133111EB);
	seed ^= seed >> 31;
	ctx->rng = seed != 0 ? seed : UINT64_C(0x9E3779B97F4A7C15);
}

static bool
bal_excluded(uint32_t idx, const uint32_t *exclude, size_t nexclude)
{
	size_t	 i;

	for (i = 0; i < nexclude; i++)
		if (exclude[i] == idx)
			return true;
	return false;
}

/*
 * Fills `set` with pool `p`'s usable servers that are not excluded and
 * whose backup flag equals `backup`, in config order.  Lock-free: see
 * shm.c for why a concurrent add/remove cannot make this read outside the
 * table.
 */
static void
bal_gather(const struct shm_table *t, const struct shm_pool *p, bool backup,
    const uint32_t *exclude, size_t nexclude, struct bal_set *set)
{
	uint32_t	 k, n, idx, w;

	set->n = 0;
	set->total = 0;
	n = atomic_load_explicit(&p->nservers, memory_order_acquire);
	if (n > SHM_POOL_MAX_SERVERS)
		n = SHM_POOL_MAX_SERVERS;
	for (k = 0; k < n; k++) {
		idx = __atomic_load_n(&p->servers[k], __ATOMIC_RELAXED);
		if (!shm_server_usable(t, idx) ||
		    (t->servers[idx].backup != 0) != backup ||
		    bal_excluded(idx, exclude, nexclude))
			continue;
		w = atomic_load_explicit(&t->servers[idx].eff_weight,
		    memory_order_relaxed);
		if (w == 0 || w > 256)	/* changed since usable(); or bogus */
			continue;
		set->c[set->n].idx = idx;
		set->c[set->n].weight = w;
		set->c[set->n].active = atomic_load_explicit(
		    &t->servers[idx].active, memory_order_relaxed);
		set->c[set->n].ramp = atomic_load_explicit(
		    &t->servers[idx].ramp_permille, memory_order_relaxed);
		set->n++;
		set->total += w;
	}
}

/*
 * Smooth weighted round robin (nginx): every candidate's current grows by
 * its weight, the largest wins and pays back the total.  Over any cycle of
 * `total` picks each server gets exactly its weight, interleaved.  The
 * state lives in the table, under the pool lock, so all workers share one
 * sequence.  Returns the index into set->c.
 */
static uint32_t
bal_choose_rr(struct bal_ctx *ctx, uint32_t pool_idx,
    const struct bal_set *set)
{
	struct shm_server	*s;
	uint32_t		 i, best = 0;
	int64_t			 best_cur = INT64_MIN;

	shm_pool_lock(ctx->t, pool_idx);
	for (i = 0; i < set->n; i++) {
		s = &ctx->t->servers[set->c[i].idx];
		s->rr_current += set->c[i].weight;
		if (s->rr_current > best_cur) {
			best_cur = s->rr_current;
			best = i;
		}
	}
	ctx->t->servers[set->c[best].idx].rr_current -= set->total;
	shm_pool_unlock(ctx->t, pool_idx);
	return best;
}

/*
 * Compares the load per unit of weight of candidates a and b,
 * a.active / a.w against b.active / b.w, as 64-bit products (no
 * division).  Returns <0, 0 or >0.
 */
static int
bal_load_cmp(const struct bal_cand *a, const struct bal_cand *b)
{
	int64_t	 l = a->active * (int64_t)b->weight;
	int64_t	 r = b->active * (int64_t)a->weight;

	return (l > r) - (l < r);
}

/*
 * Slow start under leastconn (issue 3).  A ramped weight alone does not
 * hold back a recovering server here: with 0 connections its load is 0
 * whatever its weight, and with the default weight 1 there is nothing to
 * ramp.  So while a server ramps (ramp permille r), it is left out of the
 * choice once its active count reaches ceil(r/1000 x the average active
 * of the servers that are not ramping), at least 1: its share of the
 * pool's connections grows with time instead of filling at once.
 * `sum` and `nfull`: total active and count of the non-ramping
 * candidates.  Returns true when candidate i is left out.
 */
static bool
bal_ramp_capped(const struct bal_set *set, uint32_t i, int64_t sum,
    uint32_t nfull)
{
	int64_t		 cap;

	if (set->c[i].ramp == 0 || nfull == 0)
		return false;	/* all ramping: nothing to compare with */
	cap = (sum * (int64_t)set->c[i].ramp + (int64_t)nfull * 1000 - 1) /
	    ((int64_t)nfull * 1000);
	return set->c[i].active >= (cap > 1 ? cap : 1);
}

/*
 * Weighted least connections over the active counts of all workers.  A
 * first pass finds the lightest load and how many candidates share it; the
 * pool's shared rr_seq then says which of those tied takes this
 * connection, so equally loaded servers take new connections strictly in
 * turn across all workers.  Servers held back by slow start
 * (bal_ramp_capped) are skipped.  Returns the index into set->c.
 */
static uint32_t
bal_choose_leastconn(struct shm_pool *p, const struct bal_set *set)
{
	bool		 out[SHM_POOL_MAX_SERVERS];
	uint32_t	 i, best = 0, ntie = 1, nth, nfull = 0;
	int64_t		 sum = 0;
	int		 cmp;

	for (i = 0; i < set->n; i++)
		if (set->c[i].ramp == 0) {
			sum += set->c[i].active > 0 ? set->c[i].active : 0;
			nfull++;
		}
	for (i = 0; i < set->n; i++)
		out[i] = bal_ramp_capped(set, i, sum, nfull);
	while (best + 1 < set->n && out[best])
		best++;
	for (i = best + 1; i < set->n; i++) {
		if (out[i])
			continue;
		cmp = bal_load_cmp(&set->c[i], &set->c[best]);
		if (cmp < 0) {
			best = i;
			ntie = 1;
		} else if (cmp == 0)
			ntie++;
	}
	if (ntie == 1)
		return best;
	nth = (uint32_t)(atomic_fetch_add_explicit(&p->rr_seq, 1,
	    memory_order_relaxed) % ntie);
	for (i = best; i < set->n; i++)
		if (!out[i] && bal_load_cmp(&set->c[i], &set->c[best]) == 0 &&
		    nth-- == 0)
			return i;
	return best;	/* not reached */
}

/*
 * Draws a candidate with probability weight / total, ignoring `skip`
 * (pass set->n to skip none; `skip_w` is its weight).  Returns the index
 * into set->c.
 */
static uint32_t
bal_draw(struct bal_ctx *ctx, const struct bal_set *set, uint32_t skip,
    uint32_t skip_w)
{
	uint32_t	 i, r;

	r = bal_rand_below(ctx, set->total - skip_w);
	for (i = 0; i < set->n; i++) {
		if (i == skip)
			continue;
		if (r < set->c[i].weight)
			return i;
		r -= set->c[i].weight;
	}
	return set->n - 1 == skip ? set->n - 2 : set->n - 1; /* not reached */
}

/*
 * Power of two choices: two distinct candidates drawn at random
 * (weighted), the less loaded per weight wins, the first on a tie.
 * Returns the index into set->c.
 */
static uint32_t
bal_choose_p2c(struct bal_ctx *ctx, const struct bal_set *set)
{
	uint32_t	 a, b;

	a = bal_draw(ctx, set, set->n, 0);
	if (set->n == 1)
		return a;
	b = bal_draw(ctx, set, a, set->c[a].weight);
	return bal_load_cmp(&set->c[b], &set->c[a]) < 0 ? b : a;
}

/*
 * Rendezvous (highest random weight) choice for `key`: deterministic for
 * a given candidate set, so a client still maps to one server when the
 * Maglev walk gives up or only backups are left.  Index into set->c.
 */
static uint32_t
bal_rendezvous(const struct bal_set *set, uint64_t key)
{
	uint64_t	 best = 0, h;
	uint32_t	 i, bi = 0;

	for (i = 0; i < set->n; i++) {
		h = (key ^ (uint64_t)set->c[i].idx * UINT64_C(0x9E3779B97F4A7C15))
		    * UINT64_C(0xBF58476D1CE4E5B9);
		h ^= h >> 31;
		if (i == 0 || h > best) {
			best = h;
			bi = i;
		}
	}
	return bi;
}

/*
 * Bounded loads: true when candidate i is within factor percent of the
 * weighted average, counting this connection: active_i < (A + 1) x
 * factor/100 x w_i / W, without division.  Some candidate always is.
 */
static bool
bal_within_factor(const struct bal_set *set, uint32_t i, int64_t sum,
    uint32_t factor)
{
	if (factor == 0)
		return true;
	return set->c[i].active * 100 * (int64_t)set->total <
	    (sum + 1) * (int64_t)factor * (int64_t)set->c[i].weight;
}

/*
 * "source": walks the pool's Maglev table from the client's slot and
 * takes the first server that is a candidate (usable, not excluded, of
 * the kind gathered) and within the balance factor.  A server that is
 * down, drained or full is not a candidate, so only its own clients go
 * on to the next slot.  Index into set->c.
 */
static uint32_t
bal_choose_source(const struct shm_table *t, uint32_t pool_idx,
    const struct shm_pool *p, const struct bal_set *set, uint64_t key)
{
	uint32_t	 step, idx, i;
	int64_t		 sum = 0;

	if (t->servers[set->c[0].idx].backup)
		return bal_rendezvous(set, key);	/* not in the table */
	for (i = 0; i < set->n; i++)
		sum += set->c[i].active > 0 ? set->c[i].active : 0;
	for (step = 0; step < BAL_MAGLEV_WALK; step++) {
		if ((idx = maglev_slot(t, pool_idx, key, step)) == SHM_NONE)
			break;
		for (i = 0; i < set->n && set->c[i].idx != idx; i++)
			;
		if (i < set->n && bal_within_factor(set, i, sum,
		    p->hash_factor))
			return i;
	}
	return bal_rendezvous(set, key);
}

/* Dispatches to `algo`; set->n > 0.  Index into set->c. */
static uint32_t
bal_choose(struct bal_ctx *ctx, uint32_t pool_idx, struct shm_pool *p,
    uint32_t algo, const struct bal_set *set)
{
	switch (algo) {
	case BAL_RANDOM:
		return bal_draw(ctx, set, set->n, 0);
	case BAL_LEASTCONN:
		return bal_choose_leastconn(p, set);
	case BAL_P2C:
		return bal_choose_p2c(ctx, set);
	case BAL_FIRST:
		return 0;
	case BAL_ROUNDROBIN:
	default:
		return bal_choose_rr(ctx, pool_idx, set);
	}
}

/*
 * Worker: picks a usable server of pool `pool_idx` not in exclude[] with
 * the pool's algorithm (primaries first; backups only when no primary is
 * a candidate) and counts the connection on it.  If another worker took
 * the server's last place between the choice and the acquire, it chooses
 * again, at most BAL_ACQUIRE_TRIES times: maxconn is never exceeded.
 * Returns the server index, or -1 with errno ENOENT (nothing usable),
 * EAGAIN (lost every race) or EINVAL (no such pool).  Algorithm `algo`
 * (the pool's, or a sticky pool's fallback); for BAL_SOURCE, `client` is
 * not NULL.
 */
static int
bal_pick_algo(struct bal_ctx *ctx, uint32_t pool_idx,
    const uint32_t *exclude, size_t nexclude, uint32_t algo,
    const struct sockaddr *client)
{
	struct bal_set	 set;
	struct shm_pool	*p = &ctx->t->pools[pool_idx];
	uint64_t	 key = 0;
	uint32_t	 idx;
	int		 tries;

	if (algo == BAL_SOURCE)
		key = maglev_hash_addr(client, p->hash_key);
	for (tries = 0; tries < BAL_ACQUIRE_TRIES; tries++) {
		bal_gather(ctx->t, p, false, exclude, nexclude, &set);
		if (set.n == 0)
			bal_gather(ctx->t, p, true, exclude, nexclude, &set);
		if (set.n == 0) {
			errno = ENOENT;
			return -1;
		}
		idx = set.c[algo == BAL_SOURCE ? bal_choose_source(ctx->t,
		    pool_idx, p, &set, key) : bal_choose(ctx, pool_idx, p,
		    algo, &set)].idx;
		if (shm_server_acquire(ctx->t, ctx->slot, idx) == -1)
			continue;
		/* The slot may have been removed and reused meanwhile. */
		if (ctx->t->servers[idx].pool_idx == pool_idx)
			return (int)idx;
		shm_server_release(ctx->t, ctx->slot, idx);
	}
	errno = EAGAIN;
	return -1;
}

/*
 * True when a sticky client may go back to server `idx`: still in pool
 * `pool_idx`, up, and not in maintenance.  A draining server keeps its
 * sticky clients (what HAProxy does and operators expect); maxconn is
 * checked by the acquire.
 */
static bool
bal_sticky_ok(const struct shm_table *t, uint32_t pool_idx, uint32_t idx)
{
	const struct shm_server	*s;

	if (idx >= SHM_MAX_SERVERS)
		return false;
	s = &t->servers[idx];
	return atomic_load(&s->in_use) && s->pool_idx == pool_idx &&
	    atomic_load(&s->health) == SHM_HEALTH_UP &&
	    atomic_load(&s->admin) != SHM_ADMIN_MAINT;
}

/*
 * "sticky": the remembered server if it may take the client, else the
 * fallback's choice, remembered.  Two workers placing the same new
 * client at the same instant may both miss; the later put wins and the
 * client's next connection follows it.
 */
static int
bal_pick_sticky(struct bal_ctx *ctx, uint32_t pool_idx,
    const uint32_t *exclude, size_t nexclude, const struct sockaddr *client)
{
	struct sticky_table	*st = sticky_of(pool_idx);
	uint32_t		 fb = ctx->t->pools[pool_idx].sticky_fallback;
	int64_t			 now = clock_mono_ms();
	uint32_t		 srv;
	int			 idx;

	if (fb >= BAL__COUNT || fb == BAL_SOURCE || fb == BAL_STICKY)
		fb = BAL_LEASTCONN;
	if (st == NULL || client == NULL)
		return bal_pick_algo(ctx, pool_idx, exclude, nexclude, fb, NULL);
	srv = sticky_get(st, client, now);
	if (srv != SHM_NONE && !bal_excluded(srv, exclude, nexclude) &&
	    bal_sticky_ok(ctx->t, pool_idx, srv) &&
	    shm_server_acquire(ctx->t, ctx->slot, srv) == 0) {
		if (ctx->t->servers[srv].pool_idx == pool_idx) {
			sticky_count(st, true);
			return (int)srv;
		}
		shm_server_release(ctx->t, ctx->slot, srv);
	}
	idx = bal_pick_algo(ctx, pool_idx, exclude, nexclude, fb, NULL);
	if (idx != -1) {
		sticky_put(st, client, (uint32_t)idx, now);
		sticky_count(st, false);
	}
	return idx;
}

int
bal_pick_for(struct bal_ctx *ctx, uint32_t pool_idx,
    const uint32_t *exclude, size_t nexclude, const struct sockaddr *client)
{
	uint32_t	 algo;

	if (pool_idx >= SHM_MAX_POOLS ||
	    !atomic_load_explicit(&ctx->t->pools[pool_idx].in_use,
	    memory_order_acquire)) {
		errno = EINVAL;
		return -1;
	}
	algo = ctx->t->pools[pool_idx].algorithm;
	if (client != NULL && client->sa_family != AF_INET &&
	    client->sa_family != AF_INET6)
		client = NULL;
	if (algo == BAL_STICKY)
		return bal_pick_sticky(ctx, pool_idx, exclude, nexclude, client);
	if (algo == BAL_SOURCE && client == NULL)
		algo = BAL_ROUNDROBIN;	/* nothing to hash: spread */
	return bal_pick_algo(ctx, pool_idx, exclude, nexclude, algo, client);
}

int
bal_pick(struct bal_ctx *ctx, uint32_t pool_idx,
    const uint32_t *exclude, size_t nexclude)
{
	return bal_pick_for(ctx, pool_idx, exclude, nexclude, NULL);
}
