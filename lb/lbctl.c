/*
 * lbctl - the operator's command for lbd (and lb-failoverd).
 *
 *     lbctl [-s SOCKET] [--json] [-t SECONDS] COMMAND [ARGS]
 *     lbctl [-F SOCKET] [--json] failover [status]
 *
 * One request per run over the daemon's unix control socket (protocol in
 * common/ctl_proto.h).  Exit codes: 0 success, 1 the daemon reported an
 * error (its message on stderr), 2 usage error, 3 daemon unreachable.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl_proto.h"

#define LBCTL_SOCKET		"/run/lbd/lbd.sock"
#define LBCTL_FO_SOCKET		"/run/lb-failoverd/lb-failoverd.sock"
#define LBCTL_TIMEOUT_MS	10000
#define LBCTL_RELOAD_MS		60000	/* a reload starts new workers */
#define LBCTL_POLL_MS		200	/* drain --wait poll period */

enum lbctl_exit {
	LBCTL_OK = 0,
	LBCTL_ERR = 1,
	LBCTL_USAGE = 2,
	LBCTL_UNREACHABLE = 3,
};

struct lbctl_cmd {
	const char	*name;
	int		 min, max;	/* arguments after the command */
	const char	*usage;
	const char	*help;
};

static const struct lbctl_cmd lbctl_cmds[] = {
	{ "status", 0, 0, "status", "version, uptime, workers, connections" },
	{ "pools", 0, 0, "pools", "pools: algorithm, servers up, counters" },
	{ "servers", 0, 1, "servers [POOL]",
	  "servers: state, admin, weight, connections, bytes" },
	{ "workers", 0, 0, "workers", "worker processes" },
	{ "health", 0, 0, "health",
	  "exit 0 when workers run and every pool has a server up" },
	{ "metrics", 0, 0, "metrics", "counters in Prometheus text format" },
	{ "enable", 1, 1, "enable POOL/SERVER", "take new connections again" },
	{ "drain", 1, 1, "drain [--wait SECONDS] POOL/SERVER",
	  "no new connections; --wait: until active is 0" },
	{ "disable", 1, 1, "disable POOL/SERVER",
	  "maintenance: no traffic, no health checks" },
	{ "weight", 2, 2, "weight POOL/SERVER N", "set the weight, 0..256" },
	{ "add", 2, 7, "add POOL/SERVER ADDRESS [weight N] [maxconn N] [backup]",
	  "add a server at run time" },
	{ "remove", 1, 1, "remove POOL/SERVER",
	  "remove a server (drain it first)" },
	{ "reload", 0, 0, "reload", "re-read the config file" },
	{ "sticky", 0, 3, "sticky [POOL] | sticky show|clear POOL [ADDR]",
	  "sticky tables: entries, hits, misses, evictions; list or "
	  "forget clients" },
	{ "autoscale", 0, 1, "autoscale [POOL]",
	  "autoscaled pools: load over the window, bounds, cooldown, hook "
	  "running, last decisions" },
	{ "help", 0, 0, "help", "the daemon's own command list" },
	{ "failover", 0, 15, "failover [status]",
	  "ask lb-failoverd (socket -F) for its state" },
	{ NULL, 0, 0, NULL, NULL },
};

struct lbctl_opts {
	const char	*sock;
	const char	*fo_sock;
	bool		 json;
	int		 timeout_ms;
	long		 wait_s;	/* drain --wait, -1 = no wait */
};

static void
lbctl_usage(FILE *f)
{
	const struct lbctl_cmd *c;

	fprintf(f, "usage: lbctl [-s SOCKET] [-F SOCKET] [--json] "
	    "[-t SECONDS] COMMAND [ARGS]\n\n"
	    "  -s SOCKET   lbd's control socket (default: $LBCTL_SOCKET, "
	    "then %s)\n"
	    "  -F SOCKET   lb-failoverd's socket (default: "
	    "$LBCTL_FAILOVER_SOCKET,\n"
	    "              then %s)\n"
	    "  -j, --json  JSON output, for scripts\n"
	    "  -t SECONDS  give up waiting for the daemon after SECONDS "
	    "(default 10)\n"
	    "  -h, --help  this text\n\ncommands:\n", LBCTL_SOCKET,
	    LBCTL_FO_SOCKET);
	for (c = lbctl_cmds; c->name != NULL; c++) {
		if (strlen(c->usage) > 34)
			fprintf(f, "  %s\n  %-34s %s\n", c->usage, "", c->help);
		else
			fprintf(f, "  %-34s %s\n", c->usage, c->help);
	}
	fprintf(f, "\nexit status: 0 ok, 1 error reported by the daemon, "
	    "2 usage, 3 daemon unreachable\n");
}

/* Prints the usage to stderr with a reason; returns LBCTL_USAGE. */
static int lbctl_bad(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
lbctl_bad(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "lbctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	lbctl_usage(stderr);
	return LBCTL_USAGE;
}

/* A positive integer number of seconds, at most a day.  -1 if not. */
static long
lbctl_seconds(const char *s)
{
	char	*end;
	long	 v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 86400)
		return -1;
	return v;
}

/*
 * Joins argv into one request line (with "json " first when asked).
 * Returns 0, or -1 when an argument holds a space or control character
 * (it would change the request's words) or the line is too long.
 */
static int
lbctl_join(char *line, size_t len, bool json, int argc, char **argv)
{
	size_t	 n = 0, k;
	int	 i;
	const char *a;

	line[0] = '\0';
	if (json) {
		memcpy(line, "json", 5);
		n = 4;
	}
	for (i = 0; i < argc; i++) {
		for (a = argv[i]; *a != '\0'; a++)
			if ((unsigned char)*a <= ' ' || *a == 0x7f)
				return -1;
		k = strlen(argv[i]);
		if (k == 0 || n + k + 2 > len)
			return -1;
		if (n > 0)
			line[n++] = ' ';
		memcpy(line + n, argv[i], k + 1);
		n += k;
	}
	return 0;
}

/*
 * Sends one request.  OK: body to stdout (unless quiet), 0.  ERR: body
 * to stderr, 1.  Unreachable: a message naming the socket, 3.
 */
static int
lbctl_send(const char *path, const char *line, int timeout_ms, bool quiet,
    char **keep)
{
	char	*body = NULL;
	size_t	 len = 0;
	int	 rc;

	rc = ctl_call(path, line, timeout_ms, &body, &len);
	if (rc == -1) {
		fprintf(stderr, "lbctl: cannot reach the daemon at %s: %s\n",
		    path, errno == EPROTO ? "malformed reply" :
		    strerror(errno));
		return LBCTL_UNREACHABLE;
	}
	if (rc == 0) {
		fwrite(body, 1, len, stderr);
		if (len > 0 && body[len - 1] != '\n')
			fputc('\n', stderr);
		free(body);
		return LBCTL_ERR;
	}
	if (!quiet)
		fwrite(body, 1, len, stdout);
	if (keep != NULL)
		*keep = body;
	else
		free(body);
	return LBCTL_OK;
}

/* Copies a JSON string at p (after its opening quote) into out; end. */
static const char *
lbctl_json_string(const char *p, char *out, size_t len)
{
	size_t	 n = 0;

	while (*p != '\0' && *p != '"') {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (n + 1 < len)
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	return *p == '"' ? p + 1 : p;
}

/*
 * Finds the "active" count of server `name` in the array of objects
 * that `json servers POOL` returns.  A scanner, not a parser: it relies
 * on that reply being flat objects in one array.  Returns the count, or
 * -1 when the server is not listed.
 */
static long long
lbctl_find_active(const char *js, const char *name)
{
	char		 key[64] = "", str[64];
	const char	*p = js;
	char		*end;
	bool		 value = false, match = false;
	long long	 act = 0;
	int		 depth = 0;

	while (*p != '\0') {
		if (*p == '"') {
			p = lbctl_json_string(p + 1, str, sizeof(str));
			if (depth == 2 && !value)
				memcpy(key, str, sizeof(key));
			else if (depth == 2 && strcmp(key, "name") == 0)
				match = strcmp(str, name) == 0;
			value = false;
			continue;
		}
		if (depth == 2 && value && (*p == '-' || isdigit((unsigned
		    char)*p))) {
			if (strcmp(key, "active") == 0)
				act = strtoll(p, &end, 10);
			else
				strtoll(p, &end, 10);
			p = end;
			value = false;
			continue;
		}
		if (*p == ':')
			value = true;
		else if (*p == ',')
			value = false;
		else if (*p == '{' || *p == '[') {
			if (++depth == 2)
				match = false;
		} else if (*p == '}' || *p == ']') {
			if (depth-- == 2 && match)
				return act;
		}
		p++;
	}
	return -1;
}

/*
 * drain --wait: drains, then polls `json servers POOL` until the
 * server's active count is 0 (0), the time runs out (1), or the daemon
 * fails (its code).  A server that disappeared counts as drained.
 */
static int
lbctl_drain_wait(const struct lbctl_opts *o, const char *target)
{
	char		 line[CTL_LINE_MAX + 64], pool[CTL_LINE_MAX];
	const char	*slash = strchr(target, '/');
	char		*body;
	int64_t		 deadline;
	long long	 act;
	int		 rc;

	/* With --json only the final object is printed: one line of JSON. */
	snprintf(line, sizeof(line), "drain %s", target);
	if ((rc = lbctl_send(o->sock, line, o->timeout_ms, o->json, NULL)) != 0)
		return rc;
	if (slash == NULL)
		return LBCTL_ERR;	/* the daemon accepted it: cannot be */
	snprintf(pool, sizeof(pool), "%.*s", (int)(slash - target), target);
	/* Both fit: target came from a line under CTL_LINE_MAX. */
	snprintf(line, sizeof(line), "json servers %s", pool);
	deadline = clock_mono_ms() + o->wait_s * 1000;
	for (;;) {
		body = NULL;
		rc = lbctl_send(o->sock, line, o->timeout_ms, true, &body);
		if (rc != LBCTL_OK)
			return rc;
		act = lbctl_find_active(body, slash + 1);
		free(body);
		if (act <= 0) {
			if (o->json)
				printf("{\"ok\":true,\"pool\":\"%s\","
				    "\"server\":\"%s\",\"result\":"
				    "\"drained\",\"active\":0}\n", pool,
				    slash + 1);
			else
				printf("%s: drained, no active connection\n",
				    target);
			return LBCTL_OK;
		}
		if (clock_mono_ms() >= deadline)
			break;
		(void)poll(NULL, 0, LBCTL_POLL_MS);
	}
	fprintf(stderr, "lbctl: %s still has %lld active connection(s) after "
	    "%ld s\n", target, act, o->wait_s);
	return LBCTL_ERR;
}

/* The path from an option, then an environment variable, then a default. */
static const char *
lbctl_path(const char *opt, const char *env, const char *def)
{
	const char *e;

	if (opt != NULL)
		return opt;
	if ((e = getenv(env)) != NULL && *e != '\0')
		return e;
	return def;
}

/*
 * Global options before the command.  Returns the index of the command
 * word, or -1 (printed usage, exit code in *rc).
 */
static int
lbctl_options(int argc, char **argv, struct lbctl_opts *o, int *rc)
{
	const char	*a;
	long		 t;
	int		 i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			lbctl_usage(stdout);
			*rc = LBCTL_OK;
			return -1;
		}
		if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "-s") && strcmp(a, "-F") && strcmp(a, "-t")) {
			*rc = lbctl_bad("unknown option %s", a);
			return -1;
		}
		if (i + 1 >= argc) {
			*rc = lbctl_bad("%s needs a value", a);
			return -1;
		}
		if (a[1] == 's')
			o->sock = argv[++i];
		else if (a[1] == 'F')
			o->fo_sock = argv[++i];
		else if ((t = lbctl_seconds(argv[++i])) <= 0) {
			*rc = lbctl_bad("-t %s: expected seconds, 1..86400",
			    argv[i]);
			return -1;
		} else
			o->timeout_ms = (int)t * 1000;
	}
	return i;
}

/*
 * Takes "--wait SECONDS" out of drain's arguments (before or after the
 * target).  Returns the remaining count, or -1 (usage).
 */
static int
lbctl_drain_args(int argc, char **argv, struct lbctl_opts *o)
{
	int	 i, n = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--wait") == 0 || strcmp(argv[i], "-w") == 0) {
			if (i + 1 >= argc ||
			    (o->wait_s = lbctl_seconds(argv[i + 1])) == -1)
				return -1;
			i++;
			continue;
		}
		argv[n++] = argv[i];
	}
	return n;
}

int
main(int argc, char **argv)
{
	struct lbctl_opts	 o = { NULL, NULL, false, 0, -1 };
	const struct lbctl_cmd	*c;
	char			 line[CTL_LINE_MAX], *fo_status[] = { "status" };
	char			**args;
	int			 rc = 0, ci, nargs;

	if ((ci = lbctl_options(argc, argv, &o, &rc)) == -1)
		return rc;
	if (ci >= argc)
		return lbctl_bad("%s", "no command given");
	for (c = lbctl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, argv[ci]) == 0)
			break;
	if (c->name == NULL)
		return lbctl_bad("unknown command '%s'", argv[ci]);
	args = argv + ci + 1;
	nargs = argc - ci - 1;
	if (strcmp(c->name, "drain") == 0 &&
	    (nargs = lbctl_drain_args(nargs, args, &o)) == -1)
		return lbctl_bad("%s", "drain: --wait needs SECONDS (0..86400)");
	if (nargs < c->min || nargs > c->max)
		return lbctl_bad("usage: lbctl %s", c->usage);
	o.sock = lbctl_path(o.sock, "LBCTL_SOCKET", LBCTL_SOCKET);
	o.fo_sock = lbctl_path(o.fo_sock, "LBCTL_FAILOVER_SOCKET",
	    LBCTL_FO_SOCKET);
	if (o.timeout_ms == 0)
		o.timeout_ms = strcmp(c->name, "reload") == 0 ?
		    LBCTL_RELOAD_MS : LBCTL_TIMEOUT_MS;
	if (strcmp(c->name, "failover") == 0) {
		if (nargs == 0) {
			args = fo_status;
			nargs = 1;
		}
		if (lbctl_join(line, sizeof(line), o.json, nargs, args) == -1)
			return lbctl_bad("%s", "failover: bad arguments");
		return lbctl_send(o.fo_sock, line, o.timeout_ms, false, NULL);
	}
	if (lbctl_join(line, sizeof(line), o.json, nargs + 1, argv + ci) == -1)
		return lbctl_bad("%s", "arguments must be non-empty words "
		    "without spaces or control characters");
	if (o.wait_s >= 0)
		return lbctl_drain_wait(&o, args[0]);
	return lbctl_send(o.sock, line, o.timeout_ms, false, NULL);
}
