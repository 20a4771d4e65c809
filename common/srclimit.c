/*
 * srclimit.c - connections per client address across all workers
 * (maxconn_per_source).  See srclimit.h; layout in shm-t.h.
 *
 * A slot word is tag << 24 | count.  The tag is 40 bits of a keyed hash
 * of the address, the home slot 14 other bits of it; an address may live
 * in any of the SHM_SRC_PROBES slots from its home.
 *
 * Acquire, lock-free:
 *   1. scan all the probes for a slot with this tag and a count > 0; if
 *      there is one, CAS count + 1 unless it is at the cap (SRC_OVER);
 *   2. otherwise claim the first free slot (count 0, any tag) with a CAS
 *      to (tag, 1), then scan again: if another process claimed another
 *      slot for the same address at the same time, both see it (each
 *      stored before it looked) and give theirs back, and try again, so
 *      the address ends in one slot;
 *   3. when every probe holds another address, let the client through
 *      uncounted (table_full): refusing it would let 16 busy addresses
 *      near a hash lock out an innocent one, and 16384 slots only fill
 *      up when that many addresses are connected at once, where a
 *      per-address cap no longer is the defence that matters.
 * Scanning every probe before claiming (step 1) is what keeps an address
 * in one slot when a slot nearer its home frees up meanwhile.
 *
 * The cap is exact for an address that is already counted: its count and
 * the cap check are one CAS.  Only two first connections of one address
 * racing into two slots (step 2) can split it for a moment; with the
 * give-back the split lasts as long as connections that joined the loser
 * in those microseconds, and never happens with cap 1.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "srclimit.h"

#define SRC_TRIES	8	/* lost step-2 claims before letting a client in */

#define SRC_TAG(w)	((w) >> SHM_SRC_COUNT_BITS)
#define SRC_COUNT(w)	((uint32_t)((w) & SHM_SRC_COUNT_MAX))
#define SRC_WORD(t, c)	((uint64_t)(t) << SHM_SRC_COUNT_BITS | (uint64_t)(c))
#define SRC_AT(home, k)	(((home) + (k)) & (SHM_SRC_SLOTS - 1))

/* What one pass over the probes found (srclimit_join). */
enum src_step {
	SRC_STEP_DONE = 0,	/* counted or over: result is final */
	SRC_STEP_RACE = 1,	/* a slot changed under us: scan again */
	SRC_STEP_NONE = 2,	/* no live slot of this address */
};

/* splitmix64 finaliser: every input bit reaches every output bit. */
static uint64_t
src_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xBF58476D1CE4E5B9);
	x ^= x >> 27;
	x *= UINT64_C(0x94D049BB133111EB);
	x ^= x >> 31;
	return x;
}

/*
 * Keyed hash of the address alone (no port); an IPv4-mapped IPv6 address
 * hashes as its IPv4 address, so a dual-stack listener counts a client
 * once.  Returns false for a non-IP address.
 */
static bool
src_hash(const struct shm_srcs *s, const struct sockaddr *sa, uint64_t *out)
{
	const struct sockaddr_in	*in = (const void *)sa;
	const struct sockaddr_in6	*in6 = (const void *)sa;
	const uint8_t			*b;
	uint64_t			 h = s->seed ^ UINT64_C(0xcbf29ce484222325);
	size_t				 i, n;

	if (sa->sa_family == AF_INET) {
		b = (const uint8_t *)&in->sin_addr;
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		b = in6->sin6_addr.s6_addr;
		n = 16;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			b += 12;
			n = 4;
		}
	} else {
		return false;
	}
	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	*out = src_mix(h ^ n);
	return true;
}

/* Lowers slot `i` by up to `n`, never below 0.  Any process. */
static void
src_sub(struct shm_srcs *s, uint32_t i, uint32_t n)
{
	uint64_t	 w = atomic_load(&s->slot[i]);
	uint32_t	 d;

	do {
		d = SRC_COUNT(w) < n ? SRC_COUNT(w) : n;
		if (d == 0)
			return;
	} while (!atomic_compare_exchange_weak(&s->slot[i], &w, w - d));
}

void
srclimit_init(struct shm_srcs *s, uint64_t seed)
{
	s->seed = seed;
}

/*
 * Step 1: scans every probe of `home` for a live slot with `tag` and
 * counts one more there unless it holds `cap`.  Remembers the first free
 * slot and its word in *free / *fword (SHM_NONE when none).
 */
static enum src_step
src_join(struct shm_srcs *s, uint64_t home, uint64_t tag, uint32_t cap,
    uint32_t *idx, enum src_result *res, uint32_t *free, uint64_t *fword)
{
	uint64_t	 w;
	uint32_t	 k, i;

	*free = SHM_NONE;
	for (k = 0; k < SHM_SRC_PROBES; k++) {
		i = SRC_AT(home, k);
		w = atomic_load(&s->slot[i]);
		if (SRC_COUNT(w) == 0) {
			if (*free == SHM_NONE) {
				*free = i;
				*fword = w;
			}
			continue;
		}
		if (SRC_TAG(w) != tag)
			continue;
		if (SRC_COUNT(w) >= cap) {
			*res = SRC_OVER;
			return SRC_STEP_DONE;
		}
		if (!atomic_compare_exchange_strong(&s->slot[i], &w, w + 1))
			return SRC_STEP_RACE;
		*idx = i;
		*res = SRC_OK;
		return SRC_STEP_DONE;
	}
	return SRC_STEP_NONE;
}

/* True when a slot other than `mine` among the probes counts `tag`. */
static bool
src_twin(struct shm_srcs *s, uint64_t home, uint64_t tag, uint32_t mine)
{
	uint64_t	 w;
	uint32_t	 k, i;

	for (k = 0; k < SHM_SRC_PROBES; k++) {
		i = SRC_AT(home, k);
		if (i == mine)
			continue;
		w = atomic_load(&s->slot[i]);
		if (SRC_COUNT(w) > 0 && SRC_TAG(w) == tag)
			return true;
	}
	return false;
}

/*
 * Step 2: claims free slot `i` (last seen as `fword`) for `tag`, then
 * gives it back if another process claimed a twin at the same time
 * (sequentially consistent: of two racing claimers at least one sees the
 * other).  True when the slot is ours.
 */
static bool
src_claim(struct shm_srcs *s, uint64_t home, uint64_t tag, uint32_t i,
    uint64_t fword)
{
	if (!atomic_compare_exchange_strong(&s->slot[i], &fword,
	    SRC_WORD(tag, 1)))
		return false;
	if (!src_twin(s, home, tag, i))
		return true;
	src_sub(s, i, 1);
	return false;
}

enum src_result
srclimit_acquire(struct shm_srcs *s, uint32_t wslot,
    const struct sockaddr *sa, uint32_t cap, uint32_t *idx)
{
	enum src_result	 res = SRC_UNCOUNTED;
	uint64_t	 h, home, tag, fword = 0;
	uint32_t	 tries, free;

	*idx = SHM_NONE;
	if (wslot >= SHM_MAX_WORKERS || !src_hash(s, sa, &h))
		return SRC_UNCOUNTED;
	if (cap == 0 || cap > SHM_SRC_COUNT_MAX)
		cap = SHM_SRC_COUNT_MAX;
	home = h & (SHM_SRC_SLOTS - 1);
	tag = h >> SHM_SRC_COUNT_BITS;
	tries = 0;
	while (tries < SRC_TRIES) {
		/*
		 * A lost CAS in step 1 is not a try: another process's CAS
		 * on that slot succeeded, so the table as a whole progresses
		 * (lock-free), and a hot address must never slip through
		 * uncounted for being hot.
		 */
		switch (src_join(s, home, tag, cap, idx, &res, &free, &fword)) {
		case SRC_STEP_DONE:
			goto done;
		case SRC_STEP_RACE:
			continue;
		case SRC_STEP_NONE:
			break;
		}
		if (free == SHM_NONE) {
			atomic_fetch_add_explicit(&s->table_full, 1,
			    memory_order_relaxed);
			return SRC_UNCOUNTED;
		}
		if (src_claim(s, home, tag, free, fword)) {
			*idx = free;
			res = SRC_OK;
			goto done;
		}
		tries++;
	}
	/* Lost every race in a row: let it in rather than spin. */
	atomic_fetch_add_explicit(&s->table_full, 1, memory_order_relaxed);
	return SRC_UNCOUNTED;
done:
	if (res == SRC_OK)
		atomic_fetch_add_explicit(&s->share[wslot][*idx], 1,
		    memory_order_relaxed);
	return res;
}

void
srclimit_release(struct shm_srcs *s, uint32_t wslot, uint32_t idx)
{
	if (wslot >= SHM_MAX_WORKERS || idx >= SHM_SRC_SLOTS)
		return;
	atomic_fetch_sub_explicit(&s->share[wslot][idx], 1,
	    memory_order_relaxed);
	src_sub(s, idx, 1);
}

/*
 * Each share is swapped to 0 and subtracted once, so the counts end
 * where they would have had the worker closed its clients itself.  The
 * scan reads the dead worker's 64 KiB of shares.
 */
void
srclimit_worker_release(struct shm_srcs *s, uint32_t wslot)
{
	int32_t		 n;
	uint32_t	 i;

	if (wslot >= SHM_MAX_WORKERS)
		return;
	for (i = 0; i < SHM_SRC_SLOTS; i++) {
		if (atomic_load_explicit(&s->share[wslot][i],
		    memory_order_relaxed) == 0)
			continue;
		n = atomic_exchange(&s->share[wslot][i], 0);
		if (n > 0)
			src_sub(s, i, (uint32_t)n);
	}
}

uint32_t
srclimit_home(const struct shm_srcs *s, const struct sockaddr *sa)
{
	uint64_t	 h;

	if (!src_hash(s, sa, &h))
		return SHM_NONE;
	return (uint32_t)(h & (SHM_SRC_SLOTS - 1));
}

uint32_t
srclimit_held(const struct shm_srcs *s, const struct sockaddr *sa)
{
	uint64_t	 h, home, tag, w;
	uint32_t	 k, n = 0;

	if (!src_hash(s, sa, &h))
		return 0;
	home = h & (SHM_SRC_SLOTS - 1);
	tag = h >> SHM_SRC_COUNT_BITS;
	for (k = 0; k < SHM_SRC_PROBES; k++) {
		w = atomic_load(&s->slot[SRC_AT(home, k)]);
		if (SRC_TAG(w) == tag)
			n += SRC_COUNT(w);
	}
	return n;
}

uint32_t
srclimit_tracked(const struct shm_srcs *s)
{
	uint32_t	 i, n = 0;

	for (i = 0; i < SHM_SRC_SLOTS; i++)
		if (SRC_COUNT(atomic_load_explicit(&s->slot[i],
		    memory_order_relaxed)) > 0)
			n++;
	return n;
}
