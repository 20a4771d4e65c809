/*
 * ctl_proto.c - the control-socket protocol: request tokenising, reply
 * framing, a bounded output buffer, a streaming JSON writer, and the
 * blocking client call used by lbctl and lb-failoverd.
 *
 * Everything except ctl_call() is pure (no I/O, no logging) so it can be
 * unit-tested and fuzzed.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "ctl_proto.h"

#define CTL_BUF_MIN	1024

/*
 * Sets the reason for a failed parse, when the caller gave room for one.
 */
static void
ctl_why(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
}

/*
 * Splits req->buf (NUL-terminated, no control characters) into argv on
 * spaces and tabs.  Returns the number of words, or -1 when there are more
 * than CTL_ARGS_MAX + 1 (one extra for a "json" prefix).
 */
static int
ctl_tokenise(char *s, char **words, int max)
{
	int	 n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return n;
		if (n == max)
			return -1;
		words[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

/*
 * Parses one request line.  A trailing "\n" (or "\r\n", for people typing
 * into socat) is dropped; the rest must fit CTL_LINE_MAX - 1 bytes and
 * hold no control character other than tab.  Returns 0 or -1 with `why`.
 */
int
ctl_request_parse(const char *line, size_t len, struct ctl_request *req,
    char *why, size_t whylen)
{
	char	*words[CTL_ARGS_MAX + 1];
	size_t	 i;
	int	 n, first;

	memset(req, 0, sizeof(*req));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= CTL_LINE_MAX) {
		ctl_why(why, whylen, "request line too long");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			ctl_why(why, whylen, "control character in request");
			return -1;
		}
	}
	memcpy(req->buf, line, len);
	req->buf[len] = '\0';
	n = ctl_tokenise(req->buf, words, CTL_ARGS_MAX + 1);
	first = (n > 0 && strcmp(words[0], "json") == 0) ? 1 : 0;
	if (n == -1 || n - first > CTL_ARGS_MAX) {
		ctl_why(why, whylen, "too many arguments");
		return -1;
	}
	if (n - first == 0) {
		ctl_why(why, whylen, "empty command");
		return -1;
	}
	req->json = first == 1;
	req->argc = n - first;
	memcpy(req->argv, words + first, (size_t)req->argc * sizeof(char *));
	return 0;
}

void
ctl_buf_init(struct ctl_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
ctl_buf_free(struct ctl_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * Makes room for `need` more bytes plus a NUL, doubling up to
 * CTL_REPLY_MAX + 1.  Returns the number of bytes that may be added (less
 * than `need` when the bound or memory runs out).
 */
static size_t
ctl_buf_reserve(struct ctl_buf *b, size_t need)
{
	size_t	 want, ncap;
	char	*p;

	if (need > CTL_REPLY_MAX - b->len)
		need = CTL_REPLY_MAX - b->len;
	want = b->len + need + 1;
	if (want <= b->cap)
		return need;
	ncap = b->cap < CTL_BUF_MIN ? CTL_BUF_MIN : b->cap;
	while (ncap < want)
		ncap *= 2;
	if (ncap > CTL_REPLY_MAX + 1)
		ncap = CTL_REPLY_MAX + 1;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return b->cap > b->len ? b->cap - b->len - 1 : 0;
	b->data = p;
	b->cap = ncap;
	return need;
}

/*
 * Appends n bytes.  What does not fit CTL_REPLY_MAX is dropped and
 * b->overflow set; the data stays NUL-terminated.
 */
void
ctl_buf_append(struct ctl_buf *b, const void *p, size_t n)
{
	size_t	 room;

	if (n == 0)
		return;
	room = ctl_buf_reserve(b, n);
	if (room < n)
		b->overflow = true;
	if (room == 0)
		return;
	memcpy(b->data + b->len, p, room);
	b->len += room;
	b->data[b->len] = '\0';
}

void
ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...)
{
	char	 small[256];
	char	*big;
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		ctl_buf_append(b, small, (size_t)n);
		return;
	}
	/* Rare: a long line; format it again into a heap buffer. */
	if ((size_t)n > CTL_REPLY_MAX) {
		b->overflow = true;
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->overflow = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ctl_buf_append(b, big, (size_t)n);
	free(big);
}

/* JSON writer. */

#define JSON_DEPTH_MAX	((int)(sizeof(((struct json_w *)0)->need_comma) / \
			    sizeof(bool)))

void
json_init(struct json_w *w, struct ctl_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* need_comma slot for the current level; deeper levels share the last. */
static bool *
json_slot(struct json_w *w)
{
	int	 d = w->depth;

	if (d < 0)
		d = 0;
	if (d >= JSON_DEPTH_MAX)
		d = JSON_DEPTH_MAX - 1;
	return &w->need_comma[d];
}

/* Called before every value and key: the comma between siblings. */
static void
json_sep(struct json_w *w)
{
	bool	*nc = json_slot(w);

	if (*nc)
		ctl_buf_append(w->b, ",", 1);
	*nc = true;
}

static void
json_open(struct json_w *w, char c)
{
	json_sep(w);
	ctl_buf_append(w->b, &c, 1);
	w->depth++;
	*json_slot(w) = false;
}

static void
json_close(struct json_w *w, char c)
{
	ctl_buf_append(w->b, &c, 1);
	if (w->depth > 0)
		w->depth--;
	*json_slot(w) = true;
}

void
json_obj_begin(struct json_w *w)
{
	json_open(w, '{');
}

void
json_obj_end(struct json_w *w)
{
	json_close(w, '}');
}

void
json_arr_begin(struct json_w *w)
{
	json_open(w, '[');
}

void
json_arr_end(struct json_w *w)
{
	json_close(w, ']');
}

/*
 * Writes s as a quoted JSON string.  Quotes, backslashes and control
 * characters are escaped; bytes >= 0x80 pass through, so UTF-8 survives.
 */
static void
json_quote(struct ctl_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char	*run = s;
	char		 esc[6];

	ctl_buf_append(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		ctl_buf_append(b, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':  esc[1] = '"';  break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n';  break;
		case '\r': esc[1] = 'r';  break;
		case '\t': esc[1] = 't';  break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			ctl_buf_append(b, esc, 6);
			continue;
		}
		ctl_buf_append(b, esc, 2);
	}
	ctl_buf_append(b, run, (size_t)(s - run));
	ctl_buf_append(b, "\"", 1);
}

/* A key: its comma, its name, the colon; the value follows without one. */
void
json_key(struct json_w *w, const char *k)
{
	json_sep(w);
	json_quote(w->b, k);
	ctl_buf_append(w->b, ":", 1);
	*json_slot(w) = false;
}

void
json_str(struct json_w *w, const char *s)
{
	if (s == NULL) {
		json_null(w);
		return;
	}
	json_sep(w);
	json_quote(w->b, s);
}

void
json_int(struct json_w *w, int64_t v)
{
	json_sep(w);
	ctl_buf_printf(w->b, "%lld", (long long)v);
}

void
json_uint(struct json_w *w, uint64_t v)
{
	json_sep(w);
	ctl_buf_printf(w->b, "%llu", (unsigned long long)v);
}

void
json_number(struct json_w *w, const char *num)
{
	json_sep(w);
	ctl_buf_append(w->b, num, strlen(num));
}

void
json_bool(struct json_w *w, bool v)
{
	json_sep(w);
	ctl_buf_printf(w->b, "%s", v ? "true" : "false");
}

void
json_null(struct json_w *w)
{
	json_sep(w);
	ctl_buf_append(w->b, "null", 4);
}

void
json_kv_str(struct json_w *w, const char *k, const char *s)
{
	json_key(w, k);
	json_str(w, s);
}

void
json_kv_int(struct json_w *w, const char *k, int64_t v)
{
	json_key(w, k);
	json_int(w, v);
}

void
json_kv_uint(struct json_w *w, const char *k, uint64_t v)
{
	json_key(w, k);
	json_uint(w, v);
}

void
json_kv_bool(struct json_w *w, const char *k, bool v)
{
	json_key(w, k);
	json_bool(w, v);
}

/* Reply framing. */

size_t
ctl_reply_header(char *hdr, size_t hdrlen, bool ok, size_t bodylen)
{
	int	 n;

	n = snprintf(hdr, hdrlen, "%s %zu\n", ok ? "OK" : "ERR", bodylen);
	if (n < 0)
		return 0;
	return (size_t)n < hdrlen ? (size_t)n : hdrlen - 1;
}

/*
 * Parses "OK <len>" or "ERR <len>", optionally followed by '\n' and
 * nothing else.  <len> is 1..10 decimal digits without a leading zero,
 * and at most CTL_REPLY_MAX.
 */
int
ctl_reply_header_parse(const char *line, size_t n, bool *ok, size_t *len)
{
	size_t	 i, digits = 0;
	uint64_t v = 0;

	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n >= 3 && memcmp(line, "OK ", 3) == 0) {
		*ok = true;
		i = 3;
	} else if (n >= 4 && memcmp(line, "ERR ", 4) == 0) {
		*ok = false;
		i = 4;
	} else
		return -1;
	for (; i < n; i++) {
		if (line[i] < '0' || line[i] > '9' || ++digits > 10)
			return -1;
		v = v * 10 + (uint64_t)(line[i] - '0');
	}
	/* No leading zero: one spelling per length, as the builder writes. */
	if (digits == 0 || v > CTL_REPLY_MAX || (digits > 1 &&
	    line[n - digits] == '0'))
		return -1;
	*len = (size_t)v;
	return 0;
}

/* Client. */

/*
 * Waits until fd is ready for `events` or the deadline (monotonic ms)
 * passes.  Returns 0, or -1 with errno (ETIMEDOUT).
 */
static int
ctl_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 r;

	for (;;) {
		left = deadline - clock_mono_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r > 0)
			return 0;
	}
}

/* Connects a non-blocking unix stream socket to path.  fd or -1. */
static int
ctl_connect(const char *path, int64_t deadline)
{
	struct sockaddr_un	 sun;
	socklen_t		 sl;
	int			 fd, err = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/*
	 * A unix socket with a full backlog answers EAGAIN and nothing is
	 * queued: try again every 10 ms until the deadline.
	 */
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		if (errno == EINPROGRESS)
			break;
		if (errno != EAGAIN && errno != EINTR)
			goto fail;
		if (clock_mono_ms() + 10 > deadline) {
			errno = ETIMEDOUT;
			goto fail;
		}
		(void)poll(NULL, 0, 10);
	}
	if (ctl_wait(fd, POLLOUT, deadline) == -1)
		goto fail;
	sl = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Writes all of p, bounded by the deadline.  0 or -1. */
static int
ctl_send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	ssize_t	 w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (ctl_wait(fd, POLLOUT, deadline) == -1)
				return -1;
			continue;
		}
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads up to n bytes into p, bounded by the deadline.  With `line` set
 * it stops after a '\n' (reading byte by byte, so nothing past the header
 * is consumed).  Returns the count read (short only at EOF or '\n'), or -1.
 */
static ssize_t
ctl_recv(int fd, char *p, size_t n, int line, int64_t deadline)
{
	size_t	 got = 0;
	ssize_t	 r;

	while (got < n) {
		r = recv(fd, p + got, line ? 1 : n - got, 0);
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (ctl_wait(fd, POLLIN, deadline) == -1)
				return -1;
			continue;
		}
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
		if (line && p[got - 1] == '\n')
			break;
	}
	return (ssize_t)got;
}

/*
 * Reads one framed reply into *body.  Returns 1 (OK), 0 (ERR) or -1 with
 * errno (EPROTO when the daemon's reply is malformed or cut short).
 */
static int
ctl_read_reply(int fd, int64_t deadline, char **body, size_t *bodylen)
{
	char	 hdr[32];
	ssize_t	 r;
	size_t	 len;
	bool	 ok;
	char	*p;

	r = ctl_recv(fd, hdr, sizeof(hdr), 1, deadline);
	if (r == -1)
		return -1;
	if (r == 0 || hdr[r - 1] != '\n' ||
	    ctl_reply_header_parse(hdr, (size_t)r, &ok, &len) == -1) {
		errno = EPROTO;
		return -1;
	}
	if ((p = malloc(len + 1)) == NULL)
		return -1;
	r = ctl_recv(fd, p, len, 0, deadline);
	if (r == -1 || (size_t)r != len) {
		if (r != -1)
			errno = EPROTO;
		free(p);
		return -1;
	}
	p[len] = '\0';
	*body = p;
	if (bodylen != NULL)
		*bodylen = len;
	return ok ? 1 : 0;
}

int
ctl_call(const char *path, const char *line, int timeout_ms, char **body,
    size_t *bodylen)
{
	int64_t	 deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	size_t	 n = strlen(line);
	char	 req[CTL_LINE_MAX];
	int	 fd, rc, err;

	*body = NULL;
	if (bodylen != NULL)
		*bodylen = 0;
	if (n + 1 > CTL_LINE_MAX || memchr(line, '\n', n) != NULL) {
		errno = EINVAL;
		return -1;
	}
	memcpy(req, line, n);
	req[n++] = '\n';
	if ((fd = ctl_connect(path, deadline)) == -1)
		return -1;
	rc = ctl_send_all(fd, req, n, deadline);
	/*
	 * A daemon that refuses us (permissions, too many clients) answers
	 * ERR and closes at once, perhaps before our request is written:
	 * its answer is still queued for us, and says more than EPIPE.
	 */
	if (rc == 0 || errno == EPIPE || errno == ECONNRESET) {
		err = rc == 0 ? 0 : errno;
		rc = ctl_read_reply(fd, deadline, body, bodylen);
		if (rc == -1 && errno == EPROTO && err != 0)
			errno = err;	/* nothing queued: the send error */
	}
	err = errno;
	close(fd);
	errno = err;
	return rc;
}
