/*
 * packet-t.h - the lb-failoverd heartbeat as it travels on the wire.
 *
 * One fixed-size UDP payload, all integers big-endian.  The HMAC at the
 * end covers a pseudo-header (see auth.h) and every byte before it, so
 * nothing in here can be changed in flight without detection.
 */
#ifndef LB_PACKET_T_H
#define LB_PACKET_T_H

#include <stdint.h>

#define PKT_MAGIC	0x4c424652u	/* "LBFR" */
#define PKT_VERSION	1
#define PKT_HASH_LEN	16		/* truncated SHA-256 of shared config */
#define PKT_MAC_LEN	32		/* HMAC-SHA256 */

/* flags */
#define PKT_F_LB_HEALTHY	0x01
#define PKT_F_PREEMPT		0x02

struct pkt_wire {
	uint32_t	magic;
	uint8_t		version;
	uint8_t		type;		/* enum pkt_type */
	uint8_t		vrid;
	uint8_t		priority;	/* effective; 0 = resigning */
	uint8_t		state;		/* enum vrrp_state of the sender */
	uint8_t		flags;		/* PKT_F_* */
	uint16_t	advert_ms;	/* sender's advert interval */
	uint32_t	node_id;
	uint32_t	key_id;
	uint32_t	reserved;	/* zero; keeps seq 8-aligned */
	uint64_t	seq;		/* wall ms << PKT_SEQ_SHIFT | counter */
	uint8_t		config_hash[PKT_HASH_LEN];
	uint8_t		mac[PKT_MAC_LEN];
};

_Static_assert(sizeof(struct pkt_wire) == 80, "heartbeat is 80 bytes");

#define PKT_LEN		sizeof(struct pkt_wire)
#define PKT_MAC_OFF	(PKT_LEN - PKT_MAC_LEN)	/* bytes covered by the MAC */
#define PKT_SEQ_SHIFT	20			/* 1M sequence numbers per ms */

#endif
