/*
 * agent.h - the lb-failoverd runtime: one libevent loop that owns the
 * heartbeat socket, the state machine, the VIPs, lbd tracking, the
 * notify hook and the control socket.  Runs in the daemon process only.
 */
#ifndef LB_AGENT_H
#define LB_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "auth.h"
#include "focfg.h"
#include "notify.h"
#include "track.h"
#include "vrrp.h"

struct fo_peer {
	struct sockaddr_storage	 addr;
	uint64_t		 hwm;		/* replay high-water mark */
	int64_t			 last_heard;	/* mono ms, -1 = never */
	uint8_t			 state;
	uint8_t			 priority;
	uint8_t			 flags;
	uint32_t		 node_id;
	uint64_t		 rx;
};

struct fo_agent {
	struct fo_config	*cfg;
	struct event_base	*base;
	struct auth_key		 key;
	struct vrrp		 vrrp;
	int			 sock;		/* UDP heartbeats */
	int			 garp_fd;
	int			 ifindex;
	uint8_t			 mac[6];
	struct event		*ev_sock;
	struct event		*ev_timer;
	struct event		*ev_garp2;	/* second GARP burst at +1 s */
	struct event		*ev_retry;	/* leave FAULT after a VIP error */
	struct event		*ev_sig[4];
	struct evconnlistener	*ctl;
	unsigned		 ctl_clients;
	int64_t			 timer_at;	/* mono ms the timer is set for */

	struct fo_peer		 peers[FO_PEERS_MAX];
	size_t			 npeers;
	int			 last_peer;	/* index heard most recently */
	uint64_t		 seq_last;
	bool			 vip_held;
	bool			 tracked;
	bool			 lb_healthy;
	bool			 standby_lost;
	bool			 stopping;
	int64_t			 started_ms;
	int64_t			 last_answer_garp;
	int64_t			 split_logged;
	uint64_t		 transitions;

	uint64_t		 rx_ok;
	uint64_t		 tx;
	uint64_t		 tx_err;
	uint64_t		 garps;
	uint64_t		 late_timers;
	uint64_t		 drops[AUTH_RESULT_MAX];
	int64_t			 drop_logged[AUTH_RESULT_MAX];	/* mono ms */
	uint64_t		 drop_unlogged[AUTH_RESULT_MAX];

	struct fo_track		 track;
	struct fo_notify	 notify;
};

/*
 * Sets everything up: key, sockets, stale-VIP removal, tracking, notify,
 * control socket.  Returns 0, or -1 after logging why.
 */
int fo_agent_init(struct fo_agent *a, struct fo_config *cfg);

/* Runs until SIGTERM/SIGINT: resigns, releases the VIPs.  Returns 0. */
int fo_agent_run(struct fo_agent *a);

void fo_agent_free(struct fo_agent *a);

/* Removes every configured VIP (start-up and --release-vips). */
int fo_agent_release_vips(const struct fo_config *cfg, bool quiet);

/* Control socket (foctl.c). */
int fo_ctl_open(struct fo_agent *a);
void fo_ctl_close(struct fo_agent *a);
struct ctl_buf;
void fo_ctl_status(struct fo_agent *a, struct ctl_buf *b, bool json);

#endif
