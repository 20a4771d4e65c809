/*
 * health_fsm.h - the health state of one server as a pure function of
 * check results, passive error counts and time.
 *
 * No I/O and no clock: every call takes `now` (monotonic ms), so the unit
 * tests drive it with injected time.  The master's checker (health.c)
 * owns one struct hfsm per server and copies what operators should see
 * into the shared table.
 *
 * Rules:
 *   - rise/fall: `fall` consecutive failed checks take an up server down;
 *     rise x penalty consecutive passed checks bring a down server up.  A
 *     server that has never been up (initial "down") needs one pass.
 *   - passive: `observe_errors` consecutive failed connects seen by the
 *     workers take an up server down (0 = off).
 *   - flap damping: a state change that makes more than `flap_limit`
 *     changes within the current `flap_window` doubles the penalty, up to
 *     HFSM_PENALTY_MAX.  The penalty halves after each flap_window during
 *     which the check results did not change (neither pass after fail nor
 *     fail after pass): a backend that keeps alternating never earns it
 *     back, a backend that is steadily up or down does.
 *   - slow start: a down -> up change of a server that has been up before
 *     starts a ramp; for `slowstart` ms the effective weight grows
 *     linearly from 1 to the configured weight.
 */
#ifndef LB_HEALTH_FSM_H
#define LB_HEALTH_FSM_H

#include <stdbool.h>
#include <stdint.h>

#define HFSM_PENALTY_MAX	8	/* rise multiplier cap: 1, 2, 4, 8 */

/* The settings the state machine needs (a subset of struct conf_health). */
struct hfsm_params {
	uint32_t	rise;		/* >= 1 */
	uint32_t	fall;		/* >= 1 */
	uint32_t	observe_errors;	/* 0 = passive detection off */
	uint64_t	slowstart_ms;	/* 0 = off */
	uint32_t	flap_limit;	/* 0 = damping off */
	uint64_t	flap_window_ms;	/* >= 1 */
};

enum hfsm_state {
	HFSM_UP = 0,
	HFSM_DOWN = 1,
};

/* What a call did to the state. */
enum hfsm_change {
	HFSM_SAME = 0,
	HFSM_WENT_UP = 1,
	HFSM_WENT_DOWN = 2,
};

/* Why the last change happened (for the log line). */
enum hfsm_why {
	HFSM_WHY_NONE = 0,
	HFSM_WHY_CHECKS = 1,	/* rise or fall checks */
	HFSM_WHY_FIRST = 2,	/* first passed check of a new server */
	HFSM_WHY_PASSIVE = 3,	/* observe_errors failed connects */
};

struct hfsm {
	enum hfsm_state	state;
	enum hfsm_why	why;
	bool		ever_up;	/* has been up at least once */
	bool		last_ok;	/* result of the previous check */
	bool		any_check;	/* at least one check seen */
	uint32_t	succ;		/* consecutive passed checks */
	uint32_t	fail;		/* consecutive failed checks */
	uint32_t	flaps;		/* changes in the current window */
	uint32_t	penalty;	/* 1, 2, 4 .. HFSM_PENALTY_MAX */
	uint32_t	transitions;	/* every change, for operators */
	int64_t		window_start;	/* flap window began, monotonic ms */
	int64_t		last_flip;	/* check result last changed */
	int64_t		last_decay;	/* penalty last halved */
	int64_t		last_change;	/* state last changed */
	int64_t		ramp_start;	/* slow start began; 0 = none */
};

/* Starts a server in `up` (initial policy) at `now`. */
void	hfsm_init(struct hfsm *f, bool up, int64_t now);
/* One active check result.  Returns what changed. */
enum hfsm_change hfsm_check(struct hfsm *f, const struct hfsm_params *p,
	    bool ok, int64_t now);
/*
 * The workers' count of consecutive failed connects.  Takes an up server
 * down when it reaches observe_errors.  Returns what changed.
 */
enum hfsm_change hfsm_passive(struct hfsm *f, const struct hfsm_params *p,
	    uint32_t consec_failures, int64_t now);
/*
 * Forces a state without counting a flap (operator policy, e.g. checks
 * switched off by a reload).  Returns what changed.
 */
enum hfsm_change hfsm_force(struct hfsm *f, bool up, int64_t now);
/* Time passing: ends an expired flap window, decays the penalty. */
void	hfsm_tick(struct hfsm *f, const struct hfsm_params *p, int64_t now);
/* Checks a down server needs to come up now (rise x penalty, or 1). */
uint32_t hfsm_need(const struct hfsm *f, const struct hfsm_params *p);
/*
 * Slow-start progress in 1..999 permille while ramping, 0 when not
 * ramping (full weight).
 */
uint32_t hfsm_ramp(const struct hfsm *f, const struct hfsm_params *p,
	    int64_t now);
/*
 * Effective weight for configured `weight` at `now`: ramps linearly from
 * 1 to weight during slow start; 0 stays 0.
 */
uint32_t hfsm_weight(const struct hfsm *f, const struct hfsm_params *p,
	    uint32_t weight, int64_t now);

#endif
