/*
 * test_auth.c - HMAC vectors (RFC 4231 and a packet vector computed
 * independently with Python's hmac module), the receive checks in order,
 * and key file loading.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"

#define KEY	"0123456789abcdef0123456789abcdef"
#define NOW	1700000000000LL

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static struct sockaddr_in
sin4(const char *ip)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5405);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

START_TEST(rfc4231_vectors)
{
	struct auth_key	 k;
	uint8_t		 key[131], mac[32];
	char		 h[65];
	static const char d6[] =
	    "Test Using Larger Than Block-Size Key - Hash Key First";

	memset(key, 0x0b, 20);
	ck_assert_int_eq(auth_key_set(&k, key, 20), 0);
	ck_assert_int_eq(auth_hmac(&k, "Hi ", 3, "There", 5, mac), 0);
	hex(mac, 32, h);
	ck_assert_str_eq(h, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	auth_key_free(&k);

	memset(key, 0xaa, 131);
	ck_assert_int_eq(auth_key_set(&k, key, 131), 0);
	ck_assert_int_eq(auth_hmac(&k, d6, strlen(d6), NULL, 0, mac), 0);
	hex(mac, 32, h);
	ck_assert_str_eq(h, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	auth_key_free(&k);

	ck_assert_int_eq(auth_key_set(&k, key, AUTH_KEY_MIN - 1), -1);
}
END_TEST

/* Fixture: a key, a signed packet from 10.77.0.1, and what we expect. */
static struct auth_key	 fk;
static uint8_t		 fhash[PKT_HASH_LEN];
static struct auth_expect fex;
static struct pkt	 fp;

static void
setup(void)
{
	ck_assert_int_eq(auth_key_set(&fk, KEY, strlen(KEY)), 0);
	ck_assert_int_eq(auth_config_hash("x", fhash), 0);
	fex.key = &fk;
	fex.vrid = 51;
	fex.window_ms = auth_window_ms(100);
	fex.config_hash = fhash;
	memset(&fp, 0, sizeof(fp));
	fp.type = PKT_TYPE_ADVERT;
	fp.vrid = 51;
	fp.priority = 150;
	fp.state = 2;
	fp.flags = 3;
	fp.advert_ms = 100;
	fp.node_id = 0x0a4d0001;
	fp.key_id = fk.id;
	fp.seq = (uint64_t)NOW << PKT_SEQ_SHIFT | 5;
	memcpy(fp.config_hash, fhash, PKT_HASH_LEN);
}

static void
teardown(void)
{
	auth_key_free(&fk);
}

static void
signed_pkt(const struct pkt *p, const char *src, uint8_t buf[PKT_LEN])
{
	struct sockaddr_in s = sin4(src);

	pkt_encode(p, buf);
	ck_assert_int_eq(auth_sign(&fk, (struct sockaddr *)&s, p->vrid, buf), 0);
}

static enum auth_result
recv_from(const uint8_t *buf, size_t len, const char *src, uint64_t *hwm,
    int64_t now)
{
	struct sockaddr_in s = sin4(src);
	struct pkt	 out;

	return auth_receive(&fex, buf, len, (struct sockaddr *)&s, hwm, now,
	    &out);
}

START_TEST(packet_vector)
{
	uint8_t	 buf[PKT_LEN];
	char	 h[65];

	ck_assert_uint_eq(fk.id, 0xcfd4a57f);
	signed_pkt(&fp, "10.77.0.1", buf);
	hex(buf + PKT_MAC_OFF, 32, h);
	ck_assert_str_eq(h, "0e444be547a0495b05ee709e4f6e4a6b"
	    "fc344ed33fc6732000dcb200894697de");
}
END_TEST

START_TEST(accept_and_replay)
{
	uint8_t		 buf[PKT_LEN];
	uint64_t	 hwm = 0;

	signed_pkt(&fp, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW), AUTH_OK);
	ck_assert_uint_eq(hwm, fp.seq);
	/* the very same bytes again: the copy from another path */
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_DUPLICATE);
	/* an older, validly signed one: replay too */
	fp.seq--;
	signed_pkt(&fp, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_REPLAY);
	fp.seq += 2;
	signed_pkt(&fp, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW), AUTH_OK);
}
END_TEST

START_TEST(reject_in_order)
{
	uint8_t		 buf[PKT_LEN];
	uint64_t	 hwm = 0;
	struct pkt	 p;

	signed_pkt(&fp, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN - 1, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_LENGTH);
	buf[1] ^= 0xff;
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_MAGIC);
	/* wrong vrid, even correctly signed */
	p = fp;
	p.vrid = 52;
	signed_pkt(&p, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_VRID);
	/* unknown key id */
	p = fp;
	p.key_id ^= 1;
	signed_pkt(&p, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_KEY_ID);
	/* tampered priority: bad HMAC */
	signed_pkt(&fp, "10.77.0.1", buf);
	buf[7] = 254;
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_HMAC);
	/* tampered MAC */
	signed_pkt(&fp, "10.77.0.1", buf);
	buf[PKT_LEN - 1] ^= 1;
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_HMAC);
	/* genuine packet replayed from another address: pseudo-header */
	signed_pkt(&fp, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.9", &hwm, NOW),
	    AUTH_ERR_HMAC);
	/* authentic, but from no configured peer */
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", NULL, NOW),
	    AUTH_ERR_PEER);
	ck_assert_uint_eq(hwm, 0);
}
END_TEST

START_TEST(reject_stale)
{
	uint8_t		 buf[PKT_LEN];
	uint64_t	 hwm = 0;

	ck_assert_uint_eq(auth_window_ms(100), 5000);
	ck_assert_uint_eq(auth_window_ms(2000), 6000);
	signed_pkt(&fp, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW + 5001),
	    AUTH_ERR_STALE);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW - 5001),
	    AUTH_ERR_STALE);
	ck_assert_uint_eq(hwm, 0);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW + 5000),
	    AUTH_OK);
}
END_TEST

START_TEST(reject_config_hash)
{
	uint8_t		 buf[PKT_LEN];
	uint64_t	 hwm = 0;

	ck_assert_int_eq(auth_config_hash("y", fp.config_hash), 0);
	signed_pkt(&fp, "10.77.0.1", buf);
	ck_assert_int_eq(recv_from(buf, PKT_LEN, "10.77.0.1", &hwm, NOW),
	    AUTH_ERR_CONFIG_HASH);
	ck_assert_str_eq(auth_result_name(AUTH_ERR_CONFIG_HASH), "config_hash");
}
END_TEST

START_TEST(key_file_mode)
{
	char		 path[] = "/tmp/test_auth_keyXXXXXX", why[256];
	struct auth_key	 k;
	int		 fd;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, KEY "\n", strlen(KEY) + 1),
	    (ssize_t)strlen(KEY) + 1);
	close(fd);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(auth_key_load(path, &k, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "too open"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(auth_key_load(path, &k, why, sizeof(why)), 0);
	/* trailing newline ignored: same key id as the bare secret */
	ck_assert_uint_eq(k.id, 0xcfd4a57f);
	auth_key_free(&k);
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(auth_key_load(path, &k, why, sizeof(why)), 0);
	auth_key_free(&k);
	unlink(path);
	ck_assert_int_eq(auth_key_load(path, &k, why, sizeof(why)), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("auth");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rfc4231_vectors);
	tcase_add_test(tc, packet_vector);
	tcase_add_test(tc, accept_and_replay);
	tcase_add_test(tc, reject_in_order);
	tcase_add_test(tc, reject_stale);
	tcase_add_test(tc, reject_config_hash);
	tcase_add_test(tc, key_file_mode);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
