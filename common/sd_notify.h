/*
 * sd_notify.h - systemd's readiness protocol without libsystemd: one
 * datagram to the unix socket named by $NOTIFY_SOCKET ('@' = abstract).
 */
#ifndef LB_SD_NOTIFY_H
#define LB_SD_NOTIFY_H

/*
 * Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...").
 * Returns 1 when sent, 0 when not under systemd, -1 with errno on error.
 */
int sd_notify_send(const char *state);

#endif
