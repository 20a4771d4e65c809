/*
 * health_fsm.c - per-server health state machine (see health_fsm.h).
 *
 * Pure: no I/O, no clock, no logging; time comes in as `now`.  Used by
 * the master's checker; the unit tests drive it directly.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "health_fsm.h"

void
hfsm_init(struct hfsm *f, bool up, int64_t now)
{
	memset(f, 0, sizeof(*f));
	f->state = up ? HFSM_UP : HFSM_DOWN;
	f->ever_up = up;
	f->penalty = 1;
	f->window_start = now;
	f->last_flip = now;
	f->last_decay = now;
	f->last_change = now;
}

uint32_t
hfsm_need(const struct hfsm *f, const struct hfsm_params *p)
{
	uint32_t pen = f->penalty > 0 ? f->penalty : 1;

	if (!f->ever_up)
		return 1;
	return (p->rise > 0 ? p->rise : 1) * pen;
}

/*
 * Counts one state change in the flap window; past flap_limit changes
 * in the window it doubles the penalty (capped).  A fresh penalty waits a
 * whole quiet window before it may decay.
 */
static void
hfsm_count_flap(struct hfsm *f, const struct hfsm_params *p, int64_t now)
{
	if (now - f->window_start >= (int64_t)p->flap_window_ms) {
		f->window_start = now;
		f->flaps = 0;
	}
	f->flaps++;
	if (p->flap_limit == 0 || f->flaps <= p->flap_limit)
		return;
	if (f->penalty < 1)
		f->penalty = 1;
	if (f->penalty < HFSM_PENALTY_MAX)
		f->penalty *= 2;
	f->last_decay = now;
}

/* Moves to `to` for reason `why`: flap accounting and slow start. */
static enum hfsm_change
hfsm_change_to(struct hfsm *f, const struct hfsm_params *p,
    enum hfsm_state to, enum hfsm_why why, int64_t now)
{
	f->state = to;
	f->why = why;
	f->last_change = now;
	f->transitions++;
	if (why != HFSM_WHY_FIRST)
		hfsm_count_flap(f, p, now);
	if (to == HFSM_DOWN) {
		f->ramp_start = 0;
		return HFSM_WENT_DOWN;
	}
	/* A first pass is not a recovery: nobody was sent away from it. */
	if (f->ever_up && p->slowstart_ms > 0)
		f->ramp_start = now > 0 ? now : 1;
	f->ever_up = true;
	return HFSM_WENT_UP;
}

enum hfsm_change
hfsm_check(struct hfsm *f, const struct hfsm_params *p, bool ok,
    int64_t now)
{
	if (!f->any_check || ok != f->last_ok)
		f->last_flip = now;
	f->any_check = true;
	f->last_ok = ok;
	if (ok) {
		f->succ++;
		f->fail = 0;
	} else {
		f->fail++;
		f->succ = 0;
	}
	hfsm_tick(f, p, now);
	if (f->state == HFSM_DOWN && ok && f->succ >= hfsm_need(f, p))
		return hfsm_change_to(f, p, HFSM_UP, f->ever_up ?
		    HFSM_WHY_CHECKS : HFSM_WHY_FIRST, now);
	if (f->state == HFSM_UP && !ok && f->fail >= p->fall)
		return hfsm_change_to(f, p, HFSM_DOWN, HFSM_WHY_CHECKS, now);
	return HFSM_SAME;
}

enum hfsm_change
hfsm_passive(struct hfsm *f, const struct hfsm_params *p,
    uint32_t consec_failures, int64_t now)
{
	if (f->state != HFSM_UP || p->observe_errors == 0 ||
	    consec_failures < p->observe_errors)
		return HFSM_SAME;
	/* Passes seen while clients failed do not count towards rise. */
	f->succ = 0;
	return hfsm_change_to(f, p, HFSM_DOWN, HFSM_WHY_PASSIVE, now);
}

enum hfsm_change
hfsm_force(struct hfsm *f, bool up, int64_t now)
{
	enum hfsm_state to = up ? HFSM_UP : HFSM_DOWN;

	f->succ = f->fail = 0;
	if (f->state == to)
		return HFSM_SAME;
	f->state = to;
	f->why = HFSM_WHY_NONE;
	f->last_change = now;
	f->transitions++;
	f->ramp_start = 0;
	if (up)
		f->ever_up = true;
	return up ? HFSM_WENT_UP : HFSM_WENT_DOWN;
}

void
hfsm_tick(struct hfsm *f, const struct hfsm_params *p, int64_t now)
{
	int64_t win = (int64_t)p->flap_window_ms;

	if (f->flaps > 0 && now - f->window_start >= win)
		f->flaps = 0;
	if (f->penalty > 1 && now - f->last_flip >= win &&
	    now - f->last_decay >= win) {
		f->penalty /= 2;
		f->last_decay = now;
	}
	if (f->ramp_start != 0 &&
	    now - f->ramp_start >= (int64_t)p->slowstart_ms)
		f->ramp_start = 0;
}

uint32_t
hfsm_ramp(const struct hfsm *f, const struct hfsm_params *p, int64_t now)
{
	int64_t		 el;
	uint64_t	 r;

	if (f->ramp_start == 0 || f->state != HFSM_UP || p->slowstart_ms == 0)
		return 0;
	el = now - f->ramp_start;
	if (el < 0)
		el = 0;
	if ((uint64_t)el >= p->slowstart_ms)
		return 0;
	r = (uint64_t)el * 1000 / p->slowstart_ms;
	return r < 1 ? 1 : (uint32_t)r;
}

uint32_t
hfsm_weight(const struct hfsm *f, const struct hfsm_params *p,
    uint32_t weight, int64_t now)
{
	int64_t		 el;
	uint64_t	 w;

	if (weight == 0 || hfsm_ramp(f, p, now) == 0)
		return weight;
	el = now - f->ramp_start;
	if (el < 0)
		el = 0;
	w = 1 + (uint64_t)(weight - 1) * (uint64_t)el / p->slowstart_ms;
	return w > weight ? weight : (uint32_t)w;
}
