/*
 * hist.c - the log-linear latency histogram of lbbench (see lbbench.h for
 * the layout and its error bound).  Recording is O(1) (a count-leading-
 * zeros and two shifts); a percentile walks the LBB_BUCKETS counters once.
 */
#include <string.h>

#include "lbbench.h"

void
lbb_hist_init(struct lbb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/*
 * Bucket index of v: exact below 2^SUB_BITS, else the magnitude m (bit
 * position of the highest set bit) picks a row of LBB_SUB buckets and the
 * next SUB_BITS bits below the top bit pick the bucket in the row.
 */
static size_t
bucket_of(uint64_t v)
{
	unsigned m;

	if (v < LBB_SUB)
		return (size_t)v;
	m = 63u - (unsigned)__builtin_clzll(v);
	if (m >= LBB_MAX_BITS)
		return LBB_BUCKETS - 1;
	return (size_t)(m - LBB_SUB_BITS + 1) * LBB_SUB +
	    (size_t)((v >> (m - LBB_SUB_BITS)) - LBB_SUB);
}

/* Largest value that falls into bucket i. */
static uint64_t
bucket_high(size_t i)
{
	size_t row, sub;
	unsigned m;

	if (i < LBB_SUB)
		return (uint64_t)i;
	row = i / LBB_SUB;
	sub = i % LBB_SUB;
	m = (unsigned)row + LBB_SUB_BITS - 1;
	return (((uint64_t)LBB_SUB + sub + 1) << (m - LBB_SUB_BITS)) - 1;
}

void
lbb_hist_add(struct lbb_hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->count++;
	h->sum += (double)ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void
lbb_hist_merge(struct lbb_hist *dst, const struct lbb_hist *src)
{
	size_t i;

	for (i = 0; i < LBB_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/*
 * The q-quantile (0 < q <= 1): the upper bound of the bucket holding the
 * ceil(q * count)-th smallest value, clamped to [min, max].  0 when empty.
 */
uint64_t
lbb_hist_pct(const struct lbb_hist *h, double q)
{
	uint64_t rank, seen = 0, v;
	size_t i;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < LBB_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			break;
	}
	v = i < LBB_BUCKETS ? bucket_high(i) : h->max;
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

double
lbb_hist_mean(const struct lbb_hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}
