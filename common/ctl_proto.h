/*
 * ctl_proto.h - the control-socket protocol shared by lbd, lb-failoverd
 * and lbctl.  Pure code: framing, tokenising, JSON writing; no I/O.
 *
 * Request: one line, at most CTL_LINE_MAX bytes including '\n':
 *     [json ]COMMAND [ARG ...]\n
 * The "json " prefix asks for a JSON body instead of a text table.
 * Arguments are separated by spaces or tabs; no quoting.
 *
 * Reply: a header line "OK <len>\n" or "ERR <len>\n", then exactly <len>
 * bytes of body (len <= CTL_REPLY_MAX).  A text body ends with '\n'; an
 * ERR body is a human-readable message (may hold several lines, e.g. the
 * "FILE:LINE: message" errors of a failed reload).  The connection stays
 * open for the next command; lbctl sends one and closes.
 */
#ifndef LB_CTL_PROTO_H
#define LB_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX	1024
#define CTL_ARGS_MAX	16
#define CTL_REPLY_MAX	(4u << 20)

struct ctl_request {
	bool	 json;
	int	 argc;			/* >= 1: argv[0] is the command */
	char	*argv[CTL_ARGS_MAX];
	char	 buf[CTL_LINE_MAX];	/* argv points in here */
};

/*
 * Parses one request line (without or with its trailing '\n').  Returns 0,
 * or -1 with a reason in why (empty line, too long, too many args, control
 * characters).  Pure; used by servers and fuzzed.
 */
int ctl_request_parse(const char *line, size_t len, struct ctl_request *req,
    char *why, size_t whylen);

/* A growable output buffer, bounded by CTL_REPLY_MAX. */
struct ctl_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	bool	 overflow;	/* output was cut at CTL_REPLY_MAX */
};

void ctl_buf_init(struct ctl_buf *b);
void ctl_buf_free(struct ctl_buf *b);
void ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ctl_buf_append(struct ctl_buf *b, const void *p, size_t n);

/*
 * Minimal streaming JSON writer over a ctl_buf: it tracks nesting and
 * commas so callers cannot produce malformed output; strings are escaped
 * (quotes, backslash, control characters as \u00XX).
 */
struct json_w {
	struct ctl_buf	*b;
	int		 depth;
	bool		 need_comma[16];
};

void json_init(struct json_w *w, struct ctl_buf *b);
void json_obj_begin(struct json_w *w);		/* { */
void json_obj_end(struct json_w *w);		/* } */
void json_arr_begin(struct json_w *w);		/* [ */
void json_arr_end(struct json_w *w);		/* ] */
void json_key(struct json_w *w, const char *k);	/* "k": (inside objects) */
void json_str(struct json_w *w, const char *s);
void json_int(struct json_w *w, int64_t v);
void json_uint(struct json_w *w, uint64_t v);
void json_bool(struct json_w *w, bool v);
void json_null(struct json_w *w);
/* A number already formatted as JSON ("1.5", "-3"); caller vouches. */
void json_number(struct json_w *w, const char *num);
/* Shorthands: key + value. */
void json_kv_str(struct json_w *w, const char *k, const char *s);
void json_kv_int(struct json_w *w, const char *k, int64_t v);
void json_kv_uint(struct json_w *w, const char *k, uint64_t v);
void json_kv_bool(struct json_w *w, const char *k, bool v);

/* Writes "OK <len>\n" or "ERR <len>\n" into hdr (>= 32 bytes); its length. */
size_t ctl_reply_header(char *hdr, size_t hdrlen, bool ok, size_t bodylen);

/*
 * Client side: parses a reply header line.  Returns 0 and sets *ok and
 * *len, or -1 when malformed or len > CTL_REPLY_MAX.
 */
int ctl_reply_header_parse(const char *line, size_t n, bool *ok, size_t *len);

/*
 * Client side, blocking: connects to the unix socket `path`, sends `line`
 * (a '\n' is added), reads the framed reply into *body (malloc'd, NUL-
 * terminated) with a timeout of timeout_ms for the whole exchange.
 * Returns 1 for OK, 0 for ERR, -1 when the daemon could not be reached or
 * the reply was malformed (errno set; ETIMEDOUT on timeout).
 */
int ctl_call(const char *path, const char *line, int timeout_ms, char **body,
    size_t *bodylen);

#endif
