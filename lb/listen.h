/*
 * listen.h - the master's listening sockets.  They are opened once, kept
 * by the master for its whole life and inherited by every worker, so a
 * worker's death or a reload never closes a port.
 */
#ifndef LB_LISTEN_H
#define LB_LISTEN_H

#include <stddef.h>

#include "conf-t.h"

/*
 * Opens a non-blocking, close-on-exec listening TCP socket for `l`
 * (SO_REUSEADDR; IPV6_V6ONLY for IPv6 so "[::]" and "0.0.0.0" can both be
 * bound; IP_FREEBIND when l->freebind).  Returns the fd, or -1 with errno
 * and the failing call's name in `why`.
 */
int listen_open(const struct conf_listener *l, char *why, size_t whylen);

#endif
