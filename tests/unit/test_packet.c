/*
 * test_packet.c - heartbeat wire format: round trips, framing rejects,
 * sequence numbers.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

static struct pkt
sample(void)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.type = PKT_TYPE_ADVERT;
	p.vrid = 51;
	p.priority = 150;
	p.state = 2;
	p.flags = PKT_F_LB_HEALTHY | PKT_F_PREEMPT;
	p.advert_ms = 100;
	p.node_id = 0x0a4d0001;
	p.key_id = 0xdeadbeef;
	p.seq = 0x0123456789abcdefULL;
	memset(p.config_hash, 0xa5, sizeof(p.config_hash));
	return p;
}

START_TEST(round_trip)
{
	struct pkt	 p = sample(), q;
	uint8_t		 buf[PKT_LEN];

	pkt_encode(&p, buf);
	ck_assert_int_eq(pkt_decode(buf, sizeof(buf), &q), PKT_OK);
	ck_assert_mem_eq(&p, &q, sizeof(p));
	/* big-endian on the wire */
	ck_assert_uint_eq(buf[0], 'L');
	ck_assert_uint_eq(buf[3], 'R');
	ck_assert_uint_eq(buf[24], 0x01);
	ck_assert_uint_eq(buf[31], 0xef);
	/* MAC left zero for auth_sign */
	for (size_t i = PKT_MAC_OFF; i < PKT_LEN; i++)
		ck_assert_uint_eq(buf[i], 0);
}
END_TEST

START_TEST(round_trip_resign)
{
	struct pkt	 p = sample(), q;
	uint8_t		 buf[PKT_LEN];

	p.type = PKT_TYPE_RESIGN;
	p.priority = 0;
	pkt_encode(&p, buf);
	ck_assert_int_eq(pkt_decode(buf, sizeof(buf), &q), PKT_OK);
	ck_assert_uint_eq(q.type, PKT_TYPE_RESIGN);
	ck_assert_uint_eq(q.priority, 0);
}
END_TEST

START_TEST(reject_length)
{
	struct pkt	 p = sample(), q;
	uint8_t		 buf[PKT_LEN + 1];

	pkt_encode(&p, buf);
	ck_assert_int_eq(pkt_decode(buf, PKT_LEN - 1, &q), PKT_ERR_LENGTH);
	ck_assert_int_eq(pkt_decode(buf, 0, &q), PKT_ERR_LENGTH);
	ck_assert_int_eq(pkt_decode(buf, PKT_LEN + 1, &q), PKT_ERR_LENGTH);
}
END_TEST

START_TEST(reject_magic_version_type)
{
	struct pkt	 p = sample(), q;
	uint8_t		 buf[PKT_LEN];

	pkt_encode(&p, buf);
	buf[0] ^= 1;
	ck_assert_int_eq(pkt_decode(buf, PKT_LEN, &q), PKT_ERR_MAGIC);
	pkt_encode(&p, buf);
	buf[4] = 2;
	ck_assert_int_eq(pkt_decode(buf, PKT_LEN, &q), PKT_ERR_VERSION);
	pkt_encode(&p, buf);
	buf[5] = PKT_TYPE_MAX;
	ck_assert_int_eq(pkt_decode(buf, PKT_LEN, &q), PKT_ERR_TYPE);
}
END_TEST

START_TEST(seq_monotonic)
{
	uint64_t	 last = 0, a, b, c;

	a = pkt_seq_next(&last, 1000);
	b = pkt_seq_next(&last, 1000);
	ck_assert_uint_gt(b, a);
	ck_assert_int_eq(pkt_seq_time(a), 1000);
	/* clock steps back: still increasing */
	c = pkt_seq_next(&last, 900);
	ck_assert_uint_gt(c, b);
	/* clock moves on: time part follows it */
	c = pkt_seq_next(&last, 2000);
	ck_assert_int_eq(pkt_seq_time(c), 2000);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("packet");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, round_trip_resign);
	tcase_add_test(tc, reject_length);
	tcase_add_test(tc, reject_magic_version_type);
	tcase_add_test(tc, seq_monotonic);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
