/*
 * fuzz_packet.c - libFuzzer target for lb-failoverd's heartbeat decode
 * (pkt_decode, failover/packet.c) and authentication (auth_receive,
 * failover/auth.c).
 *
 * Input: 1 control byte, 8 bytes of the receiver's high-water mark,
 * 8 bytes of its wall clock, then the datagram.  Three passes:
 *   1. the datagram as received, from a configured peer: random bytes
 *      must never authenticate;
 *   2. when it decodes, the same fields re-encoded and signed with the
 *      receiver's key: only freshness, replay and config-hash checks may
 *      refuse it, and an accepted one moves the high-water mark to its
 *      sequence number and round-trips every field;
 *   3. that signed packet with one byte flipped (chosen by the control
 *      byte): never accepted.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_VRID	7
#define FUZZ_HDR	17

static struct auth_key	K;
static uint8_t		H[PKT_HASH_LEN];
static struct sockaddr_in PEER;

static void
f_init(void)
{
	static const char key[] = "fuzzing-key-0123456789abcdef";

	if (K.mac_ctx != NULL)
		return;
	if (auth_key_set(&K, key, sizeof(key) - 1) == -1 ||
	    auth_config_hash("fuzz", H) == -1)
		abort();
	PEER.sin_family = AF_INET;
	PEER.sin_port = htons(11111);
	PEER.sin_addr.s_addr = htonl(0x7f000002);
}

static bool
same_pkt(const struct pkt *a, const struct pkt *b)
{
	return a->type == b->type && a->vrid == b->vrid &&
	    a->priority == b->priority && a->state == b->state &&
	    a->flags == b->flags && a->advert_ms == b->advert_ms &&
	    a->node_id == b->node_id && a->key_id == b->key_id &&
	    a->seq == b->seq &&
	    memcmp(a->config_hash, b->config_hash, PKT_HASH_LEN) == 0;
}

/* Pass 2 and 3 on a decoded packet p. */
static void
f_signed(const struct auth_expect *ex, struct pkt *p, uint64_t hwm0,
    int64_t now, uint8_t ctl)
{
	uint8_t			 buf[PKT_LEN];
	struct pkt		 out;
	uint64_t		 hwm = hwm0;
	enum auth_result	 r;

	p->vrid = FUZZ_VRID;
	p->key_id = K.id;
	/* Half the time a clock near the packet's, or nothing is fresh. */
	if (ctl & 0x80)
		now = pkt_seq_time(p->seq) + (int8_t)(hwm0 & 0xff) * 100;
	if (ctl & 1)
		memcpy(p->config_hash, H, PKT_HASH_LEN);
	pkt_encode(p, buf);
	if (auth_sign(&K, (struct sockaddr *)&PEER, FUZZ_VRID, buf) == -1)
		abort();
	r = auth_receive(ex, buf, sizeof(buf), (struct sockaddr *)&PEER,
	    &hwm, now, &out);
	if (r == AUTH_OK || r == AUTH_ERR_CONFIG_HASH) {
		if (hwm != p->seq || hwm <= hwm0 || !same_pkt(p, &out))
			abort();
		if (r == AUTH_OK && !(ctl & 1) &&
		    memcmp(p->config_hash, H, PKT_HASH_LEN) != 0)
			abort();
	} else if (r != AUTH_ERR_STALE && r != AUTH_ERR_REPLAY &&
	    r != AUTH_DUPLICATE)
		abort();
	else if (hwm != hwm0)
		abort();
	buf[(ctl >> 1) % PKT_LEN] ^= (uint8_t)(1u << (ctl % 8));
	hwm = hwm0;
	r = auth_receive(ex, buf, sizeof(buf), (struct sockaddr *)&PEER,
	    &hwm, now, &out);
	if (r == AUTH_OK || r == AUTH_ERR_CONFIG_HASH)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_expect	 ex;
	struct pkt		 p, out;
	uint64_t		 hwm0, hwm;
	int64_t			 now;
	uint8_t			 ctl;
	enum auth_result	 r;

	f_init();
	if (size < FUZZ_HDR)
		return 0;
	ctl = data[0];
	memcpy(&hwm0, data + 1, 8);
	memcpy(&now, data + 9, 8);
	/* A real wall clock: 0 .. about 2^46 ms (year 4200), never negative. */
	now = (int64_t)((uint64_t)now % (1ull << 46));
	data += FUZZ_HDR;
	size -= FUZZ_HDR;
	ex.key = &K;
	ex.vrid = FUZZ_VRID;
	ex.window_ms = auth_window_ms(1000);
	ex.config_hash = H;
	hwm = hwm0;
	r = auth_receive(&ex, data, size, (struct sockaddr *)&PEER, &hwm, now,
	    &out);
	/* Forging HMAC-SHA256 by mutation would be a finding indeed. */
	if (r == AUTH_OK || r == AUTH_ERR_CONFIG_HASH || hwm != hwm0)
		abort();
	if (pkt_decode(data, size, &p) != PKT_OK)
		return 0;
	if (size != PKT_LEN || p.type >= PKT_TYPE_MAX)
		abort();
	f_signed(&ex, &p, hwm0, now, ctl);
	return 0;
}
