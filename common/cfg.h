/*
 * cfg.h - helpers shared by the lbd and lb-failoverd config loaders
 * (both libconfig): duration syntax and error collection.
 */
#ifndef LB_CFG_H
#define LB_CFG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

/*
 * Parses a duration string "<digits><unit>" with unit ms, s, m or h
 * ("250ms", "3s", "5m", "1h").  No spaces, no sign, no fractions, and a
 * unit is required ("3" is an error: a bare integer of milliseconds is
 * an integer setting, see cfg_duration_setting).  Stores milliseconds in
 * *ms.  Returns 0, or -1 with errno EINVAL (bad syntax) or ERANGE
 * (overflow); *ms is untouched then.
 */
int cfg_duration_parse(const char *s, uint64_t *ms);

/*
 * Reads a duration setting (int or string) into *ms.  Returns 0, or -1
 * with a message in `why` (size `whylen`) naming the problem.
 */
int cfg_duration_setting(const config_setting_t *s, uint64_t *ms,
    char *why, size_t whylen);

/* Collected "FILE:LINE: message" errors of one load. */
struct cfg_errors {
	char	**msg;
	size_t	  n;
	size_t	  cap;
};

/*
 * Appends "file:line: <fmt>" (line 0 prints as file:0; the message is cut
 * at 1 KiB).  Never fails: without memory the message is dropped, so a
 * caller that must know whether anything went wrong counts for itself.
 */
void cfg_error(struct cfg_errors *e, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cfg_errors_free(struct cfg_errors *e);

/*
 * Pre-scans libconfig source text (`len` bytes) for what libconfig 1.5
 * gets silently wrong or does on its own: a plain integer literal outside
 * 32 bits (libconfig truncates it: 4294967297 reads as 1), an "L" literal
 * outside 64 bits (it saturates), a NUL byte (the rest is ignored),
 * @include (it would open any file), nesting deeper than 64 levels and
 * a group of more than 1024 settings (libconfig's insert is quadratic).
 * Appends "file:LINE: ..." for each and returns how many it found.  Sets
 * *noparse when the text must not be handed to libconfig at all (all but
 * the integer problems).
 */
size_t cfg_scan_text(const char *text, size_t len, const char *file,
    struct cfg_errors *e, int *noparse);
/*
 * The same, and also patches `fix` (a copy of text, same length) so that
 * libconfig 1.5 can parse it without leaking: a string literal where no
 * value may stand (the token that makes the parse fail) becomes '@' and
 * blanks, which fails on the same line without allocating.  Parse `fix`.
 */
size_t cfg_scan_text_fix(const char *text, size_t len, const char *file,
    struct cfg_errors *e, int *noparse, char *fix);

#endif
