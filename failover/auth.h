/*
 * auth.h - heartbeat authentication: HMAC-SHA256 over a pseudo-header
 * plus the packet, the shared key, freshness and replay checks, and the
 * shared-config hash.  No I/O except auth_key_load(); no logging.
 *
 * Receiver order (auth_receive): length, magic/version/type, vrid, key
 * id, HMAC (constant time), known peer, freshness, replay, config hash.
 * A sender uses one sequence number per round for all its peer paths, so
 * the second copy of a round (sequence == high-water mark) is reported as
 * AUTH_DUPLICATE: dropped like a replay, but expected, so not logged.
 * Everything before the HMAC is cheap and reveals nothing; everything
 * after it only runs on bytes the peer really signed.
 */
#ifndef LB_AUTH_H
#define LB_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "packet.h"

#define AUTH_KEY_MIN	16	/* bytes of secret, at least */
#define AUTH_KEY_MAX	1024
#define AUTH_FRESH_MIN_MS 5000	/* freshness window floor */

/*
 * A loaded key.  The raw secret lives only inside the OpenSSL MAC context
 * (a keyed template duplicated per message); our copies are wiped.
 */
struct auth_key {
	void		*mac_ctx;	/* EVP_MAC_CTX *, keyed */
	uint32_t	 id;		/* first 4 bytes of SHA-256("lbfo-key-id" || key) */
};

enum auth_result {
	AUTH_OK = 0,
	AUTH_ERR_LENGTH,
	AUTH_ERR_MAGIC,
	AUTH_ERR_VERSION,
	AUTH_ERR_TYPE,
	AUTH_ERR_VRID,
	AUTH_ERR_KEY_ID,
	AUTH_ERR_HMAC,
	AUTH_ERR_PEER,
	AUTH_ERR_STALE,
	AUTH_ERR_REPLAY,
	AUTH_ERR_CONFIG_HASH,
	AUTH_DUPLICATE,		/* == high-water mark: the copy sent on another path */
	AUTH_RESULT_MAX
};

/* Short stable name of a result ("hmac", "replay", ...) for counters. */
const char *auth_result_name(enum auth_result r);

/*
 * Keys `k` with `len` bytes of `secret` (the caller wipes its copy).
 * Returns 0, or -1 with errno (EINVAL for a bad length, ENOMEM).
 */
int auth_key_set(struct auth_key *k, const void *secret, size_t len);

/*
 * Reads the secret from `path`: a regular file of mode 0600 or stricter
 * (no group or other bits), trailing whitespace ignored, AUTH_KEY_MIN ..
 * AUTH_KEY_MAX bytes.  Returns 0, or -1 with a reason in why.
 */
int auth_key_load(const char *path, struct auth_key *k, char *why,
    size_t whylen);

/* Frees and wipes the key.  Safe on a zeroed or freed key. */
void auth_key_free(struct auth_key *k);

/*
 * Fills the MAC of an encoded packet in place, over the pseudo-header of
 * `src` (the address the packet is sent from) and `vrid`.  Returns 0 or -1.
 */
int auth_sign(const struct auth_key *k, const struct sockaddr *src,
    uint8_t vrid, uint8_t buf[PKT_LEN]);

/* What auth_receive needs to know about the receiver. */
struct auth_expect {
	const struct auth_key	*key;
	uint8_t			 vrid;
	uint64_t		 window_ms;	/* freshness, each way */
	const uint8_t		*config_hash;	/* PKT_HASH_LEN bytes */
};

/*
 * Checks a received datagram from `src`.  `hwm` is the high-water mark of
 * the peer `src` belongs to, or NULL when `src` is no configured peer.
 * On AUTH_OK or AUTH_ERR_CONFIG_HASH *out holds the packet and *hwm has
 * moved up to its sequence number (the packet was authentic and fresh).
 */
enum auth_result auth_receive(const struct auth_expect *ex,
    const uint8_t *buf, size_t len, const struct sockaddr *src,
    uint64_t *hwm, int64_t now_wall_ms, struct pkt *out);

/*
 * HMAC-SHA256 of p1 || p2 under `k` (n2 may be 0).  Exposed for test
 * vectors.  Returns 0 or -1.
 */
int auth_hmac(const struct auth_key *k, const void *p1, size_t n1,
    const void *p2, size_t n2, uint8_t out[PKT_MAC_LEN]);

/* Freshness window for an advert interval: max(3 x advert, 5 s). */
uint64_t auth_window_ms(uint64_t advert_ms);

/* Truncated SHA-256 of a canonical config string.  Returns 0 or -1. */
int auth_config_hash(const char *canon, uint8_t out[PKT_HASH_LEN]);

#endif
