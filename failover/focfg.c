/*
 * focfg.c - lb-failoverd configuration loading and validation.
 *
 * Every setting goes through one table (fo_keys) naming its handler, so
 * an unknown key, a wrong type or an out-of-range value each get one
 * "FILE:LINE: message" and loading goes on to report the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "addr.h"
#include "auth.h"
#include "focfg.h"
#include "log.h"

#define FO_FILE_MAX	(1u << 20)

struct fo_load {
	struct fo_config	*c;
	struct cfg_errors	*e;
	const char		*file;
};

#define ERR(ld, s, ...) \
	cfg_error((ld)->e, (ld)->file, config_setting_source_line(s), __VA_ARGS__)

/* Integer setting within [min, max]; 0 or -1 (error recorded). */
static int
fo_get_uint(struct fo_load *ld, const config_setting_t *s, long long min,
    long long max, unsigned *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		ERR(ld, s, "%s must be an integer", config_setting_name(s));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		ERR(ld, s, "%s must be %lld..%lld, not %lld",
		    config_setting_name(s), min, max, v);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
fo_get_bool(struct fo_load *ld, const config_setting_t *s, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		ERR(ld, s, "%s must be true or false", config_setting_name(s));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* String setting that fits `size` (with NUL); `abs` requires a '/' first. */
static int
fo_get_str(struct fo_load *ld, const config_setting_t *s, char *out,
    size_t size, bool abs)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERR(ld, s, "%s must be a string", config_setting_name(s));
		return -1;
	}
	v = config_setting_get_string(s);
	if (*v == '\0' || strlen(v) >= size) {
		ERR(ld, s, "%s must be 1..%zu characters", config_setting_name(s),
		    size - 1);
		return -1;
	}
	if (abs && v[0] != '/') {
		ERR(ld, s, "%s must be an absolute path", config_setting_name(s));
		return -1;
	}
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int
fo_get_dur(struct fo_load *ld, const config_setting_t *s, uint64_t min,
    uint64_t max, uint64_t *out)
{
	char	 why[160];

	if (cfg_duration_setting(s, out, why, sizeof(why)) == -1) {
		ERR(ld, s, "%s %s", config_setting_name(s), why);
		return -1;
	}
	if (*out < min || *out > max) {
		ERR(ld, s, "%s must be %llums..%llums", config_setting_name(s),
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

/* "IP:PORT" (port required) string element into ss/len. */
static int
fo_get_addr(struct fo_load *ld, const config_setting_t *s, const char *what,
    struct sockaddr_storage *ss, socklen_t *len)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERR(ld, s, "%s must be a string \"IP:PORT\"", what);
		return -1;
	}
	v = config_setting_get_string(s);
	if (addr_parse(v, ss, len) == -1 || addr_port((struct sockaddr *)ss) == 0) {
		ERR(ld, s, "%s: bad address \"%.64s\" (want IP:PORT, no names)",
		    what, v);
		return -1;
	}
	return 0;
}

static int
fo_k_vrid(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_uint(ld, s, 1, 255, &ld->c->vrid);
}

static int
fo_k_priority(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_uint(ld, s, 1, 254, &ld->c->priority);
}

static int
fo_k_preempt(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_bool(ld, s, &ld->c->preempt);
}

static int
fo_k_preempt_delay(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_dur(ld, s, 0, 3600 * 1000, &ld->c->preempt_delay_ms);
}

static int
fo_k_advert(struct fo_load *ld, const config_setting_t *s)
{
	/* 16 bits on the wire */
	return fo_get_dur(ld, s, 10, 65535, &ld->c->advert_ms);
}

static int
fo_k_down(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_uint(ld, s, 2, 255, &ld->c->down_adverts);
}

static int
fo_k_bind(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_addr(ld, s, "bind", &ld->c->bind, &ld->c->bind_len);
}

static int
fo_k_peers(struct fo_load *ld, const config_setting_t *s)
{
	struct fo_config *c = ld->c;
	int	 n = config_setting_length(s), rc = 0;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		ERR(ld, s, "peers must be an array of \"IP:PORT\" strings");
		return -1;
	}
	if (n < 1 || n > FO_PEERS_MAX) {
		ERR(ld, s, "peers must have 1..%d entries", FO_PEERS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (fo_get_addr(ld, config_setting_get_elem(s, (unsigned)i),
		    "peers", &c->peers[c->npeers], &c->peer_len[c->npeers]) == -1)
			rc = -1;
		else
			c->npeers++;
	}
	return rc;
}

static int
fo_k_interface(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_str(ld, s, ld->c->interface, sizeof(ld->c->interface),
	    false);
}

/* "A.B.C.D/N" (N 1..32; "/32" if absent) into *v. */
static int
fo_parse_vip(const char *s, struct fo_vip *v)
{
	char	 ip[INET_ADDRSTRLEN], *end;
	const char *slash = strchr(s, '/');
	size_t	 n = slash ? (size_t)(slash - s) : strlen(s);
	long	 p = 32;

	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &v->addr) != 1)
		return -1;
	if (slash != NULL) {
		errno = 0;
		p = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    p < 1 || p > 32)
			return -1;
	}
	v->prefix = (uint8_t)p;
	snprintf(v->text, sizeof(v->text), "%s/%ld", ip, p);
	return 0;
}

static int
fo_k_vips(struct fo_load *ld, const config_setting_t *s)
{
	struct fo_config *c = ld->c;
	int	 n = config_setting_length(s), rc = 0;

	if ((config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) || n < 1 ||
	    n > FO_VIPS_MAX) {
		ERR(ld, s, "vips must be an array of 1..%d \"IP/PREFIX\" strings",
		    FO_VIPS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (v == NULL || fo_parse_vip(v, &c->vips[c->nvips]) == -1) {
			ERR(ld, e, "vips: bad address \"%.64s\" (want IPv4 "
			    "\"A.B.C.D/PREFIX\")", v ? v : "(not a string)");
			rc = -1;
			continue;
		}
		for (size_t j = 0; j < c->nvips; j++)
			if (c->vips[j].addr.s_addr == c->vips[c->nvips].addr.s_addr) {
				ERR(ld, e, "vips: %s listed twice", v);
				rc = -1;
			}
		if (rc == 0)
			c->nvips++;
	}
	return rc;
}

static int
fo_k_key(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_str(ld, s, ld->c->auth_key_file,
	    sizeof(ld->c->auth_key_file), true);
}

static int
fo_k_track(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_str(ld, s, ld->c->track_lbd, sizeof(ld->c->track_lbd),
	    true);
}

static int
fo_k_track_interval(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_dur(ld, s, 10, 60000, &ld->c->track_interval_ms);
}

static int
fo_k_track_timeout(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_dur(ld, s, 5, 10000, &ld->c->track_timeout_ms);
}

static int
fo_k_track_fall(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_uint(ld, s, 1, 100, &ld->c->track_fall);
}

static int
fo_k_track_rise(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_uint(ld, s, 1, 100, &ld->c->track_rise);
}

static int
fo_k_notify(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_str(ld, s, ld->c->notify, sizeof(ld->c->notify), true);
}

static int
fo_k_notify_timeout(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_dur(ld, s, 100, 600000, &ld->c->notify_timeout_ms);
}

static int
fo_k_ctl(struct fo_load *ld, const config_setting_t *s)
{
	return fo_get_str(ld, s, ld->c->control_socket,
	    sizeof(ld->c->control_socket), true);
}

static int
fo_k_node_id(struct fo_load *ld, const config_setting_t *s)
{
	unsigned v;

	if (fo_get_uint(ld, s, 1, UINT32_MAX, &v) == -1)
		return -1;
	ld->c->node_id = v;
	return 0;
}

static int
fo_k_facility(struct fo_load *ld, const config_setting_t *s)
{
	char	 name[32];

	if (fo_get_str(ld, s, name, sizeof(name), false) == -1)
		return -1;
	if ((ld->c->log_facility = log_facility_lookup(name)) == -1) {
		ERR(ld, s, "log_facility: unknown facility \"%s\"", name);
		return -1;
	}
	return 0;
}

#define FO_REQ	0x1

static const struct fo_key {
	const char	*name;
	int		(*fn)(struct fo_load *, const config_setting_t *);
	int		 flags;
} fo_keys[] = {
	{ "vrid", fo_k_vrid, FO_REQ },
	{ "priority", fo_k_priority, FO_REQ },
	{ "preempt", fo_k_preempt, 0 },
	{ "preempt_delay", fo_k_preempt_delay, 0 },
	{ "advert_interval", fo_k_advert, 0 },
	{ "down_adverts", fo_k_down, 0 },
	{ "bind", fo_k_bind, FO_REQ },
	{ "peers", fo_k_peers, FO_REQ },
	{ "interface", fo_k_interface, FO_REQ },
	{ "vips", fo_k_vips, FO_REQ },
	{ "auth_key_file", fo_k_key, FO_REQ },
	{ "track_lbd", fo_k_track, 0 },
	{ "track_interval", fo_k_track_interval, 0 },
	{ "track_timeout", fo_k_track_timeout, 0 },
	{ "track_fall", fo_k_track_fall, 0 },
	{ "track_rise", fo_k_track_rise, 0 },
	{ "notify", fo_k_notify, 0 },
	{ "notify_timeout", fo_k_notify_timeout, 0 },
	{ "control_socket", fo_k_ctl, 0 },
	{ "node_id", fo_k_node_id, 0 },
	{ "log_facility", fo_k_facility, 0 },
};
#define FO_NKEYS (sizeof(fo_keys) / sizeof(fo_keys[0]))

static void
fo_defaults(struct fo_config *c, const char *file)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->file, sizeof(c->file), "%s", file);
	c->preempt = true;
	c->advert_ms = 100;
	c->down_adverts = 3;
	c->track_fall = 3;
	c->track_rise = 2;
	c->notify_timeout_ms = 10000;
	c->log_facility = LOG_DAEMON;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s",
	    FO_DEFAULT_CTL);
}

/*
 * Walks the failover group: each known key once, each unknown one an
 * error; then reports missing required keys at the group's line.
 */
static int
fo_walk(struct fo_load *ld, const config_setting_t *grp)
{
	int	 seen[FO_NKEYS] = { 0 }, rc = 0;
	int	 n = config_setting_length(grp);
	size_t	 k;

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);

		for (k = 0; k < FO_NKEYS; k++)
			if (strcmp(fo_keys[k].name, name) == 0)
				break;
		if (k == FO_NKEYS) {
			ERR(ld, s, "unknown setting \"failover.%s\"", name);
			rc = -1;
			continue;
		}
		seen[k] = 1;
		if (fo_keys[k].fn(ld, s) == -1)
			rc = -1;
	}
	for (k = 0; k < FO_NKEYS; k++)
		if ((fo_keys[k].flags & FO_REQ) && !seen[k]) {
			ERR(ld, grp, "failover.%s is required", fo_keys[k].name);
			rc = -1;
		}
	return rc;
}

/* Same address and port? */
static int
fo_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char	 x[ADDR_STRLEN], y[ADDR_STRLEN];

	addr_format((const struct sockaddr *)a, x, sizeof(x));
	addr_format((const struct sockaddr *)b, y, sizeof(y));
	return strcmp(x, y) == 0;
}

/*
 * Rules across settings.  `line` is the failover group's line.
 */
static int
fo_cross_check(struct fo_load *ld, int line)
{
	struct fo_config *c = ld->c;
	int	 rc = 0;

	for (size_t i = 0; i < c->npeers; i++) {
		for (size_t j = 0; j < i; j++)
			if (fo_same_addr(&c->peers[i], &c->peers[j])) {
				cfg_error(ld->e, ld->file, line, "peers[%zu] "
				    "repeats peers[%zu]", i, j);
				rc = -1;
			}
		if (c->peers[i].ss_family != c->bind.ss_family) {
			cfg_error(ld->e, ld->file, line, "peers[%zu] and bind "
			    "must be the same address family", i);
			rc = -1;
		} else if (fo_same_addr(&c->peers[i], &c->bind)) {
			cfg_error(ld->e, ld->file, line, "peers[%zu] is the "
			    "bind address itself", i);
			rc = -1;
		}
	}
	if ((c->bind.ss_family == AF_INET &&
	    ((struct sockaddr_in *)(void *)&c->bind)->sin_addr.s_addr ==
	    htonl(INADDR_ANY)) || (c->bind.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)(void *)
	    &c->bind)->sin6_addr))) {
		cfg_error(ld->e, ld->file, line, "bind must be a specific "
		    "address: it is the source the peers authenticate");
		rc = -1;
	}
	if (c->track_interval_ms == 0)
		c->track_interval_ms = c->advert_ms;
	if (c->track_timeout_ms == 0)
		c->track_timeout_ms = c->track_interval_ms / 2 < 5 ? 5 :
		    c->track_interval_ms / 2;
	if (c->track_timeout_ms >= c->track_interval_ms) {
		cfg_error(ld->e, ld->file, line, "track_timeout must be shorter "
		    "than track_interval (the check must never stall the agent)");
		rc = -1;
	}
	return rc;
}

static int
fo_vip_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Hash of what both peers must agree on: vrid, timers and VIPs (sorted,
 * so the order in the file does not matter).
 */
static int
fo_hash(struct fo_config *c)
{
	char		 canon[64 + FO_VIPS_MAX * 26];
	const char	*v[FO_VIPS_MAX];
	size_t		 off;

	for (size_t i = 0; i < c->nvips; i++)
		v[i] = c->vips[i].text;
	qsort(v, c->nvips, sizeof(v[0]), fo_vip_cmp);
	off = (size_t)snprintf(canon, sizeof(canon), "vrid=%u;advert=%llu;"
	    "down=%u;vips=", c->vrid, (unsigned long long)c->advert_ms,
	    c->down_adverts);
	for (size_t i = 0; i < c->nvips && off < sizeof(canon); i++)
		off += (size_t)snprintf(canon + off, sizeof(canon) - off, "%s,",
		    v[i]);
	return auth_config_hash(canon, c->config_hash);
}

/* Default node id: the IPv4 bind address, else a hash of it. */
static void
fo_default_node_id(struct fo_config *c)
{
	const struct sockaddr_in *sin = (const void *)&c->bind;
	uint8_t	 h[PKT_HASH_LEN];
	char	 a[ADDR_STRLEN];

	if (c->node_id != 0)
		return;
	if (c->bind.ss_family == AF_INET &&
	    sin->sin_addr.s_addr != htonl(INADDR_ANY)) {
		c->node_id = ntohl(sin->sin_addr.s_addr);
		return;
	}
	addr_format((const struct sockaddr *)&c->bind, a, sizeof(a));
	if (auth_config_hash(a, h) == 0)
		c->node_id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];
}

/* Reads the whole file (bounded) into a NUL-terminated malloc'd buffer. */
static char *
fo_slurp(const char *file, size_t *len, struct cfg_errors *errs)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(file, "re")) == NULL) {
		cfg_error(errs, file, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if ((buf = malloc(FO_FILE_MAX + 1)) == NULL) {
		fclose(f);
		cfg_error(errs, file, 0, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, FO_FILE_MAX + 1, f);
	fclose(f);
	if (n > FO_FILE_MAX) {
		free(buf);
		cfg_error(errs, file, 0, "file larger than %u bytes", FO_FILE_MAX);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * Parses the text and checks the top level: exactly one group named
 * "failover", nothing else.
 */
static int
fo_parse(struct fo_load *ld, config_t *cf, const char *text)
{
	config_setting_t *root, *grp = NULL;
	int	 rc = 0;

	if (config_read_string(cf, text) != CONFIG_TRUE) {
		cfg_error(ld->e, ld->file, config_error_line(cf), "%s",
		    config_error_text(cf));
		return -1;
	}
	root = config_root_setting(cf);
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned)i);

		if (strcmp(config_setting_name(s), "failover") == 0 &&
		    config_setting_is_group(s)) {
			grp = s;
			continue;
		}
		ERR(ld, s, "unknown top-level setting \"%s\" (only the "
		    "\"failover\" group)", config_setting_name(s));
		rc = -1;
	}
	if (grp == NULL) {
		cfg_error(ld->e, ld->file, 0, "missing group \"failover\"");
		return -1;
	}
	if (fo_walk(ld, grp) == -1)
		rc = -1;
	if (rc == 0 && fo_cross_check(ld, config_setting_source_line(grp)) == -1)
		rc = -1;
	return rc;
}

int
fo_config_load(const char *file, struct fo_config *c, struct cfg_errors *errs)
{
	struct fo_load	 ld = { c, errs, file };
	config_t	 cf;
	char		*text;
	size_t		 len = 0;
	int		 noparse, rc;

	fo_defaults(c, file);
	if ((text = fo_slurp(file, &len, errs)) == NULL)
		return -1;
	if (cfg_scan_text(text, len, file, errs, &noparse) > 0) {
		free(text);
		return -1;
	}
	config_init(&cf);
	rc = fo_parse(&ld, &cf, text);
	config_destroy(&cf);
	free(text);
	if (rc == 0 && fo_hash(c) == -1) {
		cfg_error(errs, file, 0, "cannot hash the configuration");
		rc = -1;
	}
	if (rc == 0)
		fo_default_node_id(c);
	return rc;
}
