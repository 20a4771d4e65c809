/*
 * agent.c - the lb-failoverd event loop: heartbeats in and out, the state
 * machine's actions (VIP, gratuitous ARP, resign), lbd tracking and
 * notify.  Runs in the daemon process.  The decisions are in vrrp.c;
 * this file only carries them out and says what happened.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "agent.h"
#include "clock.h"
#include "garp.h"
#include "log.h"
#include "packet.h"
#include "sd_notify.h"
#include "vip.h"

#define FO_RX_BURST	64	/* datagrams per wake-up, bounded */
#define FO_DROP_LOG_MS	5000	/* one log line per drop reason per 5 s */
#define FO_RESIGN_COUNT	3
#define FO_GARP_BURST	3
#define FO_ANSWER_GARP_MS 500	/* split-brain re-announce, at most every */
#define FO_VIP_RETRY_MS	5000	/* FAULT after a failed VIP add, then retry */

static void fo_agent_schedule(struct fo_agent *a);

/* Monotonic time in microseconds, for timer arithmetic finer than 1 ms. */
static int64_t
fo_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
fo_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
}

/*
 * Builds, signs and sends one heartbeat of `type` to every peer, stating
 * `state` and `prio`.  Failures are counted; the next advert retries.
 */
static void
fo_agent_send(struct fo_agent *a, enum pkt_type type, uint8_t state,
    uint8_t prio)
{
	struct fo_config *c = a->cfg;
	uint8_t		 buf[PKT_LEN];
	char		 who[ADDR_STRLEN];
	struct pkt	 p;

	memset(&p, 0, sizeof(p));
	p.type = (uint8_t)type;
	p.vrid = (uint8_t)c->vrid;
	p.priority = prio;
	p.state = state;
	p.flags = (a->lb_healthy ? PKT_F_LB_HEALTHY : 0) |
	    (c->preempt ? PKT_F_PREEMPT : 0);
	p.advert_ms = (uint16_t)c->advert_ms;
	p.node_id = c->node_id;
	p.key_id = a->key.id;
	memcpy(p.config_hash, c->config_hash, PKT_HASH_LEN);
	/*
	 * One sequence number per round: a peer reached over several paths
	 * takes the first copy and counts the others as duplicates.
	 */
	p.seq = pkt_seq_next(&a->seq_last, clock_wall_ms());
	pkt_encode(&p, buf);
	if (auth_sign(&a->key, (struct sockaddr *)&c->bind, p.vrid, buf) == -1) {
		a->tx_err++;
		return;
	}
	for (size_t i = 0; i < a->npeers; i++) {
		if (sendto(a->sock, buf, sizeof(buf), 0,
		    (struct sockaddr *)&c->peers[i], c->peer_len[i]) == -1) {
			if (a->tx_err++ % 100 == 0)
				log_warn("heartbeat to %s", addr_format(
				    (struct sockaddr *)&c->peers[i], who,
				    sizeof(who)));
			continue;
		}
		a->tx++;
	}
}

/* Sends `count` gratuitous ARPs for every VIP; errors logged, not fatal. */
static void
fo_agent_garp(struct fo_agent *a, int count)
{
	for (size_t v = 0; v < a->cfg->nvips; v++)
		for (int i = 0; i < count; i++) {
			if (garp_send(a->garp_fd, a->ifindex, a->mac,
			    a->cfg->vips[v].addr) == -1) {
				log_warn("gratuitous ARP for %s on %s",
				    a->cfg->vips[v].text, a->cfg->interface);
				break;
			}
			a->garps++;
		}
}

static void
fo_agent_garp2(evutil_socket_t fd, short what, void *arg)
{
	struct fo_agent *a = arg;

	if (a->vip_held)
		fo_agent_garp(a, FO_GARP_BURST);
}

/*
 * Adds or removes every VIP.  vip_held is true only when all were added:
 * status never claims an address we do not have.
 */
static void
fo_agent_vips(struct fo_agent *a, bool add)
{
	struct fo_config *c = a->cfg;
	int		 rc, failed = 0;

	for (size_t v = 0; v < c->nvips; v++) {
		rc = add ? vip_add(a->ifindex, &c->vips[v]) :
		    vip_del(a->ifindex, &c->vips[v]);
		if (rc == -1) {
			failed++;
			log_err("%s VIP %s on %s", add ? "adding" : "removing",
			    c->vips[v].text, c->interface);
		}
	}
	a->vip_held = add && failed == 0;
	if (!add)
		evtimer_del(a->ev_garp2);
}

/*
 * Carries out the state machine's actions in a safe order: tell the peer
 * we resign, drop the VIPs, then take them and announce them.
 */
static void
fo_agent_act(struct fo_agent *a, const struct vrrp_out *o, int64_t now)
{
	struct timeval	 one_s = { 1, 0 };

	if (o->actions & VRRP_A_RESIGN)
		for (int i = 0; i < FO_RESIGN_COUNT; i++)
			fo_agent_send(a, PKT_TYPE_RESIGN, (uint8_t)o->old, 0);
	if (o->actions & VRRP_A_VIP_DEL)
		fo_agent_vips(a, false);
	if (o->actions & VRRP_A_VIP_ADD) {
		fo_agent_vips(a, true);
		fo_agent_garp(a, FO_GARP_BURST);
		evtimer_add(a->ev_garp2, &one_s);
		a->last_answer_garp = now;
	} else if ((o->actions & VRRP_A_GARP) &&
	    now - a->last_answer_garp >= FO_ANSWER_GARP_MS) {
		fo_agent_garp(a, FO_GARP_BURST);
		a->last_answer_garp = now;
		if (now - a->split_logged >= FO_DROP_LOG_MS) {
			log_warnx("split brain: a lower-priority master is "
			    "active; advertising and re-announcing the VIPs");
			a->split_logged = now;
		}
	}
	if (o->actions & VRRP_A_ADVERT)
		fo_agent_send(a, PKT_TYPE_ADVERT, (uint8_t)a->vrrp.state,
		    vrrp_effective_priority(&a->vrrp));
}

/* Describes the peer heard most recently, for logs. */
static void
fo_agent_peer_desc(struct fo_agent *a, char *buf, size_t len, int64_t now)
{
	const struct fo_peer *p;
	char	 who[ADDR_STRLEN];

	if (a->last_peer < 0) {
		snprintf(buf, len, "peer never heard");
		return;
	}
	p = &a->peers[a->last_peer];
	snprintf(buf, len, "peer %s %s priority %u heard %lld ms ago",
	    addr_format((const struct sockaddr *)&p->addr, who, sizeof(who)),
	    vrrp_state_name(p->state), p->priority,
	    (long long)(now - p->last_heard));
}

/* One syslog line per transition, the notify hook, and systemd STATUS. */
static void
fo_agent_transition(struct fo_agent *a, const struct vrrp_out *o,
    const char *detail, int64_t now)
{
	char	 peer[160], st[160];
	const char *name = a->stopping ? "STOP" : vrrp_state_name(o->new);
	char	 reason[FO_NOTIFY_REASON];

	a->transitions++;
	snprintf(reason, sizeof(reason), "%s%s%s", o->reason ? o->reason : "",
	    detail ? ": " : "", detail ? detail : "");
	fo_agent_peer_desc(a, peer, sizeof(peer), now);
	log_notice("state %s -> %s: %s; priority %u (effective %u); %s",
	    vrrp_state_name(o->old), vrrp_state_name(o->new), reason,
	    a->cfg->priority, vrrp_effective_priority(&a->vrrp), peer);
	fo_notify_push(&a->notify, name, vrrp_effective_priority(&a->vrrp),
	    reason);
	snprintf(st, sizeof(st), "STATUS=%s (%s)", vrrp_state_name(o->new),
	    reason);
	sd_notify_send(st);
}

/*
 * A master that could not add its VIPs serves nothing: it goes to FAULT
 * (resigning, so the peer takes over) and retries in FO_VIP_RETRY_MS.
 */
static void
fo_agent_vip_failed(struct fo_agent *a, int64_t now)
{
	struct timeval	 tv = { FO_VIP_RETRY_MS / 1000, 0 };
	struct vrrp_out	 o;

	vrrp_step(&a->vrrp, VRRP_EV_FAULT, NULL, now, &o);
	fo_agent_act(a, &o, now);
	o.reason = "cannot add the VIP";
	if (o.new != o.old)
		fo_agent_transition(a, &o, "retrying later", now);
	evtimer_add(a->ev_retry, &tv);
}

static void
fo_agent_retry(evutil_socket_t fd, short what, void *arg)
{
	struct fo_agent *a = arg;
	struct vrrp_out	 o;
	int64_t		 now = clock_mono_ms();

	if (a->vrrp.state != VRRP_FAULT || (a->tracked && !a->lb_healthy))
		return;
	vrrp_step(&a->vrrp, VRRP_EV_HEALTHY, NULL, now, &o);
	fo_agent_act(a, &o, now);
	o.reason = "retrying the VIP";
	if (o.new != o.old)
		fo_agent_transition(a, &o, NULL, now);
	fo_agent_schedule(a);
}

/* Feeds one event to the state machine and carries out the result. */
static void
fo_agent_event(struct fo_agent *a, enum vrrp_ev ev, const struct vrrp_peer *p,
    const char *detail)
{
	struct vrrp_out	 o;
	int64_t		 now = clock_mono_ms();

	vrrp_step(&a->vrrp, ev, p, now, &o);
	fo_agent_act(a, &o, now);
	if (o.new != o.old)
		fo_agent_transition(a, &o, detail, now);
	if ((o.actions & VRRP_A_VIP_ADD) && !a->vip_held)
		fo_agent_vip_failed(a, now);
	fo_agent_schedule(a);
}

/* Counts a dropped datagram; logs at most once per reason per 5 s. */
static void
fo_agent_drop(struct fo_agent *a, enum auth_result r,
    const struct sockaddr_storage *src, const struct pkt *p, int64_t now)
{
	char	 who[ADDR_STRLEN], why[96];

	a->drops[r]++;
	if (r == AUTH_DUPLICATE)
		return;		/* expected with several paths */
	if (now - a->drop_logged[r] < FO_DROP_LOG_MS && a->drop_logged[r] != 0) {
		a->drop_unlogged[r]++;
		return;
	}
	addr_format((const struct sockaddr *)src, who, sizeof(who));
	if (r == AUTH_ERR_CONFIG_HASH)
		log_err("CONFIG MISMATCH: peer %s signs with our key but its "
		    "vrid/advert_interval/down_adverts/vips differ; its "
		    "heartbeats are IGNORED until both configs agree "
		    "(%llu more since last report)", who,
		    (unsigned long long)a->drop_unlogged[r]);
	else {
		/* authentic but out of the window: most likely clock skew */
		if (r == AUTH_ERR_STALE)
			snprintf(why, sizeof(why), "stale: its clock is %lld ms "
			    "off ours, window %llu ms; check NTP",
			    (long long)(pkt_seq_time(p->seq) - clock_wall_ms()),
			    (unsigned long long)auth_window_ms(a->cfg->advert_ms));
		else
			snprintf(why, sizeof(why), "%s", auth_result_name(r));
		log_warnx("heartbeat from %s dropped: %s (%llu more since last "
		    "report)", who, why, (unsigned long long)a->drop_unlogged[r]);
	}
	a->drop_logged[r] = now;
	a->drop_unlogged[r] = 0;
}

/* Bookkeeping for an authentic heartbeat, then the state machine. */
static void
fo_agent_heard(struct fo_agent *a, int idx, const struct pkt *p, int64_t now)
{
	struct fo_peer	*peer = &a->peers[idx];
	struct vrrp_peer vp;
	bool		 was_master = peer->last_heard != -1 &&
	    peer->state == VRRP_MASTER;
	char		 who[ADDR_STRLEN];

	a->rx_ok++;
	peer->rx++;
	peer->last_heard = now;
	peer->state = p->type == PKT_TYPE_RESIGN ? VRRP_INIT : p->state;
	peer->priority = p->priority;
	peer->flags = p->flags;
	peer->node_id = p->node_id;
	a->last_peer = idx;
	if (a->standby_lost) {
		a->standby_lost = false;
		log_notice("peer %s heard again, redundancy restored",
		    addr_format((struct sockaddr *)&peer->addr, who, sizeof(who)));
	}
	vp.resign = p->type == PKT_TYPE_RESIGN;
	vp.priority = p->priority;
	vp.state = p->state;
	vp.node_id = p->node_id;
	fo_agent_event(a, VRRP_EV_PEER, &vp, NULL);
	/* a split brain healed: make sure neighbours follow us again */
	if (was_master && peer->state != VRRP_MASTER &&
	    a->vrrp.state == VRRP_MASTER && a->vip_held) {
		fo_agent_garp(a, FO_GARP_BURST);
		a->last_answer_garp = now;
	}
}

static int
fo_agent_find_peer(struct fo_agent *a, const struct sockaddr_storage *src)
{
	for (size_t i = 0; i < a->npeers; i++)
		if (fo_same_host(&a->peers[i].addr, src))
			return (int)i;
	return -1;
}

/*
 * Heartbeat socket readable: up to FO_RX_BURST datagrams, each checked by
 * auth_receive against the peer its source address belongs to.
 */
static void
fo_agent_rx(evutil_socket_t fd, short what, void *arg)
{
	struct fo_agent		*a = arg;
	struct auth_expect	 ex = { &a->key, (uint8_t)a->cfg->vrid,
	    auth_window_ms(a->cfg->advert_ms), a->cfg->config_hash };
	struct sockaddr_storage	 src;
	socklen_t		 sl;
	uint8_t			 buf[PKT_LEN + 1];
	enum auth_result	 r;
	struct pkt		 p;
	ssize_t			 n;
	int			 idx;

	for (int i = 0; i < FO_RX_BURST; i++) {
		sl = sizeof(src);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &sl);
		if (n == -1)
			return;		/* EAGAIN: drained */
		idx = fo_agent_find_peer(a, &src);
		r = auth_receive(&ex, buf, (size_t)n, (struct sockaddr *)&src,
		    idx < 0 ? NULL : &a->peers[idx].hwm, clock_wall_ms(), &p);
		if (r != AUTH_OK) {
			fo_agent_drop(a, r, &src, &p, clock_mono_ms());
			continue;
		}
		fo_agent_heard(a, idx, &p, clock_mono_ms());
	}
}

/* Master without a standby: say so once, and again when it is back. */
static void
fo_agent_check_standby(struct fo_agent *a, int64_t now)
{
	int64_t	 down = vrrp_master_down_ms(&a->vrrp.p), newest = -1;

	if (a->vrrp.state != VRRP_MASTER || a->standby_lost)
		return;
	for (size_t i = 0; i < a->npeers; i++)
		if (a->peers[i].last_heard > newest)
			newest = a->peers[i].last_heard;
	if (now - (newest == -1 ? a->started_ms : newest) <= down)
		return;
	a->standby_lost = true;
	log_warnx("standby lost, no redundancy: no heartbeat for %lld ms",
	    (long long)(newest == -1 ? now - a->started_ms : now - newest));
}

/* The state machine's deadline; says so when the host made us late. */
static void
fo_agent_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fo_agent	*a = arg;
	int64_t		 now = clock_mono_ms();

	if (now - a->timer_at > (int64_t)a->cfg->advert_ms) {
		a->late_timers++;
		log_warnx("timer fired %lld ms late (advert_interval %llu ms): "
		    "is the host overloaded?", (long long)(now - a->timer_at),
		    (unsigned long long)a->cfg->advert_ms);
	}
	a->timer_at = -1;
	fo_agent_check_standby(a, now);
	fo_agent_event(a, VRRP_EV_TIMER, NULL, NULL);
}

/* Arms the one timer for the state machine's earliest deadline. */
static void
fo_agent_schedule(struct fo_agent *a)
{
	int64_t		 at = vrrp_next_deadline(&a->vrrp), us;
	struct timeval	 tv;

	if (at == -1) {
		evtimer_del(a->ev_timer);
		a->timer_at = -1;
		return;
	}
	us = at * 1000 - fo_mono_us();
	if (us < 0)
		us = 0;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	a->timer_at = at;
	evtimer_add(a->ev_timer, &tv);
}

/* track.c's verdict changed: FAULT, or back to BACKUP. */
static void
fo_agent_lbd(void *arg, bool healthy, const char *reason)
{
	struct fo_agent *a = arg;

	a->lb_healthy = healthy;
	if (healthy)
		log_info("lbd healthy again (%s)", a->cfg->track_lbd);
	else
		log_warnx("%s", reason);
	fo_agent_event(a, healthy ? VRRP_EV_HEALTHY : VRRP_EV_FAULT, NULL, reason);
}

/*
 * SIGHUP: re-read the file and apply what can change without breaking
 * the peers' agreement (priority, preempt, notify, tracking hysteresis).
 * Anything else needs a restart; the old values stay and we say so.
 */
static void
fo_agent_reload(struct fo_agent *a)
{
	static struct fo_config	 n;	/* large; not on the stack */
	struct fo_config	*c = a->cfg;
	struct cfg_errors	 e = { 0 };

	sd_notify_send("RELOADING=1");
	if (fo_config_load(c->file, &n, &e) == -1) {
		for (size_t i = 0; i < e.n; i++)
			log_warnx("reload: %s", e.msg[i]);
		log_warnx("reload failed, keeping the running configuration");
		goto out;
	}
	if (memcmp(n.config_hash, c->config_hash, PKT_HASH_LEN) != 0 ||
	    memcmp(&n.bind, &c->bind, sizeof(n.bind)) != 0 ||
	    n.npeers != c->npeers || strcmp(n.interface, c->interface) != 0 ||
	    strcmp(n.track_lbd, c->track_lbd) != 0 ||
	    strcmp(n.auth_key_file, c->auth_key_file) != 0)
		log_warnx("reload: vrid, timers, VIPs, addresses, interface, "
		    "key or track_lbd changed: restart lb-failoverd to apply "
		    "those; applying the rest");
	c->priority = n.priority;
	c->preempt = n.preempt;
	c->preempt_delay_ms = n.preempt_delay_ms;
	a->vrrp.p.priority = (uint8_t)n.priority;
	a->vrrp.p.preempt = n.preempt;
	a->vrrp.p.preempt_delay_ms = (int64_t)n.preempt_delay_ms;
	snprintf(a->notify.path, sizeof(a->notify.path), "%s", n.notify);
	a->notify.timeout_ms = (int64_t)n.notify_timeout_ms;
	a->track.fall = n.track_fall;
	a->track.rise = n.track_rise;
	log_info("reloaded %s: priority %u, preempt %s", c->file, c->priority,
	    c->preempt ? "on" : "off");
out:
	cfg_errors_free(&e);
	sd_notify_send("READY=1");
}

/* SIGHUP reloads; SIGTERM/SIGINT resign, release and leave the loop. */
static void
fo_agent_signal(evutil_socket_t sig, short what, void *arg)
{
	struct fo_agent *a = arg;

	if (sig == SIGHUP) {
		fo_agent_reload(a);
		return;
	}
	if (a->stopping)
		return;
	log_info("signal %d: resigning and releasing the VIPs", (int)sig);
	sd_notify_send("STOPPING=1");
	a->stopping = true;
	fo_agent_event(a, VRRP_EV_STOP, NULL, NULL);
	event_base_loopexit(a->base, NULL);
}

int
fo_agent_release_vips(const struct fo_config *cfg, bool quiet)
{
	int	 ifindex, rc, failed = 0;

	if ((ifindex = (int)if_nametoindex(cfg->interface)) == 0) {
		log_warn("interface %s", cfg->interface);
		return -1;
	}
	for (size_t v = 0; v < cfg->nvips; v++) {
		if ((rc = vip_del(ifindex, &cfg->vips[v])) == -1) {
			log_err("removing VIP %s from %s", cfg->vips[v].text,
			    cfg->interface);
			failed++;
		} else if (rc == 1 || !quiet) {
			log_notice("VIP %s on %s: %s", cfg->vips[v].text,
			    cfg->interface, rc == 1 ? "removed (stale copy)" :
			    "not present");
		}
	}
	return failed ? -1 : 0;
}

/* Opens and binds the heartbeat socket. */
static int
fo_agent_socket(struct fo_agent *a)
{
	struct fo_config *c = a->cfg;
	char	 who[ADDR_STRLEN];
	int	 tos = 0xc0;	/* network control: queued ahead of bulk data */

	a->sock = socket(c->bind.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (a->sock == -1) {
		log_err("socket");
		return -1;
	}
	if (c->bind.ss_family == AF_INET)
		(void)setsockopt(a->sock, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	if (bind(a->sock, (struct sockaddr *)&c->bind, c->bind_len) == -1) {
		log_err("bind %s", addr_format((struct sockaddr *)&c->bind, who,
		    sizeof(who)));
		return -1;
	}
	return 0;
}

/* Creates the libevent events; -1 on allocation failure. */
static int
fo_agent_events(struct fo_agent *a)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

	a->ev_sock = event_new(a->base, a->sock, EV_READ | EV_PERSIST,
	    fo_agent_rx, a);
	a->ev_timer = evtimer_new(a->base, fo_agent_timer, a);
	a->ev_garp2 = evtimer_new(a->base, fo_agent_garp2, a);
	a->ev_retry = evtimer_new(a->base, fo_agent_retry, a);
	if (a->ev_sock == NULL || a->ev_timer == NULL || a->ev_garp2 == NULL ||
	    a->ev_retry == NULL ||
	    event_add(a->ev_sock, NULL) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((a->ev_sig[i] = evsignal_new(a->base, sigs[i],
		    fo_agent_signal, a)) == NULL ||
		    event_add(a->ev_sig[i], NULL) == -1)
			return -1;
	return 0;
}

static int
fo_agent_base(struct fo_agent *a)
{
	struct event_config *ec = event_config_new();

	if (ec == NULL)
		return -1;
	/* sub-millisecond timers: the default monotonic clock is coarse */
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	a->base = event_base_new_with_config(ec);
	event_config_free(ec);
	return a->base == NULL ? -1 : 0;
}

int
fo_agent_init(struct fo_agent *a, struct fo_config *c)
{
	struct vrrp_params vp = { (uint8_t)c->priority, c->node_id, c->preempt,
	    (int64_t)c->preempt_delay_ms, (int64_t)c->advert_ms,
	    c->down_adverts };
	char	 why[256];

	memset(a, 0, sizeof(*a));
	a->cfg = c;
	a->sock = a->garp_fd = -1;
	a->last_peer = -1;
	if (auth_key_load(c->auth_key_file, &a->key, why, sizeof(why)) == -1) {
		log_warnx("auth_key_file: %s", why);
		return -1;
	}
	if ((a->ifindex = (int)if_nametoindex(c->interface)) == 0 ||
	    garp_hwaddr(c->interface, a->mac) == -1) {
		log_err("interface %s", c->interface);
		return -1;
	}
	fo_agent_release_vips(c, true);
	if ((a->garp_fd = garp_open()) == -1) {
		log_err("AF_PACKET socket for gratuitous ARP (CAP_NET_RAW?)");
		return -1;
	}
	if (fo_agent_socket(a) == -1 || fo_agent_base(a) == -1)
		return -1;
	for (size_t i = 0; i < c->npeers; i++) {
		a->peers[i].addr = c->peers[i];
		a->peers[i].last_heard = -1;
	}
	a->npeers = c->npeers;
	vrrp_init(&a->vrrp, &vp);
	if (fo_agent_events(a) == -1 ||
	    fo_notify_init(&a->notify, a->base, c->notify,
	    (int64_t)c->notify_timeout_ms) == -1) {
		log_warnx("cannot set up the event loop");
		return -1;
	}
	return fo_ctl_open(a);
}

int
fo_agent_run(struct fo_agent *a)
{
	struct fo_config *c = a->cfg;

	a->started_ms = clock_mono_ms();
	a->tracked = c->track_lbd[0] != '\0';
	a->lb_healthy = !a->tracked;
	log_notice("lb-failoverd %s: vrid %u priority %u node %u, %zu VIP(s) "
	    "on %s, advert %llu ms, master down after %lld ms%s%s", LB_VERSION,
	    c->vrid, c->priority, c->node_id, c->nvips, c->interface,
	    (unsigned long long)c->advert_ms,
	    (long long)vrrp_master_down_ms(&a->vrrp.p),
	    a->tracked ? ", tracking " : "", a->tracked ? c->track_lbd : "");
	if (a->tracked) {
		fo_agent_event(a, VRRP_EV_FAULT, NULL, "lbd health not known yet");
		if (fo_track_start(&a->track, a->base, c->track_lbd,
		    (int64_t)c->track_interval_ms, (int64_t)c->track_timeout_ms,
		    c->track_fall, c->track_rise, fo_agent_lbd, a) == -1) {
			log_warnx("cannot start lbd tracking");
			return -1;
		}
	} else {
		fo_agent_event(a, VRRP_EV_START, NULL, NULL);
	}
	sd_notify_send("READY=1");
	event_base_dispatch(a->base);
	return 0;
}

void
fo_agent_free(struct fo_agent *a)
{
	if (a->base != NULL)
		fo_notify_drain_and_free(&a->notify, 2000);
	fo_track_stop(&a->track);
	fo_ctl_close(a);
	for (size_t i = 0; i < sizeof(a->ev_sig) / sizeof(a->ev_sig[0]); i++)
		if (a->ev_sig[i] != NULL)
			event_free(a->ev_sig[i]);
	if (a->ev_sock != NULL)
		event_free(a->ev_sock);
	if (a->ev_timer != NULL)
		event_free(a->ev_timer);
	if (a->ev_garp2 != NULL)
		event_free(a->ev_garp2);
	if (a->ev_retry != NULL)
		event_free(a->ev_retry);
	if (a->base != NULL)
		event_base_free(a->base);
	if (a->sock != -1)
		close(a->sock);
	if (a->garp_fd != -1)
		close(a->garp_fd);
	auth_key_free(&a->key);
	a->base = NULL;
}
