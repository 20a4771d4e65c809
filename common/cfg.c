/*
 * cfg.c - helpers shared by the lbd and lb-failoverd config loaders:
 * duration syntax, error collection, and a pre-scan of the source text
 * for what libconfig 1.5 gets silently wrong.
 *
 * Everything here is pure (no I/O, no logging) so it can be unit-tested
 * and fuzzed; callers decide how to report.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cfg.h"
#include "log.h"

/* Longest user string echoed back in a message, before escaping. */
#define CFG_ECHO_MAX	64

struct cfg_unit {
	const char	*name;
	uint64_t	 ms;
};

static const struct cfg_unit cfg_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
};

/*
 * Parses "<digits><unit>" into milliseconds.  The digits are read by hand
 * (not strtoull) so that a sign, spaces or a fraction are syntax errors
 * rather than something strtoull quietly accepts.
 */
int
cfg_duration_parse(const char *s, uint64_t *ms)
{
	uint64_t	 n = 0;
	const char	*p;
	size_t		 i;

	if (s == NULL || !isdigit((unsigned char)*s)) {
		errno = EINVAL;
		return -1;
	}
	for (p = s; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + d;
	}
	for (i = 0; i < sizeof(cfg_units) / sizeof(cfg_units[0]); i++) {
		if (strcmp(p, cfg_units[i].name) != 0)
			continue;
		if (n > UINT64_MAX / cfg_units[i].ms) {
			errno = ERANGE;
			return -1;
		}
		*ms = n * cfg_units[i].ms;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/*
 * Reads a duration setting: an int or int64 is milliseconds, a string
 * goes through cfg_duration_parse().  `why` gets text that reads well
 * after the setting's quoted name ("'idle' must not be negative").
 */
int
cfg_duration_setting(const config_setting_t *s, uint64_t *ms, char *why,
    size_t whylen)
{
	char		 esc[CFG_ECHO_MAX * 4 + 1];
	const char	*str;
	long long	 v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v < 0) {
			snprintf(why, whylen, "must not be negative");
			return -1;
		}
		*ms = (uint64_t)v;
		return 0;
	case CONFIG_TYPE_STRING:
		str = config_setting_get_string(s);
		if (cfg_duration_parse(str, ms) == 0)
			return 0;
		log_escape(esc, sizeof(esc), str, strnlen(str, CFG_ECHO_MAX));
		if (errno == ERANGE)
			snprintf(why, whylen, "has a duration too large: \"%s\"",
			    esc);
		else
			snprintf(why, whylen, "has a bad duration \"%s\" "
			    "(expected digits and a unit: ms, s, m or h)", esc);
		return -1;
	default:
		snprintf(why, whylen, "must be a duration (milliseconds, or a "
		    "string like \"3s\")");
		return -1;
	}
}

/*
 * Appends "file:line: message".  Any allocation failure drops the message
 * silently: callers that must know whether something went wrong count
 * their errors themselves.
 */
void
cfg_error(struct cfg_errors *e, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 body[1024];
	char	*msg, **nmsg;
	size_t	 ncap, len;
	int	 n;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (e->n == e->cap) {
		ncap = e->cap ? e->cap * 2 : 8;
		nmsg = realloc(e->msg, ncap * sizeof(*nmsg));
		if (nmsg == NULL)
			return;
		e->msg = nmsg;
		e->cap = ncap;
	}
	len = strlen(file ? file : "?") + strlen(body) + 32;
	if ((msg = malloc(len)) == NULL)
		return;
	snprintf(msg, len, "%s:%d: %s", file ? file : "?", line, body);
	e->msg[e->n++] = msg;
}

void
cfg_errors_free(struct cfg_errors *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = e->cap = 0;
}

/*
 * Checks one number token of the source (not NUL-terminated: `len`
 * bytes).  libconfig 1.5 stores a plain integer literal in 32 bits and
 * silently truncates it (4294967297 reads as 1), so any plain literal
 * outside int32 is an error; an "L" literal saturates, so one outside
 * int64 is too.  Floats and malformed tokens are libconfig's business.
 * Returns 1 when the token is a problem, else 0.
 */
static int
cfg_scan_number(const char *tok, size_t len)
{
	char		 buf[128];
	char		*end;
	long long	 v;
	int		 hex, is64 = 0;
	size_t		 body;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;	/* still out of range if all digits */
	memcpy(buf, tok, len);
	buf[len] = '\0';
	body = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
	hex = buf[body] == '0' && (buf[body + 1] == 'x' || buf[body + 1] == 'X');
	if (!hex && strpbrk(buf, ".eE") != NULL)
		return 0;
	while (len > 0 && buf[len - 1] == 'L') {
		buf[--len] = '\0';
		is64 = 1;
	}
	errno = 0;
	v = strtoll(buf, &end, hex ? 16 : 10);
	if (end == buf || *end != '\0')
		return 0;
	if (errno == ERANGE)
		return 1;
	return !is64 && (v > INT32_MAX || v < INT32_MIN);
}

/* Length of the number token at `p` (at most `left` bytes). */
static size_t
cfg_scan_number_len(const char *p, size_t left)
{
	size_t	i = 0;
	int	hex;

	if (p[0] == '-' || p[0] == '+')
		i++;
	hex = i + 1 < left && p[i] == '0' && (p[i + 1] == 'x' || p[i + 1] == 'X');
	for (; i < left; i++) {
		unsigned char c = (unsigned char)p[i];

		if (isalnum(c) || c == '.')
			continue;
		if ((c == '-' || c == '+') && !hex && (p[i - 1] == 'e' ||
		    p[i - 1] == 'E'))
			continue;
		break;
	}
	return i;
}

/*
 * Skips a comment starting at text[i], counting newlines into *line.
 * Returns the index just past it, or `i` if there is none here.
 */
static size_t
cfg_scan_comment(const char *text, size_t len, size_t i, int *line)
{
	size_t j;

	if (text[i] == '#' || (text[i] == '/' && i + 1 < len &&
	    text[i + 1] == '/')) {
		for (j = i; j < len && text[j] != '\n'; j++)
			;
		return j;
	}
	if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
		for (j = i + 2; j < len; j++) {
			if (text[j] == '\n')
				(*line)++;
			else if (text[j] == '*' && j + 1 < len &&
			    text[j + 1] == '/')
				return j + 2;
		}
		return len;
	}
	return i;
}

/*
 * Bounds on the shape of a file.  libconfig 1.5 checks each new member of
 * a group against all the others (quadratic: a 4 MiB file of "aN=1;"
 * takes minutes), so a group's size is capped far above any real config.
 */
#define CFG_MAX_DEPTH		64
#define CFG_MAX_MEMBERS		1024

/* Scan state: where a string literal may stand depends on context. */
struct cfg_scan {
	int		 line;
	int		 prev;	/* last non-blank token character, 0 at start */
	size_t		 depth;	/* open brackets; open[0] is the root group */
	char		 open[CFG_MAX_DEPTH + 1];	/* '{', '(' or '[' */
	unsigned	 members[CFG_MAX_DEPTH + 1];	/* settings in a group */
	bool		 too_deep, too_wide;		/* reported once */
};

/*
 * Tracks brackets (so a ',' can be told apart in a list and a group) and
 * the members of each group.  Returns -1 with a message in `e` when the
 * file is too deep or a group too wide to hand to libconfig, else 0.
 */
static int
cfg_scan_bracket(struct cfg_scan *st, int c, const char *file,
    struct cfg_errors *e)
{
	if (st->too_deep)
		return 0;	/* no longer tracked: libconfig never sees it */
	if (c == '{' || c == '(' || c == '[') {
		if (st->depth >= CFG_MAX_DEPTH) {
			st->too_deep = true;
			cfg_error(e, file, st->line, "nested more than %d "
			    "levels deep", CFG_MAX_DEPTH);
			return -1;
		}
		st->depth++;
		st->open[st->depth] = (char)c;
		st->members[st->depth] = 0;
	} else if ((c == '}' || c == ')' || c == ']') && st->depth > 0) {
		st->depth--;
	} else if ((c == '=' || c == ':') && st->open[st->depth] == '{' &&
	    ++st->members[st->depth] > CFG_MAX_MEMBERS && !st->too_wide) {
		st->too_wide = true;
		cfg_error(e, file, st->line, "more than %d settings in one "
		    "group", CFG_MAX_MEMBERS);
		return -1;
	}
	return 0;
}

/*
 * May a string literal stand here?  After '=', ':', '(', '[' or another
 * string, and after ',' inside a list or array.  Elsewhere (a name's
 * place, after ';', a ',' ending a group member, '{') it is the token
 * that breaks the parse.
 */
static bool
cfg_scan_string_ok(const struct cfg_scan *st)
{
	char top = st->open[st->depth];

	if (st->prev == ',')
		return top == '(' || top == '[';
	return st->prev != 0 && strchr("=:([\"", st->prev) != NULL;
}

/*
 * Skips the string literal at text[i] (a '"'), counting newlines; returns
 * the index just past it.  A string that may not stand here is the token
 * that breaks the parse, and libconfig 1.5 then leaks its copy of it.  So
 * when `fix` (a copy of the text) is given, such a string is overwritten
 * there with '@' and blanks (newlines kept): the same syntax error on the
 * same line, nothing allocated.
 */
static size_t
cfg_scan_string(const char *text, size_t len, size_t i, struct cfg_scan *st,
    char *fix)
{
	size_t	j;
	bool	defuse = fix != NULL && !cfg_scan_string_ok(st);

	for (j = i + 1; j < len && text[j] != '"'; j++) {
		if (text[j] == '\n')
			st->line++;
		else if (text[j] == '\\' && j + 1 < len && text[j + 1] != '\n')
			j++;
	}
	if (j < len)
		j++;
	if (defuse) {
		memset(fix + i, ' ', j - i);
		fix[i] = '@';
		for (; i < j; i++)
			if (text[i] == '\n')
				fix[i] = '\n';
	}
	return j;
}

/* Does a number token start at text[i]? */
static int
cfg_scan_is_number(const char *text, size_t len, size_t i)
{
	unsigned char c = (unsigned char)text[i];
	unsigned char n = i + 1 < len ? (unsigned char)text[i + 1] : 0;

	return isdigit(c) || ((c == '-' || c == '+' || c == '.') && isdigit(n));
}

/* Skips a name ([A-Za-z*][-A-Za-z0-9_*]*) at text[i]. */
static size_t
cfg_scan_name(const char *text, size_t len, size_t i)
{
	while (i < len && (isalnum((unsigned char)text[i]) ||
	    text[i] == '-' || text[i] == '_' || text[i] == '*'))
		i++;
	return i;
}

/*
 * Walks libconfig source like its scanner does (comments, strings,
 * names, numbers) and reports what libconfig itself would accept
 * silently or act on dangerously.  See cfg.h.
 */
size_t
cfg_scan_text_fix(const char *text, size_t len, const char *file,
    struct cfg_errors *e, int *noparse, char *fix)
{
	struct cfg_scan	 st = { .line = 1, .open = { '{' } };
	size_t		 i = 0, n, problems = 0;

	*noparse = 0;
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if ((n = cfg_scan_comment(text, len, i, &st.line)) != i) {
			i = n;
			continue;
		}
		if (c == '\0') {
			cfg_error(e, file, st.line, "NUL byte in the file");
			*noparse = 1;
			return problems + 1;
		}
		if (c == '\n')
			st.line++;
		if (c == '@' && len - i >= 8 && memcmp(text + i, "@include",
		    8) == 0) {
			cfg_error(e, file, st.line, "@include is not supported: "
			    "the configuration is one file");
			*noparse = 1;
			problems++;
		}
		if (c == '"') {
			i = cfg_scan_string(text, len, i, &st, fix);
		} else if (isalpha(c) || c == '*') {
			i = cfg_scan_name(text, len, i);
		} else if (cfg_scan_is_number(text, len, i)) {
			n = cfg_scan_number_len(text + i, len - i);
			if (cfg_scan_number(text + i, n)) {
				cfg_error(e, file, st.line, "integer %.*s is "
				    "out of range", (int)(n < 32 ? n : 32),
				    text + i);
				problems++;
			}
			i += n;
		} else {
			if (cfg_scan_bracket(&st, c, file, e) == -1) {
				*noparse = 1;
				problems++;
			}
			i++;
		}
		if (!isspace(c))
			st.prev = c;
	}
	return problems;
}

size_t
cfg_scan_text(const char *text, size_t len, const char *file,
    struct cfg_errors *e, int *noparse)
{
	return cfg_scan_text_fix(text, len, file, e, noparse, NULL);
}
