/*
 * packet.h - heartbeat encode/decode.  Pure: no I/O, no logging, no
 * crypto (auth.c signs and verifies the bytes these functions produce).
 */
#ifndef LB_PACKET_H
#define LB_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "packet-t.h"

enum pkt_type {
	PKT_TYPE_ADVERT = 0,
	PKT_TYPE_RESIGN,
	PKT_TYPE_MAX
};

/* A heartbeat in host order. */
struct pkt {
	uint8_t		type;
	uint8_t		vrid;
	uint8_t		priority;
	uint8_t		state;
	uint8_t		flags;
	uint16_t	advert_ms;
	uint32_t	node_id;
	uint32_t	key_id;
	uint64_t	seq;
	uint8_t		config_hash[PKT_HASH_LEN];
};

/* Result of pkt_decode, in the order the checks run. */
enum pkt_result {
	PKT_OK = 0,
	PKT_ERR_LENGTH,
	PKT_ERR_MAGIC,
	PKT_ERR_VERSION,
	PKT_ERR_TYPE
};

/*
 * Writes `p` into buf (PKT_LEN bytes) with a zero MAC; auth_sign() fills
 * the MAC afterwards.
 */
void pkt_encode(const struct pkt *p, uint8_t buf[PKT_LEN]);

/*
 * Reads `len` bytes of `buf` into *p.  Checks length, magic, version and
 * type only; the MAC is auth.c's business.  Returns PKT_OK or the first
 * check that failed.
 */
enum pkt_result pkt_decode(const uint8_t *buf, size_t len, struct pkt *p);

/*
 * Next sequence number: wall-clock ms in the high bits so a restarted
 * sender is still above the receiver's high-water mark, a counter in the
 * low bits, and never below *last + 1 even when the clock steps back.
 * Updates *last.
 */
uint64_t pkt_seq_next(uint64_t *last, int64_t wall_ms);

/* The wall-clock ms a sequence number was made at. */
int64_t pkt_seq_time(uint64_t seq);

#endif
