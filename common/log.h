/*
 * log.h - logging for lbd, lbctl and lb-failoverd.
 *
 * Daemons log to syslog (openlog with the configured facility); in the
 * foreground (-d) every line also goes to stderr.  Low-level helpers never
 * log: they return -1 with errno and their caller logs once, with context.
 */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stddef.h>
#include <syslog.h>

/* Opens syslog under `ident` with `facility` (LOG_DAEMON, ...). */
void log_init(const char *ident, int facility, int to_stderr);
/* Switches facility at run time (config reload); keeps ident and stderr. */
void log_set_facility(int facility);
/* Minimum priority sent anywhere; default LOG_INFO (LOG_DEBUG with -d). */
void log_set_level(int level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_err: LOG_ERR with strerror(errno) appended. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_errx: LOG_ERR without errno. */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copies at most `n` bytes of untrusted `src` into `dst` (size `dstlen`,
 * always NUL-terminated), escaping anything that is not printable ASCII
 * as \xHH and backslash as \\, so client bytes can never forge a log line.
 * Returns the length written (excluding NUL).
 */
size_t log_escape(char *dst, size_t dstlen, const void *src, size_t n);

/* Maps "daemon", "local0".."local7", "user" to LOG_*; -1 if unknown. */
int log_facility_lookup(const char *name);

#endif
