/*
 * autoscale_eval.c - the autoscaling evaluator: pure functions with time
 * and figures passed in (the decision, the server to drain, the window
 * average), so unit tests drive them without a clock or a table.  The
 * runner that samples the table and starts hooks is autoscale.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoscale.h"

static const char *const as_reason_names[AS_WHY__COUNT] = {
	[AS_WHY_IN_BAND] = "in_band",
	[AS_WHY_ABOVE_TARGET] = "above_target",
	[AS_WHY_BELOW_MIN] = "below_min",
	[AS_WHY_BELOW_TARGET] = "below_target",
	[AS_WHY_ABOVE_MAX] = "above_max",
	[AS_WHY_HOOK_RUNNING] = "hook_running",
	[AS_WHY_COOLDOWN] = "cooldown",
	[AS_WHY_WINDOW] = "window_filling",
	[AS_WHY_AT_MAX] = "at_max",
	[AS_WHY_AT_MIN] = "at_min",
	[AS_WHY_NO_SERVER] = "no_healthy_server",
};

const char *
autoscale_reason_name(unsigned r)
{
	return r < AS_WHY__COUNT ? as_reason_names[r] : "unknown";
}

const char *
autoscale_action_name(unsigned a)
{
	return a == AS_SCALE_OUT ? "scale_out" : a == AS_SCALE_IN ?
	    "scale_in" : "keep";
}

/* --- evaluator --------------------------------------------------------- */

static uint32_t
as_clamp(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

static void
as_set(struct as_decision *d, enum as_action act, enum as_reason why,
    uint32_t desired)
{
	d->action = act;
	d->reason = why;
	d->desired = desired;
}

void
autoscale_decide(const struct conf_autoscale *c, const struct as_input *in,
    struct as_decision *d)
{
	uint64_t	 unit = (uint64_t)c->target * 1000;
	uint64_t	 load = unit * in->healthy;	/* target for all, x1000 */
	uint64_t	 want = (in->avg_milli + unit - 1) / unit;
	uint32_t	 n = in->healthy;

	as_set(d, AS_KEEP, AS_WHY_IN_BAND, n);
	if (in->hook_running)
		d->reason = AS_WHY_HOOK_RUNNING;
	else if (in->now < in->cooldown_until)
		d->reason = AS_WHY_COOLDOWN;
	else if (!in->window_full)
		d->reason = AS_WHY_WINDOW;
	else if (n < c->min_servers)	/* <= max: validated */
		as_set(d, AS_SCALE_OUT, AS_WHY_BELOW_MIN, as_clamp(want <
		    c->min_servers ? c->min_servers : want, n + 1,
		    c->max_servers));
	else if (n > c->max_servers)
		as_set(d, AS_SCALE_IN, AS_WHY_ABOVE_MAX, c->max_servers);
	else if (n == 0)
		d->reason = AS_WHY_NO_SERVER;
	else if (in->avg_milli * 5 > load * 6) {	/* > target + 20% */
		if (n >= c->max_servers)
			d->reason = AS_WHY_AT_MAX;
		else
			as_set(d, AS_SCALE_OUT, AS_WHY_ABOVE_TARGET,
			    as_clamp(want, n + 1, c->max_servers));
	} else if (in->avg_milli * 5 < load * 3) {	/* < target - 40% */
		if (n <= c->min_servers)
			d->reason = AS_WHY_AT_MIN;
		else
			as_set(d, AS_SCALE_IN, AS_WHY_BELOW_TARGET,
			    as_clamp(want, c->min_servers, n - 1));
	}
}

int
autoscale_pick_drain(const struct as_server *s, size_t n)
{
	size_t	 i;
	int	 best = -1;

	/*
	 * Shrink what was grown: a server added at run time goes before one
	 * of the config's, whatever their loads; then the least loaded, and
	 * among equals the last ("<="), the most recently added.
	 */
	for (i = 0; i < n; i++) {
		if (!s[i].ready)
			continue;
		if (best == -1 || (s[i].added && !s[best].added) ||
		    (s[i].added == s[best].added &&
		    s[i].active <= s[best].active))
			best = (int)i;
	}
	return best;
}

int
autoscale_window_init(struct as_window *w, uint64_t window_ms,
    uint64_t interval_ms)
{
	memset(w, 0, sizeof(*w));
	if (interval_ms == 0)
		interval_ms = 1;
	w->window_ms = window_ms;
	w->interval_ms = interval_ms;
	w->cap = (uint32_t)(window_ms / interval_ms) + 2;
	if ((w->s = calloc(w->cap, sizeof(*w->s))) == NULL)
		return -1;
	return 0;
}

void
autoscale_window_free(struct as_window *w)
{
	free(w->s);
	w->s = NULL;
	w->n = w->head = 0;
}

void
autoscale_window_reset(struct as_window *w)
{
	w->n = w->head = 0;
}

void
autoscale_window_add(struct as_window *w, int64_t now, int64_t active)
{
	if (w->s == NULL)
		return;
	if (w->n == 0)
		w->first = now;
	w->s[w->head].t = now;
	w->s[w->head].active = active;
	w->head = (w->head + 1) % w->cap;
	if (w->n < w->cap)
		w->n++;
}

uint64_t
autoscale_window_avg(const struct as_window *w, int64_t now, bool *full)
{
	const struct as_sample	*s;
	uint64_t		 sum = 0, k = 0;
	uint32_t		 i;

	*full = w->n > 0 && now - w->first + (int64_t)w->interval_ms >=
	    (int64_t)w->window_ms;
	for (i = 0; i < w->n; i++) {	/* newest first */
		s = &w->s[(w->head + w->cap - 1 - i) % w->cap];
		if (now - s->t >= (int64_t)w->window_ms)
			break;
		sum += s->active > 0 ? (uint64_t)s->active : 0;
		k++;
	}
	return k == 0 ? 0 : sum * 1000 / k;
}

/* --- runner: records and the log ---------------------------------------- */

