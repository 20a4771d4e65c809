/*
 * privdrop.h - lbd's master gives up root once everything that needs it
 * is done: the listening sockets are bound (ports below 1024), the fd
 * limit is raised and the control socket is open.
 *
 * With `user = "lbd";` in the config the master switches to that user and
 * its primary group only (supplementary groups cleared), real, effective
 * and saved ids alike, so no capability is left (CapEff, CapPrm 0) and
 * setuid(0) fails.  Workers are forked afterwards and inherit it.  What
 * the user must still be able to do after the drop:
 *   - read the config file (a reload re-reads it by path);
 *   - write the directory of `state_file`, if set (a temp file + rename);
 *   - on a reload, a listener on a new port below 1024 cannot be bound
 *     (no CAP_NET_BIND_SERVICE): that reload fails and the old config
 *     keeps serving; listeners that stay are kept open, as always;
 *   - the control socket stays served (its fd is open), but its path is
 *     not unlinked at stop when its directory belongs to root: the next
 *     start replaces the stale socket.
 * `chroot` is not offered: a reload re-reads the config and the state
 * file by path, and the syslog socket (/dev/log) is reconnected after a
 * syslogd restart; inside an empty root none of these would work.
 * Under systemd, DynamicUser= in lbd.service does the same job and
 * `user` is left unset.
 */
#ifndef LB_PRIVDROP_H
#define LB_PRIVDROP_H

#include <stddef.h>

/*
 * Switches the calling process to `user` (a name) and its group, with
 * every capability gone.  An empty user does nothing.  When the process
 * already runs as that user, nothing changes either; another non-root
 * user cannot switch and fails.  Returns 0, or -1 with the reason in why.
 * Master only, once, before any worker is forked.
 */
int privdrop(const char *user, char *why, size_t whylen);

#endif
