/*
 * vip.h - add and remove the virtual IPs with rtnetlink (RTM_NEWADDR /
 * RTM_DELADDR), no `ip` subprocess.  Low level: no logging; -1 + errno.
 */
#ifndef LB_VIP_H
#define LB_VIP_H

#include "focfg.h"

/*
 * Adds `v` to interface `ifindex`.  Returns 1 when added, 0 when it was
 * already there, -1 with errno.
 */
int vip_add(int ifindex, const struct fo_vip *v);

/*
 * Removes `v` from `ifindex`.  Returns 1 when removed, 0 when it was not
 * there, -1 with errno.
 */
int vip_del(int ifindex, const struct fo_vip *v);

#endif
