/*
 * vrrp.c - the failover state machine (see vrrp.h).  Pure.
 *
 * BACKUP waits for the master-down deadline, re-armed by every advert of
 * a live master; a resign from the master shortens it to the skew, so the
 * best backup goes first.  MASTER yields to a stronger master and
 * answers a weaker one at once (advert + gratuitous ARP), which heals a
 * split brain in one exchange.  FAULT (lbd unhealthy) holds nothing.
 */
#include <stddef.h>

#include "vrrp.h"

static const char *const vrrp_names[VRRP_STATE_MAX] = {
	[VRRP_INIT] = "INIT",
	[VRRP_BACKUP] = "BACKUP",
	[VRRP_MASTER] = "MASTER",
	[VRRP_FAULT] = "FAULT",
};

const char *
vrrp_state_name(enum vrrp_state s)
{
	return (unsigned)s < VRRP_STATE_MAX ? vrrp_names[s] : "UNKNOWN";
}

int64_t
vrrp_skew_ms(const struct vrrp_params *p)
{
	return (256 - (int64_t)p->priority) * p->advert_ms / 256;
}

int64_t
vrrp_master_down_ms(const struct vrrp_params *p)
{
	return (int64_t)p->down_adverts * p->advert_ms + vrrp_skew_ms(p);
}

uint8_t
vrrp_effective_priority(const struct vrrp *v)
{
	if (v->state == VRRP_BACKUP || v->state == VRRP_MASTER)
		return v->p.priority;
	return 0;
}

void
vrrp_init(struct vrrp *v, const struct vrrp_params *p)
{
	v->p = *p;
	v->state = VRRP_INIT;
	v->t_advert = v->t_down = v->t_preempt = -1;
	v->down_by_resign = false;
}

int64_t
vrrp_next_deadline(const struct vrrp *v)
{
	int64_t	 t = -1;
	int64_t	 c[3] = { v->t_advert, v->t_down, v->t_preempt };

	for (int i = 0; i < 3; i++)
		if (c[i] != -1 && (t == -1 || c[i] < t))
			t = c[i];
	return t;
}

/* Does `peer` outrank us?  Priority, then node id. */
static bool
vrrp_peer_wins(const struct vrrp *v, const struct vrrp_peer *peer)
{
	uint8_t	 mine = vrrp_effective_priority(v);

	if (peer->priority != mine)
		return peer->priority > mine;
	return peer->node_id > v->p.node_id;
}

static void
vrrp_go(struct vrrp *v, struct vrrp_out *out, enum vrrp_state s,
    const char *reason)
{
	v->state = s;
	out->new = s;
	out->reason = reason;
}

static void
vrrp_to_master(struct vrrp *v, int64_t now, struct vrrp_out *out,
    const char *reason)
{
	vrrp_go(v, out, VRRP_MASTER, reason);
	out->actions |= VRRP_A_VIP_ADD | VRRP_A_GARP | VRRP_A_ADVERT;
	v->t_advert = now + v->p.advert_ms;
	v->t_down = v->t_preempt = -1;
}

static void
vrrp_to_backup(struct vrrp *v, int64_t now, struct vrrp_out *out,
    const char *reason)
{
	if (v->state == VRRP_MASTER)
		out->actions |= VRRP_A_VIP_DEL;
	vrrp_go(v, out, VRRP_BACKUP, reason);
	v->t_down = now + vrrp_master_down_ms(&v->p);
	v->t_preempt = -1;
	v->down_by_resign = false;
	if (v->t_advert == -1)
		v->t_advert = now;
}

/*
 * Deadlines that passed: become master, and/or send the heartbeat that
 * every state but INIT sends (the standby's lets the master know it has
 * redundancy).
 */
static void
vrrp_on_timer(struct vrrp *v, int64_t now, struct vrrp_out *out)
{
	if (v->state == VRRP_BACKUP && v->t_down != -1 && now >= v->t_down)
		vrrp_to_master(v, now, out, v->down_by_resign ?
		    "master resigned" : "master down");
	else if (v->state == VRRP_BACKUP && v->t_preempt != -1 &&
	    now >= v->t_preempt)
		vrrp_to_master(v, now, out, "preempting lower-priority master");
	if (v->t_advert != -1 && now >= v->t_advert) {
		out->actions |= VRRP_A_ADVERT;
		v->t_advert = now + v->p.advert_ms;
	}
}

/*
 * A backup hears the master.  A master that outranks us (or any master
 * without preempt) re-arms the down timer; a weaker one is preempted
 * after preempt_delay.
 */
static void
vrrp_backup_hears_master(struct vrrp *v, const struct vrrp_peer *peer,
    int64_t now, struct vrrp_out *out)
{
	v->t_down = now + vrrp_master_down_ms(&v->p);
	v->down_by_resign = false;
	if (!v->p.preempt || vrrp_peer_wins(v, peer)) {
		v->t_preempt = -1;
		return;
	}
	if (v->t_preempt == -1)
		v->t_preempt = now + v->p.preempt_delay_ms;
	if (now >= v->t_preempt)
		vrrp_to_master(v, now, out, "preempting lower-priority master");
}

static void
vrrp_on_peer(struct vrrp *v, const struct vrrp_peer *peer, int64_t now,
    struct vrrp_out *out)
{
	int64_t	 t;

	if (peer == NULL || peer->state != VRRP_MASTER)
		return;		/* only a master's heartbeat moves us */
	if (peer->resign) {
		if (v->state != VRRP_BACKUP)
			return;
		t = now + vrrp_skew_ms(&v->p);
		if (v->t_down == -1 || t < v->t_down) {
			v->t_down = t;
			v->down_by_resign = true;
		}
		v->t_preempt = -1;
		return;
	}
	if (v->state == VRRP_BACKUP) {
		vrrp_backup_hears_master(v, peer, now, out);
	} else if (v->state == VRRP_MASTER) {
		if (vrrp_peer_wins(v, peer)) {
			vrrp_to_backup(v, now, out, "higher-priority master");
		} else {
			/* split brain: assert ourselves right away */
			out->actions |= VRRP_A_ADVERT | VRRP_A_GARP;
			out->reason = "lower-priority master heard";
			v->t_advert = now + v->p.advert_ms;
		}
	}
}

static void
vrrp_to_fault_or_init(struct vrrp *v, enum vrrp_state s, struct vrrp_out *out,
    const char *reason)
{
	if (v->state == VRRP_MASTER)
		out->actions |= VRRP_A_VIP_DEL | VRRP_A_RESIGN;
	else if (v->state != VRRP_INIT && s == VRRP_FAULT)
		out->actions |= VRRP_A_ADVERT;	/* tell the peer at once */
	vrrp_go(v, out, s, reason);
	v->t_down = v->t_preempt = -1;
	if (s == VRRP_INIT)
		v->t_advert = -1;
}

void
vrrp_step(struct vrrp *v, enum vrrp_ev ev, const struct vrrp_peer *peer,
    int64_t now, struct vrrp_out *out)
{
	out->actions = 0;
	out->old = out->new = v->state;
	out->reason = NULL;
	switch (ev) {
	case VRRP_EV_START:
		if (v->state == VRRP_INIT)
			vrrp_to_backup(v, now, out, "started");
		break;
	case VRRP_EV_TIMER:
		vrrp_on_timer(v, now, out);
		break;
	case VRRP_EV_PEER:
		vrrp_on_peer(v, peer, now, out);
		break;
	case VRRP_EV_FAULT:
		if (v->state != VRRP_FAULT)
			vrrp_to_fault_or_init(v, VRRP_FAULT, out, "lbd unhealthy");
		if (v->t_advert == -1)
			v->t_advert = now;
		break;
	case VRRP_EV_HEALTHY:
		if (v->state == VRRP_FAULT)
			vrrp_to_backup(v, now, out, "lbd healthy");
		break;
	case VRRP_EV_STOP:
		if (v->state == VRRP_BACKUP || v->state == VRRP_FAULT)
			out->actions |= VRRP_A_RESIGN;
		vrrp_to_fault_or_init(v, VRRP_INIT, out, "stopping");
		break;
	}
}
