/*
 * garp-t.h - an Ethernet/IPv4 ARP packet as sent on the wire (RFC 826).
 */
#ifndef LB_GARP_T_H
#define LB_GARP_T_H

#include <stdint.h>

struct garp_wire {
	uint16_t	hrd;		/* ARPHRD_ETHER */
	uint16_t	pro;		/* ETH_P_IP */
	uint8_t		hln;		/* 6 */
	uint8_t		pln;		/* 4 */
	uint16_t	op;		/* ARPOP_REQUEST */
	uint8_t		sha[6];
	uint8_t		spa[4];
	uint8_t		tha[6];
	uint8_t		tpa[4];
} __attribute__((packed));

_Static_assert(sizeof(struct garp_wire) == 28, "ARP packet is 28 bytes");

#endif
