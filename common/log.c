/*
 * log.c - syslog logging, mirrored to stderr in the foreground.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int	log_to_stderr;
static int	log_level = LOG_INFO;
static int	log_opened;
static char	log_ident[32] = "lb";

void
log_init(const char *ident, int facility, int to_stderr)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_to_stderr = to_stderr;
	if (to_stderr)
		log_level = LOG_DEBUG;
	if (log_opened)
		closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	log_opened = 1;
}

void
log_set_facility(int facility)
{
	if (log_opened)
		closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	log_opened = 1;
}

void
log_set_level(int level)
{
	log_level = level;
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[1024];
	int	 saved = errno;
	int	 n;

	if (pri > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	if (log_to_stderr) {
		fprintf(stderr, "%s[%ld]: %s\n", log_ident, (long)getpid(),
		    msg);
		fflush(stderr);
	}
	if (log_opened)
		syslog(pri, "%s", msg);
	errno = saved;
}

#define LOG_FN(fn, pri, err)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(pri, fmt, ap, err);				\
	va_end(ap);						\
}

LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_notice, LOG_NOTICE, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_err, LOG_ERR, 1)
LOG_FN(log_errx, LOG_ERR, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

size_t
log_escape(char *dst, size_t dstlen, const void *src, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = src;
	size_t			 o = 0, i;

	if (dstlen == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else if (c == '\\') {
			if (o + 2 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return o;
}

int
log_facility_lookup(const char *name)
{
	static const struct { const char *n; int f; } tab[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].n, name) == 0)
			return tab[i].f;
	return -1;
}
