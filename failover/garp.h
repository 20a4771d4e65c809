/*
 * garp.h - gratuitous ARP over an AF_PACKET socket: an ARP request with
 * sender IP = target IP = the VIP, to broadcast, so neighbours update
 * their cache to our MAC.  Low level: no logging; -1 + errno.
 */
#ifndef LB_GARP_H
#define LB_GARP_H

#include <netinet/in.h>
#include <stdint.h>

/* Opens the AF_PACKET socket (needs CAP_NET_RAW).  fd or -1. */
int garp_open(void);

/* Reads the interface's MAC.  0 or -1. */
int garp_hwaddr(const char *ifname, uint8_t mac[6]);

/* Fills `out` with the gratuitous ARP for `ip` from `mac`.  Pure. */
void garp_build(const uint8_t mac[6], struct in_addr ip, uint8_t out[28]);

/* Sends one gratuitous ARP for `ip` on `ifindex`.  0 or -1. */
int garp_send(int fd, int ifindex, const uint8_t mac[6], struct in_addr ip);

#endif
