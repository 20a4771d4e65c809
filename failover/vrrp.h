/*
 * vrrp.h - the failover state machine, pure: a function of (state,
 * event, now) that returns the new state and the actions the caller must
 * carry out (send, add or remove the VIP, announce it).  No I/O, no
 * clock reads, no logging, so it runs under a fake clock in tests.
 *
 * Times are CLOCK_MONOTONIC milliseconds supplied by the caller.  The
 * caller feeds VRRP_EV_TIMER whenever now >= vrrp_next_deadline().
 */
#ifndef LB_VRRP_H
#define LB_VRRP_H

#include <stdbool.h>
#include <stdint.h>

enum vrrp_state {
	VRRP_INIT = 0,
	VRRP_BACKUP,
	VRRP_MASTER,
	VRRP_FAULT,
	VRRP_STATE_MAX
};

enum vrrp_ev {
	VRRP_EV_START = 0,	/* agent up */
	VRRP_EV_TIMER,		/* a deadline passed */
	VRRP_EV_PEER,		/* authenticated heartbeat (advert or resign) */
	VRRP_EV_FAULT,		/* tracked lbd went unhealthy */
	VRRP_EV_HEALTHY,	/* tracked lbd healthy again */
	VRRP_EV_STOP		/* SIGTERM: resign and release */
};

/* Actions, a bit set in vrrp_out.actions. */
#define VRRP_A_ADVERT	0x01	/* send a heartbeat now */
#define VRRP_A_RESIGN	0x02	/* send resign (priority 0), 3 times */
#define VRRP_A_VIP_ADD	0x04
#define VRRP_A_VIP_DEL	0x08
#define VRRP_A_GARP	0x10	/* announce the VIPs (gratuitous ARP) */

struct vrrp_params {
	uint8_t		priority;	/* 1..254 */
	uint32_t	node_id;	/* tie-break: higher wins */
	bool		preempt;
	int64_t		preempt_delay_ms;
	int64_t		advert_ms;
	unsigned	down_adverts;
};

/* What a peer's heartbeat says (already authenticated). */
struct vrrp_peer {
	bool		resign;		/* PKT_TYPE_RESIGN */
	uint8_t		priority;
	uint8_t		state;		/* enum vrrp_state of the sender */
	uint32_t	node_id;
};

struct vrrp {
	struct vrrp_params p;
	enum vrrp_state	 state;
	int64_t		 t_advert;	/* next heartbeat; -1 = none */
	int64_t		 t_down;	/* master presumed down; -1 = none */
	int64_t		 t_preempt;	/* take over from a weaker master */
	bool		 down_by_resign;	/* t_down was armed by a resign */
};

struct vrrp_out {
	unsigned	 actions;
	enum vrrp_state	 old;
	enum vrrp_state	 new;		/* != old on a transition */
	const char	*reason;	/* static; why, or NULL */
};

void vrrp_init(struct vrrp *v, const struct vrrp_params *p);

/*
 * Runs one event.  `peer` is read for VRRP_EV_PEER only (may be NULL
 * otherwise).  Fills *out; the caller performs out->actions in the order
 * RESIGN, VIP_DEL, VIP_ADD, GARP, ADVERT (tell the peer first).
 */
void vrrp_step(struct vrrp *v, enum vrrp_ev ev, const struct vrrp_peer *peer,
    int64_t now, struct vrrp_out *out);

/* Earliest pending deadline, or -1 when none. */
int64_t vrrp_next_deadline(const struct vrrp *v);

/* Skew_Time = (256 - priority) * advert / 256 (RFC 5798 6.1), in ms. */
int64_t vrrp_skew_ms(const struct vrrp_params *p);
/* Master_Down_Interval = down_adverts * advert + skew, in ms. */
int64_t vrrp_master_down_ms(const struct vrrp_params *p);
/* Priority we advertise: 0 in FAULT/INIT, else the configured one. */
uint8_t vrrp_effective_priority(const struct vrrp *v);

const char *vrrp_state_name(enum vrrp_state s);	/* "MASTER", ... */

#endif
