/*
 * packet.c - heartbeat wire format.  Pure functions: encode to and
 * decode from the fixed 80-byte layout of packet-t.h.  Explicit byte
 * order conversions, no casts of the buffer to the struct, so a short or
 * misaligned buffer is never dereferenced as one.
 */
#include <endian.h>
#include <stddef.h>
#include <string.h>

#include "packet.h"

static void
pkt_put16(uint8_t *b, uint16_t v)
{
	v = htobe16(v);
	memcpy(b, &v, sizeof(v));
}

static void
pkt_put32(uint8_t *b, uint32_t v)
{
	v = htobe32(v);
	memcpy(b, &v, sizeof(v));
}

static void
pkt_put64(uint8_t *b, uint64_t v)
{
	v = htobe64(v);
	memcpy(b, &v, sizeof(v));
}

static uint16_t
pkt_get16(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, sizeof(v));
	return be16toh(v);
}

static uint32_t
pkt_get32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return be32toh(v);
}

static uint64_t
pkt_get64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return be64toh(v);
}

#define OFF(f)	offsetof(struct pkt_wire, f)

/*
 * Serialises `p` into `buf`; the MAC field is left zero for auth_sign().
 */
void
pkt_encode(const struct pkt *p, uint8_t buf[PKT_LEN])
{
	memset(buf, 0, PKT_LEN);
	pkt_put32(buf + OFF(magic), PKT_MAGIC);
	buf[OFF(version)] = PKT_VERSION;
	buf[OFF(type)] = p->type;
	buf[OFF(vrid)] = p->vrid;
	buf[OFF(priority)] = p->priority;
	buf[OFF(state)] = p->state;
	buf[OFF(flags)] = p->flags;
	pkt_put16(buf + OFF(advert_ms), p->advert_ms);
	pkt_put32(buf + OFF(node_id), p->node_id);
	pkt_put32(buf + OFF(key_id), p->key_id);
	pkt_put64(buf + OFF(seq), p->seq);
	memcpy(buf + OFF(config_hash), p->config_hash, PKT_HASH_LEN);
}

/*
 * Parses and sanity-checks the unauthenticated framing.  Returns PKT_OK
 * with *p filled, or the reason the bytes are not a heartbeat.
 */
enum pkt_result
pkt_decode(const uint8_t *buf, size_t len, struct pkt *p)
{
	if (len != PKT_LEN)
		return PKT_ERR_LENGTH;
	if (pkt_get32(buf + OFF(magic)) != PKT_MAGIC)
		return PKT_ERR_MAGIC;
	if (buf[OFF(version)] != PKT_VERSION)
		return PKT_ERR_VERSION;
	if (buf[OFF(type)] >= PKT_TYPE_MAX)
		return PKT_ERR_TYPE;
	memset(p, 0, sizeof(*p));
	p->type = buf[OFF(type)];
	p->vrid = buf[OFF(vrid)];
	p->priority = buf[OFF(priority)];
	p->state = buf[OFF(state)];
	p->flags = buf[OFF(flags)];
	p->advert_ms = pkt_get16(buf + OFF(advert_ms));
	p->node_id = pkt_get32(buf + OFF(node_id));
	p->key_id = pkt_get32(buf + OFF(key_id));
	p->seq = pkt_get64(buf + OFF(seq));
	memcpy(p->config_hash, buf + OFF(config_hash), PKT_HASH_LEN);
	return PKT_OK;
}

uint64_t
pkt_seq_next(uint64_t *last, int64_t wall_ms)
{
	uint64_t seq = wall_ms > 0 ? (uint64_t)wall_ms << PKT_SEQ_SHIFT : 0;

	if (seq <= *last)
		seq = *last + 1;
	*last = seq;
	return seq;
}

int64_t
pkt_seq_time(uint64_t seq)
{
	return (int64_t)(seq >> PKT_SEQ_SHIFT);
}
