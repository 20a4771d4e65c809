/*
 * auth.c - HMAC-SHA256 heartbeat authentication with OpenSSL 3 EVP_MAC,
 * replay and freshness checks, and the shared-config hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auth.h"

#define AUTH_PSEUDO_LEN	20	/* family, version, vrid, pad, 16 address bytes */

static const char *const auth_names[AUTH_RESULT_MAX] = {
	[AUTH_OK] = "ok",
	[AUTH_ERR_LENGTH] = "length",
	[AUTH_ERR_MAGIC] = "magic",
	[AUTH_ERR_VERSION] = "version",
	[AUTH_ERR_TYPE] = "type",
	[AUTH_ERR_VRID] = "vrid",
	[AUTH_ERR_KEY_ID] = "key_id",
	[AUTH_ERR_HMAC] = "hmac",
	[AUTH_ERR_PEER] = "unknown_peer",
	[AUTH_ERR_STALE] = "stale",
	[AUTH_ERR_REPLAY] = "replay",
	[AUTH_ERR_CONFIG_HASH] = "config_hash",
	[AUTH_DUPLICATE] = "duplicate",
};

const char *
auth_result_name(enum auth_result r)
{
	if ((unsigned)r >= AUTH_RESULT_MAX)
		return "unknown";
	return auth_names[r];
}

/*
 * Derives the public key id: a fingerprint that lets the receiver tell
 * "peer uses another key" from "packet was tampered with".
 */
static int
auth_key_fingerprint(const void *secret, size_t len, uint32_t *id)
{
	static const char label[] = "lbfo-key-id";
	EVP_MD_CTX	*md;
	uint8_t		 d[EVP_MAX_MD_SIZE];
	unsigned	 dl = 0;
	int		 ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, label, sizeof(label) - 1) == 1 &&
	    EVP_DigestUpdate(md, secret, len) == 1 &&
	    EVP_DigestFinal_ex(md, d, &dl) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	*id = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3];
	OPENSSL_cleanse(d, sizeof(d));
	return 0;
}

int
auth_key_set(struct auth_key *k, const void *secret, size_t len)
{
	OSSL_PARAM	 params[2];
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx;
	char		 digest[] = "SHA256";

	memset(k, 0, sizeof(*k));
	if (len < AUTH_KEY_MIN || len > AUTH_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (auth_key_fingerprint(secret, len, &k->id) == -1)
		goto fail;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto fail;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (ctx == NULL)
		goto fail;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, secret, len, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		goto fail;
	}
	k->mac_ctx = ctx;
	return 0;
fail:
	errno = ENOMEM;
	return -1;
}

void
auth_key_free(struct auth_key *k)
{
	if (k->mac_ctx != NULL)
		EVP_MAC_CTX_free(k->mac_ctx);	/* cleanses the key */
	OPENSSL_cleanse(k, sizeof(*k));
}

/*
 * Reads at most AUTH_KEY_MAX + 1 bytes into buf; returns the count or -1.
 */
static ssize_t
auth_read_all(int fd, uint8_t *buf, size_t cap)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
auth_key_load(const char *path, struct auth_key *k, char *why, size_t whylen)
{
	uint8_t		 buf[AUTH_KEY_MAX + 1];
	struct stat	 st;
	ssize_t		 n;
	int		 fd, rc = -1;

	memset(k, 0, sizeof(*k));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 0077) != 0) {
		snprintf(why, whylen, "%s: mode %04o is too open, must be 0600 "
		    "or stricter", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((n = auth_read_all(fd, buf, sizeof(buf))) == -1) {
		snprintf(why, whylen, "read %s: %s", path, strerror(errno));
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n < AUTH_KEY_MIN || n > AUTH_KEY_MAX) {
		snprintf(why, whylen, "%s: key must be %d..%d bytes", path,
		    AUTH_KEY_MIN, AUTH_KEY_MAX);
		goto out;
	}
	if (auth_key_set(k, buf, (size_t)n) == -1) {
		snprintf(why, whylen, "%s: cannot set up HMAC", path);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/*
 * Builds the pseudo-header: the MAC then binds the packet to the address
 * it came from and the virtual router, so a packet replayed from another
 * address or into another vrid fails the HMAC.
 */
static int
auth_pseudo(const struct sockaddr *src, uint8_t vrid, uint8_t ph[AUTH_PSEUDO_LEN])
{
	memset(ph, 0, AUTH_PSEUDO_LEN);
	ph[1] = PKT_VERSION;
	ph[2] = vrid;
	if (src->sa_family == AF_INET) {
		ph[0] = 4;
		memcpy(ph + 4, &((const struct sockaddr_in *)(const void *)src)->sin_addr, 4);
	} else if (src->sa_family == AF_INET6) {
		ph[0] = 6;
		memcpy(ph + 4, &((const struct sockaddr_in6 *)(const void *)src)->sin6_addr, 16);
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

int
auth_hmac(const struct auth_key *k, const void *p1, size_t n1, const void *p2,
    size_t n2, uint8_t out[PKT_MAC_LEN])
{
	EVP_MAC_CTX	*c;
	size_t		 outl = 0;
	int		 ok;

	if (k->mac_ctx == NULL || (c = EVP_MAC_CTX_dup(k->mac_ctx)) == NULL)
		return -1;
	ok = EVP_MAC_update(c, p1, n1) == 1 &&
	    (n2 == 0 || EVP_MAC_update(c, p2, n2) == 1) &&
	    EVP_MAC_final(c, out, &outl, PKT_MAC_LEN) == 1 &&
	    outl == PKT_MAC_LEN;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : -1;
}

/*
 * Computes the HMAC of pseudo-header + the first PKT_MAC_OFF bytes.
 */
static int
auth_mac(const struct auth_key *k, const struct sockaddr *src, uint8_t vrid,
    const uint8_t *buf, uint8_t out[PKT_MAC_LEN])
{
	uint8_t		 ph[AUTH_PSEUDO_LEN];

	if (auth_pseudo(src, vrid, ph) == -1)
		return -1;
	return auth_hmac(k, ph, sizeof(ph), buf, PKT_MAC_OFF, out);
}

int
auth_sign(const struct auth_key *k, const struct sockaddr *src, uint8_t vrid,
    uint8_t buf[PKT_LEN])
{
	return auth_mac(k, src, vrid, buf, buf + PKT_MAC_OFF);
}

/*
 * Freshness then replay: the sequence's time must be within window_ms of
 * our clock, and strictly above the peer's high-water mark (equal is the
 * same round's copy from another path).
 */
static enum auth_result
auth_fresh(uint64_t seq, int64_t now_wall_ms, uint64_t window_ms,
    const uint64_t *hwm)
{
	int64_t	 t = pkt_seq_time(seq);
	int64_t	 d = now_wall_ms > t ? now_wall_ms - t : t - now_wall_ms;

	if ((uint64_t)d > window_ms)
		return AUTH_ERR_STALE;
	if (seq == *hwm)
		return AUTH_DUPLICATE;
	if (seq < *hwm)
		return AUTH_ERR_REPLAY;
	return AUTH_OK;
}

enum auth_result
auth_receive(const struct auth_expect *ex, const uint8_t *buf, size_t len,
    const struct sockaddr *src, uint64_t *hwm, int64_t now_wall_ms,
    struct pkt *out)
{
	static const enum auth_result pkt_map[] = {
		[PKT_OK] = AUTH_OK, [PKT_ERR_LENGTH] = AUTH_ERR_LENGTH,
		[PKT_ERR_MAGIC] = AUTH_ERR_MAGIC,
		[PKT_ERR_VERSION] = AUTH_ERR_VERSION,
		[PKT_ERR_TYPE] = AUTH_ERR_TYPE,
	};
	uint8_t		 mac[PKT_MAC_LEN];
	enum pkt_result	 pr;
	enum auth_result r;

	if ((pr = pkt_decode(buf, len, out)) != PKT_OK)
		return pkt_map[pr];
	if (out->vrid != ex->vrid)
		return AUTH_ERR_VRID;
	if (out->key_id != ex->key->id)
		return AUTH_ERR_KEY_ID;
	if (auth_mac(ex->key, src, ex->vrid, buf, mac) == -1 ||
	    CRYPTO_memcmp(mac, buf + PKT_MAC_OFF, PKT_MAC_LEN) != 0)
		return AUTH_ERR_HMAC;
	if (hwm == NULL)
		return AUTH_ERR_PEER;
	if ((r = auth_fresh(out->seq, now_wall_ms, ex->window_ms, hwm)) != AUTH_OK)
		return r;
	*hwm = out->seq;
	if (CRYPTO_memcmp(out->config_hash, ex->config_hash, PKT_HASH_LEN) != 0)
		return AUTH_ERR_CONFIG_HASH;
	return AUTH_OK;
}

uint64_t
auth_window_ms(uint64_t advert_ms)
{
	return 3 * advert_ms > AUTH_FRESH_MIN_MS ? 3 * advert_ms :
	    AUTH_FRESH_MIN_MS;
}

int
auth_config_hash(const char *canon, uint8_t out[PKT_HASH_LEN])
{
	uint8_t		 d[EVP_MAX_MD_SIZE];
	unsigned	 dl = 0;

	if (EVP_Digest(canon, strlen(canon), d, &dl, EVP_sha256(), NULL) != 1)
		return -1;
	memcpy(out, d, PKT_HASH_LEN);
	return 0;
}
