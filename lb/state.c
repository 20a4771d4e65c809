/*
 * state.c - the state file: runtime changes kept across reloads and
 * restarts.  See state.h for the format.  Master process only.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "shm.h"
#include "state.h"

#define STATE_MAX_BYTES		(4u << 20)	/* far above SHM_MAX_SERVERS lines */
#define STATE_MAX_ENTRIES	(2 * SHM_MAX_SERVERS)

static int
state_push(struct state *st, const struct state_entry *e)
{
	struct state_entry *ne;

	if (st->n >= STATE_MAX_ENTRIES) {
		errno = ENOSPC;
		return -1;
	}
	if ((ne = realloc(st->e, (st->n + 1) * sizeof(*ne))) == NULL)
		return -1;
	st->e = ne;
	st->e[st->n++] = *e;
	return 0;
}

static int
state_name(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n == 0 || n >= SHM_NAME_MAX || strchr(src, '/') != NULL)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Parses "key=value" with an unsigned value <= max into *out. */
static int
state_kv(const char *tok, const char *key, uint32_t max, uint32_t *out)
{
	size_t		 klen = strlen(key);
	char		*end;
	unsigned long	 v;

	if (strncmp(tok, key, klen) != 0 || tok[klen] != '=')
		return 0;
	errno = 0;
	v = strtoul(tok + klen + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == tok + klen + 1 || v > max)
		return -1;
	*out = (uint32_t)v;
	return 1;
}

static int
state_admin(const char *tok, uint32_t *out)
{
	static const char *const names[] = { "ready", "drain", "maint" };
	uint32_t i;

	if (strncmp(tok, "admin=", 6) != 0)
		return 0;
	for (i = 0; i < 3; i++)
		if (strcmp(tok + 6, names[i]) == 0) {
			*out = i;
			return 1;
		}
	return -1;
}

/* Reads the key=value options after the fixed fields. 0, or -1 if bad. */
static int
state_opts(char **tok, int ntok, struct state_entry *e)
{
	uint32_t	b = 0;
	int		i, r;

	for (i = 0; i < ntok; i++) {
		if ((r = state_admin(tok[i], &e->admin)) == 0 &&
		    (r = state_kv(tok[i], "weight", 256, &e->weight)) == 0 &&
		    (r = state_kv(tok[i], "cfgweight", 256, &e->cfgweight)) == 0 &&
		    (r = state_kv(tok[i], "maxconn", UINT32_MAX, &e->maxconn)) == 0 &&
		    (r = state_kv(tok[i], "backup", 1, &b)) == 0)
			return -1;	/* unknown key */
		if (r == -1)
			return -1;
	}
	e->backup = b != 0;
	return 0;
}

/* Parses one non-comment line split into tokens.  0, or -1 if bad. */
static int
state_line(char **tok, int ntok, struct state_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->weight = e->cfgweight = 1;
	if (ntok < 3 || state_name(e->pool, tok[1]) == -1 ||
	    state_name(e->name, tok[2]) == -1)
		return -1;
	if (strcmp(tok[0], "removed") == 0 && ntok == 3) {
		e->kind = STATE_REMOVED;
		return 0;
	}
	if (strcmp(tok[0], "server") == 0) {
		e->kind = STATE_SERVER;
		return state_opts(tok + 3, ntok - 3, e);
	}
	if (strcmp(tok[0], "added") == 0 && ntok >= 4) {
		e->kind = STATE_ADDED;
		if (addr_parse(tok[3], &e->addr, &e->addrlen) == -1)
			return -1;
		return state_opts(tok + 4, ntok - 4, e);
	}
	return -1;
}

/* Splits `line` in place into at most `max` tokens; -1 if more. */
static int
state_tokens(char *line, char **tok, int max)
{
	char	*save, *p;
	int	 n = 0;

	for (p = strtok_r(line, " \t\r", &save); p != NULL;
	    p = strtok_r(NULL, " \t\r", &save)) {
		if (n == max)
			return -1;
		tok[n++] = p;
	}
	return n;
}

int
state_parse(const char *text, size_t len, struct state *st, size_t *nbad,
    int *firstbad)
{
	struct state_entry	 e;
	char			 line[512], *tok[12];
	size_t			 off = 0, n;
	int			 lineno = 0, ntok;

	memset(st, 0, sizeof(*st));
	*nbad = 0;
	*firstbad = 0;
	for (; off < len; off += n + 1) {
		const char *nl = memchr(text + off, '\n', len - off);

		n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		lineno++;
		ntok = -1;
		if (n < sizeof(line)) {
			memcpy(line, text + off, n);
			line[n] = '\0';
			ntok = state_tokens(line, tok, 12);
		}
		if (ntok == 0 || (ntok > 0 && tok[0][0] == '#'))
			continue;
		if (ntok > 0 && state_line(tok, ntok, &e) == 0) {
			if (state_push(st, &e) == -1)
				return -1;
			continue;
		}
		if ((*nbad)++ == 0)
			*firstbad = lineno;
	}
	return 0;
}

int
state_load(const char *path, struct state *st, size_t *nbad, int *firstbad)
{
	char		*buf;
	struct stat	 sb;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd, saved;

	memset(st, 0, sizeof(*st));
	*nbad = 0;
	*firstbad = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > (off_t)STATE_MAX_BYTES) {
		saved = errno ? errno : EINVAL;
		close(fd);
		errno = saved;
		return -1;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)sb.st_size &&
	    (r = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	r = state_parse(buf, got, st, nbad, firstbad);
	free(buf);
	return (int)r;
}

void
state_free(struct state *st)
{
	free(st->e);
	st->e = NULL;
	st->n = 0;
}

bool
state_is_added(const struct state *st, const char *pool, const char *name)
{
	size_t i;

	for (i = 0; st != NULL && i < st->n; i++)
		if (st->e[i].kind == STATE_ADDED &&
		    strcmp(st->e[i].pool, pool) == 0 &&
		    strcmp(st->e[i].name, name) == 0)
			return true;
	return false;
}

static const struct conf_pool *
state_conf_pool(const struct conf *c, const char *pool)
{
	uint32_t i;

	for (i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].name, pool) == 0)
			return &c->pools[i];
	return NULL;
}

static const struct conf_server *
state_conf_server(const struct conf *c, const char *pool, const char *name)
{
	const struct conf_pool	*cp = state_conf_pool(c, pool);
	uint32_t		 i;

	for (i = 0; cp != NULL && i < cp->nservers; i++)
		if (strcmp(cp->servers[i].name, name) == 0)
			return &cp->servers[i];
	return NULL;
}

/* Captures one in-use table server that differs from the config. */
static int
state_capture_server(const struct shm_server *s, const struct conf *c,
    struct state *st)
{
	const struct conf_server	*cs;
	struct state_entry		 e;

	memset(&e, 0, sizeof(e));
	memcpy(e.pool, s->pool, sizeof(e.pool));
	memcpy(e.name, s->name, sizeof(e.name));
	e.admin = atomic_load(&s->admin);
	e.weight = atomic_load(&s->weight);
	if ((cs = state_conf_server(c, s->pool, s->name)) == NULL) {
		e.kind = STATE_ADDED;
		memcpy(&e.addr, &s->addr, s->addrlen);
		e.addrlen = s->addrlen;
		e.maxconn = atomic_load(&s->maxconn);
		e.backup = s->backup != 0;
		return state_push(st, &e);
	}
	if (e.admin == SHM_ADMIN_READY && e.weight == cs->weight)
		return 0;
	e.kind = STATE_SERVER;
	e.cfgweight = cs->weight;
	return state_push(st, &e);
}

int
state_capture(const struct shm_table *t, const struct conf *c,
    struct state *st)
{
	struct state_entry	 e;
	uint32_t		 i, k;
	int			 pidx;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < SHM_MAX_SERVERS; i++) {
		if (!atomic_load(&t->servers[i].in_use))
			continue;
		if (state_capture_server(&t->servers[i], c, st) == -1)
			return -1;
	}
	for (i = 0; i < c->npools; i++) {
		pidx = shm_pool_find(t, c->pools[i].name);
		for (k = 0; k < c->pools[i].nservers; k++) {
			if (pidx != -1 && shm_server_find(t, (uint32_t)pidx,
			    c->pools[i].servers[k].name) != -1)
				continue;
			memset(&e, 0, sizeof(e));
			e.kind = STATE_REMOVED;
			memcpy(e.pool, c->pools[i].name, sizeof(e.pool));
			memcpy(e.name, c->pools[i].servers[k].name,
			    sizeof(e.name));
			if (state_push(st, &e) == -1)
				return -1;
		}
	}
	return 0;
}

char *
state_format(const struct state *st, size_t *len)
{
	static const char *const admin[] = { "ready", "drain", "maint" };
	char		*buf, a[ADDR_STRLEN];
	size_t		 cap = 128 + st->n * 256, off = 0, i;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	off += (size_t)snprintf(buf, cap, "# lbd state: runtime changes, "
	    "written by lbd (see lbd.conf(5) state_file)\n");
	for (i = 0; i < st->n; i++) {
		const struct state_entry *e = &st->e[i];
		const char *ad = admin[e->admin < 3 ? e->admin : 0];

		if (e->kind == STATE_REMOVED)
			off += (size_t)snprintf(buf + off, cap - off,
			    "removed %s %s\n", e->pool, e->name);
		else if (e->kind == STATE_SERVER)
			off += (size_t)snprintf(buf + off, cap - off,
			    "server %s %s admin=%s weight=%u cfgweight=%u\n",
			    e->pool, e->name, ad, e->weight, e->cfgweight);
		else
			off += (size_t)snprintf(buf + off, cap - off,
			    "added %s %s %s weight=%u maxconn=%u backup=%d "
			    "admin=%s\n", e->pool, e->name,
			    addr_format((const struct sockaddr *)&e->addr, a,
			    sizeof(a)), e->weight, e->maxconn, e->backup, ad);
	}
	*len = off;
	return buf;
}

int
state_save(const char *path, const struct state *st)
{
	char	 tmp[4200], dir[4200], *text;
	size_t	 len, done = 0;
	ssize_t	 w;
	int	 fd, dfd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((text = state_format(st, &len)) == NULL)
		return -1;
	(void)unlink(tmp);	/* a stale temp file, never followed */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd == -1)
		goto fail;
	while (done < len && (w = write(fd, text + done, len - done)) > 0)
		done += (size_t)w;
	if (done != len || fsync(fd) == -1 || close(fd) == -1) {
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		goto fail;
	}
	if (rename(tmp, path) == -1)
		goto fail;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(text);
	return 0;
fail:
	saved = errno;
	free(text);
	errno = saved;
	return -1;
}

/* Applies one entry.  1 applied, 0 skipped; busy removals noted. */
static int
state_apply_one(const struct state_entry *e, struct shm_table *t,
    const struct conf *c, uint32_t *busy, size_t nbusy_max, size_t *nbusy)
{
	const struct conf_server	*cs;
	int				 pidx, sidx;

	if ((pidx = shm_pool_find(t, e->pool)) == -1)
		return 0;
	sidx = shm_server_find(t, (uint32_t)pidx, e->name);
	cs = state_conf_server(c, e->pool, e->name);
	if (e->kind == STATE_ADDED) {
		if (cs != NULL)
			return 0;	/* the config has it now: config wins */
		if (sidx == -1 && (sidx = shm_server_add(t, (uint32_t)pidx,
		    e->name, (const struct sockaddr *)&e->addr, e->addrlen,
		    e->weight, e->maxconn, e->backup)) == -1)
			return 0;
		atomic_store(&t->servers[sidx].admin, e->admin);
		return 1;
	}
	if (sidx == -1 || cs == NULL)
		return 0;
	if (e->kind == STATE_REMOVED) {
		atomic_store(&t->servers[sidx].admin, SHM_ADMIN_MAINT);
		if (shm_server_remove(t, (uint32_t)sidx) == -1 &&
		    *nbusy < nbusy_max)
			busy[(*nbusy)++] = (uint32_t)sidx;
		return 1;
	}
	atomic_store(&t->servers[sidx].admin, e->admin);
	if (cs->weight == e->cfgweight) {
		atomic_store(&t->servers[sidx].weight, e->weight);
		atomic_store(&t->servers[sidx].eff_weight, e->weight);
	}
	return 1;
}

size_t
state_apply(const struct state *st, struct shm_table *t,
    const struct conf *c, size_t *nskipped, uint32_t *busy,
    size_t nbusy_max, size_t *nbusy)
{
	size_t i, applied = 0;

	*nskipped = 0;
	*nbusy = 0;
	for (i = 0; i < st->n; i++) {
		if (state_apply_one(&st->e[i], t, c, busy, nbusy_max, nbusy))
			applied++;
		else
			(*nskipped)++;
	}
	return applied;
}

uint64_t
state_fingerprint(const struct shm_table *t)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */
	uint32_t	i, v[5];
	size_t		k;

	for (i = 0; i < SHM_MAX_SERVERS; i++) {
		const struct shm_server *s = &t->servers[i];

		v[0] = atomic_load(&s->in_use);
		if (v[0] == 0)
			continue;
		v[1] = i;
		v[2] = atomic_load(&s->admin);
		v[3] = atomic_load(&s->weight);
		v[4] = atomic_load(&s->maxconn);
		for (k = 0; k < sizeof(v); k++) {
			h ^= ((const unsigned char *)v)[k];
			h *= 1099511628211ULL;
		}
	}
	return h;
}
