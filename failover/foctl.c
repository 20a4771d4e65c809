/*
 * foctl.c - lb-failoverd's control socket: the ctl_proto framing over a
 * unix stream socket, served from the agent's event loop.  Commands:
 * "status" (text or "json status"), "health", "help".  Read-only: the
 * socket can show the agent's state but never change it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "addr.h"
#include "agent.h"
#include "clock.h"
#include "ctl_proto.h"
#include "log.h"

#define FO_CTL_CLIENTS	16
#define FO_CTL_LINES	16	/* requests handled per read callback */

/* The peer to show as "the peer": the one heard most recently. */
static const struct fo_peer *
fo_ctl_peer(struct fo_agent *a)
{
	return a->last_peer < 0 ? NULL : &a->peers[a->last_peer];
}

static int64_t
fo_ctl_ago(const struct fo_peer *p, int64_t now)
{
	return p == NULL || p->last_heard == -1 ? -1 : now - p->last_heard;
}

static void
fo_ctl_json_peers(struct fo_agent *a, struct json_w *w, int64_t now)
{
	char	 who[ADDR_STRLEN];

	json_key(w, "peers");
	json_arr_begin(w);
	for (size_t i = 0; i < a->npeers; i++) {
		const struct fo_peer *p = &a->peers[i];

		json_obj_begin(w);
		json_kv_str(w, "address", addr_format(
		    (const struct sockaddr *)&p->addr, who, sizeof(who)));
		json_kv_str(w, "state", p->last_heard == -1 ? "UNKNOWN" :
		    vrrp_state_name(p->state));
		json_kv_int(w, "priority", p->priority);
		json_kv_uint(w, "node_id", p->node_id);
		json_kv_int(w, "last_heard_ms", fo_ctl_ago(p, now));
		json_kv_bool(w, "lb_healthy", (p->flags & PKT_F_LB_HEALTHY) != 0);
		json_kv_uint(w, "rx", p->rx);
		json_obj_end(w);
	}
	json_arr_end(w);
}

static void
fo_ctl_json_rest(struct fo_agent *a, struct json_w *w, int64_t now)
{
	json_key(w, "drops");
	json_obj_begin(w);
	for (int r = AUTH_OK + 1; r < AUTH_RESULT_MAX; r++)
		json_kv_uint(w, auth_result_name((enum auth_result)r), a->drops[r]);
	json_obj_end(w);
	json_key(w, "lbd");
	json_obj_begin(w);
	json_kv_bool(w, "tracked", a->tracked);
	json_kv_bool(w, "healthy", a->lb_healthy);
	json_kv_str(w, "socket", a->cfg->track_lbd);
	json_kv_uint(w, "checks", a->track.checks);
	json_kv_uint(w, "failures", a->track.failures);
	json_kv_str(w, "last_error", a->tracked ? a->track.reason : "");
	json_obj_end(w);
	json_key(w, "counters");
	json_obj_begin(w);
	json_kv_uint(w, "rx", a->rx_ok);
	json_kv_uint(w, "tx", a->tx);
	json_kv_uint(w, "tx_errors", a->tx_err);
	json_kv_uint(w, "garp", a->garps);
	json_kv_uint(w, "late_timers", a->late_timers);
	json_kv_uint(w, "transitions", a->transitions);
	json_kv_uint(w, "notify_runs", a->notify.runs);
	json_kv_uint(w, "notify_failures", a->notify.failures);
	json_obj_end(w);
	json_kv_int(w, "uptime_ms", now - a->started_ms);
}

static void
fo_ctl_json(struct fo_agent *a, struct ctl_buf *b, int64_t now)
{
	const struct fo_peer *p = fo_ctl_peer(a);
	struct json_w	 w;

	json_init(&w, b);
	json_obj_begin(&w);
	json_kv_str(&w, "state", vrrp_state_name(a->vrrp.state));
	json_kv_int(&w, "priority", a->vrrp.p.priority);
	json_kv_int(&w, "effective_priority", vrrp_effective_priority(&a->vrrp));
	json_kv_str(&w, "peer_state", p ? vrrp_state_name(p->state) : "UNKNOWN");
	json_kv_int(&w, "peer_last_heard_ms", fo_ctl_ago(p, now));
	json_kv_int(&w, "peer_priority", p ? p->priority : -1);
	json_kv_bool(&w, "vip_holder", a->vip_held);
	json_key(&w, "vips");
	json_arr_begin(&w);
	for (size_t i = 0; i < a->cfg->nvips; i++)
		json_str(&w, a->cfg->vips[i].text);
	json_arr_end(&w);
	json_kv_str(&w, "interface", a->cfg->interface);
	json_kv_int(&w, "vrid", a->cfg->vrid);
	json_kv_uint(&w, "node_id", a->cfg->node_id);
	json_kv_bool(&w, "preempt", a->vrrp.p.preempt);
	json_kv_int(&w, "advert_interval_ms", a->vrrp.p.advert_ms);
	json_kv_int(&w, "master_down_ms", vrrp_master_down_ms(&a->vrrp.p));
	fo_ctl_json_peers(a, &w, now);
	fo_ctl_json_rest(a, &w, now);
	json_obj_end(&w);
	ctl_buf_append(b, "\n", 1);
}

static void
fo_ctl_text(struct fo_agent *a, struct ctl_buf *b, int64_t now)
{
	char	 who[ADDR_STRLEN];

	ctl_buf_printf(b, "state:        %s\n", vrrp_state_name(a->vrrp.state));
	ctl_buf_printf(b, "priority:     %u (effective %u), preempt %s\n",
	    a->vrrp.p.priority, vrrp_effective_priority(&a->vrrp),
	    a->vrrp.p.preempt ? "on" : "off");
	ctl_buf_printf(b, "vip holder:   %s\n", a->vip_held ? "yes" : "no");
	for (size_t i = 0; i < a->cfg->nvips; i++)
		ctl_buf_printf(b, "vip:          %s on %s\n",
		    a->cfg->vips[i].text, a->cfg->interface);
	for (size_t i = 0; i < a->npeers; i++) {
		const struct fo_peer *p = &a->peers[i];

		addr_format((const struct sockaddr *)&p->addr, who, sizeof(who));
		if (p->last_heard == -1)
			ctl_buf_printf(b, "peer:         %s never heard\n", who);
		else
			ctl_buf_printf(b, "peer:         %s %s priority %u, "
			    "last heard %lld ms ago\n", who,
			    vrrp_state_name(p->state), p->priority,
			    (long long)(now - p->last_heard));
	}
	ctl_buf_printf(b, "lbd:          %s\n", !a->tracked ? "not tracked" :
	    a->lb_healthy ? "healthy" : a->track.reason);
	ctl_buf_printf(b, "heartbeats:   %llu in, %llu out, %llu send errors\n",
	    (unsigned long long)a->rx_ok, (unsigned long long)a->tx,
	    (unsigned long long)a->tx_err);
	ctl_buf_printf(b, "drops:       ");
	for (int r = AUTH_OK + 1; r < AUTH_RESULT_MAX; r++)
		ctl_buf_printf(b, " %s=%llu", auth_result_name((enum auth_result)r),
		    (unsigned long long)a->drops[r]);
	ctl_buf_printf(b, "\n");
}

void
fo_ctl_status(struct fo_agent *a, struct ctl_buf *b, bool json)
{
	if (json)
		fo_ctl_json(a, b, clock_mono_ms());
	else
		fo_ctl_text(a, b, clock_mono_ms());
}

static void
fo_ctl_reply(struct bufferevent *bev, bool ok, const char *body, size_t len)
{
	char	 hdr[32];
	size_t	 n = ctl_reply_header(hdr, sizeof(hdr), ok, len);

	bufferevent_write(bev, hdr, n);
	bufferevent_write(bev, body, len);
}

/* Answers one request line. */
static void
fo_ctl_dispatch(struct fo_agent *a, struct bufferevent *bev, const char *line,
    size_t n)
{
	static const char help[] = "commands: status, json status, health, "
	    "help\n";
	struct ctl_request	 req;
	struct ctl_buf		 b;
	char			 why[128], msg[192];

	if (ctl_request_parse(line, n, &req, why, sizeof(why)) == -1) {
		n = (size_t)snprintf(msg, sizeof(msg), "%s\n", why);
		fo_ctl_reply(bev, false, msg, n);
		return;
	}
	if (strcmp(req.argv[0], "status") == 0 && req.argc == 1) {
		ctl_buf_init(&b);
		fo_ctl_status(a, &b, req.json);
		fo_ctl_reply(bev, true, b.data ? b.data : "", b.len);
		ctl_buf_free(&b);
	} else if (strcmp(req.argv[0], "health") == 0) {
		fo_ctl_reply(bev, true, "ok\n", 3);
	} else if (strcmp(req.argv[0], "help") == 0) {
		fo_ctl_reply(bev, true, help, sizeof(help) - 1);
	} else {
		n = (size_t)snprintf(msg, sizeof(msg), "unknown command \"%.64s\"; "
		    "try help\n", req.argv[0]);
		fo_ctl_reply(bev, false, msg, n);
	}
}

static void
fo_ctl_drop(struct bufferevent *bev, struct fo_agent *a)
{
	bufferevent_free(bev);
	a->ctl_clients--;
}

static void
fo_ctl_flushed(struct bufferevent *bev, void *arg)
{
	fo_ctl_drop(bev, arg);
}

static void
fo_ctl_read(struct bufferevent *bev, void *arg)
{
	struct fo_agent	*a = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 n;

	for (int i = 0; i < FO_CTL_LINES; i++) {
		if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) == NULL)
			break;
		fo_ctl_dispatch(a, bev, line, n);
		free(line);
	}
	if (evbuffer_get_length(in) > CTL_LINE_MAX) {
		static const char msg[] = "request line too long\n";

		fo_ctl_reply(bev, false, msg, sizeof(msg) - 1);
		bufferevent_disable(bev, EV_READ);
		bufferevent_setcb(bev, NULL, fo_ctl_flushed, NULL, a);
	}
}

static void
fo_ctl_event(struct bufferevent *bev, short what, void *arg)
{
	fo_ctl_drop(bev, arg);
}

static void
fo_ctl_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fo_agent		*a = arg;
	struct bufferevent	*bev;
	struct timeval		 tv = { 10, 0 };

	if (a->ctl_clients >= FO_CTL_CLIENTS ||
	    (bev = bufferevent_socket_new(a->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		return;
	}
	a->ctl_clients++;
	bufferevent_setcb(bev, fo_ctl_read, NULL, fo_ctl_event, a);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ);
}

/*
 * Is somebody already answering on `path`?  Then a second agent must
 * not steal the socket (nor, by implication, fight over the VIPs).
 */
static int
fo_ctl_in_use(const struct sockaddr_un *sun)
{
	int	 fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return rc;
}

int
fo_ctl_open(struct fo_agent *a)
{
	const char		*path = a->cfg->control_socket;
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (fo_ctl_in_use(&sun)) {
			log_warnx("control socket %s: another lb-failoverd is "
			    "running", path);
			return -1;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	old = umask(0117);	/* 0660: root and the lb group */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		close(fd);
		goto fail;
	}
	umask(old);
	if (listen(fd, 16) == -1 || (a->ctl = evconnlistener_new(a->base,
	    fo_ctl_accept, a, LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL) {
		close(fd);
		goto fail;
	}
	return 0;
fail:
	log_err("control socket %s", path);
	return -1;
}

void
fo_ctl_close(struct fo_agent *a)
{
	if (a->ctl == NULL)
		return;
	evconnlistener_free(a->ctl);
	a->ctl = NULL;
	unlink(a->cfg->control_socket);
}
