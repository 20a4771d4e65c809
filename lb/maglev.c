/*
 * maglev.c - Maglev consistent hashing for algorithm "source" (maglev.h).
 *
 * Each member server has a permutation of the table's slots: it starts
 * at offset = h1 % M and steps by skip = h2 % (M - 1) + 1 (M prime, so
 * the walk visits every slot).  Servers take turns claiming their next
 * preferred empty slot until the table is full; a server of weight w
 * takes w / wmax turns per round, so its share of slots follows its
 * weight.  Removing one of N servers changes about 1/N of the slots plus
 * a little, the rest stay where they were.
 *
 * The hashes are fixed functions of names and addresses, with no
 * per-process seed: every worker, and a restarted lbd, maps a client to
 * the same slot.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "maglev.h"
#include "shm.h"

/* splitmix64 finaliser: spreads every input bit over the output. */
static uint64_t
maglev_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xBF58476D1CE4E5B9);
	x ^= x >> 27;
	x *= UINT64_C(0x94D049BB133111EB);
	x ^= x >> 31;
	return x;
}

/* FNV-1a over bytes, then mixed. */
static uint64_t
maglev_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return maglev_mix(h);
}

uint64_t
maglev_hash_name(const char *name)
{
	return maglev_hash_bytes(UINT64_C(0xcbf29ce484222325), name,
	    strnlen(name, SHM_NAME_MAX));
}

uint64_t
maglev_hash_addr(const struct sockaddr *sa, enum maglev_key key)
{
	const struct sockaddr_in	*in = (const void *)sa;
	const struct sockaddr_in6	*in6 = (const void *)sa;
	uint8_t				 b[18];
	size_t				 n;
	uint16_t			 port;

	if (sa->sa_family == AF_INET) {
		memcpy(b, &in->sin_addr, 4);
		port = in->sin_port;
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			memcpy(b, &in6->sin6_addr.s6_addr[12], 4);
			n = 4;
		} else {
			memcpy(b, &in6->sin6_addr, 16);
			n = 16;
		}
		port = in6->sin6_port;
	} else {
		return 0;
	}
	if (key == MAGLEV_KEY_IP_PORT) {
		memcpy(b + n, &port, 2);
		n += 2;
	}
	return maglev_hash_bytes(UINT64_C(0x84222325cbf29ce4), b, n);
}

/*
 * Gives server i its next preferred empty slot; pos[i] is where its
 * permutation resumes.  The table has an empty slot (caller's check), so
 * the walk ends within m steps.
 */
static void
maglev_claim(uint16_t *out, uint32_t m, uint32_t i, uint32_t *pos,
    const uint32_t *skip)
{
	uint32_t	 c = pos[i];

	while (out[c] != SHM_MAGLEV_EMPTY)
		c = (uint32_t)(((uint64_t)c + skip[i]) % m);
	out[c] = (uint16_t)i;
	pos[i] = (uint32_t)(((uint64_t)c + skip[i]) % m);
}

int
maglev_populate(const uint64_t *hash, const uint32_t *weight, uint32_t n,
    uint16_t *out, uint32_t m)
{
	uint32_t	 pos[SHM_POOL_MAX_SERVERS], skip[SHM_POOL_MAX_SERVERS];
	uint32_t	 credit[SHM_POOL_MAX_SERVERS], wmax = 0, i, filled = 0;

	if (n == 0 || n > SHM_POOL_MAX_SERVERS || m < 3 || m > 65537) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (weight[i] == 0) {
			errno = EINVAL;
			return -1;
		}
		pos[i] = (uint32_t)(maglev_mix(hash[i]) % m);
		skip[i] = (uint32_t)(maglev_mix(hash[i] ^
		    UINT64_C(0x9E3779B97F4A7C15)) % (m - 1)) + 1;
		credit[i] = 0;
		if (weight[i] > wmax)
			wmax = weight[i];
	}
	memset(out, 0xff, (size_t)m * sizeof(*out));
	/* Each round the heaviest server claims once, the others w/wmax. */
	while (filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			credit[i] += weight[i];
			while (credit[i] >= wmax && filled < m) {
				credit[i] -= wmax;
				maglev_claim(out, m, i, pos, skip);
				filled++;
			}
		}
	}
	return 0;
}

/*
 * Master: the members of pool `pidx` (in use, not backup, weight > 0)
 * into idx/hash/weight, in config order; returns how many, and their
 * fingerprint in *fp.
 */
static uint32_t
maglev_members(const struct shm_table *t, uint32_t pidx, uint32_t *idx,
    uint64_t *hash, uint32_t *weight, uint64_t *fp)
{
	const struct shm_pool	*p = &t->pools[pidx];
	const struct shm_server	*s;
	uint32_t		 k, n, cnt = 0, w;

	*fp = UINT64_C(0x6d61676c6576);		/* "maglev" */
	n = atomic_load(&p->nservers);
	for (k = 0; k < n && k < SHM_POOL_MAX_SERVERS; k++) {
		idx[cnt] = p->servers[k];
		if (idx[cnt] >= SHM_MAX_SERVERS)
			continue;
		s = &t->servers[idx[cnt]];
		w = atomic_load(&s->weight);
		if (!atomic_load(&s->in_use) || s->backup || w == 0)
			continue;
		hash[cnt] = maglev_hash_name(s->name);
		weight[cnt] = w;
		*fp = maglev_mix(*fp ^ hash[cnt]) ^ ((uint64_t)idx[cnt] << 32 |
		    w);
		cnt++;
	}
	return cnt;
}

/* Master: rebuilds pool `pidx`'s table if its members changed. */
static void
maglev_build(struct shm_table *t, uint32_t pidx)
{
	struct shm_maglev	*mg = &t->maglev[pidx];
	uint32_t		 idx[SHM_POOL_MAX_SERVERS];
	uint32_t		 weight[SHM_POOL_MAX_SERVERS], n, nb, i;
	uint64_t		 hash[SHM_POOL_MAX_SERVERS], fp;
	uint16_t		*out;

	n = maglev_members(t, pidx, idx, hash, weight, &fp);
	if (atomic_load(&mg->builds) != 0 && fp == mg->fp)
		return;
	nb = atomic_load(&mg->cur) ^ 1;
	out = mg->slot[nb];
	if (n == 0 || maglev_populate(hash, weight, n, out,
	    SHM_MAGLEV_SIZE) == -1)
		memset(out, 0xff, sizeof(mg->slot[nb]));
	else
		for (i = 0; i < SHM_MAGLEV_SIZE; i++)
			out[i] = (uint16_t)idx[out[i]];
	mg->nservers = n;
	mg->fp = fp;
	atomic_store_explicit(&mg->cur, nb, memory_order_release);
	atomic_fetch_add(&mg->builds, 1);
}

void
maglev_refresh(struct shm_table *t)
{
	uint32_t	 i;

	for (i = 0; i < SHM_MAX_POOLS; i++)
		if (atomic_load(&t->pools[i].in_use) &&
		    t->pools[i].algorithm == BAL_SOURCE)
			maglev_build(t, i);
}

uint32_t
maglev_slot(const struct shm_table *t, uint32_t pool_idx, uint64_t key,
    uint32_t step)
{
	const struct shm_maglev	*mg;
	uint32_t		 cur, pos;
	uint16_t		 v;

	if (pool_idx >= SHM_MAX_POOLS)
		return SHM_NONE;
	mg = &t->maglev[pool_idx];
	if (atomic_load_explicit(&mg->builds, memory_order_acquire) == 0)
		return SHM_NONE;
	cur = atomic_load_explicit(&mg->cur, memory_order_acquire) & 1;
	pos = (uint32_t)((key % SHM_MAGLEV_SIZE + step) % SHM_MAGLEV_SIZE);
	v = __atomic_load_n(&mg->slot[cur][pos], __ATOMIC_RELAXED);
	return v == SHM_MAGLEV_EMPTY ? SHM_NONE : v;
}
